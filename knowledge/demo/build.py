"""Build, verify and cache the demo store on disk.

This module owns the demo store's *files*: ``catalog.json`` (products), ``faqs.jsonl`` (one FAQ
per line, from :mod:`knowledge.demo.faqs`), ``store.db`` (SQLite through
:mod:`connectors.schema`) and ``manifest.json`` (version, seed, build day, row counts and the
SHA-256 of each file). Each file is written under a temporary name and moved into place with
``os.replace``; the manifest goes last, so a store with a valid manifest is complete.
:func:`ensure_demo_store` reuses a store whose manifest still matches and rebuilds otherwise,
holding an exclusive lock on ``root/.build.lock`` so that concurrent processes build it once.

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
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from .catalog import dump_catalog, generate_catalog
from .people import generate_records, write_store_db

__all__ = ["DEMO_VERSION", "DemoStore", "build_demo_store", "ensure_demo_store"]

#: Bump whenever generated content changes, so cached stores are rebuilt.
DEMO_VERSION: int = 2  # 2: schema v2 (inventory, audit, idempotency tables)

_CATALOG, _FAQS, _DB, _MANIFEST, _LOCK = "catalog.json", "faqs.jsonl", "store.db", "manifest.json", ".build.lock"
_FILES = (_CATALOG, _FAQS, _DB)
_STATIC = (_CATALOG, _FAQS)  # generated files; the database is live data and is not hashed


@dataclass(frozen=True)
class DemoStore:
    """A built demo store on disk.

    Attributes:
        root: Folder holding the store's files.
        built_on: The "today" the store was built for (order dates are relative to it).
        seed: Seed the store was drawn from.

    Example:
        >>> store = DemoStore(Path("/data/demo"), date(2025, 3, 1), 7)
        >>> store.db_url
        'sqlite:////data/demo/store.db'
    """

    root: Path
    built_on: date
    seed: int

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
        """``faqs.jsonl``: one FAQ object per line."""
        return self.root / _FAQS

    @property
    def db_path(self) -> Path:
        """``store.db``: customers, orders, shipments and returns (SQLite)."""
        return self.root / _DB

    @property
    def db_url(self) -> str:
        """SQLAlchemy URL of :attr:`db_path`."""
        return f"sqlite:///{self.db_path}"


def build_demo_store(root: Path, *, today: date | None = None, seed: int = 7, progress: bool = False) -> DemoStore:
    """(Re)build every file of the demo store in ``root``.

    Args:
        root: Folder to build into (created if missing); existing store files are replaced.
        today: Day the store is built for; defaults to today's UTC date.
        seed: Seed of the catalog and of the business rows.
        progress: Show a progress bar on stderr.

    Returns:
        The built store.

    Raises:
        ValueError: If ``seed`` or ``today`` has the wrong type, or the FAQs are malformed.
    """
    root = _check_root(root)
    with _locked(root):
        return _build(root, today=today, seed=seed, progress=progress)


def ensure_demo_store(root: Path, *, seed: int = 7, progress: bool = False, today: date | None = None) -> DemoStore:
    """Return the store cached in ``root`` if it is intact and current, else build it.

    The cache is reused when ``manifest.json`` exists with this :data:`DEMO_VERSION` and ``seed``,
    the catalog and FAQ files have their recorded SHA-256, the FAQ source has not changed since,
    and ``store.db`` exists. ``store.db`` is live business data (the engine's order actions write
    to it), so it is never hashed, and when only the catalog or FAQs are stale they are rewritten
    around the existing database: a refresh never throws away a customer's cancellation or
    return. Safe to call from several processes at once: they wait on one lock and only the
    first one builds.

    Args:
        root: Folder of the store (created if missing).
        seed: Seed the store must have been built with.
        progress: Show a progress bar on stderr when building.
        today: If given, the cached store must also have been built for this day.

    Returns:
        The cached or freshly built store.
    """
    root = _check_root(root)
    with _locked(root):
        cached = _cached(root, seed=seed, today=today)
        if cached is not None:
            return cached
        refreshed = _refresh_files(root, seed=seed, today=today)
        if refreshed is not None:
            return refreshed
        return _build(root, today=today, seed=seed, progress=progress)


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def _faqs_text(faqs: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(f, ensure_ascii=False, sort_keys=True) + "\n" for f in faqs)


def _read_manifest(root: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((root / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _existing(root: Path, *, seed: int, today: date | None) -> tuple[dict[str, Any], DemoStore] | None:
    """The manifest and store when a database of this version, seed (and day) is there."""
    manifest = _read_manifest(root)
    if manifest is None or manifest.get("version") != DEMO_VERSION or manifest.get("seed") != seed:
        return None
    try:
        built_on = date.fromisoformat(manifest["built_on"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (root / _DB).is_file() or (today is not None and built_on != today):
        return None
    return manifest, DemoStore(root, built_on, seed)


def _cached(root: Path, *, seed: int, today: date | None) -> DemoStore | None:
    found = _existing(root, seed=seed, today=today)
    if found is None:
        return None
    manifest, store = found
    hashes = manifest.get("hashes")
    if not isinstance(hashes, dict):
        return None
    if hashes.get(_FAQS) != hashlib.sha256(_faqs_text(_load_faqs()).encode()).hexdigest():
        return None  # the FAQ source changed since the build
    if any(not (root / name).is_file() or _sha256(root / name) != hashes.get(name) for name in _STATIC):
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


def _refresh_files(root: Path, *, seed: int, today: date | None) -> DemoStore | None:
    """Rewrite a stale catalog / FAQ file around an existing database, keeping its data."""
    found = _existing(root, seed=seed, today=today)
    if found is None:
        return None
    manifest, store = found
    _write_text(store.catalog_path, dump_catalog(generate_catalog(seed)))
    _write_text(store.faqs_path, _faqs_text(_load_faqs()))
    manifest["hashes"] = {name: _sha256(root / name) for name in _FILES}
    _write_text(root / _MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return store


def _build(root: Path, *, today: date | None, seed: int, progress: bool) -> DemoStore:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    today = today if today is not None else datetime.now(timezone.utc).date()
    store = DemoStore(root, today, seed)
    steps = _Steps(progress, total=5)
    try:
        (root / _MANIFEST).unlink(missing_ok=True)  # the store is incomplete until the manifest returns
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
            "hashes": {name: _sha256(root / name) for name in _FILES},
        }
        _write_text(root / _MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        steps.step("manifest")
    finally:
        steps.close()
    return store
