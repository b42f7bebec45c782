"""Redis tracker store (redis-py), for several engine processes sharing one Redis.

Per session, two keys that share a hash tag (so a Redis Cluster keeps them on one node):
``<prefix>tracker:{<session>}:snap``, a hash with the latest state, its version and the retention
checkpoint, and ``<prefix>tracker:{<session>}:events``, a list of the events as JSON, oldest first
(the seq of an element is derived from the version and the list length). A commit is one Lua
script, which Redis runs atomically: it checks the stored version, appends the events, writes the
snapshot and prunes by retention — or, on a version mismatch, changes nothing. Feedback goes to a
Redis **stream**, ``<prefix>tracker:{feedback}:stream`` (one entry per record, ids from a counter),
written by a script as well.

Durability is the server's: with ``appendonly yes`` (AOF, ``appendfsync everysec`` or
``always``) a committed turn survives a Redis restart; a cache-only Redis (no AOF, no RDB) keeps
conversations only while it runs. Socket timeouts are bounded by ``timeout_s``, with at most one
quick reconnect, so a Redis that is down surfaces as :class:`engine.errors.StoreError` at once.

Example:
    >>> store = RedisTrackerStore("redis://127.0.0.1:6379/0")                   # doctest: +SKIP
    >>> state = store.commit(store.load("s1"), [UserUttered("hi")])              # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from engine.errors import ConfigError, StoreError

from .events import Event
from .retention import Retention, rebuild_state
from .sealing import Sealer, process_sealer
from .stores import (
    FEEDBACK_FIELDS,
    check_common,
    conflict,
    decode_events,
    dump_json,
    parse_checkpoint,
    parse_state,
)
from .tracker import DialogueState

__all__ = ["RedisTrackerStore", "connect_redis"]

log = logging.getLogger("shopassist.state.redis")

# KEYS: snapshot hash, event list.
# ARGV: expected version, new version, state, checkpoint ('' = no retention), now,
#       keep-newest count (0 = no count limit), age cutoff ts ('' = none), event JSON...
_COMMIT = """
local cur = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
local v = tonumber(ARGV[1])
if cur ~= v then return {0, cur} end
local n = tonumber(ARGV[2])
for i = 8, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'state', ARGV[3], 'updated_at', ARGV[5])
if ARGV[4] == '' then return {1, 0} end
redis.call('HSET', KEYS[1], 'checkpoint', ARGV[4], 'checkpoint_version', ARGV[1])
local first = n - redis.call('LLEN', KEYS[2]) + 1
local cut = first - 1
local keep = tonumber(ARGV[6])
if keep > 0 then cut = math.max(cut, math.min(v, n - keep)) end
if ARGV[7] ~= '' then
  local cutoff = tonumber(ARGV[7])
  while cut < v do
    local ok, ev = pcall(cjson.decode, redis.call('LINDEX', KEYS[2], cut + 1 - first))
    if not ok or type(ev) ~= 'table' or type(ev['ts']) ~= 'number' or ev['ts'] >= cutoff then break end
    cut = cut + 1
  end
