"""Rasa action-server webhook latency vs the engine called in-process, for full engine turns.

Usage: python benchmarks/rasa_webhook.py [--turns 200] [--history 20] [--deflate] [--data-dir DIR]

Starts ``shopassist actions`` in a subprocess on a loopback port (what Rasa talks to) and sends it
``action_shopassist_respond`` calls shaped like Rasa 3.6's (tracker with ``--history`` past events,
the example project's domain, ``metadata.customer_id``), interleaved with the same turns answered
by ``Engine.respond`` in this process, so both see the same machine load. The difference is the
cost of the Rasa protocol: HTTP, JSON of the tracker and domain, rasa-sdk's dispatch.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import summary_ms, write  # noqa: E402
from turn_latency import SCRIPT  # noqa: E402

# benchmarks/ may hold scripts named like the packages (connectors.py): import the packages
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DOMAIN = yaml.safe_load((HERE.parent / "examples" / "rasa" / "domain.yml").read_text(encoding="utf-8"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _history(n: int) -> list[dict]:
    events: list[dict] = []
    while len(events) < n:
        i = len(events)
        events += [
            {"event": "user", "timestamp": time.time(), "text": f"earlier message {i}",
             "parse_data": {"intent": {"name": "greet", "confidence": 0.9}, "entities": [], "text": f"earlier {i}",
                            "metadata": {}}, "metadata": {}},
            {"event": "action", "timestamp": time.time(), "name": "action_shopassist_respond"},
            {"event": "bot", "timestamp": time.time(), "text": f"earlier answer {i}", "data": {}, "metadata": {}},
            {"event": "action", "timestamp": time.time(), "name": "action_listen"},
        ]
    return events[:n]


def _action_call(sender: str, customer: str, text: str, history: list[dict], slots: dict) -> dict:
    latest = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.3}, "entities": [],
              "message_id": uuid.uuid4().hex, "metadata": {"customer_id": customer}}
    tracker = {"sender_id": sender, "slots": slots, "latest_message": latest, "events": history,
               "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"}
    return {"next_action": "action_shopassist_respond", "sender_id": sender, "tracker": tracker,
            "domain": DOMAIN, "version": "3.6.21"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--history", type=int, default=20, help="past events in each tracker (Rasa sends them all)")
    ap.add_argument("--deflate", action="store_true", help="compress bodies (COMPRESS_ACTION_SERVER_REQUEST)")
    ap.add_argument("--data-dir", default=None, help="default: a temporary folder")
    ap.add_argument("--cache", action="store_true", help="keep the query-embedding cache on (default off)")
    args = ap.parse_args()
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="shopassist-bench-"))
    os.environ["SHOPASSIST_DATA_DIR"] = str(data_dir)
    if not args.cache:
        os.environ["SHOPASSIST_EMBEDDER__CACHE_SIZE"] = "0"

    import httpx

    from engine import Engine

    engine = Engine.from_config()  # builds the store, head and indexes the server will reuse
    engine.warm_up()

    port = _free_port()
    env = dict(os.environ, SANIC_HOST="127.0.0.1")
    server = subprocess.Popen([sys.executable, "-m", "engine.cli", "actions", "--port", str(port)],
                              cwd=HERE.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/webhook"
    client = httpx.Client(timeout=120)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if client.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the action server did not start")
            time.sleep(0.5)
        history = _history(args.history)
        headers = {"Content-Type": "application/json"}
        if args.deflate:
            headers["Content-Encoding"] = "deflate"

        def webhook(sender: str, customer: str, text: str, slots: dict) -> dict:
            body = json.dumps(_action_call(sender, customer, text, history, slots)).encode()
            r = client.post(url, content=zlib.compress(body) if args.deflate else body, headers=headers)
            r.raise_for_status()
            return r.json()

        t = time.perf_counter()
        webhook("warm-up", "C001", "hello", {})  # the worker builds its engine on its first call
        first_call_s = time.perf_counter() - t
        for customer, text in SCRIPT[:5]:
            webhook("warm-up", customer, text, {})
            engine.respond("warm-up", text, customer_id=customer)

        in_process, over_http, mismatches = [], [], 0
        slots: dict[str, dict] = {}
        for i in range(args.turns):
            customer, text = SCRIPT[i % len(SCRIPT)]
            round_ = i // len(SCRIPT)
            t = time.perf_counter()
            reply = engine.respond(f"inproc-{round_}-{customer}", text, customer_id=customer)
            in_process.append((time.perf_counter() - t) * 1000)

            sender = f"rasa-{round_}-{customer}"
            t = time.perf_counter()
            body = webhook(sender, customer, text, slots.get(sender, {}))
            over_http.append((time.perf_counter() - t) * 1000)
            for e in body["events"]:
                if e["event"] == "slot":
                    slots.setdefault(sender, {})[e["name"]] = e["value"]
            mismatches += body["responses"][0]["text"] != reply.text
    finally:
        server.terminate()
        server.wait(timeout=30)

    s_in, s_http = summary_ms(in_process), summary_ms(over_http)
    print(f"{args.turns} full engine turns, tracker history {args.history} events"
          f"{', deflate' if args.deflate else ''}:")
    print(f"  in-process Engine.respond : p50 {s_in['p50_ms']:.1f} ms, p95 {s_in['p95_ms']:.1f} ms")
    print(f"  Rasa webhook (HTTP)       : p50 {s_http['p50_ms']:.1f} ms, p95 {s_http['p95_ms']:.1f} ms")
    print(f"  protocol overhead         : p50 {s_http['p50_ms'] - s_in['p50_ms']:+.1f} ms, "
          f"p95 {s_http['p95_ms'] - s_in['p95_ms']:+.1f} ms; first webhook call (engine build) "
          f"{first_call_s:.2f}s; replies that differ {mismatches}")
    suffix = (f"_history{args.history}" if args.history != 20 else "") + ("_deflate" if args.deflate else "")
    write(f"rasa_webhook{suffix}", {
        "turns": args.turns,
        "history_events": args.history,
        "deflate": args.deflate,
        "query_cache": bool(args.cache),
        "in_process": s_in,
        "webhook": s_http,
        "overhead_p50_ms": round(s_http["p50_ms"] - s_in["p50_ms"], 3),
        "overhead_p95_ms": round(s_http["p95_ms"] - s_in["p95_ms"], 3),
        "first_webhook_call_s": round(first_call_s, 3),
        "differing_replies": mismatches,
    })


if __name__ == "__main__":
    main()
