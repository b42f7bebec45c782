"""Importing what shops already have into a store kit's ``catalog.csv``.

Two sources, each read as its format documents it:

* :func:`import_shopify` — Shopify's product CSV export. The rows of one ``Handle`` are one
  product: the first holds Title, Body (HTML), Vendor, Type...; the others (more variants, more
  images) hold only the Handle and the variant or image columns. Variants become one product with
  their options (``attr:size`` = ``"S; M; L"``), the lowest variant price, the summed inventory.
* :func:`import_merchant` — a Google Merchant Center feed, tab-separated (a header row of attribute
  names) or XML (RSS 2.0 or Atom with the ``g:`` namespace). Items of one ``item_group_id`` become
  one product with options, like Shopify's variants; prices such as ``"12.99 USD"`` are checked
  against the store's currency (a row in another currency is skipped and reported).

Both return an :class:`ImportResult`: catalog rows (column name -> text, in the kit's columns) and
every :class:`~knowledge.kit.problems.Problem` met on the way, with the row it was met on (the
spreadsheet row for CSV and TSV, the header being row 1; the line of the ``<item>`` for XML). A
broken row is skipped and reported; only a file that cannot be read as its format at all (missing,
binary, larger than the bounds, a required column missing, malformed XML) raises
:class:`~knowledge.kit.problems.KitInvalid`. :func:`write_catalog_rows` merges rows into a kit.

Safety: sizes are checked before reading and lines, rows and items are counted while reading, so
a huge file is refused in bounded memory; XML with a DOCTYPE or entity declaration is refused
(no entity expansion, no external fetches); cells are kept as literal text and never evaluated — a
cell such as ``=HYPERLINK(...)`` becomes that text (not escaped with a leading ``'``: the kit is data
the engine reads and shows customers), and a formula where a number belongs is a problem.

Example:
    >>> result = import_shopify("products_export.csv", currency="USD")   # doctest: +SKIP
    >>> [str(p) for p in result.problems]                                # doctest: +SKIP
    ["products_export.csv:8: Variant Price: product 'mug' has no valid variant price; skipped"]
    >>> write_catalog_rows(result.rows, "my-kit")                         # doctest: +SKIP
    CatalogMerge(path=PosixPath('my-kit/catalog.csv'), added=41, replaced=0, total=41)
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from pathlib import Path
from typing import IO
from xml.parsers import expat

from ._log import ProblemLog
from .problems import KitInvalid, Problem

__all__ = [
    "BASE_COLUMNS",
    "OPTIONAL_COLUMNS",
    "MAX_BYTES",
    "MAX_ROWS",
    "UNCOUNTED_IN_STOCK",
    "ImportResult",
    "CatalogMerge",
    "import_shopify",
    "import_merchant",
    "write_catalog_rows",
    "html_to_text",
]

BASE_COLUMNS = ("id", "name", "brand", "category", "price", "stock", "description")
OPTIONAL_COLUMNS = ("rating", "aliases", "accessories", "compatible_with", "returnable")
#: Bounds of one import: bytes of the file, rows (or XML items) in it, characters on one line.
MAX_BYTES = 256 * 1024 * 1024
MAX_ROWS = 250_000
MAX_LINE_CHARS = 1024 * 1024
#: The stock written for a product that is for sale but not counted (Shopify without inventory
#: tracking, a Merchant ``in_stock`` without ``quantity``): the least count that still reads as
#: in stock.
UNCOUNTED_IN_STOCK = 1
#: Columns the importers never write (hand-kept: relations, ratings, translations): a re-import
#: keeps their values.
_HAND_KEPT = frozenset({"rating", "accessories", "compatible_with", "returnable"})

_G_NS = "http://base.google.com/ns/1.0"
_ATOM_NS = "http://www.w3.org/2005/Atom"
_ID_UNSAFE_RE = re.compile(r"[^A-Za-z0-9_-]+")
_SPACES_RE = re.compile(r"\s+")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_NUMBER_RE = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^-?\.\d+$")
_MONEY_RE = re.compile(r"^(?:([A-Za-z]{3})\s*)?([0-9][0-9,]*(?:\.[0-9]+)?)\s*(?:([A-Za-z]{3}))?$")
_WEIGHT_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(g|kg|lb|lbs|oz)$", re.I)
_GRAMS_PER = {"g": Decimal(1), "kg": Decimal(1000), "lb": Decimal("453.59237"), "oz": Decimal("28.349523125")}
_RANGE_NOTE = {
    "en": "Price {low}–{high} {currency}, depending on the option.",
    "zh": "价格 {low}–{high} {currency}，视所选规格而定。",
}
_AVAILABILITY = {
    "in_stock": "in_stock", "in stock": "in_stock", "out_of_stock": "out_of_stock",
    "out of stock": "out_of_stock", "preorder": "preorder", "backorder": "backorder",
    "available for order": "backorder",
}
_MERCHANT_OPTIONS = ("color", "size", "material", "pattern")
_SHOPIFY_COLUMNS = frozenset({
    "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Status", "SEO Description",
    "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Option3 Name", "Option3 Value",
    "Variant SKU", "Variant Grams", "Variant Weight Unit", "Variant Inventory Qty", "Variant Price",
    "Variant Barcode",
})


class _Refused(Exception):
    """A file-level refusal, turned into :class:`KitInvalid` at the public boundary."""


@dataclass(frozen=True)
class ImportResult:
    """Catalog rows imported from a shop's export, and the problems met on the way.

    Attributes:
        rows: one dict per product, column name -> text, in ``catalog.csv``'s columns.
        problems: every problem, errors (the row was skipped) and warnings (imported anyway).

    Example:
        >>> ImportResult(rows=[], problems=[]).errors
        []
    """

    rows: list[dict[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]


@dataclass(frozen=True)
class CatalogMerge:
    """What :func:`write_catalog_rows` did: the file, rows added and replaced, rows in it now.

    Example:
        >>> CatalogMerge(Path("kit/catalog.csv"), added=3, replaced=1, total=5).added
        3
    """

    path: Path
    added: int
    replaced: int
    total: int


# -- text ------------------------------------------------------------------------------------------


class _HtmlText(HTMLParser):
    _SKIP = frozenset({"script", "style", "template", "noscript", "head", "iframe", "object", "svg"})
    _BLOCK = frozenset({"br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "section",
                        "article", "blockquote", "hr", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _one_line(text: str | None) -> str:
    """Control characters dropped, whitespace collapsed; the text itself unchanged (no NFKC: a
    Chinese description keeps its full-width punctuation)."""
    return _SPACES_RE.sub(" ", _CONTROL_RE.sub("", text or "")).strip()


def html_to_text(html: str) -> str:
    """The text of an HTML fragment: tags and scripts gone, entities decoded, whitespace collapsed.

    Example:
        >>> html_to_text("<p>Soft &amp; <b>warm</b></p><ul><li>Wool</li></ul>")
        'Soft & warm Wool'
    """
    html = html or ""
    if "<" not in html and "&" not in html:  # plain text: no parser needed
        return _one_line(html)
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return _one_line("".join(parser.parts))


def _list_item(text: str) -> str:
    """One entry of a ``;``-separated cell (aliases, options): the separator cannot appear in it."""
    return _one_line(text.replace(";", ","))


def _joined(values: Iterable[str]) -> str:
    return "; ".join(dict.fromkeys(v for v in (_list_item(x) for x in values) if v))


def _product_id(key: str) -> str:
    """A stable kit id from a handle or offer id: ``[A-Za-z0-9_-]``; a key that had to change gets
    a short hash of the original so two keys never meet on one id."""
    safe = _ID_UNSAFE_RE.sub("-", key).strip("-")[:80]
    if safe == key:
        return safe
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    return f"{safe}-{digest}" if safe else f"p-{digest}"


def _attr_name(name: str) -> str:
    return re.sub(r"[^\w]+", "_", name.strip().lower()).strip("_")


def _last_segment(path: str) -> str:
    return _one_line(path.split(">")[-1]) if path else ""


def _decimal(text: str) -> Decimal | None:
    text = text.strip()
    if not _NUMBER_RE.match(text):
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def _price_text(value: Decimal) -> str:
    return format(value, "f")


def _range_note(low: Decimal, high: Decimal, currency: str, language: str) -> str:
    template = _RANGE_NOTE.get(language, "{low}–{high} {currency}")
    return template.format(low=_price_text(low), high=_price_text(high), currency=currency)


def _weight(value: Decimal, unit: str) -> str:
    text = format(value.quantize(Decimal("0.01")).normalize(), "f")
    return f"{text} {unit}"


# -- bounded reading ------------------------------------------------------------------------------


def _check_file(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """The file's first bytes and its text encoding; refuses what is missing, not a regular file,
    too large, or binary — all without reading the whole file."""
    try:
        if not path.is_file():
            raise _Refused(f"{path} is not a readable file")
        size = path.stat().st_size
        if size > max_bytes:
            raise _Refused(f"the file is {size:,} bytes, more than the {max_bytes:,} accepted; "
                           "split it into smaller files")
        with path.open("rb") as fh:
            head = fh.read(64 * 1024)
    except OSError as exc:
        raise _Refused(f"cannot read {path}: {exc.strerror or exc}") from exc
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head, "utf-16"
    encoding = "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"
    if b"\x00" in head:
        raise _Refused("the file is binary (it holds NUL bytes), not a text export")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            raise _Refused("the file is not UTF-8 text (binary, or another encoding: save it as UTF-8)") from exc
    return head, encoding


def _bounded_lines(fh: IO[str]) -> Iterator[str]:
    while True:
        line = fh.readline(MAX_LINE_CHARS)
        if not line:
            return
        if len(line) >= MAX_LINE_CHARS and line[-1] not in "\r\n":
            raise _Refused(f"a line is longer than {MAX_LINE_CHARS:,} characters; not a product export")
        yield line


def _records(path: Path, *, delimiter: str, max_bytes: int, max_rows: int,
             required: tuple[str, ...], header_key) -> Iterator[tuple[int, dict[str, str]]]:
    """(spreadsheet row, {header: cell}) of a delimited file; the header is row 1."""
    _, encoding = _check_file(path, max_bytes)
    tsv = delimiter == "\t"
    try:
        with path.open(encoding=encoding, newline="") as fh:
            reader = csv.reader(_bounded_lines(fh), delimiter=delimiter,
                                quoting=csv.QUOTE_NONE if tsv else csv.QUOTE_MINIMAL)
            header = next(reader, None)
            if not header:
                raise _Refused("the file is empty")
            header = [header_key(_unquote(h) if tsv else h) for h in header]
            missing = [c for c in required if c not in header]
            if missing:
                raise _Refused(f"required column{'s' if len(missing) > 1 else ''} missing: "
                               f"{', '.join(missing)} (found {', '.join(header[:8])}...)")
            for number, cells in enumerate(reader, start=2):
                if number - 1 > max_rows:
                    raise _Refused(f"more than {max_rows:,} rows; split it into smaller files")
                if not any(c.strip() for c in cells):
                    continue
                if tsv:
                    cells = [_unquote(c) for c in cells]
                yield number, dict(zip(header, cells + [""] * (len(header) - len(cells))))
    except UnicodeDecodeError as exc:
        raise _Refused(f"the file is not UTF-8 text: {exc.reason}") from exc
    except csv.Error as exc:
        raise _Refused(f"not readable as {'TSV' if tsv else 'CSV'}: {exc}") from exc
    except OSError as exc:
        raise _Refused(f"cannot read {path}: {exc.strerror or exc}") from exc


def _unquote(cell: str) -> str:
    """A TSV cell a spreadsheet quoted (quotes around it, inner quotes doubled) as its text; any
    other cell as it is."""
    if len(cell) >= 2 and cell[0] == cell[-1] == '"':
        return cell[1:-1].replace('""', '"')
    return cell


@contextmanager
def _refusing(file: str) -> Iterator[None]:
    """Turn a file-level refusal into :class:`KitInvalid` naming the file."""
    try:
        yield
    except _Refused as exc:
        raise KitInvalid([Problem(file, None, None, str(exc), "error")]) from exc


def _check_args(currency: str, languages: tuple[str, ...] | list[str]) -> None:
    if not _CURRENCY_RE.match(currency or ""):
        raise ValueError(f"currency must be an ISO 4217 code such as 'USD', got {currency!r}")
    if not languages:
        raise ValueError("languages must name at least one language")


class _Rows:
    """Collects products, refusing a second product on an id already taken."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.rows: list[dict[str, str]] = []
        self._log = ProblemLog()  # capped per file: a million bad rows are not a million problems
        self._ids: dict[str, int] = {}

    def problem(self, row: int | None, column: str | None, message: str, level: str = "error") -> None:
        self._log.add(self.file, row, column, message, level)  # type: ignore[arg-type]

    def add(self, row_number: int, product: dict[str, str]) -> None:
        first = self._ids.get(product["id"])
        if first is not None:
            self.problem(row_number, None, f"product id {product['id']!r} already imported from row {first}; "
                                           "row skipped")
            return
        self._ids[product["id"]] = row_number
        self.rows.append({k: v for k, v in product.items() if v != "" or k in BASE_COLUMNS})

    def result(self) -> ImportResult:
        problems = self._log.problems()  # in row order, whatever stage found them
        return ImportResult(self.rows, sorted(problems, key=lambda p: (p.row is not None, p.row or 0)))


