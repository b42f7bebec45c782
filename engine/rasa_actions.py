"""Rasa custom actions over the shopassist engine (DESIGN.md §3, ``shopassist actions``).

Two ways to use the engine from a Rasa 3.x assistant:

* **The engine owns the dialogue.** ``action_shopassist_respond`` hands the tracker's latest
  message to :meth:`engine.Engine.respond` as one whole turn (session = ``sender_id``) and returns
  the engine's reply, ``SlotSet`` events mirroring the engine's slots, and a hand-off signal.
* **Rasa owns the dialogue.** Focused, stateless actions answer one kind of question with the
  engine's components: ``action_order_status``, ``action_faq_answer``, ``action_product_answer``;
  ``validate_return_form`` validates a return form (the order is the customer's, delivered and
  inside the return window; a reason; an explicit yes) and ``action_submit_return`` opens the
  return through the order connector, once (idempotency key), only after that yes.

Wire format (what is read from rasa-sdk's action call, field by field):

* ``tracker.sender_id`` — the engine's session id (hashed when longer than the engine allows).
* ``tracker.latest_message.text`` — the only message used: the engine keeps its own bounded
  window, so a tracker of any length costs the same. No text at all rejects the action (HTTP 400).
* ``tracker.latest_message.metadata.customer_id`` — the acting customer, set by an authenticated
  channel; else the ``customer_id`` slot, trusted only when the domain maps it with ``custom``
  mappings alone (set by actions or the API, never by NLU). Never taken from the message text.
  A malformed ``customer_id`` rejects the action (HTTP 400).
* ``tracker.slots.order_id`` / ``product_id`` — context for the focused actions.
* ``domain.slots`` — only slots the domain declares are set.

What comes back: the reply as one bot message; ``SlotSet`` for the engine's slots that exist in
the domain (set, changed, or cleared when the engine dropped them this turn); on a hand-off the
``handoff`` slot (``True``, when the domain has it) and a custom message ``{"handoff": {...}}``
that a channel can act on. Map mirrored slots with a plain ``custom`` mapping: a custom mapping
that names an ``action`` makes Rasa run that action on every message (``action_extract_slots``).

Errors are mapped to what Rasa sees in one place, :func:`_guarded`: a rejection becomes
rasa-sdk's ``ActionExecutionRejection`` (HTTP 400); any other failure becomes a clear apology
plus the hand-off signal (HTTP 200), never a 500 with a traceback.

rasa-sdk imports this module in its main process and in every Sanic worker, so the engine is
built lazily, once per worker process, by :func:`get_engine` (configured by ``SHOPASSIST_CONFIG``
and ``SHOPASSIST_*`` variables).

Example:
    $ shopassist actions --port 5055
    $ python -m rasa_sdk --actions engine.rasa_actions --port 5055
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

from engine.privacy import PiiMaskingFilter, mask_pii
from engine.text import clean_text, detect_language

if TYPE_CHECKING:
    from connectors.auth import Actor
    from engine.engine import Engine
    from engine.flows.base import Decision
    from engine.types import Reply

__all__ = [
    "ActionShopassistRespond",
    "ActionOrderStatus",
    "ActionFaqAnswer",
    "ActionProductAnswer",
    "ValidateReturnForm",
    "ActionSubmitReturn",
    "get_engine",
    "use_engine",
    "acting_customer",
    "session_for",
]

log = logging.getLogger("shopassist.rasa_actions")
log.addFilter(PiiMaskingFilter())

RESPOND_ACTION = "action_shopassist_respond"
_MAX_SESSION_ID = 200  # engine.Engine's limit
_CUSTOMER_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}")
_MAX_REASON = 500


class _Rejected(Exception):
    """The action call cannot be served as sent (becomes HTTP 400 in :func:`_guarded`)."""


class _EngineUnavailable(Exception):
    """The engine could not be built (configuration, models, data)."""


# -- one engine per worker process ---------------------------------------------------------------
_lock = threading.Lock()
_cached: tuple[int, "Engine"] | None = None
# (pid, when, error) of the last failed build: calls within _RETRY_BUILD_S get the hand-off at once
# rather than each spending a whole build (which outlasts Sanic's 60 s response timeout: a 500)
_failed: tuple[int, float, Exception] | None = None
_RETRY_BUILD_S = 10.0


def _reset_after_fork() -> None:
    global _lock, _cached, _failed
    _lock = threading.Lock()
    _cached = None
    _failed = None


os.register_at_fork(after_in_child=_reset_after_fork)


def get_engine() -> "Engine":
    """This process's engine, built on first use from ``SHOPASSIST_CONFIG`` + environment.

    rasa-sdk forces a module-level cache: actions are instantiated by its executor, not by us.
    A forked or spawned worker builds its own engine; a failed build is retried on the first call
    :data:`_RETRY_BUILD_S` seconds after it (calls before then fail at once with its error).
    """
    global _cached, _failed
    pid = os.getpid()
    cached = _cached
    if cached is not None and cached[0] == pid:
        return cached[1]
    with _lock:
        if _cached is None or _cached[0] != pid:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from engine.engine import Engine
            from engine.errors import ShopAssistError

            failed = _failed
            if failed is not None and failed[0] == pid and time.monotonic() - failed[1] < _RETRY_BUILD_S:
                raise failed[2]
            try:
                engine = Engine.from_config()
                engine.warm_up()
            except ShopAssistError as exc:
                _failed = (pid, time.monotonic(), exc)
                raise
            _failed = None
            _cached = (pid, engine)
        return _cached[1]


def use_engine(engine: "Engine | None") -> None:
    """Make this process's actions use ``engine`` (tests, in-process embedding); None forgets it."""
    global _cached, _failed
    with _lock:
        _cached = (os.getpid(), engine) if engine is not None else None
        _failed = None


