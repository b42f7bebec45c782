"""Request body limits for every server the project runs, enforced before authentication and
before anything reads or inflates a body.

One policy, :class:`BodyLimit`, decides; three small adapters apply it where each server can
refuse earliest:

* :class:`BodyLimitMiddleware`, pure ASGI, outermost in the FastAPI demo order service: a declared
  ``Content-Length`` over the limit or an unsupported ``Content-Encoding`` is refused before the
  app runs; a streamed (chunked) body is counted as it arrives and refused the moment it passes
  the limit, so at most ``max_bytes`` is ever held;
* :func:`limit_sanic` for the rasa-sdk action server: Sanic's own ``REQUEST_MAX_SIZE`` (checked
  on the declared length and while reading), and a request middleware that refuses encodings
  rasa-sdk cannot read and measures a deflated body's inflated size, bounded, before rasa-sdk's
  handler inflates it (without a bound, a few kilobytes inflate to gigabytes);
* :meth:`BodyLimit.check_headers` for ``http.server`` handlers (the chat-completions server),
  called before the handler reads a byte.

Refusals: 413 (too large, declared, streamed or inflated), 415 (an encoding the server does not
read), 400 (a malformed length or compressed body), 411 (no length where one is required).

Example:
    >>> limit = BodyLimit(max_bytes=1_000_000)
    >>> limit.check_headers(content_length="200000000", content_encoding=None).status
    413
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BodyLimit", "Refusal", "BodyLimitMiddleware", "limit_sanic", "DEFAULT_MAX_BODY_BYTES"]

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_INFLATED_BYTES = 16 * 1024 * 1024
_INFLATE_STEP = 64 * 1024
# zlib window bits per HTTP content coding ("deflate" is the zlib format, RFC 9110 §8.4.1.2)
_WBITS = {"deflate": zlib.MAX_WBITS, "gzip": 16 + zlib.MAX_WBITS}


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: the status and a short message (no request data in it)."""

    status: int
    message: str

    def json_body(self) -> bytes:
        code = {413: "payload_too_large", 415: "unsupported_encoding", 411: "length_required"}.get(
            self.status, "bad_request")
        return json.dumps({"error": {"code": code, "message": self.message}}).encode()


@dataclass(frozen=True)
class BodyLimit:
    """How large a request body may be, and which content codings a server reads.

    Args:
        max_bytes: the most bytes a body may have on the wire.
        max_inflated_bytes: the most bytes a compressed body may inflate to.
        encodings: the ``Content-Encoding`` values accepted besides ``identity`` (each one of
            ``deflate``, ``gzip``): only those the server actually inflates.
        require_length: refuse bodies without a ``Content-Length`` (servers that read by length).

    Example:
        >>> BodyLimit(encodings=frozenset({"deflate"})).check_headers("10", "gzip").status
        415
    """

    max_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES
    encodings: frozenset[str] = field(default_factory=frozenset)
    require_length: bool = False

    def __post_init__(self) -> None:
        if self.max_bytes <= 0:
            raise ValueError(f"max_bytes must be > 0, got {self.max_bytes}")
        if self.max_inflated_bytes <= 0:
            raise ValueError(f"max_inflated_bytes must be > 0, got {self.max_inflated_bytes}")
        unknown = set(self.encodings) - set(_WBITS)
        if unknown:
            raise ValueError(f"encodings must be among {sorted(_WBITS)}, got {sorted(unknown)}")

    @classmethod
    def from_settings(cls, http: Any, **kwargs: Any) -> "BodyLimit":
        """The limit of the ``http`` settings section (``max_body_bytes``, ``max_inflated_bytes``)."""
        return cls(max_bytes=http.max_body_bytes, max_inflated_bytes=http.max_inflated_bytes, **kwargs)

    def check_headers(self, content_length: str | None, content_encoding: str | None) -> Refusal | None:
        """A refusal decided from the headers alone (nothing read yet), or None."""
        coding = _coding(content_encoding)
        if coding is not None and coding not in self.encodings:
            return Refusal(415, f"Content-Encoding {coding[:20]!r} is not accepted")
        if content_length is None or not content_length.strip():
            return Refusal(411, "Content-Length is required") if self.require_length else None
        text = content_length.strip()
        if not text.isdigit() or len(text) > 19:
            return Refusal(400, "malformed Content-Length")
        if int(text) > self.max_bytes:
            return Refusal(413, f"the body is larger than {self.max_bytes} bytes")
        return None

    def too_large(self) -> Refusal:
        return Refusal(413, f"the body is larger than {self.max_bytes} bytes")

    def check_inflated(self, body: bytes, content_encoding: str | None) -> Refusal | None:
        """For a compressed ``body``: a refusal if it inflates past ``max_inflated_bytes`` or is
        not valid; measured in bounded steps, nothing kept."""
        coding = _coding(content_encoding)
        if coding is None:
            return None
        if coding not in self.encodings:
            return Refusal(415, f"Content-Encoding {coding[:20]!r} is not accepted")
        inflater = zlib.decompressobj(_WBITS[coding])
        total, pending = 0, body
        try:
            while True:
                chunk = inflater.decompress(pending, _INFLATE_STEP)
                total += len(chunk)
                if total > self.max_inflated_bytes:
                    return Refusal(413, f"the body inflates to more than {self.max_inflated_bytes} bytes")
                pending = inflater.unconsumed_tail
                if inflater.eof or (not chunk and not pending):
                    break
        except zlib.error:
            return Refusal(400, f"the body is not valid {coding} data")
        if not inflater.eof:
            return Refusal(400, f"the {coding} body is truncated")
        return None


