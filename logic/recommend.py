"""recommend(patient): grade every agent and action for a patient, from the rules in the knowledge base.

The rules (logic/data/rules.yaml) are ordered; for each option the first rule that targets it and
whose condition holds gives the grade, the why and the sources. Rules are compiled once into
per-option lists of predicates, so grading a patient is a few dictionary look-ups per option.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .dosing import Dose
from .knowledge import Condition, KnowledgeBase, Pathway, Rule
from .patient import Patient
from .position import pathway_position
from .vocabulary import PATHWAY_LABELS, Grade, OptionKind, Population, Position

DEFAULT_RULE = "not_indicated"


@dataclass(frozen=True, slots=True)
class GradedOption:
    id: str
    kind: OptionKind
    name: str
    grade: Grade
    rule: str
    why: str
    sources: tuple[str, ...]
    prerequisites: tuple[str, ...] = ()  # prerequisite actions still missing for this patient
    dose: Dose | None = None
    dose_note: str | None = None  # why there is no dose, when there is none

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "grade": self.grade,
            "rule": self.rule,
            "why": self.why,
            "sources": list(self.sources),
            "prerequisites": list(self.prerequisites),
            "dose": None
            if self.dose is None
            else {
                "low": self.dose.low,
                "high": self.dose.high,
                "unit": self.dose.unit,
                "text": self.dose.text,
                "capped": self.dose.capped,
                "ceiling": self.dose.ceiling_text,
                "weight_basis": self.dose.weight_basis,
            },
            "dose_note": self.dose_note,
        }


@dataclass(frozen=True, slots=True)
class MonitoringAdvice:
    id: str
    label: str
    sources: tuple[str, ...]
    reasons: tuple[str, ...]  # the agents it is for, or "response"


@dataclass(frozen=True, slots=True)
class Recommendation:
    population: Population
    position: Position
    options: tuple[GradedOption, ...]
    monitoring: tuple[MonitoringAdvice, ...]

    def option(self, option_id: str) -> GradedOption:
        for option in self.options:
            if option.id == option_id:
                return option
        raise KeyError(option_id)

    def grades(self) -> dict[str, Grade]:
        return {o.id: o.grade for o in self.options}

    def with_grade(self, *grades: Grade) -> tuple[str, ...]:
        return tuple(o.id for o in self.options if o.grade in grades)

    def as_json(self) -> dict[str, object]:
        return {
            "population": self.population,
            "position": self.position,
            "options": [o.as_json() for o in self.options],
            "monitoring": [m.id for m in self.monitoring],
        }


@dataclass
class _Facts:
    """What the rules look at, computed once per patient."""

    patient: Patient
    population: Population
    position: Position
    severe: bool
    manifestations: frozenset[str]
    failed: frozenset[str]
    current: frozenset[str]
    tried: frozenset[str]
    nonsteroid_months: tuple[float, ...]
    grades: dict[str, Grade] = field(default_factory=dict)


_PatientTest = Callable[[_Facts], bool]


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: Rule
    index: int
    patient_test: _PatientTest
    target: str | None  # untried | current | failed | tried | not_current: the graded option's status
    target_preferred: bool | None


def _compile_condition(cond: Condition, kb: KnowledgeBase) -> tuple[_PatientTest, str | None, bool | None]:
    tests: list[_PatientTest] = []
    if cond.population is not None:
        population = cond.population
        tests.append(lambda f: f.population == population)
    if cond.step is not None:
        steps = frozenset(cond.step)
        tests.append(lambda f: f.position in steps)
    if cond.severe is not None:
        severe = cond.severe
        tests.append(lambda f: f.severe == severe)
    if cond.diagnosis is not None:
        diagnoses = frozenset(cond.diagnosis)
        tests.append(lambda f: f.patient.diagnosis in diagnoses)
    if cond.severity is not None:
        severities = frozenset(cond.severity)
        tests.append(lambda f: f.patient.severity in severities)
    if cond.manifestations_any is not None:
        wanted = frozenset(cond.manifestations_any)
        tests.append(lambda f: not wanted.isdisjoint(f.manifestations))
    if cond.labs:
        lab_tests = tuple((lab, frozenset(values)) for lab, values in cond.labs.items())
        tests.append(lambda f: all(getattr(f.patient.labs, lab) in values for lab, values in lab_tests))
    if cond.infections is not None:
        infections = cond.infections
        tests.append(lambda f: f.patient.infections == infections)
    if cond.cytopenias is not None:
        cytopenias = cond.cytopenias
        tests.append(lambda f: f.patient.cytopenias == cytopenias)
    if cond.no_option_preferred is not None:
        preferred = tuple(frozenset(kb.agents[o].preferred_for) for o in kb.expand(cond.no_option_preferred))
        tests.append(lambda f: all(p.isdisjoint(f.manifestations) for p in preferred))
    if cond.failed_any is not None:
        failed_any = kb.expand(cond.failed_any)
        tests.append(lambda f: not failed_any.isdisjoint(f.failed))
    if cond.tried_any is not None:
        tried_any = kb.expand(cond.tried_any)
        tests.append(lambda f: not tried_any.isdisjoint(f.tried))
    if cond.tried_none is not None:
        tried_none = kb.expand(cond.tried_none)
        tests.append(lambda f: tried_none.isdisjoint(f.tried))
    if cond.current_any is not None:
        current_any = kb.expand(cond.current_any)
        tests.append(lambda f: not current_any.isdisjoint(f.current))
    if cond.current_none is not None:
        current_none = kb.expand(cond.current_none)
        tests.append(lambda f: current_none.isdisjoint(f.current))
    if cond.current_months_at_least is not None:
        at_least = cond.current_months_at_least
        tests.append(lambda f: any(m >= at_least for m in f.nonsteroid_months))
    if cond.current_months_below is not None:
        below = cond.current_months_below
        tests.append(lambda f: any(m < below for m in f.nonsteroid_months))
    if cond.graded_any is not None:
        graded_options = kb.expand(cond.graded_any.options)
        graded_grades = frozenset(cond.graded_any.grades)
        tests.append(lambda f: any(f.grades.get(o) in graded_grades for o in graded_options))

    if not tests:
        return _always, cond.target, cond.target_preferred
    if len(tests) == 1:
        return tests[0], cond.target, cond.target_preferred

    def patient_test(f: _Facts) -> bool:
        return all(test(f) for test in tests)

    return patient_test, cond.target, cond.target_preferred


def _always(f: _Facts) -> bool:
    return True


_EMPTY: frozenset[str] = frozenset()


class Engine:
    """A knowledge base's rules compiled into per-option predicate lists, and its monitoring memo.

    One hangs off each knowledge base (``kb.engine``, built on first use), so grading follows the
    knowledge base it is given and nothing is cached in a module global.
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        compiled = []
        for index, rule in enumerate(kb.rules):
            patient_test, target, preferred = _compile_condition(rule.when, kb)
            compiled.append(
                (kb.expand(rule.targets), _CompiledRule(rule, index, patient_test, target, preferred))
            )

        def rules_for(option: str) -> tuple[_CompiledRule, ...]:
            return tuple(c for targets, c in compiled if option in targets)

        self.agent_rules = {a: rules_for(a) for a in kb.agents}
        self.action_rules = {a: rules_for(a) for a in kb.actions}
        self.rule_count = len(compiled)
        self.preferred_for = {a.id: frozenset(a.preferred_for) for a in kb.agents.values()}
        self._monitoring: dict[frozenset[str], tuple[MonitoringAdvice, ...]] = {}
        self._not_indicated: dict[tuple[Population, Position, str], tuple[str, tuple[str, ...]]] = {}

    def not_indicated(
        self, option_id: str, population: Population, position: Position
    ) -> tuple[str, tuple[str, ...]]:
        """Why an option no rule grades is not indicated, and the sources of that reason (memoised)."""
        key = (population, position, option_id)
        found = self._not_indicated.get(key)
        if found is None:
            found = self._not_indicated[key] = not_indicated_reason(
                option_id, self.kb.pathways[population], position
            )
        return found

    def monitoring(self, agent_ids: frozenset[str]) -> tuple[MonitoringAdvice, ...]:
        """monitoring_for() these agents, memoised (the agents' order does not matter)."""
        found = self._monitoring.get(agent_ids)
        if found is None:
            found = self._monitoring[agent_ids] = monitoring_for(sorted(agent_ids), self.kb)
        return found

    def clear_memo(self) -> None:
        self._monitoring.clear()


