"""``shopassist serve``: the web channel under uvicorn, one worker per process.

Several workers (processes, on one machine or many) share conversations when the tracker is
Postgres or Redis and the board is Redis (``web.redis_url``, or the tracker's Redis). The server
listens on 127.0.0.1 unless told otherwise; beyond loopback it needs a configured secret
(``SHOPASSIST_WEB__SECRET``), the same on every worker.

Example:
    >>> serve(load_settings(), host="127.0.0.1", port=8000)                     # doctest: +SKIP
"""

from typing import Any

__all__ = ["serve", "ServeError"]


class ServeError(Exception):
    """The server cannot start as asked."""


def serve(settings: Any, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Build the engine, then serve until interrupted (``/healthz`` turns 200 once built)."""
    from engine.action_server import is_loopback

    if not is_loopback(host) and settings.web.secret is None:
        raise ServeError(f"refusing to listen on {host}: beyond loopback every worker must sign with the same "
                         "secret; set SHOPASSIST_WEB__SECRET (or listen on 127.0.0.1)")
    try:
        import uvicorn
    except ImportError as exc:
        raise ServeError("the web channel needs FastAPI and uvicorn: pip install 'shopassist[service]'") from exc
    from engine.web.app import create_app

    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                ws_max_size=4 * settings.web.max_body_bytes, proxy_headers=False)
