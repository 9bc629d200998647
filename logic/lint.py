"""Lint: where a case and the logic disagree, or a question cannot be answered well.

The case-level checks are here; each question kind lints its own questions (``QuestionBase.lint``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .keys import stage_plans
from .knowledge import KnowledgeBase
from .library import CaseError, Library, LoadedCase, format_loc, gc_paused

# A name's trailing note in brackets ("Cyclophosphamide (IV)"), and a note that is an abbreviation
# ("Intravenous immunoglobulin (IVIG)" is also called "IVIG").
_TRAILING = re.compile(r"^(?P<name>.+?)\s*\((?P<note>[^()]+)\)$")
_ABBREVIATION = re.compile(r"^[A-Z][A-Za-z0-9-]{2,}$")


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
    answers: dict[str, str] = {}  # an option the learner must choose somewhere -> the question keyed by it
    for stage_index, stage in enumerate(case.stages):
        plan = plans[stage_index]
        offered_by: dict[str, str] = {}  # option -> the question of this stage that offers it first
        for q_index, question in enumerate(stage.questions):
            here: list[str | int] = ["stages", stage_index, "questions", q_index]
            key = question.answer_key(plan, kb)
            for option in key.correct:
                answers.setdefault(option, question.id)
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
    findings.extend(objective_findings(case.objectives, answers, kb))
    errors = []
    for loc, message in findings:
        line, column = source.position(loc)
        errors.append(CaseError(loaded.path, line, column, message, format_loc(loc), severity="lint"))
    return errors


def lint_library(library: Library, kb: KnowledgeBase) -> list[CaseError]:
    """Lint every loaded case (collector paused, as for loading)."""
    with gc_paused():
        return [error for loaded in library.cases.values() for error in lint_case(loaded, kb)]


def names_of(option_id: str, kb: KnowledgeBase) -> tuple[str, ...]:
    """What a learner may call an option: its name; without a trailing note or abbreviation, and the
    abbreviation alone ("Intravenous immunoglobulin (IVIG)": also "Intravenous immunoglobulin", "IVIG";
    "Cyclophosphamide (IV)": also "Cyclophosphamide"); an agent also by the first word of its id when its
    name starts with it ("Mycophenolate mofetil": also "mycophenolate")."""
    name = kb.name(option_id)
    names = [name]
    found = _TRAILING.match(name)
    if found:
        names.append(found["name"])
        if _ABBREVIATION.match(found["note"]):
            names.append(found["note"])
    head = option_id.split("_")[0]
    if option_id in kb.agents and name.lower().startswith(head) and len(head) > 3:
        names.append(head)
    return tuple({n.lower(): n for n in reversed(names)}[k] for k in dict.fromkeys(n.lower() for n in names))


def objective_findings(
    objectives: Iterable[str], answers: dict[str, str], kb: KnowledgeBase
) -> list[tuple[list[str | int], str]]:
    """Objectives that name an option the learner has to choose: an objective says what will be learned,
    not which answer to pick (``answers``: each keyed option and the first question it answers)."""
    findings: list[tuple[list[str | int], str]] = []
    for index, objective in enumerate(objectives):
        for option, question_id in answers.items():
            named = [n for n in names_of(option, kb) if _mentions(objective, n)]
            if named:
                findings.append(
                    (
                        ["objectives", index],
                        f"names {named[0]!r}, the answer to question {question_id!r}: an objective says "
                        "what will be learned, not what to choose",
                    )
                )
    return findings


def _mentions(text: str, name: str) -> bool:
    if name.lower() not in text.lower():  # the cheap test first: most objectives name nothing
        return False
    return re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text, re.IGNORECASE) is not None
