"""``WS /v1/sessions/{session_id}/stream``: the widget's live connection (frames: docs/web.md).

The first frame is ``hello`` (``token`` unless given as the ``token`` query parameter, ``after``:
the last ``seq`` the widget has). The server answers ``ready``, replays the transcript after
``after``, then sends every new message of the conversation (the bot's, an agent's, hand-off
notices) as it happens, whichever worker it happened on. A ``message`` frame from the widget is one
customer turn. Refusals: a bad token closes with 4401, someone else's conversation with 4403, a
frame over ``web.max_body_bytes`` with 1009; a malformed frame or a flood gets an ``error`` frame
and the connection stays.

Example:
    >>> add_stream(app, state)                                                    # doctest: +SKIP
"""

import asyncio
import json
import logging
from typing import Any

from engine.web.auth import Unauthorized
from engine.web.channel import NotYours, valid_session_id

__all__ = ["add_stream"]

log = logging.getLogger("shopassist.web")

HELLO_TIMEOUT_S = 15.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_RECONNECT = 4408
CLOSE_TOO_BIG = 1009
CLOSE_POLICY = 1008


def _error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **extra}


def add_stream(app: Any, state: Any) -> None:
    """Add the WebSocket route to ``app``."""
    from fastapi import WebSocket
    from starlette.websockets import WebSocketDisconnect

    async def receive(ws: WebSocket) -> tuple[dict[str, Any] | None, str | None]:
        """The next frame as a JSON object, or (None, why) for a frame that is not one."""
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        raw = message.get("text")
        if raw is None:
            raw_bytes = message.get("bytes") or b""
            if len(raw_bytes) > state.max_frame:
                return None, "too_large"
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError:
                return None, "malformed"
        if len(raw.encode("utf-8", "surrogatepass")) > state.max_frame:
            return None, "too_large"
        try:
            frame = json.loads(raw)
        except (ValueError, RecursionError):
            return None, "malformed"
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            return None, "malformed"
        return frame, None

    async def refuse(ws: WebSocket, code: int, error: dict[str, Any]) -> None:
        await ws.send_json(error)
        await ws.close(code=code)

    @app.websocket("/v1/sessions/{session_id}/stream")
    async def stream(ws: WebSocket, session_id: str) -> None:
        client = ws.client.host if ws.client else "?"
        await ws.accept()
        if not state.per_client.allow(client):
            await refuse(ws, CLOSE_POLICY, _error("rate_limited", "too many connections; try again later",
                                                  retry_after=state.per_client.retry_after(client)))
            return
        if not valid_session_id(session_id):
            await refuse(ws, CLOSE_POLICY, _error("bad_session", "the session id must be 8-120 letters, digits or _.:-"))
            return
        sub = None
        try:
            try:
                hello, problem = await asyncio.wait_for(receive(ws), HELLO_TIMEOUT_S)
            except asyncio.TimeoutError:
                await refuse(ws, CLOSE_POLICY, _error("no_hello", "the first frame must be hello"))
                return
            if problem == "too_large":
                await refuse(ws, CLOSE_TOO_BIG, _error("too_large", f"a frame may have at most {state.max_frame} bytes"))
                return
            if hello is None or hello.get("type") != "hello":
                await refuse(ws, CLOSE_POLICY, _error("no_hello", "the first frame must be hello"))
                return
            token = ws.query_params.get("token") or hello.get("token")
            try:
                customer = state.auth.customer(token if isinstance(token, str) or token is None else "\x00bad")
            except Unauthorized as exc:
                await refuse(ws, CLOSE_UNAUTHORIZED, _error("unauthorized", str(exc)))
                return
            channel = state.ready()
            try:
                conv = await channel.open(session_id, customer)
            except NotYours:
                await refuse(ws, CLOSE_FORBIDDEN, _error("forbidden", "this conversation belongs to someone else"))
                return
            after = hello.get("after") if isinstance(hello.get("after"), int) else 0
            sub = await channel.board.subscribe(session_id)  # before the replay: nothing falls between
            history = await channel.board.history(session_id, after)
            await ws.send_json({"type": "ready", "session_id": session_id, "customer": customer is not None,
                                "status": conv.status, "agent": conv.agent,
                                "last_seq": history[-1]["seq"] if history else after})
            seen = after
            for message in history:
                await ws.send_json(message)
                seen = message["seq"]
            forward = asyncio.create_task(_forward(ws, sub, seen))
            try:
                await _read_loop(ws, state, channel, session_id, customer, receive, refuse, forward)
            finally:
                forward.cancel()
        except WebSocketDisconnect:
            pass
        except Exception as exc:  # never a traceback to the browser
            log.error("web stream of a session failed: %s", type(exc).__name__, exc_info=exc)
            try:
                await ws.close(code=1011)
            except Exception:
                pass
        finally:
            if sub is not None:
                sub.close()


async def _forward(ws: Any, sub: Any, seen: int) -> None:
    """Conversation frames to the socket; numbered ones once each (the replay may overlap)."""
    while True:
        frame = await sub.get()
        if sub.overflowed:  # the socket fell behind: it reconnects and replays from its last seq
            await ws.close(code=CLOSE_RECONNECT)
            return
        seq = frame.get("seq")
        if isinstance(seq, int):
            if seq <= seen:
                continue
            seen = seq
        await ws.send_json(frame)


async def _read_loop(ws: Any, state: Any, channel: Any, session_id: str, customer: str | None,
                     receive: Any, refuse: Any, forward: asyncio.Task) -> None:
    while not forward.done():
        frame, problem = await receive(ws)
        if problem == "too_large":
            await refuse(ws, CLOSE_TOO_BIG, _error("too_large", f"a frame may have at most {state.max_frame} bytes"))
            return
        if frame is None:
            await ws.send_json(_error("malformed", "a frame must be a JSON object with a type"))
            continue
        kind = frame["type"]
        if kind == "ping":
            await ws.send_json({"type": "pong"})
            continue
        if kind != "message":
            await ws.send_json(_error("unknown_type", "frame types: message, ping"))
            continue
        text = frame.get("text")
        if not isinstance(text, str) or not text.strip():
            await ws.send_json(_error("malformed", "a message frame needs a non-empty string text"))
            continue
        if len(text) > state.max_chars:
            await ws.send_json(_error("too_large", f"the message is longer than {state.max_chars} characters"))
            continue
        client = ws.client.host if ws.client else "?"
        if not state.per_session.allow(session_id) or not state.per_client.allow(client):
            await ws.send_json(_error("rate_limited", "too many messages; please wait a moment",
                                      retry_after=state.per_session.retry_after(session_id)))
            continue
        try:
            client_id = frame.get("id")
            client_id = client_id[:64] if isinstance(client_id, str) and client_id.isprintable() else None
            await channel.customer_turn(session_id, text, customer, client_id=client_id)
        except NotYours:
            await refuse(ws, CLOSE_FORBIDDEN, _error("forbidden", "this conversation belongs to someone else"))
            return
