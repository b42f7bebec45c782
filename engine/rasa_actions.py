"""Rasa custom actions over the shopassist engine (DESIGN.md §3, ``shopassist actions``).

Rasa picks what kind of answer a message gets; the engine gives it, in one conversation:

* ``action_shopassist_respond`` hands the tracker's latest message to :meth:`engine.Engine.respond`
  as one whole turn (session = ``sender_id``): the engine's own NLU reads it.
* The focused actions (``action_order_status``, ``action_faq_answer``, ``action_product_answer``,
  ``action_recommend``, ``action_cancel_order``, ``action_change_address``) run the same engine
  turn with Rasa's intent in place of the engine's (unless the engine is waiting for an answer it
  asked for), so the engine's conversation keeps the context whichever action ran: "is it
  waterproof?" after a product answer is about that product.
* Before every engine turn, Rasa's ``order_id``/``product_id`` slots (:data:`CONTEXT_SLOTS`: an order
  Rasa's entity mapping or the return form found) are written into the engine's conversation;
  after it, the engine's slots come back as ``SlotSet`` events.
* ``action_shopassist_fallback``, Rasa's core fallback, answers like ``action_shopassist_respond``
  and is followed by nothing but ``action_listen`` (a rule of the example project): no message
  can make Rasa run actions in a loop.
* ``return_form`` is Rasa's: ``validate_return_form`` checks the order (the customer's, delivered,
  inside the return window, no open return), answers a question asked instead of a reason or a
  yes/no and asks again, and reads the yes through the engine's confirmation gate;
  ``action_ask_<slot>`` asks in the customer's language; ``action_submit_return`` opens the
  return through the order connector, once (idempotency key), only after that yes. Every
  customer message gets exactly one bot message: an answer given inside the form ends with the
  form's pending question.

Wire format (what is read from rasa-sdk's action call, field by field):

* ``tracker.sender_id`` — the engine's session id (hashed when longer than the engine allows).
* ``tracker.latest_message.text`` — the only message used: the engine keeps its own bounded
  window, so a tracker of any length costs the same. No text at all rejects the action (HTTP 400).
* ``tracker.latest_message.metadata.customer_id`` — the acting customer, set by an authenticated
  channel; else the ``customer_id`` slot, trusted only when the domain maps it with ``custom``
  mappings alone (set by actions or the API, never by NLU). Never taken from the message text.
  A malformed ``customer_id`` rejects the action (HTTP 400).
* ``tracker.slots.order_id`` / ``product_id`` — context handed to the engine's conversation.
* ``tracker.events`` — read only for the customer's language and whether this turn has already
  said something (the return form), newest first.
* ``domain.slots`` — only slots the domain declares are set.

What comes back: the reply as one bot message; ``SlotSet`` for the engine's slots that exist in
the domain (set, changed, or cleared when the engine dropped them this turn); on a hand-off the
``handoff`` slot (``True``, when the domain has it) and a custom message ``{"handoff": {...}}``
that a channel can act on. Map mirrored slots with a plain ``custom`` mapping: a custom mapping
that names an ``action`` makes Rasa run that action on every message (``action_extract_slots``).

Errors are mapped to what Rasa sees in one place, :func:`_guarded`: a rejection becomes
rasa-sdk's ``ActionExecutionRejection`` (HTTP 400); any other failure becomes a clear apology
plus the hand-off signal (HTTP 200), never a 500 with a traceback.

rasa-sdk imports this module in its main process and in every Sanic worker; :func:`get_engine`
builds one engine per worker process (configured by ``SHOPASSIST_CONFIG`` and ``SHOPASSIST_*``
variables): ``shopassist actions`` builds it before listening, ``python -m rasa_sdk`` on the first
call.

Example:
    $ shopassist actions --port 5055
    $ python -m rasa_sdk --actions engine.rasa_actions --port 5055
"""

from __future__ import annotations

import asyncio
import contextvars
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
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

from engine.privacy import PiiMaskingFilter, mask_pii
from engine.text import clean_text, detect_language

if TYPE_CHECKING:
    from connectors.auth import Actor
    from engine.engine import Engine
    from engine.types import Reply

