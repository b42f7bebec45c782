"""Web-channel fixtures: real uvicorn servers on 127.0.0.1 (ephemeral ports) over the session's
real engine, real WebSocket and HTTP clients, agent accounts with hashed passwords."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web channel needs FastAPI: pip install 'shopassist[service]'")
uvicorn = pytest.importorskip("uvicorn", reason="the web channel needs uvicorn: pip install 'shopassist[service]'")
httpx = pytest.importorskip("httpx")

AGENTS = {"ana": "ana-password-1", "bo": "bo-password-2"}
SECRET = "test-web-secret-0123456789abcdef"


@dataclass
class Server:
    """A running web channel: its base URL, its app state, and how to stop it."""

    url: str
    state: Any
    server: Any
    thread: threading.Thread

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    def token(self, customer: str, ttl_s: int = 600) -> str:
        return self.state.auth.signer.issue(customer, ttl_s=ttl_s)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def agent_hashes() -> dict[str, str]:
    from engine.web.agents import hash_password

    return {name: hash_password(pw, iterations=2000) for name, pw in AGENTS.items()}


def web_settings(data_dir, agent_hashes, **web: Any):
    from engine.settings import load_settings

    options = {"secret": SECRET, "agents": agent_hashes, "max_messages_per_minute": 1000,
               "max_requests_per_minute": 10_000, **web}
    return load_settings(data_dir=data_dir, web=options)


def start_server(settings, engine, board=None) -> Server:
    """The app under a real uvicorn on 127.0.0.1 and an ephemeral port, in a thread."""
    from engine.web.app import create_app

    app = create_app(settings, engine=engine, board=board)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False,
                            ws_max_size=4 * settings.web.max_body_bytes, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(600):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the web server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    state = app.app.state.web  # BodyLimitMiddleware wraps the FastAPI app
    return Server(url=f"http://127.0.0.1:{port}", state=state, server=server, thread=thread)


@pytest.fixture(scope="session")
def web(engine, data_dir, agent_hashes):
    """The web channel over the session's engine (in-memory board), generous flood limits."""
    srv = start_server(web_settings(data_dir, agent_hashes), engine)
    yield srv
    srv.stop()


@pytest.fixture()
def client(web):
    with httpx.Client(base_url=web.url, timeout=60) as c:
        yield c


def new_session(prefix: str = "t") -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex}"


def agent_client(server: Server, name: str) -> httpx.Client:
    """A logged-in console client (cookie jar, CSRF token in its headers)."""
    c = httpx.Client(base_url=server.url, timeout=60)
    csrf = c.get("/agent/api/login").json()["csrf"]
    r = c.post("/agent/api/login", json={"name": name, "password": AGENTS[name]}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf"]
    return c


class Socket:
    """A WebSocket client speaking the widget's frames."""

    def __init__(self, server: Server, session_id: str, token: str | None = None, after: int = 0,
                 query_token: bool = False) -> None:
        from websockets.sync.client import connect

        url = f"{server.ws_url}/v1/sessions/{session_id}/stream"
        if query_token and token:
            url += f"?token={token}"
        self.ws = connect(url, max_size=None, open_timeout=30)
        hello: dict[str, Any] = {"type": "hello", "after": after}
        if token and not query_token:
            hello["token"] = token
        self.ws.send(json.dumps(hello))

    def recv(self, timeout: float = 60) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout=timeout))

    def until(self, match, timeout: float = 60) -> dict[str, Any]:
        """The first frame for which ``match(frame)`` is true (others skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.recv(timeout=max(0.1, deadline - time.monotonic()))
            if match(frame):
                return frame

    def send(self, frame: dict[str, Any] | str) -> None:
        self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> "Socket":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
