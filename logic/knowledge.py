"""The knowledge base: formulary, pathways, rules and sources, loaded from YAML and validated.

Every clinical fact the app shows lives in ``logic/data/*.yaml`` with its source. This module turns
those files into pydantic models and checks that they hang together (every id referenced exists,
the pathway graphs are acyclic with every step reachable, every option a step lists is graded
positively there by some rule). Loading is cached: the files do not change while the app runs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .vocabulary import (
    GRADES,
    MANIFESTATIONS,
    NO_MAXIMUM,
    POSITIONS,
    ActionCategory,
    Diagnosis,
    Grade,
    LabName,
    Manifestation,
    Population,
    Position,
    Severity,
    StepKind,
)

if TYPE_CHECKING:
    from .dosing import DoseTable
    from .recommend import Engine

__all__ = [
    "GRADES",
    "MANIFESTATIONS",
    "NO_MAXIMUM",
    "POSITIONS",
    "Grade",
    "Manifestation",
    "Population",
    "Position",
]

DATA_DIR = Path(__file__).parent / "data"

# Features that make disease organ-threatening (reference answers on upadacitinib and on refractory DM):
# they move a patient to the severe step.
ORGAN_THREATENING: frozenset[str] = frozenset({"major_organ", "rapidly_progressive_ild", "skin_ulceration"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


SourceKind = Literal[
    "reference_answer",
    "faculty_notes",
    "guideline",
    "trial",
    "study",
    "label",
    "formula",
    "conservative_choice",
]


class Source(Strict):
    """A document a statement cites. Only ``label`` and ``citation`` are shown; ``id`` is internal."""

    id: str
    kind: SourceKind
    label: str
    citation: str
    doi: str | None = None

    @property
    def url(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else None


class SourcedText(Strict):
    text: str
    sources: tuple[str, ...]


class Ceiling(Strict):
    """The most a computed dose may be, as a source states it.

    ``maximum``: a hard ceiling ("maximum 40 mg/week"); above it a dose is unsafe.
    ``usual``: the usual upper dose ("usually 40 to 60 mg daily"); above it a dose is not the key.
    """

    amount: float = Field(gt=0)
    kind: Literal["maximum", "usual"]
    sources: tuple[str, ...] = Field(min_length=1)


class Regimen(Strict):
    id: str | None = None  # required in the formulary (claims refer to it); optional for ad-hoc regimens
    population: Population
    amount: tuple[float, float]
    mass_unit: Literal["mg", "g"]
    basis: Literal["kg", "m2", "fixed"]
    # For per-kg regimens: the weight the dose is computed on, as the regimen's source says.
    weight: Literal["actual", "ideal"] = "actual"
    per: Literal["day", "week", "month", "course", "dose", "infusion"]
    ceiling: Ceiling | None = None
    schedule: str
    sources: tuple[str, ...]

    @field_validator("amount")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0 < low <= high:
            raise ValueError("amount must be [low, high] with 0 < low <= high")
        return value

    @model_validator(mode="after")
    def _ideal_weight_needs_kg(self) -> Regimen:
        if self.weight == "ideal" and self.basis != "kg":
            raise ValueError("weight: ideal applies only to per-kg regimens")
        return self

    @property
    def max(self) -> float | None:
        return self.ceiling.amount if self.ceiling is not None else None

    @property
    def ceiling_text(self) -> str:
        """The ceiling as a learner reads it, or that the sources give none."""
        if self.ceiling is None:
            return NO_MAXIMUM
        if self.ceiling.kind == "maximum":
            return f"maximum {_number(self.ceiling.amount)} {self.dose_unit}"
        return f"usually at most {_number(self.ceiling.amount)} {self.dose_unit}"

    @property
    def unit(self) -> str:
        """The regimen's own unit, e.g. ``mg/m²/week``."""
        basis = {"kg": "/kg", "m2": "/m²", "fixed": ""}[self.basis]
        return f"{self.mass_unit}{basis}/{self.per}"

    @property
    def dose_unit(self) -> str:
        """The unit of a patient's computed dose, e.g. ``mg/week``."""
        return f"{self.mass_unit}/{self.per}"

    @property
    def label(self) -> str:
        low, high = (_number(v) for v in self.amount)
        amount = low if low == high else f"{low}–{high}"
        weight = " of ideal body weight" if self.weight == "ideal" else ""
        cap = f" ({self.ceiling_text})" if self.ceiling is not None else ""
        return f"{amount} {self.unit}{weight}, {self.schedule}{cap}"