__all__ = [
    "ActionShopassistRespond",
    "ActionShopassistFallback",
    "ActionOrderStatus",
    "ActionFaqAnswer",
    "ActionProductAnswer",
    "ActionRecommend",
    "ActionCancelOrder",
    "ActionChangeAddress",
    "ActionAskOrderId",
    "ActionAskReturnReason",
    "ActionAskReturnConfirmed",
    "ValidateReturnForm",
    "ActionSubmitReturn",
    "CONTEXT_SLOTS",
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


# -- one conversation: Rasa's context into the engine's, the engine's back into Rasa's -------------
#: the engine's conversation slots that Rasa may also hold (an order found by Rasa's entity mapping
#: or its return form, a product mirrored earlier); customer_id travels as the acting customer
CONTEXT_SLOTS = ("order_id", "product_id")
_MAX_CONTEXT_VALUE = 120
_HINT: contextvars.ContextVar[str | None] = contextvars.ContextVar("shopassist_rasa_intent", default=None)


class _HintedClassifier:
    """The engine's intent classifier, answering with Rasa's intent while a focused action runs a
    turn (:data:`_HINT`, set per call): the action says which kind of answer the Rasa developer
    asked for; the engine's conversation, entities, flows and wording do the rest."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def classify(self, text: str) -> Any:
        hint = _HINT.get()
        if hint is None:
            return self.inner.classify(text)
        from engine.types import IntentPrediction

        return IntentPrediction(hint, 1.0, ranking=((hint, 1.0),), stage="rasa")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _hintable(engine: "Engine") -> None:
    nlu = getattr(engine, "nlu", None)
    if nlu is not None and hasattr(nlu, "classifier") and not isinstance(nlu.classifier, _HintedClassifier):
        nlu.classifier = _HintedClassifier(nlu.classifier)


def _context_values(engine: "Engine", tracker: Tracker, customer: str | None) -> dict[str, str]:
    """Rasa's values of :data:`CONTEXT_SLOTS` that can be handed to the engine (well-formed, and
    filled for this customer)."""
    if not _same_customer(tracker, customer):
        return {}
    from connectors.base import InvalidOrderId, validate_order_id

    values: dict[str, str] = {}
    for name in CONTEXT_SLOTS:
        value = _slots(tracker).get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > _MAX_CONTEXT_VALUE:
            continue
        if name == "order_id":
            try:
                value = validate_order_id(value, getattr(engine.orders, "order_id_pattern", None))
            except InvalidOrderId:
                continue
        values[name] = value.strip()
    return values


def _bring_context(engine: "Engine", session: str, customer: str | None,
                   context: dict[str, str]) -> tuple[dict[str, Any], str | None]:
    """Writes Rasa's ``context`` into the engine's conversation (one ``SlotSet`` each where it
    differs); returns the conversation's slots before the turn and its active flow. Rasa runs one
    action at a time per conversation; a turn that moved on meanwhile wins (the version check)."""
    from engine.errors import StoreError
    from engine.state.events import SlotSet as EngineSlotSet

    try:
        state = engine.state(session, customer_id=customer)
    except StoreError:
        return {}, None  # the turn itself answers that the store is down
    if state.customer_id is not None and state.customer_id != customer:
        # the session id's own conversation is someone else's (an unbound one is the conversation
        # this turn continues and binds: the engine's rule, so Rasa's context goes into it)
        return dict(state.slots), None
    changes = [EngineSlotSet(k, v) for k, v in context.items() if state.slots.get(k) != v]
    if changes:
        try:
            state = engine.store.commit(state, changes)
        except StoreError as exc:
            log.warning("Rasa's context not handed to the engine for %s: %s", mask_pii(session[:80]), exc)
    return dict(state.slots), state.active_flow


def _engine_turn(engine: "Engine", session: str, text: str, customer: str | None, context: dict[str, str],
                 hint: str | None) -> tuple[dict[str, Any], "Reply"]:
    """One engine turn in the engine's conversation, with Rasa's context, and Rasa's intent when
    ``hint`` names one; returns the slots before the turn and the reply."""
    before, active_flow = _bring_context(engine, session, customer, context)
    if active_flow:  # the engine waits for an answer it asked for: it reads the message itself
        hint = None
    if hint is not None:
        _hintable(engine)
    token = _HINT.set(hint)
    try:
        return before, engine.respond(session, text, customer_id=customer)
    finally:
        _HINT.reset(token)


def _reply_events(reply: "Reply", before: dict[str, Any], tracker: Tracker, domain: dict[str, Any],
                  customer: str | None, dispatcher: CollectingDispatcher, session: str) -> list[EventType]:
    """The engine's slots mirrored into Rasa's, and the hand-off signal."""
    # the engine keeps one conversation per customer on this sender id; Rasa keeps one: when
    # someone else acts now, nothing of the previous customer's slots stays in Rasa's either
    stale = set() if _same_customer(tracker, customer) else set(_slots(tracker)) - {"customer_id"} - _FORM_SLOTS
    events = _slot_events(reply.slots, tracker, domain, cleared=(set(before) - set(reply.slots)) | stale)
    if customer is not None:
        events += _slot_events({"customer_id": customer}, tracker, domain)
    if reply.handoff:
        events += _handoff(dispatcher, domain, session_id=session, intent=reply.intent,
                           decided_by=reply.trace.get("decided_by"))
    return events


# -- the form Rasa runs: what it asks, in the customer's language --------------------------------
RETURN_FORM = "return_form"
_FORM_SLOTS = {"requested_slot", "return_reason", "return_confirmed"}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]{2,}")
# between an answer and the form's question: one line break (Rasa's REST channel splits a text at
# blank lines into separate messages)
_PARAGRAPH = "\n"


def _conversation_language(tracker: Tracker, engine: "Engine | None") -> str:
    """The language of the customer's latest message that shows one (a bare order number does
    not), as the store replies in it."""
    texts = [(tracker.latest_message or {}).get("text")]
    texts += [e.get("text") for e in reversed(tracker.events or []) if isinstance(e, dict) and e.get("event") == "user"]
    lang = "en"
    for text in texts:
        if isinstance(text, str) and (_CJK.search(text) or _LATIN.search(text)):
            lang = detect_language(text[:2000])
            break
    reply_language = getattr(getattr(engine, "nlu", None), "reply_language", None)
    return reply_language(lang) if callable(reply_language) else lang


def _in_form(tracker: Tracker) -> bool:
    return (tracker.active_loop or {}).get("name") == RETURN_FORM


def _form_prompt(tracker: Tracker, engine: "Engine", lang: str, slot: str | None = None) -> str | None:
    """The return form's question for ``slot`` (default: the requested one), or None."""
    slot = slot or _slots(tracker).get("requested_slot")
    order_id = _slots(tracker).get("order_id")
    if slot == "order_id":
        return _render("ask_order_id", lang, engine)
    if slot == "return_reason" and order_id:
        return _render("return_ask_reason_short", lang, engine, order_id=order_id)
    if slot == "return_confirmed" and order_id:
        reason = str(_slots(tracker).get("return_reason") or "")[:_MAX_REASON]
        return _render("return_item_confirm", lang, engine, order_id=order_id, reason=reason)
    return None


