"""Case Markdown made safe to render, in one place: the pages and the exports all call ``safe_markdown``.

A case file is text a faculty member wrote; the app renders it as Markdown in the browser (Streamlit's
react-markdown with GitHub extensions) and in exported notebooks (Jupyter's marked). Markdown can make
a browser fetch or open things. What survives, and what becomes text:

- links to relative addresses (``?case=x``, ``/player``, ``#top``) and to ``https:`` stay links, written
  out again in one canonical form (``[text](address)``, the address percent-encoded);
- links to anything else (``javascript:``, ``data:``, ``http:``, ``mailto:``, ``//host``...) keep
  only their text;
- images never load: ``![alt](...)`` shows as ``[image: alt]`` (no case ships images; an image served
  from the repository would be the one thing to allow here);
- every other ``[``, ``]`` and ``<`` is escaped, so no reference definition, footnote, raw HTML,
  autolink to another scheme, or Streamlit directive (``:red[...]``, ``:color[...]{...}``) can form;
- bare ``http://``, ``ftp://``..., ``www.`` and e-mail addresses, which GitHub Markdown turns into links
  after escapes are resolved, get an invisible zero-width space that stops them; bare ``https://``
  addresses stay (they become https links);
- ``$`` is escaped (no math: a price like "$500 ... $600" is not a formula).

Everything else (emphasis, lists, tables, headings, code) is left as the author wrote it.
``plain_text`` is for text that must not be Markdown at all (values from a URL).
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass, field
from urllib.parse import quote

ZWSP = "\u200b"
ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

# Where something may need rewriting; text in between is copied as it is.
_SPECIAL = re.compile(r"[\\\[\]!<@$]|(?i:[a-z][a-z0-9+.-]{0,31}://|www\.)")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:")
_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f-\x9f]")
_AUTOLINK = re.compile(r"<(https://[^\x00-\x20<>\x7f]*)>", re.IGNORECASE)
_DEFINITION = re.compile(
    r"^ {0,3}\[((?:[^\[\]\\\n]|\\.){1,999})\]:[ \t]*(<[^<>\n]*>|\S+)"
    r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*(?:\n|$)",
    re.MULTILINE,
)
_HTTPS_RUN = re.compile(r"[^\s<>\[\]@$\\!]*")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# "(address)" or "(<address>)", with an optional title, after a link's "]". One level of parentheses
# inside an address is allowed (CommonMark allows any balanced depth; deeper is shown as text).
_PLAIN_ADDRESS = r"(?:[^\s()\\\x00-\x1f\x7f]|\\.|\((?:[^\s()\\\x00-\x1f\x7f]|\\.)*\))*"
_TITLE = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\)"
_INLINE_DESTINATION = re.compile(
    rf"\(\s*(?:<((?:[^<>\n\\]|\\.)*)>|({_PLAIN_ADDRESS}))(?:\s+(?:{_TITLE}))?\s*\)", re.DOTALL
)
# Percent-encode all but these in a written-out address ("&" is escaped instead: it may start an entity).
_URL_SAFE = "!#$%*+,/:;=?@~-._'"


@dataclass
class Sanitised:
    text: str
    refused: list[str] = field(default_factory=list)  # what was turned into text, for authors (lint)


def safe_markdown(text: str) -> str:
    """The Markdown of a case field with every active element made text (see the module docstring)."""
    return _sanitise(text).text


def refused_content(text: str) -> tuple[str, ...]:
    """What safe_markdown turns into text in ``text``: images and links to addresses not allowed."""
    return tuple(_sanitise(text).refused)


def plain_text(text: str) -> str:
    """Markdown that shows exactly ``text`` on one line: every punctuation mark escaped, no autolink."""
    out = []
    for ch in " ".join(str(text).split()):
        if ch in ASCII_PUNCTUATION:
            out.append(("\\" + ch + ZWSP) if ch in ":@" else "\\" + ch)
        else:
            out.append(ch)
    return re.sub(r"(?i)(www)(?=\\\.)", r"\1" + ZWSP, "".join(out))


def link_allowed(address: str) -> bool:
    """Relative addresses and https only. Browsers ignore control characters and whitespace anywhere in
    an address and treat "//host" and backslashes as another host, so those are judged with them removed."""
    compact = _NOT_IN_URL.sub("", address).lower()
    if _SCHEME.match(compact):
        return compact.startswith("https:")
    return not compact.startswith(("//", "\\\\", "/\\", "\\/"))


@functools.lru_cache(maxsize=4096)
def _sanitise(text: str) -> Sanitised:
    definitions: dict[str, str] = {}

    def define(match: re.Match[str]) -> str:
        label = _normalise_label(match.group(1))
        definitions.setdefault(label, _destination_text(match.group(2)))
        return ""

    body = _ENTITY.sub(_decoded_entity, str(text))
    body = _DEFINITION.sub(define, body)
    result = Sanitised("")
    result.text = _Scanner(body, definitions, result.refused).run()
    return result


def _decoded_entity(match: re.Match[str]) -> str:
    """A character reference written as the character it stands for (escaped if punctuation), so that
    the scan sees what the renderer will: "&#x77;ww." is "www.", "&#91;" an (escaped) bracket."""
    char = html.unescape(match.group())
    return "\\" + char if char in ASCII_PUNCTUATION else char


def _normalise_label(label: str) -> str:
    return " ".join(label.casefold().split())


def _unescape(text: str) -> str:
    """Backslash escapes resolved, as a Markdown parser does inside an address (entities are already)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def _destination_text(raw: str) -> str:
    if raw.startswith("<") and raw.endswith(">"):
        raw = raw[1:-1]
    return _unescape(raw)


