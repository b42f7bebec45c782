"""Returns and refunds at the item level: which items a return takes back, what they refund, and
why a refund was only part of what was paid.

Everything here is read from the customer's own order: its lines (what was paid for each), its
returns (which lines each took back, refunded or not) and the store's return rule per line
(:func:`knowledge.kernel.policies.item_verdicts`: each line's window from its own delivery, the
categories the store does not take back, units already in a return). Which items the customer
means comes from :mod:`engine.flows.items`. A refused return is never followed by refund timing.

Example:
    >>> returns = ItemReturns(templates, currency_symbol="$")           # doctest: +SKIP
    >>> returns.refund_status(order, turn).text                          # doctest: +SKIP
    'Order 100037 (you paid $148.98): $29.99 for Nexcell Dual 30 Wall Charger (return R10012, ...'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from knowledge.kernel.policies import ItemVerdict, item_verdicts, line_refund, return_verdict

from .base import Decision, Turn
from .items import ItemInfo, LinePick, item_infos, pick_lines, units_said

__all__ = ["ItemReturns", "fmt_date", "non_returnable_by_category", "says_opened", "says_unopened", "weighs_return"]

_HOW_MUCH_RE = re.compile(r"how much|多少|几块|几钱", re.IGNORECASE)
# a return the customer is weighing, not one that exists: "and if I return both?", "都退的话呢", "那两个都退呢"
_IF_RETURNED_RE = re.compile(r"\bif (?:i|we) (?:return|send back|sent back|returned)\b|\b(?:what|how) about (?:returning|sending)\b|"
                             r"要是(?:都|全)?退|如果(?:都|全)?退|退的话|退[^。，,？?！!]{0,6}呢",
                             re.IGNORECASE)


def weighs_return(text: str) -> bool:
    """Whether the words weigh a return that does not exist yet ("and if I return both?", "都退的话呢")."""
    return bool(_IF_RETURNED_RE.search(text))


_UNITS_RE = re.compile(r"\b(one|a single|two|three)\b(?! of (?:them|those) (?:all|both))|(一|两|三)(?:个|件|双|台|只|副)",
                       re.IGNORECASE | re.ASCII)
_UNIT_WORDS = {"one": 1, "a single": 1, "two": 2, "three": 3, "一": 1, "两": 2, "三": 3}


def _units_in(text: str) -> int | None:
    m = _UNITS_RE.search(text)
    return _UNIT_WORDS.get((m.group(1) or m.group(2)).lower()) if m else None


_RETURN_STATUS_ZH = {"requested": "已申请", "approved": "已批准", "received": "仓库已收货",
                     "refunded": "已退款", "rejected": "未通过"}


def fmt_date(d: date | datetime | None, lang: str) -> str:
    if d is None:
        return "未知" if lang == "zh" else "unknown"
    if lang == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d:%b} {d.day}, {d.year}"


class ItemReturns:
    """The item-level parts of the return flow and the refund look-up.

    Args:
        templates: reply wording (:class:`engine.responses.templates.Templates`).
        currency_symbol: put before amounts (the store's currency).
        window_days: the store's return window.
        today: the store's clock.
        product: product id -> catalog product (names in other languages, category), or None.
        non_returnable: product id -> True when the store does not take it back.
        sealed_only: product id -> True when the store takes it back only unopened and unused.
        names: ``(product id, lang) -> name`` in the customer's language, or None.
    """

    def __init__(self, templates: Any, *, currency_symbol: str, window_days: int, today: Callable[[], date],
                 product: Callable[[str], Any] | None = None, non_returnable: Callable[[str], bool] | None = None,
                 sealed_only: Callable[[str], bool] | None = None,
                 names: Callable[[str, str], str | None] | None = None) -> None:
        self._sealed_only = sealed_only
        self._t = templates
        self._cur = currency_symbol
        self._window = window_days
        self._today = today
        self._product = product
        self._non_returnable = non_returnable
        self._names = names

    # -- wording --------------------------------------------------------------------------------
    def money(self, amount: float) -> str:
        return f"{self._cur}{amount:,.2f}"

    def name(self, product_id: str, fallback: str, lang: str) -> str:
        return (self._names(product_id, lang) if self._names else None) or fallback

    def lines_text(self, order: Any, pairs: list[tuple[str, int]], lang: str) -> str:
        """"Aurora X200 Charging Case (2 units)" / "Aurora X200 充电盒×2", joined."""
        by_id = {i.product_id: i for i in order.items}
        parts = []
        for pid, qty in pairs:
            item = by_id.get(pid)
            label = self.name(pid, item.name if item else pid, lang)
            if item is not None and item.quantity > 1:
                label += f"×{qty}" if lang == "zh" else f" ({qty} of {item.quantity})"
            parts.append(label)
        if lang == "zh":
            return "、".join(parts)
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

    def _why(self, v: ItemVerdict, lang: str) -> str:
        category = ""
        p = self._product(v.product_id) if self._product else None
        if p is not None:
            category = p.text("category", lang) if hasattr(p, "text") else getattr(p, "category", "")
        return self._t.render(f"item_why_{v.reason}", lang, window=self._window,
                              deadline=fmt_date(v.deadline, lang), category=category or v.name)

    # -- the return flow -------------------------------------------------------------------------
    def verdicts(self, order: Any, text: str = "") -> tuple[ItemVerdict, ...]:
        """Each line's return verdict; ``text`` (the customer's words) may say the items were
        opened or used, which the store's sealed-only categories do not take back."""
        opened = self._sealed_only if self._sealed_only is not None and says_opened(text) else None
        return item_verdicts(order, self._today(), self._window, self._non_returnable, opened)

    def infos(self, order: Any, verdicts: tuple[ItemVerdict, ...] | None = None) -> list[ItemInfo]:
        quantities = {v.product_id: v.returnable for v in verdicts} if verdicts is not None else None
        return item_infos(order, self._product, quantities)

    def pick(self, order: Any, turn: Turn, infos: list[ItemInfo] | None = None) -> LinePick:
        return pick_lines(turn.nlu.text, infos if infos is not None else self.infos(order),
                          turn.nlu.entities.product_ids)

    def plan(self, order: Any, turn: Turn) -> dict[str, Any]:
        """What a return request on ``order`` means, read against its lines.

        Returns a dict: ``refusal`` (text: nothing named may be returned, or the store takes none
        of it back), or ``preset`` (slot values for the flow: the lines chosen, or None to ask
        which), ``intro`` (text before the first question) and ``items`` (the lines' names).
        """
        lang = turn.lang
        verdicts = self.verdicts(order, turn.nlu.text)
        if not verdicts:
            return {}
        pick = self.pick(order, turn, self.infos(order))
        named = [i for i in pick.indexes if not (pick.all and not verdicts[i].eligible)]
        bad = [i for i in named if not verdicts[i].eligible]
        ok = [i for i in named if verdicts[i].eligible]
        eligible = [i for i, v in enumerate(verdicts) if v.eligible]
        notes = [self._t.render("return_item_refused", lang, order_id=order.order_id,
                                lines=self.name(verdicts[i].product_id, verdicts[i].name, lang),
                                why=self._why(verdicts[i], lang)) for i in bad]
        if (bad and not ok) or (not eligible and all(v.reason in ("non_returnable", "opened") for v in verdicts)):
            if not bad:
                notes = [self._t.render("return_item_refused", lang, order_id=order.order_id,
                                        lines=self.name(v.product_id, v.name, lang), why=self._why(v, lang))
                         for v in verdicts]
            return {"refusal": ("" if lang == "zh" else " ").join(notes)}
        if not eligible:
            return {}  # the order-level refusal (the spec's templates) says why
        quantities = dict(zip(pick.indexes, pick.quantities))
        chosen = ok or (eligible if len(eligible) == 1 else [])
        if not ok and len(eligible) == 1 and not pick.all:
            quantities[eligible[0]] = units_said(turn.nlu.text)  # "那没拆的那一罐呢": one of the line's units
        choices = ("；" if lang == "zh" else "; ").join(
            f"{self.name(verdicts[i].product_id, verdicts[i].name, lang)} "
            f"({self.money(line_refund(order, verdicts[i].product_id, verdicts[i].returnable))})" for i in eligible)
        preset: dict[str, Any] = {"return_choices": choices, "return_lines": None}
        intro = ""
        items = self.lines_text(order, [(v.product_id, v.ordered) for v in verdicts], lang)
        if chosen:
            values = self.chosen(order, verdicts, {i: quantities.get(i) for i in chosen}, lang)
            preset.update(values)
            items = values["return_summary"]
            first = min((verdicts[i] for i in chosen), key=lambda v: v.deadline or date.max)
            intro = self._t.render("return_items_window", lang, order_id=order.order_id, lines=items,
                                   deadline=fmt_date(first.deadline, lang), days_left=first.days_left,
                                   amount=values["return_amount"])
        joined = "".join(notes + [intro]) if lang == "zh" else " ".join(notes + [intro]).strip()
        return {"preset": preset, "intro": joined, "items": items}

    def chosen(self, order: Any, verdicts: tuple[ItemVerdict, ...], picked: dict[int, int | None],
               lang: str) -> dict[str, Any]:
        """The slot values of the lines ``picked`` (index -> units asked, None: all left)."""
        pairs = []
        for i, qty in picked.items():
            v = verdicts[i]
            units = min(qty, v.returnable) if qty else v.returnable
            pairs.append((v.product_id, max(1, units)))
        amount = round(sum(line_refund(order, pid, qty) for pid, qty in pairs), 2)
        whole = not order.returns and sorted(pairs) == sorted((i.product_id, i.quantity) for i in order.items)
        # the whole order: no lines in the request, which any backend understands
        return {"return_lines": [] if whole else [[pid, qty] for pid, qty in pairs],
                "return_summary": self.lines_text(order, pairs, lang),
                "return_amount": self.money(amount), "order_items": self.lines_text(order, pairs, lang)}

    def answer(self, order: Any, turn: Turn) -> dict[str, Any] | None:
        """The slot values of the items an answer to "which items?" names, or None."""
        verdicts = self.verdicts(order, turn.nlu.text)
        eligible = [i for i, v in enumerate(verdicts) if v.eligible]
        if not eligible:
            return None
        infos = self.infos(order, verdicts)
        pick = self.pick(order, turn, [infos[i] for i in eligible])
        if not pick.indexes:
            return None
        picked = {eligible[j]: q for j, q in zip(pick.indexes, pick.quantities)}
        values = self.chosen(order, verdicts, picked, turn.lang)
        first = min((verdicts[i] for i in picked), key=lambda v: v.deadline or date.max)
        values["_intro"] = self._t.render("return_items_window", turn.lang, order_id=order.order_id,
                                          lines=values["return_summary"], deadline=fmt_date(first.deadline, turn.lang),
                                          days_left=first.days_left, amount=values["return_amount"])
        return values

    # -- refunds ---------------------------------------------------------------------------------
    def refund_status(self, order: Any, turn: Turn) -> Decision | None:
        """Where the refunds of ``order`` stand, line by line, and why only part was refunded; or
        what returning the items the customer names would refund. None: the plain answer fits
        (one line, at most one return)."""
        lang = turn.lang
        if not order.items:
            return None
        pending = self._pending(order, turn)
        pick = self.pick(order, turn) if pending or not order.returns else LinePick()
        if pending and _HOW_MUCH_RE.search(turn.nlu.text) and not pick.indexes:
            # "how much will I get back for it?" while the return of these lines waits for its
            # reason or its yes: what that return refunds
            amount = round(sum(line_refund(order, pid, qty) for pid, qty in pending), 2)
            return Decision(self._t.render("refund_prospective", lang, order_id=order.order_id,
                                           lines=self.lines_text(order, pending, lang), amount=self.money(amount)),
                            "flow")
        if not order.returns:
            if not pick.indexes and _HOW_MUCH_RE.search(turn.nlu.text):
                pick = self._implied(order, turn)
            weighing = bool(_HOW_MUCH_RE.search(turn.nlu.text) or _IF_RETURNED_RE.search(turn.nlu.text))
            if not pick.indexes or (pick.all and not (weighing and len(order.items) > 1)):
                return None
            units = _units_in(turn.nlu.text) if len(pick.indexes) == 1 else None  # "send one back"
            pairs = [(order.items[i].product_id, q or (units if units and units < order.items[i].quantity
                                                        else order.items[i].quantity))
                     for i, q in zip(pick.indexes, pick.quantities)]
            amount = round(sum(line_refund(order, pid, qty) for pid, qty in pairs), 2)
            return Decision(self._t.render("refund_prospective", lang, order_id=order.order_id,
                                           lines=self.lines_text(order, pairs, lang), amount=self.money(amount)),
                            "flow")
        if len(order.items) == 1 and len(order.returns) == 1 and order.returns[0].status != "rejected":
            return None
        pieces, taken = self._pieces(order, lang)
        sep = "；" if lang == "zh" else "; "
        text = self._t.render("refund_items_summary", lang, order_id=order.order_id,
                              total=self.money(float(order.total)), returns=sep.join(pieces))
        kept = [(i.product_id, i.quantity - taken.get(i.product_id, 0)) for i in order.items
                if i.quantity - taken.get(i.product_id, 0) > 0]
        if kept and taken:
            text += ("" if lang == "zh" else " ") + self._t.render(
                "refund_items_kept", lang, kept=self.lines_text(order, kept, lang))
        if any(r.status != "rejected" for r in order.returns):
            text += ("" if lang == "zh" else " ") + self._t.render("refund_items_where", lang)
        return Decision(text, "flow")

    @staticmethod
    def _pending(order: Any, turn: Turn) -> list[tuple[str, int]]:
        """The lines of a return of ``order`` the conversation is in the middle of (chosen, not yet
        written): [] when there is none."""
        slots = turn.state.slots
        if turn.state.active_flow != "return_item" or str(slots.get("order_id") or "") != str(order.order_id):
            return []
        lines = slots.get("return_lines")
        if lines is None:
            return []  # the items are not chosen yet
        if not lines:  # the whole order
            return [(i.product_id, i.quantity) for i in order.items]
        return [(str(pid), int(qty)) for pid, qty in lines]

    @staticmethod
    def _implied(order: Any, turn: Turn) -> LinePick:
        """"How much do I get back for one?" naming no item: the order's only line, or its only line
        of several units when a number of units is said."""
        if len(order.items) == 1:
            return LinePick((0,), (None,))
        said = pick_lines(turn.nlu.text, [ItemInfo(i.product_id, "", i.quantity) for i in order.items])
        units = next((q for q in said.quantities if q), None) or _units_in(turn.nlu.text)
        several = [n for n, i in enumerate(order.items) if i.quantity > 1]
        if units and len(several) == 1 and units < order.items[several[0]].quantity:
            return LinePick((several[0],), (units,))
        return LinePick()

    def brief(self, order: Any, lang: str) -> str:
        """One order's returns in a clause each ("$29.99 for X (return R10012, refunded on ...)")."""
        return ("；" if lang == "zh" else "; ").join(self._pieces(order, lang)[0])

    def _pieces(self, order: Any, lang: str) -> tuple[list[str], dict[str, int]]:
        pieces = []
        taken: dict[str, int] = {}
        for r in order.returns:
            pairs = [(line.product_id, line.quantity) for line in r.items] or \
                [(i.product_id, i.quantity) for i in order.items]
            if r.status != "rejected":
                for pid, qty in pairs:
                    taken[pid] = taken.get(pid, 0) + qty
            lines = self.lines_text(order, pairs, lang)
            estimate = sum((line.amount if line.amount is not None else line_refund(order, line.product_id,
                                                                                     line.quantity))
                           for line in r.items) if r.items else float(order.total)
            status = _RETURN_STATUS_ZH.get(r.status, r.status) if lang == "zh" else r.status
            if r.status == "refunded":
                key, amount = "refund_line_done", r.refund_amount if r.refund_amount is not None else estimate
            elif r.status == "rejected":
                key, amount = "refund_line_rejected", 0.0
            else:
                key, amount = "refund_line_pending", estimate
            pieces.append(self._t.render(key, lang, lines=lines, return_id=r.return_id, amount=self.money(amount),
                                         refunded=fmt_date(r.refunded_at, lang), return_status=status))
        return pieces, taken

    def refused_only(self, order: Any) -> bool:
        """The order's latest return was refused and nothing else is open or refunded."""
        return bool(order.returns) and all(r.status == "rejected" for r in order.returns)

    def whole_order_verdict(self, order: Any) -> Any:
        return return_verdict(order, self._today(), self._window, self._non_returnable)