# -- Shopify ----------------------------------------------------------------------------------------


def import_shopify(csv_path: str | Path, *, currency: str, languages: tuple[str, ...] = ("en",),
                   max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS) -> ImportResult:
    """Catalog rows from a Shopify product CSV export.

    The export carries no currency: its prices are taken to be in the store's ``currency``.
    Products whose ``Status`` is ``draft`` or ``archived`` are left out (a warning each).

    Args:
        csv_path: the export (UTF-8, as Shopify writes it).
        currency: the store's ISO 4217 code (``store.yaml`` ``currency``).
        languages: the store's languages; the first words notes such as a variant price range.
        max_bytes: refuse a larger file. max_rows: refuse a file with more rows.

    Raises:
        KitInvalid: the file is missing, binary, too large, not CSV, or has no ``Handle`` column.
        ValueError: ``currency`` is not an ISO 4217 code, or ``languages`` is empty.
    """
    _check_args(currency, languages)
    path = Path(csv_path)
    out = _Rows(path.name)
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    with _refusing(path.name):
        for number, row in _records(path, delimiter=",", max_bytes=max_bytes, max_rows=max_rows,
                                    required=("Handle", "Title"), header_key=str.strip):
            handle = row.get("Handle", "").strip()
            if not handle:
                out.problem(number, "Handle", "no Handle; row skipped")
                continue
            kept = {k: v for k, v in row.items() if v and k in _SHOPIFY_COLUMNS}  # memory: what is used
            groups.setdefault(handle, []).append((number, kept))
    for handle, rows in groups.items():
        product = _shopify_product(handle, rows, out, currency, languages[0])
        if product is not None:
            out.add(rows[0][0], product)
    return out.result()


