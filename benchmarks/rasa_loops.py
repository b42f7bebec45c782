"""The example Rasa project (examples/rasa) with the shopassist action server, through a real Rasa
3.6: loops over >= 1,000 scripted turns, REST-turn latency against a no-op custom action, and the
action server's memory.

Usage: python benchmarks/rasa_loops.py [--rounds 8] [--latency-turns 200] [--no-write]

- **Loops.** The conversations of tests/integration/rasa_conversations/conversations.yaml (English
  and Chinese: orders, policies, products, recommendations, cancellations, address changes, return
  forms with digressions and exits, gibberish) ``--rounds`` times, each time with new sender ids,
  plus three 100-turn conversations of everything (``HUNDRED`` of the integration test), through
  Rasa's REST channel. For each customer message Rasa's tracker says how many bot messages and
  actions followed it: a *loop* is a message after which Rasa ran more than 4 actions (the old
  project ran up to 10, its limit); *no reply* and *more than one reply* are counted too. Runs on a
  private copy of the demo store (the conversations write).
- **Latency.** Two Rasa servers from the same trained model: one calls ``shopassist actions``, the
  other a no-op action server with the same action names (benchmarks/rasa_noop_actions.py, rasa-sdk
  saying "ok"). The same single-turn messages (orders, FAQs, products, greetings, Chinese), timed
  at the REST webhook in alternating blocks of ``BLOCK`` per side (same machine load), after 10
  untimed turns a side. The goal: our p50 <= 1.5x the no-op p50.
- **Memory.** RSS of the action server process (one worker, engine built before it listens) after
  start, after the loop run and at the end; the engine alone in a plain process (``Engine.from_config``
  + ``warm_up``) for comparison; and the large native libraries each process maps (``/proc/PID/maps``).

Writes benchmarks/results/rasa_loops.json. Needs the integration test's cached Rasa venv (built on
first use, see tests/integration/test_rasa_server.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from _common import summary_ms, write  # noqa: E402

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "integration"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import test_rasa_server as stack_mod  # noqa: E402  the integration test's stack (venv, training, processes)

__all__ = ["main"]

BLOCK = 20
LATENCY_MESSAGES = [
    ("hi", "C001"), ("where is my order 100023?", "C001"), ("is shipping free?", "C002"),
    ("does the Aurora X200 work with iPhone?", "C001"), ("how long do refunds take?", "C001"),
    ("你好", "C002"), ("退款多久到账", "C001"), ("thanks", "C001"), ("what's the status of order 100031", "C002"),
    ("can you recommend some wireless earbuds?", "C001"),
]
_HEAVY_LIBS = ("libtorch", "onnxruntime", "faiss", "libtensorflow", "libopenblas", "libgomp", "libmkl")


def _rss_mb(pid: int) -> float:
    import psutil

    return round(psutil.Process(pid).memory_info().rss / 2**20, 1)


def _mapped_libs(pid: int | None = None, maps: str | None = None) -> dict[str, float]:
    """MB of each large native library the process maps (what its imports brought in)."""
    sizes: dict[str, int] = {}
    try:
        lines = (maps if maps is not None else Path(f"/proc/{pid}/maps").read_text()).splitlines()
    except OSError:
        return {}
    for line in lines:
        parts = line.split()
        if len(parts) < 6:
            continue
        name = Path(parts[5]).name
        key = next((lib for lib in _HEAVY_LIBS if lib in name), None)
        if key is None:
            continue
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        sizes[key] = sizes.get(key, 0) + hi - lo
    return {k: round(v / 2**20, 1) for k, v in sorted(sizes.items())}


def engine_alone(data_dir: Path, store: Path) -> dict:
    """RSS of the engine in a plain process (built and warmed up, then one turn)."""
    code = (
        "import json, os, sys, psutil\n"
        "from engine import Engine\n"
        "e = Engine.from_config(); e.warm_up(); e.respond('mem-1', 'where is my order 100023?', customer_id='C001')\n"
        "mods = [m for m in ('torch', 'tensorflow', 'transformers', 'sentence_transformers', 'onnxruntime', 'sanic',"
        " 'rasa_sdk') if m in sys.modules]\n"
        "print(json.dumps({'rss_mb': round(psutil.Process().memory_info().rss / 2**20, 1), 'modules': mods,"
        " 'pid': os.getpid(), 'maps': open(f'/proc/{os.getpid()}/maps').read()}))\n"
    )
    env = dict(os.environ, SHOPASSIST_DATA_DIR=str(data_dir), SHOPASSIST_STORE__ROOT=str(store))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=1200)
    if out.returncode != 0:
        return {"error": out.stderr[-2000:]}
    info = json.loads(out.stdout.strip().splitlines()[-1])
    info["libs_mb"] = _mapped_libs(maps=info.pop("maps"))
    info.pop("pid", None)
    return info


def scripted_turns(rounds: int) -> list[tuple[str, str, str | None]]:
    """(sender, text, customer) in order: every conversation ``rounds`` times, then 3 x 100 turns."""
    turns: list[tuple[str, str, str | None]] = []
    for r in range(rounds):
        for i, conversation in enumerate(stack_mod.CONVERSATIONS):
            sender = f"loop-{r}-{i}-{uuid.uuid4().hex[:6]}"
            turns += [(sender, step["you"], conversation.get("customer")) for step in conversation["turns"]]
    for k in range(3):
        sender = f"hundred-{k}-{uuid.uuid4().hex[:6]}"
        turns += [(sender, stack_mod.HUNDRED[i % len(stack_mod.HUNDRED)], ("C001", "C002", None)[k]) for i in range(100)]
    return turns


def count_loops(stack: "stack_mod.RasaStack", turns: list[tuple[str, str, str | None]]) -> dict:
    loops, no_reply, many, most_actions, examples = 0, 0, 0, 0, []
    started = time.perf_counter()
    for sender, text, customer in turns:
        turn = stack.turn(sender, text, customer)
        most_actions = max(most_actions, len(turn.actions))
        bad = None
        if len(turn.actions) > 4:
            loops, bad = loops + 1, "loop"
        if not turn.bot:
            no_reply, bad = no_reply + 1, "no reply"
        elif len(turn.bot) > 1:
            many, bad = many + 1, "more than one reply"
        if bad and len(examples) < 10:
            examples.append({"why": bad, "text": text, "actions": turn.actions, "bot": turn.bot})
    return {"turns": len(turns), "conversations": len({t[0] for t in turns}), "loops": loops,
            "no_reply": no_reply, "more_than_one_reply": many, "most_actions_after_one_message": most_actions,
            "examples": examples, "wall_s": round(time.perf_counter() - started, 1)}


def start_rasa(project: Path, model: Path, endpoints: str, env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    venv, _ = stack_mod.ensure_rasa_venv()
    port = stack_mod._free_port()
    (project / "endpoints-noop.yml").write_text(endpoints)
    with open(log, "w") as out:
        proc = subprocess.Popen([str(venv / "bin" / "python"), "-m", "rasa", "run", "--enable-api", "-i", "127.0.0.1",
                                 "-p", str(port), "-m", str(model), "--endpoints", "endpoints-noop.yml",
                                 "--credentials", "credentials.yml"], cwd=project, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    stack_mod._wait_http(f"http://127.0.0.1:{port}/", proc, log, 300)
    return proc, f"http://127.0.0.1:{port}"


def latency(ours: str, noop: str, n: int) -> dict:
    import httpx

    clients = {"ours": httpx.Client(timeout=120), "noop": httpx.Client(timeout=120)}
    urls = {"ours": ours, "noop": noop}
    times: dict[str, list[float]] = {"ours": [], "noop": []}

    def one(side: str, i: int, timed: bool) -> None:
        text, customer = LATENCY_MESSAGES[i % len(LATENCY_MESSAGES)]
        body = {"sender": f"lat-{side}-{i // 5}", "message": text, "metadata": {"customer_id": customer}}
        started = time.perf_counter()
        r = clients[side].post(f"{urls[side]}/webhooks/rest/webhook", json=body)
        elapsed = (time.perf_counter() - started) * 1000
        assert r.status_code == 200 and r.json(), (side, r.text[:300])
        if timed:
            times[side].append(elapsed)

    for side in ("ours", "noop"):
        for i in range(10):
            one(side, i, False)
    i = 0
    while len(times["ours"]) < n:
        for side in ("noop", "ours") if (i // BLOCK) % 2 else ("ours", "noop"):
            for k in range(BLOCK):
                one(side, i + k, True)
        i += BLOCK
    ours_s, noop_s = summary_ms(times["ours"]), summary_ms(times["noop"])
    return {"ours": ours_s, "noop": noop_s, "p50_ratio": round(ours_s["p50_ms"] / noop_s["p50_ms"], 2),
            "goal_p50_ratio": 1.5, "messages": [t for t, _ in LATENCY_MESSAGES]}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=8, help="times each conversation of the set is held")
    ap.add_argument("--latency-turns", type=int, default=200, help="timed REST turns per side")
    ap.add_argument("--data-dir", help="the engine's data directory (default: a fresh one)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    from knowledge.demo import ensure_demo_store

    work = Path(tempfile.mkdtemp(prefix="shopassist-rasa-loops-"))
    demo = ensure_demo_store(work / "demo")
    store = work / "store"
    shutil.copytree(demo.root, store)
    data_dir = Path(args.data_dir) if args.data_dir else work / "data"
    token = uuid.uuid4().hex
    stack, procs = stack_mod.start_stack(work, store, data_dir, token=token)
    actions_pid = procs[1].pid
    result: dict = {"rasa": stack_mod.RASA_VERSION, "start": dict(stack.info)}
    noop_actions = noop_rasa = None
    try:
        memory = {"actions_after_start_mb": _rss_mb(actions_pid)}
        turns = scripted_turns(args.rounds)
        result["loops"] = count_loops(stack, turns)
        print(json.dumps(result["loops"], ensure_ascii=False)[:2000])
        memory["actions_after_loops_mb"] = _rss_mb(actions_pid)

        noop_port = stack_mod._free_port()
        noop_log = work / "noop-actions.log"
        with open(noop_log, "w") as out:
            noop_actions = subprocess.Popen([sys.executable, "-m", "rasa_sdk", "--actions", "benchmarks.rasa_noop_actions",
                                             "--port", str(noop_port)], cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                            env=dict(os.environ, SANIC_HOST="127.0.0.1"))
        stack_mod._wait_http(f"http://127.0.0.1:{noop_port}/health", noop_actions, noop_log, 120)
        endpoints = f'action_endpoint:\n  url: "http://127.0.0.1:{noop_port}/webhook"\n'
        rasa_env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", COMPRESS_ACTION_SERVER_REQUEST="true",
                        TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore")
        noop_rasa, noop_url = start_rasa(work / "project", work / "models" / "shopassist.tar.gz", endpoints, rasa_env,
                                         work / "noop-rasa.log")
        result["latency"] = latency(stack.rasa_url, noop_url, args.latency_turns)
        print(json.dumps(result["latency"]))
        memory["actions_end_mb"] = _rss_mb(actions_pid)
        memory["actions_libs_mb"] = _mapped_libs(actions_pid)
        memory["noop_actions_mb"] = _rss_mb(noop_actions.pid)
        memory["goal_mb"] = 500
        alone = engine_alone(data_dir, store)
        memory["engine_alone"] = alone
        result["memory"] = memory
        print(json.dumps(memory))
    finally:
        for proc in (noop_rasa, noop_actions, *procs):
            if proc is not None:
                stack_mod._stop(proc)
    if not args.no_write:
        write("rasa_loops", result)
    shutil.rmtree(work, ignore_errors=True)
    return result


if __name__ == "__main__":
    main()
