"""Typed definitions of the write flows: what each one needs from the order, what it asks, how it
reads and checks the answers, what it confirms, and which connector call it makes.

A flow runs in three phases: the order is resolved by :mod:`engine.flows.orders` (ownership) and
checked against :attr:`FlowSpec.eligible` (its status, the return window), whose refusal is
answered with the template :attr:`FlowSpec.refusals` names; then each :class:`SlotSpec` is
filled in turn — taken from the customer's first message when it is already there, asked for
otherwise, re-asked when an answer does not validate; then the customer confirms and
:attr:`FlowSpec.act` calls the connector once, with an idempotency key. The router and the flow
runner read everything from here (step names included), so adding a flow means adding a
:class:`FlowSpec`, its templates, its intent (catalog line and examples) and the connector
method — no new control flow.

Example:
    >>> FLOWS["change_address"].slots[0].slot
    'new_address'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connectors.auth import Actor
from engine.nlu.confirm import LexicalConfirmationGate
from knowledge.kernel.policies import return_verdict

__all__ = ["SlotSpec", "FlowSpec", "Eligibility", "FLOWS", "DEFECT_RE", "while_processing", "within_return_window",
           "extract_reason", "extract_address", "valid_address", "amend_address"]

_REASON_RE = re.compile(
    r"because|since|too (?:small|big|large|tight|loose|short|long)|doesn'?t fit|don'?t fit|"
    r"broken|damaged|defective|faulty|stopped working|crack(?:ed|s)?|scratch(?:ed|es)|dent(?:ed)?|leak(?:s|ing|ed)?|shattered|smashed|wrong (?:size|item|colou?r)|not as described|"
    r"changed my mind|don'?t (?:need|want|like)|不合适|太小|太大|坏了|质量|不喜欢|发错|不想要|有问题|破损|裂|划痕|漏水|碎了",
    re.IGNORECASE,
)
#: a report that something the customer received is faulty or damaged ("stopped charging", "充不进电")
DEFECT_RE = re.compile(
    r"\b(?:broken|broke|damaged|defective|faulty|crack(?:ed|s)?|scratch(?:ed|es)|torn|ripped|smashed|"
    r"shattered|leak(?:s|ing|ed)?|not working|stopped (?:charging|turning on)|"
    r"stopped working|(?:does ?n.?t|won.?t|will not|wont|can.?t) (?:turn on|power on|charge|work|start)|"
    r"dead on arrival|drifts?|no sound|over-?heat(?:s|ing|ed)?|(?:burning|burnt) smell|smok(?:es|ing)|sparks?|sparking|"
    r"rattl(?:es|ing)|flicker(?:s|ing)?|dead pixels?|(?:does ?n.?t|won.?t|will not|wont|can.?t) (?:pair|connect|hold a charge)|"
    r"battery drains?)\b"
    r"|坏了|摔坏|碎了|破损|裂了|裂开|裂缝|有裂|划痕|凹陷|破了|故障|开不了机|开不开机|不能开机|充不进电|充不上电|漏水|漏电|没声音|不出声|不工作|失灵|质量问题"
    r"|发烫|过热|冒烟|烧焦|焦味|异响|闪屏|连不上|配不上对|掉电(?:很|特别|太)?快",
    re.IGNORECASE,
)
_ADDRESS_LEAD_RE = re.compile(
    r"(?:(?:address\b|地址).*?\bto\b|ship it to|deliver it to|send it to|(?:change|update|switch|move) (?:it|that|this) to|"
    r"改成|改为|改到|换成)\s*[:：]?\s*(.+)$", re.IGNORECASE | re.DOTALL
)
# other ways of leading into the new address ("ship my toaster order to ...", "新地址是 ...", "改寄到我公司：...")
_ADDRESS_LEADS_RE = re.compile(
    r"(?:\b(?:ship|deliver|send|redirect|move)\b[^.?!]*?\bto\b|new address(?: is)?|address is|address[:：]|"
    r"寄到|送到|发到|改寄|新地址(?:是|为)?|地址(?:是|为)|[:：])\s*[:：]?\s*", re.IGNORECASE)
# "my office at 12 Oak St": words before the street number that are no part of an address
_LEAD_WORDS_RE = re.compile(r"^((?!(?:apt|apartment|suite|unit|floor|building|bldg|room)\b)[A-Za-z][A-Za-z' ]*?\s+)"
                            r"(\d+[A-Za-z]?\s+[A-Za-z]{2,}.*)$", re.IGNORECASE | re.DOTALL)
_STREET_RE = re.compile(r"\d+[A-Za-z]?\s+[A-Za-z]{2,}|[\u4e00-\u9fff].{0,20}(?:路|街|道|号|巷|弄|区|市|省)")


_CLAUSES_RE = re.compile(r"[,，.。;；!！?？]+")
_REQUEST_RE = re.compile(r"return|send|refund|exchange|replace|order|thank|please|pls|keep|退|换|订单|可以|能|吗|谢|麻烦|"
                         r"留着|留下|保留|还要|不要|那单|这单|"
                         # which item or order, not what is wrong with it ("what about the shoes instead")
                         r"\binstead\b|^\s*(?:what|how) about\b|^\s*and (?:the|my)\b|\bi mean\b|\bi meant\b|"
                         r"那个呢|呢\s*$|换成|改成", re.IGNORECASE)


def extract_reason(text: str) -> str | None:
    """The customer's return reason when the message gives one ("they're too small"), or a clause
    beside the request that says what is wrong ("want to return my watch, the strap gives me a rash")."""
    if _REASON_RE.search(text) or DEFECT_RE.search(text):
        return text.strip()[:200]
    for clause in _CLAUSES_RE.split(text)[1:]:
        words = clause.split()
        cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in clause)
        long_enough = len(words) >= 3 or cjk >= 4
        if long_enough and not _REQUEST_RE.search(clause):
            return clause.strip()[:200]
    return None


def valid_address(text: str) -> bool:
    """A plausible delivery address: long enough, a number and some letters, and a street (a
    number followed by a word, or a Chinese road / number / district word)."""
    t = text.strip()
    return (8 <= len(t) <= 300 and bool(re.search(r"\d", t)) and bool(re.search(r"[A-Za-z\u4e00-\u9fff]{2}", t))
            and bool(_STREET_RE.search(t)))


def extract_address(text: str) -> str | None:
    """The new address when the message states it ("change the address to 12 Oak St, ...",
    "ship my order to 500 Market St, ...", "新地址是 15 Orchard Road ...")."""
    m = _ADDRESS_LEAD_RE.search(text)
    if m and valid_address(_without_courtesy(m.group(1))):
        return _from_street(_without_courtesy(m.group(1)))
    found = None
    for lead in _ADDRESS_LEADS_RE.finditer(text):  # the last lead before an address: "改寄到我公司：<address>"
        tail = _without_courtesy(text[lead.end():])
        if valid_address(tail) and re.match(r"[\w#\u4e00-\u9fff]", tail):
            found = tail
    return _from_street(found) if found is not None else None


def _address_given(text: str) -> str | None:
    """The new address in the message a change of address starts from: stated after a lead ("ship
    it to ..."), or the whole message (the address sent right after the store's answer on changing
    one, when the order it is for is found only now)."""
    found = extract_address(text)
    if found is not None or _REQUEST_WORDS_RE.search(text):
        return found  # (a request the address could not be read from: the flow asks for it)
    return _from_street(_without_courtesy(text)) if valid_address(text) else None


# words of a request about the address, never part of one: "change 地址 for 100322 to ..."
_REQUEST_WORDS_RE = re.compile(r"\b(?:change|update|ship|deliver|send|address|order|redirect|move)\b|地址|订单|改|寄到|送到|发到",
                               re.IGNORECASE)


# what follows an address without being part of it: "... 02139 please", "... 98101 instead", "…100号 谢谢"
_COURTESY_TAIL_RE = re.compile(
    r"(?:[\s,，.。!！?？~]*(?:please|pls|plz|thanks|thank you|thx|ty|instead|asap|if possible|if you can|"
    r"谢谢(?:你|您)?|谢了|麻烦(?:你|您)?了|辛苦了|哈|吧|呀|啊))+[\s,，.。!！?？~]*$", re.IGNORECASE)


def _without_courtesy(address: str) -> str:
    """``address`` without courtesy words or punctuation after it (its own words kept)."""
    return re.sub(r"\s+", " ", _COURTESY_TAIL_RE.sub("", address.strip())).rstrip(".。,，!！?？ ").strip()


def _from_street(address: str) -> str:
    """"my office at 12 Oak St, ...": the address from its street number on."""
    m = _LEAD_WORDS_RE.match(address)
    return m.group(2) if m is not None and valid_address(m.group(2)) else address


_DIGITS_RE = re.compile(r"(?<![0-9])[0-9]{4,}(?![0-9])")


def amend_address(slots: Mapping[str, Any], text: str) -> dict[str, Any] | None:
    """A correction of the address waiting for a yes: a whole new address, or one number of it
    (a postcode, a house number) given again with the same number of digits."""
    new = extract_address(text)
    if new is not None:
        return {"new_address": new}
    pending = str(slots.get("new_address") or "")
    said = _CORRECTING_RE.sub("", _without_courtesy(text), count=1)
    street = _STREET_ONLY_RE.fullmatch(said)
    if street and "," in pending and not _CJK_ADDRESS_RE.search(pending):
        # "wait, make that 79 Lake Rd": the street again, the city and postcode as they were
        return {"new_address": street.group(1) + pending[pending.index(","):]}
    if said != text.strip() and valid_address(said):  # "make it 9 Elm St, Boston MA 02108"
        return {"new_address": _from_street(said)}
    rest = _address_rest(pending, text)
    if rest is not None:  # "42 Elm Street", then "Springfield, NJ 07081": the rest of the same address
        # (a Chinese address starts with its city: the rest goes first)
        return {"new_address": f"{rest}{pending}" if _CJK_ADDRESS_RE.search(pending) else f"{pending}, {rest}"}
    numbers = _DIGITS_RE.findall(text)
    if not pending or len(numbers) != 1:
        return None
    same = [m for m in _DIGITS_RE.finditer(pending) if len(m.group()) == len(numbers[0])]
    if not same or same[-1].group() == numbers[0]:
        return None
    m = same[-1]
    return {"new_address": pending[:m.start()] + numbers[0] + pending[m.end():]}


_POSTCODE_RE = re.compile(r"\b\d{4,6}(?:-\d{4})?\b")
# a correction's own words before the value: "wait, make that ...", "sorry, I meant ...", "no, it's ..."
_CORRECTING_RE = re.compile(r"^\s*(?:(?:wait|sorry|oops|no|actually|oh|hmm|ah)\b[\s,.!-]*)*(?:make (?:that|it)|i meant|"
                            r"i mean|it'?s|it should be|should be|change (?:that|it) to|correction:?)?\s*", re.IGNORECASE)
# a street alone: "79 Lake Rd", "12B Oak Street"
_STREET_ONLY_RE = re.compile(r"(\d+[A-Za-z]?\s+(?:[A-Za-z]+\.?\s+){0,3}(?:st|street|ave|avenue|rd|road|blvd|boulevard|"
                             r"lane|ln|dr|drive|way|court|ct|pl|place|terrace|ter|hwy|highway|pkwy|parkway)\.?)",
                             re.IGNORECASE)
_LOCALITY_ZH_RE = re.compile(r"[省市区县]")
_CJK_ADDRESS_RE = re.compile(r"[\u4e00-\u9fff]")


def _address_rest(pending: str, text: str) -> str | None:
    """The rest of an address the customer is still giving: the pending one lacks its postcode
    (Chinese: its city or province) and ``text`` supplies it, with no street of its own and no
    yes or no in it; None otherwise."""
    t = _without_courtesy(text)
    if not pending or not t or len(t.split()) > 8 or re.match(r"\s*\d+[A-Za-z]?\s+[A-Za-z]{2,}", t):
        return None
    if re.search(r"\b(?:yes|yeah|yep|no|nope|ok|okay|sure)\b|是的|不是|好的|不要|确认|取消", t, re.IGNORECASE):
        return None
    if _CJK_ADDRESS_RE.search(pending):
        return t if not _LOCALITY_ZH_RE.search(pending) and _LOCALITY_ZH_RE.search(t) else None
    return t if not _POSTCODE_RE.search(pending) and _POSTCODE_RE.search(t) and re.search(r"[A-Za-z]{2}", t) else None


_GATE = LexicalConfirmationGate()


def _any_text(text: str) -> str | None:
    """A free-text answer ("it's too small", "不合适"), but not a bare yes: "yes" says no reason."""
    t = text.strip()
    if len(t.split()) <= 3 and len(t) <= 12 and _GATE.judge(t).answer == "yes":
        return None
    return t[:200] or None


@dataclass(frozen=True)
class SlotSpec:
    """One thing a flow needs from the customer before it can confirm.

    Attributes:
        step: the ``flow_step`` value while this slot is being asked for.
        slot: the slot the answer is stored in.
        ask: template asking for it the first time (gets ``order_id`` and ``items``).
        reask: template repeating the question (after a digression or an invalid answer).
        from_first_message: reads the value out of the message that started the flow, if there.
        from_answer: reads the value out of an answer to the question (None: not understood).
        invalid: template explaining what a valid answer looks like.
        confirm_as: the placeholder the value fills in the ``<flow>_confirm`` template (default:
            the slot name).
        question_is_answer: a question-shaped reply is taken as the answer; False (the default):
            a question about the store or a product is answered first, then this step is asked again.
    """

    step: str
    slot: str
    ask: str
    reask: str
    from_first_message: Callable[[str], str | None]
    from_answer: Callable[[str], str | None]
    invalid: str | None = None
    confirm_as: str | None = None
    question_is_answer: bool = False


@dataclass(frozen=True)
class Eligibility:
    """Whether an order allows a flow now; ``reason`` picks the refusal template otherwise.

    Attributes:
        ok: the flow may go on.
        reason: ``eligible``, or why not (``shipped``, ``closed``, ``window_expired``, ...).
        deadline: the last day the change is accepted, when there is one.
        days_left: whole days until ``deadline``.
        blocking: the record in the way (an open return), for the refusal's wording.
    """

    ok: bool
    reason: str
    deadline: date | None = None
    days_left: int | None = None
    blocking: Any = None


def while_processing(order: Any, today: date, window_days: int) -> Eligibility:
    """Changes before dispatch: only a ``processing`` order. A shipped or delivered order (with
    its shipment) is refused by its status; any other (cancelled, returned) is ``closed``."""
    if order.status == "processing":
        return Eligibility(True, "eligible")
    if order.status in ("shipped", "delivered") and order.shipment is not None:
        return Eligibility(False, order.status)
    return Eligibility(False, "closed")


def within_return_window(order: Any, today: date, window_days: int) -> Eligibility:
    """After delivery: the store's return rule (:func:`knowledge.kernel.policies.return_verdict`)."""
    v = return_verdict(order, today, window_days)
    return Eligibility(v.eligible, v.reason, v.deadline, v.days_left, v.open_return)