class Agent(Strict):
    id: str
    name: str
    class_: str = Field(alias="class")
    tags: tuple[str, ...] = ()
    route: str | None = None
    regimens: tuple[Regimen, ...] = ()
    preferred_for: tuple[Manifestation, ...] = ()
    prerequisites: tuple[str, ...] = ()
    monitoring: tuple[str, ...] = ()
    cautions: tuple[SourcedText, ...] = ()
    faculty_notes: tuple[SourcedText, ...] = ()

    kind: Literal["agent"] = "agent"

    def regimens_for(self, population: Population) -> tuple[Regimen, ...]:
        return tuple(r for r in self.regimens if r.population == population)


class Action(Strict):
    id: str
    name: str
    category: ActionCategory
    why: str
    sources: tuple[str, ...]
    # The lab whose known result means this check has been done (e.g. check_iga <- labs.iga).
    satisfied_by_lab: LabName | None = None

    kind: Literal["action"] = "action"
    faculty_notes: tuple[SourcedText, ...] = ()


class MonitoringItem(Strict):
    id: str
    label: str
    sources: tuple[str, ...]


class TagMonitoring(Strict):
    """Monitoring that holds for every agent with a tag (e.g. all biologics), stated once."""

    tag: str
    items: tuple[str, ...]
    sources: tuple[str, ...]


class Step(Strict):
    id: str
    kind: StepKind
    title: str
    summary: str
    agents: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    sources: tuple[str, ...]


class Transition(Strict):
    from_: str = Field(alias="from")
    to: str
    condition: str
    sources: tuple[str, ...]


class Pathway(Strict):
    id: str
    population: Population
    title: str
    entry: str
    sources: tuple[str, ...]
    steps: tuple[Step, ...]
    transitions: tuple[Transition, ...]

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def steps_with(self, option_ids: Iterable[str]) -> tuple[str, ...]:
        """The steps (in pathway order) that teach any of these agents or actions."""
        wanted = set(option_ids)
        return tuple(s.id for s in self.steps if wanted & (set(s.agents) | set(s.actions)))

    def layers(self) -> dict[str, int]:
        """Layer of each step: the longest path (in transitions) from the entry step (the entry is 0).

        The flowchart draws a step on its layer, and an ordering question keys an option by the layer of
        the earliest step that teaches it: the order in which the pathway takes its steps."""
        succ: dict[str, list[str]] = {s.id: [] for s in self.steps}
        indeg = dict.fromkeys(succ, 0)
        for t in self.transitions:
            succ[t.from_].append(t.to)
            indeg[t.to] += 1
        order: list[str] = []
        ready = [s for s in succ if indeg[s] == 0]
        while ready:
            node = ready.pop(0)
            order.append(node)
            for nxt in succ[node]:
                indeg[nxt] -= 1
                if indeg[nxt] == 0:
                    ready.append(nxt)
        layer = dict.fromkeys(succ, 0)
        for node in order:  # topological order: longest path by relaxation
            for nxt in succ[node]:
                layer[nxt] = max(layer[nxt], layer[node] + 1)
        # The entry is the only root of a valid pathway; keep it alone at the top in any case.
        shift = layer[self.entry]
        return {s: max(0, v - shift) if s != self.entry else 0 for s, v in layer.items()}