async def _engine() -> "Engine":
    from engine.errors import ShopAssistError

    try:
        return await asyncio.to_thread(get_engine)
    except ShopAssistError as exc:  # config, models, data: all mean "cannot answer now"
        raise _EngineUnavailable(str(exc)) from exc


# -- reading the action call ---------------------------------------------------------------------
def session_for(sender_id: Any) -> str:
    """The engine session for a Rasa ``sender_id`` (the id itself, hashed when too long)."""
    if not isinstance(sender_id, str) or not sender_id.strip():
        raise _Rejected("the tracker has no sender_id")
    if len(sender_id) <= _MAX_SESSION_ID:
        return sender_id
    return "rasa-" + hashlib.sha256(sender_id.encode("utf-8", "replace")).hexdigest()


def _latest_text(tracker: Tracker) -> str:
    text = (tracker.latest_message or {}).get("text")
    if text is None:
        raise _Rejected("the tracker has no user message to answer")
    if not isinstance(text, str):
        raise _Rejected(f"latest_message.text must be a string, got {type(text).__name__}")
    return text


def _slots(tracker: Tracker) -> dict[str, Any]:
    return tracker.slots if isinstance(tracker.slots, dict) else {}


def _domain_slots(domain: dict[str, Any] | None) -> dict[str, Any]:
    slots = (domain or {}).get("slots")
    return slots if isinstance(slots, dict) else {}


def _mappings(spec: Any) -> list[dict[str, Any]]:
    mappings = spec.get("mappings") if isinstance(spec, dict) else None
    return [m for m in mappings if isinstance(m, dict)] if isinstance(mappings, list) else []


def _set_only_by_actions(domain: dict[str, Any] | None, slot: str) -> bool:
    """True when the domain maps ``slot`` with ``custom`` mappings only (no NLU can fill it)."""
    spec = _domain_slots(domain).get(slot)
    if spec is None:
        return False
    return all(m.get("type") == "custom" for m in _mappings(spec))


def _check_customer_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _CUSTOMER_ID_RE.fullmatch(value.strip()):
        raise _Rejected(f"{where} must be 1-64 letters, digits or _.:@- characters")
    return value.strip()


def acting_customer(tracker: Tracker, domain: dict[str, Any] | None) -> str | None:
    """The customer on whose behalf the engine acts, or None (anonymous).

    ``latest_message.metadata.customer_id`` (an authenticated channel sets it) wins; else the
    ``customer_id`` slot when only actions can set it. The message text is never consulted.
    """
    metadata = (tracker.latest_message or {}).get("metadata")
    if isinstance(metadata, dict) and metadata.get("customer_id") is not None:
        return _check_customer_id(metadata["customer_id"], "metadata.customer_id")
    slot = _slots(tracker).get("customer_id")
    if slot is None:
        return None
    if not _set_only_by_actions(domain, "customer_id"):
        log.warning("ignoring the customer_id slot: the domain lets NLU fill it (use custom mappings)")
        return None
    return _check_customer_id(slot, "the customer_id slot")


def _same_customer(tracker: Tracker, customer: str | None) -> bool:
    """Whether Rasa's slots were filled for ``customer`` (the ``customer_id`` slot names them)."""
    owner = _slots(tracker).get("customer_id")
    return owner is None or owner == customer


