"""Bad case files an author can make, each with the ONE message (and its line) the CLI and the Author
page must give: shared by tests/logic/test_authoring_cli.py and tests/dashboard/test_author_page.py."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from logic import yamlsource
from logic.authoring import scaffold

# Duplicate keys are refused by the loader hardening of issue 7 (branch `hardening`: a strict loader in
# logic/yamlsource.py). Until it is on this branch, that one bad input is expected to fail, strictly.
HARDENED = hasattr(yamlsource, "StrictLoader")

GOOD = scaffold("bad-case", "adult")


def _swap(old: str, new: str, text: str = GOOD) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


@dataclass(frozen=True)
class BadInput:
    name: str
    content: bytes
    line: int
    says: str  # a fragment of the one message
    file_name: str = "bad-case.yaml"

    @property
    def text(self) -> str | None:
        """The content as editor text (None when it is not UTF-8 text)."""
        try:
            return self.content.decode("utf-8")
        except UnicodeDecodeError:
            return None


def _b(text: str) -> bytes:
    return text.encode("utf-8")


BAD_INPUTS = [
    BadInput(
        "malformed-yaml",
        _b(_swap("options: [prednisone, rituximab, upadacitinib]", "options: [prednisone, rituximab")),
        37,
        "invalid YAML",
    ),
    BadInput("tab-indent", _b(_swap("  age: 54 ", "\tage: 54 ")), 16, "tab"),
    BadInput(
        "duplicate-key",
        _b(_swap("  weight_kg: 70\n", "  weight_kg: 70\n  weight_kg: 72\n")),
        19,
        "duplicate key",
    ),
    BadInput(
        "unknown-agent",
        _b(_swap("[prednisone, rituximab, upadacitinib]", "[prednisone, ritux, upadacitinib]")),
        36,
        "did you mean 'rituximab'",
    ),
    BadInput(
        "question-without-options",
        _b(
            _swap(
                "        options: [prednisone, rituximab, upadacitinib]   # agent/action ids; the logic grades each\n",
                "",
            )
        ),
        33,
        "options",
    ),
    BadInput(
        "change-of-unknown-field",
        _b(_swap("      months_pass: 3", "      month_pass: 3")),
        49,
        "unknown field",
    ),
    BadInput(
        "alias-bomb",
        _b(_swap("tags: [first-line]", "tags: &a [first-line, first-line]\nobjectives_x: [*a, *a, *a, *a]")),
        10,
        "anchors and aliases",
    ),
    BadInput("over-size-limit", _b(GOOD + "# " + "x" * (300 * 1024) + "\n"), 1, "at most 256 KiB"),
    BadInput(
        "not-utf-8",
        _b(GOOD).replace(b"Write what the learner", b"Write wh\xe4t the learner"),
        27,
        "not UTF-8",
    ),
    BadInput("file-name-not-an-id", _b(GOOD), 1, "not a valid case id", file_name="Bad Case.yaml"),
]


def params(inputs: list[BadInput]) -> list[object]:
    """The bad inputs as pytest parameters, duplicate keys expected to fail until the hardening lands."""
    pending = pytest.mark.xfail(
        not HARDENED, reason="duplicate keys: loader hardening (issue 7)", strict=True
    )
    return [pytest.param(b, id=b.name, marks=[pending] if b.name == "duplicate-key" else []) for b in inputs]
