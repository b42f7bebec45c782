"""Flood limits of the web channel: a sliding one-minute window per key (a conversation, a client
address), kept in this worker's memory.

Each worker counts for itself: with ``n`` workers behind a balancer a client gets at most ``n``
times the limit, which still bounds a flood; the engine's own per-conversation limit
(``dialogue.max_turns_per_minute``) is shared through the tracker.

Example:
    >>> window = RateWindow(2, 60.0)
    >>> [window.allow("s1", now=t) for t in (0.0, 1.0, 2.0, 61.0)]
    [True, True, False, True]
"""

from __future__ import annotations

import time
from collections import deque

__all__ = ["RateWindow"]

_MAX_KEYS = 100_000


class RateWindow:
    """At most ``limit`` events per ``seconds`` per key.

    Args:
        limit: events allowed in a window.
        seconds: the window's length.
    """

    def __init__(self, limit: int, seconds: float = 60.0) -> None:
        if limit <= 0:
            raise ValueError(f"limit must be > 0, got {limit}")
        if seconds <= 0:
            raise ValueError(f"seconds must be > 0, got {seconds}")
        self.limit = limit
        self.seconds = seconds
        self._hits: dict[str, deque[float]] = {}

    def allow(self, key: str, *, now: float | None = None) -> bool:
        """Count one event for ``key``; False (not counted) when the window is full."""
        now = time.monotonic() if now is None else now
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= _MAX_KEYS:
                self._forget(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def retry_after(self, key: str, *, now: float | None = None) -> int:
        """Seconds until ``key`` may send again (at least 1)."""
        now = time.monotonic() if now is None else now
        hits = self._hits.get(key)
        if not hits:
            return 1
        return max(1, int(hits[0] + self.seconds - now + 0.999))

    def _forget(self, now: float) -> None:
        """Drop keys whose window has passed (bounds memory under many addresses)."""
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.seconds]:
            del self._hits[key]
