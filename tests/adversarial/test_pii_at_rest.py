"""No raw card number, email, phone number, national id or address at rest.

A real engine conversation (real NLU, flows, SQLite order system) in which the customer types
personal data and changes an order's delivery address goes into a real SQLite tracker store; the
file's bytes (and its WAL), every row, the event log as read back, the feedback records and the
output of ``shopassist learn review`` must hold placeholders or ciphertext only, while the address
change still reaches the order system with the address the customer typed. The store-level checks
run on every backend (memory, SQLite, and PostgreSQL / Redis where their servers are configured),
and the encryption's key handling and retention are checked on their own.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import stat
import time
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from connectors.sql import SqlBackend
from engine.privacy import mask_pii
from engine.settings import PrivacySettings
from engine.state.cipher import FieldCipher
from engine.state.events import BotUttered, HandoffRequested, SlotSet, UserUttered
from engine.state.sealing import Sealer
from engine.state.stores import SQLiteTrackerStore, build_tracker_store
from engine.state.tracker import DialogueState
from tests.adversarial.conftest import assemble

ADDRESS = "Flat 3, 221 Baker Street, Marylebone, London NW1 6XE"
PII = {
    "email": "jane.doe+orders@example.com",
    "phone": "+1 415-555-0199",
    "card": "4111 1111 1111 1111",
    "card_digits": "4111111111111111",
    "cn_id": "11010519491231002X",
    "ssn": "078-05-1120",
    "address": ADDRESS,
    "address_part": "Marylebone",
}


def raw_in(blob: str | bytes) -> list[str]:
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    return [k for k, v in PII.items() if v in text or v.lower() in text.lower()]


# -- masking national ids --------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("my id is 11010519491231002X thanks", "my id is [national_id] thanks"),
    ("身份证号110105199003071239", "身份证号[national_id]"),
    ("ssn 078-05-1120 please", "ssn [national_id] please"),
    ("ssn 078 05 1120", "ssn [national_id]"),
])
def test_national_ids_are_masked(text, expected):
    assert mask_pii(text) == expected


def test_an_eighteen_digit_number_with_a_wrong_checksum_is_not_an_id():
    assert "[national_id]" not in mask_pii("ref 110105194912310022")


# -- the real engine conversation over a real SQLite store -----------------------------------------


@pytest.fixture
def order_system(demo_store, tmp_path):
    """A private copy of the demo order database (this test changes an order's address)."""
    db = tmp_path / "orders.db"
    shutil.copyfile(demo_store.db_path, db)
    return SqlBackend(f"sqlite:///{db}"), db


@pytest.mark.integration
@pytest.mark.slow
def test_a_conversation_full_of_pii_leaves_none_at_rest(engine, order_system, tmp_path, capsys):
    backend, orders_db = order_system
    key = Fernet.generate_key().decode()
    privacy = PrivacySettings(key=key)
    tracker_db = tmp_path / "tracker.db"
    store = build_tracker_store("sqlite", tracker_db, window=10,
                                sealer=Sealer.from_settings(privacy, tmp_path))
    eng = assemble(engine, store=store, orders=backend)
    sid = f"pii-{uuid.uuid4().hex[:8]}"
    say = lambda text: eng.respond(sid, text, customer_id="C002")  # noqa: E731

    say(f"hi, my email is {PII['email']} and my phone is {PII['phone']}")
    say(f"my card {PII['card']} was charged twice, my id is {PII['cn_id']} and ssn {PII['ssn']}")
    asked = say("I want to change the delivery address of order 100031")
    assert asked.route == "flow", asked.text
    confirm = say(ADDRESS)
    assert ADDRESS in confirm.text, confirm.text  # the customer sees the address to confirm it
    done = say("yes")
    assert "100031" in done.text, done.text
    eng.feedback(sid, rating=-1, comment=f"call me on {PII['phone']} or {PII['email']}", customer_id="C002")
    handoff = say(f"I want to talk to a human agent, card {PII['card_digits']}, mail {PII['email']}")
    assert handoff.route == "handoff", handoff.text

    # the right address reached the order system, decrypted from the store on the confirming turn
    with sqlite3.connect(orders_db) as conn:
        (shipping,) = conn.execute("SELECT shipping_address FROM orders WHERE order_id = '100031'").fetchone()
    assert shipping == ADDRESS

    # nothing raw in the file, its WAL, or any row
    store.close()
    for path in tracker_db.parent.glob("tracker.db*"):
        assert raw_in(path.read_bytes()) == [], path.name
    with sqlite3.connect(tracker_db) as conn:
        for table in ("events", "snapshots", "feedback"):
            for row in conn.execute(f"SELECT * FROM {table}"):
                assert raw_in(json.dumps(row, default=str)) == [], (table, row)
        kinds = {r[0] for r in conn.execute("SELECT type FROM events")}
        # the store's conversation ids (the engine may key a conversation by session and customer)
        conversations = [r[0] for r in conn.execute("SELECT DISTINCT session_id FROM events")]
        (summary,) = conn.execute("SELECT data FROM events WHERE type = 'handoff'").fetchone()
    assert {"user", "bot", "slot", "handoff"} <= kinds
    assert "[email]" in summary or "[card]" in summary  # placeholders, not deletion

    # reading back: masked texts, the learning records keep placeholders
    reopened = build_tracker_store("sqlite", tracker_db, window=10, sealer=Sealer.from_settings(privacy, tmp_path))
    logged = [e for c in conversations for e in reopened.events(c)]
    texts = [e.text for e in logged if isinstance(e, (UserUttered, BotUttered))]
    assert any("[email]" in t for t in texts) and any("[national_id]" in t for t in texts)
    said = [getattr(e, "text", "") + getattr(e, "summary", "") for e in logged]
    assert raw_in(json.dumps(said)) == []
    records = reopened.feedback()
    assert records and raw_in(json.dumps(records, default=str)) == []
    assert any("[phone]" in (r.get("comment") or "") for r in records)

    # `shopassist learn review` prints masked text
    from engine.cli import main

    config = tmp_path / "review.yaml"
    config.write_text(json.dumps({"data_dir": str(tmp_path), "tracker": {"path": str(tracker_db)},
                                  "privacy": {"key": key}}))
    assert main(["learn", "review", "--config", str(config), "--all", "--days", "3650", "--json", "-"]) == 0
    printed = capsys.readouterr().out
    assert "[" in printed and raw_in(printed) == []


# -- every store backend, at the storage boundary ------------------------------------------------


def _turn_with_pii() -> tuple[list, list[dict]]:
    events = [
        UserUttered(f"ship it to {ADDRESS}, mail {PII['email']}", intent="change_address"),
        SlotSet("new_address", ADDRESS),
        SlotSet("return_reason", f"broken, call {PII['phone']}"),
        SlotSet("order_id", "100031"),
        BotUttered(f"Change the address of order 100031 to {ADDRESS}?", route="flow"),
        HandoffRequested("stuck", summary=f"slots: new_address={ADDRESS}; user: card {PII['card']} "
                                          f"id {PII['cn_id']}"),
    ]
    feedback = [{"session_id": "s", "turn": 1, "kind": "auto", "text": f"{ADDRESS} {PII['ssn']}",
                 "comment": PII["email"], "reason": "handoff"}]
    return events, feedback


def _raw_dump(harness, store) -> str:
    """Everything the backend holds, as text (what an attacker with the disk or the server sees)."""
    if harness.kind == "memory":
        return repr(vars(store))
    if harness.kind == "sqlite":
        return "".join(p.read_bytes().decode("utf-8", "replace") for p in harness.path.parent.glob("tracker.db*"))
    if harness.kind == "postgres":
        from sqlalchemy import create_engine, text

        engine = create_engine(harness.url)
        with engine.connect() as conn:
            out = [repr(conn.execute(text(f"SELECT * FROM {t}")).all())
                   for t in ("tracker_events", "tracker_snapshots", "tracker_feedback")]
        engine.dispose()
        return "".join(out)
    import redis

    client = redis.Redis.from_url(harness.url)
    out = []
    for key in client.scan_iter(match="*", count=1000):
        kind = client.type(key)
        if kind == b"hash":
            out.append(repr(client.hgetall(key)))
        elif kind == b"list":
            out.append(repr(client.lrange(key, 0, -1)))
        elif kind == b"stream":
            out.append(repr(client.xrange(key)))
        elif kind == b"string":
            out.append(repr(client.get(key)))
    client.close()
    return "".join(out)


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
def harness(request, tmp_path):
    from tests.engine.state.conftest import _delete_redis_prefix, make_harness

    h = make_harness(request, request.param, tmp_path)
    yield h
    for store in h.opened:
        close = getattr(store, "close", None)
        if close is not None:
            close()
    if h.kind == "redis":
        _delete_redis_prefix(h.url, h.prefix)


def test_every_store_keeps_placeholders_and_ciphertext_only(harness):
    from engine.state.retention import Retention

    store = harness.make(window=5, retention=Retention(max_events=100))  # checkpoints written too
    events, feedback = _turn_with_pii()
    sid = f"s-{uuid.uuid4().hex[:8]}"
    state = store.commit(store.load(sid), events, feedback=feedback)
    state = store.commit(state, [UserUttered("yes"), BotUttered("done")])
    assert state.slots["new_address"] == ADDRESS  # the caller's in-memory state is real

    dump = _raw_dump(harness, store)
    assert raw_in(dump) == [], raw_in(dump)
    assert "[address]" in dump and "[email]" in dump

    loaded = store.load(sid) if not harness.durable else harness.make(window=5).load(sid)
    assert loaded.slots["new_address"] == ADDRESS  # decrypted on load, for the flow's next turn
    assert loaded.slots["return_reason"] == f"broken, call {PII['phone']}"
    assert loaded.slots["order_id"] == "100031"
    assert raw_in(repr(loaded.history)) == []
    said = json.dumps([getattr(e, "text", "") + getattr(e, "summary", "") for e in store.events(sid)])
    assert "[address]" in said and raw_in(said) == []
    slots = {e.name: e.value for e in store.events(sid) if isinstance(e, SlotSet)}
    assert slots["new_address"] == ADDRESS  # the log replays: ciphertext at rest, the value when read
    assert raw_in(json.dumps(store.feedback(), default=str)) == []


# -- the key, and retention ----------------------------------------------------------------------


def test_without_a_key_one_is_generated_owner_only_and_reused(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="shopassist.privacy")
    first = FieldCipher.from_settings(PrivacySettings(), tmp_path)
    key_file = tmp_path / "privacy.key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert any("privacy.key" in r.getMessage() for r in caplog.records)
    token = first.encrypt("221 Baker Street")
    again = FieldCipher.from_settings(PrivacySettings(), tmp_path)
    assert again.decrypt(token) == "221 Baker Street"


def test_a_configured_key_comes_from_the_environment(tmp_path, monkeypatch):
    from engine.settings import load_settings

    key = Fernet.generate_key().decode()
    monkeypatch.setenv("SHOPASSIST_PRIVACY__KEY", key)
    settings = load_settings(data_dir=tmp_path)
    cipher = FieldCipher.from_settings(settings.privacy, tmp_path)
    assert not (tmp_path / "privacy.key").exists()
    assert Fernet(key.encode()).decrypt(cipher.encrypt("x").encode()) == b'"x"'


def test_an_invalid_key_fails_at_start_up_naming_the_field(monkeypatch):
    from engine.errors import ConfigError
    from engine.settings import load_settings

    monkeypatch.setenv("SHOPASSIST_PRIVACY__KEY", "not-a-fernet-key")
    with pytest.raises(ConfigError, match="privacy.key"):
        load_settings()


def test_encrypted_values_expire_after_the_retention_days(tmp_path):
    cipher = FieldCipher(Fernet.generate_key(), retention_days=30)
    sealer = Sealer(cipher)
    store = SQLiteTrackerStore(tmp_path / "t.db", sealer=sealer)
    state = store.commit(store.load("s"), [SlotSet("new_address", ADDRESS), SlotSet("order_id", "100031")])
    assert store.load("s").slots["new_address"] == ADDRESS
    # the same snapshot, sealed 31 days ago
    old = cipher.encrypt(ADDRESS, at=time.time() - 31 * 86400)
    with sqlite3.connect(tmp_path / "t.db") as conn:
        (text,) = conn.execute("SELECT state FROM snapshots WHERE session_id = 's'").fetchone()
        data = json.loads(text)
        data["slots"]["new_address"] = {"$sealed": old}
        conn.execute("UPDATE snapshots SET state = ? WHERE session_id = 's'", (json.dumps(data),))
    loaded = store.load("s")
    assert "new_address" not in loaded.slots  # gone, as if never typed
    assert loaded.slots["order_id"] == "100031"
    # the next commit purges the expired ciphertext from the snapshot
    store.commit(loaded, [UserUttered("hello")])
    with sqlite3.connect(tmp_path / "t.db") as conn:
        (text,) = conn.execute("SELECT state FROM snapshots WHERE session_id = 's'").fetchone()
    assert old not in text and "new_address" not in json.loads(text)["slots"]
    assert state.version == 2


def test_re_sealing_keeps_the_original_time_so_retention_is_not_renewed(tmp_path):
    cipher = FieldCipher(Fernet.generate_key(), retention_days=30)
    sealer = Sealer(cipher)
    typed_at = time.time() - 10 * 86400
    data = DialogueState("s").to_dict()
    data["slots"]["new_address"] = {"$sealed": cipher.encrypt(ADDRESS, at=typed_at)}
    opened = sealer.open_state(data)
    assert opened.slots["new_address"] == ADDRESS
    resealed = sealer.seal_turn(opened, [UserUttered("hi")], opened.apply(UserUttered("hi"))).state
    token = resealed["slots"]["new_address"]["$sealed"]
    assert abs(cipher.sealed_at(token) - typed_at) < 2


def test_a_state_written_before_sealing_still_loads(tmp_path):
    """Snapshots stored in clear by earlier versions load (and are sealed at their next commit)."""
    path = tmp_path / "t.db"
    store = SQLiteTrackerStore(path, sealer=Sealer(FieldCipher(Fernet.generate_key())))
    store.commit(store.load("s"), [UserUttered("hello")])
    clear = DialogueState("s").apply_all([UserUttered("hello"), SlotSet("new_address", ADDRESS)])
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE snapshots SET state = ?, version = ? WHERE session_id = 's'",
                     (json.dumps(clear.to_dict()), clear.version))
    loaded = store.load("s")
    assert loaded.slots["new_address"] == ADDRESS
    store.commit(loaded, [UserUttered("again")])
    with sqlite3.connect(path) as conn:  # rewritten sealed (freed pages may keep old bytes until a VACUUM)
        assert raw_in(json.dumps(conn.execute("SELECT * FROM snapshots").fetchall())) == []


def test_the_key_file_is_not_readable_by_others_even_if_it_was(tmp_path):
    key_file = tmp_path / "privacy.key"
    key_file.write_text(Fernet.generate_key().decode())
    os.chmod(key_file, 0o644)
    FieldCipher.from_settings(PrivacySettings(), tmp_path)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Path(key_file).read_text().strip()
