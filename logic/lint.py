"""Lint: where a case and the logic disagree, or a question cannot be answered well.

The case-level checks are here; each question kind lints its own questions (``QuestionBase.lint``).
"""

from __future__ import annotations

from .keys import stage_plans
from .knowledge import KnowledgeBase
from .library import CaseError, Library, LoadedCase, format_loc, gc_paused


def lint_case(loaded: LoadedCase, kb: KnowledgeBase) -> list[CaseError]:
    case, source = loaded.case, loaded.source
    findings: list[tuple[list[str | int], str]] = []

    if len(case.stages) < 2:
        findings.append((["stages"], "a case needs at least two stages"))
    if case.population != case.patient.population:
        findings.append(
            (
                ["population"],
                f"population is {case.population!r} but the patient is {case.patient.population!r}",
            )
        )
    if not case.references:
        findings.append((["references"], "list the sources the case draws on (source ids)"))

    plans = stage_plans(case, kb)
    for stage_index, stage in enumerate(case.stages):
        plan = plans[stage_index]
        offered_by: dict[str, str] = {}  # option -> the question of this stage that offers it first
        for q_index, question in enumerate(stage.questions):
            here: list[str | int] = ["stages", stage_index, "questions", q_index]
            key = question.answer_key(plan, kb)
            findings.extend((here + loc, message) for loc, message in question.lint(key, plan, kb))
            # One stage is one form: an option shown twice in it reads as a mistake (and gives answers away).
            for o_index, option in enumerate(question.offered()):
                first = offered_by.setdefault(option, question.id)
                if first != question.id:
                    findings.append(
                        (
                            here + ["options", o_index],
                            f"{option!r} is already offered by question {first!r} of this stage: "
                            "an option appears once per stage",
                        )
                    )
    errors = []
    for loc, message in findings:
        line, column = source.position(loc)
        errors.append(CaseError(loaded.path, line, column, message, format_loc(loc), severity="lint"))
    return errors


def lint_library(library: Library, kb: KnowledgeBase) -> list[CaseError]:
    """Lint every loaded case (collector paused, as for loading)."""
    with gc_paused():
        return [error for loaded in library.cases.values() for error in lint_case(loaded, kb)]
