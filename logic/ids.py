"""Ids a person writes (agents, actions, monitoring items, sources), checked against a knowledge base.

The knowledge base is never looked up from a global: a model holding these ids is validated with it in
pydantic's validation context, ``Model.model_validate(data, context={"kb": kb})``, and each validator
reads it from ``info.context``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationInfo

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


def known_agent(value: str, info: ValidationInfo) -> str:
    agents = context_kb(info).agents
    if value not in agents:
        raise ValueError(f"unknown agent {value!r}{did_you_mean(value, agents)}")
    return value


def known_action(value: str, info: ValidationInfo) -> str:
    actions = context_kb(info).actions
    if value not in actions:
        raise ValueError(f"unknown action {value!r}{did_you_mean(value, actions)}")
    return value


def known_option(value: str, info: ValidationInfo) -> str:
    """An agent or an action: what a next-step or ordering question offers."""
    kb = context_kb(info)
    if value in kb.agents or value in kb.actions:
        return value
    hint = did_you_mean(value, kb.option_ids)
    what = "action" if any(f"'{x}'" in hint for x in kb.actions) else "agent"
    raise ValueError(f"unknown {what} {value!r}{hint}")


def known_monitoring(value: str, info: ValidationInfo) -> str:
    items = context_kb(info).monitoring
    if value not in items:
        raise ValueError(f"unknown monitoring item {value!r}{did_you_mean(value, items)}")
    return value


def known_source(value: str, info: ValidationInfo) -> str:
    sources = context_kb(info).sources
    if value not in sources:
        raise ValueError(f"unknown source {value!r}{did_you_mean(value, sources)}")
    return value


AgentId = Annotated[str, AfterValidator(known_agent)]
ActionId = Annotated[str, AfterValidator(known_action)]
OptionId = Annotated[str, AfterValidator(known_option)]
MonitoringId = Annotated[str, AfterValidator(known_monitoring)]
SourceId = Annotated[str, AfterValidator(known_source)]