def _coding(content_encoding: str | None) -> str | None:
    """The single content coding named, lower-cased; None for none or ``identity``."""
    if content_encoding is None:
        return None
    coding = content_encoding.strip().lower()
    return None if coding in ("", "identity") else coding


# -- ASGI (FastAPI / Starlette) ---------------------------------------------------------------------

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyLimitMiddleware:
    """Pure ASGI middleware applying a :class:`BodyLimit` before the app sees the request.

    The body is read here, counted as it streams, and handed to the app from memory; the app
    (its authentication, its body parsing) runs only for a body within the limit.

    Example:
        >>> app.add_middleware(BodyLimitMiddleware, limit=BodyLimit(max_bytes=1 << 20))  # doctest: +SKIP
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], *, limit: BodyLimit) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        headers = _asgi_headers(scope.get("headers") or ())
        refusal = self.limit.check_headers(headers.get("content-length"), headers.get("content-encoding"))
        if refusal is not None:
            await _asgi_refuse(send, refusal)
            return
        messages: list[dict[str, Any]] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                messages.append(message)
                break
            size += len(message.get("body", b""))
            if size > self.limit.max_bytes:
                await _asgi_refuse(send, self.limit.too_large())
                return
            messages.append(message)
            if not message.get("more_body", False):
                break
        replay = iter(messages)

        async def buffered() -> dict[str, Any]:
            nxt = next(replay, None)
            return nxt if nxt is not None else await receive()

        await self.app(scope, buffered, send)


def _asgi_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        if key in ("content-length", "content-encoding"):
            if key in out:  # two lengths or codings: ambiguous framing, refuse it as malformed
                out[key] = "duplicate"
            else:
                out[key] = value.decode("latin-1")
    return out


async def _asgi_refuse(send: Send, refusal: Refusal) -> None:
    body = refusal.json_body()
    await send({"type": "http.response.start", "status": refusal.status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


# -- Sanic (rasa-sdk's action server) ----------------------------------------------------------------


def limit_sanic(app: Any, limit: BodyLimit) -> Any:
    """Apply ``limit`` to a Sanic app: ``REQUEST_MAX_SIZE`` for the wire size (Sanic refuses a
    larger declared length before reading, and stops reading a longer stream), and a first request
    middleware for encodings and the inflated size, which runs before any handler."""
    from sanic import response
    from sanic.exceptions import PayloadTooLarge

    app.config.REQUEST_MAX_SIZE = limit.max_bytes

    def _refuse(refusal: Refusal) -> Any:
        return response.raw(refusal.json_body(), status=refusal.status, content_type="application/json")

    async def _too_large(_request: Any, _exc: Exception) -> Any:
        # Sanic raises this while reading a streamed body; an app's catch-all handler (rasa-sdk
        # answers any exception with a 500 that quotes the body) must not get it
        return _refuse(limit.too_large())

    app.error_handler.add(PayloadTooLarge, _too_large)

    async def _check_body(request: Any) -> Any:
        headers = request.headers
        refusal = limit.check_headers(headers.get("content-length"), headers.get("content-encoding"))
        if refusal is None and request.body:
            refusal = limit.check_inflated(request.body, headers.get("content-encoding"))
        return None if refusal is None else _refuse(refusal)

    app.register_middleware(_check_body, "request", priority=1000)
    return app
