"""Typed definitions of the write flows: what each one asks, how it reads and checks the answers,
what it confirms, and which connector call it makes.

A flow runs in three phases: the order is resolved and validated by :mod:`engine.flows.orders`
(ownership, status, return window); then each :class:`SlotSpec` is filled in turn — taken from
the customer's first message when it is already there, asked for otherwise, re-asked when an
answer does not validate; then the customer confirms and :attr:`FlowSpec.act` calls the
connector once, with an idempotency key. Adding a flow means adding a :class:`FlowSpec` here and
its templates, not new control flow.

Example:
    >>> FLOWS["change_address"].slots[0].slot
    'new_address'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.auth import Actor

__all__ = ["SlotSpec", "FlowSpec", "FLOWS", "extract_reason", "extract_address", "valid_address"]

_REASON_RE = re.compile(
    r"because|since|too (?:small|big|large|tight|loose|short|long)|doesn'?t fit|don'?t fit|"
    r"broken|damaged|defective|faulty|stopped working|wrong (?:size|item|colou?r)|not as described|"
    r"changed my mind|don'?t (?:need|want|like)|不合适|太小|太大|坏了|质量|不喜欢|发错|不想要|有问题|破损",
    re.IGNORECASE,
)
_ADDRESS_LEAD_RE = re.compile(
    r"(?:address\b.*?\bto|ship it to|deliver it to|send it to|改成|改为|改到|换成)\s*[:：]?\s*(.+)$", re.IGNORECASE
)


def extract_reason(text: str) -> str | None:
    """The customer's return reason when the message gives one ("they're too small")."""
    return text.strip()[:200] if _REASON_RE.search(text) else None


def valid_address(text: str) -> bool:
    """A plausible delivery address: long enough, with a number and some letters."""
    t = text.strip()
    return 8 <= len(t) <= 300 and bool(re.search(r"\d", t)) and bool(re.search(r"[A-Za-z\u4e00-\u9fff]{2}", t))


def extract_address(text: str) -> str | None:
    """The new address when the message states it ("change the address to 12 Oak St, ...")."""
    m = _ADDRESS_LEAD_RE.search(text)
    if m and valid_address(m.group(1)):
        return m.group(1).strip().rstrip(".。")
    return None


def _any_text(text: str) -> str | None:
    return text.strip()[:200] or None


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
    """

    step: str
    slot: str
    ask: str
    reask: str
    from_first_message: Callable[[str], str | None]
    from_answer: Callable[[str], str | None]
    invalid: str | None = None


@dataclass(frozen=True)
class FlowSpec:
    """A write flow.

    Attributes:
        name: the intent that starts it.
        method: the connector method it needs; without it the request is handed to an agent.
        slots: what to collect, in order, after the order is validated.
        act: makes the connector call and returns the values for the ``<name>_done`` template.
            Templates used: ``<name>_confirm``, ``<name>_done`` and ``<name>_kept``.
        recover: the ``<name>_done`` values from the business system's record of the write
            (its result fields) and the conversation's slots, when the turn that wrote was lost.
        actions: words that name the action in the confirmation question ("cancel", "取消"):
            said back un-negated they are a yes (see :mod:`engine.nlu.confirm`).
    """

    name: str
    method: str
    slots: tuple[SlotSpec, ...]
    act: Callable[[Any, Actor, str, dict[str, Any], str], dict[str, Any]]
    recover: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] = lambda result, slots: {}
    actions: tuple[str, ...] = ()


def _cancel(backend: Any, actor: Actor, order_id: str, values: dict[str, Any], key: str) -> dict[str, Any]:
    backend.cancel_order(actor, order_id, idempotency_key=key)
    return {}


def _open_return(backend: Any, actor: Actor, order_id: str, values: dict[str, Any], key: str) -> dict[str, Any]:
    record = backend.create_return(actor, order_id, values.get("return_reason") or "not given", idempotency_key=key)
    return {"return_id": record.return_id}


def _change_address(backend: Any, actor: Actor, order_id: str, values: dict[str, Any], key: str) -> dict[str, Any]:
    address = values.get("new_address") or ""
    backend.change_address(actor, address, idempotency_key=key, order_id=order_id)
    return {"address": address}


FLOWS: dict[str, FlowSpec] = {
    "cancel_order": FlowSpec("cancel_order", "cancel_order", (), _cancel, actions=("cancel", "取消")),
    "return_item": FlowSpec(
        "return_item",
        "create_return",
        (SlotSpec("reason", "return_reason", "return_ask_reason", "return_ask_reason_short",
                  extract_reason, _any_text),),
        _open_return,
        recover=lambda result, slots: {"return_id": result.get("return_id", "")},
        actions=("return", "send", "open", "退"),
    ),
    "change_address": FlowSpec(
        "change_address",
        "change_address",
        (SlotSpec("address", "new_address", "address_ask", "address_ask",
                  extract_address, lambda t: extract_address(t) or (t.strip() if valid_address(t) else None),
                  invalid="address_invalid"),),
        _change_address,
        recover=lambda result, slots: {"address": result.get("address") or slots.get("new_address", "")},
        actions=("change", "update", "改", "换"),
    ),
}
