"""The replacement flow end to end on the real engine (real NLU, flows, templates) over a copy of
the demo order database: it was added as data (a flow spec, templates, a catalog line and intent
examples) plus a connector method, and it behaves like every other write flow: it asks what is
wrong, confirms, writes once, and a write whose turn was lost is told truthfully."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from connectors.sql import SqlBackend
from engine.state.stores import SQLiteTrackerStore
from tests.adversarial.conftest import assemble
from tests.adversarial.test_faults import fresh_store_db
from tests.adversarial.test_write_safety import _FailingCommits

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _replacements(db: str) -> list[tuple[str, str]]:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT order_id, reason FROM replacements").fetchall()


@pytest.fixture
def shop(engine, demo_store, tmp_path):
    db = fresh_store_db(demo_store, tmp_path)
    backend = SqlBackend(db)
    yield assemble(engine, orders=backend, store=SQLiteTrackerStore(tmp_path / "tracker.db")), db
    backend.close()


@pytest.mark.parametrize("opening, problem, yes", [
    ("please send me a replacement for order 100024", "the sole came off after one run", "yes please"),
    ("订单100024我要换新", "鞋底开胶了", "好的，确认"),
])
def test_the_flow_asks_what_is_wrong_confirms_and_writes_once(shop, opening, problem, yes):
    eng, db = shop
    session = f"rp-{uuid.uuid4().hex[:8]}"
    asked = eng.respond(session, opening, customer_id="C001")
    assert asked.intent == "request_replacement" and asked.route == "flow", asked.text
    assert eng.state(session, customer_id="C001").slots["flow_step"] == "problem"  # a step name of its own
    confirm = eng.respond(session, problem, customer_id="C001")
    assert "100024" in confirm.text and problem in confirm.text and _replacements(db) == []
    done = eng.respond(session, yes, customer_id="C001")
    assert _replacements(db) == [("100024", problem)]
    assert "RP1" in done.text, done.text
    assert eng.state(session, customer_id="C001").active_flow is None


def test_an_undelivered_order_is_refused_before_anything_is_asked(shop):
    eng, db = shop
    reply = eng.respond(f"rp-{uuid.uuid4().hex[:8]}", "my order 100023 is broken, send me a replacement",
                        customer_id="C001")
    assert "hasn't been delivered" in reply.text and _replacements(db) == []


def test_a_replacement_whose_turn_was_not_recorded_is_told_truthfully(engine, demo_store, tmp_path):
    db = fresh_store_db(demo_store, tmp_path)
    backend = SqlBackend(db)
    store = _FailingCommits(tmp_path / "tracker.db")
    eng = assemble(engine, orders=backend, store=store)
    session = f"rp-{uuid.uuid4().hex[:8]}"
    eng.respond(session, "order 100024 arrived damaged, please send a replacement", customer_id="C001")
    store.fail_when_closing_flow = True
    eng.respond(session, "yes", customer_id="C001")
    store.fail_when_closing_flow = False
    assert len(_replacements(db)) == 1
    nxt = eng.respond(session, "yes", customer_id="C001")  # the conversation still waits at the question
    assert "RP1" in nxt.text and "haven't" not in nxt.text, nxt.text
    assert len(_replacements(db)) == 1  # told, never written twice
    assert eng.state(session, customer_id="C001").active_flow is None
    backend.close()
