"""Tests for the demo store generator (knowledge/demo: catalog, people, build).

The store is built once per module for a fixed day and queried directly (JSON and SQLite through
the standard library), so the checks do not depend on the connectors that read it. Cache tests
build their own stores in fresh folders.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sqlite3
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from knowledge.demo import (
    DEMO_VERSION,
    FIXTURE_PRODUCT_TRAILRUNNER,
    FIXTURE_PRODUCT_X200,
    FIXTURE_PRODUCT_X200_CASE,
    DemoStore,
    build_demo_store,
    ensure_demo_store,
)
from connectors.schema import SCHEMA_VERSION
from knowledge.demo import build
from knowledge.demo.catalog import RELATION_TYPES, generate_catalog

TODAY = date(2025, 3, 1)
NOW = datetime(2025, 3, 1, tzinfo=timezone.utc)
REQUIRED_CATEGORIES = {"audio", "mobile_accessories", "computing", "wearables", "footwear", "apparel", "kitchen",
                       "outdoor", "smart_home", "gaming"}
TABLES = ("meta", "customers", "orders", "order_items", "shipments", "returns")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> DemoStore:
    return build_demo_store(tmp_path_factory.mktemp("demo"), today=TODAY, seed=7)


@pytest.fixture(scope="module")
def products(store: DemoStore) -> dict[str, dict]:
    return {p["id"]: p for p in json.loads(store.catalog_path.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def db(store: DemoStore):
    conn = sqlite3.connect(store.db_path)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def _rows(conn: sqlite3.Connection, sql: str, *args) -> list[dict]:
    return [dict(r) for r in conn.execute(sql, args)]


def _when(ts: str) -> datetime:
    moment = datetime.fromisoformat(ts)
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0), ts
    return moment


def _dump_db(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}
    finally:
        conn.close()


# --- store files and counts -------------------------------------------------------------------------


def test_store_paths_and_manifest(store: DemoStore, products, db) -> None:
    assert store.built_on == TODAY and store.seed == 7
    assert store.catalog_path == store.root / "catalog.json"
    assert store.faqs_path == store.root / "faqs.jsonl"
    assert store.db_url == f"sqlite:///{store.root / 'store.db'}"
    manifest = json.loads((store.root / "manifest.json").read_text())
    assert manifest["version"] == DEMO_VERSION and manifest["seed"] == 7 and manifest["built_on"] == "2025-03-01"
    assert set(manifest["hashes"]) == {"store.yaml", "catalog.json", "faqs.jsonl", "store.db"}
    assert manifest["counts"]["products"] == len(products)
    assert manifest["counts"]["orders"] == db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    meta = {r["key"]: r["value"] for r in _rows(db, "SELECT * FROM meta")}
    assert meta["built_on"] == "2025-03-01" and meta["seed"] == "7" and meta["schema_version"] == str(SCHEMA_VERSION)


def test_counts(products, db) -> None:
    assert len(products) >= 200
    categories = Counter(p["category"] for p in products.values())
    assert len(categories) >= 10 and REQUIRED_CATEGORIES <= set(categories)
    assert min(categories.values()) >= 10
    assert len({p["brand"] for p in products.values()}) >= 25
    assert db.execute("SELECT COUNT(*) FROM customers").fetchone()[0] >= 50
    assert db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] >= 300
    statuses = Counter(r["status"] for r in _rows(db, "SELECT status FROM orders"))
    assert set(statuses) == {"processing", "shipped", "delivered", "cancelled", "returned"}
    assert db.execute("SELECT COUNT(*) FROM returns").fetchone()[0] >= 10


def test_faqs_file(store: DemoStore) -> None:
    lines = store.faqs_path.read_text(encoding="utf-8").splitlines()
    faqs = [json.loads(line) for line in lines]
    assert len(faqs) >= 20
    assert {f["language"] for f in faqs} == {"en", "zh"}  # the store-kit format
    assert all(f["id"] and f["question"] and f["answer"] for f in faqs)


# --- fixtures (DESIGN.md §4) --------------------------------------------------------------------


def test_fixture_products(products) -> None:
    x200 = products[FIXTURE_PRODUCT_X200]
    assert x200["name"] == "Aurora X200 Wireless Earbuds" and x200["brand"] == "Aurora"
    assert x200["category"] == "audio" and x200["currency"] == "USD" and x200["stock"] > 0
    attrs = x200["attributes"]
    assert attrs["battery_life"]["value"] == 30 and attrs["battery_life"]["unit"] == "h"
    assert "case" in attrs["battery_life"]["note"]
    assert attrs["bluetooth_version"]["value"] == "5.3"
    assert set(attrs["compatible_os"]["value"]) == {"iOS", "Android"}
    assert "X200" in x200["aliases"]
    case = products[FIXTURE_PRODUCT_X200_CASE]
    assert case["name"] == "Aurora X200 Charging Case" and case["brand"] == "Aurora"
    assert {"type": "accessory_of", "target": FIXTURE_PRODUCT_X200} in case["relations"]
    shoes = products[FIXTURE_PRODUCT_TRAILRUNNER]
    assert shoes["name"] == "Trailrunner 5 Running Shoes" and shoes["category"] == "footwear"
    assert isinstance(shoes["attributes"]["sizes"]["value"], list)


def test_fixture_products_do_not_depend_on_seed() -> None:
    a = {p["id"]: p for p in generate_catalog(7)}
    b = {p["id"]: p for p in generate_catalog(12345)}
    for pid in (FIXTURE_PRODUCT_X200, FIXTURE_PRODUCT_X200_CASE, FIXTURE_PRODUCT_TRAILRUNNER):
        assert {k: v for k, v in a[pid].items() if k != "relations"} == \
               {k: v for k, v in b[pid].items() if k != "relations"}
    names = Counter(p["name"] for p in b.values())
    assert names["Aurora X200 Wireless Earbuds"] == 1 and names["Trailrunner 5 Running Shoes"] == 1


def test_fixture_customers(db) -> None:
    people = {r["customer_id"]: r for r in _rows(db, "SELECT * FROM customers")}
    assert people["C001"]["name"] == "Alice Chen" and people["C002"]["name"] == "Bob Li"
    assert {f"C{i:03d}" for i in range(1, 61)} <= set(people)  # and a few showing item-level returns
    assert {r["language"] for r in people.values()} == {"en", "zh"}
    assert all(r["email"].endswith(("@example.com", "@example.net")) for r in people.values())
    assert all("555" in r["phone"] for r in people.values())
    assert len({r["email"] for r in people.values()}) == len(people)
    for cid in ("C001", "C002"):
        assert db.execute("SELECT COUNT(*) FROM orders WHERE customer_id = ?", (cid,)).fetchone()[0] >= 3


def test_fixture_order_100023_shipped(db) -> None:
    order = _rows(db, "SELECT * FROM orders WHERE order_id = '100023'")[0]
    assert order["customer_id"] == "C001" and order["status"] == "shipped"
    items = _rows(db, "SELECT * FROM order_items WHERE order_id = '100023'")
    assert [(i["product_id"], i["name"]) for i in items] == [(FIXTURE_PRODUCT_X200, "Aurora X200 Wireless Earbuds")]
    ship = _rows(db, "SELECT * FROM shipments WHERE order_id = '100023'")[0]
    assert ship["carrier"] and len(ship["tracking_number"]) >= 10
    assert ship["status"] == "in_transit" and ship["delivered_at"] is None
    assert 1 <= (date.fromisoformat(ship["estimated_delivery"]) - TODAY).days <= 7
    assert _when(order["placed_at"]) < _when(ship["shipped_at"]) < NOW


def test_fixture_order_100024_delivered_in_return_window(db) -> None:
    order = _rows(db, "SELECT * FROM orders WHERE order_id = '100024'")[0]
    assert order["customer_id"] == "C001" and order["status"] == "delivered"
    items = _rows(db, "SELECT * FROM order_items WHERE order_id = '100024'")
    assert [(i["product_id"], i["name"]) for i in items] == [(FIXTURE_PRODUCT_TRAILRUNNER, "Trailrunner 5 Running Shoes")]
    ship = _rows(db, "SELECT * FROM shipments WHERE order_id = '100024'")[0]
    assert ship["status"] == "delivered"
    assert _when(ship["delivered_at"]).date() == TODAY - timedelta(days=10)
    assert db.execute("SELECT COUNT(*) FROM returns WHERE order_id = '100024'").fetchone()[0] == 0


def test_fixture_order_100031_processing(db) -> None:
    order = _rows(db, "SELECT * FROM orders WHERE order_id = '100031'")[0]
    assert order["customer_id"] == "C002" and order["status"] == "processing"
    assert db.execute("SELECT COUNT(*) FROM shipments WHERE order_id = '100031'").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM order_items WHERE order_id = '100031'").fetchone()[0] >= 1


# --- catalog shape ------------------------------------------------------------------------------


def test_products_well_formed(products) -> None:
    assert list(products) == sorted(products)
    assert len({p["name"].lower() for p in products.values()}) == len(products)
    owners = Counter(a.lower() for p in products.values() for a in p["aliases"])
    assert [a for a, n in owners.items() if n > 1] == []
    assert any(p["stock"] == 0 for p in products.values())
    for p in products.values():
        assert p["currency"] == "USD" and p["price"] > 0 and p["stock"] >= 0
        assert 3.2 <= p["rating"] <= 4.9
        assert p["name_zh"] and p["description"] and "{" not in p["description"]
        assert p["brand"] in p["name"]


def test_attributes_typed(products) -> None:
    keys_by_type: dict[str, set] = {}
    for p in products.values():
        attrs = p["attributes"]
        assert "warranty" in attrs, p["id"]
        keys_by_type.setdefault(p["product_type"], set(attrs))
        assert set(attrs) == keys_by_type[p["product_type"]], p["id"]
        for key, a in attrs.items():
            assert {"value", "unit", "label", "label_zh"} <= set(a), (p["id"], key)
            assert a["label"] and a["label_zh"]
            v = a["value"]
            if isinstance(v, bool) or isinstance(v, str):
                assert a["unit"] is None and v != "", (p["id"], key)
            elif isinstance(v, (int, float)):
                assert isinstance(a["unit"], str) and a["unit"], (p["id"], key)
            else:
                assert isinstance(v, list) and v and all(isinstance(x, str) and x for x in v), (p["id"], key)
                assert a["unit"] is None
    # one unit per key within a product type
    units: dict[tuple[str, str], set] = {}
    for p in products.values():
        for key, a in p["attributes"].items():
            units.setdefault((p["product_type"], key), set()).add(a["unit"])
    assert all(len(u) == 1 for u in units.values())


def test_relations_point_at_existing_products(products) -> None:
    kinds = Counter()
    for p in products.values():
        for r in p["relations"]:
            assert set(r) == {"type", "target"} and r["type"] in RELATION_TYPES
            assert r["target"] in products and r["target"] != p["id"]
            kinds[r["type"]] += 1
            if r["type"] == "similar_to":
                assert products[r["target"]]["category"] == p["category"]
        assert len(p["relations"]) == len({(r["type"], r["target"]) for r in p["relations"]})
    assert set(kinds) == set(RELATION_TYPES) and kinds["accessory_of"] >= 10 and kinds["compatible_with"] >= 10
    cases = [p for p in products.values() if p["product_type"] == "phone_case"]
    assert cases and all(products[r["target"]]["product_type"] == "smartphone"
                         for p in cases for r in p["relations"] if r["type"] == "accessory_of")


# --- business data ------------------------------------------------------------------------------


def test_orders_consistent(db, products) -> None:
    orders = _rows(db, "SELECT * FROM orders ORDER BY order_id")
    assert [o["order_id"] for o in orders] == [str(100001 + i) for i in range(len(orders))]
    items = Counter()
    for o in orders:
        placed = _when(o["placed_at"])
        assert NOW - timedelta(days=120) <= placed < NOW, o
        lines = _rows(db, "SELECT * FROM order_items WHERE order_id = ?", o["order_id"])
        assert 1 <= len(lines) <= 3
        for line in lines:
            product = products[line["product_id"]]
            assert line["name"] == product["name"] and line["unit_price"] == product["price"]
            assert line["quantity"] >= 1
        assert o["total"] == pytest.approx(sum(x["quantity"] * x["unit_price"] for x in lines), abs=0.005)
        items[len(lines)] += 1
        ship = _rows(db, "SELECT * FROM shipments WHERE order_id = ?", o["order_id"])
        if o["status"] in ("processing", "cancelled"):
            assert ship == [], o
            continue
        assert len(ship) == 1, o  # every shipped/delivered/returned order has a shipment
        ship = ship[0]
        assert ship["carrier"] in ("UPS", "USPS", "DHL", "FedEx") and ship["tracking_number"]
        assert placed < _when(ship["shipped_at"]) < NOW
        date.fromisoformat(ship["estimated_delivery"])
        if o["status"] == "shipped":
            assert ship["status"] in ("in_transit", "out_for_delivery") and ship["delivered_at"] is None
        else:
            assert ship["status"] == "delivered"
            assert _when(ship["shipped_at"]) < _when(ship["delivered_at"]) < NOW
    assert items[1] and items[2] and items[3]


def test_returns_consistent(db) -> None:
    returns = _rows(db, "SELECT r.*, o.status AS order_status, s.delivered_at FROM returns r "
                        "JOIN orders o USING (order_id) JOIN shipments s USING (order_id)")
    assert returns
    for r in returns:
        assert r["order_status"] in ("delivered", "returned") and r["reason"]
        created = _when(r["created_at"])
        assert _when(r["delivered_at"]) < created <= _when(r["delivered_at"]) + timedelta(days=30)
        assert created < NOW
        assert (r["refunded_at"] is not None) == (r["status"] == "refunded")
        if r["status"] in ("approved", "received", "refunded"):
            assert r["refund_amount"] > 0
        taken = [x["status"] for x in returns if x["order_id"] == r["order_id"]]  # one order, several returns
        assert (r["order_status"] == "returned") == any(s in ("received", "refunded") for s in taken)
    returned = db.execute("SELECT COUNT(*) FROM orders WHERE status = 'returned' AND order_id NOT IN "
                          "(SELECT order_id FROM returns)").fetchone()[0]
    assert returned == 0


# --- determinism and caching ----------------------------------------------------------------------


def test_same_seed_and_day_give_identical_store(store: DemoStore, tmp_path: Path) -> None:
    again = build_demo_store(tmp_path / "again", today=TODAY, seed=7)
    assert again.catalog_path.read_bytes() == store.catalog_path.read_bytes()
    assert again.faqs_path.read_bytes() == store.faqs_path.read_bytes()
    assert _dump_db(again.db_path) == _dump_db(store.db_path)
    other = build_demo_store(tmp_path / "other", today=TODAY, seed=8)
    assert other.catalog_path.read_bytes() != store.catalog_path.read_bytes()
    assert _dump_db(other.db_path)["orders"] != _dump_db(store.db_path)["orders"]


def _mtimes(root: Path) -> dict[str, int]:
    return {n: (root / n).stat().st_mtime_ns for n in ("catalog.json", "faqs.jsonl", "store.db", "manifest.json")}


def test_ensure_reuses_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = ensure_demo_store(tmp_path, seed=7, today=TODAY)
    before = _mtimes(tmp_path)
    monkeypatch.setattr(build, "_build", lambda *a, **k: pytest.fail("rebuilt a valid cache"))
    again = ensure_demo_store(tmp_path, seed=7)
    assert again == first and again.built_on == TODAY
    assert _mtimes(tmp_path) == before


@pytest.mark.parametrize("damage", ["delete_db", "delete_catalog", "edit_catalog", "version", "no_manifest"])
def test_ensure_rebuilds_a_damaged_store(store: DemoStore, tmp_path: Path, damage: str) -> None:
    shutil.copytree(store.root, tmp_path, dirs_exist_ok=True)  # a valid store, faster than a build
    assert build._cached(tmp_path, seed=7, today=None) is not None
    before = _mtimes(tmp_path)
    manifest_path = tmp_path / "manifest.json"
    if damage == "delete_db":
        (tmp_path / "store.db").unlink()
    elif damage == "delete_catalog":
        (tmp_path / "catalog.json").unlink()
    elif damage == "edit_catalog":
        (tmp_path / "catalog.json").write_text("[]\n")
    elif damage == "version":
        manifest = json.loads(manifest_path.read_text())
        manifest["version"] = DEMO_VERSION + 1
        manifest_path.write_text(json.dumps(manifest))
    else:
        manifest_path.unlink()
    store = ensure_demo_store(tmp_path, seed=7)
    manifest = json.loads(manifest_path.read_text())
    assert manifest["version"] == DEMO_VERSION
    db_rebuilt = (tmp_path / "store.db").stat().st_mtime_ns != before["store.db"]
    # a stale catalog is rewritten around the live database; only a missing or foreign store is rebuilt
    assert db_rebuilt == (damage in ("delete_db", "version", "no_manifest"))
    assert len(json.loads(store.catalog_path.read_text())) >= 200
    assert build._cached(tmp_path, seed=7, today=None) == store


def test_ensure_keeps_the_live_database(store: DemoStore, tmp_path: Path) -> None:
    """Order actions written to store.db survive later starts and catalog refreshes."""
    shutil.copytree(store.root, tmp_path, dirs_exist_ok=True)
    with sqlite3.connect(tmp_path / "store.db") as conn:
        conn.execute("UPDATE orders SET status = 'cancelled' WHERE order_id = '100031'")
    assert ensure_demo_store(tmp_path, seed=7) is not None
    (tmp_path / "catalog.json").write_text("[]\n")
    ensure_demo_store(tmp_path, seed=7)
    with sqlite3.connect(tmp_path / "store.db") as conn:
        status = conn.execute("SELECT status FROM orders WHERE order_id = '100031'").fetchone()[0]
    assert status == "cancelled"


def test_ensure_rebuilds_for_another_seed(store: DemoStore, tmp_path: Path) -> None:
    shutil.copytree(store.root, tmp_path, dirs_exist_ok=True)
    store = ensure_demo_store(tmp_path, seed=9)
    assert store.seed == 9 and json.loads((tmp_path / "manifest.json").read_text())["seed"] == 9


def test_invalid_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="seed"):
        build_demo_store(tmp_path, seed="7")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        generate_catalog(1.5)  # type: ignore[arg-type]


def _ensure_in_child(root: str) -> str:
    return ensure_demo_store(Path(root), seed=7, today=TODAY).built_on.isoformat()


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_concurrent_ensure_builds_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "builds.log"
    real_build = build._build

    def counting_build(*args, **kwargs):
        with open(log, "a") as handle:
            handle.write("build\n")
        return real_build(*args, **kwargs)

    monkeypatch.setattr(build, "_build", counting_build)
    root = tmp_path / "store"
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("fork")) as pool:
        results = list(pool.map(_ensure_in_child, [str(root)] * 4))
    assert results == ["2025-03-01"] * 4
    assert log.read_text().count("build") == 1
    assert build._cached(root, seed=7, today=TODAY) is not None
