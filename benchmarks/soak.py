"""Soak: worker processes x conversations x turns over the Redis tracker store and Redis lock.

Two runs: a clean one, then one where a worker is ``kill -9``-ed mid-run. Each reports lost,
duplicated and inconsistent turns (event log vs snapshot vs replay vs what clients saw committed;
see tests/adversarial/soak.py) and turn times. Needs a Redis: ``--redis-url`` or
``SHOPASSIST_TEST_REDIS_URL`` (``.ci/redis up`` prints one).

    python benchmarks/soak.py                       # 4 workers x 50 conversations x 20 turns
    python benchmarks/soak.py --workers 2 --sessions 10 --turns 5
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import summary_ms, write  # noqa: E402

from tests.adversarial.soak import run_soak  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redis-url", default=os.environ.get("SHOPASSIST_TEST_REDIS_URL"))
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--turns", type=int, default=20, help="turns each worker sends to each conversation")
    ap.add_argument("--think-ms", type=float, default=2.0, help="time each turn spends between load and commit")
    ap.add_argument("--lease-s", type=float, default=2.0, help="Redis lock lease (a killed holder's lock frees after it)")
    ap.add_argument("--kill-after", type=int, default=None,
                    help="kill -9 worker 0 after it answered this many turns (default: a third of its turns)")
    args = ap.parse_args()
    if not args.redis_url:
        ap.error("no Redis: pass --redis-url or set SHOPASSIST_TEST_REDIS_URL (.ci/redis up prints one)")
    kill_after = args.kill_after or max(1, args.sessions * args.turns // 3)
    runs = {}
    for name, kill in (("clean", None), ("kill9", 0)):
        r = run_soak(args.redis_url, workers=args.workers, sessions=args.sessions, turns=args.turns, kill=kill,
                     kill_after_turns=kill_after, think_s=args.think_ms / 1000, lease_s=args.lease_s)
        ms = r.pop("turn_ms")
        r["turn_latency"] = summary_ms(ms)
        r["turns_per_s"] = round(len(ms) / r["wall_s"], 1) if r["wall_s"] else None
        runs[name] = r
        print(f"{name}: {r['workers']} workers x {r['conversations']} conversations x {args.turns} turns: "
              f"{r['confirmed']} confirmed, {r['committed']} committed, {r['refused']} refused, "
              f"{r['in_flight_at_kill']} in flight at the kill; lost {r['lost']}, duplicated {r['duplicated']}, "
              f"inconsistent {r['inconsistent']}, unexplained {r['unexplained']}; exit codes {r['exit_codes']}; "
              f"{r['wall_s']} s, p50 {r['turn_latency']['p50_ms']} ms, p99 {r['turn_latency']['p99_ms']} ms, "
              f"max {r['turn_latency']['max_ms']} ms")
        for p in r["problems"]:
            print("   ", p)
    write("soak", {"loadavg": os.getloadavg(), "think_ms": args.think_ms, "lease_s": args.lease_s,
                   "kill_after": kill_after, "runs": runs})
    bad = sum(r["lost"] + r["duplicated"] + r["inconsistent"] + r["unexplained"] for r in runs.values())
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
