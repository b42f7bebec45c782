"""The agent console at ``/agent``: log in, the hand-off queue, a conversation with the engine's
summary, sentiment and the customer's orders; take over, reply live into the customer's widget,
hand back to the bot, mark the bot's replies good or bad (feedback for ``shopassist learn review``).

An agent sees the unassigned queue and the conversations assigned to them, nothing else (403).
Every state-changing request carries the CSRF token of the agent's cookie (``X-CSRF-Token``),
the login too (a pre-login cookie and its token from ``GET /agent/api/login``).

Example:
    >>> add_console(app, state)                                                   # doctest: +SKIP
"""

import asyncio
import inspect
import json
import secrets
from typing import Any

from engine.web.auth import AGENT_COOKIE, CSRF_HEADER, LOGIN_COOKIE, Unauthorized
from engine.web.channel import NotAssigned
from engine.web.wire import error_body

__all__ = ["add_console", "conversation_view"]

_ORDERS_SHOWN = 5


def conversation_view(conv: Any) -> dict[str, Any]:
    """A conversation as the console lists it."""
    return {"session_id": conv.session_id, "customer_id": conv.customer_id, "status": conv.status,
            "agent": conv.agent, "reason": conv.reason, "summary": conv.summary, "sentiment": conv.sentiment,
            "language": conv.language, "updated": conv.updated}


def _orders(engine: Any, customer_id: str | None) -> list[dict[str, Any]]:
    """The customer's latest orders, as their own account shows them (an anonymous visitor: none)."""
    backend = getattr(engine, "orders", None)
    if not customer_id or backend is None:
        return []
    from connectors.auth import Actor

    try:
        orders = backend.list_orders(Actor.customer(customer_id), limit=_ORDERS_SHOWN)
    except Exception:  # the queue stays usable when the business system is down
        return []
    return [{"order_id": o.order_id, "status": o.status, "placed": o.placed_at.date().isoformat(),
             "total": o.total, "currency": o.currency, "items": [i.name for i in o.items]} for o in orders]