def _shopify_product(handle: str, rows: list[tuple[int, dict[str, str]]], out: _Rows,
                     currency: str, language: str) -> dict[str, str] | None:
    first_number, first = next(((n, r) for n, r in rows if r.get("Title", "").strip()), rows[0])
    name = _one_line(first.get("Title"))
    if not name:
        out.problem(first_number, "Title", f"product {handle!r} has no Title on any of its rows; skipped")
        return None
    status = first.get("Status", "").strip().lower()
    if status in ("draft", "archived"):
        out.problem(first_number, "Status", f"product {handle!r} is {status}; skipped", "warning")
        return None
    variants = [(n, r) for n, r in rows
                if any(r.get(c, "").strip() for c in ("Option1 Value", "Variant SKU", "Variant Price"))]
    prices: list[Decimal] = []
    for number, row in variants:
        text = row.get("Variant Price", "").strip()
        value = _decimal(text)
        if value is None or value < 0:
            what = f'"{text}" is not a price' if text else "no price"
            out.problem(number, "Variant Price", f"{what}; variant left out", "warning")
        else:
            prices.append(value)
    if not prices:
        out.problem(first_number, "Variant Price", f"product {handle!r} has no valid variant price; skipped")
        return None
    product = {
        "id": _product_id(handle),
        "name": name,
        "brand": _one_line(first.get("Vendor")),
        "category": _one_line(first.get("Type")) or _last_segment(first.get("Product Category", "")),
        "price": _price_text(min(prices)),
        "stock": str(_shopify_stock(variants, out)),
        "description": html_to_text(first.get("Body (HTML)", "")) or _one_line(first.get("SEO Description")),
        "aliases": _joined(r.get("Variant SKU", "") for _, r in variants),
    }
    if max(prices) != min(prices):
        note = _range_note(min(prices), max(prices), currency, language)
        product["description"] = f"{product['description']} {note}".strip()
    for i in (1, 2, 3):
        option = _one_line(first.get(f"Option{i} Name"))
        values = _joined(r.get(f"Option{i} Value", "") for _, r in variants)
        if option and values and not (option == "Title" and values == "Default Title"):
            product[f"attr:{_attr_name(option)}"] = values
    product["attr:weight"] = _shopify_weight(variants)
    product["attr:gtin"] = _joined(r.get("Variant Barcode", "").lstrip("'") for _, r in variants)
    if not product["category"]:
        out.problem(first_number, "Type", f"product {handle!r} has no Type or Product Category", "warning")
    return product