end
if cut >= first then redis.call('LTRIM', KEYS[2], cut - first + 1, -1) end
return {1, cut - first + 1}
"""

# KEYS: feedback stream, id counter. ARGV: the record as JSON without its id.
_FEEDBACK = """
local id = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '*', 'id', id, 'record', ARGV[1])
return id
"""


def connect_redis(url: str, *, timeout_s: float = 2.0) -> Any:
    """A ``redis.Redis`` for ``url`` with bounded timeouts and at most one quick reconnect.

    Raises:
        ConfigError: redis-py is not installed (the message names ``shopassist[redis]``).
        ValueError: ``url`` is not a redis:// (rediss://, unix://) URL.
    """
    if not url or not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"url must be a redis:// URL, got {url!r:.40}")
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    try:
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry
    except ImportError as exc:
        raise ConfigError("Redis support needs redis-py: pip install 'shopassist[redis]'") from exc
    # redis-py's default retries back off for seconds; a turn should fail fast instead. One quick
    # retry covers a pooled connection that a server restart closed. A retried commit is safe:
    # its version check refuses a second application.
    retry = Retry(ExponentialBackoff(cap=0.05, base=0.01), 1, supported_errors=(redis.ConnectionError,))
    return redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                retry=retry, health_check_interval=30)


def redis_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.RedisError,)


class RedisTrackerStore:
    """Durable (with AOF) store in Redis, shared by any number of processes.

    Args:
        url: ``redis://[:password@]host:6379/0`` (``rediss://`` for TLS).
        window: turns of history a state keeps.
        retention: how much of each event log to keep (default: all of it).
        timeout_s: bound on connecting and on each command.
        key_prefix: put in front of every key (several deployments can share one Redis).
        sealer: masks and encrypts what is written (default: :func:`process_sealer`).

    Example:
        >>> store = RedisTrackerStore("redis://127.0.0.1:6379/0", key_prefix="shop-a:")  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        window: int = 10,
        retention: Retention | None = None,
        timeout_s: float = 2.0,
        key_prefix: str = "shopassist:",
        sealer: Sealer | None = None,
    ) -> None:
        check_common(window)
        self._sealer = sealer or process_sealer()
        self._client = connect_redis(url, timeout_s=timeout_s)
        self._errors = redis_errors()
        self._window = window
        self._retention = retention or Retention()
        self._prefix = key_prefix + "tracker:"
        self._commit_script = self._client.register_script(_COMMIT)
        self._feedback_script = self._client.register_script(_FEEDBACK)
        self._feedback_key = self._prefix + "{feedback}:stream"
        self._feedback_seq = self._prefix + "{feedback}:seq"
        try:
            self._client.ping()
        except self._errors as exc:
            raise StoreError(f"cannot reach the redis tracker store: {type(exc).__name__}: {exc}") from exc

    def __repr__(self) -> str:
        kw = self._client.connection_pool.connection_kwargs
        return f"RedisTrackerStore(host={kw.get('host')!r}, port={kw.get('port')!r}, db={kw.get('db')!r})"

    def _keys(self, session_id: str) -> tuple[str, str]:
        base = f"{self._prefix}{{{session_id}}}"
        return base + ":snap", base + ":events"

    def _unavailable(self, exc: BaseException) -> StoreError:
        return StoreError(f"tracker store unavailable: {type(exc).__name__}: {exc}")

    def load(self, session_id: str) -> DialogueState:
        snap, _ = self._keys(session_id)
        try:
            text = self._client.hget(snap, "state")
            if text is None:
                return DialogueState(session_id, window=self._window)
            return parse_state(text, self._sealer) or self._replay(session_id)
        except self._errors as exc:
            raise self._unavailable(exc) from exc

    def _replay(self, session_id: str) -> DialogueState:
        """Rebuild a state from the checkpoint and the events after it (snapshot unreadable)."""
        snap, events_key = self._keys(session_id)
        pipe = self._client.pipeline(transaction=True)  # one consistent view of both keys
        pipe.hmget(snap, "version", "checkpoint")
        pipe.lrange(events_key, 0, -1)
        (version, checkpoint), rows = pipe.execute()
        events = decode_events(session_id, rows, self._sealer)
        first = int(version or 0) - len(events) + 1
        return rebuild_state(session_id, self._window, parse_checkpoint(checkpoint, self._sealer),
                             [(first + i, e) for i, e in enumerate(events)])

    def commit(self, state: DialogueState, events: list[Event], *,
               feedback: Sequence[dict[str, Any]] = ()) -> DialogueState:
        new = state.apply_all(events)
        sealed = self._sealer.seal_turn(state, events, new, feedback)
        sid, v = state.session_id, state.version
        snap, events_key = self._keys(sid)
        try:
            if not events:
                if int(self._client.hget(snap, "version") or 0) != v:
                    raise conflict(sid)
                return state
            keep = self._retention.enabled
            cutoff = self._retention.cutoff_ts()
            ok, _ = self._commit_script(keys=[snap, events_key], args=[
                v, new.version, dump_json(sealed.state),
                dump_json(sealed.checkpoint) if keep else "", repr(time.time()),
                self._retention.max_events or 0, "" if cutoff is None else repr(cutoff),
                *(dump_json(d) for d in sealed.events),
            ])
        except self._errors as exc:
            raise StoreError(f"tracker store could not commit: {type(exc).__name__}: {exc}") from exc
        if not ok:
            raise conflict(sid)
        if events:
            self._feedback_after_commit(sealed.feedback)
        return new

    def _feedback_after_commit(self, feedback: Sequence[dict[str, Any]]) -> None:
        """Feedback captured with a committed turn, written right after it (the feedback stream
        lives in its own hash slot, so one script cannot write both in a Redis Cluster); one
        retry, then a logged error: the turn itself is stored and must not be reported failed."""
        for record in feedback:
            for attempt in (1, 2):
                try:
                    self.add_feedback(record)
                    break
                except StoreError as exc:
                    if attempt == 2:
                        log.error("turn captured for review not stored (session %s, reason %s): %s",
                                  str(record.get("session_id"))[:40], record.get("reason"), exc)

    def events(self, session_id: str, *, last: int | None = None) -> list[Event]:
        check_common(self._window, last)
        _, events_key = self._keys(session_id)
        try:
            rows = self._client.lrange(events_key, -last if last else 0, -1)
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        return decode_events(session_id, rows, self._sealer)

    def add_feedback(self, record: dict[str, Any]) -> int:
        record = self._sealer.seal_feedback(record)
        body = dump_json({**{c: record.get(c) for c in FEEDBACK_FIELDS}, "created_at": time.time()})
        try:
            return int(self._feedback_script(keys=[self._feedback_key, self._feedback_seq], args=[body]))
        except self._errors as exc:
            raise StoreError(f"could not store feedback: {type(exc).__name__}: {exc}") from exc

    def feedback(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """Feedback records oldest first; reads the stream in pages (it is not on the turn path)."""
        out: list[dict[str, Any]] = []
        start = "-"
        try:
            while True:
                page = self._client.xrange(self._feedback_key, start, "+", count=500)
                for entry_id, fields in page:
                    record = json.loads(fields[b"record"])
                    if session_id is None or record.get("session_id") == session_id:
                        out.append({"id": int(fields[b"id"]), **record})
                if len(page) < 500:
                    return out
                start = "(" + page[-1][0].decode()
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        except (ValueError, KeyError) as exc:
            raise StoreError(f"feedback stream is damaged: {exc}") from exc

    def close(self) -> None:
        self._client.close()
