"""Feedback captured with a turn, on every tracker store: stored with the commit or not at all,
with the learning columns (kind, reason, sources, model version, label ref and author)."""

from __future__ import annotations

import uuid

import pytest

from engine.errors import StoreError
from engine.state.events import BotUttered, UserUttered

CAPTURED = {"session_id": "cap", "turn": 1, "kind": "auto", "reason": "low_confidence", "text": "hm?",
            "intent": "out_of_scope", "confidence": 0.12, "route": "fallback", "sources": '["faq-1"]',
            "model_version": "v0003"}


def _turn(text: str) -> list:
    return [UserUttered(text, intent="out_of_scope", confidence=0.12, model="v0003"),
            BotUttered("Could you rephrase?", route="fallback")]


def test_a_commit_stores_its_captured_feedback_with_every_field(backend):
    store = backend.make()
    state = store.commit(store.load("cap"), _turn("hm?"), feedback=[CAPTURED])
    assert state.turns == 1
    [record] = store.feedback("cap")
    for key, value in CAPTURED.items():
        assert record[key] == value, key
    label = store.add_feedback({"session_id": "cap", "turn": 1, "kind": "label", "ref": record["id"],
                                "text": "hm?", "correction": "track_order", "author": "ana"})
    [_, stored] = store.feedback("cap")
    assert (stored["id"], stored["ref"], stored["author"], stored["kind"]) == (label, record["id"], "ana", "label")
    if backend.durable:
        assert backend.make().feedback("cap") == store.feedback("cap")


def test_a_refused_commit_stores_no_feedback(backend):
    store = backend.make()
    stale = store.load("cap")
    store.commit(stale, _turn("first"))
    with pytest.raises(StoreError):
        store.commit(stale, _turn("rival"), feedback=[CAPTURED])
    assert store.feedback("cap") == []
    assert store.load("cap").turns == 1


OLD_SQLITE_FEEDBACK = """CREATE TABLE feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, turn INTEGER,
    rating INTEGER, correction TEXT, comment TEXT, text TEXT, intent TEXT,
    confidence REAL, route TEXT, created_at REAL NOT NULL)"""


def test_sqlite_feedback_from_before_the_learning_columns_is_migrated(tmp_path):
    import sqlite3

    from engine.state.stores import SQLiteTrackerStore

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(OLD_SQLITE_FEEDBACK)
        conn.execute("INSERT INTO feedback (session_id, rating, created_at) VALUES ('old', 1, 1.0)")
    store = SQLiteTrackerStore(path)
    store.commit(store.load("cap"), _turn("hm?"), feedback=[CAPTURED])
    assert [r["rating"] for r in store.feedback("old")] == [1]
    assert store.feedback("cap")[0]["model_version"] == "v0003"


def test_postgres_feedback_from_before_the_learning_columns_is_migrated(pg_url):
    from sqlalchemy import create_engine, text

    from engine.state.postgres import PostgresTrackerStore

    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS tracker_feedback"))
        conn.execute(text("CREATE TABLE tracker_feedback (id SERIAL PRIMARY KEY, session_id VARCHAR(200) NOT NULL, "
                          "turn INTEGER, rating INTEGER, correction TEXT, comment TEXT, text TEXT, intent TEXT, "
                          "confidence DOUBLE PRECISION, route TEXT, created_at DOUBLE PRECISION NOT NULL)"))
        conn.execute(text("INSERT INTO tracker_feedback (session_id, rating, created_at) VALUES ('old-pg', 1, 1.0)"))
    engine.dispose()
    store = PostgresTrackerStore(pg_url)
    try:
        sid = f"cap-pg-{uuid.uuid4().hex[:8]}"
        store.commit(store.load(sid), _turn("hm?"), feedback=[dict(CAPTURED, session_id=sid)])
        assert [r["rating"] for r in store.feedback("old-pg")] == [1]
        assert store.feedback(sid)[0]["model_version"] == "v0003"
    finally:
        store.close()
