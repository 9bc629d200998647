"""Reading YAML that people write: size and content guards, and line:column for any data path.

The happy path parses with PyYAML's C safe loader only. Positions are needed only to report an
error, so the node tree is composed lazily, once, the first time a position is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

MAX_BYTES = 256 * 1024
# An anchor (&name) anywhere outside a quoted scalar; confirmed by a real parse before refusing.
_ANCHOR_HINT = re.compile(rb"(?:^|[\s\[\{,:-])[&*][A-Za-z0-9_-]")

Loc = Sequence[str | int]


class YamlSourceError(ValueError):
    """The file cannot be read as data at all; carries the position where known."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass
class YamlSource:
    path: Path
    text: str
    data: object
    _root: yaml.Node | None = field(default=None, repr=False)

    def position(self, loc: Loc) -> tuple[int, int]:
        """1-based (line, column) of the deepest node along ``loc`` that exists in the file."""
        if self._root is None:
            self._root = yaml.compose(self.text, Loader=yaml.CSafeLoader)
        node = self._root
        if node is None:
            return 1, 1
        for part in loc:
            child = _child(node, part)
            if child is None:
                continue  # a name pydantic adds (e.g. a union tag) or a missing key: stay on the parent
            node = child
        return node.start_mark.line + 1, node.start_mark.column + 1


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                child: yaml.Node = value
                return child
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item: yaml.Node = node.value[part]
        return item
    return None


def read_yaml(path: Path, max_bytes: int = MAX_BYTES) -> YamlSource:
    """Read one YAML file safely, or raise YamlSourceError with a message a person can act on."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise YamlSourceError(f"cannot read file: {exc.strerror}") from exc
    if size > max_bytes:
        raise _too_big(size, max_bytes)
    return decode_yaml(path, path.read_bytes(), max_bytes)


def _too_big(size: int, max_bytes: int) -> YamlSourceError:
    return YamlSourceError(f"file is {size // 1024} KiB; case files may be at most {max_bytes // 1024} KiB")


def decode_yaml(path: Path, raw: bytes, max_bytes: int = MAX_BYTES) -> YamlSource:
    """YAML from bytes (a file's, or an upload's), with the same guards as a file."""
    if len(raw) > max_bytes:
        raise _too_big(len(raw), max_bytes)
    if b"\x00" in raw:
        raise YamlSourceError("file is binary (contains NUL bytes), not YAML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlSourceError(f"file is not UTF-8 text (byte {exc.start})", line) from exc
    return parse_yaml(path, text, raw)


def parse_yaml(path: Path, text: str, raw: bytes | None = None) -> YamlSource:
    if not text.strip():
        raise YamlSourceError("file is empty")
    raw = text.encode("utf-8") if raw is None else raw
    if _ANCHOR_HINT.search(raw):
        _refuse_aliases(text)
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        if _is_tab(text, line, column):
            raise YamlSourceError(
                "a tab indents this line: YAML is indented with spaces, never tabs", line, column
            ) from exc
        context = f" ({exc.context})" if exc.context else ""
        raise YamlSourceError(f"invalid YAML: {problem}{context}", line, column) from exc
    except yaml.YAMLError as exc:
        raise YamlSourceError(f"invalid YAML: {exc}") from exc
    if data is None:
        raise YamlSourceError("file is empty")
    return YamlSource(path=path, text=text, data=data)


def _is_tab(text: str, line: int, column: int) -> bool:
    lines = text.splitlines()
    return 0 < line <= len(lines) and lines[line - 1][column - 1 : column] == "\t"


def _refuse_aliases(text: str) -> None:
    """Anchors and aliases are refused outright: they are the vehicle of 'billion laughs' bombs."""
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                mark = event.start_mark
                line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
                raise YamlSourceError(
                    "YAML anchors and aliases (&name, *name) are not allowed in case files", line, column
                )
    except yaml.MarkedYAMLError:
        return  # the real parse reports the syntax error with its position