def _actor(customer_id: str | None) -> "Actor":
    from connectors.auth import Actor

    return Actor.customer(customer_id) if customer_id else Actor.anonymous()


# -- writing the answer --------------------------------------------------------------------------
def _slot_events(values: dict[str, Any], tracker: Tracker, domain: dict[str, Any] | None,
                 cleared: Iterable[str] = ()) -> list[EventType]:
    """``SlotSet`` for ``values`` (and ``None`` for ``cleared``) where the domain has the slot and
    the tracker holds something else."""
    slots = _domain_slots(domain)
    names = {n for n in values if n in slots} | {n for n in cleared if n in slots}
    events: list[EventType] = []
    for name in sorted(names):
        value = values.get(name)
        if _slots(tracker).get(name) != value:
            events.append(SlotSet(name, value))
    return events


def _handoff(dispatcher: CollectingDispatcher, domain: dict[str, Any] | None, **details: Any) -> list[EventType]:
    """The hand-off signal: a custom message for the channel and the ``handoff`` slot."""
    dispatcher.utter_message(json_message={"handoff": {k: v for k, v in details.items() if v is not None}})
    return [SlotSet("handoff", True)] if "handoff" in _domain_slots(domain) else []


def _language(tracker: Tracker) -> str:
    text = (tracker.latest_message or {}).get("text")
    return detect_language(text[:2000]) if isinstance(text, str) else "en"


def _render(key: str, lang: str, engine: "Engine | None" = None, **values: Any) -> str:
    from engine.responses.templates import Templates

    templates = engine.templates if engine is not None else Templates(store="our store")
    return templates.render(key, lang, **values)


async def _guarded(
    name: str,
    act: Callable[[CollectingDispatcher, Tracker, dict[str, Any]], Awaitable[list[EventType]]],
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
) -> list[EventType]:
    """Runs ``act``; the one place errors become what Rasa and the customer see."""
    from connectors.base import ConnectorUnavailable

    try:
        return await act(dispatcher, tracker, domain)
    except ActionExecutionRejection:
        raise
    except _Rejected as exc:
        raise ActionExecutionRejection(name, str(exc)) from None
    except (_EngineUnavailable, ConnectorUnavailable) as exc:
        key, exc_info = "service_unavailable", False
        reason = "engine unavailable" if isinstance(exc, _EngineUnavailable) else "order system unavailable"
    except Exception as exc:  # noqa: BLE001 - a customer gets an apology, never a 500
        # the exception itself: exc_info=True, read after this block, logged "NoneType: None"
        key, exc_info, reason = "internal_error", exc, "internal error"
    lang = _language(tracker)
    log.error("%s failed (%s) for %s", name, reason, mask_pii(str(tracker.sender_id)[:80]), exc_info=exc_info)
    dispatcher.messages.clear()  # nothing half-said: only the apology goes out
    cached = _cached
    dispatcher.utter_message(text=_render(key, lang, cached[1] if cached and cached[0] == os.getpid() else None))
    return _handoff(dispatcher, domain, reason=reason, action=name)


class _EngineAction(Action, ABC):
    """A custom action whose :meth:`act` runs inside :func:`_guarded` (abstract: rasa-sdk
    registers every concrete ``Action`` subclass it can see)."""

    @abstractmethod
    def name(self) -> str: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        return await _guarded(self.name(), self.act, dispatcher, tracker, domain)

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]: ...


# -- the engine owns the dialogue ----------------------------------------------------------------
def _whole_turn(engine: "Engine", session: str, text: str, customer: str | None) -> tuple[dict[str, Any], "Reply"]:
    """The engine's slots before the turn, and its reply (Rasa runs one turn per conversation
    at a time, so nothing comes between the two)."""
    from engine.errors import StoreError

    try:
        before = dict(engine.state(session, customer_id=customer).slots)
    except StoreError:
        before = {}  # the turn itself answers that the store is down
    return before, engine.respond(session, text, customer_id=customer)


