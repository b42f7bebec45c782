"""The agent console as agents use it: log in, see the hand-off queue, take over, reply into the
customer's widget, hand back, rate the bot; and what they may not do."""

from __future__ import annotations

import httpx
import pytest

from tests.web.conftest import AGENTS, Socket, agent_client, new_session

pytestmark = pytest.mark.slow


def _bot(frame):
    return frame.get("type") == "message" and frame.get("from") == "bot"


def _handed_off(web, customer="C001"):
    """A customer conversation the bot handed to a person, with the customer's socket open."""
    sid = new_session("h")
    ws = Socket(web, sid, token=web.token(customer))
    ws.recv()
    ws.send({"type": "message", "text": "where is my order 100023?"})
    ws.until(_bot)
    ws.send({"type": "message", "text": "I want to talk to a human"})
    reply = ws.until(_bot)
    assert reply["reply"]["handoff"] is True
    notice = ws.until(lambda f: f.get("type") == "handoff")
    assert notice["status"] == "queued"
    return sid, ws


def test_the_whole_hand_off_from_queue_to_bot_again(web):
    sid, ws = _handed_off(web)
    ana = agent_client(web, "ana")
    queue = ana.get("/agent/api/queue").json()["conversations"]
    mine = next(c for c in queue if c["session_id"] == sid)
    assert mine["status"] == "queued" and mine["customer_id"] == "C001"
    assert mine["reason"] and "intent=" in mine["summary"] and mine["sentiment"] in ("negative", "neutral", "positive")
    view = ana.get(f"/agent/api/conversations/{sid}").json()
    assert {"100023", "100024"} <= {o["order_id"] for o in view["orders"]}
    assert [m["from"] for m in view["messages"] if m["type"] == "message"][:2] == ["user", "bot"]

    assert ana.post(f"/agent/api/conversations/{sid}/take").json()["conversation"]["status"] == "agent"
    joined = ws.until(lambda f: f.get("type") == "handoff")
    assert joined == {**joined, "status": "agent", "agent": "ana"}

    ws.send({"type": "message", "text": "is anyone there?"})
    assert ws.until(lambda f: f.get("type") == "message")["from"] == "user"
    seen = ana.get(f"/agent/api/conversations/{sid}").json()["messages"]
    assert seen[-1]["text"] == "is anyone there?"
    assert not any(m.get("from") == "bot" and m["seq"] > joined["seq"] for m in seen)  # the bot keeps quiet

    r = ana.post(f"/agent/api/conversations/{sid}/reply", json={"text": "Hi Alice, I'm looking at 100023 now."})
    assert r.status_code == 200
    live = ws.until(lambda f: f.get("type") == "message" and f.get("from") == "agent")
    assert live["text"] == "Hi Alice, I'm looking at 100023 now." and live["agent"] == "ana"

    assert ana.post(f"/agent/api/conversations/{sid}/handback").json()["conversation"]["status"] == "bot"
    assert ws.until(lambda f: f.get("type") == "handoff")["status"] == "bot"
    ws.send({"type": "message", "text": "where is my order 100023?"})
    assert "100023" in ws.until(_bot)["text"]
    assert sid not in [c["session_id"] for c in ana.get("/agent/api/queue").json()["conversations"]]
    ws.close()


def test_an_agent_rates_a_bot_reply_for_the_learning_loop(web):
    sid, ws = _handed_off(web)
    ws.close()
    ana = agent_client(web, "ana")
    msgs = ana.get(f"/agent/api/conversations/{sid}").json()["messages"]
    bot = [m for m in msgs if m.get("from") == "bot"][0]
    r = ana.post(f"/agent/api/conversations/{sid}/rate", json={"seq": bot["seq"], "rating": -1})
    assert r.status_code == 200
    records = [f for f in web.state.channel.engine.store.feedback(sid) if f.get("reason") == "agent_review"]
    assert records and records[-1]["rating"] == -1 and records[-1]["text"] == "where is my order 100023?"
    assert records[-1]["route"] == "flow"
    for bad in ({"seq": bot["seq"], "rating": 5}, {"seq": "1", "rating": 1}):
        assert ana.post(f"/agent/api/conversations/{sid}/rate", json=bad).status_code == 422
    assert ana.post(f"/agent/api/conversations/{sid}/rate", json={"seq": 99999, "rating": 1}).status_code == 422


