"""The demo store's order database is business data: no start, refresh or build silently replaces it.

Each test does what a shop would: build the demo store, cancel an order (or open a return) through
the real SQL connector, then damage, delete or age the manifest and start again
(:func:`ensure_demo_store`, what every engine start runs) or run ``shopassist demo build``. The
cancellation must survive, or the start must refuse with a message that names the fix; a forced
build keeps a consistent backup. Real SQLite files, no mocks.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from connectors.auth import Actor
from connectors.sql import SqlBackend
from engine.cli import main as cli_main
from knowledge.demo import DEMO_VERSION, DemoStore, build_demo_store, ensure_demo_store
from knowledge.demo import build
from knowledge.demo.build import StoreHasWrites

TODAY = date(2025, 3, 1)
NOW = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> DemoStore:
    return build_demo_store(tmp_path_factory.mktemp("pristine"), today=TODAY, seed=7)


def _copy(pristine: DemoStore, root: Path) -> Path:
    shutil.copytree(pristine.root, root, dirs_exist_ok=True)
    return root


def _cancel_100031(root: Path) -> None:
    """C002 cancels order 100031 through the connector (idempotency claim + audit row)."""
    backend = SqlBackend(f"sqlite:///{root / 'store.db'}", now=lambda: NOW)
    try:
        assert backend.cancel_order(Actor.customer("C002"), "100031", idempotency_key="k-cancel-1").status == "cancelled"
    finally:
        backend.close()


def _status(root: Path, order_id: str = "100031") -> str:
    with sqlite3.connect(root / "store.db") as conn:
        return conn.execute("SELECT status FROM orders WHERE order_id = ?", (order_id,)).fetchone()[0]


def _count(root: Path, table: str) -> int:
    with sqlite3.connect(root / "store.db") as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _damage(root: Path, how: str) -> None:
    path = root / "manifest.json"
    if how == "missing":
        path.unlink()
    elif how == "garbage":
        path.write_text("{not json")
    elif how == "truncated":
        path.write_text(path.read_text()[:40])
    elif how in ("old_version", "new_version"):
        manifest = json.loads(path.read_text())
        manifest["version"] = DEMO_VERSION - 1 if how == "old_version" else DEMO_VERSION + 1
        path.write_text(json.dumps(manifest))
    elif how == "no_hashes":
        manifest = json.loads(path.read_text())
        del manifest["hashes"]
        path.write_text(json.dumps(manifest))
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["missing", "garbage", "truncated", "old_version", "new_version", "no_hashes"])
def test_a_damaged_manifest_never_loses_a_cancellation(pristine, tmp_path, how):
    root = _copy(pristine, tmp_path / "store")
    _cancel_100031(root)
    _damage(root, how)
    try:
        store = ensure_demo_store(root, seed=7)
    except StoreHasWrites as exc:  # refusing is allowed; rebuilding over the writes is not
        assert "shopassist demo build --force" in str(exc)
    else:
        assert store.db_path == root / "store.db"
        assert build._cached(root, seed=7, today=None) == store  # the manifest was repaired
    assert _status(root) == "cancelled"
    assert _count(root, "audit") == 1 and _count(root, "idempotency") == 1


def test_a_lost_manifest_keeps_the_database_and_rewrites_the_derived_files(pristine, tmp_path):
    root = _copy(pristine, tmp_path / "store")
    _cancel_100031(root)
    (root / "manifest.json").unlink()
    (root / "catalog.json").write_text("[]\n")
    store = ensure_demo_store(root, seed=7)
    assert store.built_on == TODAY  # read from the database itself, not from today's date
    assert _status(root) == "cancelled"
    assert len(json.loads(store.catalog_path.read_text())) >= 200
    assert json.loads((root / "manifest.json").read_text())["built_on"] == TODAY.isoformat()


def test_a_return_survives_a_start_with_a_missing_manifest(pristine, tmp_path):
    root = _copy(pristine, tmp_path / "store")
    backend = SqlBackend(f"sqlite:///{root / 'store.db'}", now=lambda: NOW)
    try:
        record = backend.create_return(Actor.customer("C001"), "100024", "too small", idempotency_key="k-return-1")
    finally:
        backend.close()
    (root / "manifest.json").unlink()
    ensure_demo_store(root, seed=7)
    with sqlite3.connect(root / "store.db") as conn:
        assert conn.execute("SELECT order_id FROM returns WHERE return_id = ?", (record.return_id,)).fetchone() == (
            "100024",)


@pytest.mark.parametrize("change", ["seed", "day"])
def test_a_store_with_writes_built_for_another_seed_or_day_is_refused_not_rebuilt(pristine, tmp_path, change):
    root = _copy(pristine, tmp_path / "store")
    _cancel_100031(root)
    with pytest.raises(StoreHasWrites, match="shopassist demo build --force"):
        if change == "seed":
            ensure_demo_store(root, seed=9)
        else:
            ensure_demo_store(root, seed=7, today=date(2025, 4, 1))
    assert _status(root) == "cancelled"


def test_a_store_without_writes_is_still_rebuilt_freely(pristine, tmp_path):
    root = _copy(pristine, tmp_path / "store")
    (root / "manifest.json").unlink()
    store = ensure_demo_store(root, seed=9)
    assert store.seed == 9 and json.loads((root / "manifest.json").read_text())["seed"] == 9


@pytest.mark.parametrize("damage", ["garbage", "wrong_schema"])
def test_an_unreadable_database_is_refused_not_overwritten(pristine, tmp_path, damage):
    root = _copy(pristine, tmp_path / "store")
    (root / "manifest.json").unlink()
    if damage == "garbage":
        (root / "store.db").write_bytes(b"this is not sqlite" * 100)
    else:
        (root / "store.db").unlink()
        with sqlite3.connect(root / "store.db") as conn:
            conn.execute("CREATE TABLE orders (order_id TEXT, note TEXT)")
            conn.execute("INSERT INTO orders VALUES ('1', 'a shop keeps its orders here')")
    before = (root / "store.db").read_bytes()
    with pytest.raises(StoreHasWrites, match="shopassist demo build --force"):
        ensure_demo_store(root, seed=7)
    assert (root / "store.db").read_bytes() == before


def test_a_manifest_is_verified_not_trusted(pristine, tmp_path):
    """A manifest that matches while store.db is not the order database does not make a valid store."""
    root = _copy(pristine, tmp_path / "store")
    (root / "store.db").unlink()
    with sqlite3.connect(root / "store.db") as conn:
        conn.execute("CREATE TABLE unrelated (x)")
    assert build._cached(root, seed=7, today=None) is None


def test_demo_build_refuses_a_store_with_writes_and_force_keeps_a_backup(pristine, tmp_path, capsys):
    root = _copy(pristine, tmp_path / "store")
    _cancel_100031(root)
    assert cli_main(["demo", "build", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "shopassist demo build --force" in err and str(root) in err
    assert _status(root) == "cancelled"
    assert not list(root.glob("store.db.bak-*"))

    assert cli_main(["demo", "build", "--root", str(root), "--force"]) == 0
    out = capsys.readouterr().out
    (backup,) = root.glob("store.db.bak-*")
    assert str(backup) in out
    assert _status(root) == "processing"  # replaced on purpose
    with sqlite3.connect(backup) as conn:  # the backup is a whole, consistent database
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT status FROM orders WHERE order_id = '100031'").fetchone() == ("cancelled",)
        assert conn.execute("SELECT COUNT(*) FROM audit").fetchone() == (1,)


def test_build_demo_store_refuses_without_force(pristine, tmp_path):
    root = _copy(pristine, tmp_path / "store")
    _cancel_100031(root)
    with pytest.raises(StoreHasWrites, match="--force"):
        build_demo_store(root, today=TODAY, seed=7)
    forced = build_demo_store(root, today=TODAY, seed=7, force=True)
    assert forced.backup is not None and forced.backup.is_file()
    assert _status(root) == "processing"


def test_a_running_connector_follows_a_replaced_database(pristine, tmp_path):
    """After a forced rebuild, a server's open connector reads the new file, not the deleted one."""
    root = _copy(pristine, tmp_path / "store")
    backend = SqlBackend(f"sqlite:///{root / 'store.db'}", now=lambda: NOW)
    try:
        me = Actor.customer("C002")
        backend.cancel_order(me, "100031", idempotency_key="k-cancel-2")
        assert backend.get_order(me, "100031").status == "cancelled"
        build_demo_store(root, today=TODAY, seed=7, force=True)
        assert backend.get_order(me, "100031").status == "processing"
    finally:
        backend.close()


def test_a_rebuild_replaces_the_file_atomically(pristine, tmp_path):
    """The database is built beside and moved into place: the old inode is never truncated in place."""
    root = _copy(pristine, tmp_path / "store")
    held = open(root / "store.db", "rb")  # what a running server holds
    try:
        before = held.read()
        build_demo_store(root, today=TODAY, seed=8)
        held.seek(0)
        assert held.read() == before
    finally:
        held.close()
    assert not [p for p in root.iterdir() if p.name.endswith(".tmp")]