@dataclass(frozen=True)
class FlowSpec:
    """A write flow.

    Attributes:
        name: the intent that starts it.
        method: the connector method it needs; without it the request is handed to an agent.
        slots: what to collect, in order, after the order is validated.
        eligible: what it needs from the order (the order, today, the return window in days).
        refusals: the template answering each refusal reason of ``eligible`` (they get the order's
            id, items, status, dates, return window and shipment).
        intro: a template put before the first question once the order is eligible.
        unsupported: the template telling the customer an agent will do it, when the connector
            lacks ``method``; ``handoff_reason`` (with ``{order_id}``) is what the agent sees.
        act: makes the connector call and returns the values for the ``<name>_done`` template.
            Templates used: ``<name>_confirm``, ``<name>_done`` and ``<name>_kept``.
        recover: the ``<name>_done`` values from the business system's record of the write
            (its result fields) and the conversation's slots, when the turn that wrote was lost.
        actions: words that name the action in the confirmation question ("cancel", "取消"):
            said back un-negated they are a yes (see :mod:`engine.nlu.confirm`).
        templates: template keys replacing ``<name>_confirm`` / ``<name>_done`` (keys ``confirm``,
            ``done``).
        shown: placeholder -> slot: flow slots (set by the order flows when the flow starts, or by
            a step) whose values every question, confirmation and done template of the flow may
            show; cleared with the flow's own slots.
        amend: reads a correction given at the confirmation ("the zip is 77010", a whole new
            address) as new slot values (the slots, the text) -> values or None; the question is
            then asked again with them, so the change still needs a yes.
    """

    name: str
    method: str
    slots: tuple[SlotSpec, ...]
    act: Callable[[Any, Actor, str, dict[str, Any], str], dict[str, Any]]
    recover: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] = lambda result, slots: {}
    actions: tuple[str, ...] = ()
    eligible: Callable[[Any, date, int], Eligibility] = while_processing
    refusals: Mapping[str, str] = field(default_factory=dict)
    intro: str | None = None
    unsupported: str = "handoff"
    handoff_reason: str = "{flow} for order {order_id}"
    templates: Mapping[str, str] = field(default_factory=dict)
    shown: Mapping[str, str] = field(default_factory=dict)
    amend: Callable[[Mapping[str, Any], str], dict[str, Any] | None] | None = None


