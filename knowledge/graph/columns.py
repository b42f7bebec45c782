"""A catalog as columns: the compact form a store build saves and an engine start reads back.

:meth:`Catalog.save` writes one JSON object per product, which is clear but slow to read back at
50,000 products (every key of every product parsed again). Here the same products are columns:
texts joined into one string per column (split again in one call), repeated texts (brands,
categories, currencies) and attribute values (catalogs share them: ``"IPX7"``, ``"30 h"``) kept once
in tables and referenced by number, numbers in numpy arrays. :func:`catalog_columns` gives
``(doc, arrays)``: ``doc`` is JSON data, ``arrays`` plain numeric arrays (saved with ``np.savez``
and read without pickle); :func:`catalog_from_columns` turns them back into an equal catalog,
products in the same order. Nothing in either is executed: texts stay texts.

Example:
    >>> doc, arrays = catalog_columns(catalog)                       # doctest: +SKIP
    >>> same = catalog_from_columns(doc, arrays)                     # doctest: +SKIP
    >>> [p.name for p in same] == [p.name for p in catalog]          # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from knowledge.kernel.errors import KnowledgeError

from .catalog import Attribute, Catalog, Product

__all__ = ["COLUMNS_VERSION", "catalog_columns", "catalog_from_columns", "join_texts", "split_texts", "pack_rows",
           "unpack_rows"]

COLUMNS_VERSION = 1
_SEP = "\x1f"  # the unit separator: a text holding one is stored as a list instead
_TEXTS = ("id", "name", "description", "name_zh")
_FIELDS = ("name", "brand", "category", "description")


def join_texts(texts: list[str]) -> str | list[str]:
    """``texts`` as one string (split again by :func:`split_texts` in one call), or the list itself
    when a text holds the separator."""
    return texts if any(_SEP in t for t in texts) else _SEP.join(texts)


def pack_rows(table: Mapping[Any, Any]) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """``{key: row numbers}`` as ``(keys, all rows end to end, offsets)``: one array instead of
    thousands (what :func:`unpack_rows` reads back); keys keep their order."""
    keys = list(table)
    parts = [np.asarray(table[k], dtype=np.int64).ravel() for k in keys]
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    if parts:
        np.cumsum([len(p) for p in parts], out=offsets[1:])
    flat = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return keys, flat, offsets


def unpack_rows(keys: Any, flat: np.ndarray, offsets: np.ndarray) -> dict[Any, np.ndarray]:
    """``{key: row numbers}`` from :func:`pack_rows` (each a view into ``flat``).

    Raises:
        ValueError: the offsets do not fit the keys or the rows.
    """
    keys = list(keys)
    off = np.asarray(offsets, dtype=np.int64)
    if len(off) != len(keys) + 1 or (len(off) and (off[0] != 0 or off[-1] != len(flat) or np.any(np.diff(off) < 0))):
        raise ValueError("saved rows do not fit their offsets")
    bounds = off.tolist()
    return {k: flat[bounds[i]:bounds[i + 1]] for i, k in enumerate(keys)}


def split_texts(value: Any, n: int | None, what: str) -> list[str]:
    """The ``n`` texts (None: any number) :func:`join_texts` gave ``value`` for.

    Raises:
        KnowledgeError: ``value`` does not hold ``n`` texts.
    """
    out = value.split(_SEP) if isinstance(value, str) else value
    if not isinstance(out, list) or (n is not None and len(out) != n) or not (isinstance(value, str) or all(isinstance(t, str) for t in out)):
        raise KnowledgeError(f"saved catalog column {what!r} does not hold {n} texts")
    return out


class _Table:
    """Values kept once, referenced by their position."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._at: dict[Any, int] = {}

    def ref(self, key: Any, item: Any = None) -> int:
        at = self._at.get(key)
        if at is None:
            at = self._at[key] = len(self.items)
            self.items.append(key if item is None else item)
        return at


def _fast_product(**fields: Any) -> Product:
    """A :class:`Product` with exactly these fields, set as its generated ``__init__`` sets them
    (five times quicker over 50,000 products; the fields come from a product that was built normally)."""
    product = object.__new__(Product)
    product.__dict__.update(fields)
    return product


# the shortcut holds while Product is a plain frozen dataclass (no __post_init__, no slots)
_product = Product if hasattr(Product, "__post_init__") or hasattr(Product, "__slots__") else _fast_product


def _attribute_doc(a: Attribute) -> list[Any]:
    v = a.value
    kind = "tuple" if isinstance(v, tuple) else "list" if isinstance(v, list) else ""
    return [a.key, list(v) if kind else v, a.unit, a.label, a.label_zh, a.note, a.value_zh, kind]


def _attribute(raw: Any) -> Attribute:
    key, value, unit, label, label_zh, note, value_zh, kind = raw
    if kind == "tuple":
        value = tuple(value)
    return Attribute(key=key, value=value, unit=unit, label=label, label_zh=label_zh, note=note, value_zh=value_zh)


