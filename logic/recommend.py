"""recommend(patient): grade every agent and action for a patient, from the rules in the knowledge base.

The rules (logic/data/rules.yaml) are ordered; for each option the first rule that targets it and
whose condition holds gives the grade, the why and the sources. Rules are compiled once into
per-option lists of predicates, so grading a patient is a few dictionary look-ups per option.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from .dosing import Dose, dose_from
from .knowledge import (
    Condition,
    Grade,
    KnowledgeBase,
    Population,
    Position,
    Regimen,
    Rule,
    load_knowledge_base,
)
from .patient import Patient
from .position import pathway_position

DEFAULT_RULE = "not_indicated"


@dataclass(frozen=True, slots=True)
class GradedOption:
    id: str
    kind: str  # "agent" | "action"
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
    target: str | None  # untried | current | failed | tried: the graded option's status
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


@dataclass(frozen=True)
class _Engine:
    kb: KnowledgeBase
    agent_rules: dict[str, tuple[_CompiledRule, ...]]
    action_rules: dict[str, tuple[_CompiledRule, ...]]
    rule_count: int
    preferred_for: dict[str, frozenset[str]]
    # Each agent's regimens by population (the first computes the dose).
    regimens: dict[tuple[str, str], tuple[Regimen, ...]] = field(default_factory=dict)
    # Doses memoised per (agent, population, under 18, and what the dose depends on): patients repeat them.
    doses: dict[tuple[object, ...], tuple[Dose | None, str | None]] = field(default_factory=dict)


_EMPTY: frozenset[str] = frozenset()
_DOSE_CACHE_LIMIT = 65536


@functools.cache
def _engine() -> _Engine:
    return compile_rules(load_knowledge_base())


# Compiled rules of knowledge bases passed in explicitly, by identity (a kb is immutable).
_COMPILED: dict[int, _Engine] = {}


def _engine_for(kb: KnowledgeBase) -> _Engine:
    engine = _COMPILED.get(id(kb))
    if engine is None or engine.kb is not kb:
        if len(_COMPILED) > 8:
            _COMPILED.clear()
        engine = _COMPILED[id(kb)] = compile_rules(kb)
    return engine


def compile_rules(kb: KnowledgeBase) -> _Engine:
    compiled = []
    for index, rule in enumerate(kb.rules):
        patient_test, target, preferred = _compile_condition(rule.when, kb)
        compiled.append(
            (kb.expand(rule.targets), _CompiledRule(rule, index, patient_test, target, preferred))
        )

    def rules_for(option: str) -> tuple[_CompiledRule, ...]:
        return tuple(c for targets, c in compiled if option in targets)

    return _Engine(
        kb=kb,
        agent_rules={a: rules_for(a) for a in kb.agents},
        action_rules={a: rules_for(a) for a in kb.actions},
        rule_count=len(compiled),
        preferred_for={a.id: frozenset(a.preferred_for) for a in kb.agents.values()},
        regimens={(a.id, p): a.regimens_for(p) for a in kb.agents.values() for p in ("adult", "juvenile")},
    )


def recommend(patient: Patient, kb: KnowledgeBase | None = None) -> Recommendation:
    """Grade every agent and action in the formulary for this patient. Deterministic."""
    engine = _engine() if kb is None else _engine_for(kb)
    kb = engine.kb
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

    options: list[GradedOption] = []
    for agent_id, rules in engine.agent_rules.items():
        agent = kb.agents[agent_id]
        rule = first_match(agent_id, rules)
        dose, dose_note = _dose_for(engine, agent_id, patient)
        prerequisites = _missing_prerequisites(agent.prerequisites, patient, kb)
        graded = _graded(agent_id, "agent", agent.name, rule, position, prerequisites, dose, dose_note)
        facts.grades[agent_id] = graded.grade
        options.append(graded)
    for action_id, rules in engine.action_rules.items():
        action = kb.actions[action_id]
        rule = first_match(action_id, rules)
        graded = _graded(action_id, "action", action.name, rule, position)
        facts.grades[action_id] = graded.grade
        options.append(graded)
    return Recommendation(
        population=patient.population,
        position=position,
        options=tuple(options),
        monitoring=_monitoring_cached(frozenset(patient.current_ids))
        if engine is _engine()
        else monitoring_for(patient.current_ids, kb),
    )


def _graded(
    option_id: str,
    kind: str,
    name: str,
    rule: Rule | None,
    position: str,
    prerequisites: tuple[str, ...] = (),
    dose: Dose | None = None,
    dose_note: str | None = None,
) -> GradedOption:
    if rule is None:
        grade: Grade = "not_recommended"
        rule_id, sources = DEFAULT_RULE, tuple[str, ...]()
        why = f"Not indicated at this step ({position.replace('_', ' ')}) of the pathway for this patient."
    else:
        grade, rule_id, why, sources = rule.grade, rule.id, rule.why, rule.sources
    return GradedOption(option_id, kind, name, grade, rule_id, why, sources, prerequisites, dose, dose_note)


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


def _dose_for(engine: _Engine, agent_id: str, patient: Patient) -> tuple[Dose | None, str | None]:
    population = patient.population
    regimens = engine.regimens[agent_id, population]
    basis = regimens[0].basis if regimens else "fixed"
    # The key holds only what the dose depends on, so fixed doses are shared by every patient.
    key: tuple[object, ...] = (agent_id, population, patient.age < 18)
    if basis != "fixed":
        key += (patient.weight_kg, patient.height_cm, patient.sex)
    found = engine.doses.get(key)
    if found is None:
        if len(engine.doses) > _DOSE_CACHE_LIMIT:
            engine.doses.clear()
        found = engine.doses[key] = dose_from(regimens, engine.kb.agents[agent_id], patient)
    return found


def monitoring_for(
    agent_ids: tuple[str, ...] | list[str], kb: KnowledgeBase | None = None
) -> tuple[MonitoringAdvice, ...]:
    """What to monitor for a patient on these agents: each agent's (and its class's) items, plus response."""
    kb = kb or load_knowledge_base()
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


@functools.lru_cache(maxsize=1024)
def _monitoring_cached(agent_ids: frozenset[str]) -> tuple[MonitoringAdvice, ...]:
    return monitoring_for(sorted(agent_ids))