def _replied_this_turn(tracker: Tracker) -> bool:
    """Whether a bot message went out after the customer's latest message."""
    for event in reversed(tracker.events or []):
        if not isinstance(event, dict):
            continue
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and (event.get("text") or event.get("data")):
            return True
    return False


def _with_prompt(text: str, tracker: Tracker, engine: "Engine", lang: str) -> str:
    """``text``, followed by the form's pending question while the return form is active (one
    message: an answered digression and where the form resumes)."""
    if not _in_form(tracker):
        return text
    prompt = _form_prompt(tracker, engine, lang)
    return f"{text}{_PARAGRAPH}{prompt}" if prompt else text


# -- the engine owns the dialogue ----------------------------------------------------------------
class _TurnAction(_EngineAction, ABC):
    """One engine turn for the latest message in the engine's conversation (session = ``sender_id``).

    Rasa's ``order_id``/``product_id`` slots reach the engine's conversation first; the engine's
    slots come back as ``SlotSet``. Inside the return form the reply ends with the form's pending
    question.
    """

    #: Rasa's intent handed to the engine (None: the engine's own NLU reads the message)
    hint: ClassVar[str | None] = None

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        text = _latest_text(tracker)
        session = session_for(tracker.sender_id)
        customer = acting_customer(tracker, domain)
        engine = await _engine()
        context = _context_values(engine, tracker, customer)
        before, reply = await asyncio.to_thread(_engine_turn, engine, session, text, customer, context, self.hint)
        lang = _conversation_language(tracker, engine)
        dispatcher.utter_message(text=_with_prompt(reply.text, tracker, engine, lang))
        return _reply_events(reply, before, tracker, domain, customer, dispatcher, session)


class ActionShopassistRespond(_TurnAction):
    """One whole engine turn for the latest message: the engine's own NLU reads it.

    Example (domain.yml)::

        actions: [action_shopassist_respond]
        slots:
          product_id: {type: text, mappings: [{type: custom}]}
          handoff: {type: bool, mappings: [{type: custom}]}
    """

    def name(self) -> str:
        return RESPOND_ACTION


