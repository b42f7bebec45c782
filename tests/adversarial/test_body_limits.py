"""Request bodies are limited before authentication and before decompression, on every server.

Real servers on loopback — the demo order service (FastAPI under uvicorn), the Rasa action server
(rasa-sdk's Sanic app as ``shopassist actions`` builds it, in process and as the real CLI
process) and the chat-completions server — get unauthenticated bodies far over the limit,
declared or streamed, and compression bombs. Each must answer 413 (or 415 for an encoding it does
not read) after reading at most about the limit, with the memory the server allocates meanwhile
(``tracemalloc``, the servers run in this process) far below the body's size.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from engine.http_limits import BodyLimit

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:Your versions of rasa and rasa_sdk:UserWarning")]

MB = 1024 * 1024
LIMIT = BodyLimit(max_bytes=1 * MB, max_inflated_bytes=4 * MB)
HUGE = 200 * MB


# -- raw HTTP on a socket (a client that lies, streams and never stops) -----------------------------


def _status(sock: socket.socket, timeout_s: float = 10.0) -> int:
    sock.settimeout(timeout_s)
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"HTTP/1."), data[:200]
    return int(data.split(b" ", 2)[1])


def declared_huge(port: int, path: str, *, send_bytes: int = 2 * MB, extra: str = "") -> int:
    """Declare a 200 MB body, send a little of it, and read the status the server answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}"
                     f"Content-Length: {HUGE}\r\n\r\n".encode())
        try:
            sock.sendall(b" " * send_bytes)
        except OSError:
            pass  # refused and closed before all of it went out: fine
        return _status(sock)


def streamed_huge(port: int, path: str, *, method: str = "POST") -> tuple[int, int]:
    """Stream a chunked body of up to 200 MB without a length; (status, bytes sent before the
    server answered or stopped reading)."""
    chunk = b" " * (64 * 1024)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        sock.settimeout(5)
        while sent < HUGE and not select.select([sock], [], [], 0)[0]:  # until the server answers
            try:
                sock.sendall(framed)  # whole frames: a torn one would be a framing error, not a test
            except OSError:  # closed, or no longer read (a timeout): see what it answered
                break
            sent += len(chunk)
        return _status(sock), sent