class Condition(Strict):
    population: Population | None = None
    step: tuple[Position, ...] | None = None
    severe: bool | None = None
    diagnosis: tuple[Diagnosis, ...] | None = None
    severity: tuple[Severity, ...] | None = None
    manifestations_any: tuple[Manifestation, ...] | None = None
    labs: dict[LabName, tuple[str, ...]] | None = None
    infections: bool | None = None
    cytopenias: bool | None = None
    target: Literal["untried", "current", "failed", "tried", "not_current"] | None = None
    target_preferred: bool | None = None
    no_option_preferred: tuple[str, ...] | None = None
    failed_any: tuple[str, ...] | None = None
    tried_any: tuple[str, ...] | None = None
    tried_none: tuple[str, ...] | None = None
    current_any: tuple[str, ...] | None = None
    current_none: tuple[str, ...] | None = None
    current_months_at_least: float | None = None
    current_months_below: float | None = None
    graded_any: GradedAny | None = None


class GradedAny(Strict):
    options: tuple[str, ...]
    grades: tuple[Grade, ...]


class Rule(Strict):
    id: str
    grade: Grade
    targets: tuple[str, ...]
    when: Condition = Condition()
    why: str
    sources: tuple[str, ...]


# How strongly a source states a claim, in its own words:
#   recommend        "recommended", "should", "is essential", "the cornerstone", "preferred"
#   alternative      named as an equal alternative to what is recommended ("alternative options include")
#   consider         "may be considered", "consider", "may be necessary", "may be added", "may be effective"
#   may              a possibility or risk, not advice ("may lead to", "may benefit")
#   not_established  "not recommended as established", "investigational", "not preferred"
#   silent           the sources are silent; the app's stated conservative choice (source: conservative_choice)
Strength = Literal["recommend", "alternative", "consider", "may", "not_established", "silent"]
STRENGTHS: tuple[str, ...] = get_args(Strength)
ClaimKind = Literal[
    "recommendation",
    "dose",
    "ceiling",
    "dosing_weight",
    "prerequisite",
    "monitoring",
    "contraindication",
    "sequence",
    "population",
    "note",
]
# Grades a rule may give only if it implements a claim of one of these strengths.
STRENGTHS_FOR_RECOMMENDED: frozenset[str] = frozenset({"recommend", "alternative"})
# Implementers that are code, not data: what each one is, for the register's reader.
CODE_IMPLEMENTERS: dict[str, str] = {
    "code:population": "how the population (adult or JDM) is derived from age and diagnosis",
    "code:position": "how a patient's step on the pathway is derived",
    "code:body_surface_area": "the Mosteller body surface area used for mg/m² doses",
    "code:ideal_body_weight": "the Devine ideal body weight used where a regimen doses on it",
    "code:dose_ceiling": "doses are capped at the ceiling the sources state, and scored against it",
    "code:no_adult_dose_under_18": "no adult dose is computed for a patient under 18",
    "code:no_dose_without_regimen": "no dose is shown, and no dose question allowed, where no regimen is sourced",
}


class ClaimLocation(Strict):
    section: str
    sentence: int = Field(ge=1)


class ClaimCheck(Strict):
    """One executable check: a patient (a named one from the register, or inline) and what must hold."""

    patient: str | dict[str, Any] | None = None
    changes: dict[str, Any] = {}
    expect: dict[str, Any] = Field(min_length=1)


class Claim(Strict):
    """One concrete clinical claim of a source, in our own words, and what in the app implements it."""

    id: str
    source: str
    where: ClaimLocation
    claim: str
    strength: Strength
    kind: ClaimKind
    cites: tuple[str, ...] = ()  # literature the source itself gives for the claim
    implemented_by: tuple[str, ...] = Field(min_length=1)
    checks: tuple[ClaimCheck, ...] = Field(min_length=1)

    def supports(self, source_id: str) -> bool:
        """Does this claim back a citation of ``source_id`` (its own source, or literature it cites)?"""
        return source_id == self.source or source_id in self.cites


