"""What a routing step sees (:class:`Turn`) and what it decides (:class:`Decision`).

A decision carries the reply text and the *events* the turn produces; the engine commits them
with the user and bot utterances in one transaction. Handlers never mutate state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.auth import Actor
from engine.state.events import Event
from engine.state.tracker import DialogueState
from engine.types import NLUResult, Route, Source

__all__ = ["Turn", "Decision", "pick_listed"]


def pick_listed(listed: list[str], ordinal: int | None) -> str | None:
    """The item "the second one" / "the last one" (``ordinal`` 2 / -1) refers to in ``listed``."""
    if not ordinal or not listed:
        return None
    index = ordinal - 1 if ordinal > 0 else len(listed) + ordinal
    return listed[index] if 0 <= index < len(listed) else None


@dataclass(frozen=True)
class Turn:
    nlu: NLUResult
    state: DialogueState
    actor: Actor
    # what the dialogue-understanding stage read in context (engine.dialogue.Command), when it ran
    understood: Any = None

    @property
    def lang(self) -> str:
        return self.nlu.language

    @property
    def intent(self) -> str:
        return self.nlu.intent.intent


@dataclass
class Decision:
    text: str
    route: Route
    sources: list[Source] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    handoff_reason: str | None = None
    decided_by: str = ""
    keep_flow: bool = False  # the flow asked something and waits for the next turn
    generation: dict[str, Any] | None = None  # who wrote a generated text and why a model's answer was refused
    # the idempotency key of a write this turn made in a business system: the reply states it as
    # done even when the conversation store then fails to record the turn
    write: str | None = None
