"""Fixtures shared by every test folder."""

from __future__ import annotations

import pytest

from logic import KnowledgeBase
from tests.context import KB


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """The packaged knowledge base (the tests' composition point)."""
    return KB
