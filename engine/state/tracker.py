"""The dialogue state of one conversation, built by applying events.

``DialogueState.apply`` is the only place that interprets events. The state keeps a bounded
window of recent turns (models never see the whole log; stores keep it).

Example:
    >>> s = DialogueState("s1").apply(SlotSet("order_id", "100023"))
    >>> s.slots["order_id"]
    '100023'
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .events import (
    BotUttered,
    ConversationBound,
    ConversationReset,
    Event,
    FlowCompleted,
    FlowStarted,
    HandoffRequested,
    SlotSet,
    UserUttered,
)

__all__ = ["DialogueState", "RECENT_TURNS_KEPT"]

#: customer turns of the last minute a state remembers (their times), for the per-minute limit
RECENT_TURNS_KEPT = 240
_MINUTE = 60.0


@dataclass(frozen=True)
class DialogueState:
    session_id: str
    slots: dict[str, Any] = field(default_factory=dict)
    active_flow: str | None = None
    history: tuple[tuple[str, str], ...] = ()  # (speaker, text), newest last, bounded
    turns: int = 0
    consecutive_fallbacks: int = 0
    handed_off: bool = False
    version: int = 0  # number of events applied
    window: int = 10
    # times of the customer turns of the last minute, oldest first (for the per-minute limit; kept
    # across a reset, and bookkeeping rather than dialogue, so equality ignores it)
    recent_turns: tuple[float, ...] = field(default=(), compare=False)
    # the customer the conversation belongs to (None: anonymous so far); kept across a reset
    customer_id: str | None = None

    def turns_within(self, seconds: float, now: float) -> int:
        """Committed customer turns in the ``seconds`` before ``now`` (at most the last minute)."""
        return sum(1 for ts in self.recent_turns if ts > now - seconds)

    def apply(self, event: Event) -> "DialogueState":
        s = self
        if isinstance(event, UserUttered):
            s = replace(
                s,
                history=(s.history + (("user", event.text[:500]),))[-2 * s.window :],
                turns=s.turns + 1,
                recent_turns=tuple(ts for ts in s.recent_turns if ts > event.ts - _MINUTE)[1 - RECENT_TURNS_KEPT:]
                + (event.ts,),
            )
        elif isinstance(event, BotUttered):
            fallback = event.route == "fallback"
            s = replace(
                s,
                history=(s.history + (("bot", event.text[:500]),))[-2 * s.window :],
                consecutive_fallbacks=s.consecutive_fallbacks + 1 if fallback else 0,
            )
        elif isinstance(event, SlotSet):
            slots = dict(s.slots)
            if event.value is None:
                slots.pop(event.name, None)
            else:
                slots[event.name] = event.value
            s = replace(s, slots=slots)
        elif isinstance(event, FlowStarted):
            s = replace(s, active_flow=event.name)
        elif isinstance(event, FlowCompleted):
            s = replace(s, active_flow=None)
        elif isinstance(event, HandoffRequested):
            s = replace(s, handed_off=True, active_flow=None, consecutive_fallbacks=0)
        elif isinstance(event, ConversationReset):
            # a reset starts the dialogue afresh, not the rate limit or who the conversation belongs to
            s = DialogueState(self.session_id, window=self.window, recent_turns=s.recent_turns,
                              customer_id=s.customer_id)
        elif isinstance(event, ConversationBound):
            s = replace(s, customer_id=event.customer_id)
        return replace(s, version=self.version + 1)

    def apply_all(self, events: list[Event]) -> "DialogueState":
        s = self
        for e in events:
            s = s.apply(e)
        return s

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "slots": self.slots,
            "active_flow": self.active_flow,
            "history": [list(h) for h in self.history],
            "turns": self.turns,
            "consecutive_fallbacks": self.consecutive_fallbacks,
            "handed_off": self.handed_off,
            "version": self.version,
            "window": self.window,
            "recent_turns": list(self.recent_turns),
            "customer_id": self.customer_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DialogueState":
        return cls(
            session_id=data["session_id"],
            slots=dict(data.get("slots") or {}),
            active_flow=data.get("active_flow"),
            history=tuple((h[0], h[1]) for h in data.get("history") or ()),
            turns=int(data.get("turns", 0)),
            consecutive_fallbacks=int(data.get("consecutive_fallbacks", 0)),
            handed_off=bool(data.get("handed_off", False)),
            version=int(data.get("version", 0)),
            window=int(data.get("window", 10)),
            recent_turns=tuple(float(t) for t in data.get("recent_turns") or ()),
            customer_id=data.get("customer_id") if isinstance(data.get("customer_id"), str) else None,
        )
