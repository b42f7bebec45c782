"""The write steps of order flows: collect what is missing, confirm explicitly, then act once.

The flows themselves are typed definitions in :mod:`engine.flows.specs`; this module runs any of
them. Progress lives in slots: ``flow_step`` (a slot's step name, or ``confirm``), ``order_id``,
``order_items``, the flow's own slots and ``reasks``. Nothing is written before the customer says
yes to a question that names the order and the change, and "yes" is the confirmation gate's
verdict (:mod:`engine.nlu.confirm`), never the intent classifier's: anything unclear gets the
question again.

The connector call carries an idempotency key hashed from what identifies the write (the
conversation, its version at that turn, the flow, the order and the values confirmed), so a
retried turn can never apply a change twice, whatever characters the session id holds. The same
key lets a later turn ask the business system whether the write happened
(:meth:`WriteSteps.reconcile`): when the turn that wrote could not be recorded (a store failure, a
crash), the conversation learns the truth from the system's record instead of asking again.

Example:
    >>> steps = WriteSteps(backend, Templates())            # doctest: +SKIP
    >>> steps.advance("cancel_order", turn).text             # doctest: +SKIP
    'Done: order 100031 is cancelled. A confirmation email is on its way.'
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from connectors.base import ActionRefused, ConnectorError, ConnectorUnavailable, NotFound
from engine.nlu.confirm import Confirmation, ConfirmationGate, LexicalConfirmationGate
from engine.responses.templates import Templates
from engine.state.events import FlowCompleted, SlotSet

from .base import Decision, Turn
from .specs import FLOWS, FlowSpec, SlotSpec, extract_address, extract_reason

__all__ = ["WriteSteps", "WRITE_FLOWS", "FLOW_SLOTS", "flow_slots", "extract_reason", "extract_address",
           "looks_like_question", "write_key"]

log = logging.getLogger("shopassist.flows")

_RUN_SLOTS = ("flow_step", "order_items", "reasks")  # what any waiting write flow keeps


def flow_slots(flows: Mapping[str, FlowSpec]) -> tuple[str, ...]:
    """Every slot a waiting write flow of ``flows`` owns (cleared when it ends)."""
    return (*_RUN_SLOTS, *sorted({s.slot for f in flows.values() for s in f.slots}
                                 | {slot for f in flows.values() for slot in f.shown.values()}))


WRITE_FLOWS = frozenset(FLOWS)
FLOW_SLOTS = flow_slots(FLOWS)

_QUESTION_RE = re.compile(r"\?|？|吗|呢$|了没有?$|没有$|有没有|是不是|^(?:what|how|when|where|why|which|who|do|does|can|is|are)\b",
                          re.IGNORECASE)


def looks_like_question(text: str) -> bool:
    return bool(_QUESTION_RE.search(text.strip()))


def write_key(conversation: str, version: int, flow: str, order_id: str, values: dict[str, Any]) -> str:
    """The idempotency key of one confirmed write: a hash of what identifies it.

    Any session id works (``whatsapp:+1555...``, 200 characters of anything): only its hash reaches
    the business system, and every write of a conversation gets a key of its own.
    """
    payload = json.dumps([conversation, version, flow, order_id, values], sort_keys=True, ensure_ascii=False,
                         default=str)
    return f"sa-{flow}-{hashlib.sha256(payload.encode('utf-8', 'surrogatepass')).hexdigest()[:48]}"


class WriteSteps:
    """Runs write flow definitions (:data:`engine.flows.specs.FLOWS` unless ``flows`` is given).

    A refusal from the business system (:class:`ActionRefused`) is worded by the template
    ``refused_<reason>`` when there is one, else by the reason code itself.

    Args:
        backend: a connector with the methods the flows name (``cancel_order``, ...).
        templates: reply templates.
        max_reasks: unanswered questions in a row before the flow hands off to a human.
        gate: reads a reply to the confirmation question as yes, no or unclear.
        flows: the flow definitions, by name.
    """

    def __init__(self, backend: Any, templates: Templates, *, max_reasks: int = 3,
                 gate: ConfirmationGate | None = None, flows: Mapping[str, FlowSpec] | None = None) -> None:
        if max_reasks <= 0:
            raise ValueError(f"max_reasks must be > 0, got {max_reasks}")
        self._flows = FLOWS if flows is None else flows
        self._backend = backend
        self._t = templates
        self._max = max_reasks
        self._gate = gate if gate is not None else LexicalConfirmationGate()

    def confirmation(self, flow: str, turn: Turn) -> Confirmation:
        """The gate's verdict on this turn as an answer to ``flow``'s confirmation question.

        A reply naming another order than the one asked about is no answer to the question.
        """
        asked = turn.state.slots.get("order_id")
        if any(oid != asked for oid in turn.nlu.entities.order_ids):
            return Confirmation("unclear", "another order")
        return self._gate.judge(turn.nlu.text, actions=self._flows[flow].actions)

    @property
    def flow_slots(self) -> tuple[str, ...]:
        """The slots a waiting flow owns (read each time: a flow may be registered later)."""
        return flow_slots(self._flows)

    def awaiting(self, flow: str, step: str | None) -> SlotSpec | None:
        """The slot ``flow`` asks for at ``step`` (None at the confirmation or an unknown step)."""
        spec = self._flows.get(flow)
        return self._slot(spec, step) if spec is not None else None

    def supports(self, flow: str) -> bool:
        spec = self._flows.get(flow)
        return spec is not None and callable(getattr(self._backend, spec.method, None))

    # -- starting -------------------------------------------------------------------------
    def start(self, flow: str, turn: Turn, order_id: str, items: str,
              preset: Mapping[str, Any] | None = None) -> Decision:
        """First step after the order was validated: ask what is missing, or confirm.

        ``preset``: slot values the caller already knows (what the order flows read against the
        order's data, such as the items a return takes back and what they refund).
        """
        spec = self._flows[flow]
        events: list = [SlotSet("reasks", 0), SlotSet("order_items", items)]
        values: dict[str, Any] = {}
        for name, value in (preset or {}).items():
            events.append(SlotSet(name, value))
            values[name] = value
        for slot in spec.slots:
            if values.get(slot.slot) is not None:
                continue
            value = slot.from_first_message(turn.nlu.text)
            if value is not None:
                events.append(SlotSet(slot.slot, value))
                values[slot.slot] = value
        return self._next(spec, turn.lang, order_id, items, values, events)

    def proceed(self, flow: str, turn: Turn, values: Mapping[str, Any], text: str | None = None) -> Decision:
        """Store ``values`` (an answer the caller read, e.g. which items) and go on to the next
        missing slot or the confirmation; ``text`` goes before the next question."""
        spec, slots = self._flows[flow], turn.state.slots
        order_id = slots.get("order_id") or ""
        items = values.get("order_items") or slots.get("order_items") or order_id
        current = {**{k: v for k, v in slots.items() if k in self.flow_slots}, **values}
        events = [SlotSet(k, v) for k, v in values.items()] + [SlotSet("reasks", 0)]
        decision = self._next(spec, turn.lang, order_id, items, current, events)
        if text:
            decision.text = text + ("" if turn.lang == "zh" else " ") + decision.text
        return decision

    def reask(self, flow: str, turn: Turn, text: str) -> Decision:
        """Ask the waiting question again with ``text`` (a hand-off after too many tries)."""
        return self._reask(flow, turn, text)

    def prompt(self, flow: str, turn: Turn) -> str:
        """The question the flow is waiting on (to repeat it after a digression)."""
        spec, slots = self._flows[flow], turn.state.slots
        order_id = slots.get("order_id", "")
        items = slots.get("order_items") or order_id
        slot = self._slot(spec, slots.get("flow_step"))
        if slot is not None:
            return self._t.render(slot.reask, turn.lang, order_id=order_id, items=items, **self._shown(spec, slots))
        return self._confirm_text(spec, turn.lang, order_id, items, slots)

    # -- continuing ------------------------------------------------------------------------
    def advance(self, flow: str, turn: Turn) -> Decision:
        """Continue the flow with this turn's answer."""
        spec, slots, lang, intent = self._flows[flow], turn.state.slots, turn.lang, turn.intent
        step, order_id = slots.get("flow_step"), slots.get("order_id")
        items = slots.get("order_items") or order_id
        if not order_id:
            return self._end(flow, "failed", self._t.render("flow_cancelled", lang))
        if step == "confirm":
            verdict = self.confirmation(flow, turn)
            if verdict.answer == "yes":
                return self._execute(spec, turn, order_id)
            if verdict.answer == "no":
                return self._end(flow, "cancelled", self._t.render(f"{flow}_kept", lang, order_id=order_id))
            amended = None
            if spec.amend is not None and not turn.nlu.entities.order_ids:  # an order number is no correction
                amended = spec.amend(slots, turn.nlu.text)
            if amended:  # "the zip is 77010": the question again with the corrected value, a yes still needed
                values = {**{k: v for k, v in slots.items() if k in self.flow_slots}, **amended}
                events = [*(SlotSet(k, v) for k, v in amended.items()), SlotSet("reasks", 0)]
                return self._step(flow, "confirm", events, self._confirm_text(spec, lang, order_id, items, values))
            decision = self._reask(flow, turn, self._t.render("confirm_reask", lang,
                                                              question=self.prompt(flow, turn)))
            decision.decided_by += f":{verdict.reason}"
            return decision
        slot = self._slot(spec, step)
        if slot is None:
            return self._end(flow, "failed", self._t.render("flow_cancelled", lang))
        if intent == "deny":
            return self._end(flow, "cancelled", self._t.render(f"{flow}_kept", lang, order_id=order_id))
        value = slot.from_answer(turn.nlu.text)
        if value is None and self._gate.judge(turn.nlu.text, actions=spec.actions).answer == "no":
            # "nvm, keep the old one": no answer to the question but a clear no to the change
            return self._end(flow, "cancelled", self._t.render(f"{flow}_kept", lang, order_id=order_id))
        if value is None:
            text = self._t.render(slot.invalid or slot.reask, lang, order_id=order_id, items=items,
                                  **self._shown(spec, slots))
            return self._reask(flow, turn, text)
        values = {**{k: v for k, v in slots.items() if k in self.flow_slots}, slot.slot: value}
        events = [SlotSet(slot.slot, value), SlotSet("reasks", 0)]
        return self._next(spec, lang, order_id, items, values, events)

    def reconcile(self, flow: str, turn: Turn) -> Decision | None:
        """When a write this conversation confirmed already happened, close the flow saying so.

        A turn that wrote is recorded with the write's outcome; when that record was lost (the
        conversation store failed after the business system committed, or the process died in
        between), the conversation still waits at the confirmation. The business system's record
        of the write's key is the truth: the customer is told the change was made, and never
        asked again or told it was not. None when nothing happened (or it cannot be known now:
        then a yes repeats the write under the same key, which the system answers idempotently).
        """
        spec, slots = self._flows.get(flow), turn.state.slots
        ledger = getattr(self._backend, "write_outcome", None)
        order_id = slots.get("order_id")
        if spec is None or ledger is None or slots.get("flow_step") != "confirm" or not order_id:
            return None
        try:
            outcome = ledger(turn.actor, self._key(spec, turn, order_id))
        except ConnectorError as exc:
            log.warning("could not look up the outcome of a confirmed %s: %s", flow, exc)
            return None
        if outcome is None:
            return None
        log.warning("%s of order %s was written in a turn that was not recorded; the conversation now says so",
                    flow, order_id)
        done = self._t.render(spec.templates.get("done", f"{flow}_done"), turn.lang, order_id=order_id,
                              **{**self._shown(spec, slots), **spec.recover(outcome.result, slots)})
        decision = self._end(flow, "done", self._t.render("write_reconciled", turn.lang, done=done))
        decision.decided_by = f"{flow}:reconciled"
        return decision

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _key(spec: FlowSpec, turn: Turn, order_id: str) -> str:
        state = turn.state
        values = {s.slot: state.slots.get(s.slot) for s in spec.slots}
        return write_key(state.session_id, state.version, spec.name, order_id, values)

    @staticmethod
    def _shown(spec: FlowSpec, values: Mapping[str, Any]) -> dict[str, Any]:
        return {name: values.get(slot) or "" for name, slot in spec.shown.items()}

    @staticmethod
    def _slot(spec: FlowSpec, step: str | None) -> SlotSpec | None:
        return next((s for s in spec.slots if s.step == step), None)

    def _next(self, spec: FlowSpec, lang: str, order_id: str, items: str, values: dict[str, Any],
              events: list) -> Decision:
        """Ask for the first slot still missing, or for confirmation when all are filled."""
        for slot in spec.slots:
            if values.get(slot.slot) is None:
                text = self._t.render(slot.ask, lang, order_id=order_id, items=items, **self._shown(spec, values))
                return self._step(spec.name, slot.step, events, text)
        return self._step(spec.name, "confirm", events, self._confirm_text(spec, lang, order_id, items, values))

    def _confirm_text(self, spec: FlowSpec, lang: str, order_id: str, items: str, values: dict[str, Any]) -> str:
        fields = {s.confirm_as or s.slot: values.get(s.slot) or "" for s in spec.slots}
        return self._t.render(spec.templates.get("confirm", f"{spec.name}_confirm"), lang, order_id=order_id,
                              items=items, **{**self._shown(spec, values), **fields})

    @staticmethod
    def _step(flow: str, step: str, events: list, text: str) -> Decision:
        return Decision(text, "flow", events=[SlotSet("flow_step", step), *events],
                        decided_by=f"{flow}:{step}", keep_flow=True)

    def _clear(self) -> list:
        return [SlotSet(name, None) for name in self.flow_slots]

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
        key = self._key(spec, turn, order_id)
        try:
            values = spec.act(self._backend, turn.actor, order_id, dict(turn.state.slots), key)
        except ActionRefused as exc:
            key = f"refused_{exc.reason}"
            reason = self._t.render(key, lang) if self._t.has(key) else exc.reason.replace("_", " ")
            return self._end(flow, "failed", self._t.render("write_refused", lang, order_id=order_id,
                                                            reason=reason))
        except ConnectorUnavailable:
            return self._handoff(flow, self._t.render("service_unavailable", lang),
                                 f"{flow}: business system unavailable", "unavailable")
        except NotFound:
            return self._end(flow, "failed", self._t.render("order_not_found", lang, order_id=order_id))
        except ConnectorError:
            return self._handoff(flow, self._t.render("internal_error", lang),
                                 f"{flow}: the business system refused the request", "error")
        text = self._t.render(spec.templates.get("done", f"{flow}_done"), lang, order_id=order_id,
                              **{**self._shown(spec, turn.state.slots), **values})
        return Decision(text, "flow", events=[*self._clear(), FlowCompleted(flow, outcome="done")],
                        decided_by=f"{flow}:done", write=key)
