"""A learner in the middle of a case finishes the version they started, even if the case changed.

Every version the player opens is kept by its hash (``logic.casefiles.archive_version``); the progress
remembers the hash it plays (for a signed-in learner, the one their stored attempt recorded). Before any
stage is submitted the progress follows the case to its newest version (and so does the stored attempt);
once a stage is submitted it stays on its version until the case is finished and restarted.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from dashboard import persistence
from dashboard.common import get_store
from dashboard.player.memo import Memo
from logic import KnowledgeBase, LoadedCase
from logic.casefiles import archive_version, archived_version, content_hash, version_path
from logic.library import load_source
from logic.yamlsource import YamlSourceError, parse_yaml

VERSION = "case_version"  # progress key: the sha256 of the case version the progress plays
UPDATED = (
    "This case was updated after you started it. You are finishing the version you started; "
    "restart the case to play the new one."
)
GONE = (
    "This case was updated after you started it and the version you started is no longer kept here, "
    "so you see the new one. Restart the case to play it from the beginning."
)
_OLD = Memo(32)  # (folder, hash, kb) -> the LoadedCase of a kept version
_KEPT: set[tuple[str, str]] = set()  # (folder, hash) archived by this process
_LOCK = threading.Lock()


def keep(folder: Path, text: str) -> str:
    """Archive a case version (once per process and version); returns its hash."""
    digest = content_hash(text)
    with _LOCK:
        if (str(folder), digest) in _KEPT:
            return digest
    archive_version(folder, text)
    with _LOCK:
        _KEPT.add((str(folder), digest))
    return digest


def _old_version(folder: Path, digest: str, kb: KnowledgeBase) -> LoadedCase | None:
    def build() -> LoadedCase | None:
        text = archived_version(folder, digest)
        if text is None:
            return None
        try:
            source = parse_yaml(version_path(folder, digest), text)
        except YamlSourceError:
            return None
        loaded, _errors = load_source(source, kb)
        return loaded

    return _OLD.get((str(folder), digest, id(kb)), build)


def version_to_play(
    loaded: LoadedCase, progress: dict[str, Any], kb: KnowledgeBase, folder: Path
) -> tuple[LoadedCase, str | None]:
    """The version of the case this progress plays, and what to tell the learner about it (or None)."""
    current = keep(folder, loaded.source.text)
    stored = persistence.DB_ATTEMPT in progress
    pinned = progress.get(persistence.DB_HASH) if stored else progress.get(VERSION)
    if not progress.get("submitted"):
        progress[VERSION] = current
        if stored and pinned != current:
            _rebase(progress, current)
        return loaded, None
    if pinned is None or pinned == current:
        progress[VERSION] = current
        return loaded, None
    old = _old_version(folder, pinned, kb)
    if old is None or old.case.id != loaded.case.id:
        return loaded, GONE
    return old, UPDATED


def _rebase(progress: dict[str, Any], digest: str) -> None:
    """The stored attempt has no answers yet: it follows the case to this version (best effort)."""
    store = get_store()
    if store is None:
        return
    try:
        store.rebase_attempt(int(progress[persistence.DB_ATTEMPT]), digest)
    except Exception:  # noqa: BLE001 - the store reports its own failures; playing goes on
        return
    progress[persistence.DB_HASH] = digest