def _shopify_stock(variants: list[tuple[int, dict[str, str]]], out: _Rows) -> int:
    total, counted = 0, False
    for number, row in variants:
        text = row.get("Variant Inventory Qty", "").strip()
        if not text:
            continue
        try:
            total += max(0, int(Decimal(text)))
            counted = True
        except (InvalidOperation, ValueError):
            out.problem(number, "Variant Inventory Qty", f'"{text}" is not a whole number; not counted', "warning")
    return total if counted else UNCOUNTED_IN_STOCK


def _shopify_weight(variants: list[tuple[int, dict[str, str]]]) -> str:
    weights = []
    for _, row in variants:
        grams = _decimal(row.get("Variant Grams", ""))
        unit = row.get("Variant Weight Unit", "").strip().lower() or "g"
        if grams is None or grams <= 0:
            continue
        unit = "lb" if unit == "lbs" else unit if unit in _GRAMS_PER else "g"
        weights.append(_weight(grams / _GRAMS_PER[unit], unit))
    return _joined(weights)


# -- Google Merchant Center ---------------------------------------------------------------------------


def import_merchant(path: str | Path, *, currency: str, languages: tuple[str, ...] = ("en",),
                    max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS,
                    now: datetime | None = None) -> ImportResult:
    """Catalog rows from a Google Merchant Center feed, TSV or XML (told apart by the content).

    ``id``, ``title`` and ``price`` are required on each item; a price in another currency than
    the store's is an error on that row and the row is skipped. ``sale_price`` (in its
    ``sale_price_effective_date`` window, when one is given) becomes the price.

    Args:
        path: the feed file.
        currency: the store's ISO 4217 code (``store.yaml`` ``currency``).
        languages: the store's languages; the first words notes such as a variant price range.
        max_bytes: refuse a larger file. max_rows: refuse a feed with more items.
        now: the moment sale windows are judged at (default: now, UTC).

    Raises:
        KitInvalid: the file is missing, binary, too large, malformed XML, declares a DOCTYPE or
            entities, or a TSV without ``id``, ``title`` and ``price`` columns.
        ValueError: ``currency`` is not an ISO 4217 code, or ``languages`` is empty.
    """
    _check_args(currency, languages)
    path = Path(path)
    out = _Rows(path.name)
    now = now or datetime.now(timezone.utc)
    groups: dict[str, list[tuple[int, dict[str, str], Decimal, int, str]]] = {}
    with _refusing(path.name):
        head, encoding = _check_file(path, max_bytes)
        if head.decode(encoding, errors="ignore").lstrip().startswith("<"):
            items = _xml_items(path, max_rows)
        else:
            items = _records(path, delimiter="\t", max_bytes=max_bytes, max_rows=max_rows,
                             required=("id", "title", "price"), header_key=_merchant_key)
        for number, item in items:
            checked = _merchant_item(number, item, out, currency, now)
            if checked is not None:
                price, stock, availability = checked
                key = item.get("item_group_id", "").strip() or item["id"].strip()
                groups.setdefault(key, []).append((number, item, price, stock, availability))
    for key, items_of_group in groups.items():
        out.add(items_of_group[0][0], _merchant_product(key, items_of_group, currency, languages[0]))
    return out.result()


