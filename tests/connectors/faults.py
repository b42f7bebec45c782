"""A fault-injecting ASGI middleware for the REST tests: slowness, 5xx, malformed bodies, lost answers.

Faults are queued per request (``injector.queue("503", "slow")``) or set for every request
(``injector.delay_s``); ``injector.seen`` lists the requests that reached the service.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any

_BODIES = {
    "malformed": (200, b"application/json", b'{"order_id": "100023", "status": '),
    "wrong_shape": (200, b"application/json", b'{"hello": "world", "items": 7}'),
    "html": (200, b"text/html", b"<html><body>Service temporarily unavailable</body></html>"),
    "not_json_404": (404, b"text/plain", b"Not Found"),
    "bare_500": (500, b"application/json", b'{"detail": "Internal Server Error"}'),
}


class FaultInjector:
    """Wraps an ASGI app; thread-safe (the server runs in another thread)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._queue: deque[str] = deque()
            self.always: str | None = None
            self.delay_s = 0.0
            self.seen: list[tuple[str, str]] = []

    def queue(self, *faults: str) -> None:
        with self._lock:
            self._queue.extend(faults)

    def _next(self, method: str, path: str) -> str | None:
        with self._lock:
            self.seen.append((method, path))
            return self._queue.popleft() if self._queue else self.always

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        fault = self._next(scope["method"], scope["path"])
        delay = self.delay_s + (1.5 if fault == "slow" else 0.0)
        if delay:
            await asyncio.sleep(delay)
        if fault in ("500", "502", "503", "504"):
            await _respond(send, int(fault), b"application/json", b'{"error": {"code": "unavailable"}}')
        elif fault in _BODIES:
            await _respond(send, *_BODIES[fault])
        elif fault == "lost_response":  # the service applies the request, the answer is lost
            async def swallow(message) -> None:
                return None

            await self.app(scope, receive, swallow)
            await _respond(send, 503, b"application/json", b'{"error": {"code": "unavailable"}}')
        else:
            await self.app(scope, receive, send)


async def _respond(send, status: int, content_type: bytes, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
