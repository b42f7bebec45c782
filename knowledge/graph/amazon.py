"""Importing an Amazon-style product CSV (the 28-column "amazon_com-ecommerce" sample) into a Catalog.

Each row becomes a :class:`~knowledge.graph.catalog.Product`: ``Uniq Id`` is its node id, the
``" | "``-separated ``Category`` becomes a category path (one graph node per level), the selling
price is parsed from text such as ``"$1,299.99"``, ``"$74.99 - $249.99"`` (the low end, the high
end kept as ``price_max``) or ``"$ 19 99 $39.95 ..."``, and weights, dimensions, recommended ages,
model numbers and the like are parsed out of ``Shipping Weight``, ``Product Dimensions`` and
``Product Specification`` into typed :class:`Attribute` values with units (``lb``, ``oz``, ``in``...).
A field that does not parse is left out and counted in :class:`ImportStats`; a row without an id or
name is skipped; nothing in a row makes the import crash. Only a missing or unreadable file, or a
missing required column, raises :class:`~engine.errors.KnowledgeError`.

Example:
    >>> result = import_amazon_csv("amazon_products_sample_1000.csv")     # doctest: +SKIP
    >>> result.catalog.get(result.catalog_ids[0]).attributes["weight"].render()  # doctest: +SKIP
    '2.5 lb'
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.kernel.errors import KnowledgeError

from .catalog import CATEGORY_SEP, Attribute, Catalog, Product

__all__ = [
    "REQUIRED_COLUMNS",
    "AmazonImport",
    "ImportStats",
    "import_amazon_csv",
    "parse_price",
    "parse_weight",
    "parse_dimensions",
]

REQUIRED_COLUMNS = ("Uniq Id", "Product Name")

_UNITS = {
    "pounds": "lb", "pound": "lb", "lbs": "lb", "lb": "lb",
    "ounces": "oz", "ounce": "oz", "oz": "oz",
    "kilograms": "kg", "kilogram": "kg", "kg": "kg",
    "grams": "g", "gram": "g", "g": "g",
    "inches": "in", "inch": "in", "in": "in",
    "centimeters": "cm", "centimetres": "cm", "cm": "cm",
    "millimeters": "mm", "millimetres": "mm", "mm": "mm",
    "feet": "ft", "foot": "ft", "ft": "ft",
}
_NUM = r"(\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)"
_WEIGHT_RE = re.compile(rf"{_NUM}\s*(pounds?|lbs?|ounces?|oz|kilograms?|kg|grams?|g)\b", re.I)
_DIMS_RE = re.compile(
    rf"{_NUM}\s*x\s*{_NUM}(?:\s*x\s*{_NUM})?\s*(inches|inch|in|centimet(?:er|re)s|cm|millimet(?:er|re)s|mm|feet|foot|ft)\b",
    re.I,
)
_PRICE_RE = re.compile(r"\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?")
_SPLIT_CENTS_RE = re.compile(r"^\$\s+(\d[\d,]*)\s+(\d{2})\b")  # "$ 19 99 $39.95 ..." = 19.99 on sale
_RANGE_RE = re.compile(r"^\s*(\$[\d,.]+)\s*-\s*(\$[\d,.]+)\s*$")
_AGE_RE = re.compile(
    r"(\d+)\s*(months?|years?)?\s*(?:-\s*(\d+)\s*(months?|years?)|(and\s*up))", re.I
)
# Product Specification keys (spaces removed, lower case) kept as plain text attributes
_TEXT_SPECS = {
    "itemmodelnumber": "model_number",
    "asin": "asin",
    "manufacturer": "manufacturer",
    "batteries": "batteries",
    "department": "department",
}


@dataclass
class ImportStats:
    """What the import managed: counts per parsed field and the problems it stepped over."""

    rows: int = 0
    imported: int = 0
    skipped: int = 0
    with_price: int = 0
    with_weight: int = 0
    with_dimensions: int = 0
    with_category: int = 0
    problems: list[str] = field(default_factory=list)

    def share(self, count: int) -> float:
        return count / self.imported if self.imported else 0.0


@dataclass(frozen=True)
class AmazonImport:
    catalog: Catalog
    stats: ImportStats
    catalog_ids: tuple[str, ...]


# -- field parsers (each returns None for text it cannot read) ------------------------------------


def _float(text: str) -> float:
    return float(text.replace(",", ""))


def parse_price(text: str) -> tuple[float, float | None] | None:
    """``"$1,299.99"`` -> ``(1299.99, None)``; ``"$10 - $20"`` -> ``(10.0, 20.0)``; junk -> None."""
    text = (text or "").strip()
    if not text:
        return None
    m = _RANGE_RE.match(text)
    if m:
        low, high = parse_price(m.group(1)), parse_price(m.group(2))
        if low and high:
            return low[0], high[0]
    m = _SPLIT_CENTS_RE.match(text)
    if m:
        return round(_float(m.group(1)) + int(m.group(2)) / 100, 2), None
    m = _PRICE_RE.search(text)
    if not m:
        return None
    cents = int(m.group(2).ljust(2, "0")) / 100 if m.group(2) else 0.0
    return round(_float(m.group(1)) + cents, 2), None


def parse_weight(text: str) -> Attribute | None:
    """``"2.5 pounds"`` -> ``Attribute("weight", 2.5, "lb")``; the first weight in the text wins."""
    m = _WEIGHT_RE.search(text or "")
    if not m:
        return None
    return Attribute("weight", _float(m.group(1)), _UNITS[m.group(2).lower()], label="weight")


def parse_dimensions(text: str) -> Attribute | None:
    """``"10 x 5 x 2 inches"`` -> ``Attribute("dimensions", (10.0, 5.0, 2.0), "in")``."""
    m = _DIMS_RE.search(text or "")
    if not m:
        return None
    values = tuple(_float(g) for g in m.groups()[:3] if g is not None)
    return Attribute("dimensions", values, _UNITS[m.group(4).lower()], label="dimensions")


def _parse_age(text: str) -> list[Attribute]:
    """``"18 months - 5 years"`` / ``"3yearsandup"`` -> min_age (and max_age) with units."""
    m = _AGE_RE.search(text or "")
    if not m:
        return []
    lo, lo_unit, hi, hi_unit, _ = m.groups()
    hi_unit = (hi_unit or "").lower()
    lo_unit = (lo_unit or hi_unit).lower()
    if not lo_unit:
        return []
    unit = lambda u: "months" if u.startswith("month") else "years"  # noqa: E731
    out = [Attribute("min_age", int(lo), unit(lo_unit), label="minimum age")]
    if hi:
        out.append(Attribute("max_age", int(hi), unit(hi_unit), label="maximum age"))
    return out


def _specs(text: str) -> dict[str, str]:
    """``"Key: value|Key: value"`` -> ``{"key": "value"}`` with keys lower-cased, spaces removed."""
    out: dict[str, str] = {}
    for part in (text or "").split("|"):
        key, sep, value = part.partition(":")
        if sep:
            k = re.sub(r"\s+", "", key).lower()
            if k and k not in out:
                out[k] = value.strip()
    return out


# -- rows ----------------------------------------------------------------------------------------


def _row_product(row: dict[str, str], stats: ImportStats, line: int) -> Product | None:
    pid = (row.get("Uniq Id") or "").strip()
    name = " ".join((row.get("Product Name") or "").split())
    if not pid or not name:
        stats.skipped += 1
        stats.problems.append(f"line {line}: no {'Uniq Id' if not pid else 'Product Name'}; row skipped")
        return None
    attrs: dict[str, Attribute] = {}
    specs = _specs(row.get("Product Specification", ""))

    price = parse_price(row.get("Selling Price", "")) or parse_price(row.get("List Price", ""))
    if price is None:
        stats.problems.append(f"line {line}: price {row.get('Selling Price', '')[:40]!r} not understood")
    else:
        stats.with_price += 1
        if price[1] is not None:
            attrs["price_max"] = Attribute("price_max", price[1], "USD", label="highest price")

    weight = (parse_weight(specs.get("itemweight", ""))
              or parse_weight(_after_dims(row.get("Product Dimensions", "")))
              or parse_weight(_after_dims(specs.get("productdimensions", ""))))
    if weight:
        attrs["weight"] = weight
    shipping = parse_weight(row.get("Shipping Weight", "")) or parse_weight(specs.get("shippingweight", ""))
    if shipping:
        attrs["shipping_weight"] = Attribute("shipping_weight", shipping.value, shipping.unit,
                                             label="shipping weight")
    if weight or shipping:
        stats.with_weight += 1
    dims = (parse_dimensions(row.get("Product Dimensions", "")) or parse_dimensions(row.get("Dimensions", ""))
            or parse_dimensions(specs.get("productdimensions", "")))
    if dims:
        attrs["dimensions"] = dims
        stats.with_dimensions += 1
    for a in _parse_age(specs.get("manufacturerrecommendedage", "")):
        attrs[a.key] = a
    model = (row.get("Model Number") or "").strip() or specs.get("itemmodelnumber", "")
    if model:
        attrs["model_number"] = Attribute("model_number", model, label="model number")
    for spec_key, key in _TEXT_SPECS.items():
        if key not in attrs and specs.get(spec_key):
            attrs[key] = Attribute(key, specs[spec_key], label=key.replace("_", " "))
    color = (row.get("Color") or "").strip()
    if color:
        attrs["color"] = Attribute("color", color, label="colour")

    path = [p.strip() for p in (row.get("Category") or "").split("|") if p.strip()]
    if path:
        stats.with_category += 1
    stock_text = (row.get("Stock") or row.get("Quantity") or "").strip().replace(",", "")
    brand = (row.get("Brand Name") or "").strip() or specs.get("manufacturer", "")
    # model numbers like "X5-PRO" are how shoppers name products; bare numbers ("142") are not
    aliases = (model,) if re.search(r"[a-z]", model, re.I) and re.search(r"\d", model) and len(model) >= 4 else ()
    return Product(
        id=pid,
        name=name,
        brand=brand,
        category=CATEGORY_SEP.join(path),
        price=price[0] if price else 0.0,
        stock=int(stock_text) if stock_text.isdigit() else 0,
        description=" ".join((row.get("About Product") or "").split())[:2000],
        aliases=aliases,
        attributes=attrs,
    )


def _after_dims(text: str) -> str:
    """``"14.7 x 11.1 x 10.2 inches  4.06 pounds"``: the weight is what follows the dimensions."""
    m = _DIMS_RE.search(text or "")
    return text[m.end():] if m else ""


def import_amazon_csv(path: str | Path, *, limit: int | None = None) -> AmazonImport:
    """Build a :class:`Catalog` from an Amazon-style CSV.

    Args:
        path: the CSV file (UTF-8, RFC 4180 quoting).
        limit: import at most this many rows.

    Raises:
        KnowledgeError: the file is missing or unreadable, or lacks a column of ``REQUIRED_COLUMNS``.
    """
    if limit is not None and limit <= 0:
        raise ValueError(f"limit must be > 0, got {limit}")
    path = Path(path)
    stats = ImportStats()
    products: list[Product] = []
    seen: set[str] = set()
    csv.field_size_limit(16 * 1024 * 1024)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            for col in REQUIRED_COLUMNS:
                if col not in header:
                    raise KnowledgeError(f"{path}: required column {col!r} is missing (found {header[:8]})")
            reader.fieldnames = header
            for row in reader:
                if limit is not None and stats.rows >= limit:
                    break
                stats.rows += 1
                line = reader.line_num
                product = _row_product({k: v or "" for k, v in row.items() if isinstance(k, str)}, stats, line)
                if product is None:
                    continue
                if product.id in seen:
                    stats.skipped += 1
                    stats.problems.append(f"line {line}: duplicate Uniq Id {product.id!r}; row skipped")
                    continue
                seen.add(product.id)
                products.append(product)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise KnowledgeError(f"cannot read product CSV {path}: {exc}") from exc
    stats.imported = len(products)
    return AmazonImport(Catalog(products, []), stats, tuple(p.id for p in products))