def _merchant_key(name: str) -> str:
    name = name.strip().lower()
    name = name[2:] if name.startswith("g:") else name
    return re.sub(r"\s+", "_", name)


def _merchant_item(number: int, item: dict[str, str], out: _Rows, currency: str,
                   now: datetime) -> tuple[Decimal, int, str] | None:
    """The item's price, stock and availability, or None (and the problems) when it is skipped."""
    missing = [f for f in ("id", "title", "price") if not item.get(f, "").strip()]
    if missing:
        for f in missing:
            out.problem(number, f, f"required {f} is missing; row skipped")
        return None
    price = _money(number, "price", item["price"], out, currency)
    if price is None:
        return None
    sale = item.get("sale_price", "").strip()
    if sale:
        sale_value = _money(number, "sale_price", sale, out, currency, level="warning")
        if sale_value is not None and sale_value <= price and _in_window(item.get("sale_price_effective_date", ""), now):
            price = sale_value
    raw = item.get("availability", "").strip().lower()
    availability = _AVAILABILITY.get(raw.replace("-", "_")) or _AVAILABILITY.get(raw, "")
    if not availability:
        what = f'"{raw}" is not in_stock, out_of_stock, preorder or backorder' if raw else "missing"
        out.problem(number, "availability", f"{what}; taken as out of stock", "warning")
    quantity = item.get("quantity", "").strip() or item.get("sell_on_google_quantity", "").strip()
    if availability != "in_stock":
        stock = 0
    elif quantity.isdigit():
        stock = int(quantity)
    else:
        stock = UNCOUNTED_IN_STOCK
    return price, stock, availability


