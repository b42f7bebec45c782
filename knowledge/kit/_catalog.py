"""``catalog.csv`` of a kit (private): every row checked, and turned into catalog ``Product`` objects.

Columns: ``id,name,brand,category,price,stock,description`` (required), ``rating``, ``aliases``,
``accessories``, ``compatible_with``, ``returnable`` (optional), ``attr:<name>`` (any number) and
``<column>:<lang>`` translations of ``name``, ``brand``, ``category``, ``description``,
``aliases`` and ``attr:<name>``. The base columns hold the store's first language that has no
translation columns of its own (normally simply its first language). A product's main fields are in
English when the store lists English, else in the base language; Chinese goes to ``name_zh`` and
attributes' ``value_zh``; every language other than the main one goes to ``Product.translations``.
Attribute values are parsed: ``"30 h"`` -> 30 with unit ``h``, ``"1.2 kg"`` -> 1.2 ``kg``,
``"10 x 5 x 2 cm"`` -> (10, 5, 2) ``cm``, ``"iOS; Android"`` -> a list, ``true``/``false`` -> bool,
anything else (``"IPX7"``) -> its text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.graph.catalog import Attribute, Product

from ._files import iter_csv
from ._log import ProblemLog
from .profile import StoreProfile

__all__ = ["REQUIRED_COLUMNS", "OPTIONAL_COLUMNS", "CatalogRows", "parse_value", "read_catalog_rows"]

FILE = "catalog.csv"
REQUIRED_COLUMNS = ("id", "name", "brand", "category", "price", "stock", "description")
OPTIONAL_COLUMNS = ("rating", "aliases", "accessories", "compatible_with", "returnable")
TRANSLATABLE = ("name", "brand", "category", "description", "aliases")
_LANG = re.compile(r"[a-z]{2}")
_ATTR_NAME = re.compile(r"\w[\w -]*")
_NUM = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_NUM_UNIT = re.compile(rf"({_NUM})\s*([^\W\d_][\w/.²³]*|%|°[A-Za-z]?|\"|'')?")
_DIMS = re.compile(rf"({_NUM})\s*[x×*]\s*({_NUM})(?:\s*[x×*]\s*({_NUM}))?\s*([^\W\d_][\w/.]*)?", re.I)
_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}


@dataclass
class CatalogRows:
    """What the catalog file held: products, relations ``(source, rel, target)`` and the ids."""

    products: list[Product] = field(default_factory=list)
    relations: list[tuple[str, str, str]] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    returnable: dict[str, bool] = field(default_factory=dict)


def _number(text: str) -> float | int:
    t = text.replace(",", "")
    return float(t) if "." in t else int(t)


def parse_value(text: str) -> tuple[Any, str | None]:
    """An ``attr:`` cell as ``(value, unit)``.

    Example:
        >>> parse_value("30 h"), parse_value("IPX7"), parse_value("1.2 kg")
        ((30, 'h'), ('IPX7', None), (1.2, 'kg'))
    """
    text = text.strip()
    if ";" in text:
        return [p.strip() for p in text.split(";") if p.strip()], None
    low = text.lower()
    if low in ("true", "yes"):
        return True, None
    if low in ("false", "no"):
        return False, None
    m = _NUM_UNIT.fullmatch(text)
    if m:
        return _number(m.group(1)), m.group(2)
    m = _DIMS.fullmatch(text)
    if m:
        values = tuple(float(g.replace(",", "")) for g in m.groups()[:3] if g is not None)
        return values, m.group(4)
    return text, None


@dataclass
class _Columns:
    index: dict[str, int] = field(default_factory=dict)  # base column -> position
    trans: dict[tuple[str, str], int] = field(default_factory=dict)  # (base column, lang) -> position
    attrs: list[str] = field(default_factory=list)  # attribute names, in column order
    base_lang: str = "en"
    ok: bool = True


def _header(cells: list[str], profile: StoreProfile, log: ProblemLog) -> _Columns:
    cols = _Columns()
    seen: dict[str, int] = {}
    langs = profile.languages
    wanted_trans: list[tuple[str, str, int]] = []
    for pos, raw in enumerate(cells):
        name = raw.strip()
        if not name:
            log.warn(FILE, 1, f"column {pos + 1}", "a column without a name; ignored")
            continue
        if name in seen:
            log.error(FILE, 1, name, f"column appears twice (columns {seen[name] + 1} and {pos + 1})")
            cols.ok = False
            continue
        seen[name] = pos
        attr = name.startswith("attr:")
        rest = name[5:] if attr else name
        base, sep, lang = rest.rpartition(":")
        if not sep:
            base, lang = rest, ""
        key = f"attr:{base}" if attr else base
        if attr and not _ATTR_NAME.fullmatch(base):
            log.error(FILE, 1, name, "an attribute column is attr:<name> (letters, digits, _ or -), "
                                     "optionally :<language>")
            cols.ok = False
        elif lang:
            if not (attr or base in TRANSLATABLE):
                log.warn(FILE, 1, name, f"{base!r} has no translations; column ignored"
                         if base in REQUIRED_COLUMNS + OPTIONAL_COLUMNS else "unknown column, ignored")
            elif not _LANG.fullmatch(lang) or lang not in langs:
                log.warn(FILE, 1, name, f"language {lang!r} is not in store.yaml `languages` "
                                        f"({', '.join(langs)}); column ignored")
            else:
                wanted_trans.append((key, lang, pos))
        elif attr:
            cols.index[key] = pos
            cols.attrs.append(base)
        elif name in REQUIRED_COLUMNS or name in OPTIONAL_COLUMNS:
            cols.index[name] = pos
        else:
            log.warn(FILE, 1, name, "unknown column, ignored (attributes are attr:<name>)")
    for col in REQUIRED_COLUMNS:
        if col not in cols.index:
            log.error(FILE, 1, col, f"required column is missing (a catalog needs {','.join(REQUIRED_COLUMNS)})")
            cols.ok = False
    translated = {lang for _, lang, _ in wanted_trans}
    free = [lang for lang in langs if lang not in translated]
    if not free:
        log.error(FILE, 1, None, "every store language has `:<lang>` columns, so the base columns hold "
                                 "none of them; drop the columns of the base columns' language")
        cols.ok = False
    cols.base_lang = free[0] if free else langs[0]
    for key, lang, pos in wanted_trans:
        if key not in cols.index and key != "aliases":
            log.warn(FILE, 1, f"{key}:{lang}", f"a translation of {key!r}, which is not a column; ignored")
            continue
        cols.trans[(key, lang)] = pos
    return cols


def read_catalog_rows(path: Path, profile: StoreProfile, log: ProblemLog) -> CatalogRows | None:
    """Check and convert every row; None when the file cannot be read at all (logged)."""
    out = CatalogRows()
    rows = iter_csv(path, FILE, log)
    first = next(rows, None)
    if first is None:
        if not log.has_errors:
            log.error(FILE, None, None, "empty: a catalog needs a header row and at least one product")
        return None
    cols = _header(first[1], profile, log)
    if not cols.ok:
        return None
    main = "en" if "en" in profile.languages else cols.base_lang
    others = [lang for lang in profile.languages if lang != main]
    labels = {name: (profile.attribute_labels.get(name, {}).get(main) or name.replace("_", " "),
                     profile.attribute_labels.get(name, {}).get("zh", "")) for name in cols.attrs}
    first_row: dict[str, int] = {}
    refs: list[tuple[int, str, str, str]] = []  # (row, field, source id, target id)
    width = len(first[1])
    idx = cols.index
    trans = cols.trans
    for row, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != width:
            log.error(FILE, row, None, f"{len(cells)} cells, but the header has {width} columns")
            continue
        product = _row(row, cells, cols, idx, trans, main, others, labels, profile, log, out)
        if product is None:
            continue
        if product.id in first_row:
            log.error(FILE, row, "id", f"duplicate product id {product.id!r} (first on row {first_row[product.id]})")
            continue
        first_row[product.id] = row
        out.products.append(product)
        out.ids.add(product.id)
        for fld in ("accessories", "compatible_with"):
            pos = idx.get(fld)
            if pos is not None and cells[pos].strip():
                refs.extend((row, fld, product.id, t.strip()) for t in cells[pos].split(";") if t.strip())
    if not out.products and not log.has_errors:
        log.error(FILE, None, None, "no products: a catalog needs at least one")
    for row, fld, src, target in refs:
        if target == src:
            log.error(FILE, row, fld, f"product {src!r} lists itself")
        elif target not in out.ids:
            log.error(FILE, row, fld, f"{target!r} is not a product id in {FILE}")
        elif fld == "accessories":
            out.relations.append((target, "accessory_of", src))
        else:
            out.relations.append((src, "compatible_with", target))
    return out


def _row(row: int, cells: list[str], cols: _Columns, idx: dict[str, int], trans: dict[tuple[str, str], int],
         main: str, others: list[str], labels: dict[str, tuple[str, str]], profile: StoreProfile,
         log: ProblemLog, out: CatalogRows) -> Product | None:
    bad = log.error_count
    pid = cells[idx["id"]].strip()
    if not pid:
        log.error(FILE, row, "id", "empty: every product needs an id")
    elif any(ch in pid for ch in ";\n\r\t"):
        log.error(FILE, row, "id", f"{pid!r}: ids may not hold ';', tabs or line breaks")

    def text(col: str, lang: str) -> str:
        if lang == cols.base_lang:
            return cells[idx[col]].strip()
        pos = trans.get((col, lang))
        return cells[pos].strip() if pos is not None else ""

    def main_text(col: str) -> str:
        return text(col, main) or text(col, cols.base_lang)

    name = main_text("name")
    if not name:
        log.error(FILE, row, "name", "empty: every product needs a name")
    price_text = cells[idx["price"]].strip()
    price = _float(price_text)
    if price is None or price < 0:
        log.error(FILE, row, "price", f"{price_text!r} is not a number >= 0 (in {profile.currency}, "
                                      "digits only, e.g. 19.99)" if price_text else "empty: every product needs a price")
    stock_text = cells[idx["stock"]].strip()
    stock = int(stock_text) if stock_text.isdigit() else None
    if stock is None:
        log.error(FILE, row, "stock", f"{stock_text!r} is not a whole number >= 0" if stock_text
                  else "empty: every product needs a stock count (0 when sold out)")
    rating = 0.0
    if "rating" in idx and cells[idx["rating"]].strip():
        r_text = cells[idx["rating"]].strip()
        r = _float(r_text)
        if r is None or not 0 <= r <= 5:
            log.error(FILE, row, "rating", f"{r_text!r} is not a number from 0 to 5")
        else:
            rating = r
    if "returnable" in idx and cells[idx["returnable"]].strip():
        flag = cells[idx["returnable"]].strip().lower()
        if flag in _TRUE or flag in _FALSE:
            out.returnable[pid] = flag in _TRUE
        else:
            log.error(FILE, row, "returnable", f"{cells[idx['returnable']].strip()!r} is not true or false")
    if log.error_count > bad:
        return None
    aliases: list[str] = []
    for lang in profile.languages:
        if "aliases" in idx or ("aliases", lang) in trans:
            raw = cells[idx["aliases"]] if lang == cols.base_lang and "aliases" in idx else text("aliases", lang)
            aliases += [a.strip() for a in raw.split(";") if a.strip() and a.strip() not in aliases]
    attrs: dict[str, Attribute] = {}
    for attr in cols.attrs:
        col = f"attr:{attr}"
        raw = main_text(col)
        if not raw:
            continue
        value, unit = parse_value(raw)
        zh = text(col, "zh") if "zh" != main else ""
        attrs[attr] = Attribute(key=attr, value=value, unit=unit, label=labels[attr][0], label_zh=labels[attr][1],
                                value_zh=zh)
    translations: dict[str, dict[str, str]] = {}
    for lang in others:
        texts = {f: t for f in ("name", "brand", "category", "description") if (t := text(f, lang))}
        if texts:
            translations[lang] = texts
    return Product(
        id=pid, name=name, brand=main_text("brand"), category=main_text("category"), price=float(price),
        currency=profile.currency, stock=stock, rating=rating, description=main_text("description"),
        name_zh=text("name", "zh") if "zh" in profile.languages else "", aliases=tuple(aliases),
        attributes=attrs, translations=translations,
    )


def _float(text: str) -> float | None:
    if "_" in text:  # float() reads "1_000"; a shop's spreadsheet never means that
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
