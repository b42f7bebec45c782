"""Who is asking: the customer a browser speaks for (a bearer token), and the agent behind a
console request (a signed cookie plus a CSRF token on everything that changes state).

The customer is never a field the browser sets: only a token signed with the web secret names
one (``Authorization: Bearer <token>``, or the WebSocket's ``token``). No token: anonymous. A
console login sets the ``shopassist_agent`` cookie (HttpOnly, SameSite=Strict); its CSRF token is
a keyed digest of the cookie, sent back by the console's script in ``X-CSRF-Token``.

Example:
    >>> auth = WebAuth(TokenSigner(b"k" * 32), AgentAccounts({}), agent_ttl_s=3600)
    >>> auth.customer(None) is None
    True
"""

from __future__ import annotations

import hmac
from typing import Any

from engine.web.agents import AgentAccounts
from engine.web.tokens import BadToken, TokenSigner

__all__ = ["WebAuth", "Unauthorized", "AGENT_COOKIE", "CSRF_HEADER"]

AGENT_COOKIE = "shopassist_agent"
LOGIN_COOKIE = "shopassist_login"
CSRF_HEADER = "x-csrf-token"


class Unauthorized(PermissionError):
    """No valid credentials (a bad, forged or expired token; no agent login; a missing CSRF token)."""


class WebAuth:
    """Checks customers' tokens and agents' logins.

    Args:
        signer: the web secret's signer.
        accounts: the console's agents.
        agent_ttl_s: how long a console login lasts.
    """

    def __init__(self, signer: TokenSigner, accounts: AgentAccounts, *, agent_ttl_s: int) -> None:
        self.signer = signer
        self.accounts = accounts
        self.agent_ttl_s = agent_ttl_s

    def customer(self, token: str | None) -> str | None:
        """The customer ``token`` names; None when there is no token (anonymous).

        Raises:
            Unauthorized: the token is malformed, forged or expired.
        """
        if token is None or token == "":
            return None
        try:
            return self.signer.verify(token, kind="customer").subject
        except BadToken as exc:
            raise Unauthorized(str(exc)) from None

    def customer_from_header(self, header: str | None) -> str | None:
        """The customer of an ``Authorization`` header (``Bearer <token>``)."""
        if header is None:
            return None
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("expected Authorization: Bearer <token>")
        return self.customer(token.strip())

    # -- agents ------------------------------------------------------------------------------
    def login(self, name: str, password: str) -> str:
        """A session cookie's value for ``name``.

        Raises:
            Unauthorized: wrong name or password.
        """
        if not isinstance(name, str) or not isinstance(password, str) or not self.accounts.check(name, password):
            raise Unauthorized("wrong name or password")
        return self.signer.issue(name, ttl_s=self.agent_ttl_s, kind="agent")

    def agent(self, cookie: str | None) -> str:
        """The agent of a session cookie.

        Raises:
            Unauthorized: no cookie, or a bad or expired one, or an account since removed.
        """
        if not cookie:
            raise Unauthorized("log in first")
        try:
            name = self.signer.verify(cookie, kind="agent").subject
        except BadToken as exc:
            raise Unauthorized(str(exc)) from None
        if name not in self.accounts:
            raise Unauthorized("this account no longer exists")
        return name

    def csrf_for(self, cookie: str) -> str:
        """The CSRF token that goes with a session (or pre-login) cookie."""
        return self.signer.mac(f"csrf:{cookie}")

    def check_csrf(self, cookie: str | None, given: str | None) -> None:
        """Raises Unauthorized unless ``given`` is the CSRF token of ``cookie``."""
        if not cookie or not given or not hmac.compare_digest(given.encode("utf-8", "replace"),
                                                              self.csrf_for(cookie).encode("ascii")):
            raise Unauthorized("missing or wrong CSRF token")

    def cookie_options(self, secure: bool) -> dict[str, Any]:
        return {"httponly": True, "samesite": "strict", "secure": secure, "path": "/agent"}
