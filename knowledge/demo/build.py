"""Build, verify and cache the demo store on disk, never losing the orders written to it.

This module owns the demo store's *files*, a store kit (docs/store-kit.md) that the engine reads
with the kit reader like any shop's: ``store.yaml`` (the shop's name, currency, languages and
policies, from :data:`PROFILE`), ``faqs.jsonl`` (one FAQ per line and language in the kit format,
from :mod:`knowledge.demo.faqs`), ``catalog.json`` (the products in the product graph's own
format, which the kit reader takes in place of ``catalog.csv``: typed attribute values, notes and
every relation type), ``store.db`` (the order database, SQLite through
:mod:`knowledge.kernel.schema`) and ``manifest.json`` (version, seed, build day, row counts and the
SHA-256 of each file). Each file is written under a temporary name and moved into place with
``os.replace`` (a server holding the old database open keeps a whole file, and the SQL connector
re-opens the new one); the manifest goes last. :func:`ensure_demo_store` reuses a store whose
manifest is verified, not trusted: the catalog and FAQ files must have their recorded SHA-256 and
``store.db`` must be an order database of the current schema built for the same version, seed
(and day) by its own ``meta`` table. ``store.db`` is business data once a customer wrote to it
(a cancellation, a return, an address change: each leaves an audit and an idempotency row), so
it is never rebuilt over: with a lost, damaged or stale manifest the derived files are rewritten
around it; a database with writes built for another version, seed or day, or one that cannot be
read to tell, is refused (:class:`StoreHasWrites`) until ``shopassist demo build --force``
replaces it, keeping a consistent backup (SQLite's backup API). A store without writes is simply
rebuilt. Everything runs under an exclusive lock on ``root/.build.lock``, so concurrent
processes build once.

Example:
    >>> from pathlib import Path
    >>> store = ensure_demo_store(Path("/tmp/shopassist-demo"))  # doctest: +SKIP
    >>> store.db_url                                             # doctest: +SKIP
    'sqlite:////tmp/shopassist-demo/store.db'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

from knowledge.kernel import schema
from knowledge.kernel.errors import KnowledgeError
from knowledge.kernel.integrity import folder_checksums, verify_checksums
from knowledge.kernel.sqlite_backup import backup_sqlite

from .catalog import dump_catalog, generate_catalog
from .people import generate_records, write_store_db

__all__ = ["DEMO_VERSION", "PROFILE", "DemoStore", "StoreHasWrites", "build_demo_store", "ensure_demo_store"]

#: Bump whenever generated content changes, so cached stores are rebuilt.
DEMO_VERSION: int = 2  # 2: schema v2 (inventory, audit, idempotency tables)

_CATALOG, _FAQS, _DB, _MANIFEST, _LOCK = "catalog.json", "faqs.jsonl", "store.db", "manifest.json", ".build.lock"
_PROFILE = "store.yaml"
_FILES = (_PROFILE, _CATALOG, _FAQS, _DB)
_STATIC = (_PROFILE, _CATALOG, _FAQS)  # generated files; the database is live data and is not hashed

#: The demo shop's store.yaml (docs/store-kit.md): what the engine says of the shop and reasons with.
PROFILE: dict[str, Any] = {
    "name": "Brightcart",
    "currency": "USD",
    "languages": ["en", "zh"],
    "timezone": "America/Los_Angeles",
    # the contacts its FAQs give (a kit's FAQs may name only the contacts store.yaml lists)
    "support": {"email": "support@brightcart.com", "phone": "1-800-555-0199"},
    "policies": {
        "return_window_days": 30,
        "free_shipping_over": 49,
        "refund_business_days": [5, 7],
        "cancel_after_shipping": False,
    },
    # the words shoppers use for the catalog's kinds (a shopper's word -> the word the catalog uses)
    "synonyms": {
        "充电宝": "移动电源", "portable charger": "power bank", "吐司机": "多士炉", "烤面包机": "多士炉",
        "料理机": "破壁机", "榨汁机": "破壁机", "烧水壶": "电热水壶", "热水壶": "电热水壶", "电水壶": "电热水壶",
        "保温杯": "保温水杯", "双肩包": "登山包", "背包": "登山包",
        "徒步杖": "登山杖", "hiking poles": "trekking poles", "raincoat": "rain jacket", "雨衣": "冲锋衣",
        "sweatshirt": "hoodie", "卫衣": "连帽卫衣", "紧身裤": "运动紧身裤", "trainers": "running shoes",
        "耳塞": "无线耳机", "earphones": "earbuds", "音响": "蓝牙音箱", "耳麦": "游戏耳机",
        "gamepad": "wireless controller", "游戏机": "游戏主机", "监控": "安防摄像头", "摄像头": "安防摄像头",
        "恒温器": "智能温控器", "扫地机": "扫地机器人", "手环": "智能手环", "显示屏": "显示器",
        "贴膜": "钢化膜", "charging cable": "usb-c cable",
        "充电头": "充电器", "phone charger": "wall charger",
    },
}
_FORCE = "shopassist demo build --force"


class StoreHasWrites(KnowledgeError):
    """``store.db`` holds orders written by customers or agents (or cannot be read to tell), and
    what was asked would replace it. Nothing was changed; the message names the fix."""


@dataclass(frozen=True)
class DemoStore:
    """A built demo store on disk.

    Attributes:
        root: Folder holding the store's files.
        built_on: The "today" the store was built for (order dates are relative to it).
        seed: Seed the store was drawn from.
        backup: Where a forced build kept the database it replaced (else ``None``).

    Example:
        >>> store = DemoStore(Path("/data/demo"), date(2025, 3, 1), 7)
        >>> store.db_url
        'sqlite:////data/demo/store.db'
    """

    root: Path
    built_on: date
    seed: int
    backup: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))
        if not isinstance(self.built_on, date) or isinstance(self.built_on, datetime):
            raise ValueError(f"built_on must be a datetime.date, got {self.built_on!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an int, got {self.seed!r}")

    @property
    def catalog_path(self) -> Path:
        """``catalog.json``: the product list, sorted by id."""
        return self.root / _CATALOG

    @property
    def faqs_path(self) -> Path:
        """``faqs.jsonl``: one FAQ per line and language, in the store-kit format."""
        return self.root / _FAQS

    @property
    def profile_path(self) -> Path:
        """``store.yaml``: the shop's name, currency, languages and policies (:data:`PROFILE`)."""
        return self.root / _PROFILE

    @property
    def db_path(self) -> Path:
        """``store.db``: customers, orders, shipments and returns (SQLite)."""
        return self.root / _DB

    @property
    def db_url(self) -> str:
        """SQLAlchemy URL of :attr:`db_path`."""
        return f"sqlite:///{self.db_path}"


