"""Conversation benchmark: whole shopper conversations, checked turn by turn against the store's facts.

Conversations live in ``benchmarks/conversations/<set>/<split>/<category>.yaml`` (the format is
documented field by field in ``benchmarks/conversations/README.md``). Every turn's expectations
are facts, not wording: regexes the reply must or must not match, the reply's language, hand-off
yes/no; placeholders such as ``{order:100023:eta}`` or ``{product:P1001:price}`` are resolved
against the built store (its catalog and its order database) before the run, so nothing that
depends on the build day is typed in. Effects in the order database are checked after each
conversation. Every conversation starts on a fresh copy of the order database: a snapshot taken
right after the engine is built is copied back into the live file (SQLite's online backup, so the
engine's open connections see it) before each conversation.

One engine (models loaded once) answers every conversation, each in its own session. The last
line printed is ``N passed, M failed``, counted over turns.

Usage:
    python benchmarks/conversations.py                          # the demo set, dev + test
    python benchmarks/conversations.py --split dev --only returns,refund_status
    python benchmarks/conversations.py --id os-en-003 --show all
    python benchmarks/conversations.py --check                  # validate files and placeholders only
    python benchmarks/conversations.py --json benchmarks/results/conversations.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "conversations"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

__all__ = ["CATEGORIES", "load_set", "StoreFacts", "run", "main"]

#: Every conversation has one of these categories; a file is named after the category it holds.
CATEGORIES: tuple[str, ...] = (
    "order_status", "delivery_date", "returns", "refund_status", "partial_refund", "cancellation",
    "address_change", "multi_item_order", "payment_account", "policy_faq", "product_specs",
    "compatibility", "comparison", "constraint_search", "recommendation", "accessories",
    "reference_followup", "ellipsis", "uncovered", "complaint_defect", "small_talk",
    "handoff_request", "mixed_language", "privacy_probe", "prompt_injection",
    "answer_to_bot_question", "confirmation", "digression", "correction", "multi_request", "style",
)
LANGUAGES = ("en", "zh", "mixed")
SPLITS = ("dev", "test")
_CONV_KEYS = {"id", "category", "language", "customer", "tags", "note", "let", "every_turn", "turns", "effects"}
_EXPECT_KEYS = {"facts", "any_facts", "not", "handoff", "language", "intent", "route", "note"}
_EFFECT_KEYS = {"order", "status", "writes", "unchanged", "new_returns", "address", "no_writes", "note"}
_ALWAYS_NOT = [(r"Traceback|\{[a-z_]+\}", "an internal error or an unfilled template field")]


class BenchmarkError(Exception):
    """A conversation file, a placeholder or the store is not usable; the message says where."""


# --- facts of the store --------------------------------------------------------------------------

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_WEEKDAYS = (("Monday", "周一|星期一"), ("Tuesday", "周二|星期二"), ("Wednesday", "周三|星期三"),
             ("Thursday", "周四|星期四"), ("Friday", "周五|星期五"), ("Saturday", "周六|星期六"),
             ("Sunday", "周日|星期日|星期天"))
_ZH_DIGITS = "零一二三四五六七八九"
_UNITS = {  # catalog unit -> the ways a reply may write it (English and Chinese)
    "h": r"hours?|hrs?|h|小时|个小时", "min": r"min(?:ute)?s?|分钟", "g": r"grams?|g|克", "kg": r"kilograms?|kgs?|公斤|千克",
    "mm": r"mm|millimet(?:er|re)s?|毫米", "cm": r"cm|centimet(?:er|re)s?|厘米", "m": r"m|met(?:er|re)s?|米",
    "in": r"in(?:ch(?:es)?)?|\"|″|英寸|寸", "ft": r"ft|feet|foot|英尺", "months": r"months?|个月|月",
    "days": r"days?|天", "GB": r"GB|G", "W": r"W|watts?|瓦", "mAh": r"mAh|毫安时?", "L": r"L|lit(?:er|re)s?|升",
    "Hz": r"Hz|赫兹", "lm": r"lm|lumens?|流明", "°C": r"°C|℃|度|degrees?(?: C| Celsius)?", "A": r"A|amps?|安",
    "°": r"°|degrees?|度", "MP": r"MP|megapixels?|万像素|百万像素", "Pa": r"Pa|pascals?|帕",
    "buttons": r"buttons?|个按键|按键|键", "pieces": r"pieces?|pcs|件|个|片", "presets": r"presets?|种预设|预设|档",
    "ports": r"ports?|个接口|接口|口", "persons": r"persons?|people|人", "pairs": r"pairs?|双|对",
    "slices": r"slices?|片",
}
_ORDER_STATUS = {
    "processing": r"processing|being prepared|preparing|(?:has ?n[o']t|not yet|not) (?:been )?shipped|备货|处理中|未发货|还没发货",
    "shipped": r"shipped|on (?:its|the) way|in transit|out for delivery|已发货|发出|运输中|派送中|在路上",
    "delivered": r"delivered|已送达|已签收|送达|签收",
    "cancelled": r"cancell?ed|已取消|取消了",
    "returned": r"returned|已退货|退货",
}
_RETURN_STATUS = {
    "requested": r"requested|opened|pending|已申请|申请中|待审核", "approved": r"approved|已批准|已通过",
    "received": r"received|arrived|已收货|仓库已收到|收到", "refunded": r"refunded|已退款|退款已",
    "rejected": r"rejected|declined|refused|已拒绝|被拒",
}
_SHIPMENT_STATUS = {
    "label_created": r"label created|已打单", "in_transit": r"in transit|on (?:its|the) way|运输中|在路上",
    "out_for_delivery": r"out for delivery|派送中", "delivered": r"delivered|已签收|已送达",
}


def _flex(literal: str) -> str:
    """A literal as a regex whose spaces match any run of whitespace."""
    return r"\s*".join(re.escape(part) for part in str(literal).split())


def _alt(*regexes: str) -> str:
    kept = [r for r in dict.fromkeys(regexes) if r]
    return "(?:" + "|".join(kept) + ")"


def _zh_number(n: int) -> str | None:
    if not 0 < n < 100:
        return None
    tens, ones = divmod(n, 10)
    text = (("" if tens == 1 else _ZH_DIGITS[tens]) + "十" if tens else "") + (_ZH_DIGITS[ones] if ones else "")
    return text


def number_regex(value: float) -> str:
    """A number as a reply may write it: ``1059.99`` matches "1,059.99"; ``49`` matches "49", "49.00", "四十九"."""
    negative, value = value < 0, abs(value)
    whole, cents = int(value), round((value - int(value)) * 100)
    digits = ("-?" if negative else "") + f"{whole:,}".replace(",", ",?")
    if cents == 0:
        num = rf"{digits}(?:\.00?)?"
    elif cents % 10 == 0:  # one decimal: "6.6" or "6.60"
        num = rf"{digits}\.{cents // 10}0?"
    else:
        num = rf"{digits}\.{cents:02d}"
    zh = _zh_number(whole) if cents == 0 else None
    return _alt(rf"(?<![\d.,]){num}(?!\d|\.\d)", zh and rf"(?<![一二三四五六七八九十]){zh}(?![一二三四五六七八九十])")


def money_literal(value: float) -> str:
    return f"${value:,.2f}"


def date_regex(day: date, today: date) -> str:
    """Every way a reply may state ``day``: "Dec 10", "December 10th", "10 Dec", "12/10",
    "2026-12-10", "12月10日", and "tomorrow"/"明天" or a weekday name when it is that close."""
    month, short = _MONTHS[day.month - 1], _MONTHS[day.month - 1][:3]
    months = rf"(?:{short}\.?|{month})"
    d = day.day
    forms = [rf"{months}\s+0?{d}(?:st|nd|rd|th)?(?!\d)", rf"(?<!\d)0?{d}(?:st|nd|rd|th)?\s+(?:of\s+)?{months}",
             rf"(?<![\d/]){day.month:d}/0?{d}(?![\d])", rf"(?<![\d/])0{day.month:d}/0?{d}(?![\d])",
             rf"{day.year}-{day.month:02d}-{d:02d}", rf"(?<!\d){day.month}月0?{d}[日号]"]
    delta = (day - today).days
    words = {0: r"today|今天|今日", 1: r"tomorrow|明天|明日", -1: r"yesterday|昨天", 2: r"后天"}
    if delta in words:
        forms.append(words[delta])
    if 0 < delta <= 6:
        en, zh = _WEEKDAYS[day.weekday()]
        forms.append(rf"{en}|{zh}")
    return _alt(*forms)


def date_literal(day: date) -> str:
    return f"{_MONTHS[day.month - 1][:3]} {day.day}"


@dataclass(frozen=True)
class Resolved:
    """What a placeholder stands for: a regex (in facts) and a literal (in user text)."""

    regex: str
    literal: str


@dataclass
class StoreFacts:
    """The store a run checks against: catalog, order database, policies and the build day.

    Args:
        products: product id -> normalised product (name, name_zh, aliases, brand, price, stock,
            category, attributes {key: {value, unit}}, accessories [ids], compatible [ids]).
        db: a read connection to the order database (SQLite).
        policies: the store's policies (the keys of a kit's ``store.yaml`` ``policies``).
        store: name, email, phone of the store.
        today: the day the store was built for.
    """

    products: dict[str, dict[str, Any]]
    db: sqlite3.Connection
    policies: dict[str, Any]
    store: dict[str, Any]
    today: date

    # -- loading --------------------------------------------------------------------------------
    @staticmethod
    def demo_products(catalog_json: Path) -> dict[str, dict[str, Any]]:
        raw = json.loads(Path(catalog_json).read_text(encoding="utf-8"))
        products = {}
        for p in raw:
            products[p["id"]] = {
                "id": p["id"], "name": p["name"], "name_zh": p.get("name_zh"), "aliases": p.get("aliases") or [],
                "brand": p.get("brand"), "price": float(p["price"]), "stock": int(p.get("stock", 0)),
                "category": p.get("category"), "category_zh": p.get("category_zh"), "rating": p.get("rating"),
                "attributes": {k: {"value": a.get("value"), "unit": a.get("unit")}
                               for k, a in (p.get("attributes") or {}).items()},
                "accessories": [], "compatible": [],
            }
        for p in raw:
            for rel in p.get("relations") or []:
                target = products.get(rel.get("target"))
                if target is None:
                    continue
                if rel.get("type") == "accessory_of":
                    target["accessories"].append(p["id"])
                elif rel.get("type") == "compatible_with":
                    target["compatible"].append(p["id"])
                    products[p["id"]]["compatible"].append(target["id"])
        return products

    @staticmethod
    def kit_products(catalog_csv: Path) -> dict[str, dict[str, Any]]:
        """A kit's ``catalog.csv`` (DESIGN.md §3b): ``attr:<name>`` columns hold "30 h"-style values."""
        products = {}
        with open(catalog_csv, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                attrs = {}
                for col, value in row.items():
                    if col and col.startswith("attr:") and col.count(":") == 1 and value:
                        m = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*(\S.*)?", value.strip())
                        attrs[col[5:]] = ({"value": float(m.group(1)) if "." in m.group(1) else int(m.group(1)),
                                           "unit": m.group(2)} if m else {"value": value.strip(), "unit": None})
                split = lambda v: [x.strip() for x in (v or "").split(";") if x.strip()]  # noqa: E731
                products[row["id"]] = {
                    "id": row["id"], "name": row["name"], "name_zh": row.get("name:zh"), "aliases": split(row.get("aliases")),
                    "brand": row.get("brand"), "price": float(row["price"]), "stock": int(float(row.get("stock") or 0)),
                    "category": row.get("category"), "category_zh": row.get("category:zh"), "rating": row.get("rating"),
                    "attributes": attrs, "accessories": split(row.get("accessories")),
                    "compatible": split(row.get("compatible_with")),
                }
        return products

    # -- resolving --------------------------------------------------------------------------------
    def resolve(self, spec: str) -> Resolved:
        """``spec`` is the inside of a placeholder, e.g. ``order:100023:eta``."""
        kind, _, rest = spec.partition(":")
        handler = {"order": self._order, "product": self._product, "customer": self._customer,
                   "policy": self._policy, "store": self._store, "date": self._date}.get(kind)
        if handler is None:
            raise BenchmarkError(f"unknown placeholder kind {kind!r} in {{{spec}}}")
        return handler(rest.split(":") if rest else [])

    def _rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return self.db.execute(sql, args).fetchall()

    def _product_names(self, pid: str, *, aliases: bool = False) -> list[str]:
        p = self.products.get(pid)
        if p is None:
            return []
        return [n for n in (p["name"], p.get("name_zh"), *(p["aliases"] if aliases else [])) if n]

    def _order(self, args: list[str]) -> Resolved:
        if len(args) < 2:
            raise BenchmarkError("order placeholders are {order:ID:FIELD}")
        oid, fld, more = args[0], args[1], args[2:]
        order = self._rows("SELECT * FROM orders WHERE order_id = ?", oid)
        if not order:
            raise BenchmarkError(f"order {oid} is not in the order database")
        order = order[0]
        items = self._rows("SELECT * FROM order_items WHERE order_id = ? ORDER BY id", oid)
        ship = (self._rows("SELECT * FROM shipments WHERE order_id = ?", oid) or [None])[0]
        ret = (self._rows("SELECT * FROM returns WHERE order_id = ? ORDER BY created_at DESC", oid) or [None])[0]

        def day(value: str | None, what: str) -> Resolved:
            if not value:
                raise BenchmarkError(f"order {oid} has no {what}")
            d = date.fromisoformat(value[:10])
            return Resolved(date_regex(d, self.today), date_literal(d))

        def names(item: sqlite3.Row) -> list[str]:
            return list(dict.fromkeys([item["name"], *self._product_names(item["product_id"])]))

        if fld == "status":
            return Resolved(_ORDER_STATUS[order["status"]], order["status"])
        if fld == "items":
            return Resolved(_alt(*[_flex(n) for it in items for n in names(it)]), items[0]["name"])
        if fld == "item":
            if not more or not more[0].isdigit() or not 1 <= int(more[0]) <= len(items):
                raise BenchmarkError(f"order {oid} has {len(items)} item(s): use {{order:{oid}:item:1..{len(items)}}}")
            it = items[int(more[0]) - 1]
            if more[1:] == ["price"]:
                return Resolved(number_regex(it["unit_price"]), money_literal(it["unit_price"]))
            if more[1:] == ["quantity"]:
                return Resolved(number_regex(it["quantity"]), str(it["quantity"]))
            return Resolved(_alt(*[_flex(n) for n in names(it)]), it["name"])
        if fld == "total":
            return Resolved(number_regex(order["total"]), money_literal(order["total"]))
        if fld == "placed":
            return day(order["placed_at"], "placing date")
        if fld == "customer":
            return Resolved(re.escape(order["customer_id"]), order["customer_id"])
        if fld == "address":
            return Resolved(_flex(order["shipping_address"]), order["shipping_address"])
        if fld in ("carrier", "tracking", "eta", "shipped", "delivered", "shipment_status", "return_deadline",
                   "return_days_left"):
            if ship is None:
                raise BenchmarkError(f"order {oid} has no shipment, so no {fld}")
            if fld == "carrier":
                return Resolved(_flex(ship["carrier"]), ship["carrier"])
            if fld == "tracking":
                return Resolved(re.escape(ship["tracking_number"]), ship["tracking_number"])
            if fld == "shipment_status":
                return Resolved(_SHIPMENT_STATUS[ship["status"]], ship["status"])
            if fld in ("eta", "shipped", "delivered"):
                return day(ship["estimated_delivery" if fld == "eta" else f"{fld}_at"], fld)
            if not ship["delivered_at"]:
                raise BenchmarkError(f"order {oid} is not delivered, so it has no {fld}")
            deadline = date.fromisoformat(ship["delivered_at"][:10]) + timedelta(days=self._window())
            if fld == "return_deadline":
                return Resolved(date_regex(deadline, self.today), date_literal(deadline))
            left = (deadline - self.today).days
            return Resolved(number_regex(left), str(left))
        if fld in ("return_status", "return_id", "refund_amount", "refunded"):
            if ret is None:
                raise BenchmarkError(f"order {oid} has no return, so no {fld}")
            if fld == "return_status":
                return Resolved(_RETURN_STATUS[ret["status"]], ret["status"])
            if fld == "return_id":
                return Resolved(re.escape(ret["return_id"]), ret["return_id"])
            if fld == "refund_amount":
                if ret["refund_amount"] is None:
                    raise BenchmarkError(f"the return of order {oid} has no refund amount")
                return Resolved(number_regex(ret["refund_amount"]), money_literal(ret["refund_amount"]))
            return day(ret["refunded_at"], "refund date")
        raise BenchmarkError(f"unknown order field {fld!r}")

    def _window(self) -> int:
        window = self.policies.get("return_window_days")
        if not isinstance(window, int):
            raise BenchmarkError("the store's policies lack return_window_days")
        return window

    def _product(self, args: list[str]) -> Resolved:
        if len(args) < 2:
            raise BenchmarkError("product placeholders are {product:ID:FIELD}")
        pid, fld, more = args[0], args[1], args[2:]
        p = self.products.get(pid)
        if p is None:
            raise BenchmarkError(f"product {pid} is not in the catalog")
        if fld in ("name", "names"):
            found = self._product_names(pid, aliases=fld == "names")
            return Resolved(_alt(*[_flex(n) for n in found]), p["name"])
        if fld in ("brand", "category"):
            values = [p[fld], p.get(f"{fld}_zh")] if fld == "category" else [p[fld]]
            return Resolved(_alt(*[_flex(v) for v in values if v]), str(p[fld]))
        if fld in ("price", "stock", "rating"):
            if p.get(fld) is None:
                raise BenchmarkError(f"product {pid} has no {fld}")
            value = float(p[fld])
            return Resolved(number_regex(value), money_literal(value) if fld == "price" else str(p[fld]))
        if fld in ("accessories", "compatible"):
            found = [n for q in p[fld] for n in self._product_names(q)]
            if not found:
                raise BenchmarkError(f"product {pid} has no {fld} in the catalog")
            return Resolved(_alt(*[_flex(n) for n in found]), self.products[p[fld][0]]["name"])
        if fld == "attr" and more:
            attr = p["attributes"].get(more[0])
            if attr is None:
                raise BenchmarkError(f"product {pid} has no attribute {more[0]!r} (it has {sorted(p['attributes'])})")
            return self._attribute(pid, more[0], attr, more[1:])
        raise BenchmarkError(f"unknown product field {':'.join(args[1:])!r}")

    def _attribute(self, pid: str, key: str, attr: dict[str, Any], more: list[str]) -> Resolved:
        value, unit = attr["value"], attr.get("unit")
        if isinstance(value, list):
            if more:
                if not more[0].isdigit() or not 1 <= int(more[0]) <= len(value):
                    raise BenchmarkError(f"{pid} {key} has {len(value)} values: use :1..{len(value)}")
                value = value[int(more[0]) - 1]
            else:
                return Resolved(_alt(*[_flex(v) for v in value]), str(value[0]))
        if isinstance(value, bool):
            raise BenchmarkError(f"{pid} {key} is a yes/no attribute: write its fact as a regex "
                                 f"(e.g. its label and a yes), not a placeholder")
        if isinstance(value, (int, float)):
            units = _UNITS.get(unit, re.escape(unit)) if unit else ""
            num = number_regex(float(value))
            regex = rf"{num}\s*-?\s*(?:{units})(?![A-Za-z])" if units else num
            return Resolved(regex, f"{value:g} {unit}" if unit else f"{value:g}")
        return Resolved(_flex(value), str(value))

    def _customer(self, args: list[str]) -> Resolved:
        if len(args) < 2:
            raise BenchmarkError("customer placeholders are {customer:ID:FIELD}")
        cid, fld, more = args[0], args[1], args[2:]
        row = self._rows("SELECT * FROM customers WHERE customer_id = ?", cid)
        if not row:
            raise BenchmarkError(f"customer {cid} is not in the order database")
        if fld in ("name", "email", "phone", "address"):
            return Resolved(_flex(row[0][fld]), row[0][fld])
        orders = self._rows("SELECT order_id, status FROM orders WHERE customer_id = ? "
                            "ORDER BY placed_at DESC, order_id DESC", cid)
        if fld == "orders":
            return Resolved(_alt(*[re.escape(o["order_id"]) for o in orders]), orders[0]["order_id"] if orders else "")
        if fld == "latest_order":
            fld, more = "order", ["1"]
        if fld == "order":
            status = more[0] if more and not more[0].isdigit() else None
            nth = more[1 if status else 0] if len(more) > (1 if status else 0) else "1"
            pool = [o for o in orders if status is None or o["status"] == status]
            if not nth.isdigit() or not 1 <= int(nth) <= len(pool):
                raise BenchmarkError(f"customer {cid} has {len(pool)} order(s)"
                                     f"{f' with status {status}' if status else ''}, not a #{nth}")
            oid = pool[int(nth) - 1]["order_id"]
            return Resolved(re.escape(oid), oid)
        raise BenchmarkError(f"unknown customer field {fld!r}")

    def _policy(self, args: list[str]) -> Resolved:
        if len(args) != 1 or args[0] not in self.policies:
            raise BenchmarkError(f"unknown policy {':'.join(args)!r} (the store has {sorted(self.policies)})")
        value = self.policies[args[0]]
        if isinstance(value, bool):
            raise BenchmarkError(f"policy {args[0]} is yes/no: write its fact as a regex")
        if isinstance(value, (int, float)):
            return Resolved(number_regex(float(value)), f"{value:g}")
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
            lo, hi = (number_regex(float(v)) for v in value)
            return Resolved(rf"{lo}\s*(?:-|–|—|~|to|到|至)\s*{hi}", f"{value[0]:g}-{value[1]:g}")
        if isinstance(value, list):
            return Resolved(_alt(*[_flex(v) for v in value]), str(value[0]))
        return Resolved(_flex(value), str(value))

    def _store(self, args: list[str]) -> Resolved:
        if len(args) != 1 or not self.store.get(args[0]):
            raise BenchmarkError(f"unknown store field {':'.join(args)!r} (the store has {sorted(self.store)})")
        return Resolved(_flex(self.store[args[0]]), str(self.store[args[0]]))

    def _date(self, args: list[str]) -> Resolved:
        m = re.fullmatch(r"today(?:([+-])(\d+))?", ":".join(args))
        if not m:
            raise BenchmarkError("date placeholders are {date:today}, {date:today+N}, {date:today-N}")
        shift = int(m.group(2) or 0) * (-1 if m.group(1) == "-" else 1)
        day = self.today + timedelta(days=shift)
        return Resolved(date_regex(day, self.today), date_literal(day))


_PLACEHOLDER = re.compile(r"\{((?:order|product|customer|policy|store|date):[^{}\s]+)\}")
_VARIABLE = re.compile(r"\{\$([A-Za-z_][A-Za-z0-9_]*)\}")


def expand(text: str, facts: StoreFacts, variables: dict[str, str], *, literal: bool) -> str:
    """Replace ``{$var}`` by its value, then each placeholder by its regex (or literal)."""

    def var(m: re.Match) -> str:
        if m.group(1) not in variables:
            raise BenchmarkError(f"{{${m.group(1)}}} is not defined in the conversation's let")
        return variables[m.group(1)]

    text = _VARIABLE.sub(var, text)

    def sub(m: re.Match) -> str:
        resolved = facts.resolve(m.group(1))
        return resolved.literal if literal else resolved.regex

    return _PLACEHOLDER.sub(sub, text)


# --- conversations ----------------------------------------------------------------------------------

@dataclass
class Turn:
    user: str
    expect: dict[str, Any]
    said: str = ""  # the user text after placeholders
    checks: list[tuple[str, str, re.Pattern]] = field(default_factory=list)  # (kind, written, compiled)


@dataclass
class Conversation:
    id: str
    category: str
    language: str
    customer: str | None
    split: str
    path: Path
    turns: list[Turn]
    effects: list[dict[str, Any]]
    tags: list[str] = field(default_factory=list)
    let: dict[str, str] = field(default_factory=dict)
    every_turn: dict[str, Any] = field(default_factory=dict)


def _check_expect(expect: Any, where: str, problems: list[str]) -> None:
    if not isinstance(expect, dict) or not expect:
        problems.append(f"{where}: 'expect' must be a non-empty mapping")
        return
    unknown = set(expect) - _EXPECT_KEYS
    if unknown:
        problems.append(f"{where}: unknown expect keys {sorted(unknown)} (allowed: {sorted(_EXPECT_KEYS)})")
    for key in ("facts", "any_facts", "not"):
        if key in expect and not (isinstance(expect[key], list) and all(isinstance(x, str) for x in expect[key])):
            problems.append(f"{where}: {key} must be a list of strings")
    if "handoff" in expect and not isinstance(expect["handoff"], bool):
        problems.append(f"{where}: handoff must be true or false")
    if "language" in expect and expect["language"] not in ("en", "zh", "any"):
        problems.append(f"{where}: language must be en, zh or any")
    for key in ("intent", "route"):
        if key in expect and not (isinstance(expect[key], str) or
                                  (isinstance(expect[key], list) and all(isinstance(x, str) for x in expect[key]))):
            problems.append(f"{where}: {key} must be a string or a list of strings")


def load_set(folder: Path, *, splits: tuple[str, ...] = SPLITS) -> tuple[list[Conversation], list[str]]:
    """Every conversation of a set folder (``<folder>/<split>/<category>.yaml``) and the problems found."""
    conversations, problems, seen = [], [], {}
    for split in splits:
        for path in sorted((folder / split).glob("*.y*ml")):
            rel = path.relative_to(folder)
            try:
                doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as exc:
                problems.append(f"{rel}: cannot read: {exc}")
                continue
            if path.stem not in CATEGORIES:
                problems.append(f"{rel}: the file name must be a category ({', '.join(CATEGORIES)})")
            raw_list = doc.get("conversations") if isinstance(doc, dict) else None
            if not isinstance(raw_list, list) or not raw_list:
                problems.append(f"{rel}: expected a non-empty 'conversations' list")
                continue
            for n, raw in enumerate(raw_list, 1):
                conv = _parse(raw, f"{rel} #{n}", split, path, problems)
                if conv is None:
                    continue
                if conv.id in seen:
                    problems.append(f"{rel}: id {conv.id!r} is also used in {seen[conv.id]}")
                seen[conv.id] = rel
                if conv.category != path.stem:
                    problems.append(f"{rel} {conv.id}: category {conv.category!r} belongs in {conv.category}.yaml")
                conversations.append(conv)
    return conversations, problems


def _parse(raw: Any, where: str, split: str, path: Path, problems: list[str]) -> Conversation | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        problems.append(f"{where}: each conversation needs an 'id'")
        return None
    where = f"{path.parent.name}/{path.name} {raw['id']}"
    before = len(problems)
    unknown = set(raw) - _CONV_KEYS
    if unknown:
        problems.append(f"{where}: unknown keys {sorted(unknown)}")
    if raw.get("category") not in CATEGORIES:
        problems.append(f"{where}: category {raw.get('category')!r} is not one of {', '.join(CATEGORIES)}")
    if raw.get("language") not in LANGUAGES:
        problems.append(f"{where}: language must be one of {LANGUAGES}")
    customer = raw.get("customer")
    if customer is not None and not isinstance(customer, str):
        problems.append(f"{where}: customer must be a customer id (quoted) or null")
    turns_raw = raw.get("turns")
    if not isinstance(turns_raw, list) or not 2 <= len(turns_raw) <= 8:
        problems.append(f"{where}: 'turns' must list 2 to 8 turns")
        turns_raw = turns_raw if isinstance(turns_raw, list) else []
    turns = []
    for i, t in enumerate(turns_raw, 1):
        if not isinstance(t, dict) or not isinstance(t.get("user"), str) or set(t) - {"user", "expect"}:
            problems.append(f"{where} turn {i}: a turn is {{user: TEXT, expect: {{...}}}}")
            continue
        _check_expect(t.get("expect"), f"{where} turn {i}", problems)
        turns.append(Turn(t["user"], dict(t.get("expect") or {})))
    every = raw.get("every_turn") or {}
    if every:
        _check_expect(every, f"{where} every_turn", problems)
    effects = raw.get("effects")
    if effects is None:
        effects = [{"no_writes": True}]
    elif isinstance(effects, dict):
        effects = [effects]
    if not isinstance(effects, list) or not all(isinstance(e, dict) for e in effects):
        problems.append(f"{where}: effects must be a mapping or a list of mappings")
        effects = []
    for e in effects:
        if set(e) - _EFFECT_KEYS:
            problems.append(f"{where}: unknown effect keys {sorted(set(e) - _EFFECT_KEYS)}")
        if "order" not in e and set(e) - {"no_writes", "writes", "note"}:
            problems.append(f"{where}: effect {e} needs an 'order'")
    let = raw.get("let") or {}
    if not isinstance(let, dict) or not all(isinstance(v, str) for v in let.values()):
        problems.append(f"{where}: let maps names to placeholder strings")
        let = {}
    tags = raw.get("tags") or []
    if len(problems) > before:
        return None
    return Conversation(raw["id"], raw["category"], raw["language"], customer, split, path, turns, effects,
                        [str(t) for t in tags], {str(k): str(v) for k, v in let.items()}, dict(every))


def prepare(conversations: list[Conversation], facts: StoreFacts) -> list[str]:
    """Resolve every placeholder and compile every regex; returns the problems found."""
    problems = []
    customers = {r[0] for r in facts.db.execute("SELECT customer_id FROM customers")}
    for conv in conversations:
        where = f"{conv.split}/{conv.category}.yaml {conv.id}"
        if conv.customer is not None and conv.customer not in customers:
            problems.append(f"{where}: customer {conv.customer} is not in the order database")
        try:
            variables = {name: expand(value, facts, {}, literal=True) for name, value in conv.let.items()}
            for e in conv.effects:
                if "order" in e:
                    e["order"] = expand(str(e["order"]), facts, variables, literal=True)
                if "address" in e:
                    e["address_re"] = re.compile(expand(str(e["address"]), facts, variables, literal=False), re.I)
        except (BenchmarkError, re.error) as exc:
            problems.append(f"{where}: {exc}")
            continue
        for n, turn in enumerate(conv.turns, 1):
            try:
                turn.said = expand(turn.user, facts, variables, literal=True)
                turn.checks = []
                for kind in ("facts", "any_facts", "not"):
                    for written in [*turn.expect.get(kind, []), *conv.every_turn.get(kind, [])]:
                        turn.checks.append((kind, written, re.compile(expand(written, facts, variables, literal=False),
                                                                      re.I)))
            except re.error as exc:
                problems.append(f"{where} turn {n}: bad regex: {exc}")
            except BenchmarkError as exc:
                problems.append(f"{where} turn {n}: {exc}")
    return problems


# --- checking ---------------------------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def reply_language(text: str) -> str:
    """``zh`` when CJK characters are at least half of CJK characters plus Latin words, else ``en``."""
    cjk = len(_CJK.findall(text))
    words = len(re.findall(r"[A-Za-z]+", text))
    return "zh" if cjk and cjk >= words else "en"


def check_turn(conv: Conversation, turn: Turn, reply: Any) -> list[str]:
    """The checks ``reply`` fails, each as one line."""
    text = reply.text or ""
    failed = []
    if not text.strip():
        failed.append("empty reply")
    for pattern, what in _ALWAYS_NOT:
        if re.search(pattern, text):
            failed.append(f"always: the reply shows {what}")
    any_checks = [c for c in turn.checks if c[0] == "any_facts"]
    for kind, written, compiled in turn.checks:
        if kind == "facts" and not compiled.search(text):
            failed.append(f"facts: no match for {written!r}")
        elif kind == "not" and compiled.search(text):
            failed.append(f"not: matched {written!r} ({compiled.search(text).group(0)!r})")
    if any_checks and not any(c[2].search(text) for c in any_checks):
        failed.append(f"any_facts: none of {[c[1] for c in any_checks]!r}")
    expect = {**conv.every_turn, **turn.expect}
    language = expect.get("language", conv.language if conv.language in ("en", "zh") else "any")
    if language != "any" and reply_language(text) != language:
        failed.append(f"language: expected {language}, got {reply_language(text)}")
    if "handoff" in expect and bool(reply.handoff) != expect["handoff"]:
        failed.append(f"handoff: expected {expect['handoff']}, got {bool(reply.handoff)}")
    for key in ("intent", "route"):
        if key in expect:
            wanted = expect[key] if isinstance(expect[key], list) else [expect[key]]
            if getattr(reply, key) not in wanted:
                failed.append(f"{key}: expected {' or '.join(wanted)}, got {getattr(reply, key)}")
    return failed


_BUSINESS_TABLES = ("customers", "orders", "order_items", "shipments", "returns", "inventory")
_ORDER_TABLES = (("orders", "order_id"), ("order_items", "order_id"), ("shipments", "order_id"), ("returns", "order_id"))


def _table(conn: sqlite3.Connection, table: str, where: str = "", *args: Any) -> list[tuple]:
    return sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {table} {where}", args))


def check_effects(conv: Conversation, live: sqlite3.Connection, snap: sqlite3.Connection) -> list[str]:
    """The effect checks the order database fails after ``conv``."""
    failed = []
    audit = live.execute("SELECT action, target FROM audit").fetchall()
    for e in conv.effects:
        oid = e.get("order")
        if e.get("no_writes"):
            keys = live.execute("SELECT COUNT(*) FROM idempotency").fetchone()[0]
            changed = [t for t in _BUSINESS_TABLES if _table(live, t) != _table(snap, t)]
            if audit or keys or changed:
                failed.append(f"effects: expected no writes, found {len(audit)} audit row(s) "
                              f"{[f'{a} {t}' for a, t in audit]}, changed tables {changed}")
        if "writes" in e:
            mine = [a for a in audit if oid is None or a[1] == oid]
            if len(mine) != e["writes"]:
                failed.append(f"effects: expected {e['writes']} write(s){f' on {oid}' if oid else ''}, found "
                              f"{len(mine)} {[f'{a} {t}' for a, t in mine]}")
        if oid is None:
            continue
        row = live.execute("SELECT status, shipping_address FROM orders WHERE order_id = ?", (oid,)).fetchone()
        if row is None:
            failed.append(f"effects: order {oid} is missing")
            continue
        if "status" in e and row[0] != e["status"]:
            failed.append(f"effects: order {oid} is {row[0]}, expected {e['status']}")
        if e.get("unchanged"):
            diff = [t for t, col in _ORDER_TABLES if _table(live, t, f"WHERE {col} = ?", oid)
                    != _table(snap, t, f"WHERE {col} = ?", oid)]
            if diff:
                failed.append(f"effects: order {oid} changed in {diff}")
        if "new_returns" in e:
            count = lambda c: c.execute("SELECT COUNT(*) FROM returns WHERE order_id = ?", (oid,)).fetchone()[0]  # noqa: E731
            if count(live) - count(snap) != e["new_returns"]:
                failed.append(f"effects: order {oid} has {count(live) - count(snap)} new return(s), "
                              f"expected {e['new_returns']}")
        if "address_re" in e and not e["address_re"].search(row[1]):
            failed.append(f"effects: order {oid} ships to {row[1]!r}, expected {e['address']!r}")
    return failed


# --- running ----------------------------------------------------------------------------------------

@dataclass
class Workspace:
    """A store and an engine for one run: the store is a private copy, its database restorable."""

    engine: Any
    facts: StoreFacts
    db_path: Path
    snapshot: sqlite3.Connection
    live: sqlite3.Connection
    root: Path

    def restore(self) -> None:
        """Put the order database back as it was when the run started."""
        self.snapshot.backup(self.live)

    def close(self) -> None:
        self.live.close()
        self.snapshot.close()
        self.facts.db.close()


def _demo_facts(set_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    path = set_dir / "store.yaml"
    if not path.is_file():
        raise BenchmarkError(f"{path} is missing: a set states its store's policies there")
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(doc.get("policies") or {}), {"name": doc.get("name"), **(doc.get("support") or {})}


def _kit_order_db(store: Path, work: Path) -> str:
    """Load the kit's trial data (relative days from today) into ``work/orders.db``; its URL."""
    from knowledge.kit import KitInvalid, read_kit
    from knowledge.kit.trial import load_trial_data

    try:
        kit = read_kit(store)
    except KitInvalid as exc:
        raise BenchmarkError(str(exc)) from exc
    url = f"sqlite:///{work / 'orders.db'}"
    load_trial_data(kit, url, today=datetime.now(timezone.utc).date())
    return url


def open_workspace(*, set_dir: Path, store: Path | None, data_dir: Path, config: str | None,
                   work: Path) -> Workspace:
    """Build (or copy) the store under ``work``, build one engine on it, snapshot its order database."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from engine import Engine
    from engine.errors import ConfigError

    overrides: dict[str, Any] = {"data_dir": data_dir, "tracker": {"kind": "memory"}}
    if store is not None and (store / "store.yaml").is_file():
        kit = True
        overrides["store"] = {"kind": "kit", "root": store}
        # the kit's trial data in a private order database: the kit and its cached one stay untouched
        overrides["connectors"] = {"kind": "sql", "url": _kit_order_db(store, work)}
    else:
        from knowledge.demo import build_demo_store

        kit = False
        root = work / "store"
        if store is None:
            build_demo_store(root)
        elif (store / "manifest.json").is_file():
            shutil.copytree(store, root, ignore=shutil.ignore_patterns(".build.lock", "indexes"))
        else:
            raise BenchmarkError(f"{store} is neither a store kit (store.yaml) nor a built demo store (manifest.json)")
        overrides["store"] = {"root": root}
    try:
        engine = Engine.from_config(config, **overrides)
    except ConfigError as exc:
        if kit:
            raise BenchmarkError(f"this engine cannot load the store kit {store}: {exc}") from exc
        raise
    engine.warm_up()
    url = str(getattr(engine.orders, "url", "") or "")
    if not url.startswith("sqlite:///"):
        raise BenchmarkError(f"the engine's order connector is {engine.orders!r}: the benchmark needs a SQLite one "
                             "(to copy its database before each conversation)")
    db_path = Path(url.removeprefix("sqlite:///"))
    live = sqlite3.connect(db_path, timeout=10)
    snapshot = sqlite3.connect(":memory:")
    live.backup(snapshot)
    read = sqlite3.connect(":memory:")
    live.backup(read)
    read.row_factory = sqlite3.Row
    built = read.execute("SELECT value FROM meta WHERE key = 'built_on'").fetchone()
    today = date.fromisoformat(built[0]) if built else datetime.now(timezone.utc).date()
    if kit:
        doc = yaml.safe_load((store / "store.yaml").read_text(encoding="utf-8")) or {}
        policies = dict(doc.get("policies") or {})
        info = {"name": doc.get("name"), **{k: v for k, v in (doc.get("support") or {}).items() if isinstance(v, str)}}
        products = StoreFacts.kit_products(store / "catalog.csv")
    else:
        policies, info = _demo_facts(set_dir)
        products = StoreFacts.demo_products(Path(overrides["store"]["root"]) / "catalog.json")
    facts = StoreFacts(products, read, policies, info, today)
    return Workspace(engine, facts, db_path, snapshot, live, work)


@dataclass
class TurnResult:
    conversation: str
    category: str
    language: str
    split: str
    n: int
    said: str
    reply: str
    intent: str
    route: str
    handoff: bool
    ms: float
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures


def run_conversation(ws: Workspace, conv: Conversation, run_id: str) -> list[TurnResult]:
    ws.restore()
    session = f"bench-{run_id}-{conv.id}"
    results = []
    for n, turn in enumerate(conv.turns, 1):
        started = time.perf_counter()
        reply = ws.engine.respond(session, turn.said, customer_id=conv.customer)
        ms = (time.perf_counter() - started) * 1000
        results.append(TurnResult(conv.id, conv.category, conv.language, conv.split, n, turn.said, reply.text,
                                  reply.intent, reply.route, bool(reply.handoff), round(ms, 2),
                                  check_turn(conv, turn, reply)))
    # effects are the conversation's outcome: a failure counts against its last turn
    results[-1].failures.extend(check_effects(conv, ws.live, ws.snapshot))
    return results


def _rate(rows: list[TurnResult]) -> str:
    ok = sum(r.passed for r in rows)
    return f"{ok / len(rows):6.1%}  ({ok}/{len(rows)})" if rows else "     -"


def summarize(results: list[TurnResult]) -> dict[str, Any]:
    def block(rows: list[TurnResult]) -> dict[str, Any]:
        ok = sum(r.passed for r in rows)
        return {"turns": len(rows), "passed": ok, "pass_rate": round(ok / len(rows), 4) if rows else None}

    groups: dict[str, dict[str, list[TurnResult]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        groups["category"][r.category].append(r)
        groups["language"][r.language].append(r)
        groups["split"][r.split].append(r)
        groups["position"]["first" if r.n == 1 else "follow_up"].append(r)
        for f in r.failures:
            groups["failed_check"][f.split(":", 1)[0]].append(r)
    out = {"all": block(results)}
    for name, by in groups.items():
        out[name] = {k: block(v) if name != "failed_check" else len(v) for k, v in sorted(by.items())}
    convs = defaultdict(list)
    for r in results:
        convs[r.conversation].append(r.passed)
    out["conversations"] = {"total": len(convs), "all_turns_passed": sum(all(v) for v in convs.values())}
    return out


def print_report(results: list[TurnResult], show: str, out=sys.stdout) -> None:
    shown = [r for r in results if show == "all" or (show == "failed" and not r.passed)]
    for r in shown:
        mark = "ok  " if r.passed else "FAIL"
        print(f"\n{mark} {r.conversation} turn {r.n} [{r.category}, {r.language}, {r.split}]", file=out)
        print(f"  said:  {r.said}", file=out)
        print(f"  reply: {r.reply[:400]}  ({r.intent}, {r.route}{', handoff' if r.handoff else ''})", file=out)
        for f in r.failures:
            print(f"  - {f[:300]}", file=out)
    print("\npass rate over turns", file=out)
    for title, key in (("category", lambda r: r.category), ("language", lambda r: r.language),
                       ("split", lambda r: r.split), ("turn", lambda r: "first" if r.n == 1 else "follow-up")):
        by = defaultdict(list)
        for r in results:
            by[key(r)].append(r)
        print(f"  by {title}:", file=out)
        for name in sorted(by):
            print(f"    {name:24s} {_rate(by[name])}", file=out)
    print(f"  {'all':26s} {_rate(results)}", file=out)


def run(*, set_name: str = "demo", splits: tuple[str, ...] = SPLITS, only: set[str] | None = None,
        ids: set[str] | None = None, store: Path | None = None, data_dir: Path | None = None,
        config: str | None = None, check_only: bool = False, log=sys.stderr) -> dict[str, Any]:
    """Load, prepare and run a set; returns the summary, the turn results and the timings."""
    set_dir = DATA / set_name
    if not set_dir.is_dir():
        raise BenchmarkError(f"no conversation set {set_dir}")
    conversations, problems = load_set(set_dir, splits=splits)
    if only:
        unknown = only - set(CATEGORIES)
        if unknown:
            raise BenchmarkError(f"unknown categories {sorted(unknown)}")
        conversations = [c for c in conversations if c.category in only]
    if ids:
        conversations = [c for c in conversations if c.id in ids]
    started = time.perf_counter()
    data_dir = Path(data_dir or Path.home() / ".cache" / "shopassist-bench" / "conversations")
    work = Path(tempfile.mkdtemp(prefix="shopassist-conv-"))
    try:
        if check_only:
            from knowledge.demo import build_demo_store

            if store is not None and (store / "store.yaml").is_file():
                db = sqlite3.connect(_kit_order_db(store, work).removeprefix("sqlite:///"))
                db.row_factory = sqlite3.Row
                doc = yaml.safe_load((store / "store.yaml").read_text(encoding="utf-8")) or {}
                info = {"name": doc.get("name"),
                        **{k: v for k, v in (doc.get("support") or {}).items() if isinstance(v, str)}}
                built_on = db.execute("SELECT value FROM meta WHERE key = 'built_on'").fetchone()[0]
                facts = StoreFacts(StoreFacts.kit_products(store / "catalog.csv"), db,
                                   dict(doc.get("policies") or {}), info, date.fromisoformat(built_on))
                problems += prepare(conversations, facts)
                db.close()
                return {"problems": problems, "conversations": len(conversations),
                        "turns": sum(len(c.turns) for c in conversations)}
            built = build_demo_store(work / "store") if store is None else None
            root = built.root if built else store
            db = sqlite3.connect(f"file:{root / 'store.db'}?mode=ro", uri=True)
            db.row_factory = sqlite3.Row
            policies, info = _demo_facts(set_dir)
            built_on = db.execute("SELECT value FROM meta WHERE key = 'built_on'").fetchone()[0]
            facts = StoreFacts(StoreFacts.demo_products(root / "catalog.json"), db, policies, info,
                               date.fromisoformat(built_on))
            problems += prepare(conversations, facts)
            db.close()
            return {"problems": problems, "conversations": len(conversations),
                    "turns": sum(len(c.turns) for c in conversations)}
        print(f"building the store and the engine (models cached in {data_dir}) ...", file=log)
        ws = open_workspace(set_dir=set_dir, store=store, data_dir=data_dir, config=config, work=work)
        try:
            problems += prepare(conversations, ws.facts)
            if problems:
                return {"problems": problems}
            ready = time.perf_counter()
            print(f"ready in {ready - started:.1f} s; {len(conversations)} conversations, "
                  f"{sum(len(c.turns) for c in conversations)} turns", file=log)
            run_id = uuid.uuid4().hex[:8]
            results = [r for conv in conversations for r in run_conversation(ws, conv, run_id)]
            finished = time.perf_counter()
            return {"problems": [], "results": results, "summary": summarize(results),
                    "built_on": ws.facts.today.isoformat(), "set": set_name, "splits": list(splits),
                    "timing": {"setup_s": round(ready - started, 2), "turns_s": round(finished - ready, 2),
                               "mean_turn_ms": round(sum(r.ms for r in results) / max(1, len(results)), 2)}}
        finally:
            ws.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="a store kit folder (store.yaml) or a built demo store "
                        "(manifest.json; copied, never written); default: a fresh demo store")
    parser.add_argument("--set", default="demo", help="conversation set under benchmarks/conversations/ (default demo)")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--only", help="comma-separated categories")
    parser.add_argument("--id", help="comma-separated conversation ids")
    parser.add_argument("--json", type=Path, help="write the summary and every turn here")
    parser.add_argument("--show", choices=("failed", "all", "none"), default="failed", help="which turns to print")
    parser.add_argument("--data-dir", type=Path, help="engine data dir for cached models "
                        "(default ~/.cache/shopassist-bench/conversations)")
    parser.add_argument("--config", help="engine config YAML (default configs/default.yaml)")
    parser.add_argument("--check", action="store_true", help="validate the files and placeholders; run nothing")
    args = parser.parse_args(argv)
    splits = SPLITS if args.split == "all" else (args.split,)
    only = {c.strip() for c in args.only.split(",") if c.strip()} if args.only else None
    ids = {c.strip() for c in args.id.split(",") if c.strip()} if args.id else None
    try:
        out = run(set_name=args.set, splits=splits, only=only, ids=ids, store=args.store, data_dir=args.data_dir,
                  config=args.config, check_only=args.check)
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if out["problems"]:
        for p in out["problems"]:
            print(f"invalid: {p}", file=sys.stderr)
        print(f"{len(out['problems'])} problem(s) in the conversation files", file=sys.stderr)
        return 2
    if args.check:
        print(f"{out['conversations']} conversations, {out['turns']} turns: valid")
        return 0
    results = out["results"]
    print_report(results, args.show)
    t = out["timing"]
    print(f"\nset {out['set']} built for {out['built_on']}; setup {t['setup_s']} s, turns {t['turns_s']} s "
          f"({t['mean_turn_ms']} ms a turn); conversations fully right: "
          f"{out['summary']['conversations']['all_turns_passed']}/{out['summary']['conversations']['total']}")
    if args.json:
        sys.path.insert(0, str(HERE))
        from _common import machine

        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine(), **{k: v for k, v in out.items() if k != "results"},
                                         "turns": [vars(r) | {"passed": r.passed} for r in results]},
                                        indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    passed = sum(r.passed for r in results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