def bomb(coding: str, inflated: int = HUGE) -> bytes:
    """``inflated`` bytes of spaces, compressed (a few hundred KB), without holding them."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS)
    block = b" " * MB
    out = [z.compress(b"{\"a\": \"")] + [z.compress(block) for _ in range(inflated // MB)] + [z.flush()]
    return b"".join(out)


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """The peak of Python allocations (all threads: the servers run in this process) inside."""
    out: list[int] = []
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        yield out
    finally:
        out.append(tracemalloc.get_traced_memory()[1] - base)
        tracemalloc.stop()


# -- the demo order service ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def order_service(demo_store, tmp_path_factory):
    from connectors.demo_service import ServerThread, create_app
    from connectors.sql import SqlBackend

    db = tmp_path_factory.mktemp("orders") / "store.db"
    shutil.copyfile(demo_store.db_path, db)
    app = create_app(SqlBackend(f"sqlite:///{db}"), api_token="s3cret-token", body_limit=LIMIT)
    with ServerThread(app) as server:
        yield server


def test_order_service_refuses_a_declared_huge_body_before_the_token(order_service):
    with peak_memory() as peak:
        status = declared_huge(order_service.port, "/v1/orders/100031/returns",
                               extra="Idempotency-Key: k-12345678\r\n")
    assert status == 413
    assert peak[0] < 8 * MB, f"{peak[0] / MB:.1f} MB allocated for a refused body"


def test_order_service_cuts_off_a_streamed_body(order_service):
    with peak_memory() as peak:
        status, sent = streamed_huge(order_service.port, "/v1/customers/me/address", method="PUT")
    assert status == 413
    assert sent < 32 * MB, f"the server read {sent / MB:.0f} MB before answering"
    assert peak[0] < 16 * MB, f"{peak[0] / MB:.1f} MB allocated"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_order_service_refuses_compressed_bodies(order_service, coding):
    body = bomb("gzip" if coding == "br" else coding)
    with peak_memory() as peak:
        r = httpx.put(f"{order_service.url}/v1/customers/me/address", content=body,
                      headers={"Authorization": "Bearer s3cret-token", "Content-Encoding": coding,
                               "Content-Type": "application/json", "Idempotency-Key": "k-12345678",
                               "X-Actor-Role": "customer", "X-Customer-Id": "C001"})
    assert r.status_code == 415
    assert peak[0] < 8 * MB


def test_order_service_still_serves_requests_within_the_limit(order_service):
    headers = {"Authorization": "Bearer s3cret-token", "X-Actor-Role": "customer", "X-Customer-Id": "C002"}
    assert httpx.get(f"{order_service.url}/v1/orders/100031", headers=headers).status_code == 200
    r = httpx.put(f"{order_service.url}/v1/customers/me/address", headers={**headers, "Idempotency-Key": "k-body-1"},
                  json={"address": "12 Oak Street, Seattle, WA 98101"})
    assert r.status_code == 200, r.text
    # within the limit but unauthenticated: the token is still checked
    assert httpx.put(f"{order_service.url}/v1/customers/me/address", json={"address": "x" * 100},
                     headers={"Idempotency-Key": "k-body-2"}).status_code == 401


# -- the Rasa action server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def action_server() -> Iterator[int]:
    """The app ``shopassist actions`` serves (engine.action_server), on a loopback port."""
    from rasa_sdk.executor import ActionExecutor
    from sanic import Sanic

    from engine.action_server import ACTIONS_MODULE, create_action_app
    from tests.adversarial.servers import free_port

    executor = ActionExecutor()
    executor.register_package(ACTIONS_MODULE)
    previous, Sanic.test_mode = Sanic.test_mode, True  # several apps named rasa_sdk in one process
    app = create_action_app(executor, limit=LIMIT)
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def main() -> None:
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        await server.before_start()
        await server.after_start()
        ready.set()
        try:
            await server.serve_forever()
        finally:
            await server.before_stop()
            server.close()
            await server.wait_closed()
            await server.after_stop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        except BaseException:  # noqa: BLE001 - cancelled on shutdown
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        yield port
    finally:
        for task in asyncio.all_tasks(loop):
            loop.call_soon_threadsafe(task.cancel)
        thread.join(10)
        Sanic.test_mode = previous


def _action_call(action: str = "action_does_not_exist") -> bytes:
    tracker = {"sender_id": "s", "slots": {}, "latest_message": {"text": "hi", "intent": {}, "entities": []},
               "events": [], "paused": False, "followup_action": None, "active_loop": {},
               "latest_action_name": "action_listen"}
    return json.dumps({"next_action": action, "sender_id": "s", "tracker": tracker, "domain": {},
                       "version": "3.6.21"}).encode()


def test_action_server_refuses_a_declared_huge_body(action_server):
    with peak_memory() as peak:
        assert declared_huge(action_server, "/webhook") == 413
    assert peak[0] < 8 * MB


def test_action_server_cuts_off_a_streamed_body(action_server):
    with peak_memory() as peak:
        status, sent = streamed_huge(action_server, "/webhook")
    assert status == 413
    assert sent < 32 * MB and peak[0] < 16 * MB, (sent, peak)


def test_action_server_does_not_inflate_a_deflate_bomb(action_server):
    body = bomb("deflate")
    assert len(body) < LIMIT.max_bytes  # small on the wire: only the inflated size gives it away
    with peak_memory() as peak:
        r = httpx.post(f"http://127.0.0.1:{action_server}/webhook", content=body,
                       headers={"Content-Encoding": "deflate", "Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413, r.text[:200]
    assert peak[0] < 32 * MB, f"{peak[0] / MB:.0f} MB allocated for a {len(body) // 1024} KB bomb"


def test_action_server_refuses_encodings_rasa_sdk_does_not_read(action_server):
    r = httpx.post(f"http://127.0.0.1:{action_server}/webhook", content=bomb("gzip"),
                   headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert r.status_code == 415


def test_action_server_still_reads_a_small_deflated_call(action_server):
    r = httpx.post(f"http://127.0.0.1:{action_server}/webhook", content=zlib.compress(_action_call()),
                   headers={"Content-Encoding": "deflate", "Content-Type": "application/json"})
    assert r.status_code == 404 and "action_does_not_exist" in r.text  # parsed, then no such action
    r = httpx.post(f"http://127.0.0.1:{action_server}/webhook", content=_action_call())
    assert r.status_code == 404


@pytest.mark.slow
def test_the_shopassist_actions_command_applies_the_limits(tmp_path):
    """The real ``shopassist actions`` process (Sanic workers and all) with the default limits."""
    from tests.adversarial.servers import free_port

    port = free_port()
    env = dict(os.environ, SHOPASSIST_DATA_DIR=str(tmp_path), SHOPASSIST_HTTP__MAX_BODY_BYTES=str(LIMIT.max_bytes),
               SHOPASSIST_HTTP__MAX_INFLATED_BYTES=str(LIMIT.max_inflated_bytes))
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "actions", "--port", str(port), "--host", "127.0.0.1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the action server did not start"
            time.sleep(0.2)
        assert declared_huge(port, "/webhook") == 413
        status, sent = streamed_huge(port, "/webhook")
        assert status == 413 and sent < 32 * MB
        r = httpx.post(f"http://127.0.0.1:{port}/webhook", content=bomb("deflate"),
                       headers={"Content-Encoding": "deflate"}, timeout=30)
        assert r.status_code == 413
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


# -- the chat-completions server -------------------------------------------------------------------


@pytest.fixture(scope="module")
def chat_server():
    from engine.generation.chat_server import ChatCompletionsServer
    from engine.generation.scripted import ScriptedChatModel

    with ChatCompletionsServer(ScriptedChatModel(["ok"]), api_key="k3y-k3y-k3y",
                               body_limit=BodyLimit(max_bytes=LIMIT.max_bytes, require_length=True)) as server:
        yield server


def test_chat_server_refuses_before_the_key_and_before_reading(chat_server):
    port = int(chat_server.base_url.rsplit(":", 1)[1].split("/")[0])
    with peak_memory() as peak:
        assert declared_huge(port, "/v1/chat/completions") == 413
        status, _ = streamed_huge(port, "/v1/chat/completions")
        assert status == 411  # it reads by length only: no length, no read
    assert peak[0] < 8 * MB
    r = httpx.post(chat_server.base_url + "/chat/completions", content=bomb("gzip", 8 * MB),
                   headers={"Content-Encoding": "gzip", "Authorization": "Bearer k3y-k3y-k3y"})
    assert r.status_code == 415
    ok = httpx.post(chat_server.base_url + "/chat/completions", headers={"Authorization": "Bearer k3y-k3y-k3y"},
                    json={"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"] == "ok"


# -- the one policy ------------------------------------------------------------------------------


@pytest.mark.parametrize("length, coding, status", [
    (str(HUGE), None, 413), ("12", "br", 415), ("12", " GZIP ", 415), ("-1", None, 400), ("1e9", None, 400),
    ("duplicate", None, 400), ("12", None, None), (None, None, None), ("12", "identity", None),
])
def test_body_limit_headers(length, coding, status):
    refusal = BodyLimit(max_bytes=MB).check_headers(length, coding)
    assert (refusal.status if refusal else None) == status


def test_body_limit_inflation_is_bounded_and_checked():
    limit = BodyLimit(max_bytes=MB, max_inflated_bytes=MB, encodings=frozenset({"deflate", "gzip"}))
    assert limit.check_inflated(zlib.compress(b"x" * 1000), "deflate") is None
    assert limit.check_inflated(bomb("deflate", 8 * MB), "deflate").status == 413
    assert limit.check_inflated(bomb("gzip", 8 * MB), "gzip").status == 413
    assert limit.check_inflated(b"not compressed", "deflate").status == 400
    assert limit.check_inflated(zlib.compress(b"x" * 1000)[:-6], "deflate").status == 400
