"""Per-conversation locks in Redis, so turns of one session never interleave across processes.

The same ``hold(session_id, timeout_s)`` context manager as :class:`engine.state.locks.SessionLocks`,
built on the single-instance Redis lock pattern: ``SET <key> <token> NX PX <lease>`` with a random
token; only the owner releases (a Lua compare-and-delete) or renews (compare-and-``PEXPIRE``). While
a turn runs, a daemon thread renews the lease every third of it, so a slow turn keeps its lock and
a crashed worker's lock expires by itself after one lease. Waiters poll with a short capped backoff.

A lock that is lost anyway (the worker stalled for longer than a lease) cannot lose a turn: every
store's commit is also guarded by the snapshot version, so the late writer is refused and retried
by the customer, never merged over the other turn.

Example:
    >>> locks = RedisSessionLocks("redis://127.0.0.1:6379/0")                     # doctest: +SKIP
    >>> with locks.hold("session-1", timeout_s=5):                                # doctest: +SKIP
    ...     pass
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from engine.errors import StoreError

from .redis_store import connect_redis, redis_errors

__all__ = ["RedisSessionLocks"]

log = logging.getLogger("shopassist.state")

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class RedisSessionLocks:
    """One Redis lock per conversation, shared by every process that uses the same Redis.

    Args:
        url: ``redis://host:6379/0`` (usually the tracker store's Redis).
        lease_s: how long a lock lives without renewal (a crashed holder frees it after this).
        key_prefix: put in front of every key.
        timeout_s: socket timeout for each Redis command.
        renew: renew the lease while the lock is held (on by default).

    Example:
        >>> locks = RedisSessionLocks(url, lease_s=10)                            # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        lease_s: float = 10.0,
        key_prefix: str = "shopassist:",
        timeout_s: float = 2.0,
        renew: bool = True,
    ) -> None:
        if lease_s < 0.05:
            raise ValueError(f"lease_s must be >= 0.05, got {lease_s}")
        self._client = connect_redis(url, timeout_s=timeout_s)
        self._errors = redis_errors()
        self._lease_ms = int(lease_s * 1000)
        self._prefix = key_prefix + "lock:"
        self._renew = renew
        self._release_script = self._client.register_script(_RELEASE)
        self._renew_script = self._client.register_script(_RENEW)
        self._held = 0
        self._count_lock = threading.Lock()

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}{{{session_id}}}"

    @contextmanager
    def hold(self, session_id: str, timeout_s: float = 30.0) -> Iterator[None]:
        """Hold the session's lock.

        Raises:
            TimeoutError: another holder kept it for ``timeout_s``.
            StoreError: Redis cannot be reached.
        """
        key, token = self._key(session_id), secrets.token_hex(16)
        self._acquire(key, token, session_id, timeout_s)
        with self._count_lock:
            self._held += 1
        stop = threading.Event()
        renewer = None
        if self._renew:
            renewer = threading.Thread(target=self._keep_alive, args=(key, token, stop),
                                       name=f"lock-renew-{session_id[:20]}", daemon=True)
            renewer.start()
        try:
            yield
        finally:
            stop.set()
            if renewer is not None:
                renewer.join()
            with self._count_lock:
                self._held -= 1
            try:
                self._release_script(keys=[key], args=[token])
            except self._errors as exc:  # the lease frees it; the turn itself is already stored
                log.warning("could not release the lock of %s (%s); it expires in %d ms",
                            session_id, type(exc).__name__, self._lease_ms)

    def _acquire(self, key: str, token: str, session_id: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        pause = 0.002
        while True:
            try:
                if self._client.set(key, token, nx=True, px=self._lease_ms):
                    return
            except self._errors as exc:
                raise StoreError(f"session lock unavailable: {type(exc).__name__}: {exc}") from exc
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"session {session_id!r} is busy")
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.05)

    def _keep_alive(self, key: str, token: str, stop: threading.Event) -> None:
        interval = self._lease_ms / 3000
        while not stop.wait(interval):
            try:
                if not self._renew_script(keys=[key], args=[token, self._lease_ms]):
                    log.warning("lost the lock %s before the turn ended; the version check still "
                                "guards the commit", key)
                    return
            except self._errors as exc:
                log.warning("could not renew the lock %s: %s", key, type(exc).__name__)

    def __len__(self) -> int:
        """Locks this process holds right now."""
        return self._held

    def close(self) -> None:
        self._client.close()
