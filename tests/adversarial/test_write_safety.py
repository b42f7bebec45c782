"""Data safety of writes and conversations, on the real engine over a copy of the demo order database.

- A write happens only on a clear yes: unclear replies at the confirmation step (generated, both
  languages) re-ask and write nothing; a clear yes writes exactly once.
- A conversation belongs to its customer: another customer (or a guest) on the same session id
  sees none of its state and cannot continue its flow; the owner's flow survives them.
- A write whose turn could not be recorded is told truthfully, then and on the next turn.
- Write ids work for any session id (symbols, non-ASCII, 200 characters).
"""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from pathlib import Path

import pytest

from connectors.sql import SqlBackend
from engine.errors import StoreError
from engine.state.events import FlowCompleted
from engine.state.stores import SQLiteTrackerStore
from tests.adversarial.conftest import assemble
from tests.adversarial.test_faults import fresh_store_db

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CANCEL_EN = "I'd like to cancel order 100031 please"
CANCEL_ZH = "帮我把订单100031取消掉"


def _status(db: str, order_id: str) -> str:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT status FROM orders WHERE order_id = ?", (order_id,)).fetchone()[0]


def _writes(db: str) -> int:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]


@pytest.fixture
def shop(engine, demo_store, tmp_path):
    """An engine over a private copy of the order database and a private tracker."""
    db = fresh_store_db(demo_store, tmp_path)
    backend = SqlBackend(db)
    eng = assemble(engine, orders=backend, store=SQLiteTrackerStore(tmp_path / "tracker.db"))
    yield eng, db
    backend.close()


def _unclear_replies() -> list[str]:
    en = ["what?", "maybe", "really?", "hmm", "not sure", "wait", "idk", "huh?", "why?", "perhaps later",
          "hold on", "is it free?", "are you sure?", "ok?", "yes?", "yes... no", "let me think"]
    zh = ["等一下", "什么？", "真的吗", "也许吧", "再想想", "不确定", "为什么", "好吗", "啥意思", "稍等"]
    lead = ["", "um ", "oh "]
    return [f"{a}{b}" for a, b in itertools.product(lead, en)] + zh


@pytest.mark.parametrize("opening", [CANCEL_EN, CANCEL_ZH])
def test_unclear_replies_never_write(shop, opening):
    eng, db = shop
    before = _writes(db)
    replies = _unclear_replies()
    for i, text in enumerate(replies):
        if i % 2 == 0:  # a new conversation regularly: re-asks hand off after a few unclear answers
            session = f"w-{uuid.uuid4().hex[:8]}"
            asked = eng.respond(session, opening, customer_id="C002")
            assert "100031" in asked.text
        reply = eng.respond(session, text, customer_id="C002")
        assert _status(db, "100031") == "processing", f"{text!r} cancelled the order: {reply.text!r}"
        assert "is cancelled" not in reply.text and "已为您取消" not in reply.text, (text, reply.text)
    assert _writes(db) == before


@pytest.mark.parametrize("opening,yes", [(CANCEL_EN, "yes please, go ahead"), (CANCEL_ZH, "好的，取消吧")])
def test_a_clear_yes_writes_exactly_once(shop, opening, yes):
    eng, db = shop
    session = f"w-{uuid.uuid4().hex[:8]}"
    eng.respond(session, opening, customer_id="C002")
    eng.respond(session, "what?", customer_id="C002")  # asks again, writes nothing
    assert _status(db, "100031") == "processing"
    done = eng.respond(session, yes, customer_id="C002")
    assert _status(db, "100031") == "cancelled", done.text
    assert _writes(db) == 1
    eng.respond(session, yes, customer_id="C002")  # a second yes after the flow ended writes nothing
    assert _writes(db) == 1


def test_another_customer_on_the_same_session_gets_a_fresh_conversation(shop):
    eng, db = shop
    session = f"shared-{uuid.uuid4().hex[:8]}"
    eng.respond(session, "I need to change the delivery address of order 100031", customer_id="C002")
    asked = eng.respond(session, "88 Harbour Road, Flat 9, Portland, OR 97201", customer_id="C002")
    assert "88 Harbour Road" in asked.text  # the confirmation question names it
    # another customer on the same session id: nothing of C002's conversation
    for who in ("C001", None):
        reply = eng.respond(session, "yes", customer_id=who)
        assert "100031" not in reply.text and "Harbour" not in reply.text, reply.text
        assert "100031" not in str(reply.slots) and "Harbour" not in str(reply.slots), reply.slots
        listing = eng.respond(session, "which orders do I have? the first one please", customer_id=who)
        assert "100031" not in listing.text
        if who is not None:
            assert eng.state(session, customer_id=who).customer_id == who
    assert _writes(db) == 0
    # the owner's flow survived them: C002 confirms, the address changes once
    done = eng.respond(session, "yes", customer_id="C002")
    assert "88 Harbour Road" in done.text and _writes(db) == 1


def test_a_guest_conversation_becomes_the_customers(shop, caplog):
    eng, _ = shop
    session = f"guest-{uuid.uuid4().hex[:8]}"
    eng.respond(session, "hi, do you ship to Canada?")
    assert eng.state(session).customer_id is None
    with caplog.at_level("INFO", logger="shopassist.engine"):
        eng.respond(session, "where is my order 100023?", customer_id="C001")
    assert any("now belongs to customer C001" in r.getMessage() for r in caplog.records)
    state = eng.state(session, customer_id="C001")
    assert state.customer_id == "C001" and state.turns == 2  # the guest's turn is part of it
    assert eng.state(session).customer_id == "C001"  # the session id's own conversation is now theirs
    again = eng.respond(session, "and that order?")  # a guest on it again starts afresh
    assert "100023" not in again.text and "100023" not in str(again.slots)