# the customer's words say the item was opened or used ("拆开喝了一泡", "I opened it and tried some"),
# not that it was not ("没拆封", "still sealed", "unopened")
_OPENED_RE = re.compile(r"\b(?:opened|unsealed|used|worn|tried (?:it|them|some|a bit)|drank|brewed|tasted|washed)\b|"
                        r"拆(?:开|封|了)|开封|开了|打开了|喝了|泡了|用过|用了|穿过|洗过|试过|尝了", re.IGNORECASE)
_NOT_OPENED_RE = re.compile(r"\b(?:un(?:opened|used|worn)|not (?:been )?(?:opened|used|worn)|never (?:opened|used|worn)|"
                            r"(?:hasn.?t|haven.?t|didn.?t|wasn.?t) (?:been )?(?:opened|used|worn|open)|still sealed|sealed)\b|"
                            r"(?:没|未|还没|没有)(?:拆|开封|开|打开|喝|泡|用|穿|洗|试|尝)", re.IGNORECASE)


def says_opened(text: str) -> bool:
    """Whether the words say the item was opened or used ("龙井拆开喝了一泡", "I opened it")."""
    return bool(text) and bool(_OPENED_RE.search(text)) and not _NOT_OPENED_RE.search(text)


def says_unopened(text: str) -> bool:
    """Whether the words are about an item not opened or used ("那没拆的那一罐呢", "the sealed one")."""
    return bool(text) and bool(_NOT_OPENED_RE.search(text))


def non_returnable_by_category(categories: Any, product: Callable[[str], Any]) -> Callable[[str], bool] | None:
    """The store's ``non_returnable_categories`` policy as ``product id -> True when not taken back``
    (also its ``sealed_only_categories``, as ``True when taken back only unopened``): a product
    whose category (in any language the catalog gives) is one of them. None: no such policy."""
    names = {str(c).strip().casefold() for c in categories or () if str(c).strip()}
    if not names:
        return None

    def refused(product_id: str) -> bool:
        p = product(product_id)
        if p is None:
            return False
        cats = {str(getattr(p, "category", "")).casefold()}
        cats |= {str(t.get("category", "")).casefold() for t in (getattr(p, "translations", {}) or {}).values()}
        return bool(cats & names)

    return refused
