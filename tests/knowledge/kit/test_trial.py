"""load_trial_data: a kit's customers and orders into the SQL order database."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from connectors.auth import Actor
from connectors.sql import SqlBackend
from knowledge.kit import read_kit
from knowledge.kit.starter import init_kit
from knowledge.kit.trial import TrialDataHasWrites, load_trial_data

TODAY = date(2025, 3, 1)


@pytest.fixture()
def kit(tmp_path):
    return read_kit(init_kit(tmp_path / "kit"))


def test_rows_and_relative_days(kit, tmp_path):
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    counts = load_trial_data(kit, url, today=TODAY)
    assert (counts.customers, counts.orders) == (len(kit.customers), len(kit.orders))
    db = sqlite3.connect(tmp_path / "orders.db")
    assert db.execute("SELECT value FROM meta WHERE key = 'built_on'").fetchone() == ("2025-03-01",)
    placed = dict(db.execute("SELECT order_id, placed_at FROM orders"))
    first = kit.orders[0]
    days = int(first["placed"][1:-1])
    assert placed[first["id"]].startswith(date.fromordinal(TODAY.toordinal() - days).isoformat())
    assert db.execute("SELECT DISTINCT currency FROM orders").fetchall() == [(kit.profile.currency,)]
    assert db.execute("SELECT COUNT(*) FROM inventory").fetchone()[0] == len(kit.catalog)
    backend = SqlBackend(url, order_id_pattern=kit.profile.order_id_pattern)
    order = backend.get_order(Actor.customer(first["customer_id"]), first["id"])
    assert order.order_id == first["id"] and order.items


def test_reload_without_writes_replaces_rows(kit, tmp_path):
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    load_trial_data(kit, url, today=TODAY)
    counts = load_trial_data(kit, url, today=TODAY)
    db = sqlite3.connect(tmp_path / "orders.db")
    assert db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == counts.orders


def test_a_database_with_writes_is_refused_then_forced_with_a_backup(kit, tmp_path):
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    load_trial_data(kit, url, today=TODAY)
    processing = next(o for o in kit.orders if o["status"] == "processing")
    backend = SqlBackend(url, order_id_pattern=kit.profile.order_id_pattern)
    backend.cancel_order(Actor.customer(processing["customer_id"]), processing["id"], idempotency_key="test-cancel-1")
    backend.close()
    with pytest.raises(TrialDataHasWrites, match="--force"):
        load_trial_data(kit, url, today=TODAY)
    counts = load_trial_data(kit, url, today=TODAY, force=True)
    assert counts.backup is not None and counts.backup.exists()
    db = sqlite3.connect(tmp_path / "orders.db")
    assert db.execute("SELECT status FROM orders WHERE order_id = ?", (processing["id"],)).fetchone() == ("processing",)
    assert db.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 0