class ActionShopassistFallback(_TurnAction):
    """Rasa's core fallback (``RulePolicy.core_fallback_action_name``): the engine answers, and the
    conversation waits for the customer (or the active form resumes). No rule needs to follow it:
    the example's rule ``action_shopassist_fallback → action_listen`` ends every such turn, so an
    unforeseen intent can never make Rasa run actions in a loop."""

    def name(self) -> str:
        return "action_shopassist_fallback"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        events = await super().act(dispatcher, tracker, domain)
        if _in_form(tracker):  # the form asks again (silently: the reply above carries its question)
            events.append(FollowupAction(RETURN_FORM))
        return events


# -- Rasa picks the kind of answer: focused actions, through the engine's conversation -----------
class _FocusedAction(_TurnAction, ABC):
    """Answers the latest message as one intent (Rasa's), as a turn of the engine's conversation:
    the engine keeps the context (the product "it" is, the order discussed) for the next turn,
    whichever action runs it. While the engine waits for an answer (an active flow), it reads the
    message itself."""


class ActionOrderStatus(_FocusedAction):
    """Status of the order in the message (or the ``order_id`` slot), for the acting customer only."""

    hint = "track_order"

    def name(self) -> str:
        return "action_order_status"


class ActionFaqAnswer(_FocusedAction):
    """An answer from the store's FAQs (hybrid retrieval), or an honest "I don't know"."""

    hint = "policy_question"

    def name(self) -> str:
        return "action_faq_answer"


class ActionProductAnswer(_FocusedAction):
    """A product answer from the catalog graph (product from the message or the conversation)."""

    hint = "product_question"

    def name(self) -> str:
        return "action_product_answer"


class ActionRecommend(_FocusedAction):
    """Product recommendations from the catalog graph."""

    hint = "recommend"

    def name(self) -> str:
        return "action_recommend"


class ActionCancelOrder(_FocusedAction):
    """The engine's cancel flow: checks the order can be cancelled, asks yes or no, then cancels it
    once (the customer's yes is read by the engine's confirmation gate)."""

    hint = "cancel_order"

    def name(self) -> str:
        return "action_cancel_order"


class ActionChangeAddress(_FocusedAction):
    """The engine's address-change flow: asks for the new address, confirms, then writes it once."""

    hint = "change_address"

    def name(self) -> str:
        return "action_change_address"


# -- Rasa owns the dialogue: the return form -----------------------------------------------------
def _order_service(engine: "Engine") -> Any:
    """The engine's order connector (the builder wires it into the order flows)."""
    service = engine.orders
    if service is None:
        raise RuntimeError("this engine exposes no order service")
    return service


def _return_problem(engine: "Engine", order: Any) -> bool:
    """True when ``order`` cannot be returned now (the store's rule: :meth:`Engine.return_verdict`)."""
    return not engine.return_verdict(order).eligible


def _why_not_returnable(engine: "Engine", order_id: str, customer: str, lang: str) -> str:
    """The engine's own explanation of why ``order_id`` cannot be returned (without recording a turn)."""
    from engine.flows.base import Turn
    from engine.state.tracker import DialogueState
    from engine.types import IntentPrediction

    nlu = engine.nlu.parse(order_id)
    nlu = replace(nlu, language=lang, intent=IntentPrediction("return_item", 1.0))
    state = DialogueState("rasa-probe", slots={"order_id": order_id}, window=engine.settings.tracker.history_window)
    return engine.decide(Turn(nlu=nlu, state=state, actor=_actor(customer))).text


class _AskAction(_EngineAction):
    """The return form's question for one slot, in the customer's language; silent when this turn
    already said something (a validation's explanation or a digression's answer carries it)."""

    slot: ClassVar[str]

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if _replied_this_turn(tracker):
            return []
        engine = await _engine()
        lang = _conversation_language(tracker, engine)
        prompt = _form_prompt(tracker, engine, lang, self.slot)
        if prompt is not None and _slots(tracker).get("requested_slot") == self.slot and self.slot == "return_confirmed":
            prompt = _render("confirm_reask", lang, engine, question=prompt)  # asked before: yes or no, please
        dispatcher.utter_message(text=prompt or _render("ask_order_id", lang, engine))
        return []


class ActionAskOrderId(_AskAction):
    slot = "order_id"

    def name(self) -> str:
        return "action_ask_order_id"


class ActionAskReturnReason(_AskAction):
    slot = "return_reason"

    def name(self) -> str:
        return "action_ask_return_reason"


