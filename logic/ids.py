"""Ids a person writes (agents, actions, monitoring items, sources), checked against a knowledge base.

The knowledge base is never looked up from a global: a model holding these ids is validated with it in
pydantic's validation context, ``Model.model_validate(data, context={"kb": kb})``, and each validator
reads it from ``info.context``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from .knowledge import KnowledgeBase


class MissingKnowledgeBase(TypeError):
    """A model with knowledge-base ids was validated without ``context={"kb": kb}``: a programming error."""


def validation_context(kb: KnowledgeBase) -> dict[str, Any]:
    """The validation context that case and patient models need: ``Model.model_validate(data, context=...)``."""
    return {"kb": kb}


def context_kb(info: ValidationInfo) -> KnowledgeBase:
    """The knowledge base a model is being validated against."""
    context = info.context
    kb = context.get("kb") if isinstance(context, Mapping) else None
    if not isinstance(kb, KnowledgeBase):
        raise MissingKnowledgeBase(
            "validating ids needs the knowledge base: Model.model_validate(data, context={'kb': kb})"
        )
    return kb


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or nothing."""
    names = [str(c) for c in choices]
    match = difflib.get_close_matches(value, names, n=1, cutoff=0.5)
    if not match:
        match = [n for n in names if n.startswith(value[:4])][:1] if len(value) >= 4 else []
    return f" (did you mean {match[0]!r}?)" if match else ""


def _known(
    what: str, table: Callable[[KnowledgeBase], Mapping[str, object]]
) -> Callable[[str, ValidationInfo], str]:
    """A validator: the value is an id of ``table`` in the context's knowledge base (or a clear error)."""

    def check(value: str, info: ValidationInfo) -> str:
        ids = table(context_kb(info))
        if value not in ids:
            raise ValueError(f"unknown {what} {value!r}{did_you_mean(value, ids)}")
        return value

    return check


known_agent = _known("agent", lambda kb: kb.agents)
known_action = _known("action", lambda kb: kb.actions)
known_monitoring = _known("monitoring item", lambda kb: kb.monitoring)
known_source = _known("source", lambda kb: kb.sources)
known_claim = _known("claim", lambda kb: {c.id: c for c in kb.claims})


def known_option(value: str, info: ValidationInfo) -> str:
    """An agent or an action: what a next-step or ordering question offers."""
    kb = context_kb(info)
    if value in kb.agents or value in kb.actions:
        return value
    hint = did_you_mean(value, kb.option_ids)
    what = "action" if any(f"'{x}'" in hint for x in kb.actions) else "agent"
    raise ValueError(f"unknown {what} {value!r}{hint}")


class KbIds:
    """Marks an id type in the JSON schema (``"x-kb-ids": "agents"``): logic/schema.py replaces the mark
    with the ids of a knowledge base, so an editor can complete and check them."""

    def __init__(self, *tables: str) -> None:
        self.tables = tables

    def __get_pydantic_json_schema__(
        self, core: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core)
        schema["x-kb-ids"] = list(self.tables)
        return schema


AgentId = Annotated[str, AfterValidator(known_agent), KbIds("agents")]
ActionId = Annotated[str, AfterValidator(known_action), KbIds("actions")]
OptionId = Annotated[str, AfterValidator(known_option), KbIds("agents", "actions")]
MonitoringId = Annotated[str, AfterValidator(known_monitoring), KbIds("monitoring")]
SourceId = Annotated[str, AfterValidator(known_source), KbIds("sources")]
ClaimId = Annotated[str, AfterValidator(known_claim), KbIds("claims")]