def _money(number: int, column: str, text: str, out: _Rows, currency: str,
           level: str = "error") -> Decimal | None:
    what = "row skipped" if level == "error" else "ignored"
    m = _MONEY_RE.match(text.strip())
    value = _decimal(m.group(2)) if m else None
    if m is None or value is None or (m.group(1) and m.group(3)):
        out.problem(number, column, f'"{text}" is not a price such as "12.99 {currency}"; {what}', level)
        return None
    code = (m.group(1) or m.group(3) or "").upper()
    if not code:
        out.problem(number, column, f'"{text}" names no currency; taken as {currency}', "warning")
    elif code != currency:
        out.problem(number, column, f'"{text}" is in {code}, the store sells in {currency}; {what}', level)
        return None
    return value


def _in_window(text: str, now: datetime) -> bool:
    """Whether ``now`` lies in a ``start/end`` ISO 8601 window; no (or an unreadable) window: yes."""
    if "/" not in text:
        return True
    try:
        start, end = (datetime.fromisoformat(part.strip()) for part in text.split("/", 1))
    except ValueError:
        return True
    start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
    end = end if end.tzinfo else end.replace(tzinfo=timezone.utc)
    return start <= now <= end


def _merchant_product(key: str, items: list[tuple[int, dict[str, str], Decimal, int, str]],
                      currency: str, language: str) -> dict[str, str]:
    def first(column: str) -> str:
        return next((_one_line(i.get(column)) for _, i, *_ in items if _one_line(i.get(column))), "")

    prices = [price for _, _, price, _, _ in items]
    titles = [_one_line(i["title"]) for _, i, *_ in items]
    google_category = first("google_product_category")
    product = {
        "id": _product_id(key),
        "name": _common_title(titles),
        "brand": first("brand"),
        "category": _last_segment(first("product_type").split(",")[0])
        or ("" if google_category.isdigit() else _last_segment(google_category)),
        "price": _price_text(min(prices)),
        "stock": str(sum(stock for *_, stock, _ in items)),
        "description": html_to_text(first("description")),
        "aliases": _joined([i.get("mpn", "") for _, i, *_ in items]
                           + ([i["id"] for _, i, *_ in items] if len(items) > 1 else [])),
    }
    if max(prices) != min(prices):
        note = _range_note(min(prices), max(prices), currency, language)
        product["description"] = f"{product['description']} {note}".strip()
    for option in _MERCHANT_OPTIONS:
        product[f"attr:{option}"] = _joined(i.get(option, "") for _, i, *_ in items)
    product["attr:gtin"] = _joined(i.get("gtin", "") for _, i, *_ in items)
    product["attr:condition"] = _joined(i.get("condition", "").lower() for _, i, *_ in items)
    product["attr:availability"] = _joined(a for *_, a in items if a in ("preorder", "backorder"))
    product["attr:weight"] = _joined(_merchant_weight(i.get("shipping_weight", "")) for _, i, *_ in items)
    return product


