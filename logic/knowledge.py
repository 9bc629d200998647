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
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .vocabulary import (
    GRADES,
    MANIFESTATIONS,
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

__all__ = ["GRADES", "MANIFESTATIONS", "POSITIONS", "Grade", "Manifestation", "Population", "Position"]

DATA_DIR = Path(__file__).parent / "data"

# Features that make disease organ-threatening (S0, S1): they move a patient to the severe step.
ORGAN_THREATENING: frozenset[str] = frozenset({"major_organ", "rapidly_progressive_ild", "skin_ulceration"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    id: str
    label: str
    citation: str
    seed: str | None = None
    doi: str | None = None

    @property
    def url(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else None


class SourcedText(Strict):
    text: str
    sources: tuple[str, ...]


class Regimen(Strict):
    population: Population
    amount: tuple[float, float]
    mass_unit: Literal["mg", "g"]
    basis: Literal["kg", "m2", "fixed"]
    per: Literal["day", "week", "month", "course", "dose", "infusion"]
    max: float | None = None
    schedule: str
    sources: tuple[str, ...]

    @field_validator("amount")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0 < low <= high:
            raise ValueError("amount must be [low, high] with 0 < low <= high")
        return value

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
        cap = f" (max {_number(self.max)} {self.dose_unit})" if self.max else ""
        return f"{amount} {self.unit}, {self.schedule}{cap}"


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
    target: Literal["untried", "current", "failed", "tried"] | None = None
    target_preferred: bool | None = None
    failed_any: tuple[str, ...] | None = None
    tried_any: tuple[str, ...] | None = None
    tried_none: tuple[str, ...] | None = None
    current_any: tuple[str, ...] | None = None
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


class KnowledgeBase(Strict):
    sources: dict[str, Source]
    agents: dict[str, Agent]
    actions: dict[str, Action]
    monitoring: dict[str, MonitoringItem]
    response_monitoring: tuple[str, ...]
    pathways: dict[Population, Pathway]
    rules: tuple[Rule, ...]

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
    kb = KnowledgeBase(
        sources=_by_id(_read("sources.yaml", data_dir), Source, "source"),
        agents=_by_id(formulary["agents"], Agent, "agent"),
        actions=_by_id(formulary["actions"], Action, "action"),
        monitoring=_by_id(formulary["monitoring"], MonitoringItem, "monitoring item"),
        response_monitoring=tuple(formulary["response_monitoring"]),
        pathways={p.population: p for p in pathways},
        rules=tuple(Rule.model_validate(r) for r in _read("rules.yaml", data_dir)),
    )
    check_knowledge_base(kb)
    return kb


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
        for field in ("failed_any", "tried_any", "tried_none", "current_any"):
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
    if problems:
        raise KnowledgeBaseError("knowledge base is inconsistent:\n  " + "\n  ".join(problems))


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