def recommend(patient: Patient, kb: KnowledgeBase) -> Recommendation:
    """Grade every agent and action in ``kb``'s formulary for this patient, with doses from ``kb``."""
    engine = kb.engine
    doses = kb.doses
    position = pathway_position(patient, kb)
    facts = _Facts(
        patient=patient,
        population=patient.population,
        position=position,
        severe=patient.severe,
        manifestations=frozenset(patient.manifestations),
        failed=frozenset(patient.failed),
        current=frozenset(patient.current_ids),
        tried=patient.tried,
        nonsteroid_months=tuple(
            c.months for c in patient.current if "glucocorticoid" not in kb.agents[c.agent].tags
        ),
    )
    memo: list[bool | None] = [None] * engine.rule_count

    tried, current, failed, manifestations = facts.tried, facts.current, facts.failed, facts.manifestations
    preferred_for = engine.preferred_for

    def first_match(option: str, rules: tuple[_CompiledRule, ...]) -> Rule | None:
        for c in rules:
            target = c.target
            if target is not None:
                if target == "untried":
                    if option in tried:
                        continue
                elif target == "current":
                    if option not in current:
                        continue
                elif target == "failed":
                    if option not in failed:
                        continue
                elif target == "not_current":
                    # A start or a restart: untried, or failed and stopped.
                    if option in current:
                        continue
                elif option not in tried:
                    continue
            # target_preferred: the option suits one of the patient's manifestations (or must not).
            if (
                c.target_preferred is not None
                and preferred_for.get(option, _EMPTY).isdisjoint(manifestations) == c.target_preferred
            ):
                continue
            hit = memo[c.index]
            if hit is None:
                hit = memo[c.index] = c.patient_test(facts)
            if hit:
                return c.rule
        return None

    options: list[GradedOption | None] = []
    # An option no rule grades is "not indicated": its reason ends with what is recommended for this
    # patient, known only once every option is graded, so it is built after the others.
    pending: list[tuple[int, str, OptionKind, str, tuple[str, ...], Dose | None, str | None]] = []
    recommended: list[str] = []
    for agent_id, rules in engine.agent_rules.items():
        agent = kb.agents[agent_id]
        rule = first_match(agent_id, rules)
        dose, dose_note = doses.dose(agent_id, patient)
        prerequisites = _missing_prerequisites(agent.prerequisites, patient, kb)
        if rule is None:
            facts.grades[agent_id] = "not_recommended"
            pending.append((len(options), agent_id, "agent", agent.name, prerequisites, dose, dose_note))
            options.append(None)
            continue
        facts.grades[agent_id] = rule.grade
        if rule.grade == "recommended":
            recommended.append(agent.name)
        options.append(
            GradedOption(
                agent_id,
                "agent",
                agent.name,
                rule.grade,
                rule.id,
                rule.why,
                rule.sources,
                prerequisites,
                dose,
                dose_note,
            )
        )
    for action_id, rules in engine.action_rules.items():
        action = kb.actions[action_id]
        rule = first_match(action_id, rules)
        if rule is None:
            facts.grades[action_id] = "not_recommended"
            pending.append((len(options), action_id, "action", action.name, (), None, None))
            options.append(None)
            continue
        facts.grades[action_id] = rule.grade
        if rule.grade == "recommended":
            recommended.append(action.name)
        options.append(
            GradedOption(action_id, "action", action.name, rule.grade, rule.id, rule.why, rule.sources)
        )
    now = f" Recommended for this patient now: {', '.join(recommended)}." if recommended else ""
    for index, option_id, kind, name, prerequisites, dose, dose_note in pending:
        why, sources = engine.not_indicated(option_id, facts.population, facts.position)
        options[index] = GradedOption(
            option_id,
            kind,
            name,
            "not_recommended",
            DEFAULT_RULE,
            why + now,
            sources,
            prerequisites,
            dose,
            dose_note,
        )
    return Recommendation(
        population=patient.population,
        position=position,
        options=tuple(o for o in options if o is not None),
        monitoring=engine.monitoring(frozenset(patient.current_ids)),
    )


