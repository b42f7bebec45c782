"""A kit's trial data into the SQL order database: :func:`load_trial_data`.

``customers.csv`` and ``orders.jsonl`` (checked by :func:`knowledge.kit.read_kit`) become rows of the
tables in :mod:`knowledge.kernel.schema`, so a new store can be tried end to end, orders included:
an item's optional ``delivered`` (a line delivered apart from the order's shipment) and each
return's ``items`` (the lines it takes back, each refunding what was paid for it) are kept.
Relative days (``"-12d"``, ``"+2d"``) count from ``today``, the build day, which the ``meta`` table
keeps as ``built_on`` (as the demo store does). Times of day are fixed (placed 10:00, shipped 16:00,
delivered 14:00 UTC) so a build is deterministic.

The order database is business data once a customer wrote to it (each connector write leaves an
audit and an idempotency row): a database with writes is refused (:class:`TrialDataHasWrites`)
unless ``force``. Otherwise its business rows are replaced in one transaction, so a load is whole
or nothing.

Example:
    >>> from datetime import date
    >>> kit = read_kit("kits/lotus-pine")                                     # doctest: +SKIP
    >>> load_trial_data(kit, "sqlite:///orders.db", today=date(2025, 3, 1))    # doctest: +SKIP
    TrialCounts(customers=6, orders=14, shipments=10, returns=2)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.kernel import schema
from knowledge.kernel.errors import KnowledgeError
from knowledge.kernel.sqlite_backup import backup_sqlite

from ._trial import resolve_date

if TYPE_CHECKING:
    from .reader import Kit

__all__ = ["TrialCounts", "TrialDataHasWrites", "load_trial_data", "database_writes", "trial_key"]

_UTC = _dt.timezone.utc
_PLACED, _SHIPPED, _DELIVERED = _dt.time(10, 0), _dt.time(16, 0), _dt.time(14, 0)
# business rows a load replaces, children first
_TABLES = (schema.return_items, schema.returns, schema.replacements, schema.shipments, schema.order_items,
           schema.orders, schema.inventory, schema.customers)


class TrialDataHasWrites(KnowledgeError):
    """The order database holds customers' writes (or cannot be read to tell); loading trial data
    would replace them. Nothing was changed; the message names the fix."""


@dataclass(frozen=True)
class TrialCounts:
    """Rows loaded per kind."""

    customers: int
    orders: int
    shipments: int
    returns: int
    backup: Path | None = None  # where a forced load kept the SQLite file it replaced


def trial_key(kit: "Kit") -> str:
    """A digest of the kit's trial data and catalog stock (what the loaded rows depend on)."""
    h = hashlib.sha256()
    h.update(json.dumps([kit.customers, kit.orders], sort_keys=True, default=str).encode())
    h.update(json.dumps(sorted((p.id, p.name, p.stock) for p in kit.catalog)).encode())
    h.update(kit.profile.currency.encode())
    return h.hexdigest()[:16]


def database_writes(db_url: str) -> int | None:
    """Rows of customer writes (audit + idempotency) in the database; 0 when it is empty or new,
    None when it cannot be read to tell."""
    from sqlalchemy import create_engine, func, inspect, select
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            if not tables & {"audit", "idempotency"}:
                return 0 if "orders" in tables or not tables else None
            return sum(conn.execute(select(func.count()).select_from(t)).scalar_one()
                       for t in (schema.audit, schema.idempotency) if t.name in tables)
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def _at(spec: str | None, today: _dt.date, clock: _dt.time) -> str | None:
    if spec is None:
        return None
    value = resolve_date(str(spec), today)
    if not isinstance(value, _dt.datetime):
        value = _dt.datetime.combine(value, clock, tzinfo=_UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC).isoformat(timespec="seconds")


def _day(spec: str | None, today: _dt.date) -> str | None:
    if spec is None:
        return None
    value = resolve_date(str(spec), today)
    return (value.date() if isinstance(value, _dt.datetime) else value).isoformat()


