"""Retry delays with jitter and a circuit breaker, for remote connectors.

The breaker counts consecutive failures (the service is down, timing out, answering 5xx or
nonsense); at ``failure_threshold`` it *opens* and every call fails at once for ``reset_after_s``;
then one trial call is let through (*half-open*): success closes it, failure opens it again.
Business answers (not found, refused) are successes for the breaker: the service is up.

Example:
    >>> breaker = CircuitBreaker(failure_threshold=2, reset_after_s=30)
    >>> breaker.record_failure(); breaker.record_failure()
    >>> breaker.allow()
    False
    >>> [round(d, 2) for d in backoff_delays(3, base_s=0.1, cap_s=1.0, rng=lambda: 1.0)]
    [0.1, 0.2, 0.4]
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator

__all__ = ["CircuitBreaker", "backoff_delays"]


def backoff_delays(retries: int, *, base_s: float, cap_s: float,
                   rng: Callable[[], float] = random.random) -> Iterator[float]:
    """``retries`` delays: "full jitter" exponential backoff, ``rng() * min(cap, base * 2**n)``."""
    for attempt in range(retries):
        yield rng() * min(cap_s, base_s * (2**attempt))


class CircuitBreaker:
    """A thread-safe consecutive-failure circuit breaker.

    Args:
        failure_threshold: consecutive failures that open the circuit.
        reset_after_s: how long it stays open before a trial call.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(self, failure_threshold: int = 5, reset_after_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failure_threshold <= 0:
            raise ValueError(f"failure_threshold must be > 0, got {failure_threshold}")
        if reset_after_s <= 0:
            raise ValueError(f"reset_after_s must be > 0, got {reset_after_s}")
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._clock() - self._opened_at >= self.reset_after_s else "open"

    def allow(self) -> bool:
        """True when a call may go out now (in half-open state: only one trial at a time)."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return True
            if state == "half_open" and not self._trial_in_flight:
                self._trial_in_flight = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._failures, self._opened_at, self._trial_in_flight = 0, None, False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial_in_flight = False
            if self._opened_at is not None or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