class ActionShopassistRespond(_EngineAction):
    """One whole engine turn for the latest message (session = ``sender_id``).

    Example (domain.yml)::

        actions: [action_shopassist_respond]
        slots:
          product_id: {type: text, mappings: [{type: custom}]}
          handoff: {type: bool, mappings: [{type: custom}]}
    """

    def name(self) -> str:
        return RESPOND_ACTION

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        text = _latest_text(tracker)
        session = session_for(tracker.sender_id)
        customer = acting_customer(tracker, domain)
        engine = await _engine()
        before, reply = await asyncio.to_thread(_whole_turn, engine, session, text, customer)
        dispatcher.utter_message(text=reply.text)
        # the engine keeps one conversation per customer on this sender id; Rasa keeps one: when
        # someone else acts now, nothing of the previous customer's slots stays in Rasa's either
        stale = set() if _same_customer(tracker, customer) else set(_slots(tracker)) - {"customer_id"}
        events = _slot_events(reply.slots, tracker, domain, cleared=(set(before) - set(reply.slots)) | stale)
        if customer is not None:
            events += _slot_events({"customer_id": customer}, tracker, domain)
        if reply.handoff:
            events += _handoff(dispatcher, domain, session_id=session, intent=reply.intent,
                               decided_by=reply.trace.get("decided_by"))
        return events


# -- Rasa owns the dialogue: focused, stateless actions ------------------------------------------
def _decide(engine: "Engine", intent: str, text: str, tracker: Tracker, customer: str | None) -> "Decision":
    """The engine's answer to ``text`` read as ``intent``, with context from Rasa's slots.

    Nothing is written to the engine's tracker store: Rasa owns this conversation's state.
    """
    from engine.flows.base import Decision, Turn
    from engine.state.tracker import DialogueState
    from engine.types import IntentPrediction

    cleaned = clean_text(text)
    limit = engine.settings.dialogue.max_message_chars
    if len(text) > limit:
        lang = detect_language(text[:2000])
        return Decision(_render("too_long", lang, engine, length=len(text), limit=limit), "fallback")
    if not cleaned:
        return Decision(_render("empty_input", "en", engine), "fallback")
    nlu = engine.nlu.parse(cleaned)
    nlu = replace(nlu, intent=IntentPrediction(intent, 1.0))
    context = {k: v for k in ("order_id", "product_id") if isinstance(v := _slots(tracker).get(k), str) and v}
    if not _same_customer(tracker, customer):
        context = {}  # the slots were filled for another customer on this sender id
    state = DialogueState(session_for(tracker.sender_id), slots=context,
                          window=engine.settings.tracker.history_window)
    return engine.decide(Turn(nlu=nlu, state=state, actor=_actor(customer)))


class _FocusedAction(_EngineAction):
    """Answers the latest message as one intent, through the engine's router."""

    intent: ClassVar[str]

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        from engine.state.events import SlotSet as EngineSlotSet

        text = _latest_text(tracker)
        session = session_for(tracker.sender_id)
        customer = acting_customer(tracker, domain)
        engine = await _engine()
        decision = await asyncio.to_thread(_decide, engine, self.intent, text, tracker, customer)
        dispatcher.utter_message(text=decision.text)
        changes = {e.name: e.value for e in decision.events if isinstance(e, EngineSlotSet)}
        events = _slot_events(changes, tracker, domain)
        if decision.handoff_reason:
            events += _handoff(dispatcher, domain, session_id=session, reason=decision.handoff_reason,
                               action=self.name())
        return events


class ActionOrderStatus(_FocusedAction):
    """Status of the order in the message (or the ``order_id`` slot), for the acting customer only."""

    def name(self) -> str:
        return "action_order_status"
    intent = "track_order"


class ActionFaqAnswer(_FocusedAction):
    """An answer from the store's FAQs (hybrid retrieval), or an honest "I don't know"."""

    def name(self) -> str:
        return "action_faq_answer"
    intent = "policy_question"


class ActionProductAnswer(_FocusedAction):
    """A product answer from the catalog graph (product from the message or the ``product_id`` slot)."""

    def name(self) -> str:
        return "action_product_answer"
    intent = "product_question"


def _order_service(engine: "Engine") -> Any:
    """The engine's order connector (the builder wires it into the order flows)."""
    service = engine.orders
    if service is None:
        raise RuntimeError("this engine exposes no order service")
    return service


def _return_problem(engine: "Engine", order: Any) -> bool:
    """True when ``order`` cannot be returned now (the store's rule: :meth:`Engine.return_verdict`)."""
    return not engine.return_verdict(order).eligible


