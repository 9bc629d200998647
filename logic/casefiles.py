"""Case files on disk, as the Author page and ``python -m logic new-case`` write them.

The cases folder holds the published cases (``<id>.yaml``, what the library serves), ``drafts/`` (cases
under review, shown to faculty only) and ``.history/`` (never served):

- ``.history/backups/<id>.<UTC time>.yaml.bak``: the previous content of a file each time it is
  replaced, so a save never loses a version;
- ``.history/versions/<sha256>.yaml.txt``: the content of every case version a learner has opened, by
  its hash (the hash an attempt records), so a learner in the middle of a case finishes the version
  they started even after the file changed.

Every write is atomic (a temporary file in the same folder, flushed, then ``os.replace``): a reader
sees the old file or the new one, never half of one. File names come from a case id that must be a
slug (``[a-z0-9][a-z0-9_-]*``), so no name can leave its folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .questions.base import SLUG
from .schema import MODELINE_PREFIX, SCHEMA_FILE, modeline

DRAFTS = "drafts"
HISTORY = ".history"
SUFFIX = ".yaml"


class CaseFileError(ValueError):
    """A case file cannot be written as asked; the message says why, in plain words."""


def valid_id(case_id: str) -> bool:
    return bool(SLUG.match(case_id)) and len(case_id) <= 100


def file_name_problem(path: Path) -> str | None:
    """Why a case file's name cannot be a case id (None if it can): ``<id>.yaml``."""
    if not valid_id(path.stem):
        return (
            f"file name {path.name!r} is not a valid case id: use lower-case letters, digits, '-' or '_' "
            "(the file is <id>.yaml)"
        )
    return None


def case_path(folder: Path, case_id: str, *, draft: bool = False) -> Path:
    """``<folder>/<id>.yaml`` (or ``<folder>/drafts/<id>.yaml``); refuses an id that is not a slug."""
    if not valid_id(case_id):
        raise CaseFileError(
            f"case id {case_id!r} cannot name a file: use lower-case letters, digits, '-' or '_'"
        )
    base = folder / DRAFTS if draft else folder
    return base / f"{case_id}{SUFFIX}"


def content_hash(text: str) -> str:
    """sha256 of a case file's bytes (UTF-8), as attempts record it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def with_modeline(text: str, *, draft: bool = False) -> str:
    """The text with the schema modeline as its first line, pointing at the schema from where it is saved."""
    line = modeline(f"../{SCHEMA_FILE}" if draft else SCHEMA_FILE)
    lines = text.splitlines(keepends=True)
    if lines and lines[0].startswith(MODELINE_PREFIX):
        lines = lines[1:]
    body = "".join(lines)
    return f"{line}\n{body}" if body.endswith("\n") or not body else f"{line}\n{body}\n"


def atomic_write(path: Path, text: str) -> None:
    """Write the file whole or not at all (temporary file in the same folder, then os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def backup(folder: Path, path: Path, clock: datetime | None = None) -> Path | None:
    """Copy an existing file to ``.history/backups/<name>.<UTC time>.yaml.bak``; None if there is none."""
    try:
        old = path.read_bytes()
    except FileNotFoundError:
        return None
    stamp = (clock or datetime.now(UTC)).strftime("%Y-%m-%dT%H%M%S.%fZ")
    kind = "draft." if path.parent.name == DRAFTS else ""
    target = folder / HISTORY / "backups" / f"{path.stem}.{kind}{stamp}{SUFFIX}.bak"
    atomic_write(target, old.decode("utf-8", errors="replace"))
    return target


@dataclass(frozen=True)
class Saved:
    path: Path
    backup: Path | None
    replaced: bool  # an existing file was replaced (its previous content is in the backup)


def save_case(folder: Path, case_id: str, text: str, *, draft: bool, replace: bool) -> Saved:
    """Save a case's text under its id, atomically, keeping the previous version as a backup.

    ``replace`` is the author's explicit confirmation: without it an existing file is never overwritten.
    The caller has validated the text (an invalid case is never saved over a valid one)."""
    path = case_path(folder, case_id, draft=draft)
    exists = path.exists()
    if exists and not replace:
        raise CaseFileError(f"{path.name} already exists: confirm to replace it (a backup is kept)")
    saved_backup = backup(folder, path) if exists else None
    atomic_write(path, with_modeline(text, draft=draft))
    return Saved(path, saved_backup, exists)


def publish(folder: Path, case_id: str, text: str, *, replace: bool) -> Saved:
    """Publish a draft: save it as a served case (same rules as save_case), then remove the draft."""
    saved = save_case(folder, case_id, text, draft=False, replace=replace)
    draft = case_path(folder, case_id, draft=True)
    if draft.exists():
        backup(folder, draft)
        draft.unlink()
    return saved


# ------------------------------------------------------------------------------------- versions


def version_path(folder: Path, digest: str) -> Path:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise CaseFileError(f"not a case version hash: {digest!r}")
    return folder / HISTORY / "versions" / f"{digest}{SUFFIX}.txt"


def archive_version(folder: Path, text: str) -> str:
    """Keep this case text under its hash (once); returns the hash. Best effort: a read-only folder
    only means a learner mid-case cannot finish an older version, never that anything stops."""
    digest = content_hash(text)
    path = version_path(folder, digest)
    if not path.exists():
        with contextlib.suppress(OSError):
            atomic_write(path, text)
    return digest


def archived_version(folder: Path, digest: str) -> str | None:
    """The text of a case version kept by archive_version, or None."""
    try:
        text = version_path(folder, digest).read_text(encoding="utf-8")
    except (OSError, CaseFileError, UnicodeDecodeError):
        return None
    return text if content_hash(text) == digest else None
