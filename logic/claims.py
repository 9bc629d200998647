"""The claim register, executable: every clinical claim of the sources, each with checks that run.

The register lives in ``logic/data/claims.yaml`` and is loaded with the knowledge base (whose load
also checks that the register and the data agree: see ``knowledge._check_claims``). This module runs
each claim's checks: a patient (named in the register's ``patients:`` or written inline, optionally
with ``changes``) and what must hold for them, e.g.

    expect:
      grade: {cyclophosphamide: recommended, methylprednisolone: [acceptable]}
      dose: {agent: methotrexate, low: 35.7, high: 40, capped: true}

``python -m logic claims`` prints the register with pass/fail per claim; pytest runs every check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .dosing import dose_for
from .ids import validation_context
from .knowledge import GRADES, Claim, ClaimCheck, KnowledgeBase
from .patient import Patient
from .recommend import Recommendation, monitoring_for, recommend

_RANK = {grade: rank for rank, grade in enumerate(GRADES)}  # recommended 0 ... unsafe 3
_DOSE_TOLERANCE = 0.051  # doses are shown to one decimal place


@dataclass(frozen=True)
class CheckResult:
    claim_id: str
    index: int  # 1-based, within the claim
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[str, ...]:
        return tuple(f"check {c.index}: {f}" for c in self.checks for f in c.failures)


def check_patient(check: ClaimCheck, kb: KnowledgeBase) -> Patient | None:
    """The check's patient: a named register patient or an inline block, with ``changes`` applied."""
    if check.patient is None:
        return None
    base = kb.claim_patients[check.patient] if isinstance(check.patient, str) else check.patient
    data = {**base, **check.changes}
    if isinstance(base.get("labs"), Mapping) and isinstance(check.changes.get("labs"), Mapping):
        data["labs"] = {**base["labs"], **check.changes["labs"]}
    return Patient.model_validate(data, context=validation_context(kb))


def _as_grades(value: object) -> set[str]:
    return {value} if isinstance(value, str) else {str(v) for v in value}  # type: ignore[attr-defined]


class _Context:
    """What a check's expectations look at, computed once per check."""

    def __init__(self, kb: KnowledgeBase, patient: Patient | None) -> None:
        self.kb = kb
        self.patient = patient
        self._rec: Recommendation | None = None

    @property
    def rec(self) -> Recommendation:
        if self.patient is None:
            raise ValueError("this expectation needs a patient")
        if self._rec is None:
            self._rec = recommend(self.patient, self.kb)
        return self._rec


Expectation = Callable[[_Context, Any], list[str]]


def _grade(ctx: _Context, spec: Mapping[str, object]) -> list[str]:
    out = []
    for option, wanted in spec.items():
        got = ctx.rec.option(option).grade
        if got not in _as_grades(wanted):
            out.append(f"{option} is {got}, expected {wanted} ({ctx.rec.option(option).rule})")
    return out


def _not_grade(ctx: _Context, spec: Mapping[str, object]) -> list[str]:
    out = []
    for option, refused in spec.items():
        got = ctx.rec.option(option).grade
        if got in _as_grades(refused):
            out.append(f"{option} is {got}, which it must not be ({ctx.rec.option(option).rule})")
    return out


def _rule(ctx: _Context, spec: Mapping[str, str]) -> list[str]:
    return [
        f"{option} is graded by {ctx.rec.option(option).rule}, expected {rule}"
        for option, rule in spec.items()
        if ctx.rec.option(option).rule != rule
    ]


def _ranks_above(ctx: _Context, pairs: Iterable[Iterable[str]]) -> list[str]:
    out = []
    for pair in pairs:
        better, worse = list(pair)
        b, w = ctx.rec.option(better).grade, ctx.rec.option(worse).grade
        if not _RANK[b] < _RANK[w]:
            out.append(f"{better} ({b}) should be graded above {worse} ({w})")
    return out


def _why_says(ctx: _Context, spec: Mapping[str, str]) -> list[str]:
    return [
        f"{option}'s why does not say {text!r}: {ctx.rec.option(option).why!r}"
        for option, text in spec.items()
        if text.lower() not in ctx.rec.option(option).why.lower()
    ]


def _why_lacks(ctx: _Context, spec: Mapping[str, str]) -> list[str]:
    return [
        f"{option}'s why says {text!r}: {ctx.rec.option(option).why!r}"
        for option, text in spec.items()
        if text.lower() in ctx.rec.option(option).why.lower()
    ]


def _population(ctx: _Context, wanted: str) -> list[str]:
    assert ctx.patient is not None
    got = ctx.patient.population
    return [] if got == wanted else [f"population is {got}, expected {wanted}"]


def _position(ctx: _Context, wanted: str) -> list[str]:
    got = ctx.rec.position
    return [] if got == wanted else [f"pathway position is {got}, expected {wanted}"]


def _prerequisites(ctx: _Context, spec: Mapping[str, Iterable[str]]) -> list[str]:
    out = []
    for agent, wanted in spec.items():
        got = ctx.rec.option(agent).prerequisites
        if set(got) != set(wanted):
            out.append(f"missing prerequisites of {agent} are {list(got)}, expected {list(wanted)}")
    return out


