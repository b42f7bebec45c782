"""Cold start to first reply and per-turn latency over scripted conversations.

Usage: python benchmarks/turn_latency.py [--turns 200] [--data-dir DIR]

Cold start is measured in a fresh subprocess (imports, model loading, cached store and indexes)
up to the first reply. The scripted turns cycle through orders, FAQs (en + zh), product
questions, small talk and hand-offs, in several sessions, as a chat would.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import summary_ms, write  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SCRIPT = [
    ("C001", "hi"),
    ("C001", "where is my order 100023?"),
    ("C001", "does the X200 work with my iPhone?"),
    ("C001", "what's the battery life of it?"),
    ("C001", "how long do I have to return something?"),
    ("C001", "你们支持七天无理由退货吗"),
    ("C001", "退款多久到账"),
    ("C001", "I want to return the shoes from order 100024"),
    ("C002", "what's the status of order 100031"),
    ("C002", "where is order 100023?"),
    ("C001", "is shipping free?"),
    ("C001", "recommend some running shoes under $150"),
    ("C001", "compare the Aurora X200 and the Trailrunner 5"),
    ("C001", "can I pay with paypal?"),
    ("C001", "thanks, bye"),
    ("C001", "what is the meaning of life"),
    ("C001", "I want to talk to a human"),
    ("C001", "怎么修改收货地址"),
    ("C001", "cancel order 100023"),
    ("C001", "where is my refund for order 100024"),
]

COLD = """
import sys, time
t0 = time.perf_counter()
from engine import Engine
e = Engine.from_config()
r = e.respond("cold", sys.argv[1], customer_id="C001")
print(round(time.perf_counter() - t0, 3), round(time.process_time(), 3))
"""
COLD_TURNS = {"order": "where is my order 100023?", "faq_en": "is shipping free?"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--data-dir", default=None, help="default: a temporary folder")
    ap.add_argument("--cache", action="store_true",
                    help="keep the query-embedding cache on (default off: every turn embeds)")
    ap.add_argument("--cold-runs", type=int, default=3, help="fresh processes per cold-start kind")
    args = ap.parse_args()
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="shopassist-bench-"))
    os.environ["SHOPASSIST_DATA_DIR"] = str(data_dir)
    if not args.cache:
        os.environ["SHOPASSIST_EMBEDDER__CACHE_SIZE"] = "0"

    t0 = time.perf_counter()
    from engine import Engine

    engine = Engine.from_config()
    first = engine.respond("warm", "hello")
    first_build_s = time.perf_counter() - t0
    print(f"first start (builds store, trains head, builds indexes): {first_build_s:.2f}s -> {first.text[:40]}")

    cold: dict[str, list[float]] = {}
    cold_cpu: dict[str, list[float]] = {}  # CPU seconds of the fresh process: what the load cannot inflate much
    for kind, text in COLD_TURNS.items():
        for _ in range(args.cold_runs):
            out = subprocess.run([sys.executable, "-c", COLD, text], capture_output=True, text=True,
                                 env=os.environ, check=True)
            wall, cpu = out.stdout.strip().splitlines()[-1].split()
            cold.setdefault(kind, []).append(float(wall))
            cold_cpu.setdefault(kind, []).append(float(cpu))
        print(f"cold start to first reply ({kind}; store, head and indexes cached): "
              f"median {sorted(cold[kind])[len(cold[kind]) // 2]:.2f}s of {cold[kind]} "
              f"(CPU {cold_cpu[kind]} s; load {os.getloadavg()[0]:.1f})")

    engine.warm_up()  # as the chat REPL and the action server do before the first customer: Chinese
    # tokenisation and each language's index load here, not in the first Chinese turn
    latencies, by_route, errors = [], {}, 0
    for i in range(args.turns):
        customer, text = SCRIPT[i % len(SCRIPT)]
        session = f"bench-{i // len(SCRIPT)}-{customer}"
        t = time.perf_counter()
        reply = engine.respond(session, text, customer_id=customer)
        ms = (time.perf_counter() - t) * 1000
        latencies.append(ms)
        by_route.setdefault(reply.route, []).append(ms)
        errors += "error" in reply.trace
    stats = summary_ms(latencies)
    print(f"{args.turns} turns: p50 {stats['p50_ms']:.1f} ms, p95 {stats['p95_ms']:.1f} ms, "
          f"mean {stats['mean_ms']:.1f} ms, errors {errors}")
    for route, values in sorted(by_route.items()):
        s = summary_ms(values)
        print(f"  {route:9s} n={s['n']:3d} p50 {s['p50_ms']:.1f} ms p95 {s['p95_ms']:.1f} ms")
    write("turn_latency", {
        "first_start_s": round(first_build_s, 3),
        "cold_start_s": cold,
        "cold_start_cpu_s": cold_cpu,
        "turns": stats,
        "by_route": {k: summary_ms(v) for k, v in by_route.items()},
        "errors": errors,
        "query_cache": bool(args.cache),
        "latencies_ms": [round(x, 3) for x in latencies],
    })


if __name__ == "__main__":
    main()
