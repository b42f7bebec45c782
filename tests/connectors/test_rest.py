"""The REST backend against the real demo service on loopback, with faults injected between them.

Down, slow, 5xx, malformed or wrong-shaped answers and rejected credentials all become
ConnectorUnavailable; idempotent calls are retried with backoff, business answers never are; a
write whose answer is lost is retried with its key and applied once; the breaker fails fast.
"""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest

from connectors.auth import Actor
from connectors.base import ConnectorUnavailable, OrderNotFound
from connectors.demo_service import ServerThread, create_app
from knowledge.kernel.resilience import CircuitBreaker
from connectors.rest import AsyncRestBackend, RestBackend
from connectors.sql import SqlBackend
from knowledge.demo import FIXTURE_ORDER_PROCESSING as PROCESSING
from knowledge.demo import FIXTURE_ORDER_SHIPPED as SHIPPED
from tests.connectors.conftest import TOKEN, make_rest

ALICE, BOB = Actor.customer("C001"), Actor.customer("C002")


@pytest.fixture
def rest(rest_server, demo_store, tmp_path):
    harness = make_rest(rest_server, demo_store, tmp_path, timeout_s=0.5, retries=2)
    yield harness
    harness.faults.reset()
    harness.svc.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_service_down_is_unavailable_after_bounded_retries():
    sleeps: list[float] = []
    svc = RestBackend(f"http://127.0.0.1:{_free_port()}", TOKEN, retries=3, backoff_base_s=0.1, backoff_cap_s=0.3,
                      sleep=sleeps.append, rng=lambda: 1.0)
    with pytest.raises(ConnectorUnavailable, match="unreachable"):
        svc.get_order(ALICE, SHIPPED)
    assert sleeps == [0.1, 0.2, 0.3]  # exponential, capped (rng=1: the top of the jitter range)


def test_backoff_is_jittered():
    sleeps: list[float] = []
    svc = RestBackend(f"http://127.0.0.1:{_free_port()}", TOKEN, retries=2, backoff_base_s=0.2,
                      sleep=sleeps.append, rng=iter([0.5, 0.25]).__next__)
    with pytest.raises(ConnectorUnavailable):
        svc.list_orders(ALICE)
    assert sleeps == [pytest.approx(0.1), pytest.approx(0.1)]


@pytest.mark.parametrize("fault", ["500", "502", "503", "504", "bare_500", "slow"])
def test_a_transient_fault_on_a_read_is_retried(rest, fault):
    rest.faults.queue(fault)
    assert rest.svc.get_order(ALICE, SHIPPED).order_id == SHIPPED
    assert len(rest.faults.seen) == 2


def test_a_slow_service_times_out_within_the_budget(rest):
    rest.faults.delay_s = 1.0
    started = time.monotonic()
    with pytest.raises(ConnectorUnavailable, match="timed out"):
        rest.svc.get_order(ALICE, SHIPPED)
    assert len(rest.faults.seen) == 3  # one try and two retries
    assert time.monotonic() - started < 3 * 0.5 + 1.0


def test_a_persistent_5xx_is_unavailable(rest):
    rest.faults.always = "503"
    with pytest.raises(ConnectorUnavailable, match="503"):
        rest.svc.track_shipment(ALICE, SHIPPED)
    assert len(rest.faults.seen) == 3


@pytest.mark.parametrize("fault", ["malformed", "wrong_shape", "html", "not_json_404"])
def test_a_malformed_answer_is_unavailable_and_not_retried(rest, fault):
    rest.faults.queue(fault)
    with pytest.raises(ConnectorUnavailable):
        rest.svc.get_order(ALICE, SHIPPED)
    assert len(rest.faults.seen) == 1


def test_business_answers_are_not_retried(rest):
    with pytest.raises(OrderNotFound):
        rest.svc.get_order(ALICE, PROCESSING)
    assert len(rest.faults.seen) == 1


def test_a_write_whose_answer_is_lost_is_retried_and_applied_once(rest):
    rest.faults.queue("lost_response", "503")
    result = rest.svc.cancel_order(BOB, PROCESSING, idempotency_key="lost-answer-0001")
    assert result.status == "cancelled"
    assert [m for m, _ in rest.faults.seen] == ["POST", "POST", "POST"]
    assert rest.count("audit", "action = 'cancel_order'") == 1
    assert rest.count("idempotency") == 1
    assert rest.svc.get_order(BOB, PROCESSING).status == "cancelled"


def test_wrong_token_is_unavailable_and_not_retried(rest_server, rest):
    svc = RestBackend(rest_server["url"], "not-the-token", retries=3, sleep=lambda s: None)
    with pytest.raises(ConnectorUnavailable, match="credentials"):
        svc.get_order(ALICE, SHIPPED)
    assert len(rest.faults.seen) == 1


def test_the_circuit_opens_fails_fast_and_recovers(rest_server, rest):
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, reset_after_s=10, clock=lambda: now[0])
    svc = RestBackend(rest_server["url"], TOKEN, retries=0, breaker=breaker)
    rest.faults.always = "500"
    for _ in range(2):
        with pytest.raises(ConnectorUnavailable, match="500"):
            svc.get_order(ALICE, SHIPPED)
    assert breaker.state == "open"
    seen = len(rest.faults.seen)
    with pytest.raises(ConnectorUnavailable, match="circuit"):
        svc.get_order(ALICE, SHIPPED)
    assert len(rest.faults.seen) == seen  # failed fast: nothing was sent
    rest.faults.always = None
    now[0] = 11.0
    assert breaker.state == "half_open"
    assert svc.get_order(ALICE, SHIPPED).order_id == SHIPPED
    assert breaker.state == "closed"