def test_an_agent_cannot_read_or_act_on_another_agents_conversation(web):
    sid, ws = _handed_off(web)
    ws.close()
    ana, bo = agent_client(web, "ana"), agent_client(web, "bo")
    assert ana.post(f"/agent/api/conversations/{sid}/take").status_code == 200
    assert sid not in [c["session_id"] for c in bo.get("/agent/api/queue").json()["conversations"]]
    r = bo.get(f"/agent/api/conversations/{sid}")
    assert r.status_code == 403 and "100023" not in r.text
    for action, body in (("take", None), ("reply", {"text": "hijack"}), ("handback", None),
                         ("rate", {"seq": 2, "rating": 1})):
        assert bo.post(f"/agent/api/conversations/{sid}/{action}", json=body).status_code == 403
    assert not any(m.get("text") == "hijack" for m in ana.get(f"/agent/api/conversations/{sid}").json()["messages"])
    # a conversation never handed off is nobody's to read
    assert bo.get(f"/agent/api/conversations/{new_session()}").status_code == 403


def test_every_state_change_needs_the_csrf_token(web):
    sid, ws = _handed_off(web)
    ws.close()
    ana = agent_client(web, "ana")
    good = ana.headers.pop("X-CSRF-Token")
    for token in (None, "wrong", good[:-2] + "xx"):
        headers = {"X-CSRF-Token": token} if token else {}
        r = ana.post(f"/agent/api/conversations/{sid}/take", headers=headers)
        assert r.status_code == 403, r.text
        r = ana.post(f"/agent/api/conversations/{sid}/reply", json={"text": "hi"}, headers=headers)
        assert r.status_code == 403
    assert ana.get(f"/agent/api/conversations/{sid}").json()["conversation"]["status"] == "queued"
    # the token of another agent's login does not fit this one's cookie
    other = agent_client(web, "bo").headers["X-CSRF-Token"]
    assert ana.post(f"/agent/api/conversations/{sid}/take", headers={"X-CSRF-Token": other}).status_code == 403
    assert ana.post(f"/agent/api/conversations/{sid}/take", headers={"X-CSRF-Token": good}).status_code == 200


def test_login_needs_its_csrf_token_and_the_right_password(web):
    with httpx.Client(base_url=web.url) as c:
        assert c.post("/agent/api/login", json={"name": "ana", "password": AGENTS["ana"]}).status_code == 403
        csrf = c.get("/agent/api/login").json()["csrf"]
        r = c.post("/agent/api/login", json={"name": "ana", "password": "nope"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 401
        r = c.post("/agent/api/login", json={"name": "zed", "password": "nope"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 401
        assert c.get("/agent/api/queue").status_code == 401
        r = c.post("/agent/api/login", content=b"{bad", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 422
    with httpx.Client(base_url=web.url, cookies={"shopassist_agent": web.token("ana")}) as c:
        assert c.get("/agent/api/queue").status_code == 401  # a customer token is not an agent login


def test_script_in_messages_is_data_not_markup(web):
    """The API hands text as JSON strings; the pages insert it as text (the browser test shows it)."""
    sid = new_session()
    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    with Socket(web, sid) as ws:
        ws.recv()
        ws.send({"type": "message", "text": evil})
        echo = ws.until(lambda f: f.get("type") == "message")
        assert echo["text"] == evil
    for page in ("/static/widget.js", "/static/agent.js"):
        js = httpx.get(web.url + page).text
        assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "document.write" not in js


def test_the_dashboard_shows_the_figures_to_agents_only(web):
    _handed_off(web)[1].close()
    with httpx.Client(base_url=web.url, follow_redirects=False) as c:
        assert c.get("/agent/dashboard").status_code == 303
        assert c.get("/agent/api/dashboard").status_code == 401
    ana = agent_client(web, "ana")
    figures = ana.get("/agent/api/dashboard").json()
    assert figures["turns"] >= 2 and figures["handoffs"] >= 1
    assert 0 <= figures["containment"] < 1 and figures["handoff_rate"] > 0
    assert figures["reasons"] and figures["latency_ms"]["p95"] is not None
    page = ana.get("/agent/dashboard")
    assert page.status_code == 200 and "<svg" in page.text and "Hand-off reasons" in page.text


def test_the_dashboard_escapes_what_it_shows():
    from engine.web.dashboard import render, summarize

    figures = summarize({"turns": 3, "handoffs": 1, "reason:<script>x</script>": 1},
                        [{"rating": -1, "intent": "<img onerror=1>", "route": "retrieval", "sources": '["faq-1"]'}],
                        [10.0, 20.0])
    html = render(figures, "<b>ana</b>")
    assert "<script>x" not in html and "<img onerror" not in html and "<b>ana" not in html
    assert "&lt;script&gt;" in html and figures["failing_faqs"] == [("faq-1", 1)]
