"""The Redis board against a real Redis: conversations, transcripts and live frames shared by two
boards (as two workers hold them)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from engine.web.board import Conversation, MemoryBoard


def _prefix() -> str:
    return f"test-{uuid.uuid4().hex[:8]}:web:"


def test_two_boards_share_conversations_and_live_frames(redis_url):
    from engine.web.redis_board import RedisBoard

    async def scenario() -> None:
        prefix = _prefix()
        one, two = RedisBoard(redis_url, prefix=prefix), RedisBoard(redis_url, prefix=prefix)
        try:
            claimed = await one.claim("sess-000001", "C001")
            assert (await two.claim("sess-000001", "C002")).customer_id == "C001" == claimed.customer_id
            sub = await two.subscribe("sess-000001")
            sent = await one.append("sess-000001", {"type": "message", "from": "agent", "text": "hello"})
            got = await asyncio.wait_for(sub.get(), 10)
            assert got == sent and got["seq"] == 1
            await one.put(claimed.but(status="queued", reason="asked for a person"))
            assert [c.session_id for c in await two.active()] == ["sess-000001"]
            await two.put((await two.get("sess-000001")).but(status="bot"))
            assert await one.active() == []
            assert [m["text"] for m in await two.history("sess-000001")] == ["hello"]
            assert await two.history("sess-000001", after=1) == []
            await one.count(turns=2, handoffs=1)
            assert (await two.counters())["turns"] == 2
            sub.close()
        finally:
            await one.close()
            await two.close()

    asyncio.run(scenario())


def test_the_memory_board_keeps_one_owner_and_numbers_messages():
    async def scenario() -> None:
        board = MemoryBoard()
        assert (await board.claim("s-00000001", None)).customer_id is None
        assert (await board.claim("s-00000001", "C001")).customer_id is None  # first caller wins
        assert [(await board.append("s-00000001", {"text": t}))["seq"] for t in "ab"] == [1, 2]
        await board.put(Conversation("s-00000002", status="agent", agent="ana"))
        assert [c.session_id for c in await board.active()] == ["s-00000002"]

    asyncio.run(scenario())


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_board_for_follows_the_settings(kind, request):
    from engine.settings import load_settings
    from engine.web.app import board_for

    tracker = {"kind": "redis", "url": request.getfixturevalue("redis_url")} if kind == "redis" else {"kind": "memory"}
    board = board_for(load_settings(tracker=tracker))
    assert type(board).__name__ == ("RedisBoard" if kind == "redis" else "MemoryBoard")
    asyncio.run(board.close())