class ActionAskReturnConfirmed(_AskAction):
    slot = "return_confirmed"

    def name(self) -> str:
        return "action_ask_return_confirmed"


#: Rasa's intents that leave the return form where it takes free text -> the engine's intent that must agree
_EXITS = {"deny": "deny", "goodbye": "goodbye", "human_agent": "human_agent", "cancel_order": "cancel_order",
          "change_address": "change_address"}

#: the engine's intents that make a message a question rather than a return reason
_QUESTION_INTENTS = frozenset({"policy_question", "product_question", "product_compare", "recommend", "track_order",
                               "refund_status"})


class ValidateReturnForm(FormValidationAction):
    """Validates ``return_form``: ``order_id`` (the customer's, returnable now), ``return_reason``
    (a question asked instead is answered, and the form asks again) and ``return_confirmed`` (the
    customer's explicit yes or no, read by the engine's confirmation gate).

    An anonymous customer cannot start a return: the form ends with a sign-in message.
    """

    def name(self) -> str:
        return "validate_return_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        return await _guarded(self.name(), super().run, dispatcher, tracker, domain)

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: dict[str, Any]) -> list[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        # on activation, an order named earlier in the conversation is checked like a typed one
        order_id = _slots(tracker).get("order_id")
        if (order_id and not _in_form(tracker) and "order_id" not in tracker.slots_to_validate()
                and not any(e.get("name") == "order_id" for e in events if isinstance(e, dict))):
            checked = await self.validate_order_id(order_id, dispatcher, tracker, domain)
            events += [SlotSet(k, v) for k, v in checked.items()]
        return events

    async def validate_order_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: dict[str, Any]) -> dict[str, Any]:
        from connectors.base import InvalidOrderId, OrderNotFound, validate_order_id

        engine = await _engine()
        lang = _conversation_language(tracker, engine)
        customer = acting_customer(tracker, domain)
        if customer is None:
            dispatcher.utter_message(text=_render("sign_in_needed", lang, engine))
            return {"order_id": None, "requested_slot": None}
        raw = str(value) if value is not None else ""
        ask = _render("ask_order_id", lang, engine)
        try:
            order_id = validate_order_id(raw, getattr(_order_service(engine), "order_id_pattern", None))
            order = await asyncio.to_thread(_order_service(engine).get_order, _actor(customer), order_id)
        except InvalidOrderId:
            dispatcher.utter_message(text=_render("malformed_order_id", lang, engine, order_id=raw[:40]))
            return {"order_id": None}
        except OrderNotFound:
            dispatcher.utter_message(text=_render('order_not_found', lang, engine, order_id=order_id) + _PARAGRAPH + ask)
            return {"order_id": None}
        if _return_problem(engine, order):
            why = await asyncio.to_thread(_why_not_returnable, engine, order_id, customer, lang)
            dispatcher.utter_message(text=why + _PARAGRAPH + ask)
            return {"order_id": None}
        return {"order_id": order_id}

    async def validate_return_reason(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: dict[str, Any]) -> dict[str, Any]:
        reason = clean_text(value) if isinstance(value, str) else ""
        engine = await _engine()
        left = await self._leave(dispatcher, tracker, domain, engine)
        if left is not None:
            return {"return_reason": None, **left}
        if len(reason) < 3:
            return {"return_reason": None}  # the form asks again
        if await asyncio.to_thread(self._is_question, engine, reason):
            await self._answer_digression(dispatcher, tracker, domain, engine, "return_reason")
            return {"return_reason": None}
        return {"return_reason": reason[:_MAX_REASON]}

    async def validate_return_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                        domain: dict[str, Any]) -> dict[str, Any]:
        # the same strict gate as the engine's write flows, on the words alone: Rasa's intent is
        # not a yes ("what?" or "maybe" can come out as affirm); unclear asks again
        from engine.flows.specs import FLOWS
        from engine.nlu.confirm import LexicalConfirmationGate

        text = _latest_text(tracker)
        verdict = LexicalConfirmationGate().judge(text, actions=FLOWS["return_item"].actions)
        if verdict.answer == "yes":
            return {"return_confirmed": True}
        if verdict.answer == "no":
            return {"return_confirmed": False}
        engine = await _engine()
        left = await self._leave(dispatcher, tracker, domain, engine)
        if left is not None:
            return {"return_confirmed": None, **left}
        if await asyncio.to_thread(self._is_question, engine, text):
            await self._answer_digression(dispatcher, tracker, domain, engine, "return_confirmed")
        return {"return_confirmed": None}

    @staticmethod
    async def _leave(dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
                     engine: "Engine") -> dict[str, Any] | None:
        """Where the form takes free text, a message that leaves it ("never mind", goodbye, a
        person, a cancellation, an address change): Rasa's intent says so *and* the words agree
        (the confirmation gate reads a no; the engine's NLU reads the same intent) — Rasa's small
        classifier alone reads "the sole came loose" as goodbye. Returns the slots that end the
        form (the engine's answer already sent), or None to stay."""
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent not in _EXITS:
            return None
        text = _latest_text(tracker)
        if intent == "deny":
            from engine.nlu.confirm import LexicalConfirmationGate

            if LexicalConfirmationGate().judge(text).answer != "no":
                return None
            return {"requested_slot": None}  # action_submit_return says nothing was opened
        if (await asyncio.to_thread(engine.nlu.parse, clean_text(text))).intent.intent != _EXITS[intent]:
            return None
        session = session_for(tracker.sender_id)
        customer = acting_customer(tracker, domain)
        context = _context_values(engine, tracker, customer)
        hint = _EXITS[intent] if intent in ("cancel_order", "change_address") else None
        _, reply = await asyncio.to_thread(_engine_turn, engine, session, text, customer, context, hint)
        dispatcher.utter_message(text=reply.text)
        left: dict[str, Any] = {"requested_slot": None}
        if reply.handoff:
            dispatcher.utter_message(json_message={"handoff": {"session_id": session, "intent": reply.intent,
                                                               "decided_by": reply.trace.get("decided_by")}})
            if "handoff" in _domain_slots(domain):
                left["handoff"] = True
        return left

    @staticmethod
    def _is_question(engine: "Engine", text: str) -> bool:
        """Whether ``text`` asks the shop something (a policy, a product, an order) rather than
        answering the form: the engine's NLU says so, surely, or a question mark backs it."""
        intent = engine.nlu.parse(text).intent
        asked = text.rstrip().endswith(("?", "？"))
        return intent.intent in _QUESTION_INTENTS and (intent.confidence >= 0.5 or asked)

    @staticmethod
    async def _answer_digression(dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
                                 engine: "Engine", slot: str) -> None:
        """A question asked instead of the form's answer: one engine turn answers it, followed by
        the form's question again."""
        session = session_for(tracker.sender_id)
        customer = acting_customer(tracker, domain)
        context = _context_values(engine, tracker, customer)
        _, reply = await asyncio.to_thread(_engine_turn, engine, session, _latest_text(tracker), customer, context,
                                           None)
        lang = _conversation_language(tracker, engine)
        prompt = _form_prompt(tracker, engine, lang, slot)
        dispatcher.utter_message(text=reply.text + _PARAGRAPH + prompt if prompt else reply.text)


