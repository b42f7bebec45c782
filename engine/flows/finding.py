"""Which of the customer's orders a turn is about, and which order request its words make.

A shopper rarely types an order number: "the toaster one", "got 979.99 back", "my last order",
"why only $16.99 back?". :class:`OrderFinder` reads such words against the customer's own recent
orders (their lines as :mod:`engine.flows.items` describes them, their totals, lines and refunds)
and, where the intent classifier named no order request, against the request words of the
language ("send it back", "退", "取消"). Only words and the customer's data decide; ownership stays
with the connector, which is asked for the acting customer's orders only.

Example:
    >>> finder = OrderFinder(backend, product=catalog.get, handles=flows.handles, fits=flows_fits)  # doctest: +SKIP
    >>> finder.find("cancel_order", turn)                                                          # doctest: +SKIP
    ('100329', [])
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from connectors.base import ConnectorUnavailable, InvalidOrderId, Order, OrderNotFound

from .base import Turn
from .items import amounts_in, item_infos, mentions, pick_lines

__all__ = ["CUES", "OrderFinder", "holds", "item_count", "request_in"]

_LATEST_RE = re.compile(r"\b(?:last|latest|most recent|newest|recent)\b (?:order|purchase|one)|上次|"
                        r"最近(?:一|的)?(?:单|次|个订单)|"
                        r"最新(?:的)?(?:订单|一单)|刚买的|刚下的", re.IGNORECASE | re.ASCII)


# What the customer asks to do with their order, in the language's own words: read only where the
# intent classifier did not name an order request (a turn routed to a look-up by its order id, or
# no order intent at all) and the words name one of the customer's orders or its items.
_CUES = (
    ("refund_status", re.compile(r"\brefund|money back|\bgot\b.{0,20}\bback\b|\bonly\b.{0,25}\bback\b|"
                                 r"\bdid i (?:get|receive)\b.{0,20}\bback\b|\bhow much (?:\w+ ){0,2}(?:would|will|do|does|could|can) i get (?:\w+ ){0,3}back\b|"
                                 r"\bwhere'?s the rest|\bhit my (?:account|card|bank)|\bwent back to my|\brejected\b|"
                                 r"退款|退钱|钱.{0,6}退|退了多少|怎么才退|只退了|到账|被拒", re.IGNORECASE | re.ASCII)),
    ("change_address", re.compile(r"\baddress\b|\bship(?:s|ped)?\b.{0,30}\bto\b\s*\d|where .{0,30}\bships\b|"
                                  r"地址|改寄|寄到.{0,4}\d|送到.{0,4}\d", re.IGNORECASE | re.ASCII)),
    ("cancel_order", re.compile(r"\bcancel|\bremove\b|\bdelete\b|\btake\b.{0,20}\boff\b|取消|删掉|删除|去掉|"
                                r"不要了", re.IGNORECASE | re.ASCII)),
    ("request_replacement", re.compile(r"\breplace(?:ment)?\b|\bexchange\b|\bsend (?:me )?(?:a |an )?(?:new|another|"
                                       r"replacement|fresh)\b|换(?:个|一个|一台|一件|新|货)|寄个新|寄一个新|补发|重新(?:寄|发)",
                                       re.IGNORECASE | re.ASCII)),
    ("return_item", re.compile(r"\breturn|send (?:\w+ ){0,2}back|\bbring\b.{0,20}\bback|"
                               r"退(?!款|钱|回(?:到)?(?:我|原|银行|信用|卡|账|支付))|退货", re.IGNORECASE | re.ASCII)),
    ("track_order", re.compile(r"\bship(?:ped)? (?:together|separately|with)|same (?:box|package|parcel|shipment)|"
                               r"\btracking\b|签收|一起发|分开发|到了吗|到哪了|啥时候到|什么时候到", re.IGNORECASE | re.ASCII)),
)
_MONEY_RE = re.compile(r"how much|\bmoney\b|\bback\b.{0,10}\$|\bwhen\b|\bwhere\b|多少|钱|多久|哪天|哪里|哪儿|哪了|回哪|"
                       r"到哪|什么时候|几天", re.IGNORECASE | re.ASCII)


_CUE = CUES = dict(_CUES)  # intent -> the words that ask for it
_HOW_MUCH_RE = re.compile(r"how much|多少钱|能退多少|退多少", re.IGNORECASE)
_FOLLOW_UPS = ("track_order", "refund_status", "return_item")  # may go on with the conversation's order
_IF_RE = re.compile(r"\b(?:if|suppose|in case)\b|如果|要是|假如|万一", re.IGNORECASE | re.ASCII)


# an order told by how many things it holds: "the one with three things in it", "the 2-item order",
# "三件东西的那单", "有两样的那个"
_COUNT_RE = re.compile(
    r"\bwith (one|two|three|four|five|[1-9]) (?:things|items|products|pieces|bits)\b|"
    r"\b(one|two|three|four|five|[1-9])[- ]item (?:one|order)\b|"
    r"(一|两|二|三|四|五|[1-9])(?:件|样)(?:东西|商品|货)?的(?:那个|那单|那笔|订单|那一单)|有(一|两|二|三|四|五|[1-9])(?:件|样)(?:东西|商品)?的",
    re.IGNORECASE)
_COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5}


def item_count(text: str) -> int | None:
    """How many things the words say an order holds ("the one with three things in it": 3), or None."""
    m = _COUNT_RE.search(text)
    if m is None:
        return None
    word = next(g for g in m.groups() if g)
    return int(word) if word.isdigit() else _COUNT_WORDS[word.lower()]


def holds(order: Order, count: int) -> bool:
    """Whether ``order`` holds ``count`` things (as lines or as units)."""
    return count in (len(order.items), sum(i.quantity for i in order.items))


def makes_request(text: str, intent: str) -> bool:
    """Whether the words make the order request ``intent`` ("退吧": ``return_item``); a question
    about money ("退到哪了", "how much back") makes no return, and a "what if" makes no request."""
    rx = _CUE.get(intent)
    if _IF_RE.search(text) or (intent == "return_item" and _MONEY_RE.search(text)):
        return False  # "and if I return both?" asks what would happen
    return bool(rx is not None and rx.search(text))


def request_in(text: str) -> str | None:
    """The order request the words make ("send it back": ``return_item``), or None."""
    for intent, rx in _CUES:
        if rx.search(text):
            return intent
    return None


def _amount_of(order: Order, amount: float) -> bool:
    """``amount`` is the order's total, one of its lines (a unit or the line) or one of its refunds."""
    near = lambda v: v is not None and abs(float(v) - amount) < 0.005  # noqa: E731
    return (near(order.total) or any(near(i.unit_price) or near(i.unit_price * i.quantity) for i in order.items)
            or any(near(r.refund_amount) for r in order.returns))




