"""The case library as a catalogue: a case's one-line description, search and filters, error lines, and
the prepared index the library page searches (built once per library version). Pure: no streamlit.
Labels come from ``logic.vocabulary``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dashboard.wording import count
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
    return (
        f"{POPULATION_LABELS[case.population]} · {DIFFICULTY_LABELS[case.difficulty]} · "
        f"{count(len(case.stages), 'stage')} · patient: {patient_line(case.patient)} · by {safe_markdown(case.author)}"
    )


def _haystack(case: Case) -> str:
    """What a search looks in: id, title, summary, tags and objectives, lower-cased."""
    return " ".join([case.id, case.title, case.summary, *case.tags, *case.objectives]).lower()


def case_matches(
    case: Case,
    query: str = "",
    tags: Iterable[str] = (),
    populations: Iterable[str] = (),
    difficulties: Iterable[str] = (),
) -> bool:
    """Search words must all appear in the title, summary, tags, objectives or id; every chosen tag must be
    on the case; the population and difficulty must be among those chosen (none chosen = any)."""
    haystack = _haystack(case)
    if any(word not in haystack for word in query.lower().split()):
        return False
    if not set(tags) <= set(case.tags):
        return False
    populations, difficulties = set(populations), set(difficulties)
    if populations and case.population not in populations:
        return False
    return not (difficulties and case.difficulty not in difficulties)


def _order(loaded: LoadedCase) -> tuple[int, str]:
    return (DIFFICULTY_ORDER.index(loaded.case.difficulty), loaded.case.title.lower())


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
    return sorted(found, key=_order)


def all_tags(cases: Mapping[str, LoadedCase]) -> list[str]:
    return sorted({t for lc in cases.values() for t in lc.case.tags})


@dataclass(frozen=True)
class IndexEntry:
    case_id: str
    haystack: str
    tags: frozenset[str]
    population: str
    difficulty: str


@dataclass(frozen=True)
class CatalogueIndex:
    """The library prepared for search: every case's haystack, tags, population and difficulty, in the
    order the page lists them (difficulty, then title), and every tag. Built once per library version
    (``build_index``); a search then touches only these strings, never the case models."""

    entries: tuple[IndexEntry, ...]
    tags: tuple[str, ...]

    def search(
        self,
        query: str = "",
        tags: Iterable[str] = (),
        populations: Iterable[str] = (),
        difficulties: Iterable[str] = (),
    ) -> list[str]:
        """The ids of the matching cases, in page order (the same rules as ``case_matches``)."""
        words = query.lower().split()
        wanted_tags, pops, diffs = frozenset(tags), frozenset(populations), frozenset(difficulties)
        return [
            e.case_id
            for e in self.entries
            if all(word in e.haystack for word in words)
            and wanted_tags <= e.tags
            and (not pops or e.population in pops)
            and (not diffs or e.difficulty in diffs)
        ]


def build_index(cases: Mapping[str, LoadedCase]) -> CatalogueIndex:
    ordered = sorted(cases.values(), key=_order)
    entries = tuple(
        IndexEntry(
            lc.case.id, _haystack(lc.case), frozenset(lc.case.tags), lc.case.population, lc.case.difficulty
        )
        for lc in ordered
    )
    return CatalogueIndex(entries, tuple(all_tags(cases)))


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
