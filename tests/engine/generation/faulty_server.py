"""A real HTTP server on loopback that answers chat completions badly, in one chosen way.

Each behaviour is a function of the handler: it may answer whole (any body, any status), stream
forever, trickle bytes without ever ending a line, or never answer at all. Used by the deadline and
response-shape tests (engine/generation/chat_server.py only serves well-formed answers).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Behaviour = Callable[[BaseHTTPRequestHandler, dict[str, Any], threading.Event], None]  # handler, body, stop


class FaultyServer:
    """Serves ``behaviour`` for every ``POST /v1/chat/completions``; counts the requests."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.requests = 0
        self.stop_event = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests += 1
                try:
                    behaviour(self, body, server.stop_event)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up: what the tests want

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "FaultyServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self._httpd.shutdown()
        self._httpd.server_close()


# -- behaviours ------------------------------------------------------------------------------------
def answer(status: int, body: bytes | str | Any, content_type: str = "application/json") -> Behaviour:
    """A whole answer: ``body`` as bytes, a string, or JSON of any shape."""
    data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()

    def run(h: BaseHTTPRequestHandler, request: dict[str, Any], stop: threading.Event) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return run


def events(*chunks: Any, done: bool = True) -> Behaviour:
    """A 200 event stream of the given chunks (each JSON-encoded unless bytes) and ``[DONE]``."""

    def run(h: BaseHTTPRequestHandler, request: dict[str, Any], stop: threading.Event) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Connection", "close")
        h.end_headers()
        for c in chunks:
            h.wfile.write(b"data: " + (c if isinstance(c, bytes) else json.dumps(c).encode()) + b"\n\n")
        if done:
            h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()
        h.close_connection = True

    return run


def never_answers(h: BaseHTTPRequestHandler, request: dict[str, Any], stop: threading.Event) -> None:
    """Reads the request, then says nothing until the test ends."""
    stop.wait(60)


def streams_forever(text: str = "Refunds reach your original payment method ") -> Behaviour:
    """A 200 event stream that keeps sending words and never finishes a sentence."""

    def run(h: BaseHTTPRequestHandler, request: dict[str, Any], stop: threading.Event) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.end_headers()
        while not stop.is_set():
            chunk = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
            h.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            h.wfile.flush()
            time.sleep(0.02)

    return run


def trickles() -> Behaviour:
    """A 200 event stream that sends one byte at a time and never ends a line."""

    def run(h: BaseHTTPRequestHandler, request: dict[str, Any], stop: threading.Event) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.end_headers()
        h.wfile.write(b"data: ")
        while not stop.is_set():
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.05)

    return run


def slow_then(status: int, delay_s: float) -> Behaviour:
    """Waits ``delay_s``, then answers ``status`` with a JSON error."""

    def run(h: BaseHTTPRequestHandler, request: dict[str, Any], stop: threading.Event) -> None:
        time.sleep(delay_s)
        answer(status, {"error": {"message": "busy", "type": "server_error"}})(h, request, stop)

    return run