class KnowledgeBase(Strict):
    sources: dict[str, Source]
    agents: dict[str, Agent]
    actions: dict[str, Action]
    monitoring: dict[str, MonitoringItem]
    response_monitoring: tuple[str, ...]
    tag_monitoring: tuple[TagMonitoring, ...] = ()
    pathways: dict[Population, Pathway]
    rules: tuple[Rule, ...]
    claims: tuple[Claim, ...] = ()
    claim_patients: dict[str, dict[str, Any]] = {}

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(self.agents) + tuple(self.actions)

    def option(self, option_id: str) -> Agent | Action:
        if option_id in self.agents:
            return self.agents[option_id]
        return self.actions[option_id]

    def name(self, option_id: str) -> str:
        if option_id in self.agents or option_id in self.actions:
            return self.option(option_id).name
        if option_id in self.monitoring:
            return self.monitoring[option_id].label
        return option_id

    def citations(self, source_ids: Iterable[str]) -> str:
        """Markdown for sources: each source's label, linked to its DOI where it has one."""
        parts = []
        for sid in source_ids:
            source = self.sources.get(sid)
            if source is not None:
                parts.append(f"[{source.label}]({source.url})" if source.url else source.label)
        return "; ".join(parts)

    @functools.cached_property
    def engine(self) -> Engine:
        """The rules compiled for recommend(): built once per knowledge base, on first use."""
        from .recommend import Engine  # recommend builds on this module

        return Engine(self)

    @functools.cached_property
    def doses(self) -> DoseTable:
        """Doses by agent, population, weight and height, memoised per knowledge base."""
        from .dosing import DoseTable  # dosing builds on this module

        return DoseTable(self)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> KnowledgeBase:
        """A copy without the compiled rules and dose memo, which an update may invalidate."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("engine", None)
        copy.__dict__.pop("doses", None)
        return copy

    def expand(self, refs: Iterable[str]) -> frozenset[str]:
        """Agent/action ids from ids and ``tag:<tag>`` references."""
        out: set[str] = set()
        for ref in refs:
            if ref.startswith("tag:"):
                tag = ref[4:]
                out.update(a.id for a in self.agents.values() if tag in a.tags)
            else:
                out.add(ref)
        return frozenset(out)


class KnowledgeBaseError(ValueError):
    """The knowledge base's own data is inconsistent: a bug in logic/data, never a user error."""