def _common_title(titles: list[str]) -> str:
    """The title of a group: the words its items' titles share ("Kettle - Red", "Kettle - Blue"
    -> "Kettle"), or the first title when they share too little."""
    if len(titles) == 1:
        return titles[0]
    words = [t.split(" ") for t in titles]
    shared: list[str] = []
    for column in zip(*words):
        if any(w != column[0] for w in column):
            break
        shared.append(column[0])
    common = " ".join(shared).rstrip(" -–—,|/(:")
    return common if len(common) >= 3 else titles[0]


def _merchant_weight(text: str) -> str:
    m = _WEIGHT_RE.match(text.strip())
    if not m:
        return ""
    unit = m.group(2).lower()
    return _weight(Decimal(m.group(1)), "lb" if unit == "lbs" else unit)


def _xml_items(path: Path, max_rows: int) -> Iterator[tuple[int, dict[str, str]]]:
    """(line of the ``<item>``/``<entry>``, {attribute: text}) of an RSS 2.0 or Atom feed, parsed
    as a stream; a DOCTYPE, an entity declaration or an external entity is refused."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    ready: list[tuple[int, dict[str, str]]] = []
    state: dict = {"depth": 0, "item": None, "field": None, "text": [], "count": 0}

    def refuse(*_args) -> None:
        raise _Refused("the XML declares a DOCTYPE or entities; a feed needs neither (refused: entity expansion)")

    def start(name: str, _attrs: dict) -> None:
        state["depth"] += 1
        ns, _, local = name.rpartition("}")
        if state["item"] is None:
            if local in ("item", "entry"):
                state["count"] += 1
                if state["count"] > max_rows:
                    raise _Refused(f"more than {max_rows:,} items; split it into smaller files")
                state["item"], state["item_depth"] = ({}, {}), state["depth"]
                state["line"] = parser.CurrentLineNumber
        elif state["depth"] == state["item_depth"] + 1 and ns in ("", _G_NS, _ATOM_NS):
            state["field"], state["text"] = (ns == _G_NS, local.lower()), []

    def end(_name: str) -> None:
        if state["item"] is not None:
            if state["field"] is not None and state["depth"] == state["item_depth"] + 1:
                google, local = state["field"]
                state["item"][0 if google else 1][local] = "".join(state["text"])
                state["field"] = None
            elif state["depth"] == state["item_depth"]:
                google, plain = state["item"]
                ready.append((state["line"], {**plain, **google}))
                state["item"] = None
        state["depth"] -= 1

    def text(data: str) -> None:
        if state["field"] is not None and state["depth"] == state["item_depth"] + 1:
            state["text"].append(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(256 * 1024), b""):
                parser.Parse(block, False)
                yield from ready
                ready.clear()
            parser.Parse(b"", True)
            yield from ready
    except expat.ExpatError as exc:
        raise _Refused(f"not well-formed XML at line {exc.lineno}: {expat.ErrorString(exc.code)}") from exc
    except OSError as exc:
        raise _Refused(f"cannot read {path}: {exc.strerror or exc}") from exc


# -- merging into a kit -----------------------------------------------------------------------------


def _translation(column: str) -> bool:
    return column.count(":") == (2 if column.startswith("attr:") else 1)


def write_catalog_rows(rows: list[dict[str, str]], kit_dir: str | Path) -> CatalogMerge:
    """Merge imported rows into ``kit_dir/catalog.csv``, creating it (with its header) if missing.

    A row whose id is already there replaces it in place, except for the columns importers never
    write (``rating``, ``accessories``, ``compatible_with``, ``returnable`` and translations such as
    ``name:zh``), which keep their values; new ids are appended. The columns are the union of the
    file's and the rows'. The file is replaced atomically: a reader sees the old or the new file.

    Raises:
        ValueError: a row has no ``id``.
        KitInvalid: the existing catalog.csv cannot be read or has no ``id`` column.
    """
    kit = Path(kit_dir)
    target = kit / "catalog.csv"
    if any(not (r.get("id") or "").strip() for r in rows):
        raise ValueError("every row needs an id")
    columns: list[str] = []
    existing: list[dict[str, str]] = []
    if target.exists():
        with _refusing(target.name):
            for _, row in _records(target, delimiter=",", max_bytes=MAX_BYTES, max_rows=MAX_ROWS,
                                   required=("id",), header_key=str.strip):
                existing.append(row)
            with target.open(encoding="utf-8-sig", newline="") as fh:
                columns = [c.strip() for c in next(csv.reader(fh))]
    incoming = {r["id"]: r for r in rows}
    for column in [*BASE_COLUMNS, *OPTIONAL_COLUMNS, *(c for r in rows for c in r)]:
        if column not in columns and (column in BASE_COLUMNS or any(column in r for r in rows)):
            columns.append(column)
    replaced = 0
    merged: list[dict[str, str]] = []
    for row in existing:
        new = incoming.pop(row.get("id", ""), None)
        if new is not None:
            replaced += 1
            kept = {c: v for c, v in row.items() if c in _HAND_KEPT or _translation(c)}
            row = {**kept, **new}
        merged.append(row)
    merged.extend(incoming.values())
    kit.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".catalog.", suffix=".csv.tmp", dir=kit)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, restval="", lineterminator="\n")
            writer.writeheader()
            writer.writerows({c: row.get(c, "") for c in columns} for row in merged)
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return CatalogMerge(target, len(merged) - len(existing), replaced, len(merged))
