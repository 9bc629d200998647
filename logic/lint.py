"""Lint: where a case and the logic disagree, or a question cannot be answered well."""

from __future__ import annotations

from .cases import DoseQuestion, MonitoringQuestion, NextStepQuestion, PrerequisitesQuestion
from .keys import answer_key, stage_plans
from .library import CaseError, Library, LoadedCase, format_loc, gc_paused


def lint_case(loaded: LoadedCase) -> list[CaseError]:
    case, source = loaded.case, loaded.source
    findings: list[tuple[list[str | int], str]] = []

    def names(ids: object) -> str:
        items = [ids] if isinstance(ids, str) else list(ids)  # type: ignore[call-overload]
        return ", ".join(repr(i) for i in items) if items else "nothing"

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

    plans = stage_plans(case)
    for stage_index, stage in enumerate(case.stages):
        plan = plans[stage_index]
        for q_index, question in enumerate(stage.questions):
            here: list[str | int] = ["stages", stage_index, "questions", q_index]
            key = answer_key(question, plan)
            if isinstance(question, NextStepQuestion):
                if not key.best:
                    findings.append((here + ["options"], "no option offered is recommended or acceptable"))
                if isinstance(question.expect, tuple) and not question.multiple:
                    findings.append((here + ["expect"], "a single-choice question expects one option"))
                elif question.expect is not None:
                    expected = {question.expect} if isinstance(question.expect, str) else set(question.expect)
                    agrees = expected <= set(key.best) if not question.multiple else expected == set(key.best)
                    if not agrees:
                        why = "; ".join(
                            f"{o}: {key.graded[o].grade}" for o in sorted(expected) if o in key.graded
                        )
                        findings.append(
                            (
                                here + ["expect"],
                                f"expect says {names(sorted(expected))} but the logic's best is "
                                f"{names(key.best)} ({why})",
                            )
                        )
            elif isinstance(question, PrerequisitesQuestion):
                missing = plan.recommendation.option(question.agent).prerequisites
                absent = [a for a in missing if a not in question.options]
                if absent:
                    findings.append(
                        (here + ["options"], f"options lack {names(absent)}, which the logic requires")
                    )
                if question.expect is not None and set(question.expect) != set(key.correct):
                    findings.append(
                        (
                            here + ["expect"],
                            f"expect says {names(sorted(question.expect))} but the logic says {names(sorted(key.correct))}",
                        )
                    )
            elif isinstance(question, MonitoringQuestion):
                if not key.correct:
                    findings.append((here + ["options"], "none of the options is monitored for these agents"))
                if question.expect is not None and set(question.expect) != set(key.correct):
                    findings.append(
                        (
                            here + ["expect"],
                            f"expect says {names(sorted(question.expect))} but the logic says {names(sorted(key.correct))}",
                        )
                    )
            elif isinstance(question, DoseQuestion):
                if key.dose is None:
                    continue  # refused at validation (logic/dosing.py dose_question_problems)
                if question.unit is not None and question.unit != key.dose.unit:
                    findings.append(
                        (
                            here + ["unit"],
                            f"unit is {question.unit!r} but the regimen gives {key.dose.unit!r}",
                        )
                    )
                if question.expect is not None and not key.dose.contains(question.expect, question.tolerance):
                    findings.append(
                        (here + ["expect"], f"expect {question.expect:g} is outside {key.dose.text}")
                    )
    errors = []
    for loc, message in findings:
        line, column = source.position(loc)
        errors.append(CaseError(loaded.path, line, column, message, format_loc(loc), severity="lint"))
    return errors


def lint_library(library: Library) -> list[CaseError]:
    """Lint every loaded case (collector paused, as for loading)."""
    with gc_paused():
        return [error for loaded in library.cases.values() for error in lint_case(loaded)]
