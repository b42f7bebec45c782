"""Signed tokens: who a browser speaks for, and an agent's login, without a server-side table.

A token is ``<payload>.<signature>``: the payload is URL-safe base64 of a small JSON object
(``sub``: the customer or agent, ``exp``: expiry in Unix seconds, ``kind``: ``customer`` or
``agent``), the signature HMAC-SHA256 of the payload under the web secret. The secret is
``web.secret`` (``SHOPASSIST_WEB__SECRET``), else a random one kept in ``<data_dir>/web_secret``,
created owner-only (0600) on first use, so every worker on one data directory signs alike.

Example:
    >>> signer = TokenSigner(b"k" * 32)
    >>> signer.verify(signer.issue("C001", ttl_s=60)).subject
    'C001'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TokenSigner", "Claims", "BadToken", "load_secret", "SECRET_FILE"]

SECRET_FILE = "web_secret"
_MAX_TOKEN_CHARS = 2048


class BadToken(ValueError):
    """A token that is malformed, forged, of the wrong kind or expired (the message says which)."""


@dataclass(frozen=True)
class Claims:
    """What a valid token says."""

    subject: str
    kind: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Issues and checks tokens under one secret.

    Args:
        secret: the key (at least 16 bytes).
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError(f"the web secret must be at least 16 bytes, got {len(secret)}")
        self._key = secret

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def issue(self, subject: str, *, ttl_s: int, kind: str = "customer", now: float | None = None) -> str:
        """A token for ``subject`` valid ``ttl_s`` seconds."""
        if not subject or not subject.strip():
            raise ValueError("the token's subject must be a non-empty id")
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be > 0, got {ttl_s}")
        claims = {"sub": subject.strip(), "exp": int((now or time.time()) + ttl_s), "kind": kind,
                  "n": secrets.token_hex(4)}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str, *, kind: str = "customer", now: float | None = None) -> Claims:
        """The claims of ``token``.

        Raises:
            BadToken: malformed, not signed by this secret, of another kind, or expired.
        """
        if (not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS or token.count(".") != 1
                or not token.isascii()):
            raise BadToken("malformed token")
        payload, signature = token.split(".")
        if not hmac.compare_digest(signature.encode("ascii", "replace"), self._sign(payload).encode("ascii")):
            raise BadToken("the token's signature does not match")
        try:
            data = json.loads(_unb64(payload))
            claims = Claims(subject=str(data["sub"]), kind=str(data.get("kind", "customer")), expires=int(data["exp"]))
        except (ValueError, KeyError, TypeError):
            raise BadToken("malformed token") from None
        if claims.kind != kind:
            raise BadToken("a token of another kind")
        if claims.expires <= (now or time.time()):
            raise BadToken("the token has expired")
        return claims

    def mac(self, message: str) -> str:
        """A keyed digest of ``message`` (CSRF tokens bound to an agent's login)."""
        return self._sign(_b64(message.encode("utf-8")))


def load_secret(configured: str | None, data_dir: Path) -> bytes:
    """The web secret: ``configured`` when set, else the data directory's, made on first use.

    The file is created with ``O_EXCL`` and mode 0600, so two workers starting together agree on
    one secret and nobody else on the machine can read it.
    """
    if configured:
        return configured.encode("utf-8")
    path = Path(data_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another worker is writing it right now
            text = path.read_text(encoding="ascii").strip()
            if text:
                return text.encode("ascii")
            time.sleep(0.05)
        raise RuntimeError(f"the web secret file {path} is empty") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip().encode("ascii")