def _cancel(backend: Any, actor: Actor, order_id: str, values: dict[str, Any], key: str) -> dict[str, Any]:
    backend.cancel_order(actor, order_id, idempotency_key=key)
    return {}


def _open_return(backend: Any, actor: Actor, order_id: str, values: dict[str, Any], key: str) -> dict[str, Any]:
    lines = values.get("return_lines") or None  # [[product id, units], ...]; empty: the whole order
    items = [(str(pid), int(qty)) for pid, qty in lines] if lines else None
    reason = values.get("return_reason") or "not given"
    if items is None:
        record = backend.create_return(actor, order_id, reason, idempotency_key=key)
    else:
        record = backend.create_return(actor, order_id, reason, idempotency_key=key, items=items)
    return {"return_id": record.return_id}


def _request_replacement(backend: Any, actor: Actor, order_id: str, values: dict[str, Any],
                         key: str) -> dict[str, Any]:
    request = backend.request_replacement(actor, order_id, values.get("replacement_problem") or "not given",
                                          idempotency_key=key)
    return {"replacement_id": request.replacement_id}


def _change_address(backend: Any, actor: Actor, order_id: str, values: dict[str, Any], key: str) -> dict[str, Any]:
    address = values.get("new_address") or ""
    backend.change_address(actor, address, idempotency_key=key, order_id=order_id)
    return {"address": address}


