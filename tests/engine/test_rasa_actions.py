"""engine.rasa_actions called as rasa-sdk calls them: (dispatcher, tracker, domain) in, events out.

Fast tests use small fakes; the ``slow`` ones run every action over the real engine and the demo
store, with the example project's own domain (examples/rasa/domain.yml).
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

from engine import rasa_actions
from engine.errors import ConfigError
from engine.responses.templates import Templates
from engine.types import Reply

EXAMPLE_DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "examples" / "rasa" / "domain.yml").read_text(encoding="utf-8"))


def tracker(text: str | None = "hi", *, sender: str = "t-1", customer: object = None,
            slots: dict | None = None, events: list | None = None, intent: str | None = None) -> Tracker:
    latest: dict = {"text": text, "intent": {"name": intent, "confidence": 1.0} if intent else {},
                    "entities": [], "metadata": {}}
    if customer is not None:
        latest["metadata"] = {"customer_id": customer}
    return Tracker.from_dict({"sender_id": sender, "slots": dict(slots or {}), "latest_message": latest,
                              "events": list(events or []), "active_loop": {}})


def run(action, track: Tracker, domain: dict | None = None) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, EXAMPLE_DOMAIN if domain is None else domain))
    return dispatcher.messages, events


def slot_events(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def handoffs(messages: list[dict]) -> list[dict]:
    return [m["custom"]["handoff"] for m in messages if m.get("custom")]


class FakeNlu:
    """The engine's NLU as the form reads it: nothing here is a question or leaves the form."""

    def parse(self, text):
        return SimpleNamespace(intent=SimpleNamespace(intent="other", confidence=0.0), language="en")


class FakeStore:
    """The engine's conversation store, as Rasa's context is written into it."""

    def __init__(self) -> None:
        self.commits: list[list] = []

    def commit(self, state, events):
        self.commits.append(list(events))
        slots = {**state.slots, **{e.name: e.value for e in events}}
        return SimpleNamespace(slots=slots, customer_id=state.customer_id, active_flow=state.active_flow)


class EchoEngine:
    orders = None  # no order connector: an order number in Rasa's slots is checked by form alone

    def __init__(self, *, raises: Exception | None = None, handoff: bool = False, slots: dict | None = None,
                 before: dict | None = None):
        self.calls: list[tuple[str, str, str | None]] = []
        self.raises, self.handoff, self.slots, self.before = raises, handoff, slots or {}, before or {}
        self.templates = Templates(store="Testshop")
        self.nlu = FakeNlu()
        self.store = FakeStore()

    def state(self, session_id, *, customer_id=None):
        # the conversation this customer has on the session (the engine's own ownership rule)
        return SimpleNamespace(slots=dict(self.before), customer_id=customer_id, active_flow=None)

    def respond(self, session_id, text, *, customer_id=None):
        self.calls.append((session_id, text, customer_id))
        if self.raises is not None:
            raise self.raises
        return Reply(text=f"echo: {text}", intent="greet", confidence=1.0, route="template",
                     slots=dict(self.slots), session_id=session_id, handoff=self.handoff)


@pytest.fixture
def echo():
    def use(**kwargs):
        eng = EchoEngine(**kwargs)
        rasa_actions.use_engine(eng)
        return eng
    yield use
    rasa_actions.use_engine(None)


# -- registration and the example project ---------------------------------------------------------
def test_the_module_registers_exactly_the_example_domains_actions():
    executor = ActionExecutor()
    executor.register_package("engine.rasa_actions")
    # every action the module registers is one the example domain lists, and the reverse
    assert set(executor.actions) == set(EXAMPLE_DOMAIN["actions"])
    assert "return_form" in EXAMPLE_DOMAIN["forms"]


# -- one engine per worker process ----------------------------------------------------------------
class _Built:
    count = 0

    def __init__(self) -> None:
        type(self).count += 1

    def warm_up(self) -> None:
        pass


@pytest.fixture
def counting_builder(monkeypatch):
    from engine.engine import Engine

    _Built.count = 0
    rasa_actions.use_engine(None)
    monkeypatch.setattr(Engine, "from_config", classmethod(lambda cls, *a, **k: _Built()))
    yield _Built
    rasa_actions.use_engine(None)


