"""Reading YAML that people write: file, size, depth and content guards, and line:column for any data path.

The happy path parses with PyYAML's C safe loader only. Positions are needed only to report an
error, so the node tree is composed lazily, once, the first time a position is asked for.

What is refused, each with a message a person can act on, before or while parsing:

- anything but a regular file (a device, a named pipe, a socket, a folder), without opening it, and
  never more than ``MAX_BYTES`` + 1 bytes read (some files, e.g. under /proc, report a size of 0);
- binary files, text that is not UTF-8, and control characters (at their line and column);
- nesting deeper than ``MAX_DEPTH``: PyYAML's C loader recurses once per level and overflows the C
  stack (a segfault, not an exception) around 20,000 levels, which a 40 KB file reaches;
- anchors and aliases (the vehicle of "billion laughs" bombs) and merge keys (``<<``);
- duplicate keys (YAML keeps the last one silently), naming both lines; keys that are not text
  (``1:``, ``yes:``, ``~:`` are read as a number, a boolean, null).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError

MAX_BYTES = 256 * 1024
# A case file nests about 8 levels (stages > questions > options). The limit is far below the ~20,000
# levels at which the C loader overflows its stack, and high enough that the cheap byte bound below
# clears every ordinary file, so that only a suspicious file is parsed twice.
MAX_DEPTH = 1000
# An anchor (&name) anywhere outside a quoted scalar; confirmed by a real parse before refusing.
_ANCHOR_HINT = re.compile(rb"(?:^|[\s\[\{,:-])[&*][A-Za-z0-9_-]")
# Characters YAML does not allow in a stream (its printable set is tab, LF, CR, U+0020-U+007E, U+0085,
# U+00A0-U+D7FF, U+E000-U+FFFD and beyond); a byte-order mark is allowed at the very start only.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]|(?<!^)\ufeff")
# The indentation and block indicators ("- ", "? ", ": ") opening a line: a block collection nested in
# another starts further right or after one more indicator, so this bounds the block nesting depth.
_BLOCK_PREFIX = re.compile(rb"^[ \t?:-]+", re.MULTILINE)
_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)

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
    version: tuple[int, int] = (0, 0)  # (size, content hash) of the text as read: its identity for caches
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


def read_bounded(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    return _read_bounded(path, max_bytes)[0]


def _read_bounded(path: Path, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most ``max_bytes``, or YamlSourceError.

    The type is checked before opening (opening a device can have effects of its own), the file is
    opened non-blocking (a named pipe swapped in meanwhile cannot block) and checked again, and at
    most max_bytes + 1 bytes are read whatever size the file system reports.
    """
    try:
        before = os.stat(path)  # follows symlinks: what the path leads to is what counts
    except OSError as exc:
        raise YamlSourceError(f"cannot read file: {exc.strerror}") from exc
    _require_regular(before)
    if before.st_size > max_bytes:
        raise _too_big(max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise YamlSourceError(f"cannot read file: {exc.strerror}") from exc
    try:
        opened = os.fstat(fd)
        _require_regular(opened)
        if (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
            raise YamlSourceError("the file was replaced while being read; try again")
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise YamlSourceError(f"cannot read file: {exc.strerror}") from exc
    finally:
        os.close(fd)
    if left <= 0:
        raise _too_big(max_bytes)
    return b"".join(chunks), opened


def _require_regular(st: os.stat_result) -> None:
    if stat.S_ISREG(st.st_mode):
        return
    kind = next((name for test, name in _FILE_KINDS if test(st.st_mode)), "a special file")
    raise YamlSourceError(f"not a regular file ({kind}); a case file must be a plain text file")


def _too_big(max_bytes: int) -> YamlSourceError:
    return YamlSourceError(
        f"file is larger than {max_bytes // 1024} KiB; case files may be at most {max_bytes // 1024} KiB"
    )


def read_yaml(path: Path, max_bytes: int = MAX_BYTES) -> YamlSource:
    """Read one YAML file safely, or raise YamlSourceError with a message a person can act on."""
    return decode_yaml(path, _read_bounded(path, max_bytes)[0], max_bytes)


def decode_yaml(path: Path, raw: bytes, max_bytes: int = MAX_BYTES) -> YamlSource:
    """YAML from bytes (a file's, or an upload's), with the same guards as a file."""
    if len(raw) > max_bytes:
        raise _too_big(max_bytes)
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
    _refuse_control_characters(text)
    refuse_deep_nesting(text, raw)
    if _ANCHOR_HINT.search(raw):
        _refuse_aliases(text)
    try:
        data = yaml.load(text, Loader=StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if isinstance(exc, _KeyError):
            raise YamlSourceError(str(exc.problem), line, column) from exc
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
    digest = int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big")
    return YamlSource(path=path, text=text, data=data, version=(len(raw), digest))


def _is_tab(text: str, line: int, column: int) -> bool:
    lines = text.splitlines()
    return 0 < line <= len(lines) and lines[line - 1][column - 1 : column] == "\t"


def _line_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _refuse_control_characters(text: str) -> None:
    found = _CONTROL.search(text)
    if found is None:
        return
    line, column = _line_column(text, found.start())
    raise YamlSourceError(
        f"control character U+{ord(found.group()):04X} is not allowed in a case file (delete it or retype the text)",
        line,
        column,
    )


def refuse_deep_nesting(text: str, raw: bytes) -> None:
    """Refuse nesting deeper than MAX_DEPTH before the recursive C loader sees it.

    A cheap bound first, from bytes alone: the depth is at most the number of flow openers ("[", "{")
    plus the longest run of indentation and block indicators opening a line (plus one). Ordinary case
    files stay far below the limit and are not parsed twice; only a file over the bound is walked event
    by event (libyaml's parser is iterative), stopping at the first level too deep.
    """
    prefixes = _BLOCK_PREFIX.findall(raw)
    block = max(map(len, prefixes), default=0)
    if raw.count(b"[") + raw.count(b"{") + block + 1 <= MAX_DEPTH:
        return
    _check_depth_precisely(text)


def _check_depth_precisely(text: str) -> None:
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
                    raise YamlSourceError(
                        f"lists and mappings are nested more than {MAX_DEPTH} levels deep "
                        "(a case file needs about 8); check the brackets and indentation",
                        line,
                        column,
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # a syntax error: the real parse reports it with its position


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


class _KeyError(ConstructorError):
    """A key a person did not mean: its message is complete as it stands."""


_READS_AS = {bool: "true/false", int: "a number", float: "a number", type(None): "empty (null)"}


class StrictLoader(yaml.CSafeLoader):
    """PyYAML's C safe loader, with mappings that refuse duplicate, non-text and merge keys.

    Only construct_mapping is replaced (a Python loop in PyYAML too), so the cost is unchanged.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _KeyError(
                    None, None, "merge keys (<<) are not allowed in case files", key_node.start_mark
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise _KeyError(
                    None, None, "a key must be text, not a list or a mapping", key_node.start_mark
                )
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                reads_as = _READS_AS.get(
                    type(key), "a date" if key.__class__.__module__ == "datetime" else "data"
                )
                raise _KeyError(
                    None,
                    None,
                    f"key {key_node.value} is not text: YAML reads it as {reads_as}; "
                    f'put it in quotes ("{key_node.value}") or fix the field name',
                    key_node.start_mark,
                )
            if key in mapping:
                first = next(k for k, _ in node.value if isinstance(k, yaml.ScalarNode) and k.value == key)
                raise _KeyError(
                    None,
                    None,
                    f"duplicate key {key!r} (first at line {first.start_mark.line + 1}): "
                    "YAML would silently keep only the last",
                    key_node.start_mark,
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping
