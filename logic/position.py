"""Where a patient stands on the escalation pathway, from what they are on and what has failed."""

from __future__ import annotations

from .knowledge import KnowledgeBase, Position
from .patient import Patient

# Agents that belong to first-line / steroid-sparing treatment: being on them (or having failed only
# glucocorticoids) keeps a patient before the refractory step.
_EARLY_TAGS = frozenset({"glucocorticoid", "csdmard"})
# Agents that are not immunosuppression: failing or taking them says nothing about failed initial
# immunosuppressive therapy (hydroxychloroquine for the skin).
_NOT_IMMUNOSUPPRESSION = frozenset({"antimalarial"})


def pathway_position(patient: Patient, kb: KnowledgeBase) -> Position:
    """The step the patient is at, in order of precedence.

    - after_jak_failure: a JAK inhibitor has failed (JDM). Adults, for whom JAK inhibitors are
      investigational, are placed by the rules below.
    - severe: severe or organ-threatening disease.
    - refractory: initial immunosuppression has failed (a non-glucocorticoid immunosuppressant or
      immunoglobulin), or the patient is already on a refractory-line agent (IVIG, a biologic,
      cyclophosphamide...).
    - steroid_sparing: on, or failed, corticosteroids and/or a conventional steroid-sparing agent.
    - first_line: nothing tried yet (hydroxychloroquine alone does not count).
    """
    agents = kb.agents

    def counts(agent_id: str) -> bool:
        return _NOT_IMMUNOSUPPRESSION.isdisjoint(agents[agent_id].tags)

    failed_jak = any("jak_inhibitor" in agents[a].tags for a in patient.failed)
    if failed_jak and patient.population == "juvenile":
        return "after_jak_failure"
    if patient.severe:
        return "severe"
    if any("glucocorticoid" not in agents[a].tags and counts(a) for a in patient.failed):
        return "refractory"
    if any(_EARLY_TAGS.isdisjoint(agents[a].tags) and counts(a) for a in patient.current_ids):
        return "refractory"
    if any(counts(a) for a in patient.tried):
        return "steroid_sparing"
    return "first_line"
