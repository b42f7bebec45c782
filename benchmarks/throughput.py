"""Throughput against concurrency: N conversations at once through ``Engine.arespond``.

Usage: python benchmarks/throughput.py [--concurrency 1,4,8,16,32] [--turns 320] [--cache]

Each of N asyncio tasks plays one conversation (the scripted turns of benchmarks/turn_latency.py,
its own session; the order number and product of a turn vary with the conversation, so replies
differ) until ``--turns`` turns are done in total. Reports turns/s, per-turn latency
(p50/p95/p99, queueing included) and errors (a reply whose trace holds an error, or an
exception). The query-embedding cache is off unless ``--cache``: every turn embeds. The
machine's load average is recorded, since the CPUs may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import summary_ms, write  # noqa: E402
from turn_latency import SCRIPT  # noqa: E402

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__all__ = ["run_level", "main"]


def script_for(conversation: int) -> list[tuple[str, str]]:
    """The scripted turns, varied per conversation so the same text does not repeat N times.

    Each conversation also starts at its own place in the script: conversations run in step, and
    identical texts arriving together would be answered from the embedders' per-thread memo of
    the latest text (meant for a turn's intent and retrieval sharing one vector), which would
    make the measured rate better than a real mix of customers gives.
    """
    orders = ("100023", "100024", "100031")
    out = []
    for customer, text in SCRIPT:
        order = orders[conversation % len(orders)] if customer == "C001" else "100031"
        text = text.replace("100023", order) if "100023" in text else text
        if conversation % 2 and text.endswith("?"):
            text = text[:-1] + " please?"
        out.append((customer, text))
    start = conversation % len(out)
    return out[start:] + out[:start]


async def run_level(engine, concurrency: int, turns: int, tag: str) -> dict:
    latencies: list[float] = []
    errors = 0
    next_turn = 0

    async def conversation(c: int) -> None:
        nonlocal errors, next_turn
        script = script_for(c)
        i = 0
        while next_turn < turns:
            next_turn += 1
            customer, text = script[i % len(script)]
            session = f"{tag}-{concurrency}-{c}-{i // len(script)}"
            t = time.perf_counter()
            try:
                reply = await engine.arespond(session, text, customer_id=customer)
                errors += "error" in reply.trace
            except Exception:  # counted, not raised: the run goes on
                errors += 1
            latencies.append((time.perf_counter() - t) * 1000)
            i += 1

    t0, c0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(conversation(c) for c in range(concurrency)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    cpu_ms = cpu * 1000 / max(1, len(latencies))
    row = {"concurrency": concurrency, "turns": len(latencies), "wall_s": round(wall, 3),
           "turns_per_s": round(len(latencies) / wall, 1), "errors": errors, **summary_ms(latencies),
           # CPU this process spent per turn, and the rate its cores would allow if it had them to
           # itself: on shared CPUs the measured rate is bounded by what the others leave
           "cpu_ms_per_turn": round(cpu_ms, 2), "cpu_bound_turns_per_s": round((os.cpu_count() or 1) * 1000 / cpu_ms, 1),
           "loadavg": [round(x, 2) for x in os.getloadavg()]}
    print(f"  concurrency {concurrency:>3}: {row['turns_per_s']:7.1f} turns/s  p50 {row['p50_ms']:7.1f} ms  "
          f"p95 {row['p95_ms']:7.1f} ms  errors {errors}  CPU {cpu_ms:.1f} ms/turn "
          f"(-> {row['cpu_bound_turns_per_s']} turns/s on idle cores)  load {row['loadavg'][0]}", flush=True)
    return row


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--concurrency", default="1,4,8,16,32")
    ap.add_argument("--turns", type=int, default=320, help="turns per concurrency level")
    ap.add_argument("--cache", action="store_true", help="keep the query-embedding cache on")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--workers", type=int, default=None,
                    help="threads of the event loop's default executor (default: Python's)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    os.environ["SHOPASSIST_DATA_DIR"] = str(Path(args.data_dir or tempfile.mkdtemp(prefix="shopassist-bench-")))
    if not args.cache:
        os.environ["SHOPASSIST_EMBEDDER__CACHE_SIZE"] = "0"
    from engine import Engine

    engine = Engine.from_config()
    engine.warm_up()
    levels = [int(x) for x in args.concurrency.split(",")]

    async def all_levels() -> list[dict]:
        if args.workers:
            from concurrent.futures import ThreadPoolExecutor

            asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(args.workers))
        await run_level(engine, 2, 40, "warm")
        return [await run_level(engine, n, args.turns, "run") for n in levels]

    print(f"throughput ({'cache on' if args.cache else 'cache off'}):")
    rows = asyncio.run(all_levels())
    result = {"levels": rows, "query_cache": bool(args.cache), "workers": args.workers,
              "settings": {"embedder_threads": engine.settings.embedder.threads,
                           "embedder_backend": engine.settings.embedder.backend}}
    if not args.no_write:
        write("throughput" + ("_cache" if args.cache else ""), result)
    return result


if __name__ == "__main__":
    main()
