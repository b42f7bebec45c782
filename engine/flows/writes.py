"""The write steps of order flows: collect what is missing, confirm explicitly, then act once.

The flows themselves are typed definitions in :mod:`engine.flows.specs`; this module runs any of
them. Progress lives in slots: ``flow_step`` (a slot's step name, or ``confirm``), ``order_id``,
``order_items``, the flow's own slots and ``reasks``. Nothing is written before the customer says
yes to a question that names the order and the change. The connector call carries an
idempotency key derived from the conversation and the turn, so a retried turn can never apply a
change twice.

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
from .specs import FLOWS, FlowSpec, SlotSpec, extract_address, extract_reason

__all__ = ["WriteSteps", "WRITE_FLOWS", "FLOW_SLOTS", "extract_reason", "extract_address", "looks_like_question"]

WRITE_FLOWS = frozenset(FLOWS)
FLOW_SLOTS = ("flow_step", "order_items", "reasks", *sorted({s.slot for f in FLOWS.values() for s in f.slots}))

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


def looks_like_question(text: str) -> bool:
    return bool(_QUESTION_RE.search(text.strip()))


class WriteSteps:
    """Runs the :data:`engine.flows.specs.FLOWS` definitions.

    Args:
        backend: a connector with the methods the flows name (``cancel_order``, ...).
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
        spec = FLOWS.get(flow)
        return spec is not None and callable(getattr(self._backend, spec.method, None))

    # -- starting -------------------------------------------------------------------------
    def start(self, flow: str, turn: Turn, order_id: str, items: str) -> Decision:
        """First step after the order was validated: ask what is missing, or confirm."""
        spec = FLOWS[flow]
        events: list = [SlotSet("reasks", 0), SlotSet("order_items", items)]
        values: dict[str, Any] = {}
        for slot in spec.slots:
            value = slot.from_first_message(turn.nlu.text)
            if value is not None:
                events.append(SlotSet(slot.slot, value))
                values[slot.slot] = value
        return self._next(spec, turn.lang, order_id, items, values, events)

    def prompt(self, flow: str, turn: Turn) -> str:
        """The question the flow is waiting on (to repeat it after a digression)."""
        spec, slots = FLOWS[flow], turn.state.slots
        order_id = slots.get("order_id", "")
        items = slots.get("order_items") or order_id
        slot = self._slot(spec, slots.get("flow_step"))
        if slot is not None:
            return self._t.render(slot.reask, turn.lang, order_id=order_id, items=items)
        return self._confirm_text(spec, turn.lang, order_id, items, slots)

    # -- continuing ------------------------------------------------------------------------
    def advance(self, flow: str, turn: Turn) -> Decision:
        """Continue the flow with this turn's answer."""
        spec, slots, lang, intent = FLOWS[flow], turn.state.slots, turn.lang, turn.intent
        step, order_id = slots.get("flow_step"), slots.get("order_id")
        items = slots.get("order_items") or order_id
        if not order_id:
            return self._end(flow, "failed", self._t.render("flow_cancelled", lang))
        if step == "confirm":
            if intent == "affirm":
                return self._execute(spec, turn, order_id)
            if intent == "deny":
                return self._end(flow, "cancelled", self._t.render(f"{flow}_kept", lang, order_id=order_id))
            return self._reask(flow, turn, self._t.render("confirm_reask", lang, question=self.prompt(flow, turn)))
        slot = self._slot(spec, step)
        if slot is None:
            return self._end(flow, "failed", self._t.render("flow_cancelled", lang))
        if intent == "deny":
            return self._end(flow, "cancelled", self._t.render(f"{flow}_kept", lang, order_id=order_id))
        value = slot.from_answer(turn.nlu.text)
        if value is None:
            text = self._t.render(slot.invalid or slot.reask, lang, order_id=order_id, items=items)
            return self._reask(flow, turn, text)
        values = {**{k: v for k, v in slots.items() if k in FLOW_SLOTS}, slot.slot: value}
        events = [SlotSet(slot.slot, value), SlotSet("reasks", 0)]
        return self._next(spec, lang, order_id, items, values, events)

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _slot(spec: FlowSpec, step: str | None) -> SlotSpec | None:
        return next((s for s in spec.slots if s.step == step), None)

    def _next(self, spec: FlowSpec, lang: str, order_id: str, items: str, values: dict[str, Any],
              events: list) -> Decision:
        """Ask for the first slot still missing, or for confirmation when all are filled."""
        for slot in spec.slots:
            if values.get(slot.slot) is None:
                text = self._t.render(slot.ask, lang, order_id=order_id, items=items)
                return self._step(spec.name, slot.step, events, text)
        return self._step(spec.name, "confirm", events, self._confirm_text(spec, lang, order_id, items, values))

    def _confirm_text(self, spec: FlowSpec, lang: str, order_id: str, items: str, values: dict[str, Any]) -> str:
        fields = {s.slot: values.get(s.slot) or "" for s in spec.slots}
        return self._t.render(f"{spec.name}_confirm", lang, order_id=order_id, items=items,
                              reason=fields.get("return_reason", ""), address=fields.get("new_address", ""))

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

    def _handoff(self, flow: str, text: str, reason: str, outcome: str) -> Decision:
        return Decision(text, "handoff", events=[*self._clear(), FlowCompleted(flow, outcome="failed")],
                        handoff_reason=reason, decided_by=f"{flow}:{outcome}")

    def _reask(self, flow: str, turn: Turn, text: str) -> Decision:
        count = int(turn.state.slots.get("reasks") or 0) + 1
        if count >= self._max:
            return self._handoff(flow, self._t.render("handoff_stuck", turn.lang),
                                 f"{flow} flow stuck after {count} questions", "stuck")
        return Decision(text, "flow", events=[SlotSet("reasks", count)], decided_by=f"{flow}:reask",
                        keep_flow=True)

    def _execute(self, spec: FlowSpec, turn: Turn, order_id: str) -> Decision:
        lang, flow = turn.lang, spec.name
        # same conversation + same turn -> same key: a retried turn never writes twice
        key = f"{turn.state.session_id}:{turn.state.version}:{flow}:{order_id}"[:128]
        try:
            values = spec.act(self._backend, turn.actor, order_id, dict(turn.state.slots), key)
        except ActionRefused as exc:
            en, zh = _REFUSALS.get(exc.reason, (exc.reason.replace("_", " "), exc.reason))
            return self._end(flow, "failed", self._t.render("write_refused", lang, order_id=order_id,
                                                            reason=zh if lang == "zh" else en))
        except ConnectorUnavailable:
            return self._handoff(flow, self._t.render("service_unavailable", lang),
                                 f"{flow}: business system unavailable", "unavailable")
        except NotFound:
            return self._end(flow, "failed", self._t.render("order_not_found", lang, order_id=order_id))
        except ConnectorError:
            return self._handoff(flow, self._t.render("internal_error", lang),
                                 f"{flow}: the business system refused the request", "error")
        text = self._t.render(f"{flow}_done", lang, order_id=order_id, **values)
        return Decision(text, "flow", events=[*self._clear(), FlowCompleted(flow, outcome="done")],
                        decided_by=f"{flow}:done")
