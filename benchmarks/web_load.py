"""The web channel under load: many WebSocket sessions at once, page weight, time to first message.

Usage: python benchmarks/web_load.py [--sessions 500] [--turns 2] [--url http://127.0.0.1:8000]
                                     [--secret S] [--data-dir DIR] [--no-browser]

Without ``--url`` it starts ``shopassist serve`` on a free loopback port (a temporary data
directory, flood limits raised for one loopback client) and stops it at the end. ``--url`` points
it at a running server instead; ``--secret`` (that server's ``SHOPASSIST_WEB__SECRET``) lets some
sessions sign in as demo customers, otherwise all are anonymous.

Measured:
- **concurrent sessions**: every session connects and says hello first; only when all are open
  does any send a message, and all stay open until the last reply (``max_open`` counts them);
- **reply latency**: from sending a ``message`` frame to the bot's ``message`` frame, per turn
  (p50/p95/p99/max), with errors and refused connections counted;
- **page weight**: bytes of the chat page, widget.js and widget.css as served, and gzip-compressed;
- **time to first message**: protocol level (page + script + stylesheet fetched, socket open,
  ``ready``, a first message answered) and, when Chromium and chromedriver are present, in a real
  headless browser from navigation to the first reply shown (with screenshots of the widget and the
  agent console written next to the JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import RESULTS, summary_ms, write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["hi", "where is my order 100023?", "is shipping free?", "do you have wireless earbuds?",
         "how long do I have to return something?", "退款多久到账", "what's the battery life of the X200?",
         "can I pay with paypal?", "thanks, bye", "what is the status of order 100031?"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(secret: str, data_dir: str | None) -> tuple[subprocess.Popen, str, Path]:
    data = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="shopassist-web-bench-"))
    data.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", SHOPASSIST_DATA_DIR=str(data),
               SHOPASSIST_WEB__SECRET=secret, SHOPASSIST_WEB__MAX_REQUESTS_PER_MINUTE="100000",
               SHOPASSIST_WEB__MAX_MESSAGES_PER_MINUTE="1000", PYTHONPATH=str(ROOT))
    log = (data / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    import httpx

    started = time.perf_counter()
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {(data / 'server.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    print(f"server up at {url} after {time.perf_counter() - started:.1f}s (engine built)")
    return proc, url, data


def page_weight(url: str) -> dict[str, float]:
    import httpx

    sizes = {}
    for name, path in (("page", "/"), ("widget_js", "/static/widget.js"), ("widget_css", "/static/widget.css")):
        body = httpx.get(url + path, timeout=30).content
        sizes[f"{name}_kb"] = round(len(body) / 1024, 2)
        sizes[f"{name}_gzip_kb"] = round(len(gzip.compress(body, 9)) / 1024, 2)
    sizes["total_kb"] = round(sum(v for k, v in sizes.items() if not k.endswith("gzip_kb")), 2)
    sizes["total_gzip_kb"] = round(sum(v for k, v in sizes.items() if k.endswith("gzip_kb")), 2)
    return sizes


async def first_message_protocol(url: str) -> dict[str, float]:
    """Page, script and stylesheet fetched, the socket opened, ready, and "hi" answered."""
    import httpx
    from websockets.asyncio.client import connect

    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=url) as client:
        await asyncio.gather(client.get("/"), client.get("/static/widget.js"), client.get("/static/widget.css"))
    t_assets = time.perf_counter()
    async with connect(url.replace("http", "ws") + f"/v1/sessions/ttfm-{time.time_ns()}/stream") as ws:
        await ws.send(json.dumps({"type": "hello"}))
        while json.loads(await ws.recv())["type"] != "ready":
            pass
        t_ready = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "text": "hi"}))
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == "message" and frame.get("from") == "bot":
                break
    t_reply = time.perf_counter()
    return {"assets_ms": round((t_assets - t0) * 1000, 1), "ready_ms": round((t_ready - t0) * 1000, 1),
            "first_reply_ms": round((t_reply - t0) * 1000, 1)}


def first_message_browser(url: str, signer) -> dict[str, float] | str:
    """Navigation to the first reply shown, in headless Chromium; screenshots of widget and console."""
    driver_path = os.environ.get("SHOPASSIST_TEST_CHROMEDRIVER") or shutil.which("chromedriver")
    if not driver_path:
        return "skipped: no chromedriver (.ci/chromium up installs one)"
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        return "skipped: selenium is not installed (the dev extra)"
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1100,800"):
        options.add_argument(arg)
    if shutil.which("chromium"):
        options.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        token = signer.issue("C001", ttl_s=600) if signer else ""
        t0 = time.perf_counter()
        driver.get(f"{url}/#token={token}")
        wait = WebDriverWait(driver, 60, poll_frequency=0.02)
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".sa-status").text in ("Connected", "已连接"))
        t_ready = time.perf_counter()
        box = driver.find_element(By.CSS_SELECTOR, ".sa-input")
        box.send_keys("where is my order 100023?")
        t_sent = time.perf_counter()
        box.send_keys(Keys.ENTER)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".sa-bot"))
        t_reply = time.perf_counter()
        box.send_keys("do you have wireless earbuds?", Keys.ENTER)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".sa-card"))
        RESULTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(RESULTS / "web_widget.png"))
        driver.get(f"{url}/agent")
        wait.until(lambda d: d.find_element(By.ID, "login-name").is_displayed())
        driver.save_screenshot(str(RESULTS / "web_console_login.png"))
        return {"ready_ms": round((t_ready - t0) * 1000, 1),
                "first_reply_ms": round((t_reply - t0 - (t_sent - t_ready)) * 1000, 1),
                "reply_after_send_ms": round((t_reply - t_sent) * 1000, 1)}
    finally:
        driver.quit()


async def load(url: str, sessions: int, turns: int, signer) -> dict:
    from websockets.asyncio.client import connect

    ws_base = url.replace("http", "ws")
    latencies: list[float] = []
    connect_ms: list[float] = []
    errors: dict[str, int] = {}
    tally = {"open": 0, "max_open": 0, "ready_or_failed": 0, "finished": 0}
    all_open, all_done = asyncio.Event(), asyncio.Event()

    def step(key: str, event: asyncio.Event) -> None:
        tally[key] += 1
        if tally[key] == sessions:
            event.set()

    async def session(i: int) -> None:
        hello = {"type": "hello"}
        if signer is not None and i % 4 == 0:
            hello["token"] = signer.issue("C001" if i % 8 == 0 else "C002", ttl_s=3600)
        t = time.perf_counter()
        opened = False
        try:
            async with connect(f"{ws_base}/v1/sessions/load-{i:05d}-{time.time_ns()}/stream", open_timeout=120,
                               ping_interval=None, max_size=2 ** 20) as ws:
                await ws.send(json.dumps(hello))
                while json.loads(await ws.recv())["type"] != "ready":
                    pass
                connect_ms.append((time.perf_counter() - t) * 1000)
                opened = True
                tally["open"] += 1
                tally["max_open"] = max(tally["max_open"], tally["open"])
                step("ready_or_failed", all_open)
                await all_open.wait()  # no message before every session is connected
                for k in range(turns):
                    sent = time.perf_counter()
                    await ws.send(json.dumps({"type": "message", "text": TEXTS[(i + k) % len(TEXTS)]}))
                    while True:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 300))
                        if frame.get("type") == "message" and frame.get("from") == "bot":
                            latencies.append((time.perf_counter() - sent) * 1000)
                            break
                        if frame.get("type") == "error":
                            errors[frame.get("code", "error")] = errors.get(frame.get("code", "error"), 0) + 1
                            break
                step("finished", all_done)
                await all_done.wait()  # every session stays open until the last reply
                tally["open"] -= 1
        except Exception as exc:  # counted, not raised: the run reports what failed
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            if not opened:
                step("ready_or_failed", all_open)
            step("finished", all_done)

    started = time.perf_counter()
    await asyncio.gather(*(session(i) for i in range(sessions)))
    wall = time.perf_counter() - started
    return {"sessions": sessions, "turns_per_session": turns, "max_open": tally["max_open"],
            "connect": summary_ms(connect_ms), "reply": summary_ms(latencies), "replies": len(latencies),
            "errors": errors, "wall_s": round(wall, 2),
            "turns_per_s": round(len(latencies) / wall, 1) if wall else None}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=500)
    ap.add_argument("--turns", type=int, default=2, help="messages per session, sent once all sessions are open")
    ap.add_argument("--url", default=None, help="a running server (default: start one)")
    ap.add_argument("--secret", default=None, help="the running server's SHOPASSIST_WEB__SECRET (signed-in sessions)")
    ap.add_argument("--data-dir", default=None, help="the started server's data directory (default: a temporary one; "
                    "a kept one skips building the demo store again)")
    ap.add_argument("--no-browser", action="store_true", help="skip the headless-browser time to first message")
    args = ap.parse_args()
    from engine.web.tokens import TokenSigner

    proc = None
    secret = args.secret or ("bench-" + os.urandom(16).hex())
    if args.url:
        url = args.url.rstrip("/")
    else:
        proc, url, _ = start_server(secret, args.data_dir)
    signer = TokenSigner(secret.encode()) if (args.secret or proc) else None
    try:
        weight = page_weight(url)
        print(f"page weight: {weight['total_kb']} KB ({weight['total_gzip_kb']} KB gzip): "
              f"widget.js {weight['widget_js_kb']} KB, widget.css {weight['widget_css_kb']} KB, page {weight['page_kb']} KB")
        ttfm = asyncio.run(first_message_protocol(url))
        print(f"time to first message (protocol): assets {ttfm['assets_ms']} ms, ready {ttfm['ready_ms']} ms, "
              f"first reply {ttfm['first_reply_ms']} ms")
        browser = "skipped (--no-browser)" if args.no_browser else first_message_browser(url, signer)
        print(f"time to first message (headless Chromium): {browser}")
        load_before = os.getloadavg()
        result = asyncio.run(load(url, args.sessions, args.turns, signer))
        r = result["reply"]
        print(f"{result['sessions']} sessions (max open at once {result['max_open']}), {result['replies']} replies in "
              f"{result['wall_s']}s: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, max {r['max_ms']:.1f} ms; "
              f"errors {result['errors'] or 0}; load {os.getloadavg()[0]:.2f} (before {load_before[0]:.2f})")
        write("web_load", {"url_started_here": proc is not None, "page_weight": weight,
                           "time_to_first_message": {"protocol": ttfm, "browser": browser},
                           "load": result, "loadavg_before": [round(x, 2) for x in load_before]})
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