def test_get_engine_builds_once_per_process_even_under_concurrency(counting_builder):
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(rasa_actions.get_engine())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counting_builder.count == 1
    assert len({id(e) for e in got}) == 1


def test_a_forked_worker_builds_its_own_engine(counting_builder):
    parent = rasa_actions.get_engine()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what a forked worker process sees
        try:
            child = rasa_actions.get_engine()
            os.write(write, f"{int(child is not parent)} {counting_builder.count}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    fresh, count = os.read(read, 100).decode().split()
    assert fresh == "1" and count == "2"
    assert rasa_actions.get_engine() is parent and counting_builder.count == 1


def test_a_failed_build_is_mapped_and_retried(monkeypatch):
    from engine.engine import Engine

    rasa_actions.use_engine(None)
    attempts = []

    def flaky(cls, *a, **k):
        attempts.append(1)
        if len(attempts) == 1:
            raise ConfigError("invalid configuration: nlu.confidence_threshold")
        return EchoEngine()

    monkeypatch.setattr(Engine, "from_config", classmethod(flaky))
    monkeypatch.setattr(EchoEngine, "warm_up", lambda self: None, raising=False)
    monkeypatch.setattr(rasa_actions, "_RETRY_BUILD_S", 0.0)  # retried on the very next call
    try:
        messages, events = run(rasa_actions.ActionShopassistRespond(), tracker("hi"))
        assert messages[0]["text"] == Templates().render("service_unavailable", "en")
        assert handoffs(messages) == [{"reason": "engine unavailable", "action": "action_shopassist_respond"}]
        assert slot_events(events) == {"handoff": True}
        messages, _ = run(rasa_actions.ActionShopassistRespond(), tracker("hi again"))
        assert messages[0]["text"] == "echo: hi again" and len(attempts) == 2
    finally:
        rasa_actions.use_engine(None)


# -- who the customer is --------------------------------------------------------------------------
def test_customer_comes_from_metadata_before_the_slot_and_never_from_text(echo):
    eng = echo()
    run(rasa_actions.ActionShopassistRespond(), tracker("I am C002", customer="C001", slots={"customer_id": "C009"}))
    run(rasa_actions.ActionShopassistRespond(), tracker("I am customer C002", slots={"customer_id": "C009"}))
    run(rasa_actions.ActionShopassistRespond(), tracker("I am customer C002"))
    run(rasa_actions.ActionShopassistRespond(), tracker("hi", customer=" C001\n"))  # surrounding blanks go
    assert [c[2] for c in eng.calls] == ["C001", "C009", None, "C001"]


def test_a_customer_slot_that_nlu_can_fill_is_not_trusted(echo):
    eng = echo()
    domain = {"slots": {"customer_id": {"type": "text", "mappings": [{"type": "from_text"}]}}}
    run(rasa_actions.ActionShopassistRespond(), tracker("C002", slots={"customer_id": "C002"}), domain)
    assert eng.calls[-1][2] is None


@pytest.mark.parametrize("bad", [12345, "", "  ", "C0 01", "x" * 65, {"id": "C001"}, "C001\nC002", "C001;drop"])
def test_a_malformed_customer_id_rejects_the_action(echo, bad):
    eng = echo()
    with pytest.raises(ActionExecutionRejection) as info:
        run(rasa_actions.ActionShopassistRespond(), tracker("hi", customer=bad))
    assert "metadata.customer_id" in info.value.message
    assert eng.calls == []


def test_no_user_message_rejects_the_action(echo):
    with pytest.raises(ActionExecutionRejection):
        run(rasa_actions.ActionShopassistRespond(), tracker(None))


def test_long_sender_ids_map_to_a_stable_short_session():
    long_id = "x" * 500
    assert rasa_actions.session_for("abc") == "abc"
    assert rasa_actions.session_for(long_id) == rasa_actions.session_for(long_id)
    assert len(rasa_actions.session_for(long_id)) <= 200
    assert rasa_actions.session_for(long_id) != rasa_actions.session_for("y" * 500)


# -- what comes back ------------------------------------------------------------------------------
def test_slots_mirror_the_engine_only_where_the_domain_has_them(echo):
    echo(before={"product_id": "P1", "order_id": "100031"}, slots={"order_id": "100023", "not_in_domain": "x"})
    messages, events = run(rasa_actions.ActionShopassistRespond(),
                           tracker("hi", customer="C001", slots={"product_id": "P1", "return_reason": "too small"}))
    # the engine dropped product_id this turn: cleared; return_reason is Rasa's own: left alone
    assert slot_events(events) == {"order_id": "100023", "product_id": None, "customer_id": "C001"}
    assert messages == [{"text": "echo: hi", "buttons": [], "elements": [], "custom": {}, "template": None,
                         "response": None, "image": None, "attachment": None}]


def test_handoff_sets_the_slot_and_tells_the_channel(echo):
    echo(handoff=True)
    messages, events = run(rasa_actions.ActionShopassistRespond(), tracker("a human", sender="t-h"))
    assert slot_events(events)["handoff"] is True
    assert handoffs(messages) == [{"session_id": "t-h", "intent": "greet"}]


def test_engine_failures_become_an_apology_and_a_handoff_not_a_500(echo):
    from connectors.base import ConnectorUnavailable

    echo(raises=RuntimeError("boom"))
    messages, events = run(rasa_actions.ActionShopassistRespond(), tracker("hi"))
    assert messages[0]["text"] == Templates().render("internal_error", "en")
    assert handoffs(messages)[0]["reason"] == "internal error" and slot_events(events) == {"handoff": True}

    echo(raises=ConnectorUnavailable("down"))
    messages, _ = run(rasa_actions.ActionShopassistRespond(), tracker("我的订单在哪"))
    assert messages[0]["text"] == Templates().render("service_unavailable", "zh")


# -- every action over the real engine ------------------------------------------------------------
@pytest.fixture
def real(engine):
    rasa_actions.use_engine(engine)
    yield engine
    rasa_actions.use_engine(None)


def _sender() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.mark.slow
def test_whole_turns_keep_the_engines_context_per_sender(real):
    sender = _sender()
    action = rasa_actions.ActionShopassistRespond()
    messages, events = run(action, tracker("does the Aurora X200 work with my iPhone?", sender=sender, customer="C001"))
    assert "iOS" in messages[0]["text"]
    product = slot_events(events)["product_id"]
    assert product
    messages, _ = run(action, tracker("what's the battery life of it?", sender=sender, customer="C001",
                                      slots={"product_id": product}))
    assert "30" in messages[0]["text"]
    assert real.state(sender, customer_id="C001").turns == 2


@pytest.mark.slow
def test_order_status_for_the_owner_only(real, demo_store):
    action = rasa_actions.ActionOrderStatus()
    messages, events = run(action, tracker("where is my order 100023?", sender=_sender(), customer="C001"))
    assert "UPS" in messages[0]["text"] and slot_events(events)["order_id"] == "100023"

    sender = _sender()
    messages, events = run(action, tracker("where is my order 100023?", sender=sender, customer="C002",
                                           slots={"order_id": "100023"}))
    assert "couldn't find order 100023" in messages[0]["text"] and "UPS" not in messages[0]["text"]
    # Alice's order stays in neither Rasa's slots nor Bob's conversation in the engine
    assert slot_events(events) == {"order_id": None, "customer_id": "C002"}
    assert "order_id" not in real.state(sender, customer_id="C002").slots

    messages, _ = run(action, tracker("where is my order 100023?", sender=_sender()))
    assert messages[0]["text"] == real.templates.render("sign_in_needed", "en")


@pytest.mark.slow
def test_order_status_uses_the_rasa_slot_when_the_message_has_no_number(real):
    messages, _ = run(rasa_actions.ActionOrderStatus(),
                      tracker("has it shipped yet?", sender=_sender(), customer="C001", slots={"order_id": "100023"}))
    assert "100023" in messages[0]["text"] and "UPS" in messages[0]["text"]


@pytest.mark.slow
def test_faq_answer(real):
    messages, _ = run(rasa_actions.ActionFaqAnswer(), tracker("how long do I have to return something?",
                                                              sender=_sender(), customer="C001"))
    assert "30 days" in messages[0]["text"]
    messages, _ = run(rasa_actions.ActionFaqAnswer(), tracker("退款多久到账", sender=_sender()))
    assert "5" in messages[0]["text"] and "7" in messages[0]["text"]


@pytest.mark.slow
def test_product_answer_from_the_message_or_the_slot(real):
    messages, events = run(rasa_actions.ActionProductAnswer(),
                           tracker("what's the battery life of the Aurora X200?", sender=_sender()))
    assert "30" in messages[0]["text"]
    product = slot_events(events)["product_id"]
    messages, _ = run(rasa_actions.ActionProductAnswer(),
                      tracker("does it work with iPhone?", sender=_sender(), slots={"product_id": product}))
    assert "iOS" in messages[0]["text"]


def _validate(value, *, customer="C001", slot="order_id"):
    events = [{"event": "user", "text": str(value)}, {"event": "slot", "name": slot, "value": value}]
    track = tracker(str(value), sender=_sender(), customer=customer,
                    slots={"requested_slot": slot, slot: value}, events=events)
    return run(rasa_actions.ValidateReturnForm(), track)


@pytest.mark.slow
def test_return_form_accepts_a_returnable_order_of_the_customer(real):
    messages, events = _validate("100024")
    assert slot_events(events) == {"order_id": "100024"} and messages == []
    messages, events = _validate("#100024")  # normalised
    assert slot_events(events) == {"order_id": "100024"}


@pytest.mark.slow
@pytest.mark.parametrize(("value", "customer", "says"), [
    ("100023", "C001", "a return can start once it arrives"),  # shipped, not arrived
    ("100031", "C001", "couldn't find order 100031"),   # Bob's order
    ("100024", "C002", "couldn't find order 100024"),   # Alice's order, asked by Bob
    ("12ab", "C001", "doesn't look like one of our order numbers"),
])
def test_return_form_refuses_with_the_reason(real, value, customer, says):
    messages, events = _validate(value, customer=customer)
    assert slot_events(events) == {"order_id": None}
    assert says in messages[0]["text"]


@pytest.mark.slow
def test_return_form_ends_for_an_anonymous_customer(real):
    messages, events = _validate("100024", customer=None)
    assert slot_events(events) == {"order_id": None, "requested_slot": None}
    assert messages[0]["text"] == real.templates.render("sign_in_needed", "en")


@pytest.mark.slow
def test_return_reason(real):
    _, events = _validate("they are too small", slot="return_reason")
    assert slot_events(events) == {"return_reason": "they are too small"}
    messages, events = _validate("?", slot="return_reason")
    assert slot_events(events) == {"return_reason": None} and messages == []
    # the form asks again through its ask action, in the customer's language
    messages, _ = run(rasa_actions.ActionAskReturnReason(),
                      tracker("?", sender=_sender(), customer="C001",
                              slots={"requested_slot": "return_reason", "order_id": "100024"},
                              events=[{"event": "user", "text": "?"}]))
    assert messages[0]["text"] == real.templates.render("return_ask_reason_short", "en", order_id="100024")


def test_return_confirmation_takes_only_a_real_yes_or_no(echo):
    echo()
    # the example domain fills return_confirmed from the text; only the words decide, through the
    # same strict gate as the engine's flows: Rasa's affirm/deny is never a yes or no by itself,
    # and anything unclear ("what?" read as affirm) asks again
    cases = (("affirm", "yes", True), ("deny", "no", False), ("affirm", "yes please, go ahead", True),
             ("deny", "算了", False), ("affirm", "what?", None), ("affirm", "maybe", None),
             ("affirm", "really?", None), ("affirm", "等一下", None), ("deny", "what?", None), (None, "hmm", None),
             ("deny", "yes", True))
    for intent, said, kept in cases:
        events = [{"event": "user", "text": said}, {"event": "slot", "name": "return_confirmed", "value": said}]
        _, out = run(rasa_actions.ValidateReturnForm(),
                     tracker(said, customer="C001", slots={"requested_slot": "return_confirmed",
                                                           "return_confirmed": said}, events=events, intent=intent))
        assert slot_events(out) == {"return_confirmed": kept}, (intent, said)


class FakeReturns:
    """The connector's write side, as the submit action sees it."""

    def __init__(self, refuse: str | None = None) -> None:
        self.calls: list[tuple] = []
        self.refuse = refuse

    def create_return(self, actor, order_id, reason, *, idempotency_key):
        from connectors.base import ActionRefused

        self.calls.append((actor.customer_id, order_id, reason, idempotency_key))
        if self.refuse:
            raise ActionRefused("create_return", self.refuse)
        return type("Record", (), {"return_id": "R5001"})()


@pytest.fixture
def returns(echo, monkeypatch):
    def use(**kwargs):
        echo()
        fake = FakeReturns(**kwargs)
        monkeypatch.setattr(rasa_actions, "_order_service", lambda engine: fake)
        return fake
    return use


FILLED = {"order_id": "100024", "return_reason": "they are too small", "customer_id": "C001"}


def test_submit_opens_the_return_once_confirmed(returns):
    fake = returns()
    track = lambda: tracker("yes", sender="t-sub", slots={**FILLED, "return_confirmed": True})  # noqa: E731
    messages, events = run(rasa_actions.ActionSubmitReturn(), track())
    assert messages[0]["text"] == Templates(store="Testshop").render("return_item_done", "en", order_id="100024",
                                                                     return_id="R5001")
    assert slot_events(events) == {"order_id": None, "return_reason": None, "return_confirmed": None,
                                   "return_id": "R5001"}
    run(rasa_actions.ActionSubmitReturn(), track())  # Rasa retries the call: the same idempotency key
    assert len(fake.calls) == 2 and fake.calls[0] == fake.calls[1]
    assert fake.calls[0][:3] == ("C001", "100024", "they are too small")
    key = fake.calls[0][3]
    from connectors.base import validate_idempotency_key

    assert validate_idempotency_key(key) == key
    run(rasa_actions.ActionSubmitReturn(), tracker("yes", sender="t-other", slots={**FILLED, "return_confirmed": True}))
    assert fake.calls[-1][3] != key  # another conversation, another key


def test_submit_writes_nothing_without_a_yes_or_a_customer(returns):
    fake = returns()
    templates = Templates(store="Testshop")
    cleared = {"order_id": None, "return_reason": None, "return_confirmed": None}
    messages, events = run(rasa_actions.ActionSubmitReturn(),
                           tracker("no", slots={**FILLED, "return_confirmed": False}))
    assert [m["text"] for m in messages] == [templates.render("return_item_kept", "en", order_id="100024")]
    assert slot_events(events) == cleared
    # a yes without a customer (no trusted metadata, no customer_id slot): nothing opened, and said so
    anonymous = {k: v for k, v in FILLED.items() if k != "customer_id"}
    messages, events = run(rasa_actions.ActionSubmitReturn(),
                           tracker("yes", slots={**anonymous, "return_confirmed": True}))
    assert [m["text"] for m in messages] == [templates.render("return_item_kept", "en", order_id="100024")]
    assert slot_events(events) == cleared
    # the words "yes" without the form's confirmation: nothing opened
    messages, events = run(rasa_actions.ActionSubmitReturn(), tracker("yes", slots={"customer_id": "C001"}))
    assert [m["text"] for m in messages] == [templates.render("flow_cancelled", "en")] and events == []
    assert fake.calls == []


def test_submit_reports_a_refusal(returns):
    returns(refuse="window_expired")
    messages, events = run(rasa_actions.ActionSubmitReturn(), tracker("yes", slots={**FILLED, "return_confirmed": True}))
    assert messages[0]["text"] == "I couldn't do that for order 100024: window expired."
    assert "return_id" not in slot_events(events)
