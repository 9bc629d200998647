"""Loading a folder of case files: every error located as file:line:col, one bad file never stops the rest."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from .casefiles import file_name_problem
from .cases import Case, DuplicateQuestionId
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
        if isinstance((err.get("ctx") or {}).get("error"), DuplicateQuestionId):
            continue  # reported with both lines by duplicate_question_ids()
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
    duplicates = duplicate_question_ids(source)
    try:
        case = Case.model_validate(source.data, context=validation_context(kb))
    except ValidationError as exc:
        return None, duplicates + validation_errors(exc, source)
    errors = duplicates or check_story(case, source, kb) or check_questions(case, source, kb)
    if errors:
        return None, errors
    return LoadedCase(case, path, source), []


def duplicate_question_ids(source: YamlSource) -> list[CaseError]:
    """Every question id used a second time, at its line, naming where it was first used."""
    data = source.data
    stages = data.get("stages") if isinstance(data, dict) else None
    first: dict[str, list[str | int]] = {}
    errors = []
    for i, stage in enumerate(stages if isinstance(stages, list) else []):
        questions = stage.get("questions") if isinstance(stage, dict) else None
        for j, question in enumerate(questions if isinstance(questions, list) else []):
            qid = question.get("id") if isinstance(question, dict) else None
            if not isinstance(qid, str):
                continue
            loc: list[str | int] = ["stages", i, "questions", j, "id"]
            if qid not in first:
                first[qid] = loc
                continue
            line, column = source.position(loc)
            first_line, _ = source.position(first[qid])
            message = (
                f"question id {qid!r} is used twice (first at line {first_line}, {format_loc(first[qid])})"
            )
            errors.append(CaseError(source.path, line, column, message, format_loc(loc)))
    return errors


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


class LibraryWatch:
    """The library of one cases folder, reloaded when the folder changes; cheap enough to ask on every
    page run, whatever the number of files.

    Each call looks at the folder itself only (one stat). Staleness bound: a case file added, removed or
    renamed (and an editor's save by rename) changes the folder and is seen on the next call; a file
    rewritten in place is seen within ``recheck_s`` seconds, when every file's time and size are
    compared again. Thread-safe: one session loads while the others wait for its result.
    """

    def __init__(
        self,
        folder: Path,
        kb: KnowledgeBase,
        recheck_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        on_load: Callable[[Library], None] | None = None,
    ) -> None:
        self.folder = folder
        self.kb = kb
        self.recheck_s = recheck_s
        self.clock = clock
        self.on_load = on_load
        self._lock = threading.Lock()
        self._library: Library | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._files: tuple[tuple[str, int, int], ...] | None = None
        self._checked = 0.0

    def library(self) -> Library:
        with self._lock:
            now, stamp = self.clock(), _folder_stamp(self.folder)
            if self._library is not None and stamp == self._stamp and now - self._checked < self.recheck_s:
                return self._library
            files = _file_stamps(self.folder)
            self._stamp, self._checked = stamp, now
            if self._library is None or files != self._files:
                self._library, self._files = load_library([self.folder], self.kb), files
                if self.on_load is not None:
                    self.on_load(self._library)
            return self._library


def _folder_stamp(folder: Path) -> tuple[int, int, int]:
    try:
        st = os.stat(folder)
    except OSError:
        return (0, 0, 0)
    return (st.st_mtime_ns, st.st_ino, st.st_dev)


def _file_stamps(folder: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for path in case_files([folder]) if folder.is_dir() else []:
        try:
            st = os.stat(path)
        except OSError:
            continue
        out.append((path.name, st.st_mtime_ns, st.st_size))
    return tuple(out)


def load_library(paths: Iterable[Path], kb: KnowledgeBase) -> Library:
    """Load every case under ``paths``; bad files are reported and skipped, duplicates refused."""
    with gc_paused():
        return _load_library(paths, kb)


def _load_library(paths: Iterable[Path], kb: KnowledgeBase) -> Library:
    library = Library()
    by_id: dict[str, list[LoadedCase]] = {}
    for path in case_files(paths):
        loaded, errors = load_case(path, kb)
        library.errors.extend(errors)
        if loaded is not None:
            by_id.setdefault(loaded.case.id, []).append(loaded)
    for case_id, files in by_id.items():
        if len(files) == 1:
            library.cases[case_id] = files[0]
        else:  # which file is the real case is for a person to decide, not the order of file names
            library.errors.extend(_same_id_errors(case_id, files))
    return library


def _same_id_errors(case_id: str, files: list[LoadedCase]) -> list[CaseError]:
    lines = {id(f): f.source.position(["id"]) for f in files}
    errors = []
    for this in files:
        others = ", ".join(
            f"{os.path.relpath(other.path, this.path.parent)}:{lines[id(other)][0]}"
            for other in files
            if other is not this
        )
        line, column = lines[id(this)]
        message = f"case id {case_id!r} is also used by {others}; none of these files is served until each has its own id"
        errors.append(CaseError(this.path, line, column, message, "id"))
    return errors