def _rows(kit: "Kit", today: _dt.date) -> dict[str, list[dict[str, Any]]]:
    created = _dt.datetime.combine(today, _dt.time(0, 0), tzinfo=_UTC).isoformat(timespec="seconds")
    customers = {c["id"]: c for c in kit.customers}
    out: dict[str, list[dict[str, Any]]] = {t.name: [] for t in _TABLES}
    for c in kit.customers:
        out["customers"].append({"customer_id": c["id"], "name": c["name"], "email": c["email"],
                                 "phone": c.get("phone", "") or "", "address": c.get("address", "") or "",
                                 "language": c.get("language") or kit.profile.default_language,
                                 "created_at": created})
    for o in kit.orders:
        oid = str(o["id"])
        lines = []
        for it in o["items"]:
            product = kit.catalog.get(it["product_id"])
            price = float(it["price"]) if it.get("price") is not None else (product.price if product else 0.0)
            lines.append({"order_id": oid, "product_id": it["product_id"], "name": product.name if product else
                          it["product_id"], "quantity": int(it.get("quantity", 1)), "unit_price": price,
                          "delivered_at": _at(it.get("delivered"), today, _DELIVERED)})
        out["order_items"].extend(lines)
        address = customers.get(o["customer_id"], {}).get("address", "") or ""
        out["orders"].append({"order_id": oid, "customer_id": o["customer_id"], "status": o["status"],
                              "placed_at": _at(o["placed"], today, _PLACED),
                              "total": round(sum(x["unit_price"] * x["quantity"] for x in lines), 2),
                              "currency": kit.profile.currency,
                              "shipping_address": o.get("shipping_address") or address})
        for s in (o.get("shipments") or [])[:1]:  # the database keeps one shipment per order
            delivered = _at(s.get("delivered"), today, _DELIVERED)
            shipped = _at(s.get("shipped"), today, _SHIPPED)
            status = s.get("status") or ("delivered" if delivered else "in_transit" if shipped else "label_created")
            out["shipments"].append({"order_id": oid, "carrier": s["carrier"], "tracking_number": s["tracking"],
                                     "status": status, "shipped_at": shipped,
                                     "estimated_delivery": _day(s.get("eta"), today), "delivered_at": delivered})
        paid = {x["product_id"]: x["unit_price"] for x in lines}
        for r in o.get("returns") or []:
            out["returns"].append({"return_id": r["id"], "order_id": oid, "status": r["status"],
                                   "reason": r.get("reason") or "", "created_at": _at(r["requested"], today, _PLACED),
                                   "refund_amount": r.get("refund_amount"),
                                   "refunded_at": _at(r.get("refunded"), today, _PLACED)})
            # the lines it takes back, each refunding what was paid for it (a sole line: the refund stated)
            taken = [(it["product_id"], int(it.get("quantity", 1))) for it in r.get("items") or []]
            for pid, qty in taken:
                amount = r.get("refund_amount") if len(taken) == 1 and r.get("refund_amount") is not None \
                    else round(paid.get(pid, 0.0) * qty, 2)
                out["return_items"].append({"return_id": r["id"], "product_id": pid, "quantity": qty,
                                            "amount": amount})
    updated = created
    out["inventory"] = [{"product_id": p.id, "variant_id": "default", "available": int(p.stock),
                         "updated_at": updated} for p in kit.catalog]
    return out


def load_trial_data(kit: "Kit", db_url: str, *, today: _dt.date, force: bool = False) -> TrialCounts:
    """Replace the business rows of the order database at ``db_url`` with the kit's trial data.

    The schema is created or migrated first; stock levels come from the catalog; ``meta`` records
    ``built_on`` (``today``), the kit's name and :func:`trial_key`.

    Args:
        kit: a kit from :func:`knowledge.kit.read_kit`.
        db_url: an SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://...``).
        today: the build day relative days count from.
        force: replace the rows even when customers wrote to the database.

    Raises:
        TrialDataHasWrites: the database holds writes (or cannot be read to tell) and not ``force``.
        ValueError: ``today`` is not a date.
    """
    if not isinstance(today, _dt.date) or isinstance(today, _dt.datetime):
        raise ValueError(f"today must be a datetime.date, got {today!r}")
    writes = database_writes(db_url)
    if writes != 0 and not force:
        what = f"holds {writes} rows of customer writes" if writes else "cannot be read to tell whether it holds writes"
        raise TrialDataHasWrites(f"not loading the trial data of {kit.root} into {_safe(db_url)}: it {what} "
                                 "(cancellations, returns, address changes); use --force to replace them")
    from sqlalchemy import create_engine, delete

    rows = _rows(kit, today)
    backup = None
    if writes != 0 and db_url.startswith("sqlite:///"):
        # the audit table refuses deletes: a forced load keeps a copy and starts the file afresh
        backup = _backup_sqlite(Path(db_url.removeprefix("sqlite:///")))
    engine = create_engine(db_url)
    try:
        schema.create_or_migrate(engine)
        with engine.begin() as conn:
            if writes != 0:
                conn.execute(delete(schema.idempotency))
            for table in _TABLES:
                conn.execute(delete(table))
            for table in reversed(_TABLES):
                if rows[table.name]:
                    conn.execute(table.insert(), rows[table.name])
            meta = {"built_on": today.isoformat(), "store": kit.profile.name, "trial_key": trial_key(kit)}
            conn.execute(delete(schema.meta).where(schema.meta.c.key.in_(list(meta))))
            conn.execute(schema.meta.insert(), [{"key": k, "value": v} for k, v in meta.items()])
    finally:
        engine.dispose()
    return TrialCounts(len(rows["customers"]), len(rows["orders"]), len(rows["shipments"]), len(rows["returns"]),
                       backup)


def _backup_sqlite(path: Path) -> Path | None:
    """Move ``path`` aside as ``<name>.bak-<UTC time>`` (:func:`backup_sqlite`); None when there is no file."""
    return backup_sqlite(path, remove=True) if path.exists() else None


def _safe(url: str) -> str:
    """The URL without its password."""
    head, sep, tail = url.rpartition("@")
    if not sep:
        return url
    scheme, _, creds = head.partition("://")
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{tail}"
