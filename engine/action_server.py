"""The Rasa custom action server (``shopassist actions``): rasa-sdk's Sanic app over
:mod:`engine.rasa_actions`, guarded for a network it does not control.

rasa-sdk's own ``run`` builds its app in each Sanic worker from a factory, so everything here is
added in a factory of ours (:func:`create_action_app`) that every worker calls:

* **body limits** (:func:`engine.http_limits.limit_sanic`): Sanic's ``REQUEST_MAX_SIZE`` and a
  request middleware that bounds what a deflated body inflates to, both before rasa-sdk's
  ``/webhook`` handler reads or inflates anything;
* **the shared secret** (``actions.token``, ``SHOPASSIST_ACTIONS__TOKEN``): when set, ``/webhook``
  and ``/actions`` answer only calls carrying it as the ``token`` query parameter (what Rasa's
  ``action_endpoint: {url, token}`` sends), compared in constant time; ``/health`` stays open;
* **the action call's shape**: a body that is not a JSON object with a ``next_action`` name and a
  ``tracker`` object (``latest_message``, ``slots`` objects when present; ``domain`` an object when
  present) is refused with 400 before rasa-sdk parses it, and any error answers with a fixed
  message: no response ever quotes the request (rasa-sdk's own error handler echoes the body);
* **warm start**: each worker builds its engine before it accepts connections, so ``/health``
  answers only once the engine can answer turns (a failed build stops the server, naming why).

:func:`run_action_server` listens on 127.0.0.1 unless told otherwise, and refuses an address
beyond loopback without a token: anyone who can reach ``/webhook`` can otherwise act as any
customer (``metadata.customer_id``).

Example:
    >>> run_action_server(5055, limit=BodyLimit.from_settings(load_settings().http))  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import os
import zlib
from functools import partial
from typing import Any

from engine.http_limits import BodyLimit, limit_sanic

__all__ = ["ACTIONS_MODULE", "ActionServerError", "create_action_app", "run_action_server", "check_action_call",
           "is_loopback", "limit_malloc_arenas", "release_freed_memory"]

log = logging.getLogger("shopassist.action_server")

ACTIONS_MODULE = "engine.rasa_actions"
#: the content codings rasa-sdk's webhook reads (it inflates ``deflate`` itself)
ACTION_ENCODINGS = frozenset({"deflate"})
_GUARDED_PATHS = ("/webhook", "/actions")


class ActionServerError(Exception):
    """The action server cannot start as asked (an open address without a token, a failed build)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_action_call(body: bytes, content_encoding: str | None) -> str | None:
    """Why ``body`` is not an action call rasa-sdk can run (a short message, nothing of the request
    in it), or None. The body is already known to inflate within the limit."""
    try:
        raw = zlib.decompress(body) if (content_encoding or "").strip().lower() == "deflate" else body
        call = json.loads(raw)
    except (zlib.error, ValueError, UnicodeDecodeError, RecursionError):
        return "the body is not a JSON action call"
    if not isinstance(call, dict):
        return "the action call must be a JSON object"
    if not isinstance(call.get("next_action"), str) or not call["next_action"]:
        return "next_action must be an action name"
    tracker = call.get("tracker")
    if not isinstance(tracker, dict):
        return "tracker must be an object"
    for key in ("latest_message", "slots"):
        if tracker.get(key) is not None and not isinstance(tracker[key], dict):
            return f"tracker.{key} must be an object"
    if tracker.get("events") is not None and not isinstance(tracker["events"], list):
        return "tracker.events must be a list"
    if call.get("domain") is not None and not isinstance(call["domain"], dict):
        return "domain must be an object"
    return None


def _body_received(request: Any) -> bool:
    """Whether the request's body was read to its end (Sanic leaves ``stream.request_body`` set
    while some of it is still unread)."""
    stream = getattr(request, "stream", None)
    return stream is None or not getattr(stream, "request_body", None)


def _error(status: int, message: str) -> Any:
    from sanic import response

    return response.json({"error": message}, status=status)


def _guard(app: Any, token: str | None) -> Any:
    """The token check, the call's shape check and an error handler that never echoes."""
    secret = token.encode() if token else None

    async def _check(request: Any) -> Any:
        if not request.path.startswith(_GUARDED_PATHS):
            return None
        if not _body_received(request):
            # Sanic runs request middleware on its error path too: here it stopped reading the body
            # (a stream cut off at the limit), so the error's own handler answers (413), and neither
            # the token nor the shape is judged on a body that was never read in full
            return None
        if secret is not None:
            given = request.args.get("token") or ""
            if not hmac.compare_digest(given.encode("utf-8", "replace"), secret):
                return _error(401, "a valid token query parameter is required")
        if request.path.startswith("/webhook") and request.method == "POST":
            problem = check_action_call(request.body or b"", request.headers.get("content-encoding"))
            if problem is not None:
                return _error(400, problem)
        return None

    async def _failed(request: Any, exc: Exception) -> Any:
        status = getattr(exc, "status_code", 500)
        if not isinstance(status, int) or status < 400:
            status = 500
        if status >= 500:
            log.error("action server error on %s: %s", request.path[:80], type(exc).__name__, exc_info=exc)
        return _error(status, "internal error" if status >= 500 else "the request cannot be served")

    # after limit_sanic's body check (priority 1000): a token is checked only on a bounded body
    app.register_middleware(_check, "request", priority=900)
    # in place of rasa-sdk's catch-all handler, whose 500 quotes the request body
    app.error_handler.cached_handlers[(Exception, None)] = _failed
    return app


