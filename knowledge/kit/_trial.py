"""A kit's optional trial data (private): ``customers.csv`` and ``orders.jsonl``, checked.

Checked against the rest of the kit: order ids match the store's ``order_id_pattern``, customers
and products exist, dates are ISO dates or days relative to the build day (``"-12d"``, ``"+2d"``),
statuses are the order database's (knowledge/kernel/schema.py), ids fit its columns. The rows are
kept as parsed (dicts); loading them into the order database is the trial loader's job, with
:func:`resolve_date` for relative days.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any

from ._files import iter_csv, iter_jsonl
from ._log import ProblemLog
from .profile import StoreProfile

__all__ = ["read_customers", "read_orders", "resolve_date", "ORDER_STATUSES", "RETURN_STATUSES"]

CUSTOMERS, ORDERS = "customers.csv", "orders.jsonl"
CUSTOMER_COLUMNS = ("id", "name", "email", "language")
ORDER_STATUSES = ("processing", "shipped", "delivered", "cancelled", "returned")
RETURN_STATUSES = ("requested", "approved", "received", "refunded", "rejected")
SHIPMENT_STATUSES = ("label_created", "in_transit", "out_for_delivery", "delivered")
_RELATIVE = re.compile(r"([+-])(\d{1,4})d")
# column widths of the order database (knowledge/kernel/schema.py)
MAX_ORDER_ID, MAX_CUSTOMER_ID, MAX_PRODUCT_ID, MAX_RETURN_ID = 16, 16, 32, 16


def resolve_date(spec: str, today: _dt.date) -> _dt.date | _dt.datetime:
    """``"-12d"`` -> 12 days before ``today``; an ISO date or date-time as written.

    Example:
        >>> resolve_date("+2d", _dt.date(2025, 1, 30))
        datetime.date(2025, 2, 1)

    Raises:
        ValueError: ``spec`` is neither form.
    """
    m = _RELATIVE.fullmatch(spec.strip())
    if m:
        days = int(m.group(2))
        return today + _dt.timedelta(days=days if m.group(1) == "+" else -days)
    text = spec.strip()
    if len(text) == 10:
        return _dt.date.fromisoformat(text)
    return _dt.datetime.fromisoformat(text)


def _check_date(value: Any, file: str, row: int, where: str, log: ProblemLog, *, required: bool) -> None:
    if value is None:
        if required:
            log.error(file, row, where, 'required: an ISO date or days from the build day ("-12d")')
        return
    try:
        if not isinstance(value, str):
            raise ValueError
        resolve_date(value, _dt.date(2000, 1, 1))
    except ValueError:
        log.error(file, row, where, f'{value!r} is not an ISO date (2025-03-01) or days from the build day ("-12d", "+2d")')


def read_customers(path: Path, profile: StoreProfile, log: ProblemLog) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    rows = iter_csv(path, CUSTOMERS, log)
    first = next(rows, None)
    if first is None:
        return out
    header = [h.strip() for h in first[1]]
    missing = [c for c in CUSTOMER_COLUMNS if c not in header]
    for col in missing:
        log.error(CUSTOMERS, 1, col, f"required column is missing (customers need {','.join(CUSTOMER_COLUMNS)})")
    if missing:
        return out
    seen: dict[str, int] = {}
    for row, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            log.error(CUSTOMERS, row, None, f"{len(cells)} cells, but the header has {len(header)} columns")
            continue
        rec = {h: c.strip() for h, c in zip(header, cells) if h}
        cid = rec["id"]
        if not cid:
            log.error(CUSTOMERS, row, "id", "empty: every customer needs an id")
        elif len(cid) > MAX_CUSTOMER_ID:
            log.error(CUSTOMERS, row, "id", f"{cid!r} is longer than {MAX_CUSTOMER_ID} characters")
        elif cid in seen:
            log.error(CUSTOMERS, row, "id", f"duplicate customer id {cid!r} (first on row {seen[cid]})")
        else:
            seen[cid] = row
        if not rec["name"]:
            log.error(CUSTOMERS, row, "name", "empty: every customer needs a name")
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", rec["email"]):
            log.error(CUSTOMERS, row, "email", f"{rec['email']!r} is not an email address")
        if rec["language"] and rec["language"] not in profile.languages:
            log.warn(CUSTOMERS, row, "language", f"{rec['language']!r} is not one of the store's languages; "
                                                 f"replies will be in {profile.default_language!r}")
        out.append(rec)
    return out


def read_orders(path: Path, profile: StoreProfile, customer_ids: set[str] | None, product_ids: set[str],
                log: ProblemLog) -> list[dict[str, Any]]:
    """Every order line checked; ``customer_ids`` None when the kit has no customers.csv."""
    out: list[dict[str, Any]] = []
    pattern = re.compile(profile.order_id_pattern)
    seen: dict[str, int] = {}
    return_ids: dict[str, int] = {}
    for row, obj in iter_jsonl(path, ORDERS, log):
        if not isinstance(obj, dict):
            log.error(ORDERS, row, None, f"expected an order object, got {type(obj).__name__}")
            continue
        bad = log.error_count
        oid = obj.get("id")
        if isinstance(oid, int) and not isinstance(oid, bool):
            oid = str(oid)
        if not isinstance(oid, str) or not oid:
            log.error(ORDERS, row, "id", "required: the order id as text")
        elif not pattern.fullmatch(oid):
            log.error(ORDERS, row, "id", f"{oid!r} does not match the store's order_id_pattern {profile.order_id_pattern!r}")
        elif len(oid) > MAX_ORDER_ID:
            log.error(ORDERS, row, "id", f"{oid!r} is longer than {MAX_ORDER_ID} characters")
        elif oid in seen:
            log.error(ORDERS, row, "id", f"duplicate order id {oid!r} (first on line {seen[oid]})")
        else:
            seen[oid] = row
        cid = obj.get("customer_id")
        if not isinstance(cid, str) or not cid:
            log.error(ORDERS, row, "customer_id", "required: the id of a customer in customers.csv")
        elif customer_ids is None:
            log.error(ORDERS, row, "customer_id", f"{cid!r}: the kit has no customers.csv")
        elif cid not in customer_ids:
            log.error(ORDERS, row, "customer_id", f"{cid!r} is not a customer id in customers.csv")
        _check_date(obj.get("placed"), ORDERS, row, "placed", log, required=True)
        status = obj.get("status")
        if status not in ORDER_STATUSES:
            log.error(ORDERS, row, "status", f"{status!r} is not one of {', '.join(ORDER_STATUSES)}")
        ordered = _items(obj.get("items"), row, "items", product_ids, log, priced=True)
        shipments = obj.get("shipments") or []
        if not isinstance(shipments, list):
            log.error(ORDERS, row, "shipments", "expected a list of shipments")
            shipments = []
        for i, s in enumerate(shipments):
            _shipment(s, row, f"shipments[{i}]", log)
        if len(shipments) > 1:
            log.warn(ORDERS, row, "shipments", "the order database keeps one shipment per order; "
                                               "only the first is loaded")
        if status in ("shipped", "delivered") and not shipments:
            log.warn(ORDERS, row, "shipments", f"a {status} order without a shipment cannot be tracked")
        returns = obj.get("returns") or []
        if not isinstance(returns, list):
            log.error(ORDERS, row, "returns", "expected a list of returns")
            returns = []
        for i, r in enumerate(returns):
            where = f"returns[{i}]"
            if not isinstance(r, dict):
                log.error(ORDERS, row, where, "expected a return object")
                continue
            rid = r.get("id")
            if not isinstance(rid, str) or not rid:
                log.error(ORDERS, row, f"{where}.id", "required: the return id as text")
            elif len(rid) > MAX_RETURN_ID:
                log.error(ORDERS, row, f"{where}.id", f"{rid!r} is longer than {MAX_RETURN_ID} characters")
            elif rid in return_ids:
                log.error(ORDERS, row, f"{where}.id", f"duplicate return id {rid!r} (first on line {return_ids[rid]})")
            else:
                return_ids[rid] = row
            for pid in _items(r.get("items"), row, f"{where}.items", product_ids, log, priced=False):
                if ordered and pid not in ordered:
                    log.error(ORDERS, row, f"{where}.items", f"{pid!r} is not an item of this order")
            if r.get("status") not in RETURN_STATUSES:
                log.error(ORDERS, row, f"{where}.status", f"{r.get('status')!r} is not one of {', '.join(RETURN_STATUSES)}")
            if not isinstance(r.get("reason", ""), str):
                log.error(ORDERS, row, f"{where}.reason", "expected text")
            _check_date(r.get("requested"), ORDERS, row, f"{where}.requested", log, required=True)
            for key in ("received", "refunded"):
                _check_date(r.get(key), ORDERS, row, f"{where}.{key}", log, required=False)
            amount = r.get("refund_amount")
            if amount is not None and (not _is_number(amount) or amount < 0):
                log.error(ORDERS, row, f"{where}.refund_amount", f"{amount!r} is not an amount >= 0 (or null)")
        if log.error_count == bad:
            out.append({**obj, "id": oid})
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")


def _items(items: Any, row: int, where: str, product_ids: set[str], log: ProblemLog, *, priced: bool) -> set[str]:
    if not isinstance(items, list) or not items:
        log.error(ORDERS, row, where, "required: a non-empty list of {product_id, quantity"
                                      + (", price}" if priced else "}"))
        return set()
    out = set()
    for i, it in enumerate(items):
        w = f"{where}[{i}]"
        if not isinstance(it, dict):
            log.error(ORDERS, row, w, "expected an item object")
            continue
        pid = it.get("product_id")
        if not isinstance(pid, str) or pid not in product_ids:
            log.error(ORDERS, row, f"{w}.product_id", f"{pid!r} is not a product id in catalog.csv")
        else:
            out.add(pid)
            if len(pid) > MAX_PRODUCT_ID:
                log.error(ORDERS, row, f"{w}.product_id", f"{pid!r} is longer than {MAX_PRODUCT_ID} characters "
                                                          "(the order database's limit)")
        q = it.get("quantity", 1)
        if not isinstance(q, int) or isinstance(q, bool) or q < 1:
            log.error(ORDERS, row, f"{w}.quantity", f"{q!r} is not a whole number >= 1")
        if priced and "price" in it and (not _is_number(it["price"]) or it["price"] < 0):
            log.error(ORDERS, row, f"{w}.price", f"{it['price']!r} is not a number >= 0")
        if priced:  # a line delivered apart from the order's shipment
            _check_date(it.get("delivered"), ORDERS, row, f"{w}.delivered", log, required=False)
    return out


def _shipment(s: Any, row: int, where: str, log: ProblemLog) -> None:
    if not isinstance(s, dict):
        log.error(ORDERS, row, where, "expected a shipment object")
        return
    for key in ("carrier", "tracking"):
        if not isinstance(s.get(key), str) or not s.get(key):
            log.error(ORDERS, row, f"{where}.{key}", "required: text")
    if "status" in s and s["status"] not in SHIPMENT_STATUSES:
        log.error(ORDERS, row, f"{where}.status", f"{s['status']!r} is not one of {', '.join(SHIPMENT_STATUSES)}")
    for key in ("shipped", "delivered", "eta"):
        _check_date(s.get(key), ORDERS, row, f"{where}.{key}", log, required=False)
