"""Two ``shopassist serve`` workers (two processes, two ports) sharing conversations through the
Redis tracker and board: a customer on one, an agent on the other."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import SECRET, Socket, agent_client, new_session

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Worker:
    """A ``shopassist serve`` subprocess with the URL-only surface the test helpers need."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port", str(port)], cwd=ROOT,
                                     env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))

    def token(self, customer: str) -> str:
        from engine.web.tokens import TokenSigner

        return TokenSigner(SECRET.encode()).issue(customer, ttl_s=600)

    def wait(self, timeout: float = 420) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the worker exited: {self.log.read_text()[-2000:]}"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"the worker did not become healthy: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def workers(redis_url, demo_store, agent_hashes, tmp_path_factory):
    data = tmp_path_factory.mktemp("workers")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONPATH=str(ROOT),
               SHOPASSIST_DATA_DIR=str(data), SHOPASSIST_STORE__ROOT=str(demo_store.root),
               SHOPASSIST_TRACKER__KIND="redis", SHOPASSIST_TRACKER__URL=redis_url,
               SHOPASSIST_TRACKER__LOCK="redis", SHOPASSIST_TRACKER__KEY_PREFIX=f"wk{uuid.uuid4().hex[:8]}:",
               SHOPASSIST_WEB__SECRET=SECRET, SHOPASSIST_WEB__AGENTS=json.dumps(agent_hashes))
    pair = [_Worker(_free_port(), env, data / f"worker{i}.log") for i in (1, 2)]
    try:
        for w in pair:
            w.wait()
        yield pair
    finally:
        for w in pair:
            w.stop()


def test_an_agent_on_one_worker_reaches_a_customer_on_the_other(workers):
    one, two = workers
    sid = new_session("mw")
    with Socket(one, sid, token=one.token("C001")) as ws:
        assert ws.recv()["type"] == "ready"
        ws.send({"type": "message", "text": "I want to talk to a human"})
        assert ws.until(lambda f: f.get("type") == "handoff")["status"] == "queued"

        agent = agent_client(two, "ana")
        queue = agent.get("/agent/api/queue").json()["conversations"]
        assert sid in [c["session_id"] for c in queue]
        assert agent.post(f"/agent/api/conversations/{sid}/take").status_code == 200
        assert ws.until(lambda f: f.get("type") == "handoff")["agent"] == "ana"
        assert agent.post(f"/agent/api/conversations/{sid}/reply", json={"text": "Hello from worker two"}).status_code == 200
        live = ws.until(lambda f: f.get("type") == "message" and f.get("from") == "agent")
        assert live["text"] == "Hello from worker two"

        ws.send({"type": "message", "text": "thanks, one more thing"})
        ws.until(lambda f: f.get("from") == "user")
        seen = agent.get(f"/agent/api/conversations/{sid}").json()["messages"]
        assert seen[-1]["text"] == "thanks, one more thing"
        assert agent.post(f"/agent/api/conversations/{sid}/handback").status_code == 200
        assert ws.until(lambda f: f.get("type") == "handoff")["status"] == "bot"

    # the conversation's owner is known to both workers: another customer is refused on either
    for worker in workers:
        r = httpx.post(f"{worker.url}/v1/sessions/{sid}/messages", json={"text": "hi"},
                       headers={"Authorization": f"Bearer {worker.token('C002')}"}, timeout=60)
        assert r.status_code == 403
    # and the customer carries on with the bot on the other worker, in the same conversation
    r = httpx.post(f"{two.url}/v1/sessions/{sid}/messages", json={"text": "where is my order 100023?"},
                   headers={"Authorization": f"Bearer {two.token('C001')}"}, timeout=60)
    assert r.status_code == 200 and "100023" in r.json()["text"]
