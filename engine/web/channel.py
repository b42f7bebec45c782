"""The web conversation: a customer's turn, a hand-off to a person and back, whoever is connected.

:class:`WebChannel` is what the HTTP routes, the WebSocket and the agent console call. It keeps
each conversation bound to the customer who first used its session id (another customer, or an
anonymous caller, is refused: :class:`NotYours`), records every message in the board's transcript
before it is sent, and decides who answers: the engine while the bot has the conversation (also
while it waits in the hand-off queue), the assigned agent once one has taken it over.

Example:
    >>> channel = WebChannel(engine, MemoryBoard())                            # doctest: +SKIP
    >>> reply = await channel.customer_turn("s1", "where is my order 100023?", "C001")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

from engine.web.board import Board, Conversation
from engine.web.wire import ProductCards, public_reply

__all__ = ["WebChannel", "NotYours", "NotAssigned", "ANONYMOUS"]

log = logging.getLogger("shopassist.web")

ANONYMOUS = None
_SESSION_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,120}$")
_CHUNK_RE = re.compile(r"\S+\s*")


class NotYours(PermissionError):
    """The session id belongs to another customer (or to an anonymous visitor)."""


class NotAssigned(PermissionError):
    """The agent may not see or act on this conversation (another agent has it)."""


def valid_session_id(session_id: str) -> bool:
    """Session ids a browser may use: 8-120 letters, digits, ``_.:-`` (the widget makes random ones)."""
    return bool(_SESSION_RE.match(session_id or ""))


class WebChannel:
    """Customer turns and agent actions over one engine and one board.

    Args:
        engine: the :class:`engine.Engine`.
        board: where conversations, transcripts and live frames are shared.
    """

    def __init__(self, engine: Any, board: Board) -> None:
        self.engine = engine
        self.board = board
        self.cards = ProductCards(engine)

    # -- ownership ---------------------------------------------------------------------------
    async def open(self, session_id: str, customer_id: str | None) -> Conversation:
        """The conversation on ``session_id`` for this caller, bound to them when new.

        Raises:
            NotYours: it belongs to someone else.
        """
        conv = await self.board.claim(session_id, customer_id)
        if conv.customer_id != customer_id:
            raise NotYours(session_id)
        owner = await asyncio.to_thread(self._tracker_owner, session_id)
        if owner is not None and owner != customer_id:  # bound by another channel (CLI, Rasa)
            raise NotYours(session_id)
        return conv

    def _tracker_owner(self, session_id: str) -> str | None:
        return self.engine.state(session_id).customer_id

    # -- the customer ------------------------------------------------------------------------
    async def customer_turn(self, session_id: str, text: str, customer_id: str | None, *,
                            client_id: str | None = None) -> dict[str, Any]:
        """One message from the customer: answered by the engine, or passed to the agent.
        ``client_id``: the widget's own id of the message, echoed so it can match its copy."""
        conv = await self.open(session_id, customer_id)
        message = {"type": "message", "from": "user", "text": text}
        if client_id:
            message["client_id"] = client_id
        await self.board.append(session_id, message)
        if conv.status == "agent":
            await self.board.count(turns=1, **{"to_agent": 1})
            return {"text": "", "intent": "", "confidence": 0.0, "route": "handoff", "sources": [],
                    "handoff": True, "session_id": session_id, "language": conv.language, "quick_replies": [],
                    "agent": conv.agent}
        await self.board.publish(session_id, {"type": "typing", "from": "bot"})
        started = time.perf_counter()
        reply = await self._respond(session_id, text, customer_id)
        ms = (time.perf_counter() - started) * 1000
        body = public_reply(reply, self.cards)
        await self.board.append(session_id, {"type": "message", "from": "bot", "text": body["text"],
                                             "reply": {k: v for k, v in body.items() if k != "text"}})
        await self._record(reply, ms)
        if reply.handoff and conv.status == "bot":
            await self._queue(conv, reply)
        return body

    async def _respond(self, session_id: str, text: str, customer_id: str | None) -> Any:
        """The engine's reply, its sentences streamed to listeners as ``delta`` frames when the
        generator streams (an LLM backend with ``generation.stream``)."""
        gen = self.engine.settings.generation
        if gen.backend == "extractive" or not getattr(gen, "stream", False):
            return await self.engine.arespond(session_id, text, customer_id=customer_id)
        from engine.generation.llm import stream_to

        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[str | None] = asyncio.Queue()

        def sink(chunk: str) -> None:  # called on the engine's thread
            loop.call_soon_threadsafe(chunks.put_nowait, chunk)

        async def pump() -> None:  # one publisher: the chunks go out in order, before the message
            while (chunk := await chunks.get()) is not None:
                await self.board.publish(session_id, {"type": "delta", "from": "bot", "text": chunk})

        def run() -> Any:
            with stream_to(sink):
                return self.engine.respond(session_id, text, customer_id=customer_id)

        publisher = asyncio.create_task(pump())
        try:
            return await asyncio.to_thread(run)
        finally:
            loop.call_soon_threadsafe(chunks.put_nowait, None)  # after every chunk the thread queued
            await publisher

    async def _record(self, reply: Any, ms: float) -> None:
        fields = {"turns": 1, f"route:{reply.route}": 1, f"intent:{reply.intent}": 1}
        if reply.handoff:
            fields["handoffs"] = 1
            fields[f"reason:{(reply.handoff_reason or 'unspecified')[:80]}"] = 1
        await self.board.count(**fields)
        await self.board.latency(ms)

    async def _queue(self, conv: Conversation, reply: Any) -> None:
        summary = await asyncio.to_thread(self._summary, conv.session_id)
        queued = conv.but(status="queued", reason=reply.handoff_reason or "", summary=summary,
                          sentiment=reply.sentiment, language=str(reply.trace.get("language") or "en"))
        await self.board.put(queued)
        await self.board.append(conv.session_id, {"type": "handoff", "status": "queued", "agent": None})

    def _summary(self, session_id: str) -> str:
        from engine.state.events import HandoffRequested

        for event in reversed(self.engine.store.events(session_id, last=32)):
            if isinstance(event, HandoffRequested):
                return event.summary
        return ""

    # -- agents ------------------------------------------------------------------------------
    async def visible(self, session_id: str, agent: str) -> Conversation:
        """The conversation if ``agent`` may see it: queued (unassigned) or assigned to them.

        Raises:
            NotAssigned: it is another agent's, or not handed off at all.
        """
        conv = await self.board.get(session_id)
        if conv is None or conv.status == "bot" or (conv.status == "agent" and conv.agent != agent):
            raise NotAssigned(session_id)
        return conv

    async def take(self, session_id: str, agent: str) -> Conversation:
        """Assign a queued conversation to ``agent``; the customer is told a person has joined."""
        conv = await self.visible(session_id, agent)
        if conv.status == "agent":
            return conv
        taken = conv.but(status="agent", agent=agent)
        await self.board.put(taken)
        await self.board.append(session_id, {"type": "handoff", "status": "agent", "agent": agent})
        await self.board.count(taken=1)
        return taken

    async def say(self, session_id: str, agent: str, text: str) -> dict[str, Any]:
        """An agent's message into the customer's widget (the agent must have taken the conversation)."""
        conv = await self.visible(session_id, agent)
        if conv.status != "agent":
            raise NotAssigned(session_id)
        return await self.board.append(session_id, {"type": "message", "from": "agent", "text": text,
                                                    "agent": agent})

    async def hand_back(self, session_id: str, agent: str) -> Conversation:
        """The bot answers again; the conversation leaves the queue."""
        conv = await self.visible(session_id, agent)
        back = conv.but(status="bot", agent=None)
        await self.board.put(back)
        await self.board.append(session_id, {"type": "handoff", "status": "bot", "agent": None})
        await self.board.count(handed_back=1)
        return back

    async def rate(self, session_id: str, agent: str, seq: int, rating: int) -> int:
        """An agent's good (1) or bad (-1) on the bot message ``seq``: a feedback record for
        ``shopassist learn review``, naming the turn's text, intent and route."""
        from engine.learn.capture import turn_record

        conv = await self.visible(session_id, agent)
        if rating not in (-1, 1):
            raise ValueError("rating must be 1 or -1")
        msgs = await self.board.history(session_id)
        index = next((i for i, m in enumerate(msgs) if m["seq"] == seq and m.get("from") == "bot"), None)
        if index is None:
            raise LookupError(f"no bot message {seq}")
        bot = msgs[index]
        user = next((m for m in reversed(msgs[:index]) if m.get("from") == "user"), None)
        info = bot.get("reply") or {}
        turn = sum(1 for m in msgs[: index + 1] if m.get("from") == "user")
        record = turn_record(session_id, turn, kind="user", reason="agent_review", rating=rating,
                             text=user["text"] if user else None, intent=info.get("intent"),
                             confidence=info.get("confidence"), route=info.get("route"),
                             sources=[s["id"] for s in info.get("sources", [])], comment=f"agent {agent}")
        del conv
        await self.board.count(**({"agent_good": 1} if rating > 0 else {"agent_bad": 1}))
        return await asyncio.to_thread(self.engine.store.add_feedback, record)