def _read(name: str, data_dir: Path) -> Any:
    return yaml.load((data_dir / name).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def _by_id(items: Iterable[dict[str, Any]], model: type[BaseModel], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        obj = model.model_validate(item)
        key = obj.id  # type: ignore[attr-defined]
        if key in out:
            raise KnowledgeBaseError(f"duplicate {what} id {key!r}")
        out[key] = obj
    return out


def build_knowledge_base(data_dir: Path = DATA_DIR) -> KnowledgeBase:
    """Load and check the knowledge base from ``data_dir`` (uncached; see load_knowledge_base)."""
    formulary = _read("formulary.yaml", data_dir)
    assert isinstance(formulary, dict)
    pathways = [Pathway.model_validate(p) for p in _read("pathways.yaml", data_dir)]
    tag_monitoring = tuple(TagMonitoring.model_validate(t) for t in formulary.get("tag_monitoring", ()))
    register = _read("claims.yaml", data_dir)
    assert isinstance(register, dict)
    kb = KnowledgeBase(
        sources=_by_id(_read("sources.yaml", data_dir), Source, "source"),
        agents=_with_tag_monitoring(_by_id(formulary["agents"], Agent, "agent"), tag_monitoring),
        actions=_by_id(formulary["actions"], Action, "action"),
        monitoring=_by_id(formulary["monitoring"], MonitoringItem, "monitoring item"),
        response_monitoring=tuple(formulary["response_monitoring"]),
        tag_monitoring=tag_monitoring,
        pathways={p.population: p for p in pathways},
        rules=tuple(Rule.model_validate(r) for r in _read("rules.yaml", data_dir)),
        claims=tuple(_by_id(register.get("claims", ()), Claim, "claim").values()),
        claim_patients=dict(register.get("patients") or {}),
    )
    check_knowledge_base(kb)
    return kb


def _with_tag_monitoring(
    agents: dict[str, Agent], tag_monitoring: tuple[TagMonitoring, ...]
) -> dict[str, Agent]:
    """Each agent's own monitoring items followed by those of its tags (the class facts, stated once)."""
    out = {}
    for agent_id, agent in agents.items():
        items = list(agent.monitoring)
        for entry in tag_monitoring:
            if entry.tag in agent.tags:
                items.extend(i for i in entry.items if i not in items)
        out[agent_id] = agent.model_copy(update={"monitoring": tuple(items)})
    return out


@functools.cache
def load_knowledge_base() -> KnowledgeBase:
    """The packaged knowledge base, loaded once per process."""
    return build_knowledge_base()


def check_knowledge_base(kb: KnowledgeBase) -> None:
    """Raise KnowledgeBaseError listing every inconsistency found."""
    problems: list[str] = []
    options = set(kb.option_ids)
    tags = {tag for agent in kb.agents.values() for tag in agent.tags}

    def sources(where: str, ids: Iterable[str]) -> None:
        problems.extend(f"{where}: unknown source {s!r}" for s in ids if s not in kb.sources)

    def refs(where: str, ids: Iterable[str], allowed: set[str]) -> None:
        for ref in ids:
            ok = ref[4:] in tags if ref.startswith("tag:") else ref in allowed
            if not ok:
                problems.append(f"{where}: unknown id {ref!r}")

    for agent in kb.agents.values():
        where = f"agent {agent.id}"
        refs(where + " prerequisites", agent.prerequisites, set(kb.actions))
        refs(where + " monitoring", agent.monitoring, set(kb.monitoring))
        for regimen in agent.regimens:
            sources(where, regimen.sources)
            if regimen.ceiling is not None:
                sources(where, regimen.ceiling.sources)
        for text in (*agent.cautions, *agent.faculty_notes):
            sources(where, text.sources)
    for action in kb.actions.values():
        sources(f"action {action.id}", action.sources)
    for item in kb.monitoring.values():
        sources(f"monitoring {item.id}", item.sources)
    refs("response_monitoring", kb.response_monitoring, set(kb.monitoring))
    for rule in kb.rules:
        where = f"rule {rule.id}"
        sources(where, rule.sources)
        refs(where + " targets", rule.targets, options)
        cond = rule.when
        for field in ("failed_any", "tried_any", "tried_none", "current_any", "current_none"):
            refs(f"{where} {field}", getattr(cond, field) or (), set(kb.agents))
        if cond.graded_any:
            refs(f"{where} graded_any", cond.graded_any.options, set(kb.agents))
            if not kb.expand(rule.targets) <= set(kb.actions):
                problems.append(f"{where}: graded_any may only be used in rules for actions")
    if len({r.id for r in kb.rules}) != len(kb.rules):
        problems.append("duplicate rule ids")
    for population in ("adult", "juvenile"):
        if population not in kb.pathways:
            problems.append(f"no pathway for population {population!r}")
    for pathway in kb.pathways.values():
        problems.extend(_check_pathway(kb, pathway))
        sources(f"pathway {pathway.id}", pathway.sources)
    for entry in kb.tag_monitoring:
        sources(f"tag_monitoring {entry.tag}", entry.sources)
        refs(f"tag_monitoring {entry.tag}", entry.items, set(kb.monitoring))
        if entry.tag not in tags:
            problems.append(f"tag_monitoring: unknown tag {entry.tag!r}")
    problems.extend(_check_claims(kb))
    if problems:
        raise KnowledgeBaseError("knowledge base is inconsistent:\n  " + "\n  ".join(problems))


def citing_items(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """Everything that cites sources, by implementer reference (as claims name it), with its sources."""
    items: dict[str, tuple[str, ...]] = {}
    for rule in kb.rules:
        items[f"rule:{rule.id}"] = rule.sources
    for agent in kb.agents.values():
        for regimen in agent.regimens:
            items[f"regimen:{regimen.id}"] = regimen.sources
            if regimen.ceiling is not None:
                items[f"ceiling:{regimen.id}"] = regimen.ceiling.sources
        for n, text in enumerate(agent.cautions, 1):
            items[f"caution:{agent.id}/{n}"] = text.sources
        for n, text in enumerate(agent.faculty_notes, 1):
            items[f"note:{agent.id}/{n}"] = text.sources
    for action in kb.actions.values():
        items[f"action:{action.id}"] = action.sources
        for n, text in enumerate(action.faculty_notes, 1):
            items[f"note:{action.id}/{n}"] = text.sources
    for item in kb.monitoring.values():
        items[f"monitoring-item:{item.id}"] = item.sources
    for entry in kb.tag_monitoring:
        items[f"tag-monitoring:{entry.tag}"] = entry.sources
    for pathway in kb.pathways.values():
        items[f"pathway:{pathway.id}"] = pathway.sources
        for step in pathway.steps:
            items[f"step:{pathway.id}/{step.id}"] = step.sources
        for t in pathway.transitions:
            items[f"transition:{pathway.id}/{t.from_}>{t.to}"] = t.sources
    return items


def uncited_facts(kb: KnowledgeBase) -> tuple[str, ...]:
    """Clinical facts with no sources of their own, which some claim must implement."""
    facts: list[str] = [f"response:{item}" for item in kb.response_monitoring]
    for agent in kb.agents.values():
        from_tags = {i for e in kb.tag_monitoring if e.tag in agent.tags for i in e.items}
        facts += [f"agent-monitoring:{agent.id}/{i}" for i in agent.monitoring if i not in from_tags]
        facts += [f"prerequisite:{agent.id}/{a}" for a in agent.prerequisites]
        facts += [f"preferred:{agent.id}/{m}" for m in agent.preferred_for]
    return tuple(facts)


def _check_claims(kb: KnowledgeBase) -> list[str]:
    """The claim register and the knowledge base agree.

    - every claim's source, cited literature, implementers and named patients exist;
    - everything that cites a source implements at least one claim of that source, so a citation
      cannot point at a document that does not say the thing;
    - every clinical fact without sources of its own (a prerequisite, an agent's monitoring item, a
      manifestation an agent is preferred for) is implemented for some claim;
    - a rule graded ``recommended`` implements a claim the source states as "recommend" (or as an
      equal alternative): "may be considered" is never graded as a recommendation.
    """
    problems: list[str] = []
    cited = citing_items(kb)
    facts = uncited_facts(kb)
    known = set(cited) | set(facts) | set(CODE_IMPLEMENTERS)
    implementing: dict[str, list[Claim]] = {}
    ids: set[str] = set()
    for claim in kb.claims:
        where = f"claim {claim.id}"
        if claim.id in ids:
            problems.append(f"{where}: duplicate claim id")
        ids.add(claim.id)
        for sid in (claim.source, *claim.cites):
            if sid not in kb.sources:
                problems.append(f"{where}: unknown source {sid!r}")
        if (claim.source == "conservative_choice") != (claim.strength == "silent"):
            problems.append(f"{where}: a conservative choice (and only one) has the strength 'silent'")
        for ref in claim.implemented_by:
            if ref not in known:
                problems.append(f"{where}: implemented_by {ref!r} is not in the knowledge base")
            implementing.setdefault(ref, []).append(claim)
        for n, check in enumerate(claim.checks, 1):
            if isinstance(check.patient, str) and check.patient not in kb.claim_patients:
                problems.append(f"{where} check {n}: unknown patient {check.patient!r}")
    for ref, source_ids in cited.items():
        claims = implementing.get(ref, [])
        for sid in source_ids:
            if not any(c.supports(sid) for c in claims):
                problems.append(
                    f"{ref} cites {sid!r} but implements no claim of it in claims.yaml "
                    "(register the claim, or drop the citation)"
                )
    for ref in facts:
        if ref not in implementing:
            problems.append(f"{ref} implements no claim in claims.yaml: source it or remove it")
    for rule in kb.rules:
        if rule.grade == "recommended":
            strengths = {c.strength for c in implementing.get(f"rule:{rule.id}", [])}
            if not strengths & STRENGTHS_FOR_RECOMMENDED:
                problems.append(
                    f"rule {rule.id}: graded recommended, but the claims it implements are only "
                    f"{sorted(strengths) or 'none'} (grade with the source's own strength)"
                )
    for agent in kb.agents.values():
        for regimen in agent.regimens:
            if not regimen.id:
                problems.append(f"agent {agent.id}: every regimen needs an id (claims refer to it)")
    return problems


def _check_pathway(kb: KnowledgeBase, pathway: Pathway) -> list[str]:
    problems: list[str] = []
    where = f"pathway {pathway.id}"
    step_ids = [s.id for s in pathway.steps]
    if len(set(step_ids)) != len(step_ids):
        problems.append(f"{where}: duplicate step ids")
    if pathway.entry not in step_ids:
        problems.append(f"{where}: entry {pathway.entry!r} is not a step")
    edges: dict[str, list[str]] = {s: [] for s in step_ids}
    for t in pathway.transitions:
        for end in (t.from_, t.to):
            if end not in edges:
                problems.append(f"{where}: transition refers to unknown step {end!r}")
        if t.from_ in edges and t.to in edges:
            edges[t.from_].append(t.to)
        problems.extend(f"{where}: unknown source {s!r}" for s in t.sources if s not in kb.sources)
    if problems:
        return problems
    # Reachability from the entry step.
    seen, stack = {pathway.entry}, [pathway.entry]
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    problems.extend(
        f"{where}: step {s!r} is unreachable from {pathway.entry!r}" for s in step_ids if s not in seen
    )
    # Cycles: depth-first search with colours.
    colour = dict.fromkeys(step_ids, 0)

    def visit(node: str) -> bool:
        colour[node] = 1
        for nxt in edges[node]:
            if colour[nxt] == 1 or (colour[nxt] == 0 and visit(nxt)):
                return True
        colour[node] = 2
        return False

    if any(colour[s] == 0 and visit(s) for s in step_ids):
        problems.append(f"{where}: the transitions contain a cycle")
    # Every option a step teaches must be graded positively there by at least one rule.
    for step in pathway.steps:
        for option in (*step.agents, *step.actions):
            if option not in kb.agents and option not in kb.actions:
                problems.append(f"{where} step {step.id}: unknown option {option!r}")
                continue
            if not _positively_graded_at(kb, pathway.population, step.kind, option):
                problems.append(f"{where} step {step.id}: no rule grades {option!r} positively there")
        problems.extend(
            f"{where} step {step.id}: unknown source {s!r}" for s in step.sources if s not in kb.sources
        )
    return problems


def _positively_graded_at(kb: KnowledgeBase, population: str, step_kind: str, option: str) -> bool:
    """Does some rule recommend or accept STARTING this option at this kind of step?"""
    jak = kb.expand(["tag:jak_inhibitor"])
    for rule in kb.rules:
        if rule.grade not in ("recommended", "acceptable") or option not in kb.expand(rule.targets):
            continue
        cond = rule.when
        if cond.population not in (None, population):
            continue
        if cond.target in ("current", "failed") and cond.step is None:
            continue  # "keep what the patient is on" teaches a step only where a rule names that step
        if cond.step is not None:
            if step_kind in cond.step:
                return True
        elif cond.severe is True:
            if step_kind == "severe":
                return True
        elif cond.failed_any is not None and set(cond.failed_any) & ({"tag:jak_inhibitor"} | jak):
            if step_kind == "after_jak_failure":
                return True
        else:
            return True  # a rule that holds at every step
    return False


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


Condition.model_rebuild()
