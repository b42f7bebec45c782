""":class:`engine.web.board.Board` in Redis, for several ``shopassist serve`` workers.

Keys (prefix ``<tracker.key_prefix>web:``, by default ``shopassist:web:``): ``conv:<id>`` the conversation (JSON), ``seq:<id>`` its message
counter, ``msgs:<id>`` its transcript (a list of JSON, the last ``TRANSCRIPT_KEPT``), ``active``
the set of handed-off conversations, ``counters`` a hash, ``latency`` a list. Live frames go to the
channel ``ch:<id>``; each worker holds one pattern subscription and hands frames to its own
listeners, so an agent's message sent on one worker reaches a widget connected to another.

Example:
    >>> board = RedisBoard("redis://127.0.0.1:6379/0")                       # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from engine.web.board import LATENCIES_KEPT, TRANSCRIPT_KEPT, Conversation, LocalFanout, Subscription

__all__ = ["RedisBoard"]

log = logging.getLogger("shopassist.web")


class RedisBoard:
    """The board in Redis (``url``: ``redis://host:port/db``; ``prefix`` in front of every key)."""

    def __init__(self, url: str, *, prefix: str = "shopassist:web:") -> None:
        try:
            import redis.asyncio as aioredis
        except ImportError as exc:  # pragma: no cover - the extra names the fix
            raise ImportError("the shared web board needs redis: pip install 'shopassist[redis]'") from exc
        self._redis = aioredis.from_url(url, decode_responses=True)
        self._p = prefix
        self._fanout = LocalFanout()
        self._listener: asyncio.Task | None = None
        self._ready: asyncio.Event | None = None

    async def get(self, session_id: str) -> Conversation | None:
        raw = await self._redis.get(f"{self._p}conv:{session_id}")
        return Conversation.from_dict(json.loads(raw)) if raw else None

    async def put(self, conversation: Conversation) -> None:
        sid = conversation.session_id
        pipe = self._redis.pipeline()
        pipe.set(f"{self._p}conv:{sid}", json.dumps(conversation.to_dict()))
        if conversation.status == "bot":
            pipe.srem(f"{self._p}active", sid)
        else:
            pipe.sadd(f"{self._p}active", sid)
        await pipe.execute()

    async def claim(self, session_id: str, customer_id: str | None) -> Conversation:
        fresh = Conversation(session_id, customer_id=customer_id)
        await self._redis.set(f"{self._p}conv:{session_id}", json.dumps(fresh.to_dict()), nx=True)
        found = await self.get(session_id)
        return found if found is not None else fresh

    async def active(self) -> list[Conversation]:
        ids = sorted(await self._redis.smembers(f"{self._p}active"))
        if not ids:
            return []
        raws = await self._redis.mget([f"{self._p}conv:{i}" for i in ids])
        convs = [Conversation.from_dict(json.loads(r)) for r in raws if r]
        return sorted((c for c in convs if c.status != "bot"), key=lambda c: c.updated)

    async def append(self, session_id: str, message: dict[str, Any]) -> dict[str, Any]:
        seq = await self._redis.incr(f"{self._p}seq:{session_id}")
        message = {**message, "seq": seq, "ts": round(time.time(), 3)}
        text = json.dumps(message, ensure_ascii=False)
        pipe = self._redis.pipeline()
        pipe.rpush(f"{self._p}msgs:{session_id}", text)
        pipe.ltrim(f"{self._p}msgs:{session_id}", -TRANSCRIPT_KEPT, -1)
        pipe.publish(f"{self._p}ch:{session_id}", text)
        await pipe.execute()
        return message

    async def publish(self, session_id: str, frame: dict[str, Any]) -> None:
        await self._redis.publish(f"{self._p}ch:{session_id}", json.dumps(frame, ensure_ascii=False))

    async def history(self, session_id: str, after: int = 0) -> list[dict[str, Any]]:
        msgs = [json.loads(r) for r in await self._redis.lrange(f"{self._p}msgs:{session_id}", 0, -1)]
        return sorted((m for m in msgs if m.get("seq", 0) > after), key=lambda m: m["seq"])

    async def subscribe(self, session_id: str) -> Subscription:
        await self._listen()
        return self._fanout.add(session_id)

    async def _listen(self) -> None:
        """Start this worker's one pattern subscription (once) and wait until Redis confirms it."""
        if self._listener is None:
            self._ready = asyncio.Event()
            self._listener = asyncio.create_task(self._pump())
        assert self._ready is not None
        await self._ready.wait()

    async def _pump(self) -> None:
        assert self._ready is not None
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(f"{self._p}ch:*")
                async for item in pubsub.listen():
                    if item["type"] == "psubscribe":
                        self._ready.set()
                    elif item["type"] == "pmessage":
                        session_id = item["channel"][len(self._p) + 3:]
                        try:
                            self._fanout.deliver(session_id, json.loads(item["data"]))
                        except ValueError:
                            continue
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception as exc:  # Redis went away: listeners replay from their seq on reconnect
                log.warning("web live-message subscription lost (%s); retrying", type(exc).__name__)
                await asyncio.sleep(1.0)

    async def count(self, **fields: int) -> None:
        pipe = self._redis.pipeline()
        for k, v in fields.items():
            pipe.hincrby(f"{self._p}counters", k, v)
        await pipe.execute()

    async def counters(self) -> dict[str, int]:
        return {k: int(v) for k, v in (await self._redis.hgetall(f"{self._p}counters")).items()}

    async def latency(self, ms: float) -> None:
        pipe = self._redis.pipeline()
        pipe.lpush(f"{self._p}latency", round(ms, 2))
        pipe.ltrim(f"{self._p}latency", 0, LATENCIES_KEPT - 1)
        await pipe.execute()

    async def latencies(self) -> list[float]:
        return [float(x) for x in await self._redis.lrange(f"{self._p}latency", 0, -1)]

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except (asyncio.CancelledError, Exception):
                pass
        await self._redis.aclose()
