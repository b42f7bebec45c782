"""The write steps of order flows: ask what is missing, confirm explicitly, then act once.

A write flow (cancel an order, open a return, change a delivery address) keeps its progress in
slots: ``flow_step`` (``reason`` | ``address`` | ``confirm``), ``order_id``, ``return_reason``,
``new_address`` and ``reasks``. Nothing is written before the customer says yes to a question
that names the order and the change. The connector call carries an idempotency key derived from
the conversation and the turn, so a retried turn can never apply a change twice.

Example:
    >>> steps = WriteSteps(backend, Templates())            # doctest: +SKIP
    >>> steps.advance("cancel_order", turn).text             # doctest: +SKIP
    'Done: order 100031 is cancelled. A confirmation email is on its way.'
"""

from __future__ import annotations

import re
from typing import Any

from connectors.base import ActionRefused, ConnectorError, ConnectorUnavailable, NotFound
from engine.responses.templates import Templates
from engine.state.events import FlowCompleted, SlotSet

from .base import Decision, Turn

__all__ = ["WriteSteps", "WRITE_FLOWS", "extract_reason", "extract_address", "FLOW_SLOTS"]

WRITE_FLOWS = frozenset({"cancel_order", "return_item", "change_address"})
FLOW_SLOTS = ("flow_step", "order_items", "return_reason", "new_address", "reasks")

_REASON_RE = re.compile(
    r"because|since|too (?:small|big|large|tight|loose|short|long)|doesn'?t fit|don'?t fit|"
    r"broken|damaged|defective|faulty|stopped working|wrong (?:size|item|colou?r)|not as described|"
    r"changed my mind|don'?t (?:need|want|like)|不合适|太小|太大|坏了|质量|不喜欢|发错|不想要|有问题|破损",
    re.IGNORECASE,
)
_ADDRESS_LEAD_RE = re.compile(r"(?:address\b.*?\bto|ship it to|deliver it to|send it to|改成|改为|改到|换成)\s*[:：]?\s*(.+)$",
                              re.IGNORECASE)
_QUESTION_RE = re.compile(r"\?|？|吗|呢$|^(?:what|how|when|where|why|which|who|do|does|can|is|are)\b", re.IGNORECASE)
_REFUSALS = {
    "already_shipped": ("it has already shipped", "已发货"),
    "already_delivered": ("it has already been delivered", "已送达"),
    "already_cancelled": ("it is already cancelled", "已取消"),
    "already_returned": ("it has already been returned", "已退货"),
    "not_delivered": ("it hasn't been delivered yet", "尚未送达"),
    "window_expired": ("its return window has ended", "已超过退货期"),
    "return_exists": ("a return is already open for it", "已有退货申请"),
}


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


def looks_like_question(text: str) -> bool:
    return bool(_QUESTION_RE.search(text.strip()))