def test_a_session_picking_from_another_customers_listed_orders_gets_nothing(shop):
    eng, _ = shop
    session = f"pick-{uuid.uuid4().hex[:8]}"
    listed = eng.respond(session, "where's my package", customer_id="C001")
    assert listed.slots.get("listed_orders")
    picked = eng.respond(session, "the first one", customer_id="C002")
    for oid in listed.slots["listed_orders"]:
        assert oid not in picked.text


class _FailingCommits(SQLiteTrackerStore):
    """A real SQLite tracker whose commits fail on demand (a store that goes down mid-turn)."""

    fail_when_closing_flow = False

    def commit(self, state, events, **kw):
        if self.fail_when_closing_flow and any(isinstance(e, FlowCompleted) for e in events):
            raise StoreError("injected: the conversation store went down")
        return super().commit(state, events, **kw)


@pytest.mark.parametrize("then", ["no", "yes", "where is my order 100031?"])
def test_a_write_whose_turn_was_not_recorded_is_told_truthfully(engine, demo_store, tmp_path, then):
    db = fresh_store_db(demo_store, tmp_path)
    backend = SqlBackend(db)
    store = _FailingCommits(tmp_path / "tracker.db")
    eng = assemble(engine, orders=backend, store=store)
    session = f"r-{uuid.uuid4().hex[:8]}"
    eng.respond(session, CANCEL_EN, customer_id="C002")
    store.fail_when_closing_flow = True
    done = eng.respond(session, "yes", customer_id="C002")
    store.fail_when_closing_flow = False
    assert _status(db, "100031") == "cancelled"
    assert "cancelled" in done.text and "couldn't" not in done.text.lower(), done.text
    assert done.trace.get("turn_recorded") is False
    nxt = eng.respond(session, then, customer_id="C002")
    assert "haven't cancelled" not in nxt.text, nxt.text
    assert "cancelled" in nxt.text, nxt.text
    assert _writes(db) == 1  # told, never written twice
    assert eng.state(session, customer_id="C002").active_flow is None
    backend.close()


@pytest.mark.parametrize("session", [
    "whatsapp:+15551234567", "someone@example.com", "a session with spaces", "会话-中文-🙂",
    "x" * 199, "y" * 126 + "+@ !",
])
def test_write_ids_work_for_any_session_id(shop, session):
    eng, db = shop
    eng.respond(session, CANCEL_EN, customer_id="C002")
    done = eng.respond(session, "yes", customer_id="C002")
    assert "is cancelled" in done.text, done.text
    # a second write in the same conversation gets its own id (the order is already cancelled now:
    # an address change is refused by the order's status, not by a clashing id)
    eng.respond(session, "change the address of order 100031 to 5 Elm Street, Austin, TX 73301", customer_id="C002")
    assert _writes(db) == 1


@pytest.mark.parametrize("length", [127, 150, 200])
def test_every_write_of_a_long_session_id_goes_through(shop, length):
    """Two writes in one conversation whose id is long: each its own id, both applied."""
    eng, db = shop
    session = ("s" * length)[:length]
    eng.respond(session, "please change the delivery address of order 100031 to 9 Bay St, Boston, MA 02108",
                customer_id="C002")
    changed = eng.respond(session, "yes", customer_id="C002")
    assert "9 Bay St" in changed.text, changed.text
    eng.respond(session, CANCEL_EN, customer_id="C002")
    done = eng.respond(session, "yes", customer_id="C002")
    assert "is cancelled" in done.text, done.text
    assert _writes(db) == 2 and _status(db, "100031") == "cancelled"


@pytest.mark.parametrize("lines", [
    ("帮我取消订单100322", "可以，不过是100329吗？", "确认"),
    ("please cancel order 100322", "is order 100329 still processing?", "yes"),
    ("please cancel order 100322", "ok, but 100329?", "ok"),
])
def test_a_question_about_another_order_never_changes_the_order_written(shop, lines):
    """At a confirmation, a question about another order of the same customer is answered; the
    write that follows a yes is the one the question named, never the order asked about."""
    eng, db = shop
    session = f"o-{uuid.uuid4().hex[:8]}"
    for line in lines:
        reply = eng.respond(session, line, customer_id="C039")
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        targets = [r[0] for r in conn.execute("SELECT target FROM audit")]
    assert "100329" not in targets, reply.text
    assert _status(db, "100329") == "processing"
    assert targets in ([], ["100322"]), targets


def test_integrator_calls_without_a_customer_act_on_the_session_ids_own_conversation(shop):
    """``engine.feedback/reset/state(session)`` as DESIGN.md §3 shows them (no customer): the
    integrator's calls reach the conversation the session id holds, whoever it belongs to."""
    eng, _ = shop
    session = f"int-{uuid.uuid4().hex[:8]}"
    eng.respond(session, "where is my order 100023?", customer_id="C001")
    record = eng.feedback(session, rating=-1, correction="track_order")
    [row] = [f for f in eng.store.feedback() if f["id"] == record]
    assert row["text"] and "100023" in row["text"]
    assert eng.state(session).slots.get("order_id") == "100023"
    eng.reset(session)
    assert eng.state(session, customer_id="C001").slots == {}
