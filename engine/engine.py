"""The engine: one object that answers customer turns (DESIGN.md §3).

It wires the stages (NLU → tracker → router → reply), holds one lock per conversation, commits
each turn's events atomically, and maps every failure to a clear customer reply (and a hand-off
where a human must take over) — a customer never sees a traceback.

A conversation belongs to one customer. It is found by session id *and* customer: an anonymous
conversation becomes a customer's when one first appears on it (logged); from then on another
customer, or an anonymous caller, on the same session id gets a fresh conversation of their own
(:func:`conversation_key`), and the owner's state is neither shown to them nor changed by them.

Example:
    >>> engine = Engine.from_config()                                         # doctest: +SKIP
    >>> engine.respond("s1", "where is my order 100023?", customer_id="C001").route  # doctest: +SKIP
    'flow'
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from connectors.auth import Actor
from engine.dialogue.guards import asks_for_others_data, gives_instructions
from engine.dialogue.questions import is_question
from engine.dialogue.split import split_requests
from engine.errors import StoreError
from engine.flows.base import Decision, Turn
from engine.learn.capture import capture_reason, check_intent, turn_record
from engine.nlu.base import OUT_OF_SCOPE
from engine.nlu.pipeline import NLUPipeline
from engine.privacy import PiiMaskingFilter, mask_pii
from engine.responses.templates import Templates
from engine.router import Router
from engine.settings import Settings
from engine.state.events import (
    BotUttered,
    ConversationBound,
    ConversationReset,
    Event,
    HandoffRequested,
    UserUttered,
)
from engine.state.locks import ConversationLocks, SessionLocks
from engine.state.stores import TrackerStore
from engine.state.tracker import DialogueState
from engine.text import clean_text, detect_language
from engine.types import NLUResult, Reply, SentimentPrediction
from knowledge.kernel.policies import ReturnVerdict, return_verdict

__all__ = ["Engine", "conversation_key"]

# what names an order: "my order", "the package", "订单", "快递"
_ORDER_NOUN_RE = re.compile(r"\b(?:orders?|package|parcel|delivery|shipment|purchase)\b|订单|单号|包裹|快递|物流", re.IGNORECASE)

log = logging.getLogger("shopassist.engine")
log.addFilter(PiiMaskingFilter())

_MAX_SESSION_ID = 200
# entity slots shown in the trace when present (not emails or phone numbers: personal data)
_TRACE_SLOTS = ("brands", "sizes", "colors", "quantities", "dates")


# a message that says nothing of its language: an order number, an emoji, "ok", "yes"
# what is read as typed: an address ("12 Oak St"), an e-mail address, a link
_AS_TYPED_RE = re.compile(r"\d+[A-Za-z]?\s+(?:[A-Za-z]+\.?\s+){0,3}(?:st|street|ave|avenue|rd|road|blvd|lane|ln|dr|drive|way|"
                          r"court|ct|pl|place|terrace|hwy|highway)\b|\d+[A-Za-z]?\s+[A-Za-z][^,\n]{0,40},|"
                          r"\b[A-Za-z]{2}\s+\d{5}(?:-\d{4})?\b|@|https?://|www\.", re.IGNORECASE)
_NO_LANGUAGE_RE = re.compile(r"[^A-Za-z\u3400-\u9fff]*(?:(?:ok|okay|okk|k|yes|yep|no|nope|y|n|thx|hi)[^A-Za-z\u3400-\u9fff]*)?",
                             re.IGNORECASE)


def _in_conversation_language(nlu: Any, state: DialogueState, reply_language: Any = None) -> Any:
    """The reply language of a message that carries none ("100326", "👍", "ok"): the language
    of the customer's last message that did (a Chinese conversation stays Chinese)."""
    if not _NO_LANGUAGE_RE.fullmatch(nlu.text):
        return nlu
    for speaker, said in reversed(state.history):
        if speaker == "user" and not _NO_LANGUAGE_RE.fullmatch(said):
            lang = detect_language(said[:2000])
            lang = reply_language(lang) if reply_language is not None else lang
            return nlu if lang == nlu.language else replace(nlu, language=lang)
    return nlu


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)