class WriteSteps:
    """Drives the ``reason`` / ``address`` / ``confirm`` steps of the write flows.

    Args:
        backend: a connector with ``cancel_order``, ``create_return`` and ``change_address``.
        templates: reply templates.
        max_reasks: unanswered questions in a row before the flow hands off to a human.
    """

    def __init__(self, backend: Any, templates: Templates, *, max_reasks: int = 3) -> None:
        if max_reasks <= 0:
            raise ValueError(f"max_reasks must be > 0, got {max_reasks}")
        self._backend = backend
        self._t = templates
        self._max = max_reasks

    def supports(self, flow: str) -> bool:
        method = {"cancel_order": "cancel_order", "return_item": "create_return",
                  "change_address": "change_address"}.get(flow)
        return method is not None and callable(getattr(self._backend, method, None))

    # -- starting -------------------------------------------------------------------------
    def start(self, flow: str, turn: Turn, order_id: str, items: str) -> Decision:
        """First step after the order was validated: ask what is missing, or confirm."""
        lang, text = turn.lang, turn.nlu.text
        events: list = [SlotSet("reasks", 0), SlotSet("order_items", items)]
        if flow == "return_item":
            reason = extract_reason(text)
            if reason is None:
                return self._step(flow, "reason", events, self._t.render("return_ask_reason", lang, order_id=order_id, items=items))
            events.append(SlotSet("return_reason", reason))
            return self._step(flow, "confirm", events, self._confirm_text(flow, lang, order_id, items=items, reason=reason))
        if flow == "change_address":
            address = extract_address(text)
            if address is None:
                return self._step(flow, "address", events, self._t.render("address_ask", lang, order_id=order_id))
            events.append(SlotSet("new_address", address))
            return self._step(flow, "confirm", events, self._confirm_text(flow, lang, order_id, address=address))
        return self._step(flow, "confirm", events, self._confirm_text(flow, lang, order_id, items=items))

    def prompt(self, flow: str, turn: Turn) -> str:
        """The question the flow is waiting on (to repeat it after a digression)."""
        slots, lang = turn.state.slots, turn.lang
        step, order_id = slots.get("flow_step"), slots.get("order_id", "")
        if step == "reason":
            return self._t.render("return_ask_reason_short", lang, order_id=order_id)
        if step == "address":
            return self._t.render("address_ask", lang, order_id=order_id)
        return self._confirm_text(flow, lang, order_id, items=slots.get("order_items") or order_id,
                                  reason=slots.get("return_reason", ""), address=slots.get("new_address", ""))

    # -- continuing ------------------------------------------------------------------------
    def advance(self, flow: str, turn: Turn) -> Decision:
        """Continue the flow with this turn's answer."""
        slots, lang, intent = turn.state.slots, turn.lang, turn.intent
        step, order_id = slots.get("flow_step"), slots.get("order_id")
        if not order_id:
            return self._end(flow, "failed", self._t.render("flow_cancelled", lang))
        if step == "confirm":
            if intent == "affirm":
                return self._execute(flow, turn, order_id)
            if intent == "deny":
                return self._end(flow, "cancelled", self._t.render(f"{flow}_kept", lang, order_id=order_id))
            return self._reask(flow, turn, self._t.render("confirm_reask", lang, question=self.prompt(flow, turn)))
        if step == "reason":
            if intent == "deny":
                return self._end(flow, "cancelled", self._t.render("return_item_kept", lang, order_id=order_id))
            reason = turn.nlu.text.strip()[:200]
            return self._step(flow, "confirm", [SlotSet("return_reason", reason), SlotSet("reasks", 0)],
                              self._confirm_text(flow, lang, order_id, reason=reason))
        if step == "address":
            if intent == "deny":
                return self._end(flow, "cancelled", self._t.render("change_address_kept", lang, order_id=order_id))
            address = extract_address(turn.nlu.text) or turn.nlu.text.strip()
            if not valid_address(address):
                return self._reask(flow, turn, self._t.render("address_invalid", lang))
            return self._step(flow, "confirm", [SlotSet("new_address", address), SlotSet("reasks", 0)],
                              self._confirm_text(flow, lang, order_id, address=address))
        return self._end(flow, "failed", self._t.render("flow_cancelled", lang))

    # -- helpers ---------------------------------------------------------------------------
    def _confirm_text(self, flow: str, lang: str, order_id: str, **values: Any) -> str:
        values.setdefault("items", order_id)
        return self._t.render(f"{flow}_confirm", lang, order_id=order_id, **values)

    @staticmethod
    def _step(flow: str, step: str, events: list, text: str) -> Decision:
        return Decision(text, "flow", events=[SlotSet("flow_step", step), *events],
                        decided_by=f"{flow}:{step}", keep_flow=True)

    @staticmethod
    def _clear() -> list:
        return [SlotSet(name, None) for name in FLOW_SLOTS]

    def _end(self, flow: str, outcome: str, text: str) -> Decision:
        return Decision(text, "flow", events=[*self._clear(), FlowCompleted(flow, outcome=outcome)],
                        decided_by=f"{flow}:{outcome}")

    def _reask(self, flow: str, turn: Turn, text: str) -> Decision:
        count = int(turn.state.slots.get("reasks") or 0) + 1
        if count >= self._max:
            return Decision(self._t.render("handoff_stuck", turn.lang), "handoff",
                            events=[*self._clear(), FlowCompleted(flow, outcome="failed")],
                            handoff_reason=f"{flow} flow stuck after {count} questions",
                            decided_by=f"{flow}:stuck")
        return Decision(text, "flow", events=[SlotSet("reasks", count)], decided_by=f"{flow}:reask",
                        keep_flow=True)

    def _execute(self, flow: str, turn: Turn, order_id: str) -> Decision:
        lang, slots, actor = turn.lang, turn.state.slots, turn.actor
        # same conversation + same turn -> same key: a retried turn never writes twice
        key = f"{turn.state.session_id}:{turn.state.version}:{flow}:{order_id}"[:128]
        try:
            if flow == "cancel_order":
                self._backend.cancel_order(actor, order_id, idempotency_key=key)
                text = self._t.render("cancel_order_done", lang, order_id=order_id)
            elif flow == "return_item":
                record = self._backend.create_return(actor, order_id, slots.get("return_reason") or "not given",
                                                     idempotency_key=key)
                text = self._t.render("return_item_done", lang, order_id=order_id, return_id=record.return_id)
            else:
                address = slots.get("new_address") or ""
                self._backend.change_address(actor, address, idempotency_key=key, order_id=order_id)
                text = self._t.render("change_address_done", lang, order_id=order_id, address=address)
        except ActionRefused as exc:
            en, zh = _REFUSALS.get(exc.reason, (exc.reason.replace("_", " "), exc.reason))
            return self._end(flow, "failed", self._t.render("write_refused", lang, order_id=order_id,
                                                            reason=zh if lang == "zh" else en))
        except ConnectorUnavailable:
            return Decision(self._t.render("service_unavailable", lang), "handoff",
                            events=[*self._clear(), FlowCompleted(flow, outcome="failed")],
                            handoff_reason=f"{flow}: business system unavailable", decided_by=f"{flow}:unavailable")
        except NotFound:
            return self._end(flow, "failed", self._t.render("order_not_found", lang, order_id=order_id))
        except ConnectorError:
            return Decision(self._t.render("internal_error", lang), "handoff",
                            events=[*self._clear(), FlowCompleted(flow, outcome="failed")],
                            handoff_reason=f"{flow}: the business system refused the request",
                            decided_by=f"{flow}:error")
        return Decision(text, "flow", events=[*self._clear(), FlowCompleted(flow, outcome="done")],
                        decided_by=f"{flow}:done")