def build_demo_store(root: Path, *, today: date | None = None, seed: int = 7, progress: bool = False,
                     force: bool = False) -> DemoStore:
    """(Re)build every file of the demo store in ``root``.

    Args:
        root: Folder to build into (created if missing); existing store files are replaced.
        today: Day the store is built for; defaults to today's UTC date.
        seed: Seed of the catalog and of the business rows.
        progress: Show a progress bar on stderr.
        force: Replace a ``store.db`` that holds writes (or cannot be read), first copying it to
            ``store.db.bak-<UTC time>`` (the returned store's ``backup``).

    Returns:
        The built store.

    Raises:
        StoreHasWrites: ``store.db`` holds writes or cannot be read, and ``force`` is not set.
        ValueError: If ``seed`` or ``today`` has the wrong type, or the FAQs are malformed.
    """
    root = _check_root(root)
    with _locked(root):
        db = _Database.inspect(root / _DB)
        backup = None
        if force and db.status != "absent":
            backup = backup_sqlite(root / _DB)
        elif db.at_risk:
            raise StoreHasWrites(f"not rebuilding the demo store in {root}: {db.describe()}, which a rebuild "
                                 f"would replace; run `{_FORCE}` to replace it (a backup copy is kept first)")
        store = _build(root, today=today, seed=seed, progress=progress)
        return DemoStore(store.root, store.built_on, store.seed, backup)


