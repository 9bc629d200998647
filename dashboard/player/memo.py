"""Process-wide memos (like st.cache_resource, without re-hashing a decorated function on every rerun),
keyed by what the value is built from, with a case file's version in every key."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Memo:
    """A small bounded, thread-safe memo: ``get(key, build)`` builds once per key, evicts the oldest."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                value: T = self._items[key]
                return value
        value = build()  # outside the lock: two sessions may build the same value once each, harmlessly
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


PLANS = Memo(64)  # (case id, file fingerprint, kb) -> stage_plans(case, kb)
FIGURES = Memo(256)  # figures the player shows, keyed by what they are drawn from
RESULTS = Memo(4096)  # (case version, question id, answer) -> its QuestionResult: scored once, reused


def frozen(value: object) -> Hashable:
    """A hashable image of an answer (lists and dicts become tuples), for memo keys."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(frozen(v) for v in value)
    return value if isinstance(value, Hashable) else repr(value)
