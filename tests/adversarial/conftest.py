"""Checks shared by the adversarial tests: what a reply shown to a customer may never contain."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.engine import Engine
from engine.flows.orders import OrderFlows
from engine.router import Router
from engine.state.stores import InMemoryTrackerStore
from tests.adversarial.corpus import LEAK_MARKERS

ROUTES = {"template", "flow", "retrieval", "handoff", "fallback"}


def shown_text(sent: str | bytes) -> str:
    return sent if isinstance(sent, str) else sent.decode("utf-8", "replace")


def assert_safe_text(text: Any, sent: str | bytes, where: str = "reply") -> None:
    """A non-empty, encodable customer text with no traceback or exception name in it (unless the
    customer typed that very marker and the reply quotes it)."""
    typed = shown_text(sent)
    assert isinstance(text, str) and text.strip(), f"{where}: empty reply to {typed[:60]!r}"
    text.encode("utf-8")  # no lone surrogates: every channel can send it
    leaked = [m for m in LEAK_MARKERS if m in text and m not in typed]
    assert not leaked, f"{where}: {leaked} in {text[:300]!r} (sent {typed[:60]!r})"


def assert_safe_reply(reply, sent: str | bytes) -> None:
    """A whole :class:`engine.types.Reply`: safe text, a known route, a serialisable record."""
    assert_safe_text(reply.text, sent)
    assert reply.route in ROUTES, reply.route
    assert 0.0 <= reply.confidence <= 1.0
    json.dumps(reply.to_dict(), ensure_ascii=False, default=str).encode("utf-8")


@pytest.fixture(scope="session")
def adversarial_n() -> int:
    """How many generated inputs the Python API test sends (benchmarks/adversarial.py sends 10,000)."""
    import os

    return int(os.environ.get("SHOPASSIST_ADVERSARIAL_N", "2000"))


def assemble(engine: Engine, *, store=None, locks=None, orders=None, retriever=None) -> Engine:
    """The session engine's stages (real NLU, retrieval, flows, templates) around another tracker
    store, lock, order backend or FAQ retriever (default: an in-memory store, the same others)."""
    r, s = engine.router, engine.settings
    flows = r._orders if orders is None else OrderFlows(
        orders, engine.templates, return_window_days=s.dialogue.return_window_days,
        max_reasks=s.dialogue.max_reasks, currency_symbol=s.store.currency_symbol)
    router = Router(templates=engine.templates, orders=flows, retriever=retriever or r._retriever, generator=r._gen,
                    products=r._products, dialogue=s.dialogue, retrieval=s.retrieval)
    return Engine(s, nlu=engine.nlu, router=router, store=store if store is not None else InMemoryTrackerStore(),
                  templates=engine.templates, locks=locks, orders=orders or engine.orders)
