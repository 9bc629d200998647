"""Loading a folder of case files: every error located as file:line:col, one bad file never stops the rest."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from .casefiles import file_name_problem
from .cases import Case
from .ids import validation_context
from .knowledge import KnowledgeBase
from .questions import KIND_NAMES
from .yamlsource import Loc, YamlSource, YamlSourceError, read_yaml


@dataclass(frozen=True)
class CaseError:
    """One problem in one file, as a person reads it: ``cases/foo.yaml:17:5: where: what``."""

    path: Path
    line: int
    column: int
    message: str
    where: str = ""
    severity: str = "error"  # "error" | "lint"

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        tag = "lint: " if self.severity == "lint" else ""
        return f"{self.path}:{self.line}:{self.column}: {tag}{where}{self.message}"


@dataclass
class LoadedCase:
    case: Case
    path: Path
    source: YamlSource


@dataclass
class Library:
    cases: dict[str, LoadedCase] = field(default_factory=dict)
    errors: list[CaseError] = field(default_factory=list)

    def __contains__(self, case_id: str) -> bool:
        return case_id in self.cases


def format_loc(loc: Loc) -> str:
    """``stages[2].questions[0].options[1]`` from a data path."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _readable_loc(loc: Loc, source: YamlSource) -> list[str | int]:
    """Drop the names pydantic inserts that are not in the file (discriminated-union tags)."""
    out: list[str | int] = []
    node: object = source.data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str):
            if part not in node:
                if part in KIND_NAMES:
                    continue
                out.append(part)
                node = None
                continue
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        out.append(part)
    return out


def _message(error: dict[str, object]) -> str:
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if error["type"] == "extra_forbidden":
        msg = "unknown field (check its spelling or indentation)"
    elif error["type"] == "missing":
        msg = "required field is missing"
    elif error["type"] == "union_tag_invalid":
        ctx = error.get("ctx")
        ctx = ctx if isinstance(ctx, dict) else {}
        msg = f"unknown question kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    return msg


def validation_errors(exc: ValidationError, source: YamlSource, prefix: Loc = ()) -> list[CaseError]:
    errors = []
    for err in exc.errors():
        loc = _readable_loc([*prefix, *err["loc"]], source)
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append("kind")
        line, column = source.position(loc)
        errors.append(CaseError(source.path, line, column, _message(dict(err)), format_loc(loc)))
    return errors


def load_case(path: Path, kb: KnowledgeBase) -> tuple[LoadedCase | None, list[CaseError]]:
    """Load one case file: the case, or None and the reasons, each with its line."""
    bad_name = file_name_problem(path)
    if bad_name is not None:
        return None, [CaseError(path, 1, 1, bad_name)]
    try:
        source = read_yaml(path)
    except YamlSourceError as exc:
        return None, [CaseError(path, exc.line, exc.column, exc.message)]
    return load_source(source, kb)


def load_source(source: YamlSource, kb: KnowledgeBase) -> tuple[LoadedCase | None, list[CaseError]]:
    """A case from YAML already read (a file, or the Author page's text): the case, or the reasons."""
    path = source.path
    if not isinstance(source.data, dict):
        return None, [
            CaseError(path, 1, 1, "a case file must be a mapping of fields (id, title, patient, stages...)")
        ]
    try:
        case = Case.model_validate(source.data, context=validation_context(kb))
    except ValidationError as exc:
        return None, validation_errors(exc, source)
    errors = check_story(case, source, kb) or check_questions(case, source, kb)
    if errors:
        return None, errors
    return LoadedCase(case, path, source), []


def check_questions(case: Case, source: YamlSource, kb: KnowledgeBase) -> list[CaseError]:
    """Questions that cannot be asked of the patient at their stage (e.g. a dose question without a
    sourced dose, which would score any number): each kind says (``QuestionBase.load_problems``)."""
    errors = []
    patients = case.patients(kb)
    for stage_index, stage in enumerate(case.stages):
        for q_index, question in enumerate(stage.questions):
            for loc, message in question.load_problems(patients[stage_index], kb):
                where: list[str | int] = ["stages", stage_index, "questions", q_index, *loc]
                line, column = source.position(where)
                errors.append(CaseError(source.path, line, column, message, format_loc(where)))
    return errors


def check_story(case: Case, source: YamlSource, kb: KnowledgeBase) -> list[CaseError]:
    """The patient must stay valid as each stage's changes are applied."""
    try:
        case.patients(kb)  # cached on the case: lint and the player reuse it
        return []
    except ValidationError:
        pass  # walk the stages again to say which one breaks the patient
    patient = case.patient
    for index, stage in enumerate(case.stages):
        if stage.changes is None:
            continue
        try:
            patient = stage.changes.apply(patient, kb)
        except ValidationError as exc:
            loc: list[str | int] = ["stages", index, "changes"]
            line, column = source.position(loc)
            problems = "; ".join(_message(dict(e)) for e in exc.errors())
            return [
                CaseError(
                    source.path, line, column, f"the patient becomes invalid: {problems}", format_loc(loc)
                )
            ]
    return []


def case_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.glob("*.y*ml") if p.suffix in (".yaml", ".yml")))
        else:
            files.append(path)
    return files


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around a bulk load.

    Parsing keeps every case's objects alive, so each generational collection walks a growing heap
    and finds nothing to free (the data is acyclic): measured at ~50% of load time for 1,000 cases.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_library(paths: Iterable[Path], kb: KnowledgeBase) -> Library:
    """Load every case under ``paths``; bad files are reported and skipped, duplicates refused."""
    with gc_paused():
        return _load_library(paths, kb)


def _load_library(paths: Iterable[Path], kb: KnowledgeBase) -> Library:
    library = Library()
    for path in case_files(paths):
        loaded, errors = load_case(path, kb)
        library.errors.extend(errors)
        if loaded is None:
            continue
        case_id = loaded.case.id
        if case_id in library.cases:
            line, column = loaded.source.position(["id"])
            other = library.cases[case_id].path
            library.errors.append(
                CaseError(path, line, column, f"case id {case_id!r} is already used by {other}", "id")
            )
            continue
        library.cases[case_id] = loaded
    return library