def _monitoring(ctx: _Context, spec: Mapping[str, Any]) -> list[str]:
    agents = list(spec["agents"])
    items = {m.id for m in monitoring_for(agents, ctx.kb)}
    out = [f"monitoring on {agents} lacks {i}" for i in spec.get("includes", ()) if i not in items]
    out += [f"monitoring on {agents} includes {i}" for i in spec.get("excludes", ()) if i in items]
    return out


def _dose(ctx: _Context, spec: Mapping[str, Any]) -> list[str]:
    assert ctx.patient is not None
    dose, note = dose_for(ctx.kb.agents[spec["agent"]], ctx.patient, spec.get("regimen"))
    if dose is None:
        return [f"no dose for {spec['agent']}: {note}"]
    out = []
    for name in ("low", "high"):
        if name in spec and abs(getattr(dose, name) - float(spec[name])) > _DOSE_TOLERANCE:
            out.append(f"dose {name} is {getattr(dose, name):g}, expected {spec[name]}")
    if "unit" in spec and dose.unit != spec["unit"]:
        out.append(f"dose unit is {dose.unit}, expected {spec['unit']}")
    if "capped" in spec and dose.capped != spec["capped"]:
        out.append(f"dose capped is {dose.capped}, expected {spec['capped']}")
    if "weight" in spec and dose.weight_basis != spec["weight"]:
        out.append(f"dose computed on {dose.weight_basis} weight, expected {spec['weight']}")
    if "ceiling" in spec:
        wanted = spec["ceiling"]
        got = dose.ceiling.amount if dose.ceiling else None
        if got != wanted:
            out.append(f"dose ceiling is {got}, expected {wanted}")
    if "regimen_used" in spec and dose.regimen.id != spec["regimen_used"]:
        out.append(f"dose computed from {dose.regimen.id}, expected {spec['regimen_used']}")
    for text in _listed(spec.get("text_says")):
        if text.lower() not in f"{dose.text} {dose.regimen.schedule} {dose.ceiling_text}".lower():
            out.append(f"dose text does not say {text!r}: {dose.text!r}")
    return out


def _no_dose(ctx: _Context, spec: Mapping[str, str]) -> list[str]:
    assert ctx.patient is not None
    out = []
    for agent, text in spec.items():
        dose, note = dose_for(ctx.kb.agents[agent], ctx.patient)
        if dose is not None:
            out.append(f"{agent} has a dose ({dose.text}) where the sources give none")
        elif text.lower() not in (note or "").lower():
            out.append(f"{agent}'s note does not say {text!r}: {note!r}")
    return out


def _dose_credit(ctx: _Context, spec: Mapping[str, Any]) -> list[str]:
    assert ctx.patient is not None
    dose, note = dose_for(ctx.kb.agents[spec["agent"]], ctx.patient, spec.get("regimen"))
    if dose is None:
        return [f"no dose for {spec['agent']}: {note}"]
    judged = dose.judge(float(spec["value"]), float(spec.get("tolerance", 0.1)))
    out = []
    if "credit" in spec and judged.credit != float(spec["credit"]):
        out.append(f"{spec['value']} {dose.unit} earns {judged.credit:g}, expected {spec['credit']}")
    if "credit_below" in spec and not judged.credit < float(spec["credit_below"]):
        out.append(
            f"{spec['value']} {dose.unit} earns {judged.credit:g}, expected below {spec['credit_below']}"
        )
    if "unsafe" in spec and judged.unsafe != bool(spec["unsafe"]):
        out.append(f"{spec['value']} {dose.unit} unsafe is {judged.unsafe}, expected {spec['unsafe']}")
    return out


def _sourced_texts(ctx: _Context, spec: Mapping[str, Any], field: str) -> list[str]:
    option = ctx.kb.option(spec["option"])
    texts = getattr(option, field, ())
    cites = set(_listed(spec.get("cites")))
    says = spec.get("says", "")
    if any(cites <= set(t.sources) and says.lower() in t.text.lower() for t in texts):
        return []
    return [
        f"{spec['option']} has no {field[:-1].replace('_', ' ')} citing {sorted(cites)} that says {says!r}"
    ]


def _listed(value: object) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]  # type: ignore[attr-defined]


EXPECTATIONS: dict[str, Expectation] = {
    "population": _population,
    "position": _position,
    "grade": _grade,
    "not_grade": _not_grade,
    "rule": _rule,
    "ranks_above": _ranks_above,
    "why_says": _why_says,
    "why_lacks": _why_lacks,
    "prerequisites": _prerequisites,
    "monitoring": _monitoring,
    "dose": _dose,
    "no_dose": _no_dose,
    "dose_credit": _dose_credit,
    "faculty_note": lambda ctx, spec: _sourced_texts(ctx, spec, "faculty_notes"),
    "caution": lambda ctx, spec: _sourced_texts(ctx, spec, "cautions"),
}


