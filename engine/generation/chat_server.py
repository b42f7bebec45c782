"""A small OpenAI-compatible chat-completions server over any :class:`ChatModel` (stdlib only).

It serves ``POST /v1/chat/completions`` (whole, or streamed as server-sent events when the body
has ``"stream": true``) and ``GET /v1/models`` on a loopback port, one thread per request. The
tests run the HTTP backend against it (llama-cpp-python's server has no prebuilt wheel here), and
``benchmarks/generation.py`` serves the packaged SmolLM2 with it, so the HTTP backend is measured
on a real model. A model that raises :class:`engine.errors.GeneratorUnavailable` answers 503.

Wire format (the subset of the OpenAI API that :class:`OpenAIChatModel` uses):

- request: ``model`` (str), ``messages`` (list of ``{role, content}``), ``max_tokens`` (int,
  default 256), ``temperature`` (float, default 0), ``stream`` (bool, default false);
- answer: ``{"id", "object": "chat.completion", "created", "model", "choices": [{"index": 0,
  "message": {"role": "assistant", "content"}, "finish_reason": "stop"}], "usage":
  {"prompt_tokens", "completion_tokens", "total_tokens"}}``;
- stream: ``data: {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta":
  {"content"}, "finish_reason": null}]}`` lines, a last chunk with ``finish_reason: "stop"``,
  then ``data: [DONE]``;
- errors: ``{"error": {"message", "type"}}`` with 400 (bad request), 401 (wrong key), 404, 503,
  and 411 / 413 / 415 (no ``Content-Length``, a body over the limit, any ``Content-Encoding``:
  decided from the headers, before the key is checked or a byte of the body is read).

Example:
    >>> with ChatCompletionsServer(model) as server:                         # doctest: +SKIP
    ...     OpenAIChatModel(server.base_url, "smollm2").complete(msgs, max_new_tokens=32, temperature=0)
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from engine.errors import GeneratorUnavailable
from engine.http_limits import BodyLimit

from .base import ChatMessage, ChatModel

__all__ = ["ChatCompletionsServer"]

log = logging.getLogger("shopassist.generation.server")
_ROLES = ("system", "user", "assistant")


class _BadRequest(Exception):
    pass


def _messages(body: Any) -> list[ChatMessage]:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        raise _BadRequest("messages must be a non-empty list")
    out = []
    for m in body["messages"]:
        if not isinstance(m, dict) or m.get("role") not in _ROLES or not isinstance(m.get("content"), str):
            raise _BadRequest("each message needs a role (system|user|assistant) and string content")
        out.append(ChatMessage(m["role"], m["content"]))
    return out


class ChatCompletionsServer:
    """Serves a :class:`ChatModel` as an OpenAI-compatible endpoint on loopback.

    Args:
        model: what answers.
        host: the address to listen on (loopback by default).
        port: 0 picks a free port.
        api_key: when set, requests must send ``Authorization: Bearer <api_key>``.
        body_limit: request body limits (default: :class:`BodyLimit`; a length is required).

    Example:
        >>> server = ChatCompletionsServer(model).start()                     # doctest: +SKIP
        >>> server.base_url                                                     # doctest: +SKIP
        'http://127.0.0.1:40123/v1'
    """

    def __init__(self, model: ChatModel, *, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None,
                 body_limit: BodyLimit | None = None) -> None:
        self.model = model
        self._api_key = api_key
        self._limit = body_limit or BodyLimit(require_length=True)
        self._httpd = ThreadingHTTPServer((host, port), self._handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "ChatCompletionsServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="chat-completions", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> "ChatCompletionsServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug(fmt, *args)

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): nothing to answer

            def _error(self, status: int, message: str, kind: str) -> None:
                self._json(status, {"error": {"message": message, "type": kind}})

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path.rstrip("/") != "/v1/models":
                    return self._error(404, f"no route {self.path}", "not_found")
                self._json(200, {"object": "list", "data": [{"id": server.model.name, "object": "model"}]})

            def do_POST(self) -> None:  # noqa: N802
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._error(404, f"no route {self.path}", "not_found")
                refusal = server._limit.check_headers(self.headers.get("Content-Length"),
                                                      self.headers.get("Content-Encoding"))
                if refusal is not None:
                    self.close_connection = True  # the unread body must not be parsed as a request
                    return self._error(refusal.status, refusal.message, "invalid_request_error")
                if server._api_key and self.headers.get("Authorization") != f"Bearer {server._api_key}":
                    return self._error(401, "invalid API key", "authentication_error")
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    body = json.loads(self.rfile.read(length) or b"null")
                    messages = _messages(body)
                    max_tokens = int(body.get("max_tokens") or 256)
                    temperature = float(body.get("temperature") or 0.0)
                except (ValueError, TypeError, _BadRequest) as exc:
                    return self._error(400, str(exc), "invalid_request_error")
                options = {"max_new_tokens": max_tokens, "temperature": temperature}
                rid = f"chatcmpl-{uuid.uuid4().hex[:16]}"
                try:
                    if body.get("stream"):
                        return self._stream(rid, messages, options)
                    completion = server.model.complete(messages, **options)
                except GeneratorUnavailable as exc:
                    return self._error(503, str(exc), "server_error")
                self._json(200, {
                    "id": rid, "object": "chat.completion", "created": int(time.time()), "model": server.model.name,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": completion.text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 0, "completion_tokens": completion.tokens,
                              "total_tokens": completion.tokens},
                })

            def _stream(self, rid: str, messages: list[ChatMessage], options: dict[str, Any]) -> None:
                pieces = iter(server.model.stream(messages, **options))
                try:
                    first = next(iter(pieces), None)  # fail with a status code before the stream starts
                except GeneratorUnavailable as exc:
                    return self._error(503, str(exc), "server_error")
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()  # HTTP/1.0: the stream ends when the connection closes

                def chunk(delta: dict[str, str], finish: str | None) -> None:
                    payload = {"id": rid, "object": "chat.completion.chunk", "created": int(time.time()),
                               "model": server.model.name,
                               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                    self.wfile.write(b"data: " + json.dumps(payload, ensure_ascii=False).encode("utf-8") + b"\n\n")
                    self.wfile.flush()

                try:
                    chunk({"role": "assistant"}, None)
                    if first is not None:
                        chunk({"content": first}, None)
                        for piece in pieces:
                            chunk({"content": piece}, None)
                    chunk({}, "stop")
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: stop generating
                except GeneratorUnavailable as exc:
                    log.warning("stream failed: %s", exc)
                finally:
                    close = getattr(pieces, "close", None)
                    if close is not None:
                        close()

        return Handler