def catalog_columns(catalog: Catalog) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``catalog`` as ``(doc, arrays)`` (module docstring); products in the catalog's order."""
    products = list(catalog)
    strings, attrs = _Table(), _Table()
    flat: list[int] = []
    offsets = [0]
    langs = sorted({lang for p in products for lang in p.translations})
    trans: dict[str, list[str]] = {f"{lang}:{f}": [] for lang in langs for f in _FIELDS}
    for p in products:
        for a in p.attributes.values():
            flat.append(attrs.ref(id(a), _attribute_doc(a)))
        offsets.append(len(flat))
        for lang in langs:
            t = p.translations.get(lang, {})
            for f in _FIELDS:
                trans[f"{lang}:{f}"].append(t.get(f, ""))
    if any(_SEP in a or "\x1e" in a for p in products for a in p.aliases):
        aliases: str | list = [list(p.aliases) for p in products]
    else:
        aliases = join_texts(["\x1e".join(p.aliases) if p.aliases else "" for p in products])
    doc = {
        "version": COLUMNS_VERSION,
        "count": len(products),
        **{col: join_texts([getattr(p, col) for p in products]) for col in _TEXTS},
        "aliases": aliases,
        "translations": {key: join_texts(col) for key, col in trans.items()},
        "strings": None,  # filled below, once every product's references are taken
        "attributes": attrs.items,
        "relations": [list(r) for r in catalog.relations()],
    }
    arrays = {
        "price": np.array([p.price for p in products], dtype=np.float64),
        "rating": np.array([p.rating for p in products], dtype=np.float64),
        "stock": np.array([p.stock for p in products], dtype=np.int64),
        "brand": np.array([strings.ref(p.brand) for p in products], dtype=np.int64),
        "category": np.array([strings.ref(p.category) for p in products], dtype=np.int64),
        "currency": np.array([strings.ref(p.currency) for p in products], dtype=np.int64),
        "attr_rows": np.asarray(flat, dtype=np.int64),
        "attr_offsets": np.asarray(offsets, dtype=np.int64),
    }
    doc["strings"] = strings.items
    return doc, arrays


def catalog_from_columns(doc: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Catalog:
    """The catalog that :func:`catalog_columns` gave ``(doc, arrays)`` of.

    Raises:
        KnowledgeError: the columns are of another version or do not fit together.
    """
    if doc.get("version") != COLUMNS_VERSION:
        raise KnowledgeError(f"saved catalog columns are version {doc.get('version')!r}, not {COLUMNS_VERSION}")
    try:
        n = int(doc["count"])
        texts = {col: split_texts(doc[col], n, col) for col in _TEXTS}
        raw_aliases = doc["aliases"]
        aliases = ([tuple(a) for a in raw_aliases] if isinstance(raw_aliases, list) and n and isinstance(raw_aliases[0], list)
                   else [tuple(a.split("\x1e")) if a else () for a in split_texts(raw_aliases, n, "aliases")])
        trans = {key: split_texts(col, n, key) for key, col in doc["translations"].items()}
        strings = list(doc["strings"])
        table = [_attribute(a) for a in doc["attributes"]]
        cols = {name: np.asarray(arrays[name]) for name in ("price", "rating", "stock", "brand", "category",
                                                             "currency", "attr_rows", "attr_offsets")}
        if any(len(cols[c]) != n for c in ("price", "rating", "stock", "brand", "category", "currency")) \
                or len(cols["attr_offsets"]) != n + 1 or len(aliases) != n:
            raise KnowledgeError("saved catalog columns differ in length")
        price, rating, stock = cols["price"].tolist(), cols["rating"].tolist(), cols["stock"].tolist()
        brand, category, currency = ([strings[k] for k in cols[c].tolist()] for c in ("brand", "category", "currency"))
        rows, offsets = cols["attr_rows"].tolist(), cols["attr_offsets"].tolist()
        translations: list[dict[str, dict[str, str]]] = [{} for _ in range(n)]
        for key, col in trans.items():
            lang, f = key.split(":", 1)
            for i, text in enumerate(col):
                if text:
                    translations[i].setdefault(lang, {})[f] = text
        ids, names, descriptions, names_zh = (texts[c] for c in ("id", "name", "description", "name_zh"))
        products = []
        for i in range(n):
            attributes = {(a := table[k]).key: a for k in rows[offsets[i]:offsets[i + 1]]}
            products.append(_product(
                id=ids[i], name=names[i], brand=brand[i], category=category[i], price=price[i], currency=currency[i],
                stock=stock[i], rating=rating[i], description=descriptions[i], name_zh=names_zh[i],
                aliases=aliases[i], attributes=attributes, translations=translations[i]))
        relations = [(str(s), str(r), str(d)) for s, r, d in doc["relations"]]
    except KnowledgeError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise KnowledgeError(f"saved catalog columns are malformed: {exc}") from exc
    return Catalog(products, relations)
