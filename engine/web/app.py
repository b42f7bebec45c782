"""The web channel's FastAPI application (DESIGN §3c): the chat page and widget, the message API,
the WebSocket stream, the agent console and the dashboard.

:func:`create_app` takes a built engine (tests and embedding) or builds one from settings when
the server starts (``shopassist serve``), so ``/healthz`` answers 200 only once the engine can
answer turns. Every refusal has one JSON shape, ``{"error": {"code", "message"}}``, and never
quotes the request; an unexpected failure is logged (masked) and answered with a fixed message.

Example:
    >>> app = create_app(settings, engine=engine)                                # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8000)                           # doctest: +SKIP
"""

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from engine.http_limits import BodyLimit, BodyLimitMiddleware
from engine.web.agents import AgentAccounts
from engine.web.auth import Unauthorized, WebAuth
from engine.web.board import Board, MemoryBoard
from engine.web.channel import NotAssigned, NotYours, WebChannel, valid_session_id
from engine.web.limits import RateWindow
from engine.web.tokens import TokenSigner, load_secret
from engine.web.wire import error_body

__all__ = ["create_app", "board_for", "WebState"]

log = logging.getLogger("shopassist.web")

_STATIC = {"widget.js": "application/javascript", "widget.css": "text/css", "agent.js": "application/javascript",
           "agent.css": "text/css"}


class WebState:
    """What the routes share: the channel, auth, limits (set when the engine is ready)."""

    def __init__(self, settings: Any, board: Board) -> None:
        web = settings.web
        secret = web.secret.get_secret_value() if web.secret else None
        self.settings = settings
        self.board = board
        self.auth = WebAuth(TokenSigner(load_secret(secret, settings.resolved_data_dir)), AgentAccounts(web.agents),
                            agent_ttl_s=web.agent_session_s)
        self.per_session = RateWindow(web.max_messages_per_minute)
        self.per_client = RateWindow(web.max_requests_per_minute)
        self.max_frame = web.max_body_bytes
        self.max_chars = settings.dialogue.max_message_chars
        self.channel: WebChannel | None = None

    def ready(self) -> WebChannel:
        if self.channel is None:
            raise RuntimeError("the engine is not built yet")
        return self.channel


def board_for(settings: Any) -> Board:
    """Redis when ``web.redis_url`` (or the tracker's Redis, its store's or its locks') is set:
    workers share conversations; else this process's memory."""
    tracker = settings.tracker
    url = settings.web.redis_url
    if url is None and (tracker.kind == "redis" or tracker.lock == "redis"):
        url = tracker.resolved_lock_url
    if url:
        from engine.web.redis_board import RedisBoard

        return RedisBoard(url, prefix=f"{tracker.key_prefix}web:")
    return MemoryBoard()


def _static(name: str) -> bytes:
    return resources.files("engine.web").joinpath("static", name).read_bytes()


def create_app(settings: Any, *, engine: Any = None, board: Board | None = None) -> Any:
    """The ASGI app. With ``engine`` None, the engine is built (and warmed up) at start-up."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from starlette.exceptions import HTTPException as StarletteHTTPException

    state = WebState(settings, board if board is not None else board_for(settings))

    @asynccontextmanager
    async def lifespan(app: Any):
        eng = engine
        if eng is None:
            from engine.builder import build_engine

            def build() -> Any:
                built = build_engine(settings, progress=False)
                built.warm_up()
                return built

            eng = await asyncio.to_thread(build)
        state.channel = WebChannel(eng, state.board)
        yield
        await state.board.close()

    app = FastAPI(title="shopassist web channel", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.web = state

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Any:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        return JSONResponse(error_body(code, "not found" if exc.status_code == 404 else "the request cannot be served"),
                            status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        return JSONResponse(error_body("malformed", "the request is not valid"), status_code=422)

    @app.exception_handler(Exception)
    async def _failed(request: Request, exc: Exception) -> Any:
        log.error("web request to %s failed: %s", request.url.path[:80], type(exc).__name__, exc_info=exc)
        return JSONResponse(error_body("internal", "internal error"), status_code=500)

    @app.get("/healthz")
    async def healthz() -> Any:
        if state.channel is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        return {"status": "ok"}

    @app.get("/")
    async def chat_page() -> Any:
        return Response(_static("index.html"), media_type="text/html; charset=utf-8",
                        headers=_page_headers())

    @app.get("/static/{name}")
    async def static(name: str) -> Any:
        if name not in _STATIC:
            return JSONResponse(error_body("not_found", "not found"), status_code=404)
        return Response(_static(name), media_type=f"{_STATIC[name]}; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})

    @app.post("/v1/sessions/{session_id}/messages")
    async def post_message(session_id: str, request: Request) -> Any:
        client = request.client.host if request.client else "?"
        if not state.per_client.allow(client):
            return _too_many(state.per_client.retry_after(client))
        try:
            customer = state.auth.customer_from_header(request.headers.get("authorization"))
        except Unauthorized as exc:
            return JSONResponse(error_body("unauthorized", str(exc)), status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        if not valid_session_id(session_id):
            return JSONResponse(error_body("bad_session", "the session id must be 8-120 letters, digits or _.:-"),
                                status_code=400)
        text, problem = _read_text(await request.body(), state.max_chars)
        if problem is not None:
            return JSONResponse(error_body(*problem[1:]), status_code=problem[0])
        if not state.per_session.allow(session_id):
            return _too_many(state.per_session.retry_after(session_id))
        channel = state.ready()
        try:
            return await channel.customer_turn(session_id, text, customer)
        except NotYours:
            return JSONResponse(error_body("forbidden", "this conversation belongs to someone else"), status_code=403)

    from engine.web.console import add_console
    from engine.web.dashboard import add_dashboard
    from engine.web.stream import add_stream

    add_stream(app, state)
    add_console(app, state)
    add_dashboard(app, state)
    return BodyLimitMiddleware(app, limit=BodyLimit(max_bytes=settings.web.max_body_bytes,
                                                   max_inflated_bytes=settings.web.max_body_bytes))


def _too_many(retry_after: int) -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse(error_body("rate_limited", f"too many messages; try again in {retry_after}s"),
                        status_code=429, headers={"Retry-After": str(retry_after)})


def _read_text(body: bytes, max_chars: int) -> tuple[str, tuple[int, str, str] | None]:
    """The ``text`` of a JSON body ``{"text": "..."}``, or (status, code, message) of why not."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return "", (422, "malformed", "the body must be JSON: {\"text\": \"...\"}")
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return "", (422, "malformed", "the body must be a JSON object with a string field text")
    text = data["text"]
    if len(text) > max_chars:
        return "", (413, "too_large", f"the message is longer than {max_chars} characters")
    if not text.strip():
        return "", (422, "empty", "the message is empty")
    return text, None


def _page_headers() -> dict[str, str]:
    return {"Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
                                       "style-src 'self'; script-src 'self'; frame-ancestors 'self'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
