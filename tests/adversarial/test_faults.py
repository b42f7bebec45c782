"""Faults through the whole engine: each gives a clear reply and a hand-off, stores nothing half-way,
and the engine recovers when the dependency comes back.

Real dependencies are stopped and started: a SQLite file held by another writer, a private
PostgreSQL and a private Redis (:mod:`tests.adversarial.servers`; skipped with the reason when
their binaries are missing), the real demo order service over HTTP behind a fault injector and a
TCP proxy that plays an outage, a missing embedding model and a damaged FAQ index. The engines
here share the session engine's real NLU, retrieval and templates and swap one dependency.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from connectors import schema
from connectors.demo_service import ServerThread, create_app
from knowledge.kernel.resilience import CircuitBreaker
from connectors.rest import RestBackend
from connectors.sql import SqlBackend
from engine import rasa_actions
from engine.engine import Engine
from engine.state.events import UserUttered
from engine.state.stores import SQLiteTrackerStore
from engine.state.tracker import DialogueState
from tests.adversarial.conftest import assemble, assert_safe_reply
from tests.adversarial.servers import PrivatePostgres, PrivateRedis
from tests.connectors.faults import FaultInjector
from tests.engine.state.conftest import TcpProxy
from tests.integration.test_rasa_protocol import DOMAIN, call, post, serve_actions, tracker

pytestmark = [pytest.mark.integration, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:Your versions of rasa and rasa_sdk:UserWarning")]

ASK = "where is my order 100023?"
TOKEN = "fault-suite-token"


def assert_handoff(reply, error: str | None = None) -> None:
    assert_safe_reply(reply, ASK)
    assert reply.route == "handoff" and reply.handoff, (reply.route, reply.text)
    assert "human" in reply.text or "agent" in reply.text, reply.text
    if error is not None:
        assert reply.trace.get("error") == error, reply.trace


def assert_consistent(store, session: str, turns: int) -> None:
    """Snapshot = replay of the log, and exactly ``turns`` customer turns stored."""
    events = store.events(session)
    assert sum(isinstance(e, UserUttered) for e in events) == turns
    snapshot = store.load(session)
    assert snapshot.turns == turns
    assert snapshot.to_dict() == DialogueState(session, window=snapshot.window).apply_all(events).to_dict()


def fresh_store_db(demo_store, folder: Path) -> str:
    path = folder / "store.db"
    shutil.copy(demo_store.db_path, path)
    return f"sqlite:///{path}"


# -- SQLite locked -----------------------------------------------------------------------------------
def test_sqlite_tracker_locked_by_another_writer(engine, tmp_path):
    store = SQLiteTrackerStore(tmp_path / "tracker.db", timeout_s=0.3)
    eng = assemble(engine, store=store)
    session = f"f-sqlite-{uuid.uuid4().hex[:6]}"
    assert "UPS" in eng.respond(session, ASK, customer_id="C001").text
    holder = sqlite3.connect(tmp_path / "tracker.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert_handoff(eng.respond(session, ASK, customer_id="C001"), "store_unavailable")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_consistent(store, session, 1)  # the locked-out turn left nothing behind
    assert "UPS" in eng.respond(session, ASK, customer_id="C001").text
    assert_consistent(store, session, 2)


def test_sqlite_order_database_locked(engine, demo_store, tmp_path):
    url = fresh_store_db(demo_store, tmp_path)
    eng = assemble(engine, orders=SqlBackend(url, timeout_s=0.3))
    session = f"f-sqlorders-{uuid.uuid4().hex[:6]}"
    holder = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        reply = eng.respond(session, ASK, customer_id="C001")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_handoff(reply)
    assert "order system" in reply.text
    assert "UPS" in eng.respond(session, ASK, customer_id="C001").text
    assert_consistent(eng.store, session, 2)


# -- PostgreSQL down -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def private_pg():
    folder = Path(tempfile.mkdtemp(prefix="shopassist-fault-pg-"))  # not under pytest's 0700 tmp
    try:
        with PrivatePostgres(folder) as server:
            db = create_engine(server.url)
            schema.create_or_migrate(db)
            yield server
            db.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_postgres_down_then_back(engine, demo_store, private_pg):
    from engine.state.postgres import PostgresTrackerStore

    src, db = create_engine(demo_store.db_url), create_engine(private_pg.url)
    with db.begin() as conn:
        names = ", ".join(t.name for t in schema.metadata.sorted_tables if t.name != "meta")
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    schema.copy_rows(src, db)
    src.dispose()
    store = PostgresTrackerStore(private_pg.url, timeout_s=1.0)
    eng = assemble(engine, store=store, orders=SqlBackend(private_pg.url, timeout_s=1.0))
    session = f"f-pg-{uuid.uuid4().hex[:6]}"
    assert "UPS" in eng.respond(session, ASK, customer_id="C001").text
    private_pg.stop()
    try:
        started = time.perf_counter()
        assert_handoff(eng.respond(session, ASK, customer_id="C001"), "store_unavailable")
        assert time.perf_counter() - started < 30  # bounded by the timeouts, not hung
        assert_handoff(eng.respond(session, "cancel order 100023", customer_id="C001"), "store_unavailable")
    finally:
        private_pg.start()
    for _ in range(3):  # the pool notices its dead connections on the first use after the restart
        reply = eng.respond(session, ASK, customer_id="C001")
        if "UPS" in reply.text:
            break
    assert "UPS" in reply.text, reply.text
    turns = store.load(session).turns
    assert 2 <= turns <= 4
    assert_consistent(store, session, turns)
    db.dispose()  # its pooled connections died with the server
    with db.connect() as conn:
        assert conn.execute(text("SELECT status FROM orders WHERE order_id = '100023'")).scalar_one() == "shipped"
        assert conn.execute(text("SELECT COUNT(*) FROM audit")).scalar_one() == 0
    db.dispose()


# -- Redis down -------------------------------------------------------------------------------------------
@pytest.fixture
def private_redis():
    folder = Path(tempfile.mkdtemp(prefix="shopassist-fault-redis-"))
    try:
        with PrivateRedis(folder) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_redis_tracker_and_lock_down_then_back(engine, private_redis):
    from engine.state.redis_locks import RedisSessionLocks
    from engine.state.redis_store import RedisTrackerStore

    store = RedisTrackerStore(private_redis.url, timeout_s=0.5, key_prefix="fault:")
    locks = RedisSessionLocks(private_redis.url, timeout_s=0.5, lease_s=2.0, key_prefix="fault:")
    eng = assemble(engine, store=store, locks=locks)
    session = f"f-redis-{uuid.uuid4().hex[:6]}"
    assert "UPS" in eng.respond(session, ASK, customer_id="C001").text
    private_redis.stop()
    try:
        assert_handoff(eng.respond(session, ASK, customer_id="C001"), "store_unavailable")
        assert_handoff(eng.respond(session, "hello", customer_id="C001"), "store_unavailable")
    finally:
        private_redis.start()
    reply = eng.respond(session, ASK, customer_id="C001")
    assert "UPS" in reply.text, reply.text
    assert_consistent(store, session, 2)  # the first turn survived the crash, the refused ones left nothing


# -- the REST order service ---------------------------------------------------------------------------------
@pytest.fixture
def rest_service(demo_store, tmp_path):
    url = fresh_store_db(demo_store, tmp_path)
    app = create_app(SqlBackend(url), api_token=TOKEN)
    faults = FaultInjector(app)
    with ServerThread(faults) as server:
        proxy = TcpProxy(server.host, server.port)
        yield {"faults": faults, "proxy": proxy, "url": f"http://127.0.0.1:{proxy.port}", "db": create_engine(url)}
        proxy.down()


def rest_engine(engine, rest_service, **kw) -> Engine:
    options = dict(timeout_s=0.5, connect_timeout_s=0.3, retries=1, backoff_base_s=0.01, backoff_cap_s=0.05,
                   breaker=CircuitBreaker(3, 0.5))
    options.update(kw)
    return assemble(engine, orders=RestBackend(rest_service["url"], TOKEN, **options))


@pytest.mark.parametrize("fault", ["down", "slow", "503", "500", "malformed", "html"])
def test_rest_service_fault_then_back(engine, rest_service, fault):
    eng = rest_engine(engine, rest_service)
    session = f"f-rest-{fault}-{uuid.uuid4().hex[:6]}"
    faults, proxy = rest_service["faults"], rest_service["proxy"]
    if fault == "down":
        proxy.down()
    elif fault == "slow":
        faults.delay_s = 1.0  # twice the read timeout
    else:
        faults.always = fault
    started = time.perf_counter()
    reply = eng.respond(session, ASK, customer_id="C001")
    elapsed = time.perf_counter() - started
    assert_handoff(reply)
    assert "order system" in reply.text
    assert elapsed < 10, elapsed  # bounded by timeouts and retries, not hung
    if fault == "down":
        proxy.up()
    faults.reset()
    time.sleep(0.6)  # the breaker's reset time: the next call is its trial
    assert "UPS" in eng.respond(session, ASK, customer_id="C001").text
    assert_consistent(eng.store, session, 2)


def test_rest_write_whose_answer_is_lost_is_applied_once(engine, rest_service):
    """Cancel an order, confirm, and lose the service's answer: the write is retried with its
    idempotency key, so the order is cancelled once and the customer hears one clear outcome."""
    eng = rest_engine(engine, rest_service, timeout_s=2.0, retries=2)
    db = rest_service["db"]
    with db.connect() as conn:
        oid, owner = conn.execute(text("SELECT order_id, customer_id FROM orders WHERE status = 'processing' "
                                       "ORDER BY order_id LIMIT 1")).one()  # 100031 of C002 (DESIGN.md §4)
    session = f"f-rest-write-{uuid.uuid4().hex[:6]}"
    ask = eng.respond(session, f"please cancel order {oid}", customer_id=owner)
    assert oid in ask.text and ask.route == "flow", ask.text
    rest_service["faults"].queue("lost_response")
    done = eng.respond(session, "yes", customer_id=owner)
    assert_safe_reply(done, "yes")
    assert "cancel" in done.text.lower(), done.text
    with db.connect() as conn:
        assert conn.execute(text("SELECT status FROM orders WHERE order_id = :o"), {"o": oid}).scalar_one() == "cancelled"
        assert conn.execute(text("SELECT COUNT(*) FROM audit WHERE target = :o"), {"o": oid}).scalar_one() == 1


# -- models and indexes -------------------------------------------------------------------------------------
def _damaged_copy(demo_store, data_dir, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the demo store and data folder with a corrupt intent head, a stale English FAQ
    index (its manifest describes other FAQ texts) and an unreadable Chinese FAISS file."""
    store, data = tmp_path / "store", tmp_path / "data"
    shutil.copytree(demo_store.root, store)
    shutil.copytree(data_dir / "models", data / "models")
    heads = [p for p in (data / "models").rglob("*") if p.is_file()]
    assert heads, "the session engine cached no intent head"
    for p in heads:
        p.write_bytes(b"\x00garbage" * 10)
    manifest_path = store / "indexes" / "faq-en.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["entries"] = [h[::-1] for h in manifest["entries"]]  # built from FAQs that no longer exist
    manifest["data_hash"] = "0" * len(str(manifest.get("data_hash", "0")))
    manifest_path.write_text(json.dumps(manifest))
    (store / "indexes" / "faq-zh.faiss").write_bytes(b"not a faiss index")
    return store, data


