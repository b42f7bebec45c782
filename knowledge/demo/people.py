"""Customers, orders, shipments and returns of the demo store, written to SQLite.

This module owns the demo store's *business data*: 60 customers, ~330 orders placed in the 120
days before the day the store is built for, their items (drawn from the catalog), shipments and
returns, with statuses that agree with the timestamps (nothing happens after the build day starts,
a delivered order has a delivered shipment, a returned order has a received or refunded return,
returns are opened within 30 days of delivery). The fixtures of docs/contract.md (demo store fixtures) (customers C001 and
C002, orders 100023, 100024 and 100031) are fixed relative to the build day; everything else is
drawn from one ``random.Random`` seeded from ``seed``, so ``(seed, today)`` fixes every row. Rows
are written through :mod:`knowledge.kernel.schema` in one transaction.

Example:
    >>> from datetime import date
    >>> from knowledge.demo.catalog import generate_catalog
    >>> records = generate_records(generate_catalog(7), today=date(2025, 3, 1), seed=7)
    >>> next(o for o in records.orders if o["order_id"] == "100023")["status"]
    'shipped'
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

from knowledge.kernel import schema

from .catalog import FIXTURE_PRODUCT_TRAILRUNNER, FIXTURE_PRODUCT_X200

__all__ = [
    "FIXTURE_CUSTOMER_ALICE",
    "FIXTURE_CUSTOMER_BOB",
    "FIXTURE_ORDER_SHIPPED",
    "FIXTURE_ORDER_DELIVERED",
    "FIXTURE_ORDER_PROCESSING",
    "StoreRecords",
    "generate_records",
    "write_store_db",
]

FIXTURE_CUSTOMER_ALICE = "C001"
FIXTURE_CUSTOMER_BOB = "C002"
FIXTURE_ORDER_SHIPPED = "100023"
FIXTURE_ORDER_DELIVERED = "100024"
FIXTURE_ORDER_PROCESSING = "100031"

N_CUSTOMERS = 60
N_ORDERS = 330
FIRST_ORDER_ID = 100001
HISTORY_DAYS = 120
RETURN_WINDOW_DAYS = 30

_EN_FIRST = ("Emma", "Liam", "Olivia", "Noah", "Ava", "Ethan", "Sophia", "Mason", "Isabella", "Lucas", "Mia",
             "James", "Charlotte", "Daniel", "Amelia", "Henry", "Harper", "Jack", "Ella", "Owen", "Grace",
             "Samuel", "Chloe", "Nathan", "Zoe", "Ryan", "Hannah", "Leo", "Nora", "Caleb", "Maya", "Priya",
             "Diego", "Sofia", "Omar", "Kevin", "Jenny", "Vivian", "Eric", "Cindy")
_EN_LAST = ("Johnson", "Smith", "Garcia", "Martinez", "Brown", "Davis", "Miller", "Wilson", "Anderson", "Taylor",
            "Thomas", "Moore", "Jackson", "Martin", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
            "Young", "Patel", "Nguyen", "Kim", "Rossi", "Okafor", "Murphy", "Schmidt", "Cohen", "Lopez")
# (written name, surname pinyin, given-name pinyin)
_ZH_NAMES = (("王芳", "Wang", "Fang"), ("李娜", "Li", "Na"), ("张伟", "Zhang", "Wei"), ("刘洋", "Liu", "Yang"),
             ("陈静", "Chen", "Jing"), ("杨磊", "Yang", "Lei"), ("赵敏", "Zhao", "Min"), ("黄晓明", "Huang", "Xiaoming"),
             ("周杰", "Zhou", "Jie"), ("吴婷", "Wu", "Ting"), ("徐浩", "Xu", "Hao"), ("孙丽", "Sun", "Li"),
             ("胡军", "Hu", "Jun"), ("朱琳", "Zhu", "Lin"), ("高翔", "Gao", "Xiang"), ("林佳怡", "Lin", "Jiayi"),
             ("何欣", "He", "Xin"), ("郭鹏", "Guo", "Peng"), ("马超", "Ma", "Chao"), ("罗雪", "Luo", "Xue"),
             ("梁宇", "Liang", "Yu"), ("宋佳", "Song", "Jia"), ("郑凯", "Zheng", "Kai"), ("谢雨婷", "Xie", "Yuting"),
             ("韩冰", "Han", "Bing"), ("唐颖", "Tang", "Ying"))
_STREETS = ("Maple Avenue", "Oak Street", "Pine Street", "Cedar Lane", "Elm Street", "Lakeview Drive",
            "Harbor Street", "Mission Street", "Park Avenue", "Hillside Road", "Willow Way", "Main Street",
            "2nd Avenue", "Juniper Court", "Riverside Drive", "Sunset Boulevard")
# (city, state, zip, area code)
_US_CITIES = (("Seattle", "WA", "98101", "206"), ("Seattle", "WA", "98115", "206"), ("San Francisco", "CA", "94107", "415"),
              ("San Francisco", "CA", "94110", "415"), ("Los Angeles", "CA", "90012", "213"), ("Irvine", "CA", "92618", "949"),
              ("New York", "NY", "10001", "212"), ("Flushing", "NY", "11354", "718"), ("Brooklyn", "NY", "11201", "718"),
              ("Chicago", "IL", "60614", "312"), ("Austin", "TX", "78701", "512"), ("Plano", "TX", "75024", "469"),
              ("Houston", "TX", "77002", "713"), ("Cambridge", "MA", "02139", "617"), ("Portland", "OR", "97205", "503"),
              ("Denver", "CO", "80202", "303"), ("Atlanta", "GA", "30309", "404"), ("Edison", "NJ", "08817", "732"))
# (address tail, phone prefix) for the few international customers, who ship with DHL.
_INTL = (("Toronto, ON M5V 2T6, Canada", "+1 416-555-01"), ("Vancouver, BC V6B 1A1, Canada", "+1 604-555-01"),
         ("London EC1V 9HX, United Kingdom", "+44 20 7555 01"), ("Singapore 238859, Singapore", "+65 6555 01"),
         ("Shanghai 200120, China", "+86 21 5555 01"))
_RETURN_REASONS = ("Doesn't fit", "Arrived damaged", "Changed my mind", "Not as described", "Wrong item received",
                   "Better price elsewhere", "Defective: stopped working after a few days", "Quality not as expected",
                   "Ordered the wrong size", "No longer needed")
_UTC = timezone.utc


@dataclass(frozen=True)
class StoreRecords:
    """Rows for each table of :mod:`knowledge.kernel.schema`, as column-name dicts in insert order.

    Example:
        >>> records.counts()["orders"]  # doctest: +SKIP
        330
    """

    customers: tuple[dict[str, Any], ...]
    orders: tuple[dict[str, Any], ...]
    order_items: tuple[dict[str, Any], ...]
    shipments: tuple[dict[str, Any], ...]
    returns: tuple[dict[str, Any], ...]
    inventory: tuple[dict[str, Any], ...] = ()
    return_items: tuple[dict[str, Any], ...] = ()  # the lines each return takes back

    def counts(self) -> dict[str, int]:
        """Number of rows per table."""
        return {name: len(getattr(self, name)) for name in self.__dataclass_fields__}


def _ts(moment: datetime) -> str:
    return moment.astimezone(_UTC).isoformat(timespec="seconds")


class _People:
    def __init__(self, catalog: list[dict[str, Any]], today: date, seed: int) -> None:
        self.rng = random.Random(f"shopassist-demo-people:{seed}")
        self.now = datetime.combine(today, time(0, 0), tzinfo=_UTC)
        self.products = sorted(catalog, key=lambda p: p["id"])
        self.by_id = {p["id"]: p for p in self.products}
        self.customers: list[dict[str, Any]] = []
        self.international: set[str] = set()
        self.orders: list[dict[str, Any]] = []
        self.items: list[dict[str, Any]] = []
        self.shipments: list[dict[str, Any]] = []
        self.returns: list[tuple[datetime, dict[str, Any]]] = []

    def at(self, days_ago: int, hh: int, mm: int) -> datetime:
        return self.now - timedelta(days=days_ago) + timedelta(hours=hh, minutes=mm)

    # --- customers -------------------------------------------------------------------------------

    def customers_(self) -> None:
        self._customer(FIXTURE_CUSTOMER_ALICE, "Alice Chen", "alice.chen@example.com", "+1 206-555-0142",
                       "1208 Maple Avenue, Apt 4B, Seattle, WA 98101", "en", self.at(412, 17, 5))
        self._customer(FIXTURE_CUSTOMER_BOB, "Bob Li", "bob.li@example.net", "+1 415-555-0187",
                       "77 Harbor Street, San Francisco, CA 94107", "en", self.at(263, 20, 31))
        rng, names, emails = self.rng, {"Alice Chen", "Bob Li"}, {"alice.chen", "bob.li"}
        line_numbers = [n for n in range(100) if n not in (42, 87, 99)]
        rng.shuffle(line_numbers)
        for i in range(3, N_CUSTOMERS + 1):
            cid, r = f"C{i:03d}", rng.random()
            while True:
                if r < 0.28:
                    name, last, first = rng.choice(_ZH_NAMES)
                    lang = "zh"
                elif r < 0.48:
                    first, last, lang = rng.choice(_EN_FIRST), rng.choice(_ZH_NAMES)[1], "en"
                    name = f"{first} {last}"
                else:
                    first, last, lang = rng.choice(_EN_FIRST), rng.choice(_EN_LAST), "en"
                    name = f"{first} {last}"
                if name not in names:
                    break
            names.add(name)
            user = f"{first}.{last}".lower()
            if user in emails or rng.random() < 0.3:
                user = f"{user}{rng.randint(7, 98)}"
            emails.add(user)
            street = f"{rng.randint(10, 9899)} {rng.choice(_STREETS)}"
            if rng.random() < 0.3:
                street += f", Apt {rng.randint(1, 30)}{rng.choice('ABCDEF')}"
            line = line_numbers.pop()
            if i % 12 == 5:  # five international customers
                tail, prefix = _INTL[len(self.international)]
                self.international.add(cid)
                address, phone = f"{street}, {tail}", f"{prefix}{line:02d}"
            else:
                city, state, zip_, area = rng.choice(_US_CITIES)
                address, phone = f"{street}, {city}, {state} {zip_}", f"+1 {area}-555-01{line:02d}"
            domain = rng.choice(("example.com", "example.com", "example.net"))
            created = self.now - timedelta(seconds=rng.randint(150 * 86400, 1100 * 86400))
            self._customer(cid, name, f"{user}@{domain}", phone, address, lang, created)

    def _customer(self, cid: str, name: str, email: str, phone: str, address: str, lang: str, created: datetime) -> None:
        self.customers.append({"customer_id": cid, "name": name, "email": email, "phone": phone,
                               "address": address, "language": lang, "created_at": _ts(created)})

    # --- orders ----------------------------------------------------------------------------------

    def _order(self, oid: str, cid: str, status: str, placed: datetime, lines: list[tuple[dict, int]],
               address: str) -> dict[str, Any]:
        total = round(sum(p["price"] * q for p, q in lines), 2)
        order = {"order_id": oid, "customer_id": cid, "status": status, "placed_at": _ts(placed),
                 "total": total, "currency": "USD", "shipping_address": address}
        self.orders.append(order)
        for p, q in lines:
            self.items.append({"id": len(self.items) + 1, "order_id": oid, "product_id": p["id"],
                               "name": p["name"], "quantity": q, "unit_price": p["price"]})
        return order

    def _ship(self, oid: str, carrier: str, tracking: str, status: str, shipped: datetime, eta: date,
              delivered: datetime | None) -> None:
        self.shipments.append({"order_id": oid, "carrier": carrier, "tracking_number": tracking, "status": status,
                               "shipped_at": _ts(shipped), "estimated_delivery": eta.isoformat(),
                               "delivered_at": _ts(delivered) if delivered else None})

    def fixtures(self) -> None:
        alice = self.customers[0]["address"]
        x200, trail = self.by_id[FIXTURE_PRODUCT_X200], self.by_id[FIXTURE_PRODUCT_TRAILRUNNER]
        today = self.now.date()
        self._order(FIXTURE_ORDER_SHIPPED, FIXTURE_CUSTOMER_ALICE, "shipped", self.at(3, 9, 14), [(x200, 1)], alice)
        self._ship(FIXTURE_ORDER_SHIPPED, "UPS", "1Z4F8A230381729464", "in_transit", self.at(2, 16, 40),
                   today + timedelta(days=3), None)
        self._order(FIXTURE_ORDER_DELIVERED, FIXTURE_CUSTOMER_ALICE, "delivered", self.at(15, 11, 2), [(trail, 1)],
                    alice)
        self._ship(FIXTURE_ORDER_DELIVERED, "USPS", "9400111899223197428490", "delivered", self.at(14, 15, 20),
                   today - timedelta(days=10), self.at(10, 14, 32))
        kitchen = [p for p in self.products if p["category"] == "kitchen" and p["stock"] > 0]
        self._order(FIXTURE_ORDER_PROCESSING, FIXTURE_CUSTOMER_BOB, "processing", self.at(1, 18, 45),
                    [(self.rng.choice(kitchen), 1)], self.customers[1]["address"])

    def orders_(self) -> None:
        rng = self.rng
        fixed = {FIXTURE_ORDER_SHIPPED, FIXTURE_ORDER_DELIVERED, FIXTURE_ORDER_PROCESSING}
        free_ids = [str(FIRST_ORDER_ID + i) for i in range(N_ORDERS) if str(FIRST_ORDER_ID + i) not in fixed]
        others = [c["customer_id"] for c in self.customers[2:]]
        weights = [rng.uniform(0.4, 3.0) for _ in others]
        owners = [FIXTURE_CUSTOMER_ALICE] * 3 + [FIXTURE_CUSTOMER_BOB] * 3 + others
        owners += rng.choices(others, weights, k=len(free_ids) - len(owners))
        rng.shuffle(owners)
        # One order in seven is recent, so that processing and in-transit orders are common enough.
        ages = [rng.uniform(0.05, 9.0) if rng.random() < 0.14 else rng.uniform(0.05, HISTORY_DAYS) for _ in owners]
        plans = sorted(zip(ages, owners), key=lambda plan: -plan[0])
        addresses = {c["customer_id"]: c["address"] for c in self.customers}
        for oid, (age, cid) in zip(free_ids, plans):
            self._history_order(oid, cid, self.now - timedelta(seconds=int(age * 86400)), addresses[cid])
        self.orders.sort(key=lambda o: o["order_id"])

    def _lines(self, recent: bool) -> list[tuple[dict, int]]:
        pool = [p for p in self.products if p["stock"] > 0] if recent else self.products
        k = self.rng.choices((1, 2, 3), (60, 28, 12))[0]
        lines = []
        for p in self.rng.sample(pool, k):
            q = 1
            if p["price"] < 40 and self.rng.random() < 0.25:
                q = 2 if p["price"] >= 15 or self.rng.random() < 0.5 else 3
            lines.append((p, q))
        return lines

    def _history_order(self, oid: str, cid: str, placed: datetime, address: str) -> None:
        rng, now = self.rng, self.now
        abroad = cid in self.international
        delay = timedelta(days=rng.uniform(0.15, 1.4) if rng.random() < 0.85 else rng.uniform(1.5, 4.0))
        transit = timedelta(days=rng.uniform(9, 20) if abroad else rng.uniform(2.5, 7))
        promised = timedelta(days=rng.uniform(10, 16) if abroad else rng.uniform(3, 6))
        shipped, delivered = placed + delay, placed + delay + transit
        lines = self._lines(recent=now - placed < timedelta(days=10))
        if shipped >= now:  # not dispatched yet; a few are cancelled meanwhile
            status = "cancelled" if rng.random() < 0.15 else "processing"
            self._order(oid, cid, status, placed, lines, address)
            return
        if rng.random() < 0.06:  # cancelled while still processing, so never shipped
            self._order(oid, cid, "cancelled", placed, lines, address)
            return
        carrier = "DHL" if abroad else rng.choice(("UPS", "UPS", "USPS"))
        eta = (shipped + promised).date()
        if delivered >= now:
            self._order(oid, cid, "shipped", placed, lines, address)
            status = "out_for_delivery" if delivered - now < timedelta(hours=14) else "in_transit"
            self._ship(oid, carrier, self._tracking(carrier), status, shipped, eta, None)
            return
        order = self._order(oid, cid, "delivered", placed, lines, address)
        self._ship(oid, carrier, self._tracking(carrier), "delivered", shipped, eta, delivered)
        if rng.random() < 0.17:
            self._return(order, lines, delivered)

    def _return(self, order: dict[str, Any], lines: list[tuple[dict, int]], delivered: datetime) -> None:
        rng, now = self.rng, self.now
        created = delivered + timedelta(days=rng.uniform(0.5, RETURN_WINDOW_DAYS - 2))
        if created >= now:
            return
        approved = created + timedelta(days=rng.uniform(0.1, 1.0))
        received = approved + timedelta(days=rng.uniform(3, 8))
        refunded = received + timedelta(days=rng.uniform(5, 9))
        rejected = rng.random() < 0.1
        if rejected and approved < now:
            status = "rejected"
        else:
            status = next(s for s, t in (("refunded", refunded), ("received", received), ("approved", approved),
                                         ("requested", created)) if t < now)
        product, quantity = rng.choice(lines)
        amount = order["total"] if len(lines) == 1 else round(product["price"] * quantity, 2)
        if status in ("received", "refunded"):
            order["status"] = "returned"
        self.returns.append((created, {
            "order_id": order["order_id"], "status": status, "reason": rng.choice(_RETURN_REASONS),
            "created_at": _ts(created), "refund_amount": None if status in ("requested", "rejected") else amount,
            "refunded_at": _ts(refunded) if status == "refunded" else None,
            "_lines": [(product["id"], quantity, amount)]}))

    def _tracking(self, carrier: str) -> str:
        digits = lambda n: "".join(self.rng.choice("0123456789") for _ in range(n))  # noqa: E731
        if carrier == "UPS":
            shipper = "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXY") for _ in range(6))
            return f"1Z{shipper}03{digits(8)}"
        if carrier == "USPS":
            return f"9400{digits(18)}"
        return digits(10)

    def records(self) -> StoreRecords:
        returns = [dict(row) for _, row in sorted(self.returns, key=lambda pair: (pair[0], pair[1]["order_id"]))]
        return_items = []
        for n, row in enumerate(returns):
            row["return_id"] = f"R{10001 + n}"
            for pid, quantity, amount in row.pop("_lines"):
                return_items.append({"id": len(return_items) + 1, "return_id": row["return_id"], "product_id": pid,
                                     "quantity": quantity, "amount": amount})
        return StoreRecords(
            customers=tuple(self.customers),
            orders=tuple(self.orders),
            order_items=tuple(sorted(self.items, key=lambda i: (i["order_id"], i["id"]))),
            shipments=tuple(sorted(self.shipments, key=lambda s: s["order_id"])),
            returns=tuple(returns),
            return_items=tuple(return_items),
        )


def generate_records(catalog: list[dict[str, Any]], *, today: date, seed: int) -> StoreRecords:
    """Draw every business row of the demo store.

    Args:
        catalog: Products from :func:`knowledge.demo.catalog.generate_catalog`; must hold the fixture
            products.
        today: The day the store is built for; every timestamp falls before it starts (UTC), except
            the estimated deliveries of parcels still on their way.
        seed: Seeds the one ``random.Random`` these rows are drawn from.

    Returns:
        The rows, deterministic for ``(catalog, today, seed)``.

    Raises:
        ValueError: If the catalog lacks a fixture product or ``today`` is not a date.
    """
    if not isinstance(today, date) or isinstance(today, datetime):
        raise ValueError(f"today must be a datetime.date, got {today!r}")
    ids = {p["id"] for p in catalog}
    missing = [pid for pid in (FIXTURE_PRODUCT_X200, FIXTURE_PRODUCT_TRAILRUNNER) if pid not in ids]
    if missing:
        raise ValueError(f"catalog lacks the fixture products {missing}")
    people = _People(catalog, today, seed)
    people.customers_()
    people.fixtures()
    people.orders_()
    records = people.records()
    extra = _ItemLevelOrders(catalog, today, seed, records).build()
    return replace(records, customers=records.customers + extra.customers, orders=records.orders + extra.orders, order_items=records.order_items + extra.order_items,
                   shipments=records.shipments + extra.shipments, returns=records.returns + extra.returns,
                   return_items=records.return_items + extra.return_items,
                   inventory=_inventory(catalog, today=today, seed=seed))


def _inventory(catalog: list[dict[str, Any]], *, today: date, seed: int) -> tuple[dict[str, Any], ...]:
    """One stock row per variant: each size of a sized product (the catalog stock spread over the
    sizes, some sold out), ``default`` for everything else."""
    rng = random.Random(f"shopassist-demo-inventory:{seed}")
    updated = _ts(datetime.combine(today, time(0, 0), tzinfo=_UTC))
    rows = []
    for product in sorted(catalog, key=lambda p: p["id"]):
        stock = int(product["stock"])
        sizes = product.get("attributes", {}).get("sizes", {}).get("value") or []
        if not sizes:
            rows.append({"product_id": product["id"], "variant_id": "default", "available": stock,
                         "updated_at": updated})
            continue
        weights = [0.0 if rng.random() < 0.15 else rng.uniform(0.5, 2.0) for _ in sizes]
        if not any(weights):
            weights[0] = 1.0
        total = sum(weights)
        shares = [int(stock * w / total) for w in weights]
        if stock:
            shares[max(range(len(sizes)), key=lambda i: weights[i])] += stock - sum(shares)
        for size, share in zip(sizes, shares):
            rows.append({"product_id": product["id"], "variant_id": f"size-{size}", "available": share,
                         "updated_at": updated})
    return tuple(rows)


def write_store_db(path: Path, records: StoreRecords, meta: Mapping[str, str]) -> None:
    """Create the SQLite file at ``path`` (which must not exist) and insert every row at once.

    Args:
        path: Where the database file goes.
        records: Rows from :func:`generate_records`.
        meta: Key/value rows for the ``meta`` table (schema_version is added).

    Raises:
        FileExistsError: If ``path`` already exists.
    """
    from sqlalchemy import create_engine  # heavy import, only when a store is written

    path = Path(path)
    if path.exists():
        raise FileExistsError(path)
    engine = create_engine(f"sqlite:///{path}")
    try:
        schema.metadata.create_all(engine)
        rows = {"schema_version": str(schema.SCHEMA_VERSION), **{k: str(v) for k, v in meta.items()}}
        with engine.begin() as conn:
            conn.execute(schema.meta.insert(), [{"key": k, "value": v} for k, v in sorted(rows.items())])
            for table in (schema.customers, schema.orders, schema.order_items, schema.shipments, schema.returns,
                          schema.return_items, schema.inventory):
                rows = getattr(records, table.name)
                keys = sorted(set().union(*rows)) if rows else []
                batch = [{k: row.get(k) for k in keys} for row in rows]  # one shape for executemany
                if batch:
                    conn.execute(table.insert(), batch)
    finally:
        engine.dispose()


class _ItemLevelOrders:
    """A few customers whose orders show item-level service: several lines (one with two units),
    a return of part of an order refunded in part, two returns of one order over time (one
    refunded, one still open), a line delivered apart from the rest, a refused return, and orders
    that have not shipped or are on their way with several lines. Drawn from their own ``random.Random`` and placed after every
    other customer and order, so the rows :class:`_People` draws keep their meaning."""

    _CUSTOMERS = (("Grace Whitfield", "en", "4410 Cedar Lane, Portland, OR 97205", "+1 503-555-0142"),
                  ("周雨晴", "zh", "88 Mission Street, Apt 12C, San Francisco, CA 94110", "+1 415-555-0187"))

    def __init__(self, catalog: list[dict[str, Any]], today: date, seed: int, base: StoreRecords) -> None:
        self.rng = random.Random(f"shopassist-demo-item-orders:{seed}")
        self.now = datetime.combine(today, time(0, 0), tzinfo=_UTC)
        self.products = sorted((p for p in catalog if p["stock"] > 0), key=lambda p: p["id"])
        self.next_order = max(int(o["order_id"]) for o in base.orders) + 1
        self.next_return = 10001 + len(base.returns)
        self.next_item = len(base.order_items) + 1
        self.next_return_item = len(base.return_items) + 1
        self.first_customer = len(base.customers) + 1
        self.out: dict[str, list[dict[str, Any]]] = {k: [] for k in (
            "customers", "orders", "order_items", "shipments", "returns", "return_items")}

    def at(self, days_ago: float) -> datetime:
        return self.now - timedelta(days=days_ago)

    def _pick(self, k: int, cheap: bool = False) -> list[dict[str, Any]]:
        pool = [p for p in self.products if p["price"] < 40] if cheap else self.products
        categories: set[str] = set()
        chosen: list[dict[str, Any]] = []
        for p in self.rng.sample(pool, len(pool)):
            if p["category"] not in categories:  # lines of different kinds, so each can be named
                chosen.append(p)
                categories.add(p["category"])
            if len(chosen) == k:
                break
        return chosen

    def _order(self, cid: str, address: str, status: str, placed: float, lines: list[tuple[dict, int]],
               ) -> str:
        oid = str(self.next_order)
        self.next_order += 1
        total = round(sum(p["price"] * q for p, q in lines), 2)
        self.out["orders"].append({"order_id": oid, "customer_id": cid, "status": status, "placed_at": _ts(self.at(placed)),
                                   "total": total, "currency": "USD", "shipping_address": address})
        for p, q in lines:
            self.out["order_items"].append({"id": self.next_item, "order_id": oid, "product_id": p["id"], "name": p["name"],
                                            "quantity": q, "unit_price": p["price"], "delivered_at": None})
            self.next_item += 1
        return oid

    def _ship(self, oid: str, shipped: float, delivered: float | None) -> None:
        digits = "".join(self.rng.choice("0123456789") for _ in range(18))
        eta = (self.at(delivered if delivered is not None else shipped - 4)).date()
        self.out["shipments"].append({
            "order_id": oid, "carrier": "USPS", "tracking_number": f"9400{digits}",
            "status": "delivered" if delivered is not None else "in_transit", "shipped_at": _ts(self.at(shipped)),
            "estimated_delivery": eta.isoformat(), "delivered_at": _ts(self.at(delivered)) if delivered is not None else None})

    def _return(self, oid: str, lines: list[tuple[dict, int, float]], status: str, created: float,
                refunded: float | None = None, reason: str = "Changed my mind") -> None:
        rid = f"R{self.next_return}"
        self.next_return += 1
        amount = round(sum(a for _, _, a in lines), 2)
        self.out["returns"].append({"return_id": rid, "order_id": oid, "status": status, "reason": reason,
                                    "created_at": _ts(self.at(created)),
                                    "refund_amount": amount if status in ("received", "refunded") else None,
                                    "refunded_at": _ts(self.at(refunded)) if refunded is not None else None})
        for p, q, a in lines:
            self.out["return_items"].append({"id": self.next_return_item, "return_id": rid, "product_id": p["id"],
                                             "quantity": q, "amount": a})
            self.next_return_item += 1

    def build(self) -> StoreRecords:
        cids = []
        for n, (name, lang, address, phone) in enumerate(self._CUSTOMERS):
            cid = f"C{self.first_customer + n:03d}"
            cids.append((cid, address))
            user = "".join(ch for ch in name.lower().replace(" ", ".") if ch.isascii()) or f"member{n + 1}"
            self.out["customers"].append({"customer_id": cid, "name": name, "email": f"{user.strip('.')}@example.com",
                                          "phone": phone, "address": address, "language": lang,
                                          "created_at": _ts(self.at(300 + 40 * n))})
        (c1, a1), (c2, a2) = cids
        # several lines, one with two units; one of the two units returned and refunded
        big, small, other = self._pick(2) + self._pick(1, cheap=True)
        oid = self._order(c1, a1, "returned", 14, [(big, 1), (small, 1), (other, 2)])
        self._ship(oid, 13, 9)
        self._return(oid, [(other, 1, other["price"])], "refunded", 7, refunded=1, reason="Ordered two by mistake")
        # two returns over time (one refunded, one open); one line delivered apart, later
        first, second, late = self._pick(3)
        oid = self._order(c1, a1, "returned", 26, [(first, 1), (second, 1), (late, 1)])
        self._ship(oid, 25, 22)
        self.out["order_items"][-1]["delivered_at"] = _ts(self.at(6))
        self._return(oid, [(first, 1, first["price"])], "refunded", 19, refunded=8, reason="Not as described")
        self._return(oid, [(second, 1, second["price"])], "requested", 2, reason="Doesn't fit")
        # outside the window, one line refunded; a refused return of the other
        kept, sent = self._pick(2)
        oid = self._order(c2, a2, "returned", 62, [(kept, 1), (sent, 1)])
        self._ship(oid, 61, 57)
        self._return(oid, [(sent, 1, sent["price"])], "refunded", 50, refunded=38, reason="Quality not as expected")
        self._return(oid, [(kept, 1, kept["price"])], "rejected", 30, reason="Changed my mind")
        # not shipped yet, several lines; on its way, several lines
        self._order(c2, a2, "processing", 0.5, [(p, 1) for p in self._pick(2)])
        oid = self._order(c2, a2, "shipped", 3, [(p, 1) for p in self._pick(2)])
        self._ship(oid, 2, None)
        o = self.out
        return StoreRecords(customers=tuple(o["customers"]), orders=tuple(o["orders"]),
                            order_items=tuple(o["order_items"]), shipments=tuple(o["shipments"]),
                            returns=tuple(o["returns"]), return_items=tuple(o["return_items"]))