class OrderFinder:
    """Finds the order a turn is about among the customer's recent orders.

    Args:
        orders: the order connector (``list_orders``, ``get_order`` for the acting customer).
        product: product id -> catalog product (names in every language), or None.
        handles: whether an intent is an order request the flows run.
        fits: whether an intent can act on an order (to choose among orders the words fit alike).
    """

    def __init__(self, orders: Any, *, product: Callable[[str], Any] | None, handles: Callable[[str], bool],
                 fits: Callable[[str, Order], bool]) -> None:
        self._orders = orders
        self._product = product
        self._handles = handles
        self._fits = fits

    def find(self, intent: str, turn: Turn) -> tuple[str | None, list[Order]]:
        """The order the customer's words point at among their recent orders: the items they name
        (catalog-linked products, names, categories, in any of the store's languages), an amount
        they quote (a total, a line, a refund), "my last order". Returns ``(order id, [])`` when one
        order fits (several: the one this request can act on, when only one can), ``(None,
        candidates)`` when several fit, ``(None, [])`` when the words name none."""
        text, ents = turn.nlu.text, turn.nlu.entities
        try:
            recent = self._orders.list_orders(turn.actor, limit=20)
        except ConnectorUnavailable:
            return None, []
        if not recent:
            return None, []
        scored = [(mentions(text, item_infos(o, self._product), ents.product_ids), o) for o in recent]
        top = max(s for s, _ in scored)
        named = [o for s, o in scored if s and s == top]
        amounts = amounts_in(text)
        if amounts:
            by_amount = [o for o in (named or recent) if any(_amount_of(o, a) for a in amounts)]
            named = by_amount or named
        if not named and _LATEST_RE.search(text):
            named = recent[:1]
        count = None if named else item_count(text)
        if count is not None:  # "the one with three things in it", "三件的那单"
            named = [o for o in recent if holds(o, count)]
        if not named:
            return None, []
        if len(named) > 1:
            fit = [o for o in named if self._fits(intent, o)]
            if intent == "refund_status" and any(o.returns for o in fit):
                fit = [o for o in fit if o.returns]
            named = fit or named
        if len(named) == 1:
            return named[0].order_id, []
        return None, named[:3]

    def with_returns(self, turn: Turn) -> tuple[str | None, list[Order]]:
        """"Any news on my refund?": the one recent order with a return, or those with one."""
        try:
            recent = self._orders.list_orders(turn.actor, limit=20)
        except ConnectorUnavailable:
            return None, []
        mine = [o for o in recent if o.returns]
        return (mine[0].order_id, []) if len(mine) == 1 else (None, mine[:3])

    def only_fit(self, intent: str, turn: Turn) -> tuple[str | None, list[Order]]:
        """"Cancel my order": the one recent order the change can act on, or those it can (None, [] if none)."""
        try:
            recent = self._orders.list_orders(turn.actor, limit=10)
        except ConnectorUnavailable:
            return None, []
        fit = [o for o in recent if self._fits(intent, o)]
        if len(fit) == 1:
            return fit[0].order_id, []
        return None, fit[:3]

    def claim(self, turn: Turn) -> str | None:
        """The order request a turn the classifier gave no order intent makes about the customer's
        own order ("why only $16.99 back?", "the kettle, can I send it back"), or None: it needs
        the request's words and an order it names (by id, by its items, by an amount)."""
        if turn.actor.role != "customer":
            return None
        intent = request_in(turn.nlu.text)
        if intent is None and turn.state.slots.get("order_id") and amounts_in(turn.nlu.text):
            # "when did the 979.99 go out": an amount of the order the conversation is about
            try:
                order = self._orders.get_order(turn.actor, turn.state.slots["order_id"])
            except (ConnectorUnavailable, OrderNotFound, InvalidOrderId):
                return None
            refunds = [r.refund_amount for r in order.returns if r.refund_amount is not None]
            hit = any(abs(a - x) < 0.005 for a in amounts_in(turn.nlu.text) for x in refunds)
            return "refund_status" if hit and self._handles("refund_status") else None
        if intent is None or not self._handles(intent):
            return None
        if intent == "return_item" and _HOW_MUCH_RE.search(turn.nlu.text) and self._handles("refund_status"):
            intent = "refund_status"  # "how much do I get back if I send it back": what it would refund
        if turn.nlu.entities.order_ids:
            return intent
        found, candidates = self.find(intent, turn)
        if found is not None or candidates:
            return intent
        # "那啥时候到", "send one back": a follow-up about the order the conversation is on; never a
        # change on it ("if I cancel something, ..." is a question, not a request about that order)
        follow_up = intent in _FOLLOW_UPS and not _IF_RE.search(turn.nlu.text)
        return intent if follow_up and turn.state.slots.get("order_id") and turn.state.active_flow is None else None

    def names_own_order(self, intent: str, turn: Turn) -> bool:
        """Whether the words point at one or more of the customer's own orders (the items they
        name, an amount, "my last order"; for a refund question, orders with returns), so that the
        order's data answers rather than a general FAQ."""
        if turn.actor.role != "customer" or not self._handles(intent):
            return False
        found, candidates = self.find(intent, turn)
        if found is not None or candidates:
            return True
        if intent == "refund_status" and not turn.state.slots.get("order_id"):
            try:  # "where's my refund?": their orders say whether there is one, and where it stands
                return bool(self._orders.list_orders(turn.actor, limit=1))
            except ConnectorUnavailable:
                return False
        return False

    def redirect(self, intent: str, turn: Turn) -> str:
        """An order look-up reached by its order id alone (the classifier named no order request),
        or a refund question that asks to send an item back: the request the words make."""
        cue = request_in(turn.nlu.text)
        if intent == "track_order" and cue and cue != intent and self._handles(cue) \
                and not _IF_RE.search(turn.nlu.text) \
                and (turn.intent != intent or not _CUE["track_order"].search(turn.nlu.text)):
            return cue  # "can I return the camera? it hasn't arrived yet": a return question
        return intent

    def wants_return(self, intent: str, order: Order, turn: Turn) -> str:
        """A refund question that asks to send back items no return holds yet ("那灯泡我也想退了"):
        the return request; any other: ``intent``."""
        text = turn.nlu.text
        if intent != "refund_status" or not self._handles("return_item") or _MONEY_RE.search(text) \
                or _CUE["refund_status"].search(text) or not _CUE["return_item"].search(text):
            return intent
        pick = pick_lines(text, item_infos(order, self._product), turn.nlu.entities.product_ids)
        held = {line.product_id for r in order.returns if r.status != "rejected" for line in r.items}
        fresh = [i for i in pick.indexes if order.items[i].product_id not in held]
        return "return_item" if fresh and not pick.all and all(r.items for r in order.returns) else intent

    def wants_refund(self, intent: str, order: Order, turn: Turn) -> str:
        """A return request that asks when or where the money of a refunded return went ("退回哪了"):
        the refund look-up; any other: ``intent``."""
        text = turn.nlu.text
        if intent == "return_item" and not order.returns and _HOW_MUCH_RE.search(text) \
                and self._handles("refund_status") and not self._fits(intent, order):
            return "refund_status"  # not returnable yet (on its way): what a return would refund
        if intent != "return_item" or not self._handles("refund_status") or not order.returns \
                or not (_MONEY_RE.search(text) or _CUE["refund_status"].search(text)):
            return intent
        pick = pick_lines(text, item_infos(order, self._product), turn.nlu.entities.product_ids)
        held = {line.product_id for r in order.returns if r.status != "rejected" for line in r.items}
        fresh = [i for i in pick.indexes if order.items[i].product_id not in held and not pick.all]
        return intent if fresh else "refund_status"