def conversation_key(session_id: str, customer_id: str | None) -> str:
    """Where a conversation is stored when the session id's own conversation belongs to someone
    else: one key per (session id, customer or anonymous), at most 200 characters."""
    digest = hashlib.sha256(f"{session_id}\x1f{customer_id or ''}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{session_id[:180]}~{'c' if customer_id else 'a'}{digest[:16]}"


class Engine:
    """Answers customer turns. Build it with :meth:`from_config`; use :meth:`respond`.

    Args:
        settings: the settings tree it was built from.
        nlu: the NLU stage.
        router: the router.
        store: the tracker store (events, snapshots, feedback).
        templates: reply templates (for the engine's own replies: empty, too long, errors).
        locks: per-conversation locks (in-process by default; Redis-based for several workers).
        orders: the business backend behind the order flows, for integrations that call it
            directly (e.g. the Rasa return form).
        locks: one lock per conversation (default: :class:`SessionLocks`, this process only; the
            builder passes Redis locks when ``tracker.lock`` is ``redis``).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        nlu: NLUPipeline,
        router: Router,
        store: TrackerStore,
        templates: Templates,
        locks: ConversationLocks | None = None,
        orders: Any = None,
        understanding: Any = None,
        speller: Any = None,
    ) -> None:
        self.settings = settings
        # misspelt store words read as the store writes them (knowledge.kernel.spelling.Speller)
        self.speller = speller
        # reads each turn in its context between NLU and the router (engine.dialogue.Understanding)
        self.understanding = understanding
        self.orders = orders  # the business backend the flows use (connectors.base protocols)
        self.nlu = nlu
        self.router = router
        self.store = store
        self.templates = templates
        self._locks = locks if locks is not None else SessionLocks()

    @classmethod
    def from_config(cls, path: str | Path | None = None, *, progress: bool = False, **overrides: Any) -> "Engine":
        """Build an engine from a YAML config (default: ``configs/default.yaml``) + environment."""
        from engine.builder import build_engine
        from engine.settings import load_settings

        return build_engine(load_settings(path, **overrides), progress=progress)

    # -- the public verbs -----------------------------------------------------------------
    def respond(self, session_id: str, text: str | bytes, *, customer_id: str | None = None) -> Reply:
        """Answer one customer turn. Never raises for anything the customer typed."""
        started = time.perf_counter()
        session_id = self._check_session(session_id)
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8", errors="replace")
        if not isinstance(text, str):
            raise TypeError(f"text must be str or bytes, got {type(text).__name__}")
        actor = self._actor(customer_id)
        trace: dict[str, Any] = {}
        try:
            with self._locks.hold(session_id):
                return self._turn(session_id, text, actor, trace, started)
        except TimeoutError:
            lang = detect_language(text[:2000])
            return Reply(text=self.templates.render("internal_error", lang), intent="", confidence=0.0,
                         route="handoff", session_id=session_id, handoff=True,
                         trace={"error": "session busy", "total_ms": _ms(started)})
        except StoreError as exc:  # the shared lock's Redis is down: nothing was read or written
            log.error("session lock unavailable for %s: %s", session_id, exc)
            return self._error_reply(session_id, text, "store_unavailable", trace, started, None)
        except Exception as exc:  # last resort (a store or lock bug): an apology, never a traceback
            log.exception("turn of %s failed outside the pipeline: %s", session_id, mask_pii(str(exc)))
            return self._error_reply(session_id, clean_text(text[:2000]), "internal_error", trace, started, None)

    async def arespond(self, session_id: str, text: str | bytes, *, customer_id: str | None = None) -> Reply:
        """:meth:`respond` without blocking the event loop."""
        return await asyncio.to_thread(self.respond, session_id, text, customer_id=customer_id)

    def feedback(
        self,
        session_id: str,
        *,
        rating: int | None = None,
        correction: str | None = None,
        comment: str | None = None,
        handoff: bool = False,
        customer_id: str | None = None,
    ) -> int:
        """Store feedback on the session's latest turn durably; returns the record id.

        The record names the turn (text, predicted intent, confidence, route, sources and the
        intent model version); ``handoff=True`` says the turn should have gone to a person.
        ``customer_id``: whose conversation on ``session_id`` it is (None: the session id's own).
        """
        session_id = self._check_session(session_id)
        conversation = self._owned(session_id, customer_id)
        if rating is not None and rating not in (-1, 0, 1):
            raise ValueError(f"rating must be -1, 0 or 1, got {rating!r}")
        if rating is None and correction is None and comment is None and not handoff:
            raise ValueError("give at least one of rating, correction, comment or handoff")
        if handoff and rating is None:
            rating = -1
        if correction is not None:  # a correction names an intent of the catalog (UnknownIntent: the closest)
            correction = check_intent(correction, self._intent_names())
        last_user: UserUttered | None = None
        last_bot: BotUttered | None = None
        events = self.store.events(conversation.session_id, last=64)  # the latest turn, not the whole log
        for e in reversed(events):
            if last_bot is None and isinstance(e, BotUttered):
                last_bot = e
            if isinstance(e, UserUttered):
                last_user = e
                break
        return self.store.add_feedback(turn_record(
            conversation.session_id, conversation.turns, kind="user",
            reason="handoff_requested" if handoff else None,
            rating=rating, correction=correction, comment=comment,
            text=last_user.text if last_user else None,
            intent=last_user.intent if last_user else None,
            confidence=last_user.confidence if last_user else None,
            route=last_bot.route if last_bot else None,
            sources=last_bot.sources if last_bot else (),
            model_version=last_user.model if last_user else None,
        ))

    def _intent_names(self) -> set[str]:
        """The intents a correction may name: the router's catalog, or the intent catalog (the
        classifier's own intents too: a store's extra intents)."""
        from engine.nlu.catalog import load_intent_catalog

        catalog = getattr(self.router, "catalog", None)
        classifier = getattr(self.nlu, "classifier", None)
        return {*(catalog if catalog is not None else load_intent_catalog()),
                *getattr(classifier, "labels", ()), "out_of_scope"}

    def reset(self, session_id: str, *, customer_id: str | None = None) -> None:
        """Start the conversation afresh (the event log keeps its history)."""
        session_id = self._check_session(session_id)
        with self._locks.hold(session_id):
            self.store.commit(self._owned(session_id, customer_id), [ConversationReset()])

    def state(self, session_id: str, *, customer_id: str | None = None) -> DialogueState:
        """The state of the conversation ``customer_id`` has on ``session_id`` (None: the session
        id's own conversation, whoever it belongs to)."""
        return self._owned(self._check_session(session_id), customer_id)

    def _owned(self, session_id: str, customer_id: str | None) -> DialogueState:
        """For the integrator's own calls (``state``, ``reset``, ``feedback``): the conversation of
        ``customer_id`` on ``session_id``, or with None the session id's own conversation (a
        customer's turns are always read and written through :meth:`_conversation`)."""
        if customer_id is None:
            return self.store.load(session_id)
        return self._conversation(session_id, self._actor(customer_id))

    @staticmethod
    def _actor(customer_id: str | None) -> Actor:
        if customer_id is not None and not isinstance(customer_id, str):
            raise TypeError(f"customer_id must be str or None, got {type(customer_id).__name__}")
        return Actor.customer(customer_id.strip()) if customer_id and customer_id.strip() else Actor.anonymous()

    def _conversation(self, session_id: str, actor: Actor, *, bind: bool = False) -> DialogueState:
        """The conversation ``actor`` has on ``session_id``; with ``bind``, an unowned one becomes theirs.

        The session id's own conversation serves its owner, and an anonymous conversation the
        first customer who appears on it; anyone else gets the conversation kept under
        :func:`conversation_key` for them, so nobody reads or continues another's.
        """
        me = actor.customer_id if actor.role == "customer" else None
        state = self.store.load(session_id)
        if state.customer_id != me and state.customer_id is not None:
            state = self.store.load(conversation_key(session_id, me))
        if bind and me is not None and state.customer_id is None:
            log.info("conversation %s now belongs to customer %s", state.session_id, me)
            state = self.store.commit(state, [ConversationBound(me)])
        return state

    # -- for integrations that run their own dialogue (the Rasa face) ---------------------------
    def return_verdict(self, order: Any, today: date | None = None) -> ReturnVerdict:
        """Whether ``order`` may be returned today, by the store's return rule and window (the same
        rule the engine's flows and the business system apply)."""
        day = today if today is not None else datetime.now(timezone.utc).date()
        return return_verdict(order, day, self.settings.dialogue.return_window_days)

    def decide(self, turn: Turn) -> Decision:
        """The router's decision for one analysed turn, without recording anything: for a caller
        that owns the conversation's state itself."""
        return self.router.route(turn)

    def warm_up(self) -> None:
        """Load models and indexes now rather than on the first turn."""
        self.nlu.parse("hello")
        if self.speller is not None:
            len(self.speller)  # the store's words and their misspellings' index
        warm_classifier = getattr(self.nlu.classifier, "warm_up", None)
        if warm_classifier is not None:  # a two-stage classifier: "hello" reached only its fast stage
            warm_classifier()
        warm_entities = getattr(self.nlu.entities, "warm_up", None)
        if warm_entities is not None:  # the product linker's embedding fallback
            warm_entities()
        self.router.warm_up()

    # -- one turn -------------------------------------------------------------------------
    @staticmethod
    def _check_session(session_id: str) -> str:
        if not isinstance(session_id, str) or not session_id.strip():
            raise ValueError("session_id must be a non-empty string")
        if len(session_id) > _MAX_SESSION_ID:
            raise ValueError(f"session_id must be at most {_MAX_SESSION_ID} characters")
        return session_id

    def _turn(self, session_id: str, raw: str, actor: Actor, trace: dict[str, Any], started: float) -> Reply:
        limit = self.settings.dialogue.max_message_chars
        t = time.perf_counter()
        try:
            state = self._conversation(session_id, actor, bind=True)
        except StoreError as exc:
            log.error("tracker store unavailable for %s: %s", session_id, exc)
            return self._error_reply(session_id, raw, "store_unavailable", trace, started, None)
        trace["state_load_ms"] = _ms(t)

        per_minute = self.settings.dialogue.max_turns_per_minute
        if per_minute is not None and state.turns_within(60.0, time.time()) >= per_minute:
            return self._rate_limited(session_id, raw, state, per_minute, trace, started)

        if len(raw) > limit:
            lang = detect_language(raw[:2000])
            text = self.templates.render("too_long", lang, length=len(raw), limit=limit)
            decision = Decision(text, "fallback", decided_by="input:too_long")
            # cleaned: a lone surrogate in the raw text cannot be encoded by any store
            return self._finish(session_id, state, clean_text(raw[:limit]), "", 0.0, lang, None, decision,
                                trace, started)
        cleaned = clean_text(raw)
        if not cleaned:
            decision = Decision(self.templates.render("empty_input", "en"), "fallback", decided_by="input:empty")
            return self._finish(session_id, state, cleaned, "", 0.0, "en", None, decision, trace, started)

        try:
            t = time.perf_counter()
            read = self._spelt(cleaned, state)
            nlu = self.nlu.parse(read, trace)
            nlu = _in_conversation_language(nlu, state, getattr(self.nlu, "reply_language", None))
            trace["nlu_ms"] = _ms(t)
            t = time.perf_counter()
            parts = split_requests(read) if self._may_split(state, read) else [read]
            several = self._several(parts, nlu, state, actor, trace) if len(parts) > 1 else None
            if several is not None:
                nlu, decision = several
            else:
                nlu, decision = self._decide(Turn(nlu=nlu, state=state, actor=actor), trace)
            trace["route_ms"] = _ms(t)
        except Exception as exc:  # the one place internal errors become a customer reply
            log.exception("turn failed in %s: %s", session_id, mask_pii(str(exc)))
            return self._error_reply(session_id, cleaned, "internal_error", trace, started, state)
        trace.update(
            model_version=nlu.intent.model,
            **({"intent_stage": nlu.intent.stage} if nlu.intent.stage else {}),
            language=nlu.language,
            intent_ranking=[list(r) for r in nlu.intent.ranking[:3]],
            oos_reason=nlu.intent.oos_reason,
            sentiment_score=round(nlu.sentiment.score, 3),
            # emails and phone numbers are left out: the trace is logged and returned
            entities={"order_ids": list(nlu.entities.order_ids),
                      "products": list(nlu.entities.product_ids),
                      **{k: list(v) for k in _TRACE_SLOTS if (v := getattr(nlu.entities, k))}},
        )
        # stored and shown as typed (full-width punctuation kept); the models read the folded form
        return self._finish(session_id, state, clean_text(raw, fold=False), nlu.intent.intent,
                            nlu.intent.confidence, nlu.language, nlu.sentiment, decision, trace, started,
                            model=nlu.intent.model)

    def _spelt(self, text: str, state: DialogueState) -> str:
        """``text`` with misspelt store words corrected ("wheres my secuirty camra"), for the models
        and the stages after them; never while a flow waits for the customer's own words (an
        address, a reason) nor in a message holding an address or a contact: those stay as typed."""
        if self.speller is None:
            return text
        step = state.slots.get("flow_step")
        if (state.active_flow and step not in (None, "confirm")) or _AS_TYPED_RE.search(text):
            return text
        return self.speller.correct(text)

    def _decide(self, turn: Turn, trace: dict[str, Any] | None) -> tuple[NLUResult, Decision]:
        """The understanding stage's reading of ``turn`` (when there is one), then the router's decision."""
        if self.understanding is not None:
            turn = self.understanding.read(turn, trace)
        decision = self.router.route(turn)
        if self.understanding is not None:
            decision = self.understanding.settle(turn, decision)
        return turn.nlu, decision

    def _may_split(self, state: DialogueState, text: str) -> bool:
        """Several requests are read apart only outside a flow's step: an answer to "the reason?" or
        "shall I cancel it?" is one answer, whatever its words; a message that gives the assistant new
        instructions, or asks for other customers' data, is read whole (its pieces are no requests of
        their own)."""
        return (self.understanding is not None and not state.slots.get("flow_step") and not gives_instructions(text)
                and not asks_for_others_data(text))

    def _several(self, parts: list[str], whole: NLUResult, state: DialogueState, actor: Actor,
                 trace: dict[str, Any]) -> tuple[NLUResult, Decision] | None:
        """Each request of a message answered in turn ("cancel 100031 and when does 100023 come?"),
        or None when the pieces are not separate requests (the message is then read whole).

        A request that starts a change (a cancellation, a return) goes last, so its question ends
        the reply; each piece is read against the state the pieces before it leave."""
        readings = [(part, self.nlu.parse(part)) for part in parts]
        if all(n.intent.intent == OUT_OF_SCOPE and not n.entities.order_ids and not n.entities.product_ids
               for _, n in readings):
            return None
        writes = self.router.catalog.order_intents - self.router.catalog.read_order_intents
        readings.sort(key=lambda r: r[1].intent.intent in writes)  # stable: the others keep their order
        decided: list[tuple[NLUResult, Decision]] = []
        remarks = 0
        current = state
        named = set(whole.entities.order_ids)
        for _, nlu in readings:
            if current.slots.get("flow_step") and not is_question(nlu.text):
                # a change already waits for its answer: a piece said before that question is no
                # answer to it ("100329里的手机能帮我删掉吗？多士炉我还要"), and would only repeat it
                remarks += 1
                continue
            if (len(named) == 1 and not nlu.entities.order_ids and not nlu.entities.malformed_order_ids
                    and nlu.intent.intent in self.router.catalog.order_intents):
                # "give me the number of whoever ordered 100024? their package got left at my door":
                # an order request in one piece is about the one order the message names
                nlu = replace(nlu, entities=replace(nlu.entities, order_ids=tuple(named)))
            nlu, decision = self._decide(Turn(nlu=nlu, state=current, actor=actor), None)
            if decision.route == "fallback":
                continue  # a piece that is no request of its own ("two things")
            if (decided and decision.decided_by.endswith(":ask") and not is_question(nlu.text)
                    and not _ORDER_NOUN_RE.search(nlu.text)):
                # "does it have gps? wanna track my bike rides": a remark beside the question, which
                # names no order, is no order request ("which order?" would come from nowhere)
                remarks += 1
                continue
            if decided and decision.text == decided[-1][1].text:
                continue  # two pieces asking the same thing
            decided.append((nlu, decision))
            for event in decision.events:
                current = current.apply(event)
            if decision.route == "handoff":
                break
        if len(decided) > 1:  # a greeting or thanks beside a real request adds nothing to its answer
            decided = [(n, d) for n, d in decided if d.route != "template" or d.events] or decided
        if len(decided) == 1 and remarks:
            return decided[0]  # the one request beside the remarks: its own answer
        if len(decided) < 2:
            return None
        lang = decided[0][0].language
        trace["requests"] = [{"intent": n.intent.intent, "decided_by": d.decided_by} for n, d in decided]
        first = decided[0][1]
        combined = Decision(
            ("" if lang == "zh" else " ").join(d.text for _, d in decided),
            next((d.route for _, d in decided if d.route == "handoff"), first.route),
            sources=[src for _, d in decided for src in d.sources],
            events=[e for _, d in decided for e in d.events],
            handoff_reason=next((d.handoff_reason for _, d in decided if d.handoff_reason), None),
            decided_by="+".join(d.decided_by for _, d in decided),
            keep_flow=any(d.keep_flow for _, d in decided),
            generation=next((d.generation for _, d in decided if d.generation), None),
            write=next((d.write for _, d in decided if d.write), None),
        )
        return decided[0][0], combined

    def _finish(
        self,
        session_id: str,
        state: DialogueState,
        user_text: str,
        intent: str,
        confidence: float,
        lang: str,
        sentiment: SentimentPrediction | None,
        decision: Decision,
        trace: dict[str, Any],
        started: float,
        model: str = "",
    ) -> Reply:
        events: list[Event] = [UserUttered(user_text, intent=intent, confidence=confidence, language=lang,
                                           sentiment=sentiment.score if sentiment else 0.0, model=model)]
        events.extend(decision.events)
        if decision.handoff_reason:
            events.append(HandoffRequested(decision.handoff_reason,
                                           summary=self._summary(state, user_text, intent)))
        events.append(BotUttered(decision.text, route=decision.route, intent=intent,
                                 sources=tuple(s.id for s in decision.sources)))
        t = time.perf_counter()
        try:
            new_state = self.store.commit(state, events, **self._capture(state, user_text, intent, confidence,
                                                                         decision, model))
        except StoreError as exc:
            log.error("could not commit turn of %s: %s", session_id, exc)
            if decision.write is None:
                return self._error_reply(session_id, user_text, "store_unavailable", trace, started, None)
            # the business system made the change: say so (the next turn reads the write's record
            # back from the business system, see WriteSteps.reconcile); never "it failed"
            trace.update(error="store_unavailable", turn_recorded=False, decided_by=decision.decided_by,
                         total_ms=_ms(started))
            return Reply(text=decision.text, intent=intent or "out_of_scope",
                         confidence=float(min(1.0, max(0.0, confidence))), route=decision.route,
                         sources=list(decision.sources), sentiment=sentiment.label if sentiment else "neutral",
                         slots={}, trace=trace, session_id=session_id)
        trace["state_commit_ms"] = _ms(t)
        trace["decided_by"] = decision.decided_by
        if decision.generation:
            trace["generation"] = dict(decision.generation)
        trace["total_ms"] = _ms(started)
        return Reply(
            text=decision.text,
            intent=intent or "out_of_scope",
            confidence=float(min(1.0, max(0.0, confidence))),
            route=decision.route,
            sources=list(decision.sources),
            sentiment=sentiment.label if sentiment else "neutral",
            slots=dict(new_state.slots),
            trace=trace,
            session_id=session_id,
            handoff=decision.handoff_reason is not None,
            handoff_reason=decision.handoff_reason,
        )

    def _capture(self, state: DialogueState, text: str, intent: str, confidence: float,
                 decision: Decision, model: str) -> dict[str, Any]:
        """``commit`` keywords storing this turn for review (hand-off, low confidence) with it."""
        reason = capture_reason(self.settings.learn, intent=intent, confidence=confidence,
                                handoff=decision.handoff_reason is not None)
        if reason is None:
            return {}
        return {"feedback": [turn_record(
            state.session_id, state.turns + 1, kind="auto", reason=reason, text=text, intent=intent,
            confidence=confidence, route=decision.route, sources=(s.id for s in decision.sources),
            model_version=model, comment=decision.handoff_reason)]}

    def _error_reply(self, session_id: str, text: str, key: str, trace: dict[str, Any],
                     started: float, state: DialogueState | None) -> Reply:
        """A clear reply plus a hand-off; the turn is committed when the store still works."""
        lang = detect_language(text[:2000])
        decision = Decision(self.templates.render(key, lang), "handoff",
                            handoff_reason=key.replace("_", " "), decided_by=f"error:{key}")
        trace["error"] = key
        if state is not None:
            return self._finish(session_id, state, text[: self.settings.dialogue.max_message_chars],
                                "", 0.0, lang, None, decision, trace, started)
        trace["total_ms"] = _ms(started)
        return Reply(text=decision.text, intent="out_of_scope", confidence=0.0, route="handoff",
                     session_id=session_id, trace=trace, handoff=True, handoff_reason=decision.handoff_reason)

    def _rate_limited(self, session_id: str, raw: str, state: DialogueState, per_minute: int,
                      trace: dict[str, Any], started: float) -> Reply:
        """"Please slow down": the turn is neither stored nor counted, so a flood cannot grow the
        conversation's log, push real turns out of its history or hand it off."""
        trace.update(decided_by="input:rate_limited", rate_limited=True, total_ms=_ms(started))
        text = self.templates.render("rate_limited", detect_language(raw[:2000]), limit=per_minute)
        return Reply(text=text, intent="out_of_scope", confidence=0.0, route="fallback", slots=dict(state.slots),
                     trace=trace, session_id=session_id)

    @staticmethod
    def _summary(state: DialogueState, user_text: str, intent: str) -> str:
        """The hand-off summary for the agent, masked (the store also replaces encrypted slots' values)."""
        recent = [f"{who}: {text[:120]}" for who, text in state.history[-4:]]
        recent.append(f"user: {user_text[:200]}")
        slots = ", ".join(f"{k}={v}" for k, v in sorted(state.slots.items())) or "none"
        return mask_pii(f"intent={intent or 'unknown'}; slots: {slots}; recent: " + " | ".join(recent))