def test_missing_then_damaged_models_over_the_action_server(engine, demo_store, data_dir, tmp_path, monkeypatch):
    """A missing embedding model: every call gets an apology and the hand-off signal, and the
    server keeps running. Once the configuration points at a model that exists, the next call
    builds the engine, which repairs a corrupt intent head (retrained) and a stale or unreadable
    FAQ index (rebuilt) on its own and answers correctly."""
    store, data = _damaged_copy(demo_store, data_dir, tmp_path)
    broken = tmp_path / "broken.yaml"  # the intent and retrieval model files are missing
    broken.write_text(json.dumps({"data_dir": str(tmp_path / "broken-data"), "store": {"root": str(store)},
                                  "embedder": {"model": str(tmp_path / "no-such-model")},
                                  "nlu": {"embedder": "default"}}))
    good = tmp_path / "good.yaml"
    good.write_text(json.dumps({"data_dir": str(data), "store": {"root": str(store)}}))
    monkeypatch.setenv("SHOPASSIST_CONFIG", str(broken))
    monkeypatch.setenv("SANIC_RESPONSE_TIMEOUT", "900")  # the repairing build below takes a while
    monkeypatch.setattr(rasa_actions, "_RETRY_BUILD_S", 2.0)
    rasa_actions.use_engine(None)
    try:
        with serve_actions() as url:
            for i in range(3):
                started = time.perf_counter()
                r = httpx.post(f"{url}/webhook", json=call("action_shopassist_respond",
                                                           tracker(f"f-model-{i}", ASK, customer="C001"),
                                                           domain=DOMAIN), timeout=900)
                elapsed = time.perf_counter() - started
                assert r.status_code == 200, r.text[:300]
                messages = r.json()["responses"]
                assert "human agent" in messages[0]["text"] and "Traceback" not in r.text
                assert any("handoff" in (m.get("custom") or {}) for m in messages)
                if i:  # within the retry pause: answered at once, no second build
                    assert elapsed < 5, elapsed
            time.sleep(2.1)
            monkeypatch.setenv("SHOPASSIST_CONFIG", str(good))  # the model is back
            r = httpx.post(f"{url}/webhook", json=call("action_shopassist_respond",
                                                       tracker("f-model-ok", ASK, customer="C001"), domain=DOMAIN),
                           timeout=900)
            assert r.status_code == 200 and "UPS" in r.json()["responses"][0]["text"], r.text[:300]
            rebuilt = rasa_actions.get_engine()
            assert rebuilt is not engine
            faq = rebuilt.respond("f-model-faq", "how long do I have to return an item?")
            assert faq.route == "retrieval" and "30 days" in faq.text, faq.text
            zh = rebuilt.respond("f-model-zh", "退货期限是多久？")
            assert "30" in zh.text, zh.text
    finally:
        rasa_actions.use_engine(None)
    assert set(json.loads((store / "indexes" / "faq-en.json").read_text())["data_hash"]) != {"0"}  # rewritten
