"""Case Markdown is sanitised in one place: no image loads, no link but https and relative ones.

The sanitised text is parsed with an independent CommonMark parser (markdown-it-py) and the GitHub
"autolink literal" rule Streamlit's renderer applies to text after escapes are resolved
(mdast-util-gfm-autolink-literal) is replayed on every text node. The real renderer is checked in a
browser in tests/e2e/test_hostile_markdown.py.
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from logic.markdown import ZWSP, link_allowed, plain_text, refused_content, safe_markdown
from tests.context import KB

EVIL = "https://evil.example/pixel.png"

HOSTILE = [
    # images, every way of writing one
    f"![x]({EVIL})",
    f'![x]({EVIL} "title")',
    f"![x](<{EVIL}>)",
    f"![x]( {EVIL} )",
    f"![x][img]\n\n[img]: {EVIL}",
    f"![img]\n\n[img]: {EVIL}",
    f"![img][]\n\n[IMG]: {EVIL}",
    f"[![x]({EVIL})](https://ok.example)",
    "![x](//evil.example/a.png)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    f'<img src="{EVIL}">',
    f"<IMG SRC={EVIL}>",
    f"![a ![b]({EVIL})]({EVIL})",
    f"&#33;[x]({EVIL})",
    f"!&#91;x&#93;({EVIL})",
    # links with schemes other than https
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click]( javascript:alert(1) )",
    '[click](javascript:alert(1) "t")',
    "[click](javascript:alert%281%29)",
    "[click](data:text/html,<script>alert(1)</script>)",
    "[click](vbscript:msgbox)",
    "[click](http://evil.example)",
    "[click](mailto:someone@evil.example)",
    "[click](file:///etc/passwd)",
    "[click](//evil.example)",
    "[click](\\\\evil.example)",
    "[click](/\\evil.example)",
    "[click](\t//evil.example)",
    # reference-style
    "[click][r]\n\n[r]: javascript:alert(1)",
    "[r]\n\n[r]: javascript:alert(1)",
    "[click][r]\n\n[r]:\n  javascript:alert(1)",
    '[click][r]\n\n[r]: <javascript:alert(1)> "title"',
    "> [r]: javascript:alert(1)\n\n[r]",
    "- [r]: http://evil.example\n\n[r]",
    "[^1]\n\n[^1]: [x](javascript:y)",
    # autolinks and bare addresses
    "<javascript:alert(1)>",
    "<http://evil.example>",
    "<mailto:someone@evil.example>",
    "<someone@evil.example>",
    "http://evil.example/x",
    "HTTP://evil.example/x",
    "ftp://evil.example/x",
    "www.evil.example",
    "WWW.evil.example",
    "write to someone@evil.example",
    "http\\://evil.example",
    "http:\\/\\/evil.example",
    "www\\.evil.example",
    "someone\\@evil.example",
    "http&#58;//evil.example",
    "&#x77;ww.evil.example",
    "someone&#64;evil.example",
    "https://ok.example/?next=http://evil.example",
    # nesting and brackets
    "[a [b] c](javascript:x)",
    "[a](https://ok.example)[b](javascript:x)",
    "[[a](javascript:x)](https://ok.example)",
    "[a](https://ok.example) [b](javascript:x 't') [c](javascript:x (t))",
    "[a\\](javascript:x)",
    "`[a](javascript:x)`",
    "[" * 50 + "a](javascript:x)" + "]" * 50,
    # Streamlit's own directives and math
    ":red[x]",
    ':color[x]{foreground="red" background="url(https://evil.example/a.png)"}',
    ":blue-badge[x]",
    "::leaf[x]{src=https://evil.example}",
    ":::container\nx\n:::",
    ":material/home: :smile:",
    "$\\href{javascript:alert(1)}{x}$",
    "$$\\includegraphics{https://evil.example/a.png}$$",
    # raw HTML
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    "<!-- <img src=https://evil.example/a.png> -->",
]

ALLOWED = [
    ("[site](https://ok.example/a_b?x=1&y=2)", "https://ok.example/a_b?x=1&y=2"),
    ("[case](?case=new-dermatomyositis)", "?case=new-dermatomyositis"),
    ("[player](/player?case=x)", "/player?case=x"),
    ("[top](#top)", "#top"),
    ("[r]\n\n[r]: https://ok.example/ref", "https://ok.example/ref"),
    ("<https://ok.example/auto>", "https://ok.example/auto"),
    ("[spaced](</a b>)", "/a%20b"),
]


def rendered(markdown: str) -> list[Token]:
    """Every inline token CommonMark (plus tables and strikethrough) makes of the text."""
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # see every link, as Streamlit does
    out: list[Token] = []
    for token in md.parse(markdown):
        out.append(token)
        out.extend(token.children or [])
    return out


def gfm_autolinks(text: str) -> list[str]:
    """What mdast-util-gfm-autolink-literal (Streamlit's renderer) links in a text node."""
    urls = [m.group(0) for m in re.finditer(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", text, re.I)]
    emails = [m.group(0) for m in re.finditer(r"(?<![-.\w+])[-.\w+]+@[-\w]+(?:\.[-\w]+)+", text)]
    return urls + emails


def active_content(markdown: str) -> list[str]:
    found = []
    for token in rendered(markdown):
        if token.type == "image":
            found.append(f"image {token.attrGet('src')}")
        if token.type == "link_open":
            href = str(token.attrGet("href"))
            if not link_allowed(href):
                found.append(f"link {href}")
        if token.type == "html_inline" or token.type == "html_block":
            found.append(f"html {token.content}")
        if token.type == "text":
            found += [
                f"autolink {u}" for u in gfm_autolinks(token.content) if not u.lower().startswith("https://")
            ]
    return found


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_has_no_active_content_after_sanitising(text: str) -> None:
    safe = safe_markdown(text)
    assert active_content(safe) == [], safe
    assert "evil.example/pixel.png" not in " ".join(
        str(t.attrGet("src")) for t in rendered(safe) if t.type == "image"
    )


def test_the_corpus_is_hostile_before_sanitising() -> None:
    """Most of the corpus is active content as it stands (the rest targets Streamlit's own syntax)."""
    active = [text for text in HOSTILE if active_content(text)]
    assert len(active) >= 55, len(active)


@pytest.mark.parametrize(("text", "href"), ALLOWED)
def test_https_and_relative_links_stay_links(text: str, href: str) -> None:
    [link] = [t for t in rendered(safe_markdown(text)) if t.type == "link_open"]
    assert link.attrGet("href") == href or link.attrGet("href") == href.replace(" ", "%20")


def test_a_bare_https_address_is_left_to_become_a_link() -> None:
    text = "see https://ok.example/www.x/a_b?c=http://d.example now"
    assert safe_markdown(text) == text
    assert gfm_autolinks(text) == ["https://ok.example/www.x/a_b?c=http://d.example"]


def test_images_show_their_alt_text_and_links_their_text() -> None:
    assert safe_markdown(f"before ![a rash]({EVIL}) after") == "before \\[image: a rash\\] after"
    assert safe_markdown("[the guideline](javascript:alert(1))") == "the guideline"
    assert refused_content(f"![a rash]({EVIL}) [x](http://a.example)") == (
        f"image 'a rash' ({EVIL}): images are not shown",
        "link 'x' to 'http://a.example': only https and relative links are kept",
    )


@pytest.mark.parametrize(
    "text",
    [
        "Mrs K., 48, has **biopsy-proven** myositis; CK 2850 U/L (reference < 200).",
        "- one\n- two\n\n1. first\n2. second",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "*emphasis* and _more_ and `code` and ~~struck~~",
        "## A heading\n\n> a quote",
        "Premedicate with acetaminophen & diphenhydramine; 2 g/kg over 2–5 days.",
    ],
)
def test_ordinary_case_markdown_renders_the_same(text: str) -> None:
    assert MarkdownIt("commonmark").enable("table").render(safe_markdown(text)) == MarkdownIt(
        "commonmark"
    ).enable("table").render(text)


def test_the_shipped_cases_need_no_rewriting() -> None:
    from pathlib import Path

    from logic import load_library

    library = load_library([Path(__file__).resolve().parents[2] / "cases"], KB)
    for loaded in library.cases.values():
        case = loaded.case
        texts = [case.title, case.summary, *case.objectives]
        for stage in case.stages:
            texts += [stage.title, stage.narrative]
            texts += [q.prompt for q in stage.questions]
        for text in texts:
            assert not refused_content(text)
            assert ZWSP not in safe_markdown(text)


@pytest.mark.parametrize(
    "value",
    [
        "[click](https://evil.example)",
        "![x](https://evil.example/a.png)",
        "http://evil.example www.evil.example a@evil.example",
        "**bold** _it_ `code` # heading <b>x</b> :red[x] $x$",
        "line\nbreak",
    ],
)
def test_plain_text_renders_as_exactly_the_text(value: str) -> None:
    tokens = rendered(plain_text(value))
    assert [t.type for t in tokens if t.type not in ("paragraph_open", "paragraph_close", "inline")] == [
        "text"
    ]
    [text] = [t.content for t in tokens if t.type == "text"]
    assert text.replace(ZWSP, "") == " ".join(value.split())
    assert not gfm_autolinks(text)


@pytest.mark.timeout(60)
def test_sanitising_hostile_input_does_not_hang() -> None:
    """The work is linear (brackets paired in one pass, bounded patterns): 256 KiB of brackets, link
    openings, parentheses, images or "www." does not hang a page. (Speed itself is measured in bench/.)"""
    for text in ("[" * 260_000, "[a](" * 65_000, "[a](x" + "(" * 130_000, "![" * 130_000, "www." * 65_000):
        assert safe_markdown(text)
