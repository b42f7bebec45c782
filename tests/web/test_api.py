"""POST /v1/sessions/{id}/messages, /healthz and the pages, as a browser or a shop's backend uses them."""

from __future__ import annotations

import pytest

from tests.web.conftest import new_session, start_server, web_settings

pytestmark = pytest.mark.slow  # the real engine answers


def test_healthz_and_the_pages_once_the_engine_is_built(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/static/widget.js"' in page.text
    assert "Content-Security-Policy" in page.headers
    assert client.get("/static/widget.js").headers["content-type"].startswith("application/javascript")
    assert client.get("/static/widget.css").status_code == 200
    assert client.get("/agent").status_code == 200
    assert client.get("/static/../app.py").status_code == 404


def test_a_signed_in_customer_gets_their_order_and_no_internals(web, client):
    sid = new_session()
    r = client.post(f"/v1/sessions/{sid}/messages", json={"text": "where is my order 100023?"},
                    headers={"Authorization": f"Bearer {web.token('C001')}"})
    assert r.status_code == 200
    body = r.json()
    assert {"text", "intent", "confidence", "route", "sources", "handoff", "session_id"} <= set(body)
    assert "trace" not in body and "slots" not in body
    assert body["session_id"] == sid and body["route"] == "flow" and "100023" in body["text"]
    assert body["sources"][0] == {"id": "100023", "kind": "order", "title": "Order 100023",
                                  "score": body["sources"][0]["score"]}


def test_product_sources_carry_price_and_stock(client):
    r = client.post(f"/v1/sessions/{new_session()}/messages", json={"text": "do you have wireless earbuds?"})
    products = [s for s in r.json()["sources"] if s["kind"] == "product"]
    assert products, r.json()
    for p in products:
        assert isinstance(p["price"], float) and p["price"] > 0
        assert isinstance(p["stock"], int) and p["stock"] >= 0


def test_an_anonymous_visitor_sees_no_orders(client):
    r = client.post(f"/v1/sessions/{new_session()}/messages", json={"text": "where is my order 100023?"})
    assert r.status_code == 200
    assert "1Z" not in r.json()["text"]  # no tracking number for a stranger


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer a.b", "Basic QUxBRERJTjpPUEVOU0VTQU1F", "Bearer"])
def test_a_bad_token_is_401_and_nothing_is_recorded(web, client, header):
    sid = new_session()
    r = client.post(f"/v1/sessions/{sid}/messages", json={"text": "hi"}, headers={"Authorization": header})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert web.state.channel.engine.state(sid).turns == 0


def test_an_expired_or_foreign_token_is_401(web, client):
    from engine.web.tokens import TokenSigner

    expired = web.state.auth.signer.issue("C001", ttl_s=1, now=1_000_000)
    foreign = TokenSigner(b"another-secret-0123456789").issue("C001", ttl_s=600)
    for token in (expired, foreign):
        r = client.post(f"/v1/sessions/{new_session()}/messages", json={"text": "where is my order 100023?"},
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        assert "1Z" not in r.text


def test_a_session_belongs_to_its_customer(web, client):
    sid = new_session()
    alice = {"Authorization": f"Bearer {web.token('C001')}"}
    assert client.post(f"/v1/sessions/{sid}/messages", json={"text": "where is my order 100023?"},
                       headers=alice).status_code == 200
    bob = {"Authorization": f"Bearer {web.token('C002')}"}
    for headers in (bob, {}):
        r = client.post(f"/v1/sessions/{sid}/messages", json={"text": "what was my last order?"}, headers=headers)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert "100023" not in r.text
    assert client.post(f"/v1/sessions/{sid}/messages", json={"text": "thanks"}, headers=alice).status_code == 200


def test_oversized_text_is_413_and_an_oversized_body_too(web, client):
    limit = web.state.max_chars
    r = client.post(f"/v1/sessions/{new_session()}/messages", json={"text": "a" * (limit + 1)})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    r = client.post(f"/v1/sessions/{new_session()}/messages", content=b'{"text": "' + b"b" * 100_000 + b'"}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert "bbbb" not in r.text


@pytest.mark.parametrize("body", [b"{not json", b'{"text": 5}', b"[]", b'"text"', b'{"txt": "hi"}',
                                  b"\xff\xfe", b"[" * 5000])
def test_malformed_json_is_422_without_echo(client, body):
    r = client.post(f"/v1/sessions/{new_session()}/messages", content=body,
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "malformed"
    assert "txt" not in r.text and "Traceback" not in r.text


def test_a_bad_session_id_is_400(client):
    r = client.post("/v1/sessions/short/messages", json={"text": "hi"})
    assert r.status_code == 400


@pytest.fixture(scope="module")
def strict(engine, tmp_path_factory, agent_hashes):
    """A second server with small flood limits."""
    srv = start_server(web_settings(tmp_path_factory.mktemp("strict"), agent_hashes, max_messages_per_minute=3,
                                    max_requests_per_minute=8), engine)
    yield srv
    srv.stop()


def test_a_flood_on_one_conversation_is_429(strict):
    import httpx

    sid = new_session()
    with httpx.Client(base_url=strict.url, timeout=60) as c:
        codes = [c.post(f"/v1/sessions/{sid}/messages", json={"text": "hello"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.post(f"/v1/sessions/{sid}/messages", json={"text": "hello"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert strict.state.channel.engine.state(sid).turns == 3  # refused turns are not recorded


def test_a_flood_from_one_address_is_429_across_sessions(strict):
    import httpx

    with httpx.Client(base_url=strict.url, timeout=60) as c:
        codes = [c.post(f"/v1/sessions/{new_session()}/messages", json={"text": "hi"}).status_code for _ in range(12)]
    assert 429 in codes and codes.index(429) <= 8
    assert all(code == 429 for code in codes[codes.index(429):])