async def _warm(app: Any, _loop: Any = None) -> None:
    """Build this worker's engine before it listens: /health is green only with an engine."""
    from engine import rasa_actions

    try:
        await asyncio.to_thread(rasa_actions.get_engine)
    except Exception as exc:
        log.critical("the engine could not be built; the action server stops: %s", exc)
        app.stop()
        raise
    release_freed_memory()


#: glibc's mallopt parameter for the number of malloc arenas
_M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas for this process (as ``MALLOC_ARENA_MAX`` would), unless the
    environment already sets it. Each thread that runs engine turns (Sanic's, the executor's of
    ``asyncio.to_thread``, the model runtimes') otherwise gets an arena of its own, which keeps the
    freed memory of its turns: measured, ~100 MB more RSS for one worker (benchmarks/rasa_loops.py).
    Returns whether the cap was set (False off glibc)."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def release_freed_memory() -> None:
    """Hand the heap memory freed since start back to the system (glibc's ``malloc_trim``): a first
    start builds the store's indexes in this process, and what that build freed would otherwise
    stay in this worker's RSS for its whole life (measured: ~70 MB, benchmarks/rasa_loops.py)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _build_now() -> None:
    from engine import rasa_actions
    from engine.errors import ShopAssistError

    try:
        rasa_actions.get_engine()
    except ShopAssistError as exc:
        raise ActionServerError(f"the engine could not be built: {exc}") from exc
    release_freed_memory()


def create_action_app(executor: Any, *, limit: BodyLimit, token: str | None = None, warm: bool = False,
                      **options: Any) -> Any:
    """rasa-sdk's app for ``executor`` (``options``: those of ``create_app_for_serve``), limited,
    guarded by ``token`` when given, and with ``warm`` building the engine before it listens."""
    from rasa_sdk.endpoint import create_app_for_serve

    limit = BodyLimit(max_bytes=limit.max_bytes, max_inflated_bytes=limit.max_inflated_bytes,
                      encodings=ACTION_ENCODINGS)
    app = _guard(limit_sanic(create_app_for_serve(executor, **options), limit), token)
    if warm:
        app.register_listener(_warm, "before_server_start")
    return app


def run_action_server(port: int, *, limit: BodyLimit, host: str = "127.0.0.1", token: str | None = None,
                      warm: bool = True) -> None:
    """Serve :mod:`engine.rasa_actions` on ``host:port`` until interrupted, as rasa-sdk's ``run`` does.

    Raises:
        ActionServerError: ``host`` is beyond loopback and no ``token`` is set.
    """
    if not is_loopback(host) and not token:
        raise ActionServerError(
            f"refusing to listen on {host}: beyond loopback the action server needs a shared token "
            "(set SHOPASSIST_ACTIONS__TOKEN, and the same value as `token` under action_endpoint in "
            "Rasa's endpoints.yml), or listen on 127.0.0.1")
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_argument_parser
    from rasa_sdk.executor import ActionExecutor
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    limit_malloc_arenas()  # before any thread or model exists: the workers inherit it
    args = create_argument_parser().parse_args(["--actions", ACTIONS_MODULE, "--port", str(port)])
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel,
                                 args.logging_config_file)
    utils.update_sanic_log_level()
    executor = ActionExecutor()
    executor.register_package(ACTIONS_MODULE)
    workers = utils.number_of_sanic_workers()
    loader = AppLoader(factory=partial(create_action_app, executor, limit=limit, token=token, warm=warm,
                                       cors_origins=args.cors, auto_reload=args.auto_reload,
                                       endpoints=args.endpoints))
    if workers == 1:
        # one worker: built and served in this process (no second interpreter with its own imports)
        if warm:
            _build_now()
        app = create_action_app(executor, limit=limit, token=token, cors_origins=args.cors,
                                auto_reload=args.auto_reload, endpoints=args.endpoints)
        app.prepare(host=host, port=port, single_process=True)
        Sanic.serve_single(primary=app)
    else:
        app = loader.load()
        app.prepare(host=host, port=port, workers=workers)
        Sanic.serve(primary=app, app_loader=loader)