def _return_key(session: str, order_id: str, reason: str) -> str:
    """One key per conversation, order and reason: a retried call never opens a second return."""
    digest = hashlib.sha256(f"{session}\n{order_id}\n{reason}".encode("utf-8", "replace")).hexdigest()
    return f"rasa:return:{order_id}:{digest[:32]}"


class ActionSubmitReturn(_EngineAction):
    """Opens the return the form collected, through the order connector, after the customer's yes.

    ``return_confirmed`` must be ``True``: a no, or a form the customer left ("never mind"), opens
    nothing and says so. The write carries an idempotency key derived from the conversation, order
    and reason. The form's slots (``order_id`` included) are cleared afterwards, whatever happened,
    so the next return starts afresh.
    """

    def name(self) -> str:
        return "action_submit_return"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        from connectors.base import ActionRefused, NotFound

        slots = _slots(tracker)
        order_id, reason, confirmed = slots.get("order_id"), slots.get("return_reason"), slots.get("return_confirmed")
        customer = acting_customer(tracker, domain)
        clear = _slot_events({"order_id": None, "return_reason": None, "return_confirmed": None}, tracker, domain)
        if confirmed is not True and _replied_this_turn(tracker):
            return clear  # the form ended with its own answer (sign in, goodbye, a person, ...)
        engine = await _engine()
        lang = _conversation_language(tracker, engine)
        if confirmed is not True or not order_id or not reason or customer is None:
            kept = (_render("return_item_kept", lang, engine, order_id=order_id) if order_id
                    else _render("flow_cancelled", lang, engine))
            dispatcher.utter_message(text=kept)
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
