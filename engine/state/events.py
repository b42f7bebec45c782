"""Conversation events: the only way state changes. A conversation is the replay of its events.

Each event is a frozen dataclass with a ``type`` tag and round-trips through ``to_dict`` /
:func:`event_from_dict`, so a tracker store can keep the log as JSON.

Example:
    >>> e = SlotSet("order_id", "100023")
    >>> event_from_dict(e.to_dict()) == e
    True
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

__all__ = [
    "Event",
    "UserUttered",
    "BotUttered",
    "SlotSet",
    "FlowStarted",
    "FlowCompleted",
    "HandoffRequested",
    "ConversationReset",
    "ConversationBound",
    "event_from_dict",
]

_REGISTRY: dict[str, type["Event"]] = {}


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"
    ts: float = field(default_factory=time.time, kw_only=True, compare=False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.type] = cls

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True)
class UserUttered(Event):
    type: ClassVar[str] = "user"
    text: str
    intent: str = ""
    confidence: float = 0.0
    language: str = "en"
    sentiment: float = 0.0
    model: str = ""  # the intent model version that classified the turn ("" when unversioned)


@dataclass(frozen=True)
class BotUttered(Event):
    type: ClassVar[str] = "bot"
    text: str
    route: str = "template"
    intent: str = ""
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlotSet(Event):
    type: ClassVar[str] = "slot"
    name: str
    value: Any = None


@dataclass(frozen=True)
class FlowStarted(Event):
    type: ClassVar[str] = "flow_started"
    name: str


@dataclass(frozen=True)
class FlowCompleted(Event):
    """The active flow ended (``outcome``: done | cancelled | failed)."""

    type: ClassVar[str] = "flow_completed"
    name: str
    outcome: str = "done"


@dataclass(frozen=True)
class HandoffRequested(Event):
    type: ClassVar[str] = "handoff"
    reason: str
    summary: str = ""


@dataclass(frozen=True)
class ConversationReset(Event):
    type: ClassVar[str] = "reset"


@dataclass(frozen=True)
class ConversationBound(Event):
    """The conversation belongs to this customer from now on (only they continue it)."""

    type: ClassVar[str] = "bound"
    customer_id: str


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from ``to_dict`` output; unknown types raise ``ValueError``."""
    cls = _REGISTRY.get(data.get("type", ""))
    if cls is None:
        raise ValueError(f"unknown event type {data.get('type')!r}")
    names = {f.name for f in fields(cls)}
    kwargs = {k: v for k, v in data.items() if k in names}
    if "sources" in kwargs and isinstance(kwargs["sources"], list):
        kwargs["sources"] = tuple(kwargs["sources"])
    return cls(**kwargs)
