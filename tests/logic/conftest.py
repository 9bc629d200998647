from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from logic import Patient
from tests.context import CONTEXT

ADULT_NEW_DM: dict[str, Any] = {
    "age": 54,
    "sex": "female",
    "weight_kg": 70,
    "height_cm": 165,
    "diagnosis": "dermatomyositis",
    "manifestations": ["skin", "muscle"],
    "severity": "moderate",
}


@pytest.fixture
def make_patient() -> Callable[..., Patient]:
    """A patient from the new adult DM baseline with any field overridden."""

    def make(**overrides: Any) -> Patient:
        return Patient.model_validate({**ADULT_NEW_DM, **overrides}, context=CONTEXT)

    return make