def not_indicated_reason(option_id: str, pathway: Pathway, position: Position) -> tuple[str, tuple[str, ...]]:
    """Why no rule indicates an option for a patient at ``position``, from the pathway alone: where the
    pathway teaches the option against where the patient is (and what takes a patient there), with the
    sources of the steps and transitions it quotes. Nothing here is a clinical claim of its own; the
    option's name leads the line the learner reads, so the reason says "it"."""
    layers = pathway.layers()
    here = pathway.step(position)
    taught = [
        s
        for s in pathway.steps
        if s.kind != "supportive" and (option_id in s.agents or option_id in s.actions)
    ]
    prefix = "Not indicated for this patient now"
    if any(s.id == here.id for s in taught):
        text = f"{prefix}: the pathway lists it at the {here.title} step, where this patient is, but not for their situation."
        return text, here.sources
    later = sorted((s for s in taught if layers[s.id] > layers[here.id]), key=lambda s: layers[s.id])
    if later:
        parts, sources = [], list[str]()
        for step in later:
            into = [t for t in pathway.transitions if t.to == step.id]
            direct = [t for t in into if t.from_ == here.id]
            shown = direct or into
            parts.append(
                step.title + (f" (reached when: {'; or '.join(t.condition for t in shown)})" if shown else "")
            )
            sources += [*step.sources, *(src for t in shown for src in t.sources)]
        where = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        steps = "a later step" if len(parts) == 1 else "later steps"
        text = (
            f"{prefix}: the pathway keeps it for {steps}, {where}; this patient is at the {here.title} step."
        )
        return text, _unique(sources)
    if taught:
        step = max(taught, key=lambda s: layers[s.id])
        text = f"{prefix}: the pathway uses it at an earlier step, {step.title}; this patient is past it, at the {here.title} step."
        return text, step.sources
    text = (
        f"{prefix}: the {PATHWAY_LABELS[pathway.population]} pathway does not include it at any step; "
        f"this patient is at the {here.title} step."
    )
    return text, here.sources


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _missing_prerequisites(
    prerequisites: tuple[str, ...], patient: Patient, kb: KnowledgeBase
) -> tuple[str, ...]:
    missing = []
    for action_id in prerequisites:
        lab = kb.actions[action_id].satisfied_by_lab
        if lab is not None and getattr(patient.labs, lab) != "unknown":
            continue
        missing.append(action_id)
    return tuple(missing)


def monitoring_for(agent_ids: Iterable[str], kb: KnowledgeBase) -> tuple[MonitoringAdvice, ...]:
    """What to monitor for a patient on these agents: each agent's (and its class's) items, plus response."""
    agent_ids = tuple(agent_ids)
    reasons: dict[str, list[str]] = {}
    for agent_id in agent_ids:
        for item in kb.agents[agent_id].monitoring:
            reasons.setdefault(item, []).append(agent_id)
    if agent_ids:
        for item in kb.response_monitoring:
            reasons.setdefault(item, []).append("response")
    return tuple(
        MonitoringAdvice(
            id=item, label=kb.monitoring[item].label, sources=kb.monitoring[item].sources, reasons=tuple(why)
        )
        for item, why in reasons.items()
    )
