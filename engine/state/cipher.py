"""Encryption of the values a tracker store keeps but must not keep in clear (Fernet, with retention).

A :class:`FieldCipher` turns any JSON value into a Fernet token (AES-128-CBC + HMAC-SHA256, with
the time it was sealed) and back. Tokens older than ``retention_days`` no longer decrypt: they are
:class:`Expired`, and the store treats the value as gone. The key comes from
``privacy.key`` (``SHOPASSIST_PRIVACY__KEY``; several comma-separated keys, the newest first, let
an old key keep decrypting while the new one encrypts); without one, a key is generated once and
kept in ``<data_dir>/privacy.key``, readable by its owner only, like any other secret.

Example:
    >>> cipher = FieldCipher(Fernet.generate_key(), retention_days=30)        # doctest: +SKIP
    >>> cipher.decrypt(cipher.encrypt("221 Baker Street"))                    # doctest: +SKIP
    '221 Baker Street'
"""

from __future__ import annotations

import json
import logging
import os
import stat
import time
from pathlib import Path
from typing import Any

from engine.errors import ConfigError

__all__ = ["FieldCipher", "Expired", "KEY_FILE"]

log = logging.getLogger("shopassist.privacy")

#: the generated key's file name inside the data directory
KEY_FILE = "privacy.key"
_DAY_S = 86_400


def _fernet() -> Any:
    try:
        from cryptography import fernet
    except ImportError as exc:  # a core dependency; a broken install still gets a clear message
        raise ConfigError("encrypting personal data needs cryptography: pip install cryptography") from exc
    return fernet


class Expired(Exception):
    """A token that no longer decrypts: older than the retention, or sealed with an unknown key."""


class FieldCipher:
    """Seals JSON values with Fernet; tokens expire after ``retention_days``.

    Args:
        keys: one Fernet key, or several (the first encrypts, all decrypt), as bytes or str.
        retention_days: how long a sealed value stays readable.

    Example:
        >>> FieldCipher.from_settings(settings.privacy, settings.resolved_data_dir)  # doctest: +SKIP
    """

    def __init__(self, keys: bytes | str | list[bytes | str], *, retention_days: float = 30.0) -> None:
        if retention_days <= 0:
            raise ValueError(f"retention_days must be > 0, got {retention_days}")
        fernet = _fernet()
        raw = keys if isinstance(keys, list) else [keys]
        parts = [k.encode() if isinstance(k, str) else k for k in raw]
        if not parts:
            raise ValueError("at least one key is needed")
        try:
            self._fernet = fernet.MultiFernet([fernet.Fernet(k.strip()) for k in parts])
            self._first = fernet.Fernet(parts[0].strip())
        except (ValueError, TypeError) as exc:
            raise ValueError("keys must be Fernet keys (urlsafe base64 of 32 bytes)") from exc
        self._invalid = fernet.InvalidToken
        self._ttl = max(1, int(retention_days * _DAY_S))

    def __repr__(self) -> str:  # never the key
        return f"FieldCipher(retention_days={self._ttl / _DAY_S:g})"

    @classmethod
    def from_settings(cls, privacy: Any, data_dir: Path) -> "FieldCipher":
        """The cipher of ``privacy`` settings: its key, else the data directory's generated one."""
        configured = privacy.key.get_secret_value() if privacy.key is not None else ""
        keys = [k.strip() for k in configured.split(",") if k.strip()] or [load_or_create_key(Path(data_dir))]
        return cls(keys, retention_days=privacy.retention_days)

    @classmethod
    def ephemeral(cls, *, retention_days: float = 30.0) -> "FieldCipher":
        """A cipher with a key of this process only (sealed values die with it)."""
        return cls(_fernet().Fernet.generate_key(), retention_days=retention_days)

    def encrypt(self, value: Any, *, at: float | None = None) -> str:
        """``value`` (any JSON) as a token; ``at``: the time it counts as sealed (default now)."""
        data = json.dumps(value, ensure_ascii=False).encode("utf-8")
        return self._first.encrypt_at_time(data, int(time.time() if at is None else at)).decode("ascii")

    def decrypt(self, token: str) -> Any:
        """The value sealed in ``token``.

        Raises:
            Expired: older than the retention, damaged, or sealed with a key no longer configured.
        """
        try:
            return json.loads(self._fernet.decrypt(token.encode("ascii"), ttl=self._ttl))
        except (self._invalid, UnicodeError, ValueError, TypeError) as exc:
            raise Expired(str(exc) or type(exc).__name__) from None

    def sealed_at(self, token: str) -> float:
        """When ``token`` was sealed (UNIX time); it carries the time in clear, signed."""
        try:
            return float(self._fernet.extract_timestamp(token.encode("ascii")))
        except (self._invalid, UnicodeError, ValueError, TypeError) as exc:
            raise Expired(str(exc) or type(exc).__name__) from None


def load_or_create_key(data_dir: Path) -> bytes:
    """The key kept in ``<data_dir>/privacy.key``, created owner-only (0600) on first use (logged)."""
    path = data_dir / KEY_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read_key(path)
        key = _fernet().Fernet.generate_key()
        with os.fdopen(fd, "wb") as f:
            f.write(key + b"\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise ConfigError(f"cannot keep the privacy key in {path}: {exc}; set SHOPASSIST_PRIVACY__KEY") from exc
    log.warning("no privacy.key configured: generated one in %s (owner-only); back it up with the data, "
                "or set SHOPASSIST_PRIVACY__KEY, or encrypted conversation fields cannot be read", path)
    return key


def _read_key(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)
        log.warning("%s was readable by others (mode %o): made owner-only", path, mode)
    for _ in range(50):  # another process may have created it a moment ago and be writing it
        key = path.read_bytes().strip()
        if key:
            return key
        time.sleep(0.02)
    raise ConfigError(f"{path} is empty; delete it or set SHOPASSIST_PRIVACY__KEY")