def test_a_failed_trial_reopens_the_circuit(rest_server, rest):
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=1, reset_after_s=10, clock=lambda: now[0])
    svc = RestBackend(rest_server["url"], TOKEN, retries=0, breaker=breaker)
    rest.faults.always = "503"
    with pytest.raises(ConnectorUnavailable):
        svc.get_order(ALICE, SHIPPED)
    now[0] = 10.5
    with pytest.raises(ConnectorUnavailable, match="503"):
        svc.get_order(ALICE, SHIPPED)
    assert breaker.state == "open"


def test_not_found_keeps_the_circuit_closed(rest_server, rest):
    breaker = CircuitBreaker(failure_threshold=1, reset_after_s=10)
    svc = RestBackend(rest_server["url"], TOKEN, retries=0, breaker=breaker)
    for _ in range(3):
        with pytest.raises(OrderNotFound):
            svc.get_order(ALICE, "999999")
    assert breaker.state == "closed"


def test_async_backend(rest_server, rest):
    async def scenario():
        async with AsyncRestBackend(rest_server["url"], TOKEN, retries=2, backoff_base_s=0.01) as svc:
            order = await svc.get_order(ALICE, SHIPPED)
            rest.faults.queue("503")
            orders = await svc.list_orders(ALICE, limit=2)
            with pytest.raises(OrderNotFound):
                await svc.get_order(BOB, SHIPPED)
            rest.faults.queue("malformed")
            with pytest.raises(ConnectorUnavailable):
                await svc.get_order(ALICE, SHIPPED)
            first = await svc.cancel_order(BOB, PROCESSING, idempotency_key="async-key-0001")
            again = await svc.cancel_order(BOB, PROCESSING, idempotency_key="async-key-0001")
            return order, orders, first, again

    order, orders, first, again = asyncio.run(scenario())
    assert order.order_id == SHIPPED and len(orders) == 2 and first == again
    assert rest.count("audit") == 1


def test_the_engine_hands_off_when_the_service_is_down(demo_store):
    """The engine's error mapping, end to end: REST down -> ConnectorUnavailable -> hand-off reply."""
    from engine.flows.orders import OrderFlows
    from engine.responses.templates import Templates
    from tests.fakes import nlu

    flows = OrderFlows(RestBackend(f"http://127.0.0.1:{_free_port()}", TOKEN, retries=0), Templates(store="Brightcart"))
    from engine.flows import Turn
    from engine.state.tracker import DialogueState

    turn = Turn(nlu=nlu("where is my order", "track_order", order_ids=(SHIPPED,)), state=DialogueState("s1"),
                actor=ALICE)
    decision = flows.handle("track_order", turn)
    assert decision.route == "handoff" and decision.decided_by == "track_order:unavailable"


def test_openapi_spec_documents_every_call(rest_server):
    spec = httpx.get(f"{rest_server['url']}/openapi.json").json()
    paths = spec["paths"]
    for path, method in [("/v1/orders", "get"), ("/v1/orders/{order_id}", "get"),
                         ("/v1/orders/{order_id}/cancel", "post"), ("/v1/orders/{order_id}/shipment", "get"),
                         ("/v1/orders/{order_id}/return-eligibility", "get"), ("/v1/orders/{order_id}/returns", "post"),
                         ("/v1/orders/{order_id}/refund", "get"), ("/v1/returns/{return_id}", "get"),
                         ("/v1/inventory/{product_id}", "get"), ("/v1/customers/me", "get"),
                         ("/v1/customers/me/address", "put")]:
        assert method in paths[path], path
    params = {p["name"] for p in paths["/v1/orders/{order_id}/cancel"]["post"]["parameters"]}
    assert {"Idempotency-Key", "authorization", "x-actor-role", "x-customer-id"} <= {p for p in params} | {
        p.lower() for p in params}
    assert {"Order", "Cancellation", "ErrorEnvelope"} <= set(spec["components"]["schemas"])


def test_service_rejects_missing_token_and_bad_bodies(rest_server, rest):
    url = rest_server["url"]
    assert httpx.get(f"{url}/v1/orders/{SHIPPED}").status_code == 401
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Actor-Role": "customer", "X-Customer-Id": "C001",
               "Idempotency-Key": "body-test-0001"}
    bad = httpx.post(f"{url}/v1/orders/100024/returns", headers=headers, content=b"{not json")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_field"
    missing_key = httpx.post(f"{url}/v1/orders/{PROCESSING}/cancel",
                             headers={k: v for k, v in headers.items() if k != "Idempotency-Key"})
    assert missing_key.status_code == 422
    assert rest.count("audit") == 0


def test_demo_service_validates_its_token():
    with pytest.raises(ValueError):
        create_app(SqlBackend("sqlite://"), api_token="short")


def test_server_thread_stops(demo_store):
    with ServerThread(create_app(SqlBackend(demo_store.db_url), api_token=TOKEN)) as server:
        url = server.url
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/healthz", timeout=0.5)
