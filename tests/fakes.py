"""Small deterministic test doubles and data shared by the unit tests.

Nothing here loads a model or touches the demo store: a seven-product catalog written to a
temporary folder, an in-memory order service, a retriever that returns fixed passages and a
builder for hand-made NLU results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from connectors.auth import Actor
from connectors.base import (
    ConnectorUnavailable,
    Order,
    OrderItem,
    OrderNotFound,
    ReturnRecord,
    Shipment,
    validate_order_id,
)
from engine.types import Entities, IntentPrediction, NLUResult, Passage, SentimentPrediction

# -- a tiny catalog --------------------------------------------------------------------------------

X200, X200_CASE, NIMBUS, VEGA, TRAIL, CHARGER, ECHO, LAPTOP_PRO, LAPTOP_AIR = (
    "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9",
)

CATALOG: list[dict[str, Any]] = [
    {
        "id": X200, "name": "Aurora X200 Wireless Earbuds", "name_zh": "Aurora X200 无线耳机",
        "brand": "Aurora", "category": "audio", "price": 129.99, "stock": 40, "rating": 4.6,
        "aliases": ["X200", "X200 earbuds"],
        "attributes": {
            "battery_life": {"value": 30, "unit": "h", "label": "battery life", "label_zh": "续航",
                             "note": "with the charging case"},
            "bluetooth_version": {"value": "5.3", "label": "Bluetooth version", "label_zh": "蓝牙版本"},
            "compatible_os": {"value": ["iOS", "Android"], "label": "works with", "label_zh": "兼容系统"},
            "water_resistance": {"value": "IPX4", "label": "water resistance", "label_zh": "防水等级"},
        },
        "relations": [{"type": "similar_to", "target": NIMBUS}],
    },
    {
        "id": X200_CASE, "name": "Aurora X200 Charging Case", "name_zh": "Aurora X200 充电盒",
        "brand": "Aurora", "category": "mobile_accessories", "price": 39.0, "stock": 12, "rating": 4.1,
        "aliases": ["X200 charging case"], "attributes": {},
        "relations": [{"type": "accessory_of", "target": X200}],
    },
    {
        "id": NIMBUS, "name": "Nimbus S5 Earbuds", "name_zh": "Nimbus S5 耳机", "brand": "Nimbus",
        "category": "audio", "price": 79.0, "stock": 10, "rating": 4.2, "aliases": ["Nimbus S5"],
        "attributes": {
            "battery_life": {"value": 24, "unit": "h", "label": "battery life", "label_zh": "续航"},
            "bluetooth_version": {"value": "5.2", "label": "Bluetooth version", "label_zh": "蓝牙版本"},
        },
    },
    {
        "id": VEGA, "name": "Vega Studio Headphones", "brand": "Vega", "category": "audio",
        "price": 199.0, "stock": 0, "rating": 4.8,
        "attributes": {"battery_life": {"value": 40, "unit": "h", "label": "battery life"}},
    },
    {
        "id": TRAIL, "name": "Trailrunner 5 Running Shoes", "name_zh": "Trailrunner 5 跑鞋",
        "brand": "Stride", "category": "footwear", "price": 89.0, "stock": 5, "rating": 4.5,
        "aliases": ["Trailrunner 5"], "attributes": {"sizes": {"value": [8, 9, 10], "label": "sizes"}},
    },
    {
        "id": CHARGER, "name": "Volt 20W USB-C Charger", "brand": "Volt", "category": "mobile_accessories",
        "price": 19.0, "stock": 100, "rating": 4.0, "attributes": {},
        "relations": [{"type": "compatible_with", "target": X200}],
    },
    {
        "id": ECHO, "name": "Echo Budget Earbuds", "brand": "Echo", "category": "audio",
        "price": 29.0, "stock": 3, "rating": 3.9, "attributes": {},
    },
    {
        "id": LAPTOP_PRO, "name": "Zenith Pro 16 Laptop", "brand": "Zenith", "category": "computing",
        "price": 1299.0, "stock": 4, "rating": 4.9, "attributes": {},
    },
    {
        "id": LAPTOP_AIR, "name": "Zenith Air 13 Laptop", "brand": "Zenith", "category": "computing",
        "price": 899.0, "stock": 6, "rating": 4.3, "attributes": {},
    },
]


def write_catalog(folder: Path, products: list[dict[str, Any]] | None = None) -> Path:
    path = Path(folder) / "catalog.json"
    path.write_text(json.dumps(CATALOG if products is None else products, ensure_ascii=False), "utf-8")
    return path


# -- orders ------------------------------------------------------------------------------------------

TODAY = date(2025, 3, 1)


def at(days_ago: int, hour: int = 12) -> datetime:
    """A UTC timestamp ``days_ago`` days before :data:`TODAY`."""
    return datetime(TODAY.year, TODAY.month, TODAY.day, hour, tzinfo=timezone.utc) - timedelta(days=days_ago)


def make_order(
    order_id: str = "100023",
    status: str = "shipped",
    *,
    customer_id: str = "C001",
    items: tuple[tuple[str, str], ...] = ((X200, "Aurora X200 Wireless Earbuds"),),
    shipment: Shipment | None = None,
    returns: tuple[ReturnRecord, ...] = (),
    placed_days_ago: int = 5,
    total: float = 129.99,
) -> Order:
    return Order(
        order_id=order_id,
        customer_id=customer_id,
        status=status,
        placed_at=at(placed_days_ago),
        total=total,
        currency="USD",
        items=tuple(OrderItem(pid, name, 1, total) for pid, name in items),
        shipment=shipment,
        returns=returns,
    )


def shipment(status: str = "in_transit", *, delivered_days_ago: int | None = None) -> Shipment:
    delivered = at(delivered_days_ago) if delivered_days_ago is not None else None
    return Shipment(
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        status=status,
        shipped_at=at(4),
        estimated_delivery=date(2025, 3, 4),
        delivered_at=delivered,
    )


@dataclass
class FakeOrderService:
    """An :class:`connectors.base.OrderService` over a dict, with the real ownership rules."""

    orders: dict[str, Order] = field(default_factory=dict)
    unavailable: bool = False
    calls: list[tuple[str, Actor, str | None]] = field(default_factory=list)

    def get_order(self, actor: Actor, order_id: str) -> Order:
        self.calls.append(("get_order", actor, order_id))
        oid = validate_order_id(order_id)
        if self.unavailable:
            raise ConnectorUnavailable("down")
        order = self.orders.get(oid)
        if order is None or not actor.may_see(order.customer_id):
            raise OrderNotFound(oid)
        return order

    def list_orders(self, actor: Actor, limit: int = 5) -> list[Order]:
        self.calls.append(("list_orders", actor, None))
        if self.unavailable:
            raise ConnectorUnavailable("down")
        if actor.role != "customer":
            return []
        mine = [o for o in self.orders.values() if o.customer_id == actor.customer_id]
        return sorted(mine, key=lambda o: o.placed_at, reverse=True)[:limit]

    def get_customer(self, actor: Actor):
        return None


# -- retrieval and NLU -------------------------------------------------------------------------------


class FakeRetriever:
    """Returns the same passages (best first) for every query and records the queries."""

    def __init__(self, passages: list[Passage] | None = None) -> None:
        self.passages = list(passages or [])
        self.queries: list[tuple[str, int, str | None]] = []

    def retrieve(self, query: str, *, top_k: int = 3, language: str | None = None) -> list[Passage]:
        self.queries.append((query, top_k, language))
        return self.passages[:top_k]


def passage(score: float, pid: str = "en-returns", lang: str = "en") -> Passage:
    return Passage(
        id=pid,
        question="How long do I have to return an item?",
        answer="You can return items within 30 days of delivery.",
        language=lang,
        score=score,
    )


def nlu(
    text: str = "hello",
    intent: str = "greet",
    *,
    confidence: float = 0.9,
    lang: str = "en",
    sentiment: float = 0.0,
    order_ids: tuple[str, ...] = (),
    malformed: tuple[str, ...] = (),
    products: tuple[str, ...] = (),
    anaphora: bool = False,
) -> NLUResult:
    label = "negative" if sentiment <= -0.2 else "positive" if sentiment >= 0.2 else "neutral"
    return NLUResult(
        text=text,
        language=lang,
        intent=IntentPrediction(intent, confidence, ((intent, confidence),)),
        sentiment=SentimentPrediction(label, sentiment),
        entities=Entities(order_ids=order_ids, malformed_order_ids=malformed, product_ids=products,
                          anaphora=anaphora),
    )
