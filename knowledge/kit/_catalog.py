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
_CJK = re.compile(r"[\u3400-\u9fff]")
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
        >>> parse_value("是"), parse_value("no")
        ((True, None), (False, None))
    """
    text = text.strip()
    if ";" in text:
        return [p.strip() for p in text.split(";") if p.strip()], None
    low = text.lower()
    if low in ("true", "yes", "是", "有"):  # a Chinese-first shop's yes / no: 是 / 否, 有 / 无
        return True, None
    if low in ("false", "no", "否", "无"):
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


@dataclass(frozen=True)
class _Plan:
    """Where each value of a product is, worked out once from the header (rows are many)."""

    fields: dict[str, tuple[int | None, int]]  # name/brand/category/description -> (main pos, base pos)
    name_zh: int | None
    attrs: list[tuple[str, int | None, int, int | None, str, str]]  # name, main, base, zh, label, label_zh
    others: list[tuple[str, list[tuple[str, int]]]]  # lang -> [(field, pos)]
    aliases: list[int]


def _plan(cols: _Columns, profile: StoreProfile) -> _Plan:
    main = "en" if "en" in profile.languages else cols.base_lang
    base = cols.base_lang

    def pos(col: str, lang: str) -> int | None:
        return cols.index.get(col) if lang == base else cols.trans.get((col, lang))

    fields = {f: (pos(f, main) if main != base else None, cols.index[f])
              for f in ("name", "brand", "category", "description")}
    name_zh = pos("name", "zh") if "zh" in profile.languages else None
    attrs = []
    for name in cols.attrs:
        labels = profile.attribute_labels.get(name, {})
        col = f"attr:{name}"
        attrs.append((name, pos(col, main) if main != base else None, cols.index[col],
                      pos(col, "zh") if main != "zh" else None,
                      labels.get(main) or name.replace("_", " "),
                      # a column named in Chinese (attr:无线充电) is its own Chinese label
                      labels.get("zh") or (name if _CJK.search(name) else "")))
    others = []
    for lang in profile.languages:
        if lang != main:
            found = [(f, p) for f in ("name", "brand", "category", "description") if (p := pos(f, lang)) is not None]
            if found:
                others.append((lang, found))
    aliases = [p for lang in profile.languages if (p := pos("aliases", lang)) is not None]
    return _Plan(fields, name_zh, attrs, others, aliases)


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
    plan = _plan(cols, profile)
    first_row: dict[str, int] = {}
    refs: list[tuple[int, str, str, str]] = []  # (row, field, source id, target id)
    width = len(first[1])
    idx = cols.index
    values: dict[tuple[str, str, str], Attribute] = {}
    for row, cells in rows:
        if not any(c.strip() for c in cells):
            continue  # a blank row
        if len(cells) != width:
            log.error(FILE, row, None, f"{len(cells)} cells, but the header has {width} columns")
            continue
        pid = cells[idx["id"]].strip()
        if pid in first_row:
            log.error(FILE, row, "id", f"duplicate product id {pid!r} (first on row {first_row[pid]})")
            continue
        if pid:
            first_row[pid] = row
            out.ids.add(pid)  # known even when the row has errors: links to it are not errors too
        for fld in ("accessories", "compatible_with"):
            p = idx.get(fld)
            if p is not None and cells[p].strip():
                refs.extend((row, fld, pid, t.strip()) for t in cells[p].split(";") if t.strip())
        product = _row(row, cells, idx, plan, profile, log, out, values)
        if product is not None:
            out.products.append(product)
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


def _row(row: int, cells: list[str], idx: dict[str, int], plan: _Plan, profile: StoreProfile, log: ProblemLog,
         out: CatalogRows, values: dict[tuple[str, str, str], Attribute]) -> Product | None:
    pid = cells[idx["id"]].strip()
    bad = log.error_count
    if not pid:
        log.error(FILE, row, "id", "empty: every product needs an id")
    elif any(ch in pid for ch in ";\n\r\t"):
        log.error(FILE, row, "id", f"{pid!r}: ids may not hold ';', tabs or line breaks")
    texts = {}
    for f, (main_pos, base_pos) in plan.fields.items():
        t = cells[main_pos].strip() if main_pos is not None else ""
        texts[f] = t or cells[base_pos].strip()
    if not texts["name"]:
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
    r_pos = idx.get("rating")
    if r_pos is not None and (r_text := cells[r_pos].strip()):
        r = _float(r_text)
        if r is None or not 0 <= r <= 5:
            log.error(FILE, row, "rating", f"{r_text!r} is not a number from 0 to 5")
        else:
            rating = r
    ret_pos = idx.get("returnable")
    if ret_pos is not None and (flag := cells[ret_pos].strip().lower()):
        if flag in _TRUE or flag in _FALSE:
            out.returnable[pid] = flag in _TRUE
        else:
            log.error(FILE, row, "returnable", f"{cells[ret_pos].strip()!r} is not true or false")
    if log.error_count > bad:
        return None
    aliases: list[str] = []
    for p in plan.aliases:
        for a in cells[p].split(";"):
            a = a.strip()
            if a and a not in aliases:
                aliases.append(a)
    attrs: dict[str, Attribute] = {}
    for name, main_pos, base_pos, zh_pos, label, label_zh in plan.attrs:
        raw = (cells[main_pos].strip() if main_pos is not None else "") or cells[base_pos].strip()
        if not raw:
            continue
        zh = cells[zh_pos].strip() if zh_pos is not None else ""
        key = (name, raw, zh)
        attr = values.get(key)  # attributes are frozen and values repeat: share one object per value
        if attr is None:
            value, unit = parse_value(raw)
            attr = Attribute(key=name, value=value, unit=unit, label=label, label_zh=label_zh, value_zh=zh)
            if not isinstance(value, list) and len(values) < 200_000:
                values[key] = attr
        attrs[name] = attr
    translations: dict[str, dict[str, str]] = {}
    for lang, found in plan.others:
        t = {f: v for f, p in found if (v := cells[p].strip())}
        if t:
            translations[lang] = t
    return Product(
        id=pid, name=texts["name"], brand=texts["brand"], category=texts["category"], price=float(price),
        currency=profile.currency, stock=stock, rating=rating, description=texts["description"],
        name_zh=(cells[plan.name_zh].strip() if plan.name_zh is not None else "") or "",
        aliases=tuple(aliases), attributes=attrs, translations=translations,
    )


def _float(text: str) -> float | None:
    if "_" in text:  # float() reads "1_000"; a shop's spreadsheet never means that
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