def run_check(claim: Claim, index: int, check: ClaimCheck, kb: KnowledgeBase) -> CheckResult:
    try:
        ctx = _Context(kb, check_patient(check, kb))
    except ValidationError as exc:
        return CheckResult(claim.id, index, (f"invalid patient: {exc.errors()[0]['msg']}",))
    failures: list[str] = []
    for name, spec in check.expect.items():
        expectation = EXPECTATIONS.get(name)
        if expectation is None:
            failures.append(f"unknown expectation {name!r} (one of {', '.join(EXPECTATIONS)})")
            continue
        try:
            failures.extend(expectation(ctx, spec))
        except (KeyError, ValueError, TypeError) as exc:
            failures.append(f"{name}: cannot be checked ({exc.__class__.__name__}: {exc})")
    return CheckResult(claim.id, index, tuple(failures))


def run_claim(claim: Claim, kb: KnowledgeBase) -> ClaimResult:
    return ClaimResult(claim, tuple(run_check(claim, n, c, kb) for n, c in enumerate(claim.checks, 1)))


def run_register(kb: KnowledgeBase) -> tuple[ClaimResult, ...]:
    """Run every check of every claim in the register."""
    return tuple(run_claim(claim, kb) for claim in kb.claims)


def implementer_label(ref: str, kb: KnowledgeBase) -> str:
    """What implements a claim, as a teacher reads it (never an internal id on its own)."""
    kind, _, rest = ref.partition(":")
    if kind == "code":
        from .knowledge import CODE_IMPLEMENTERS

        return f"logic: {CODE_IMPLEMENTERS.get(ref, rest)}"
    if kind == "rule":
        rule = next((r for r in kb.rules if r.id == rest), None)
        targets = ", ".join(kb.name(t) for t in sorted(kb.expand(rule.targets))) if rule else rest
        return f"grading rule ({rule.grade.replace('_', ' ') if rule else '?'}: {targets})"
    if kind in ("regimen", "ceiling"):
        for agent in kb.agents.values():
            for regimen in agent.regimens:
                if regimen.id == rest:
                    who = "JDM" if regimen.population == "juvenile" else "adult"
                    what = "dose" if kind == "regimen" else "dose ceiling"
                    return f"{agent.name} {who} {what}"
        return rest
    if kind == "action":
        return f"action: {kb.name(rest)}"
    if kind == "monitoring-item":
        return f"monitoring item: {kb.name(rest)}"
    if kind == "response":
        return f"response monitoring: {kb.name(rest)}"
    if kind == "tag-monitoring":
        return f"monitoring of every {rest.replace('_', ' ')} agent"
    if kind in ("agent-monitoring", "prerequisite"):
        agent_id, _, item = rest.partition("/")
        what = "monitoring" if kind == "agent-monitoring" else "before starting"
        return f"{kb.name(agent_id)} {what}: {kb.name(item)}"
    if kind == "preferred":
        agent_id, _, manifestation = rest.partition("/")
        return f"{kb.name(agent_id)} preferred for {manifestation.replace('_', ' ')}"
    if kind in ("caution", "note"):
        option, _, _ = rest.partition("/")
        return f"{kb.name(option)} {'caution' if kind == 'caution' else 'faculty note'}"
    if kind in ("step", "pathway", "transition"):
        pathway_id, _, step = rest.partition("/")
        pathway = kb.pathways.get(pathway_id)  # type: ignore[call-overload]
        title = pathway.title if pathway is not None else pathway_id
        if kind == "pathway":
            return f"pathway: {title}"
        if kind == "transition":
            return f"pathway: {title}, {step.replace('>', ' → ').replace('_', ' ')}"
        return f"pathway: {title}, step {step.replace('_', ' ')}"
    return ref


def register_rows(kb: KnowledgeBase, results: Iterable[ClaimResult]) -> list[dict[str, str]]:
    """The register as rows a teacher can read: claim, source, where, strength, implemented by, check."""
    rows = []
    for result in results:
        claim = result.claim
        source = kb.sources[claim.source]
        cites = "; ".join(kb.sources[c].label for c in claim.cites)
        rows.append(
            {
                "Claim": claim.claim,
                "Source": source.label + (f" (citing {cites})" if cites else ""),
                "Where": f"{claim.where.section}, sentence {claim.where.sentence}",
                "Strength": STRENGTH_LABELS[claim.strength],
                "Implemented by": "; ".join(
                    dict.fromkeys(implementer_label(r, kb) for r in claim.implemented_by)
                ),
                "Check": f"pass ({len(result.checks)})"
                if result.passed
                else f"FAIL ({len(result.failures)})",
            }
        )
    return rows


STRENGTH_LABELS: dict[str, str] = {
    "recommend": "recommend",
    "alternative": "alternative",
    "consider": "consider",
    "may": "may",
    "not_established": "not established",
    "silent": "sources silent",
}


def cited_claims(kb: KnowledgeBase, claim_ids: Iterable[str]) -> list[tuple[str, str, str]]:
    """Claims a case cites, as shown with the feedback: (claim, source label, strength label)."""
    by_id = {c.id: c for c in kb.claims}
    return [
        (by_id[c].claim, kb.sources[by_id[c].source].label, STRENGTH_LABELS[by_id[c].strength])
        for c in claim_ids
        if c in by_id
    ]
