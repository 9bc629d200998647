"""The case library as a catalogue: a case's one-line description, search and filters, error lines.
Pure: no streamlit. Labels come from ``logic.vocabulary``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from logic import Case, CaseError, LoadedCase, Patient
from logic.markdown import safe_markdown
from logic.questions.base import SLUG
from logic.vocabulary import DIFFICULTIES, DIFFICULTY_LABELS, POPULATION_LABELS, SEX_LABELS

DIFFICULTY_ORDER = DIFFICULTIES


def patient_line(patient: Patient) -> str:
    """The patient in one line, with only what the case gives (sex and height are optional)."""
    parts = [f"{patient.age:g} years"]
    if patient.sex is not None:
        parts.append(SEX_LABELS[patient.sex].lower())
    parts.append(f"{patient.weight_kg:g} kg")
    if patient.height_cm is not None:
        parts.append(f"{patient.height_cm:g} cm")
    return ", ".join(parts)


def case_line(case: Case) -> str:
    """Population · difficulty · stages · patient · author, under the case title."""
    n = len(case.stages)
    return (
        f"{POPULATION_LABELS[case.population]} · {DIFFICULTY_LABELS[case.difficulty]} · "
        f"{n} stage{'s' if n != 1 else ''} · patient: {patient_line(case.patient)} · by {safe_markdown(case.author)}"
    )


def case_matches(
    case: Case,
    query: str = "",
    tags: Iterable[str] = (),
    populations: Iterable[str] = (),
    difficulties: Iterable[str] = (),
) -> bool:
    """Search words must all appear in the title, summary, tags, objectives or id; every chosen tag must be
    on the case; the population and difficulty must be among those chosen (none chosen = any)."""
    haystack = " ".join([case.id, case.title, case.summary, *case.tags, *case.objectives]).lower()
    if any(word not in haystack for word in query.lower().split()):
        return False
    if not set(tags) <= set(case.tags):
        return False
    populations, difficulties = set(populations), set(difficulties)
    if populations and case.population not in populations:
        return False
    return not (difficulties and case.difficulty not in difficulties)


def filter_cases(
    cases: Mapping[str, LoadedCase],
    query: str = "",
    tags: Iterable[str] = (),
    populations: Iterable[str] = (),
    difficulties: Iterable[str] = (),
) -> list[LoadedCase]:
    """Matching cases, ordered by difficulty then title."""
    tags, populations, difficulties = list(tags), list(populations), list(difficulties)
    found = [lc for lc in cases.values() if case_matches(lc.case, query, tags, populations, difficulties)]
    return sorted(found, key=lambda lc: (DIFFICULTY_ORDER.index(lc.case.difficulty), lc.case.title.lower()))


def all_tags(cases: Mapping[str, LoadedCase]) -> list[str]:
    return sorted({t for lc in cases.values() for t in lc.case.tags})


def error_text(error: CaseError, folder: Path) -> str:
    """``file:line:col: message`` with the file relative to the cases folder, or its bare name when it is
    elsewhere: never an absolute path of the server."""
    try:
        shown = Path(error.path).absolute().relative_to(folder.absolute())
    except ValueError:
        shown = Path(Path(error.path).name)
    return str(error).replace(str(error.path), str(shown), 1)


def error_lines(errors: Iterable[CaseError], folder: Path) -> list[str]:
    """The faculty error list: one ``file:line:col: message`` a line, files relative to the cases folder."""
    return [error_text(e, folder) for e in errors]


def unknown_case_text(requested: str) -> str:
    """What to say about a ``?case=`` link to no case. The link's text is shown only when it is a plain
    case id (letters, digits, "-", "_"), and then as code (literal text): a URL is anyone's to write."""
    if len(requested) <= 80 and SLUG.match(requested):
        return f"There is no case `{requested}` in the library."
    return "The link names no case in the library."


def question_count(case: Case) -> int:
    return len(case.questions())