FLOWS: dict[str, FlowSpec] = {
    "cancel_order": FlowSpec(
        "cancel_order", "cancel_order", (), _cancel, actions=("cancel", "取消"),
        refusals={"shipped": "cancel_too_late", "delivered": "cancel_delivered", "closed": "cancel_closed"},
        unsupported="cancel_possible", handoff_reason="cancel order {order_id}",
    ),
    "return_item": FlowSpec(
        "return_item",
        "create_return",
        # which items: the order flows read the answer against the order's lines (engine.flows.items)
        (SlotSpec("items", "return_lines", "return_ask_items", "return_ask_items_short",
                  lambda text: None, lambda text: None, invalid="return_items_unclear"),
         SlotSpec("reason", "return_reason", "return_ask_reason", "return_ask_reason_short",
                  extract_reason, _any_text, confirm_as="reason")),
        _open_return,
        recover=lambda result, slots: {"return_id": result.get("return_id", "")},
        actions=("return", "send", "open", "submit", "退", "提交", "申请"),
        eligible=within_return_window,
        refusals={"return_exists": "return_exists", "not_delivered": "return_not_delivered",
                  "window_expired": "return_expired"},
        intro="return_window", unsupported="return_eligible", handoff_reason="create a return for order {order_id}",
        templates={"confirm": "return_items_confirm", "done": "return_items_done"},
        shown={"lines": "return_summary", "amount": "return_amount", "choices": "return_choices"},
    ),
    "change_address": FlowSpec(
        "change_address",
        "change_address",
        (SlotSpec("address", "new_address", "address_ask", "address_ask",
                  _address_given, lambda t: extract_address(t) or (t.strip() if valid_address(t) else None),
                  invalid="address_invalid", confirm_as="address"),),
        _change_address,
        recover=lambda result, slots: {"address": result.get("address") or slots.get("new_address", "")},
        actions=("change", "update", "改", "换"),
        amend=amend_address,
        refusals={"shipped": "address_too_late", "delivered": "address_too_late", "closed": "address_closed"},
        unsupported="address_possible", handoff_reason="change address of order {order_id}",
    ),
    "request_replacement": FlowSpec(
        "request_replacement",
        "request_replacement",
        (SlotSpec("problem", "replacement_problem", "replacement_ask_problem", "replacement_ask_problem_short",
                  extract_reason, _any_text, confirm_as="reason"),),
        _request_replacement,
        recover=lambda result, slots: {"replacement_id": result.get("replacement_id", "")},
        actions=("replace", "replacement", "send", "换", "补发"),
        eligible=within_return_window,
        refusals={"return_exists": "replacement_return_exists", "not_delivered": "replacement_not_delivered",
                  "window_expired": "replacement_expired"},
        unsupported="replacement_possible", handoff_reason="send a replacement for order {order_id}",
    ),
}
