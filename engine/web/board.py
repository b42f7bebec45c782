"""The web channel's shared record of conversations: who owns each, whether a person has it, its
transcript (numbered messages, replayed to a widget that reconnects), live frames, and counters
for the dashboard.

:class:`Board` is the protocol; :class:`MemoryBoard` keeps all of it in this process (one worker),
:class:`engine.web.redis_board.RedisBoard` in Redis, with pub/sub carrying live frames between
workers. Every message a customer sees is appended (numbered by the board, ``seq``) before it is
sent, so a widget that was away asks for what came after its last ``seq`` and loses nothing.

Example:
    >>> board = MemoryBoard()
    >>> msg = asyncio.run(board.append("s1", {"type": "message", "from": "user", "text": "hi"}))
    >>> msg["seq"]
    1
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Protocol

__all__ = ["Board", "MemoryBoard", "Conversation", "Status", "Subscription", "LocalFanout",
           "TRANSCRIPT_KEPT", "LATENCIES_KEPT"]

Status = Literal["bot", "queued", "agent"]
TRANSCRIPT_KEPT = 500  # messages kept per conversation for replay
LATENCIES_KEPT = 2000  # reply latencies kept for the dashboard
_QUEUE_FRAMES = 256  # frames buffered for one slow WebSocket before it is dropped


@dataclass(frozen=True)
class Conversation:
    """One web conversation as the channel sees it (the dialogue itself is the tracker's)."""

    session_id: str
    customer_id: str | None = None  # its owner; None: anonymous
    status: Status = "bot"
    agent: str | None = None  # the agent it is assigned to (status "agent")
    reason: str = ""  # why it was handed off
    summary: str = ""  # the engine's hand-off summary (masked)
    sentiment: str = "neutral"
    language: str = "en"
    updated: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Conversation":
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})

    def but(self, **changes: Any) -> "Conversation":
        return replace(self, updated=time.time(), **changes)


class Subscription:
    """Live frames of one conversation for one listener; :meth:`close` when done."""

    def __init__(self, fanout: "LocalFanout", session_id: str) -> None:
        self.session_id = session_id
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE_FRAMES)
        self.overflowed = False
        self._fanout = fanout

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()

    def close(self) -> None:
        self._fanout.remove(self)


class LocalFanout:
    """This process's listeners per conversation (a full queue marks its listener overflowed)."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}

    def add(self, session_id: str) -> Subscription:
        sub = Subscription(self, session_id)
        self._subs.setdefault(session_id, set()).add(sub)
        return sub

    def remove(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.session_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.session_id]

    def deliver(self, session_id: str, frame: dict[str, Any]) -> None:
        for sub in list(self._subs.get(session_id, ())):
            try:
                sub.queue.put_nowait(frame)
            except asyncio.QueueFull:
                sub.overflowed = True  # the socket reconnects and replays from its last seq

    @property
    def listeners(self) -> int:
        return sum(len(s) for s in self._subs.values())


class Board(Protocol):
    """Where web conversations, their transcripts and live frames are shared."""

    async def get(self, session_id: str) -> Conversation | None: ...

    async def put(self, conversation: Conversation) -> None: ...

    async def claim(self, session_id: str, customer_id: str | None) -> Conversation:
        """The conversation, created for ``customer_id`` if new (first writer wins)."""
        ...

    async def active(self) -> list[Conversation]:
        """Conversations handed off (queued or with an agent), oldest first."""
        ...

    async def append(self, session_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """Number ``message``, keep it in the transcript and send it to live listeners."""
        ...

    async def publish(self, session_id: str, frame: dict[str, Any]) -> None:
        """Send a frame to live listeners without keeping it (typing, partial text)."""
        ...

    async def history(self, session_id: str, after: int = 0) -> list[dict[str, Any]]: ...

    async def subscribe(self, session_id: str) -> Subscription: ...

    async def count(self, **fields: int) -> None:
        """Add to the dashboard's counters (``turns=1``, ``route:flow=1``...)."""
        ...

    async def counters(self) -> dict[str, int]: ...

    async def latency(self, ms: float) -> None: ...

    async def latencies(self) -> list[float]: ...

    async def close(self) -> None: ...


class MemoryBoard:
    """:class:`Board` in this process's memory (one worker; lost on restart)."""

    def __init__(self) -> None:
        self._convs: dict[str, Conversation] = {}
        self._msgs: dict[str, list[dict[str, Any]]] = {}
        self._seq: dict[str, int] = {}
        self._counters: dict[str, int] = {}
        self._latencies: list[float] = []
        self._fanout = LocalFanout()

    async def get(self, session_id: str) -> Conversation | None:
        return self._convs.get(session_id)

    async def put(self, conversation: Conversation) -> None:
        self._convs[conversation.session_id] = conversation

    async def claim(self, session_id: str, customer_id: str | None) -> Conversation:
        return self._convs.setdefault(session_id, Conversation(session_id, customer_id=customer_id))

    async def active(self) -> list[Conversation]:
        return sorted((c for c in self._convs.values() if c.status != "bot"), key=lambda c: c.updated)

    async def append(self, session_id: str, message: dict[str, Any]) -> dict[str, Any]:
        seq = self._seq[session_id] = self._seq.get(session_id, 0) + 1
        message = {**message, "seq": seq, "ts": round(time.time(), 3)}
        msgs = self._msgs.setdefault(session_id, [])
        msgs.append(message)
        del msgs[:-TRANSCRIPT_KEPT]
        self._fanout.deliver(session_id, message)
        return message

    async def publish(self, session_id: str, frame: dict[str, Any]) -> None:
        self._fanout.deliver(session_id, frame)

    async def history(self, session_id: str, after: int = 0) -> list[dict[str, Any]]:
        return [m for m in self._msgs.get(session_id, ()) if m["seq"] > after]

    async def subscribe(self, session_id: str) -> Subscription:
        return self._fanout.add(session_id)

    async def count(self, **fields: int) -> None:
        for k, v in fields.items():
            self._counters[k] = self._counters.get(k, 0) + v

    async def counters(self) -> dict[str, int]:
        return dict(self._counters)

    async def latency(self, ms: float) -> None:
        self._latencies.append(ms)
        del self._latencies[:-LATENCIES_KEPT]

    async def latencies(self) -> list[float]:
        return list(self._latencies)

    async def close(self) -> None:
        pass
