"""Adversarial benchmark: attack conversations, ``kill -9`` during writes, and hostile input at scale.

1. Attack conversations (default 320; benchmarks/attacks.py): cross-customer, session hijack,
   confirmation abuse and prompt injection, English and Chinese, generated from templates x the
   demo store's data, each on a fresh copy of the order database. Counts leaks, writes without a
   clear yes, writes by the wrong actor, duplicated writes and raw PII at rest in the tracker.
2. ``kill -9`` faults during confirmed writes (default 60; benchmarks/write_faults.py): a worker
   process killed around the write, a fresh one continuing the conversation. Counts lost,
   duplicated and misreported writes.
3. Hostile inputs, as below.

All must be 0 (issue 22's "Done when"); the summary printed last names each with examples in
the JSON.

Counts replies that show a traceback or exception to the customer (must be 0), turns over 2 s,
and per-turn time (p50/p99/max) per front door and per input category. Inputs come from
tests/adversarial/corpus.py (hand-written corpus first, then seeded mutants). Each input is one
turn of its own conversation, as C001, C002 or a guest. Writes benchmarks/results/adversarial.json.

    python benchmarks/adversarial.py                          # 320 attacks, 60 kills, 10,000 API, 500 CLI, 500 action server
    python benchmarks/adversarial.py --n 2000 --cli 200 --actions 200 --data-dir /tmp/sa --store-root /tmp/sa/store
    python benchmarks/adversarial.py --attacks 320 --kills 60 --skip-inputs   # the data-safety parts alone
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
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


def _public_text(root: Path) -> str:
    """What any customer may read (FAQs, catalog, reply templates): a string found there proves nothing."""
    from importlib import resources

    templates = resources.files("engine.responses").joinpath("templates.yaml").read_text("utf-8")
    return (root / "faqs.jsonl").read_text("utf-8") + (root / "catalog.json").read_text("utf-8") + templates


def data_safety(engine, attacks: int, kills: int, seed: int) -> dict:
    """Attack conversations and kill -9 faults, each over copies of the demo order database as it
    was before the run (the demo store's own database is never written)."""
    from attacks import Shop, generate, run_attacks
    from knowledge.demo import ensure_demo_store
    from write_faults import run_kills

    s = engine.settings
    demo = ensure_demo_store(Path(s.store.root) if s.store.root else s.resolved_data_dir / "demo-store",
                             seed=s.store.seed)
    workdir = Path(tempfile.mkdtemp(prefix="shopassist-adv-"))
    pristine = workdir / "pristine.db"
    with sqlite3.connect(demo.db_path) as src, sqlite3.connect(pristine) as dst:
        src.backup(dst)
    with sqlite3.connect(pristine) as conn:
        prior_writes = conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    shop = Shop.read(pristine, _public_text(demo.root))
    out: dict = {"order_db_prior_writes": prior_writes}
    try:
        if kills:  # first: the workers are forked from this process before any server thread starts
            t = time.perf_counter()
            out["kills"] = run_kills(engine, shop, pristine, workdir / "kills", kills, seed=seed)
            out["kills"]["wall_s"] = round(time.perf_counter() - t, 1)
            print(f"kills: {json.dumps({k: v for k, v in out['kills'].items() if k != 'examples'})}", flush=True)
        if attacks:
            t = time.perf_counter()
            convs = generate(shop, attacks, seed=seed)
            out["attacks"] = run_attacks(engine, shop, pristine, workdir / "attacks", convs)
            out["attacks"]["wall_s"] = round(time.perf_counter() - t, 1)
            print(f"attacks: {json.dumps({k: v for k, v in out['attacks'].items() if k != 'examples'})}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def verdict(result: dict) -> dict:
    """The issue's five numbers (None: that part did not run)."""
    atk, kill = result.get("attacks"), result.get("kills")
    api = result.get("api")
    leaks = None if atk is None and api is None else (atk or {}).get("leaks", 0) + (api or {}).get("leaks", 0)
    return {
        "leaks": leaks,
        "writes_without_clear_yes": None if atk is None else (atk["writes_without_clear_yes"] + atk["wrong_actor"]
                                                               + atk["wrong_target"]),
        "lost_writes": None if kill is None else kill["lost"],
        "duplicated_writes": None if atk is None and kill is None
        else (atk or {}).get("duplicated", 0) + (kill or {}).get("duplicated", 0),
        "raw_pii_at_rest": None if atk is None else atk["raw_pii_at_rest"],
        "misreported_writes": None if kill is None else kill["misreported"],
        "attack_conversations": None if atk is None else atk["conversations"],
        "kill_faults": None if kill is None else kill["faults"],
        "hostile_inputs": None if api is None else api["turns"],
    }


def main() -> int:  # the API first: the action server shares its engine (and query cache)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--attacks", type=int, default=320, help="attack conversations (0: none)")
    ap.add_argument("--kills", type=int, default=60, help="kill -9 faults during writes (0: none)")
    ap.add_argument("--skip-inputs", action="store_true", help="no hostile inputs (API, CLI, action server)")
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
    result: dict = {"seed": args.seed, "loadavg_start": os.getloadavg()}
    if args.attacks or args.kills:
        result.update(data_safety(engine, args.attacks, args.kills, args.seed))
        write("adversarial", {**result, "partial": not args.skip_inputs, "summary": verdict(result)})
    if args.skip_inputs:
        return _report(result)
    inputs = list(hostile_inputs(args.n, seed=args.seed))
    result.update(n=args.n, categories=dict(Counter(c for c, _ in inputs)))

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

    bad = result["api"]["exceptions"] + result.get("action_server", {}).get("tracebacks", 0)
    bad += result.get("cli", {}).get("leaks", 0)
    return _report(result) or (1 if bad else 0)


def _report(result: dict) -> int:
    """Save the JSON and print the issue's numbers, with the first example of each failure."""
    result["loadavg_end"] = os.getloadavg()
    result["summary"] = summary = verdict(result)
    write("adversarial", result)
    print("data safety (must all be 0):")
    for key in ("leaks", "writes_without_clear_yes", "lost_writes", "duplicated_writes", "raw_pii_at_rest",
                "misreported_writes"):
        print(f"  {key:26s} {summary[key]}")
    print(f"  over {summary['attack_conversations']} attack conversations, {summary['kill_faults']} kill -9 faults, "
          f"{summary['hostile_inputs']} hostile inputs")
    for part in ("attacks", "kills"):
        for kind, found in (result.get(part) or {}).get("examples", {}).items():
            if found:
                print(f"  e.g. {part}/{kind}: {json.dumps(found[0], ensure_ascii=False)[:400]}")
    return 1 if any(summary[k] for k in summary if k not in ("attack_conversations", "kill_faults",
                                                             "hostile_inputs")) else 0


if __name__ == "__main__":
    raise SystemExit(main())
