"""One lock per conversation, so turns of the same session never interleave.

:class:`SessionLocks` serialises the threads of one process: locks are created on demand and
dropped when no thread holds or waits for them, so the table does not grow with the number of
sessions ever seen. Several processes need the Redis-based
:class:`engine.state.redis_locks.RedisSessionLocks` instead; :func:`build_session_locks` picks one.

Example:
    >>> locks = SessionLocks()
    >>> with locks.hold("session-1"):
    ...     pass
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, runtime_checkable

__all__ = ["ConversationLocks", "SessionLocks", "build_session_locks"]


@runtime_checkable
class ConversationLocks(Protocol):
    def hold(self, session_id: str, timeout_s: float = 30.0) -> AbstractContextManager[None]:
        """Hold the session's lock; raises ``TimeoutError`` after ``timeout_s``."""
        ...


class SessionLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, session_id: str, timeout_s: float = 30.0) -> Iterator[None]:
        """Hold the session's lock; raises ``TimeoutError`` after ``timeout_s``."""
        with self._guard:
            lock, users = self._locks.get(session_id, (None, 0))
            if lock is None:
                lock = threading.Lock()
            self._locks[session_id] = (lock, users + 1)
        acquired = lock.acquire(timeout=timeout_s)
        try:
            if not acquired:
                raise TimeoutError(f"session {session_id!r} is busy")
            yield
        finally:
            if acquired:
                lock.release()
            with self._guard:
                lock_, users = self._locks[session_id]
                if users <= 1:
                    del self._locks[session_id]
                else:
                    self._locks[session_id] = (lock_, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


def build_session_locks(
    kind: str,
    url: str | None = None,
    *,
    lease_s: float = 10.0,
    key_prefix: str = "shopassist:",
    timeout_s: float = 2.0,
) -> ConversationLocks:
    """``local`` (this process's threads) or ``redis`` (every process sharing ``url``)."""
    if kind == "local":
        return SessionLocks()
    if kind == "redis":
        if not url:
            raise ValueError("redis session locks need a url (tracker.lock_url or tracker.url)")
        from .redis_locks import RedisSessionLocks

        return RedisSessionLocks(url, lease_s=lease_s, key_prefix=key_prefix, timeout_s=timeout_s)
    raise ValueError(f"unknown lock kind {kind!r}")
