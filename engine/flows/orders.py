"""Order flows: the order look-ups (track an order, refund status) and the write flows.

All calls go through the connectors with the acting customer, so ownership is enforced by the
connector; a foreign order reads exactly like a missing one. The write flows (cancel, return,
change the address, replacement, ...) are the :class:`engine.flows.specs.FlowSpec` definitions:
this module resolves the order, checks it against the spec's eligibility rule and answers a
refusal with the spec's template; :mod:`engine.flows.writes` then asks what is missing, confirms
explicitly and only then calls the connector, once. With a backend that lacks a flow's method
the request is handed to an agent instead. An order status is only ever stated from the
connector's answer. Intents are dispatched through a table (the look-ups by name, every flow
spec by its name), never by attribute lookup.

Example:
    >>> flows = OrderFlows(order_service, Templates(store="Brightcart"))   # doctest: +SKIP
    >>> flows.handle("track_order", turn).text                              # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone

from connectors.base import (
    ConnectorUnavailable,
    InvalidOrderId,
    Order,
    OrderNotFound,
    OrderService,
)
from engine.nlu.confirm import Confirmation
from engine.responses.templates import Templates
from engine.state.events import FlowCompleted, FlowStarted, SlotSet
from engine.types import Source

from .base import Decision, Turn, pick_listed
from .finding import OrderFinder, makes_request
from .items import item_infos, pick_lines
from .returns import ItemReturns, fmt_date
from .specs import FLOWS, Eligibility, FlowSpec, SlotSpec, extract_reason
from .writes import WriteSteps

__all__ = ["OrderFlows"]

# what an order came to: "how much did I pay for it", "what did that come to in total", "一共花了多少钱"
_PAID_RE = re.compile(
    r"\bhow much (?:did|have) (?:i|we) (?:pay|paid|spend|spent|get charged)\b|"
    r"\bhow much (?:was|were|did) (?:it|that|this|they|that one|this one|it all|(?:the |that |this |my )?(?:whole )?order"
    r"(?: (?:no\.?|number|#)?\s*[\w-]*\d[\w-]*)?)"
    r"(?: (?:cost|come to|total|in total|altogether|all together))?\s*(?:[?.!]|$)|"
    r"\b(?:what|how much) did (?:it|that|this|that one|this one|they|it all|i|(?:the |that |my )?order(?: #?\s*[\w-]*\d[\w-]*)?) "
    r"(?:come to|cost(?: me)?|add up to|total|pay)\b|\border total\b|\btotal (?:of|for|on) (?:the|that|this|my) order\b|"
    r"\bwhat was the total\b|(?:一共|总共|总计|合计|加起来)(?:花了|付了|是|要)?多少(?:钱)?|(?:花|付)了多少(?:钱)?|实付(?:了)?多少",
    re.IGNORECASE)
# the slot keeping a money question while the bot asks which order it is about
_ASKED_PAID = "asked_paid"
# where an order is, asked outright ("the laptop one, where is it?"): no money question
_WHERE_RE = re.compile(r"\b(?:where|when|track\w*|arriv\w*|deliver\w*|ship\w*|status)\b|到哪|什么时候|物流|快递|发货|状态",
                       re.IGNORECASE)
_SHIPMENT_STATUS = {
    "en": {"label_created": "label created", "in_transit": "in transit",
           "out_for_delivery": "out for delivery", "delivered": "delivered"},
    "zh": {"label_created": "已打单", "in_transit": "运输中", "out_for_delivery": "派送中",
           "delivered": "已签收"},
}
_ORDER_STATUS_ZH = {"processing": "备货中", "shipped": "已发货", "delivered": "已送达",
                    "cancelled": "已取消", "returned": "已退货"}
_RETURN_STATUS_ZH = {"requested": "已申请", "approved": "已批准", "received": "仓库已收货",
                     "refunded": "已退款", "rejected": "已拒绝"}




def _items(order: Order, lang: str, product_names: Callable[[str, str], str | None] | None = None) -> str:
    names = [(product_names(i.product_id, lang) if product_names else None) or i.name for i in order.items]
    names = [(f"{n}×{i.quantity}" if lang == "zh" else f"{i.quantity} × {n}") if i.quantity > 1 else n
             for n, i in zip(names, order.items)]
    if len(names) <= 2:
        return ("、" if lang == "zh" else " and ").join(names)
    more = len(names) - 2
    return f"{'、'.join(names[:2])}等{len(names)}件" if lang == "zh" else f"{', '.join(names[:2])} and {more} more"


def _today() -> date:
    return datetime.now(timezone.utc).date()


_ITEMS_STEP = "items"  # the step of a flow that asks which of the order's items


class OrderFlows:
    """Handles the order intents for one engine.

    Args:
        orders: the order connector.
        templates: reply templates.
        return_window_days: days after delivery a return is accepted.
        today: clock used for return windows (injectable for tests).
        flows: the write flow definitions (default :data:`engine.flows.specs.FLOWS`).
        product_names: a product's name in a language from the catalog (a store kit's ``name:<lang>``),
            or None to keep the name the order records.
        product: product id -> the catalog's product (its names in every language, category,
            aliases), so that "the kettle" / "水壶" finds the order line; None: the order's names only.
        non_returnable: product id -> True for what the store does not take back (its
            non-returnable categories, the catalog's ``returnable`` flag); None: everything.
        sealed_only: product id -> True for what the store takes back only unopened and unused
            (its ``sealed_only_categories``); None: nothing.
        names_kind: whether a text (in a language) names a kind of product the catalog sells
            ("return the laptop"), so that a change naming an item none of the customer's orders
            holds is never put on the one order it could act on; None: product ids only.
    """

    def __init__(
        self,
        orders: OrderService,
        templates: Templates,
        *,
        return_window_days: int = 30,
        today: Callable[[], date] = _today,
        currency_symbol: str = "$",
        max_reasks: int = 3,
        flows: Mapping[str, FlowSpec] | None = None,
        product_names: Callable[[str, str], str | None] | None = None,
        product: Callable[[str], object] | None = None,
        non_returnable: Callable[[str], bool] | None = None,
        sealed_only: Callable[[str], bool] | None = None,
        names_kind: Callable[[str, str], bool] | None = None,
    ) -> None:
        if return_window_days <= 0:
            raise ValueError(f"return_window_days must be > 0, got {return_window_days}")
        self._orders = orders
        self._t = templates
        self._product = product
        self._window = return_window_days
        self._today = today
        self._cur = currency_symbol
        self._names = product_names
        self._flows = FLOWS if flows is None else flows
        self._names_kind = names_kind
        self._writes = WriteSteps(orders, templates, max_reasks=max_reasks, flows=self._flows)
        self._finder = OrderFinder(orders, product=product, handles=self.handles, fits=self._fits)
        self._returns = ItemReturns(templates, currency_symbol=currency_symbol, window_days=return_window_days,
                                    today=today, product=product, non_returnable=non_returnable,
                                    sealed_only=sealed_only, names=product_names)
        # the look-ups, by intent; every write flow is dispatched by its spec (see _handler)
        self._reads: dict[str, Callable[[Order, Turn], Decision]] = {
            "track_order": self._track_order, "refund_status": self._refund_status}

    def handles(self, intent: str) -> bool:
        """True when ``intent`` is an order look-up or a write flow this instance runs."""
        return intent in self._reads or intent in self._flows

    def is_write(self, flow: str) -> bool:
        """True when ``flow`` is a write flow (it has steps; a look-up has none)."""
        return flow in self._flows

    @property
    def flow_slots(self) -> tuple[str, ...]:
        """The slots a waiting write flow owns: cleared when it ends, kept by a digression."""
        return self._writes.flow_slots

    def awaiting(self, flow: str, step: str | None) -> SlotSpec | None:
        """The slot ``flow`` waits for at ``step`` (None at the confirmation or a look-up)."""
        return self._writes.awaiting(flow, step)

    def confirmation(self, flow: str, turn: Turn) -> Confirmation:
        """The confirmation gate's verdict on this turn as an answer to ``flow``'s question."""
        return self._writes.confirmation(flow, turn)

    def contents(self, order_id: str, turn: Turn) -> Decision | None:
        """What the customer's order ``order_id`` holds, every line named ("what was in that one",
        "thats the screen protector right"); None when it cannot be read (the plain answer then)."""
        if turn.actor.role == "anonymous":
            return None
        try:
            order = self._orders.get_order(turn.actor, order_id)
        except (ConnectorUnavailable, OrderNotFound, InvalidOrderId):
            return None
        names = [self._returns.name(i.product_id, i.name, turn.lang) for i in order.items]
        lines = [(f"{n}×{i.quantity}" if turn.lang == "zh" else f"{i.quantity} × {n}") if i.quantity > 1 else n
                 for n, i in zip(names, order.items)]
        if not lines:
            return None
        sep = "、" if turn.lang == "zh" else "; "
        return Decision(self._t.render("order_contents", turn.lang, order_id=order.order_id, items=sep.join(lines)),
                        "flow", sources=[Source(id=order.order_id, kind="order", title=order.order_id)],
                        decided_by="track_order:contents")

    def reconcile(self, flow: str, turn: Turn) -> Decision | None:
        """Close a write flow whose confirmed write happened in a turn that was not recorded."""
        return self._writes.reconcile(flow, turn) if self._writes.supports(flow) else None

    def continue_flow(self, flow: str, turn: Turn) -> Decision:
        """Feed this turn to a write flow waiting on a reason, an address, which items or a yes/no."""
        slots = turn.state.slots
        if slots.get("flow_step") == _ITEMS_STEP and slots.get("order_id") and turn.intent != "deny":
            return self._items_answer(flow, turn)
        if (flow == "return_item" and slots.get("flow_step") and slots.get("order_id")
                and makes_request(turn.nlu.text, flow) and extract_reason(turn.nlu.text) is None):
            # "ok return both then" while the return waits for its reason or its yes: other items,
            # never the reason (the next step is asked again, for the items now named)
            changed = self._items_changed(flow, turn)
            if changed is not None:
                return changed
        return self._writes.advance(flow, turn)

    def _items_changed(self, flow: str, turn: Turn) -> Decision | None:
        """The return's items as the words now name them, when they name others than those it holds."""
        try:
            order = self._orders.get_order(turn.actor, turn.state.slots["order_id"])
        except (ConnectorUnavailable, OrderNotFound, InvalidOrderId):
            return None
        values = self._returns.answer(order, turn)
        if values is None or values.get("return_summary") == turn.state.slots.get("return_summary"):
            return None
        intro = values.pop("_intro", None)
        return self._writes.proceed(flow, turn, values, text=intro)

    def _items_answer(self, flow: str, turn: Turn) -> Decision:
        """An answer to "which items?": read against the order's lines, then on to the next step."""
        try:
            order = self._orders.get_order(turn.actor, turn.state.slots["order_id"])
        except ConnectorUnavailable:
            return Decision(self._t.render("service_unavailable", turn.lang), "handoff",
                            handoff_reason="order system unavailable", decided_by=f"{flow}:unavailable")
        except (OrderNotFound, InvalidOrderId):
            return self._writes.advance(flow, turn)
        values = self._returns.answer(order, turn)
        if values is None:  # asked again, the lines listed
            slots = turn.state.slots
            return self._writes.reask(flow, turn, self._t.render(
                "return_items_unclear", turn.lang, order_id=order.order_id, choices=slots.get("return_choices") or
                _items(order, turn.lang, self._names)))
        intro = values.pop("_intro", None)
        return self._writes.proceed(flow, turn, values, text=intro)

    def still_waiting(self, flow: str, turn: Turn) -> Decision:
        """The flow's waiting question again, as it stands ("the one with the laptop" when the
        address change is already on that order: yes, that one, and the new address?). At a
        return, words that name other items of it ("the air fryer one") change its items."""
        if flow == "return_item" and turn.state.slots.get("order_id"):
            changed = self._items_changed(flow, turn)
            if changed is not None:
                return changed
        return Decision(self.waiting_prompt(flow, turn), "flow", decided_by=f"{flow}:same_order", keep_flow=True)

    def waiting_prompt(self, flow: str, turn: Turn) -> str:
        """What the active flow is waiting for, to repeat after a digression."""
        if turn.state.slots.get("flow_step") and self._writes.supports(flow):  # a read flow has no steps
            question = self._writes.prompt(flow, turn)
        else:
            question = self._t.render("ask_order_id", turn.lang)
        return question

    def claim(self, turn: Turn) -> str | None:
        """The order request a turn the classifier gave no order intent makes about the customer's
        own order (see :meth:`engine.flows.finding.OrderFinder.claim`), or None."""
        return self._finder.claim(turn)

    def names_own_order(self, intent: str, turn: Turn) -> bool:
        """Whether the words point at the customer's own orders, so that their data answers
        rather than a general FAQ (see :meth:`engine.flows.finding.OrderFinder.names_own_order`)."""
        return self._finder.names_own_order(intent, turn)

    def handle(self, intent: str, turn: Turn) -> Decision:
        intent = self._finder.redirect(intent, turn)
        lang = turn.lang
        ents = turn.nlu.entities
        in_flow = turn.state.active_flow == intent
        order_id = ents.order_ids[0] if ents.order_ids else None
        if order_id is None and ents.malformed_order_ids:
            bad = ents.malformed_order_ids[0][:40]
            return self._ask(intent, turn, self._t.render("malformed_order_id", lang, order_id=bad))
        listed = turn.state.slots.get("listed_orders") or []
        if order_id is None:
            order_id = pick_listed(listed, ents.ordinal)  # "the second one" of the orders we listed
        if turn.actor.role == "anonymous":
            return Decision(self._t.render("sign_in_needed", lang), "flow", decided_by=f"{intent}:anonymous")
        candidates: list[Order] = []
        if order_id is None:  # "the toaster one", "got 979.99 back": the customer's own orders say which
            found, candidates = self._finder.find(intent, turn)
            order_id = found
        if order_id is None and not candidates:
            order_id = turn.state.slots.get("order_id")
        if order_id is None and not candidates and intent in self._flows:
            if self._names_item(turn):
                # "return the laptop" when no recent order holds one: never the one order the
                # change could act on (a smartwatch); their orders, to say which
                return self._ask_for_order(intent, turn, template="ask_order_item_missing")
            order_id, candidates = self._finder.only_fit(intent, turn)
        if order_id is None and not candidates and intent == "refund_status" and self._names_item(turn):
            # "when will I get the money for the pillow back" with no pillow in their orders: never
            # another order's return; their orders, to say which
            return self._ask_for_order(intent, turn, template="ask_order_item_missing")
        if order_id is None and not candidates and intent == "refund_status":
            order_id, candidates = self._finder.with_returns(turn)  # "any news on my refund?"
            none = self._no_returns(turn) if order_id is None and not candidates else None
            if none is not None:  # no return on any recent order
                return none
        if order_id is None:
            missing = not candidates and self._names_item(turn)  # "has my blender shipped?" with no blender ordered
            return self._ask_for_order(intent, turn, candidates,
                                       template="ask_order_item_missing" if missing else "ask_order_id_recent")
        try:
            order = self._orders.get_order(turn.actor, order_id)
        except InvalidOrderId:
            return self._ask(intent, turn, self._t.render("malformed_order_id", lang, order_id=order_id[:40]))
        except OrderNotFound:
            events = [SlotSet("order_id", None)]
            if in_flow:
                events.append(FlowCompleted(intent, outcome="failed"))
            return Decision(self._t.render("order_not_found", lang, order_id=order_id), "flow",
                            events=events, decided_by=f"{intent}:not_found")
        except ConnectorUnavailable:
            return Decision(self._t.render("service_unavailable", lang), "handoff",
                            handoff_reason="order system unavailable", decided_by=f"{intent}:unavailable")
        asked = intent
        intent = self._finder.wants_refund(self._finder.wants_return(intent, order, turn), order, turn)
        in_flow = turn.state.active_flow == intent
        events = [SlotSet("order_id", order.order_id)]
        if intent != asked and turn.state.active_flow == asked:  # the words asked for the other request
            events.append(FlowCompleted(asked, outcome="switched"))
        if order.items:
            events.append(SlotSet("product_id", order.items[0].product_id))
        if listed:
            events.append(SlotSet("listed_orders", None))
        decision = self._handler(intent)(order, turn)
        if turn.state.slots.get(_ASKED_PAID):
            events.append(SlotSet(_ASKED_PAID, None))  # answered (or another request came): asked no more
        if decision.keep_flow and not in_flow:
            events.append(FlowStarted(intent))
        elif not decision.keep_flow and in_flow:
            events.append(FlowCompleted(intent))
        decision.events = events + decision.events
        decision.sources.insert(0, Source(id=order.order_id, kind="order", title=f"Order {order.order_id}"))
        decision.decided_by = f"{intent}:{order.status}"
        return decision

    def _handler(self, intent: str) -> Callable[[Order, Turn], Decision]:
        read = self._reads.get(intent)
        if read is not None:
            return read
        spec = self._flows.get(intent)
        if spec is None:
            raise KeyError(f"no order look-up or flow named {intent!r}")
        return lambda order, turn: self._write(spec, order, turn)

    # -- asking ---------------------------------------------------------------------------
    def _ask(self, intent: str, turn: Turn, text: str) -> Decision:
        events = [] if turn.state.active_flow == intent else [FlowStarted(intent)]
        return Decision(text, "flow", events=events, decided_by=f"{intent}:ask")

    def _no_returns(self, turn: Turn) -> Decision | None:
        """The customer has recent orders and none has a return: say so, and when refunds come."""
        try:
            recent = self._orders.list_orders(turn.actor, limit=10)
        except ConnectorUnavailable:
            return None
        if not recent or any(o.returns for o in recent):
            return None
        lang = turn.lang
        text = self._t.render("refund_none_any", lang) + ("" if lang == "zh" else " ") + \
            self._t.render("refund_timing", lang)
        return Decision(text, "flow", decided_by="refund_status:no_returns")

    def _fits(self, intent: str, order: Order) -> bool:
        """Whether ``intent`` can act on ``order`` (to choose among orders the words fit alike)."""
        spec = self._flows.get(intent)
        if spec is not None:
            return spec.eligible(order, self._today(), self._window).ok
        if intent == "refund_status":
            return bool(order.returns) or order.status == "delivered"
        return True

    def list_recent(self, turn: Turn, *, limit: int = 5) -> Decision | None:
        """The signed-in customer's recent orders, each with what it holds and where it stands
        ("pull up my recent orders"); the next turn picks one. None for a guest."""
        if turn.actor.role == "anonymous" or not self.handles("track_order"):
            return None
        return self._ask_for_order("track_order", turn, template="orders_recent", limit=limit)

    def ask_other_order(self, intent: str, turn: Turn, exclude: str) -> Decision | None:
        """"No, I meant the other one" after an answer about order ``exclude``: the customer's
        other recent orders, to pick from (the next turn names one). None for a guest, or when
        there is no other order."""
        if turn.actor.role == "anonymous" or not self.handles(intent):
            return None
        try:
            recent = [o for o in self._orders.list_orders(turn.actor, limit=4) if o.order_id != exclude][:3]
        except ConnectorUnavailable:
            return None
        if not recent:
            return None
        decision = self._ask_for_order(intent, turn, recent)
        decision.events.append(SlotSet("order_id", None))
        return decision

    def _names_item(self, turn: Turn) -> bool:
        """Whether the message names a product (linked, or a kind the catalog sells)."""
        if turn.nlu.entities.product_ids:
            return True
        try:
            return self._names_kind is not None and bool(self._names_kind(turn.nlu.text, turn.lang))
        except Exception:  # noqa: BLE001 - a catalog that cannot read the sentence: names none
            return False

    def _ask_for_order(self, intent: str, turn: Turn, candidates: list[Order] | None = None, *,
                       template: str = "ask_order_id_recent", limit: int = 3) -> Decision:
        lang = turn.lang
        try:
            recent = candidates or self._orders.list_orders(turn.actor, limit=limit)
        except ConnectorUnavailable:
            recent = []
        extra = []
        if intent == "refund_status" and candidates and all(o.returns for o in candidates):
            sep = "；" if lang == "zh" else "; "
            listing = sep.join(f"{o.order_id}: {self._returns.brief(o, lang)}" for o in candidates)
            decision = self._ask(intent, turn, self._t.render("refund_overview", lang, orders=listing))
            decision.events.append(SlotSet("listed_orders", [o.order_id for o in candidates]))
            return decision
        if recent:
            extra = [SlotSet("listed_orders", [o.order_id for o in recent])]
            sep = "；" if lang == "zh" else "; "
            listing = sep.join(
                f"{o.order_id}（{_items(o, lang, self._names)}，{_ORDER_STATUS_ZH.get(o.status, o.status)}）" if lang == "zh"
                else f"{o.order_id} ({_items(o, lang, self._names)}, {o.status})"
                for o in recent
            )
            text = self._t.render(template, lang, orders=listing)
        else:
            text = self._t.render("ask_order_id", lang)
        decision = self._ask(intent, turn, text)
        decision.events.extend(extra)
        paid = intent == "track_order" and bool(_PAID_RE.search(turn.nlu.text))
        if paid or turn.state.slots.get(_ASKED_PAID):
            # "the one with 3 things, how much was it?" while two orders hold three: the order
            # picked next is asked what it came to, not where it is (any other ask forgets it)
            decision.events.append(SlotSet(_ASKED_PAID, True if paid else None))
        return decision

    # -- one method per intent ------------------------------------------------------------
    def _track_order(self, order: Order, turn: Turn) -> Decision:
        lang = turn.lang
        picked_for_paid = (turn.state.slots.get(_ASKED_PAID) and turn.state.active_flow == "track_order"
                           and not _WHERE_RE.search(turn.nlu.text))
        if (_PAID_RE.search(turn.nlu.text) or picked_for_paid) and order.items:
            return self._paid(order, turn)
        ship = order.shipment
        values = dict(order_id=order.order_id, items=_items(order, lang, self._names),
                      placed=fmt_date(order.placed_at, lang))
        if order.status in ("shipped", "delivered") and ship is not None:
            values.update(carrier=ship.carrier, tracking=ship.tracking_number,
                          shipment_status=_SHIPMENT_STATUS[lang].get(ship.status, ship.status),
                          eta=fmt_date(ship.estimated_delivery, lang),
                          delivered=fmt_date(ship.delivered_at, lang))
            key = "order_delivered" if order.status == "delivered" else "order_shipped"
        elif order.status in ("cancelled", "returned"):
            key = f"order_{order.status}"
        else:
            key = "order_processing"
        return Decision(self._t.render(key, lang, **values), "flow")

    def _paid(self, order: Order, turn: Turn) -> Decision:
        """What the order came to, line by line ("what did that come to in total", "一共花了多少"),
        with what was refunded of it: the order's own figures, never a policy."""
        lang = turn.lang
        money = self._returns.money
        names = [self._returns.name(i.product_id, i.name, lang) for i in order.items]
        lines = [(f"{n}×{i.quantity} {money(i.unit_price * i.quantity)}" if lang == "zh"
                  else f"{i.quantity} × {n} {money(i.unit_price * i.quantity)}") if i.quantity > 1 else f"{n} {money(i.unit_price)}"
                 for n, i in zip(names, order.items)]
        text = self._t.render("order_paid", lang, order_id=order.order_id, total=money(order.total),
                              lines=("、" if lang == "zh" else "; ").join(lines))
        extra = round(order.total - sum(i.unit_price * i.quantity for i in order.items), 2)
        sep = "" if lang == "zh" else " "
        if extra > 0:
            text += sep + self._t.render("order_paid_extra", lang, extra=money(extra))
        refunded = sum(r.refund_amount or 0.0 for r in order.returns if r.status == "refunded")
        if refunded > 0:
            text += sep + self._t.render("order_paid_refunded", lang, refunded=money(refunded))
        return Decision(text, "flow")

    def _refund_status(self, order: Order, turn: Turn) -> Decision:
        lang = turn.lang
        detailed = self._returns.refund_status(order, turn)  # several lines or returns: line by line
        if detailed is not None:
            return detailed
        if order.returns and order.returns[-1].status == "rejected":  # never a refund promise after a refusal
            r = order.returns[-1]
            return Decision(self._t.render("refund_line_rejected", lang, lines=_items(order, lang, self._names),
                                           return_id=r.return_id, amount="", refunded="", return_status=r.status),
                            "flow")
        status = _ORDER_STATUS_ZH.get(order.status, order.status) if lang == "zh" else order.status
        if not order.returns and order.status == "cancelled":  # paid, never shipped: the payment goes back
            return Decision(self._t.render("refund_cancelled", lang, order_id=order.order_id,
                                           amount=f"{self._cur}{order.total:,.2f}"), "flow")
        if not order.returns:
            text = self._t.render("refund_none", lang, order_id=order.order_id, status=status)
            return Decision(text + ("" if lang == "zh" else " ") + self._t.render("refund_timing", lang), "flow")
        r = order.returns[-1]
        if r.status == "refunded" and r.refunded_at is not None:
            amount = f"{self._cur}{(r.refund_amount or order.total):,.2f}"
            return Decision(self._t.render("refund_done", lang, order_id=order.order_id, amount=amount,
                                           refunded=fmt_date(r.refunded_at, lang)), "flow")
        rstatus = _RETURN_STATUS_ZH.get(r.status, r.status) if lang == "zh" else r.status
        return Decision(self._t.render("refund_pending", lang, order_id=order.order_id, return_status=rstatus), "flow")

    def _status_verb(self, order: Order, lang: str) -> str:
        if lang == "zh":
            return _ORDER_STATUS_ZH.get(order.status, order.status).removeprefix("已")
        return {"shipped": "shipped", "delivered": "been delivered", "cancelled": "been cancelled",
                "returned": "been returned"}.get(order.status, order.status)

    def _write(self, spec: FlowSpec, order: Order, turn: Turn) -> Decision:
        """A write flow on a resolved order: refuse it (the spec's template for the eligibility
        verdict), hand it to an agent (no connector method), or start its first step."""
        lang = turn.lang
        verdict = spec.eligible(order, self._today(), self._window)
        values = self._values(order, lang, verdict)
        by_item = any(s.step == _ITEMS_STEP for s in spec.slots)
        plan = self._returns.plan(order, turn) if by_item else {}
        if "refusal" in plan:  # the items named may not go back: say which and why, from the order
            return Decision(plan["refusal"], "flow", decided_by=f"{spec.name}:item_refused")
        if not verdict.ok:
            key = spec.refusals.get(verdict.reason, "write_refused")
            shipped = f"{key}_shipped"  # on its way: neither cancel nor return yet, say what comes next
            if order.status == "shipped" and self._t.has(shipped):
                key = shipped
            return Decision(self._t.render(key, lang, reason=verdict.reason, **values), "flow")
        if not self._writes.supports(spec.name):
            return Decision(self._t.render(spec.unsupported, lang, **values), "handoff",
                            handoff_reason=spec.handoff_reason.format(flow=spec.name, order_id=order.order_id))
        sep = "" if lang == "zh" else " "
        if by_item:  # a flow on some of the order's items
            if plan:
                decision = self._writes.start(spec.name, turn, order.order_id, plan["items"], preset=plan["preset"])
                intro = plan["intro"] or (self._t.render(spec.intro, lang, **values) if spec.intro else "")
                decision.text = (intro + sep + decision.text).strip()
                return decision
        decision = self._writes.start(spec.name, turn, order.order_id, values["items"],
                                      preset={s.slot: [] for s in spec.slots if s.step == _ITEMS_STEP})
        if spec.intro:
            decision.text = self._t.render(spec.intro, lang, **values) + sep + decision.text
        if spec.name == "cancel_order" and len(order.items) > 1:
            pick = pick_lines(turn.nlu.text, item_infos(order, self._product), turn.nlu.entities.product_ids)
            if pick.indexes and not pick.all and len(pick.indexes) < len(order.items):  # "just the phone"
                decision.text = self._t.render("cancel_whole_only", lang, **values) + sep + decision.text
        return decision

    def _values(self, order: Order, lang: str, verdict: Eligibility) -> dict:
        """What a flow's refusal, intro or hand-off template may say about the order."""
        values = dict(order_id=order.order_id, items=_items(order, lang, self._names), window=self._window,
                      status=_ORDER_STATUS_ZH.get(order.status, order.status) if lang == "zh" else order.status,
                      status_verb=self._status_verb(order, lang), delivered=fmt_date(order.delivered_at, lang),
                      deadline=fmt_date(verdict.deadline, lang), days_left=verdict.days_left)
        if verdict.blocking is not None:  # an open return
            r = verdict.blocking
            values.update(return_status=_RETURN_STATUS_ZH.get(r.status, r.status) if lang == "zh" else r.status,
                          opened=fmt_date(r.created_at, lang))
        if order.shipment is not None:
            values.update(carrier=order.shipment.carrier, tracking=order.shipment.tracking_number)
        return values
