"""Hostile input at scale: N generated inputs (default 10,000) through the Python API, then a
share of them through ``shopassist chat`` piped and through the Rasa action server over HTTP.

Counts replies that show a traceback or exception to the customer (must be 0), turns over 2 s,
and per-turn time (p50/p99/max) per front door and per input category. Inputs come from
tests/adversarial/corpus.py (hand-written corpus first, then seeded mutants). Each input is one
turn of its own conversation, as C001, C002 or a guest. Writes benchmarks/results/adversarial.json.

    python benchmarks/adversarial.py                          # 10,000 API, 500 CLI, 500 action server
    python benchmarks/adversarial.py --n 2000 --cli 200 --actions 200 --data-dir /tmp/sa --store-root /tmp/sa/store
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from _common import summary_ms, write  # noqa: E402

from tests.adversarial.corpus import LEAK_MARKERS, as_line, hostile_inputs  # noqa: E402

CUSTOMERS = ["C001", "C002", None]
SLOW_MS = 2000.0


def leaked(reply_text: str, sent: str | bytes) -> list[str]:
    typed = sent if isinstance(sent, str) else sent.decode("utf-8", "replace")
    return [m for m in LEAK_MARKERS if m in reply_text and m not in typed]


def through_api(engine, inputs, progress=None) -> dict:
    times, by_cat = [], defaultdict(list)
    exceptions, leaks, empty, slow, internal = Counter(), [], 0, [], Counter()

    def summary() -> dict:
        return {"turns": len(times), "exceptions": sum(exceptions.values()), "exception_kinds": dict(exceptions),
                "leaks": len(leaks), "leak_examples": leaks[:10], "empty_replies": empty,
                "error_replies": dict(internal), "over_2s": len(slow),
                "slow_examples": sorted(slow, key=lambda s: -s["ms"])[:15], "latency": summary_ms(times),
                "by_category": {c: summary_ms(v) for c, v in sorted(by_cat.items())}}

    for i, (cat, text) in enumerate(inputs):
        t = time.perf_counter()
        try:
            reply = engine.respond(f"bench-adv-{uuid.uuid4().hex[:8]}", text, customer_id=CUSTOMERS[i % 3])
        except Exception as exc:  # counted: a customer would have seen this
            exceptions[f"{cat}: {type(exc).__name__}: {str(exc)[:80]}"] += 1
            continue
        ms = (time.perf_counter() - t) * 1000
        times.append(ms)
        by_cat[cat].append(ms)
        if ms > SLOW_MS:
            slow.append({"category": cat, "ms": round(ms, 1), "input": repr(text[:60]),
                         "stages": {k: v for k, v in reply.trace.items() if k.endswith("_ms")}})
        if not reply.text.strip():
            empty += 1
        if reply.trace.get("error"):  # an apology and a hand-off: a defect when the input caused it
            internal[reply.trace["error"]] += 1
        bad = leaked(reply.text, text)
        if bad:
            leaks.append({"category": cat, "markers": bad, "reply": reply.text[:200]})
        if (i + 1) % 1000 == 0:
            print(f"  api: {i + 1} turns, p99 {summary_ms(times)['p99_ms']:.0f} ms, max {max(times):.0f} ms, "
                  f"{len(slow)} over 2 s, load {os.getloadavg()[0]:.1f}", flush=True)
            if progress is not None:
                progress(summary())
    return summary()


def through_cli(inputs, env: dict) -> dict:
    lines = [(c, t) for c, t in inputs if not as_line(t).lstrip().startswith(b"/")]
    config = Path(os.environ.get("TMPDIR", "/tmp")) / f"adv-cli-{uuid.uuid4().hex[:6]}.yaml"
    config.write_text("dialogue:\n  max_turns_per_minute: null\n")
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "chat", "--debug", "--customer", "C001",
                           "--config", str(config)], input=b"".join(as_line(x) for _, x in lines),
                          capture_output=True, env=env, timeout=3600)
    wall = time.perf_counter() - t
    config.unlink()
    out = proc.stdout.decode("utf-8", "replace").splitlines()
    err = proc.stderr.decode("utf-8", "replace")
    replies = []
    for line in out:
        try:
            replies.append(json.loads(line))
        except ValueError:
            pass
    times = [float(r["trace"].get("total_ms", 0.0)) for r in replies]
    leaks = sum(bool(leaked(r["text"], x)) for (_, x), r in zip(lines, replies))
    return {"turns_sent": len(lines), "replies": len(replies), "exit_code": proc.returncode,
            "traceback_on_stderr": "Traceback" in err, "leaks": leaks, "wall_s": round(wall, 1),
            "over_2s": sum(ms > SLOW_MS for ms in times), "latency_engine": summary_ms(times)}


def through_actions(engine, inputs) -> dict:
    import httpx

    from engine import rasa_actions
    from tests.integration.test_rasa_protocol import call, serve_actions, tracker

    rasa_actions.use_engine(engine)
    times, statuses, leaks, tracebacks = [], Counter(), 0, 0
    try:
        with serve_actions() as url, httpx.Client(timeout=120) as client:
            for i, (_, text) in enumerate(inputs):
                sent = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
                body = call("action_shopassist_respond",
                            tracker(f"bench-adv-rasa-{uuid.uuid4().hex[:8]}", sent, customer=CUSTOMERS[i % 3]))
                raw = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
                t = time.perf_counter()
                r = client.post(f"{url}/webhook", content=raw, headers={"Content-Type": "application/json"})
                times.append((time.perf_counter() - t) * 1000)
                statuses[r.status_code] += 1
                tracebacks += "Traceback" in r.text or 'File "/' in r.text
                if r.status_code == 200:
                    leaks += any(leaked(m.get("text") or "", sent) for m in r.json()["responses"])
    finally:
        rasa_actions.use_engine(None)
    return {"calls": len(times), "statuses": dict(statuses), "tracebacks": tracebacks, "leaks": leaks,
            "over_2s": sum(ms > SLOW_MS for ms in times), "latency_http": summary_ms(times)}


def main() -> int:  # the API first: the action server shares its engine (and query cache)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="inputs through the Python API")
    ap.add_argument("--cli", type=int, default=500, help="of those, through `shopassist chat` piped")
    ap.add_argument("--actions", type=int, default=500, help="of those, through the action server")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--store-root", default=None)
    args = ap.parse_args()

    overrides: dict = {}
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    if args.store_root:
        overrides["store"] = {"root": args.store_root}
    from engine import Engine

    t = time.perf_counter()
    engine = Engine.from_config(**overrides)
    engine.warm_up()
    print(f"engine ready in {time.perf_counter() - t:.1f}s", flush=True)
    inputs = list(hostile_inputs(args.n, seed=args.seed))
    result: dict = {"n": args.n, "seed": args.seed, "categories": dict(Counter(c for c, _ in inputs)),
                    "loadavg_start": os.getloadavg()}
    def partial(api: dict) -> None:  # a long run on a busy host leaves its figures so far
        write("adversarial", {**result, "api": api, "partial": True, "loadavg_now": os.getloadavg()})

    result["api"] = through_api(engine, inputs, partial)
    print(f"api: {json.dumps({k: v for k, v in result['api'].items() if k not in ('by_category', 'slow_examples')})}")
    if args.actions:
        result["action_server"] = through_actions(engine, inputs[: args.actions])
        print(f"action server: {json.dumps(result['action_server'])}", flush=True)
    if args.cli:
        env = dict(os.environ)
        if args.data_dir:
            env["SHOPASSIST_DATA_DIR"] = args.data_dir
        if args.store_root:
            env["SHOPASSIST_STORE__ROOT"] = args.store_root
        result["cli"] = through_cli(inputs[: args.cli], env)
        print(f"cli: {json.dumps(result['cli'])}", flush=True)

    result["loadavg_end"] = os.getloadavg()
    write("adversarial", result)
    bad = result["api"]["exceptions"] + result["api"]["leaks"]
    bad += result.get("action_server", {}).get("tracebacks", 0) + result.get("cli", {}).get("leaks", 0)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
