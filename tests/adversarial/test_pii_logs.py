"""No raw email, phone number, street address or card number in logs or traces.

Turns full of personal data go through the real engine on every path that logs: a normal turn,
an internal error whose exception quotes the customer (logged with its traceback), a locked
tracker store, a downed order service, and the action server's error path. Every log record of
every logger is captured at DEBUG and must carry the placeholders only.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid

import pytest

from connectors.rest import RestBackend
from engine import rasa_actions
from engine.responses.templates import Templates
from engine.state.stores import SQLiteTrackerStore
from tests.adversarial.conftest import assemble, assert_safe_reply
from tests.adversarial.servers import free_port
from tests.integration.test_rasa_protocol import DOMAIN, call, post, serve_actions, tracker

pytestmark = [pytest.mark.integration, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:Your versions of rasa and rasa_sdk:UserWarning")]

PII = {
    "email": "jane.doe+orders@example.com",
    "phone": "+1 415-555-0199",
    "card": "4111 1111 1111 1111",
    "card_dashes": "5500-0000-0000-0004",
    "address": "42 Wallaby Way",
    "zh_address": "南京东路100号",
}
TURNS = [
    f"my email is {PII['email']} and my phone is {PII['phone']}",
    f"charge my card {PII['card']} for order 100023",
    f"send it to {PII['address']} instead, card {PII['card_dashes']}",
    f"请寄到上海市{PII['zh_address']}，电话{PII['phone']}",
    f"where is my order 100023? contact {PII['email']}",
]


def raw_pii_in(text: str) -> list[str]:
    return [k for k, v in PII.items() if v in text]


class ExplodingRetriever:
    """A retriever whose failure message quotes the query, as library errors often do."""

    languages = ["en", "zh"]

    def retrieve(self, query: str, *, top_k: int = 3, language: str | None = None):
        raise ValueError(f"could not embed {query!r}")


class ExplodingEngine:
    """For the action server's error path: fails with the customer's text in the exception."""

    templates = Templates(store="Test")

    def state(self, session_id):
        raise RuntimeError(f"state of {session_id} unreadable near {PII['email']}")

    def respond(self, session_id, text, *, customer_id=None):
        raise RuntimeError(f"cannot answer {text!r}")


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records too
    return caplog


def check_turns(eng, all_logs, session: str) -> int:
    n = 0
    for turn in TURNS:
        reply = eng.respond(session, turn, customer_id="C001")
        assert_safe_reply(reply, turn)
        assert raw_pii_in(json.dumps(reply.trace, ensure_ascii=False, default=str)) == [], reply.trace
        n += 1
    return n


def test_normal_turns_log_and_trace_no_pii(engine, all_logs):
    check_turns(engine, all_logs, f"pii-{uuid.uuid4().hex[:6]}")
    assert raw_pii_in(all_logs.text) == []


def test_internal_errors_mask_pii_in_messages_and_tracebacks(engine, all_logs):
    eng = assemble(engine, retriever=ExplodingRetriever())
    check_turns(eng, all_logs, f"pii-err-{uuid.uuid4().hex[:6]}")
    logged = all_logs.text
    assert "Traceback" in logged and "could not embed" in logged  # the errors were logged, with tracebacks
    assert raw_pii_in(logged) == [], logged[-2000:]
    assert "[email]" in logged


def test_store_and_service_outages_log_no_pii(engine, all_logs, tmp_path):
    store = SQLiteTrackerStore(tmp_path / "t.db", timeout_s=0.2)
    rest = RestBackend(f"http://127.0.0.1:{free_port()}", "token", timeout_s=0.3, connect_timeout_s=0.2,
                       retries=0)
    eng = assemble(engine, store=store, orders=rest)
    holder = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        check_turns(eng, all_logs, f"pii-locked-{uuid.uuid4().hex[:6]}")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    check_turns(eng, all_logs, f"pii-rest-{uuid.uuid4().hex[:6]}")  # the order service is down
    assert "database is locked" in all_logs.text and "unreachable" in all_logs.text  # both were logged
    assert raw_pii_in(all_logs.text) == []


def test_action_server_error_path_logs_no_pii(all_logs):
    rasa_actions.use_engine(ExplodingEngine())
    try:
        with serve_actions() as url:
            for turn in TURNS:
                r = post(url, call("action_shopassist_respond",
                                   tracker(f"pii {PII['email']}", turn, customer="C001"), domain=DOMAIN))
                assert r.status_code == 200 and "Traceback" not in r.text
                assert raw_pii_in(r.text) == []
    finally:
        rasa_actions.use_engine(None)
    assert "Traceback" in all_logs.text  # logged with the traceback, masked
    assert raw_pii_in(all_logs.text) == [], all_logs.text[-2000:]