def ensure_demo_store(root: Path, *, seed: int = 7, progress: bool = False, today: date | None = None) -> DemoStore:
    """Return the store cached in ``root`` if it is intact and current, else build it, never
    rebuilding over a database that holds writes.

    The cache is reused when ``manifest.json`` exists with this :data:`DEMO_VERSION` and ``seed``,
    the catalog and FAQ files have their recorded SHA-256, the FAQ source has not changed since,
    and ``store.db`` is an order database of the current schema whose own ``meta`` names the
    same version and seed. ``store.db`` is live business data (the engine's order actions write
    to it), so it is never hashed. When the manifest is lost, damaged or stale, or only the
    catalog or FAQs are, the derived files are rewritten around a database that fits (its build
    day read from the database itself), keeping every cancellation and return. A database with
    writes that does not fit (another version, seed or day) or cannot be read is refused with
    :class:`StoreHasWrites`; one without writes is rebuilt. Safe to call from several processes at
    once: they wait on one lock and only the first one builds.

    Args:
        root: Folder of the store (created if missing).
        seed: Seed the store must have been built with.
        progress: Show a progress bar on stderr when building.
        today: If given, the cached store must also have been built for this day.

    Returns:
        The cached or freshly built store.

    Raises:
        StoreHasWrites: Only a rebuild would do, and it would replace written business data.
    """
    root = _check_root(root)
    with _locked(root):
        _upgrade_schema(root / _DB)
        db = _Database.inspect(root / _DB)
        cached = _cached(root, seed=seed, today=today, db=db)
        if cached is not None:
            return cached
        refreshed = _refresh_files(root, seed=seed, today=today, db=db)
        if refreshed is not None:
            return refreshed
        if db.at_risk:
            wanted = f"demo version {DEMO_VERSION}, seed {seed}" + (f", day {today}" if today else "")
            raise StoreHasWrites(f"the demo store in {root} needs a rebuild ({wanted}), but {db.describe()}; "
                                 f"it was left as it is. Run `{_FORCE}` to replace it (a backup copy is kept "
                                 f"first), or point store.root / store.seed at what it was built with")
        return _build(root, today=today, seed=seed, progress=progress)


def _upgrade_schema(path: Path) -> None:
    """Bring an order database of an older schema up to date in place (migrations add tables
    and keep every row), so that a newer shopassist reuses a store with writes, not refuses it."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            found = schema.schema_version(conn)
        if 0 < found < schema.SCHEMA_VERSION:
            schema.create_or_migrate(engine)
    except (SQLAlchemyError, ValueError):
        pass  # not an order database: inspect() says why
    finally:
        engine.dispose()


def _check_root(root: Path) -> Path:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks, builds are still atomic per file
        yield
        return
    with open(root / _LOCK, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _load_faqs() -> list[dict[str, Any]]:
    from .faqs import FAQS

    seen: set[str] = set()
    for n, faq in enumerate(FAQS):
        missing = [k for k in ("id", "lang", "question", "answer") if not faq.get(k)]
        if missing:
            raise ValueError(f"FAQ #{n} lacks {missing}")
        if faq["lang"] not in ("en", "zh"):
            raise ValueError(f"FAQ {faq['id']!r} has lang {faq['lang']!r}, expected 'en' or 'zh'")
        if faq["id"] in seen:
            raise ValueError(f"duplicate FAQ id {faq['id']!r}")
        seen.add(faq["id"])
    return list(FAQS)


def _kit_faq(faq: dict[str, Any]) -> dict[str, Any]:
    """One demo FAQ as a kit's faqs.jsonl line: the kit names it ``<language>-<id>`` again, so the
    engine's FAQ ids stay the demo's own (``en-returns-window``). The shopper paraphrases are not
    alternates: they are the retrieval benchmark's queries."""
    lang, prefix = faq["lang"], f"{faq['lang']}-"
    if not faq["id"].startswith(prefix):
        raise ValueError(f"demo FAQ {faq['id']!r} must start with its language ({prefix!r})")
    return {"id": faq["id"][len(prefix):], "language": lang, "question": faq["question"], "answer": faq["answer"],
            "kind": faq.get("kind", "faq"), "tags": list(faq.get("tags") or ())}


