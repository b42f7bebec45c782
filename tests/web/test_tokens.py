"""Tokens: signed, expiring, bound to the secret; the secret file is owner-only; the CLI prints one."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from engine.web.tokens import BadToken, TokenSigner, load_secret


def test_a_token_names_its_customer_until_it_expires():
    signer = TokenSigner(b"s" * 32)
    token = signer.issue("C001", ttl_s=60, now=1000)
    assert signer.verify(token, now=1059).subject == "C001"
    with pytest.raises(BadToken, match="expired"):
        signer.verify(token, now=1060)


def test_a_forged_or_altered_token_is_refused():
    token = TokenSigner(b"s" * 32).issue("C001", ttl_s=60)
    with pytest.raises(BadToken, match="signature"):
        TokenSigner(b"t" * 32).verify(token)
    payload, sig = token.split(".")
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "C002"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode() + "." + sig
    with pytest.raises(BadToken):
        TokenSigner(b"s" * 32).verify(forged)
    for junk in ("", "abc", "a.b.c", "x" * 5000, "é.é"):
        with pytest.raises(BadToken):
            TokenSigner(b"s" * 32).verify(junk)


def test_an_agent_cookie_is_not_a_customer_token():
    signer = TokenSigner(b"s" * 32)
    with pytest.raises(BadToken, match="kind"):
        signer.verify(signer.issue("ana", ttl_s=60, kind="agent"), kind="customer")


def test_the_secret_is_made_once_owner_only(tmp_path):
    first = load_secret(None, tmp_path)
    assert load_secret(None, tmp_path) == first
    mode = stat.S_IMODE(os.stat(tmp_path / "web_secret").st_mode)
    assert mode == 0o600
    assert load_secret("configured-secret-value", tmp_path) == b"configured-secret-value"


def test_shopassist_token_prints_a_token_as_its_last_line(tmp_path):
    env = dict(os.environ, SHOPASSIST_DATA_DIR=str(tmp_path), SHOPASSIST_WEB__SECRET="cli-secret-0123456789abcdef")
    out = subprocess.run([sys.executable, "-m", "engine.cli", "token", "--customer", "C001", "--ttl", "120"],
                         capture_output=True, text=True, env=env, check=True, timeout=120)
    token = out.stdout.strip().splitlines()[-1]
    claims = TokenSigner(b"cli-secret-0123456789abcdef").verify(token)
    assert claims.subject == "C001"
