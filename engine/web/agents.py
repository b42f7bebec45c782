"""Agent accounts of the console: names and password hashes from ``web.agents``
(``SHOPASSIST_WEB__AGENTS='{"ana": "pbkdf2_sha256$..."}'``), never passwords in clear.

A hash is ``pbkdf2_sha256$<iterations>$<salt>$<digest>`` (base64url); make one with
``python -m engine.web.agents hash`` (reads the password without echoing it).

Example:
    >>> accounts = AgentAccounts({"ana": hash_password("s3cret!", iterations=1000)})
    >>> accounts.check("ana", "s3cret!"), accounts.check("ana", "wrong")
    (True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sys

__all__ = ["AgentAccounts", "hash_password", "verify_password"]

_SCHEME = "pbkdf2_sha256"
_ITERATIONS = 200_000
_MAX_PASSWORD = 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, iterations: int = _ITERATIONS) -> str:
    """A salted PBKDF2-SHA256 hash of ``password`` to put in ``web.agents``."""
    if not password:
        raise ValueError("the password must not be empty")
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{_SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant time; False for a malformed hash)."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != _SCHEME or len(password) > _MAX_PASSWORD:
            return False
        want = _unb64(digest)
        got = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), _unb64(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


class AgentAccounts:
    """The agents who may log in to the console.

    Args:
        hashes: agent name -> password hash.

    Raises:
        ValueError: a hash that is not ``pbkdf2_sha256$...`` (a password given in clear).
    """

    def __init__(self, hashes: dict[str, str]) -> None:
        for name, stored in hashes.items():
            if not name or not stored.startswith(f"{_SCHEME}$") or stored.count("$") != 3:
                raise ValueError(f"web.agents.{name}: expected a {_SCHEME}$... hash "
                                 "(python -m engine.web.agents hash), not a password")
        self._hashes = dict(hashes)
        # a name that does not exist still costs one hash: no timing difference tells it apart
        self._dummy = hash_password(secrets.token_hex(8), iterations=_ITERATIONS)

    def __contains__(self, name: str) -> bool:
        return name in self._hashes

    def __len__(self) -> int:
        return len(self._hashes)

    def check(self, name: str, password: str) -> bool:
        stored = self._hashes.get(name)
        ok = verify_password(password, stored or self._dummy)
        return ok and stored is not None


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.web.agents hash``: print a hash for a password read from the terminal
    (or one line of stdin when piped)."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["hash"]:
        print("usage: python -m engine.web.agents hash", file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("password: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    print(hash_password(password))
    return 0


if __name__ == "__main__":
    sys.exit(main())