def _faqs_text(faqs: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(_kit_faq(f), ensure_ascii=False, sort_keys=True) + "\n" for f in faqs)


def _profile_text() -> str:
    import yaml

    head = "# The demo shop (docs/store-kit.md), written by `shopassist demo build`.\n"
    return head + yaml.safe_dump(PROFILE, allow_unicode=True, sort_keys=False)


def _read_manifest(root: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((root / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


@dataclass(frozen=True)
class _Database:
    """What ``store.db`` is, read without changing it (SQLite opened read-only).

    ``status``: ``absent`` (no file, or an empty one), ``store`` (an order database of the current
    schema), ``other`` (a database of another or an older schema, or not a database at all).
    ``writes``: rows in the audit and idempotency tables (each connector write leaves both);
    ``None`` when they cannot be counted.
    """

    path: Path
    status: str
    meta: dict[str, str] = field(default_factory=dict)
    writes: int | None = 0
    detail: str = ""

    @classmethod
    def inspect(cls, path: Path) -> "_Database":
        try:
            if path.stat().st_size == 0:
                return cls(path, "absent")
        except FileNotFoundError:
            return cls(path, "absent")
        try:
            conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            return cls(path, "other", writes=None, detail=f"it cannot be opened ({exc})")
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return cls(path, "absent")
            meta = dict(conn.execute("SELECT key, value FROM meta")) if "meta" in tables else {}
            writes = None
            if {"audit", "idempotency"} <= tables:
                writes = sum(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("audit", "idempotency"))
            missing = sorted(set(schema.metadata.tables) - tables)
            version = meta.get("schema_version")
            if missing or version != str(schema.SCHEMA_VERSION):
                why = f"tables {', '.join(missing)} missing" if missing else f"schema version {version!r}"
                return cls(path, "other", meta, writes, f"it is not an order database of schema "
                                                         f"{schema.SCHEMA_VERSION} ({why})")
            return cls(path, "store", meta, writes)
        except (sqlite3.Error, ValueError) as exc:  # not a database, or a damaged one
            return cls(path, "other", writes=None, detail=f"it cannot be read as an order database ({exc})")
        finally:
            conn.close()

    @property
    def at_risk(self) -> bool:
        """Replacing the file could lose business data: it holds writes, or we cannot tell."""
        return self.status != "absent" and self.writes != 0

    def fits(self, *, seed: int, today: date | None) -> date | None:
        """The day this database was built for, when it is a store of this version and seed
        (and ``today``); else None."""
        if self.status != "store" or self.meta.get("demo_version") != str(DEMO_VERSION) \
                or self.meta.get("seed") != str(seed):
            return None
        try:
            built_on = date.fromisoformat(self.meta.get("built_on", ""))
        except ValueError:
            return None
        return built_on if today is None or built_on == today else None

    def describe(self) -> str:
        if self.writes:
            built = ", ".join(f"{k} {self.meta[k]}" for k in ("demo_version", "seed", "built_on") if k in self.meta)
            return (f"{self.path} holds {self.writes} rows of customer writes (audit and idempotency: cancellations, "
                    f"returns, address changes)" + (f", built for {built}" if built else ""))
        return f"{self.path} may hold business data: {self.detail or 'its writes cannot be counted'}"


def _existing(root: Path, *, seed: int, today: date | None) -> tuple[dict[str, Any], DemoStore] | None:
    """The manifest and store when it names this version, seed (and day)."""
    manifest = _read_manifest(root)
    if manifest is None or manifest.get("version") != DEMO_VERSION or manifest.get("seed") != seed:
        return None
    try:
        built_on = date.fromisoformat(manifest["built_on"])
    except (KeyError, TypeError, ValueError):
        return None
    if today is not None and built_on != today:
        return None
    return manifest, DemoStore(root, built_on, seed)


def _cached(root: Path, *, seed: int, today: date | None, db: "_Database | None" = None) -> DemoStore | None:
    """The store when its manifest is verified: static files by hash, the database by what it is."""
    found = _existing(root, seed=seed, today=today)
    if found is None:
        return None
    manifest, store = found
    db = db if db is not None else _Database.inspect(root / _DB)
    if db.fits(seed=seed, today=None) != store.built_on:
        return None  # not the order database this manifest was written with
    hashes = manifest.get("hashes")
    if not isinstance(hashes, dict):
        return None
    if hashes.get(_FAQS) != hashlib.sha256(_faqs_text(_load_faqs()).encode()).hexdigest():
        return None  # the FAQ source changed since the build
    if hashes.get(_PROFILE) != hashlib.sha256(_profile_text().encode()).hexdigest():
        return None  # the shop's profile changed since the build (or was written before it existed)
    if verify_checksums(root, hashes, names=_STATIC):
        return None
    return store


class _Steps:
    """A rich progress bar on stderr, or nothing."""

    def __init__(self, enabled: bool, total: int) -> None:
        self._bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                                 console=Console(stderr=True))
            self._bar.start()
            self._task = self._bar.add_task("demo store", total=total)

    def step(self, description: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=f"demo store: {description}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _refresh_files(root: Path, *, seed: int, today: date | None, db: _Database) -> DemoStore | None:
    """Rewrite the catalog, FAQ file and manifest around an existing database, keeping its data.

    Done when the database fits (this version and seed, by its own ``meta``) and either the
    manifest still names it or it holds writes; a lost manifest is rebuilt from the database."""
    built_on = db.fits(seed=seed, today=today)
    if built_on is None:
        return None
    found = _existing(root, seed=seed, today=today)
    if found is None or found[1].built_on != built_on:
        if not db.writes:
            return None  # nothing written yet: a full rebuild loses nothing
        found = ({"version": DEMO_VERSION, "seed": seed, "built_on": built_on.isoformat()},
                 DemoStore(root, built_on, seed))
    manifest, store = found
    catalog, faqs = generate_catalog(seed), _load_faqs()
    _write_text(root / _PROFILE, _profile_text())
    _write_text(store.catalog_path, dump_catalog(catalog))
    _write_text(store.faqs_path, _faqs_text(faqs))
    if not isinstance(manifest.get("counts"), dict):
        manifest["counts"] = {"products": len(catalog), "categories": len({p["category"] for p in catalog}),
                              "faqs": len(faqs), **_row_counts(store.db_path)}
    manifest["hashes"] = folder_checksums(root, _FILES)
    _write_text(root / _MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return store


def _row_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("customers", "orders", "order_items", "shipments", "returns", "inventory")}
    finally:
        conn.close()


def _build(root: Path, *, today: date | None, seed: int, progress: bool) -> DemoStore:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    today = today if today is not None else datetime.now(timezone.utc).date()
    store = DemoStore(root, today, seed)
    steps = _Steps(progress, total=5)
    try:
        (root / _MANIFEST).unlink(missing_ok=True)  # the store is incomplete until the manifest returns
        _write_text(root / _PROFILE, _profile_text())
        catalog = generate_catalog(seed)
        _write_text(store.catalog_path, dump_catalog(catalog))
        steps.step("catalog")
        faqs = _load_faqs()
        faqs_text = _faqs_text(faqs)
        _write_text(store.faqs_path, faqs_text)
        steps.step("FAQs")
        records = generate_records(catalog, today=today, seed=seed)
        steps.step("customers and orders")
        tmp_db = root / f".{_DB}.{os.getpid()}.tmp"
        tmp_db.unlink(missing_ok=True)
        try:
            write_store_db(tmp_db, records, {"built_on": today.isoformat(), "seed": str(seed),
                                             "demo_version": str(DEMO_VERSION)})
            os.replace(tmp_db, store.db_path)
        finally:
            tmp_db.unlink(missing_ok=True)
        steps.step("database")
        counts = {"products": len(catalog), "categories": len({p["category"] for p in catalog}),
                  "faqs": len(faqs), **records.counts()}
        manifest = {
            "version": DEMO_VERSION, "seed": seed, "built_on": today.isoformat(), "counts": counts,
            "hashes": folder_checksums(root, _FILES),
        }
        _write_text(root / _MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        steps.step("manifest")
    finally:
        steps.close()
    return store
