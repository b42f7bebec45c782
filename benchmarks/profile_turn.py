"""Profile full engine turns: where a turn's time goes, per stage and per function.

Usage: python benchmarks/profile_turn.py [--turns 200] [--data-dir DIR] [--html OUT.html]

Runs the scripted turns of benchmarks/turn_latency.py (query cache off) on a warmed engine and
prints (1) the median of each stage the turn's trace times (intent, sentiment, entities, routing,
state) per route, (2) CPU milliseconds per turn, and (3) a pyinstrument call tree (``pip install
pyinstrument``), or cProfile's top functions when pyinstrument is missing. Writes
benchmarks/results/profile_turn.json (and an HTML tree with ``--html``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import write  # noqa: E402
from turn_latency import SCRIPT  # noqa: E402

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--html", default=None)
    args = ap.parse_args(argv)
    os.environ["SHOPASSIST_DATA_DIR"] = str(Path(args.data_dir or tempfile.mkdtemp(prefix="shopassist-bench-")))
    os.environ["SHOPASSIST_EMBEDDER__CACHE_SIZE"] = "0"
    from engine import Engine

    engine = Engine.from_config()
    engine.warm_up()

    def run(tag: str) -> list:
        replies = []
        for i in range(args.turns):
            customer, text = SCRIPT[i % len(SCRIPT)]
            replies.append(engine.respond(f"{tag}-{i // len(SCRIPT)}-{customer}", text, customer_id=customer))
        return replies

    run("warm")
    c0, w0 = time.process_time(), time.perf_counter()
    replies = run("timed")
    cpu_ms = (time.process_time() - c0) * 1000 / args.turns
    wall_ms = (time.perf_counter() - w0) * 1000 / args.turns
    stages: dict[str, dict[str, list[float]]] = {}
    for r in replies:
        for k, v in r.trace.items():
            if k.endswith("_ms") and isinstance(v, (int, float)):
                stages.setdefault(r.route, {}).setdefault(k, []).append(v)
    medians = {route: {k: round(statistics.median(v), 3) for k, v in sorted(d.items())} for route, d in stages.items()}
    print(f"{args.turns} turns: {cpu_ms:.1f} CPU ms/turn, {wall_ms:.1f} wall ms/turn, load {os.getloadavg()[0]:.1f}")
    for route, d in sorted(medians.items()):
        print(f"  {route:<9} " + "  ".join(f"{k[:-3]} {v:.2f}" for k, v in d.items()))

    tree = None
    try:
        from pyinstrument import Profiler

        prof = Profiler(interval=0.0005)
        prof.start()
        run("profiled")
        prof.stop()
        tree = prof.output_text(unicode=False, color=False, show_all=False)
        if args.html:
            Path(args.html).write_text(prof.output_html(), encoding="utf-8")
    except ImportError:
        import cProfile
        import io
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        run("profiled")
        pr.disable()
        buf = io.StringIO()
        pstats.Stats(pr, stream=buf).sort_stats("tottime").print_stats(25)
        tree = buf.getvalue()
    print(tree)
    result = {"turns": args.turns, "cpu_ms_per_turn": round(cpu_ms, 2), "wall_ms_per_turn": round(wall_ms, 2),
              "stage_medians_ms": medians, "profile": tree}
    write("profile_turn", result)
    return result


if __name__ == "__main__":
    main()