def _written_address(address: str) -> str:
    return quote(address, safe=_URL_SAFE + "&").replace("&", "\\&")


def _bracket_pairs(text: str) -> dict[int, int]:
    """Each unescaped "[" that has a matching "]", by index, in one pass."""
    pairs: dict[int, int] = {}
    open_at: list[int] = []
    j = 0
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            open_at.append(j)
        elif ch == "]" and open_at:
            pairs[open_at.pop()] = j
        j += 1
    return pairs


class _Scanner:
    """One left-to-right pass: copy text, rewrite what could become a link, an image or markup."""

    def __init__(self, text: str, definitions: dict[str, str], refused: list[str], in_link: bool = False):
        self.text = text
        self.definitions = definitions
        self.refused = refused
        self.in_link = in_link
        self.pairs = _bracket_pairs(text)
        self.out: list[str] = []

    def run(self) -> str:
        text, i = self.text, 0
        while True:
            found = _SPECIAL.search(text, i)
            if found is None:
                self.out.append(text[i:])
                return "".join(self.out)
            start = found.start()
            self.out.append(text[i:start])
            i = self.step(start, found.group())

    def step(self, i: int, token: str) -> int:
        text = self.text
        if token == "\\":
            return self.escape(i)
        if token == "!":
            link = self.parse_link(i + 1) if text.startswith("[", i + 1) else None
            if link is not None:
                label, address, end = link
                self.refused.append(f"image {label!r} ({address}): images are not shown")
                alt = plain_text(label)
                self.out.append(f"\\[image: {alt}\\]" if alt else "\\[image\\]")
                return end
            self.out.append("!")
            return i + 1
        if token == "[":
            link = None if self.in_link else self.parse_link(i)
            if link is None:
                self.out.append("\\[")
                return i + 1
            label, address, end = link
            inner = _Scanner(label, {}, self.refused, in_link=True).run()
            if link_allowed(address):
                self.out.append(f"[{inner}]({_written_address(address)})")
            else:
                self.refused.append(f"link {label!r} to {address!r}: only https and relative links are kept")
                self.out.append(inner)
            return end
        if token == "]":
            self.out.append("\\]")
            return i + 1
        if token == "<":
            autolink = _AUTOLINK.match(text, i)
            if autolink is not None and not self.in_link:
                address = autolink.group(1)
                self.out.append(f"[{plain_text(address)}]({_written_address(address)})")
                return autolink.end()
            self.out.append("\\<")
            return i + 1
        if token == "@":
            self.out.append(ZWSP + "@")
            return i + 1
        if token == "$":
            self.out.append("\\$")
            return i + 1
        lower = token.lower()
        if lower == "https://":
            # a bare https address becomes an https link: keep it whole up to the next character that
            # must be rewritten anyway
            run = _HTTPS_RUN.match(text, i + len(token))
            end = run.end() if run else i + len(token)
            self.out.append(text[i:end])
            return end
        if lower == "www.":
            if self.tail(8).lower() == "https://":
                self.out.append(token)  # the host of an https address, kept whole
            else:
                self.out.append("www" + ZWSP + ".")
            return i + len(token)
        # another scheme followed by "//" (http://, ftp://): stop it being linked
        colon = token.index(":")
        self.out.append(token[: colon + 1] + ZWSP + token[colon + 1 :])
        return i + len(token)

    def escape(self, i: int) -> int:
        """An author's backslash escape stays; the escaped characters that can still complete an autolink
        once escapes are resolved ("http\\://", "a\\@b.org", "www\\.x") get a zero-width space."""
        text = self.text
        following = text[i + 1] if i + 1 < len(text) else ""
        if following == "\n":
            self.out.append("\\\n")  # a hard line break
            return i + 2
        if following not in ASCII_PUNCTUATION:
            self.out.append("\\\\")  # a lone backslash, shown as one
            return i + 1
        pair = "\\" + following
        if following in "@/":
            pair = ZWSP + pair
        elif following == ":":
            pair += ZWSP
        elif following == "." and self.tail(3).lower() == "www":
            pair = ZWSP + pair
        self.out.append(pair)
        return i + 2

    def tail(self, n: int) -> str:
        """The last n characters written so far."""
        parts, length = [], 0
        for part in reversed(self.out):
            parts.append(part)
            length += len(part)
            if length >= n:
                break
        return "".join(reversed(parts))[-n:]

    def parse_link(self, i: int) -> tuple[str, str, int] | None:
        """At a "[": (label, address, end) of an inline link ``[label](address "title")`` or of a reference
        ``[label][ref]``, ``[label][]``, ``[label]`` to a definition; None if it is neither."""
        text = self.text
        close = self.pairs.get(i)
        if close is None:
            return None
        label = text[i + 1 : close]
        after = close + 1
        inline = _INLINE_DESTINATION.match(text, after)
        if inline is not None:
            raw = inline.group(1) if inline.group(1) is not None else inline.group(2)
            return label, _unescape(raw), inline.end()
        if text.startswith("[", after):
            ref_close = self.pairs.get(after)
            if ref_close is not None:
                ref = text[after + 1 : ref_close] or label
                address = self.definitions.get(_normalise_label(ref))
                return None if address is None else (label, address, ref_close + 1)
        address = self.definitions.get(_normalise_label(label))
        return None if address is None else (label, address, after)