def add_console(app: Any, state: Any) -> None:
    """Add ``/agent`` and ``/agent/api/*`` to ``app``."""
    from fastapi import Request
    from fastapi.responses import JSONResponse, Response

    from engine.web.app import _page_headers, _static

    secure = state.settings.web.secure_cookies

    def refused(status: int, code: str, message: str) -> Any:
        return JSONResponse(error_body(code, message), status_code=status)

    def agent_of(request: Request, *, changes: bool) -> str:
        cookie = request.cookies.get(AGENT_COOKIE)
        name = state.auth.agent(cookie)
        if changes:
            state.auth.check_csrf(cookie, request.headers.get(CSRF_HEADER))
        return name

    async def json_body(request: Request) -> dict[str, Any] | None:
        try:
            data = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        return data if isinstance(data, dict) else None

    def guarded(changes: bool):
        """Run a console handler as the logged-in agent; refusals in the one error shape."""
        def wrap(handler):
            async def run(request: Request, **kwargs: Any) -> Any:
                try:
                    agent = agent_of(request, changes=changes)
                except Unauthorized as exc:
                    return refused(401 if "CSRF" not in str(exc) else 403, "unauthorized", str(exc))
                try:
                    return await handler(request, agent, **kwargs)
                except NotAssigned:
                    return refused(403, "not_assigned", "this conversation is not in your queue")
                except (LookupError, ValueError) as exc:
                    return refused(422, "invalid", str(exc)[:200])
            # FastAPI reads the parameters it fills from the signature: the handler's, less ``agent``
            sig = inspect.signature(handler)
            run.__signature__ = sig.replace(parameters=[p for n, p in sig.parameters.items() if n != "agent"])
            return run
        return wrap

    @app.get("/agent")
    async def console_page() -> Any:
        return Response(_static("agent.html"), media_type="text/html; charset=utf-8", headers=_page_headers())

    @app.get("/agent/api/login")
    async def login_token() -> Any:
        nonce = secrets.token_urlsafe(16)
        response = JSONResponse({"csrf": state.auth.csrf_for(nonce)})
        response.set_cookie(LOGIN_COOKIE, nonce, max_age=600, **state.auth.cookie_options(secure))
        return response

    @app.post("/agent/api/login")
    async def login(request: Request) -> Any:
        try:
            state.auth.check_csrf(request.cookies.get(LOGIN_COOKIE), request.headers.get(CSRF_HEADER))
        except Unauthorized as exc:
            return refused(403, "csrf", str(exc))
        data = await json_body(request)
        if data is None:
            return refused(422, "malformed", "the body must be JSON: {\"name\", \"password\"}")
        try:
            cookie = await asyncio.to_thread(state.auth.login, data.get("name"), data.get("password"))
        except Unauthorized as exc:
            return refused(401, "unauthorized", str(exc))
        response = JSONResponse({"agent": data["name"], "csrf": state.auth.csrf_for(cookie)})
        response.set_cookie(AGENT_COOKIE, cookie, max_age=state.auth.agent_ttl_s, **state.auth.cookie_options(secure))
        response.delete_cookie(LOGIN_COOKIE, path="/agent")
        return response

    @app.get("/agent/api/me")
    @guarded(changes=False)
    async def me(request: Request, agent: str) -> Any:
        return {"agent": agent, "csrf": state.auth.csrf_for(request.cookies[AGENT_COOKIE])}

    @app.post("/agent/api/logout")
    @guarded(changes=True)
    async def logout(request: Request, agent: str) -> Any:
        response = JSONResponse({"agent": None})
        response.delete_cookie(AGENT_COOKIE, path="/agent")
        return response

    @app.get("/agent/api/queue")
    @guarded(changes=False)
    async def queue(request: Request, agent: str) -> Any:
        convs = await state.ready().board.active()
        return {"conversations": [conversation_view(c) for c in convs
                                  if c.status == "queued" or c.agent == agent]}

    @app.get("/agent/api/conversations/{session_id}")
    @guarded(changes=False)
    async def conversation(request: Request, agent: str, session_id: str) -> Any:
        channel = state.ready()
        conv = await channel.visible(session_id, agent)
        try:
            after = max(0, int(request.query_params.get("after", "0")))
        except ValueError:
            after = 0
        messages = await channel.board.history(session_id, after)
        orders = await asyncio.to_thread(_orders, channel.engine, conv.customer_id)
        return {"conversation": conversation_view(conv), "messages": messages, "orders": orders}

    @app.post("/agent/api/conversations/{session_id}/take")
    @guarded(changes=True)
    async def take(request: Request, agent: str, session_id: str) -> Any:
        return {"conversation": conversation_view(await state.ready().take(session_id, agent))}

    @app.post("/agent/api/conversations/{session_id}/reply")
    @guarded(changes=True)
    async def reply(request: Request, agent: str, session_id: str) -> Any:
        data = await json_body(request)
        text = data.get("text") if data else None
        if not isinstance(text, str) or not text.strip():
            return refused(422, "malformed", "the body must be JSON with a non-empty string text")
        if len(text) > state.max_chars:
            return refused(413, "too_large", f"the message is longer than {state.max_chars} characters")
        return {"message": await state.ready().say(session_id, agent, text)}

    @app.post("/agent/api/conversations/{session_id}/handback")
    @guarded(changes=True)
    async def hand_back(request: Request, agent: str, session_id: str) -> Any:
        return {"conversation": conversation_view(await state.ready().hand_back(session_id, agent))}

    @app.post("/agent/api/conversations/{session_id}/rate")
    @guarded(changes=True)
    async def rate(request: Request, agent: str, session_id: str) -> Any:
        data = await json_body(request)
        if data is None or not isinstance(data.get("seq"), int) or data.get("rating") not in (1, -1):
            return refused(422, "malformed", "the body must be JSON: {\"seq\": int, \"rating\": 1 | -1}")
        record = await state.ready().rate(session_id, agent, data["seq"], data["rating"])
        return {"feedback_id": record}