class ValidateReturnForm(FormValidationAction):
    """Validates ``return_form``: ``order_id`` (the customer's, returnable now), ``return_reason``
    and ``return_confirmed`` (the customer's explicit yes or no).

    An anonymous customer cannot start a return: the form ends with a sign-in message.
    """

    def name(self) -> str:
        return "validate_return_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        return await _guarded(self.name(), super().run, dispatcher, tracker, domain)

    async def validate_order_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: dict[str, Any]) -> dict[str, Any]:
        from connectors.base import InvalidOrderId, OrderNotFound, validate_order_id

        engine = await _engine()
        lang = _language(tracker)
        customer = acting_customer(tracker, domain)
        if customer is None:
            dispatcher.utter_message(text=_render("sign_in_needed", lang, engine))
            return {"order_id": None, "requested_slot": None}
        raw = str(value) if value is not None else ""
        try:
            order_id = validate_order_id(raw, getattr(_order_service(engine), "order_id_pattern", None))
            order = await asyncio.to_thread(_order_service(engine).get_order, _actor(customer), order_id)
        except InvalidOrderId:
            dispatcher.utter_message(text=_render("malformed_order_id", lang, engine, order_id=raw[:40]))
            return {"order_id": None}
        except OrderNotFound:
            dispatcher.utter_message(text=_render("order_not_found", lang, engine, order_id=order_id))
            return {"order_id": None}
        if _return_problem(engine, order):
            # the engine's return flow explains why, in the store's words
            probe = Tracker.from_dict({"sender_id": tracker.sender_id, "slots": {"order_id": order_id}})
            decision = await asyncio.to_thread(_decide, engine, "return_item", order_id, probe, customer)
            dispatcher.utter_message(text=decision.text)
            return {"order_id": None}
        return {"order_id": order_id}

    async def validate_return_reason(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: dict[str, Any]) -> dict[str, Any]:
        reason = clean_text(value) if isinstance(value, str) else ""
        if len(reason) < 3:
            dispatcher.utter_message(response="utter_ask_return_reason")
            return {"return_reason": None}
        return {"return_reason": reason[:_MAX_REASON]}

    async def validate_return_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                        domain: dict[str, Any]) -> dict[str, Any]:
        # the same strict gate as the engine's write flows: Rasa's affirm intent alone is not a
        # yes ("what?" or "maybe" can come out as affirm); a clear yes or no from the words, which
        # Rasa's mapping does not contradict, counts; anything else asks again
        from engine.flows.specs import FLOWS
        from engine.nlu.confirm import LexicalConfirmationGate

        verdict = LexicalConfirmationGate().judge(_latest_text(tracker), actions=FLOWS["return_item"].actions)
        if verdict.answer == "yes" and value is True:
            return {"return_confirmed": True}
        if verdict.answer == "no" and value is not True:
            return {"return_confirmed": False}
        return {"return_confirmed": None}


def _return_key(session: str, order_id: str, reason: str) -> str:
    """One key per conversation, order and reason: a retried call never opens a second return."""
    digest = hashlib.sha256(f"{session}\n{order_id}\n{reason}".encode("utf-8", "replace")).hexdigest()
    return f"rasa:return:{order_id}:{digest[:32]}"


class ActionSubmitReturn(_EngineAction):
    """Opens the return the form collected, through the order connector, after the customer's yes.

    ``return_confirmed`` must be ``True`` (a no, or a form that ended early, opens nothing). The
    write carries an idempotency key derived from the conversation, order and reason. The form's
    slots (``order_id`` included) are cleared afterwards, whatever happened, so the next return
    starts afresh.
    """

    def name(self) -> str:
        return "action_submit_return"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        from connectors.base import ActionRefused, NotFound

        slots = _slots(tracker)
        order_id, reason, confirmed = slots.get("order_id"), slots.get("return_reason"), slots.get("return_confirmed")
        customer = acting_customer(tracker, domain)
        if not order_id or not reason or customer is None:
            return []  # the form ended without a returnable order: nothing to open
        clear = _slot_events({"order_id": None, "return_reason": None, "return_confirmed": None}, tracker, domain)
        engine = await _engine()
        lang = _language(tracker)
        if confirmed is not True:
            dispatcher.utter_message(response="utter_return_not_opened", order_id=order_id)
            return clear
        key = _return_key(session_for(tracker.sender_id), str(order_id), str(reason))
        create = _order_service(engine).create_return
        try:
            record = await asyncio.to_thread(create, _actor(customer), str(order_id), str(reason), idempotency_key=key)
        except ActionRefused as exc:
            dispatcher.utter_message(text=_render("write_refused", lang, engine, order_id=order_id,
                                                  reason=exc.reason.replace("_", " ")))
            return clear
        except NotFound:
            dispatcher.utter_message(text=_render("order_not_found", lang, engine, order_id=order_id))
            return clear
        dispatcher.utter_message(text=_render("return_item_done", lang, engine, order_id=order_id,
                                              return_id=record.return_id))
        return clear + _slot_events({"return_id": record.return_id}, tracker, domain)
