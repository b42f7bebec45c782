"""Event-log retention, and rebuilding a state from what the log still holds.

Every store keeps a session's full event log unless a :class:`Retention` says otherwise. With one,
each commit also stores a *checkpoint* — the state just before the turn (the caller's state,
whose version the store has just verified) — and prunes events the checkpoint already covers:
those beyond the newest ``max_events``, and those older than ``max_age_days``. The newest turn's
events are never pruned, so *checkpoint + the events after it* always rebuilds the state when the
snapshot itself is unreadable. Loading never reads the log: the snapshot is the fast path, the
log is the audit trail and the fallback.

Example:
    >>> r = Retention(max_events=100)
    >>> r.prune_through(new_version=250, checkpoint_version=246)
    150
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from .events import Event
from .tracker import DialogueState

__all__ = ["Retention", "rebuild_state"]

log = logging.getLogger("shopassist.state")

_DAY_S = 86_400.0


@dataclass(frozen=True)
class Retention:
    """How much of each session's event log a tracker store keeps.

    Args:
        max_events: keep at least the newest ``max_events`` events per session; None keeps all.
        max_age_days: drop events older than this many days (by the event's timestamp, checked
            when the session next commits); None keeps them.

    Example:
        >>> Retention().enabled, Retention(max_age_days=30).enabled
        (False, True)
    """

    max_events: int | None = None
    max_age_days: float | None = None

    def __post_init__(self) -> None:
        if self.max_events is not None and self.max_events <= 0:
            raise ValueError(f"max_events must be > 0 or None, got {self.max_events}")
        if self.max_age_days is not None and self.max_age_days <= 0:
            raise ValueError(f"max_age_days must be > 0 or None, got {self.max_age_days}")

    @property
    def enabled(self) -> bool:
        return self.max_events is not None or self.max_age_days is not None

    def prune_through(self, new_version: int, checkpoint_version: int) -> int:
        """The highest event seq the count limit drops (0: none); never past the checkpoint."""
        if self.max_events is None:
            return 0
        return max(0, min(checkpoint_version, new_version - self.max_events))

    def cutoff_ts(self, now: float | None = None) -> float | None:
        """Events with a timestamp before this may be dropped (None: no age limit)."""
        if self.max_age_days is None:
            return None
        return (time.time() if now is None else now) - self.max_age_days * _DAY_S


def rebuild_state(
    session_id: str,
    window: int,
    checkpoint: dict[str, Any] | None,
    events: list[tuple[int, Event]],
) -> DialogueState:
    """Rebuild a state from a checkpoint (or nothing) and ``(seq, event)`` pairs, oldest first.

    With a readable checkpoint, the events after it are applied to it. Without one, a complete
    log (first seq 1) is replayed from the start. A log whose head was pruned and that has no
    readable checkpoint is replayed from an empty state as the best that can be done (recent
    slots and history survive), numbered so that the next commit fits; this is logged.
    """
    if checkpoint is not None:
        try:
            base = DialogueState.from_dict(checkpoint)
        except (ValueError, KeyError, TypeError, IndexError):
            base = None
        if base is not None and base.session_id == session_id:
            return base.apply_all([e for seq, e in events if seq > base.version])
    state = DialogueState(session_id, window=window).apply_all([e for _, e in events])
    if events and events[0][0] != 1:
        log.warning("session %s: snapshot and checkpoint unreadable and the log was pruned; "
                    "rebuilt from the %d retained events", session_id, len(events))
        state = replace(state, version=events[-1][0])
    return state
