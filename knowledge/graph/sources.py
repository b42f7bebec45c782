"""The store's catalog from settings: the demo catalog, an external Amazon-format CSV, or both.

``store.catalog_csv`` names an Amazon-style product CSV (:mod:`knowledge.graph.amazon`);
``store.catalog_mode`` says whether its products are ``merge``d into the demo catalog (ids that
collide keep the demo product, and are counted) or ``replace`` it. The parsed CSV is saved as a
catalog file (:meth:`Catalog.save`) under ``cache_dir``, keyed by the CSV's content hash, so the
next start loads it in milliseconds instead of re-parsing the text; an edited CSV is re-imported.

Example:
    >>> cat = load_catalog("demo/catalog.json", csv_path="amazon.csv", mode="merge")  # doctest: +SKIP
    >>> len(cat)                                                                       # doctest: +SKIP
    1237
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Literal

from knowledge.kernel.errors import KnowledgeError

from .amazon import import_amazon_csv
from .catalog import FORMAT_VERSION, Catalog

__all__ = ["load_catalog", "CatalogMode"]

log = logging.getLogger(__name__)
CatalogMode = Literal["merge", "replace"]


def _file_hash(path: Path) -> str:
    h = hashlib.sha256(f"catalog-v{FORMAT_VERSION}".encode())
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise KnowledgeError(f"cannot read product CSV {path}: {exc}") from exc
    return h.hexdigest()[:16]


def _imported(csv_path: Path, cache_dir: Path | None) -> Catalog:
    """The CSV as a catalog, from the saved copy when the CSV has not changed."""
    cached = cache_dir / f"catalog-{csv_path.stem}-{_file_hash(csv_path)}.json" if cache_dir else None
    if cached is not None and cached.is_file():
        try:
            return Catalog.load(cached)
        except KnowledgeError as exc:  # damaged or from another version: import again
            log.warning("ignoring saved catalog %s: %s", cached, exc)
    result = import_amazon_csv(csv_path)
    if not result.stats.imported:
        raise KnowledgeError(f"{csv_path}: no product could be imported ({result.stats.rows} rows read)")
    if result.stats.skipped:
        log.warning("%s: %d of %d rows skipped (first: %s)", csv_path, result.stats.skipped, result.stats.rows,
                    result.stats.problems[:1])
    if cached is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            result.catalog.save(cached)
        except (OSError, KnowledgeError) as exc:
            log.warning("cannot save the imported catalog in %s: %s", cache_dir, exc)
    return result.catalog


def load_catalog(
    base_path: str | Path | None,
    *,
    csv_path: str | Path | None = None,
    mode: CatalogMode = "merge",
    cache_dir: str | Path | None = None,
) -> Catalog:
    """The catalog a store serves: ``base_path`` (a catalog JSON list), plus or instead of ``csv_path``.

    Args:
        base_path: the demo (or any) catalog file read by :meth:`Catalog.from_file`; may be
            ``None`` when ``mode`` is ``replace``.
        csv_path: an Amazon-format product CSV, or ``None`` for the base catalog alone.
        mode: ``merge`` (base products win id collisions) or ``replace`` (the CSV alone).
        cache_dir: where the parsed CSV is kept between runs (``None``: parse every time).

    Raises:
        KnowledgeError: a missing or unreadable file, a CSV without the required columns or
            without a single importable product.
    """
    if mode not in ("merge", "replace"):
        raise ValueError(f"mode must be merge or replace, got {mode!r}")
    if csv_path is None:
        if base_path is None:
            raise ValueError("need a base catalog or a catalog CSV")
        return Catalog.from_file(base_path)
    csv_path = Path(csv_path).expanduser()
    if not csv_path.is_file():
        raise KnowledgeError(f"catalog CSV {csv_path} does not exist")
    imported = _imported(csv_path, Path(cache_dir) if cache_dir is not None else None)
    if mode == "replace" or base_path is None:
        return imported
    base = Catalog.from_file(base_path)
    taken = {p.id for p in base}
    extra = [p for p in imported if p.id not in taken]
    if len(extra) < len(imported):
        log.warning("%s: %d product ids already in the base catalog; the base products are kept",
                    csv_path, len(imported) - len(extra))
    return Catalog([*base, *extra], base.relations() + imported.relations())
