"""Store kit at scale: build time, engine start, memory and turn latency on a large generated kit.

Usage:
    python benchmarks/make_kit.py --products 50000 --faqs 2000 --out /tmp/kit50k
    python benchmarks/kit_scale.py --kit /tmp/kit50k [--data-dir DIR] [--turns 300] [--skip-build]
    python benchmarks/kit_scale.py --demo [--turns 300]          # the demo store's turn latency

Each stage runs in a fresh process, so its peak RSS is its own:

1. ``shopassist store build --root KIT`` (trial data, FAQ indexes, intent model, product
   vocabulary), timed end to end (goal: <= 3 minutes on 2 cores), its peak RSS both as the
   largest one process's and as the largest sum over the build's processes (it runs its stages
   in child processes), sampled every 0.1 s;
2. engine start from the built kit: imports + build_engine + warm_up up to the first reply (goal
   <= 5 s), wall and CPU seconds, each phase apart, with the load average before it and the
   process's peak RSS after serving the turns (goal <= 1 GB);
3. turn latency over scripted turns (product questions, constrained searches, comparisons, FAQs,
   orders, small talk, en + zh), without an LLM (goal p95 <= 30 ms; <= 15 ms on the demo store).

Results go to benchmarks/results/kit_scale.json (or kit_scale_demo.json with ``--demo``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import summary_ms, write  # noqa: E402

ROOT = HERE.parent

SERVE = r"""
import json, os, random, sys, time, csv, resource
def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime
load_before = os.getloadavg()
t0 = time.perf_counter()
from engine.settings import load_settings
from engine.builder import build_engine
phases = {"imports": (time.perf_counter() - t0, cpu())}
settings = load_settings(None)
t, c = time.perf_counter(), cpu()
engine = build_engine(settings)
phases["build_engine"] = (time.perf_counter() - t, cpu() - c)
t, c = time.perf_counter(), cpu()
engine.warm_up()
phases["warm_up"] = (time.perf_counter() - t, cpu() - c)
t, c = time.perf_counter(), cpu()
first = engine.respond("warm", "hi")
phases["first_reply"] = (time.perf_counter() - t, cpu() - c)
start_s = time.perf_counter() - t0
start_cpu_s = cpu()
turns = json.loads(sys.argv[1])
lat = []
for i, (session, text) in enumerate(turns):
    t = time.perf_counter()
    engine.respond(session, text)
    lat.append((time.perf_counter() - t) * 1000)
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps({"start_s": start_s, "start_cpu_s": start_cpu_s, "latencies_ms": lat,
                              "phases": {k: [round(w, 2), round(c, 2)] for k, (w, c) in phases.items()},
                              "rss_peak_mb": peak(), "loadavg_before_start": load_before,
                              "loadavg": os.getloadavg()}))
"""


def kit_turns(kit: Path, n: int, seed: int = 5) -> list[tuple[str, str]]:
    """Scripted turns drawn from the kit's own products and FAQs."""
    import csv
    import random

    rng = random.Random(seed)
    with (kit / "catalog.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r for _, r in zip(range(5000), csv.DictReader(fh))]
    faqs = [json.loads(line) for _, line in zip(range(400), (kit / "faqs.jsonl").open(encoding="utf-8"))]
    out: list[tuple[str, str]] = []
    for i in range(n):
        r = rng.choice(rows)
        noun = r["name"].split(" ")[-1].strip("()").lower() if "(" not in r["name"] else r["name"].split(" (")[0].split(" ")[-1].lower()
        session = f"s{i // 6}"
        kind = i % 10
        if kind == 0:
            out.append((session, f"how much is the {r['name']}?"))
        elif kind == 1:
            out.append((session, f"is the {r['name']} in stock?"))
        elif kind == 2:
            out.append((session, f"{noun}s under ${rng.randint(20, 300)}"))
        elif kind == 3:
            out.append((session, f"the cheapest {noun} you have"))
        elif kind == 4:
            out.append((session, f"{r.get('name:zh') or r['name']}多少钱"))
        elif kind == 5:
            out.append((session, f"{rng.randint(50, 300)}美元以内的{(r.get('name:zh') or r['name']).split(' ')[-1]}"))
        elif kind == 6:
            f = rng.choice([q for q in faqs if q["language"] == "en"])
            out.append((session, f["question"]))
        elif kind == 7:
            f = rng.choice([q for q in faqs if q["language"] == "zh"] or faqs)
            out.append((session, f["question"]))
        elif kind == 8:
            out.append((session, "something cheaper?"))
        else:
            out.append((session, rng.choice(["hi", "thanks!", "where is my order 100012?"])))
    return out


DEMO_TURNS = [
    "does the X200 work with my iPhone?", "what's the battery life of it?", "can I swim with it?",
    "recommend some running shoes under $150", "compare the Aurora X200 and the Trailrunner 5",
    "which one is lighter?", "有没有一百美元以内、带主动降噪的耳机推荐", "里面最便宜的是哪款",
    "how long do I have to return something?", "退款多久到账", "something cheaper?", "hi", "is shipping free?",
    "cheapest bluetooth speaker", "300刀以内 支持5G的手机有吗", "thanks, bye",
]


class _TreePeak:
    """The largest sum of the resident memory of a process and all its descendants, sampled every
    0.1 s (``store build`` runs its stages in child processes: one stage's peak is not the build's)."""

    def __init__(self, pid: int) -> None:
        import threading

        self.pid, self.peak_kb = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "_TreePeak":
        self._thread.start()
        return self

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024

    def _run(self) -> None:
        page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
        while not self._stop.is_set():
            parents: dict[int, int] = {}
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        with open(f"/proc/{entry}/stat", "rb") as fh:
                            parents[int(entry)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
                    except (OSError, ValueError, IndexError):
                        pass
            tree, grew = {self.pid}, True
            while grew:
                more = {p for p, pp in parents.items() if pp in tree} - tree
                tree |= more
                grew = bool(more)
            total = 0
            for pid in tree:
                try:
                    with open(f"/proc/{pid}/statm") as fh:
                        total += int(fh.read().split()[1]) * page_kb
                except (OSError, ValueError, IndexError):
                    pass
            self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(0.1)


def _peak_children_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kit", type=Path)
    ap.add_argument("--demo", action="store_true", help="measure the demo store's turns instead")
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--turns", type=int, default=300)
    ap.add_argument("--skip-build", action="store_true", help="reuse the data dir's build")
    args = ap.parse_args(argv)
    if not args.demo and args.kit is None:
        ap.error("--kit DIR or --demo")
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="kit-scale-"))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", SHOPASSIST_DATA_DIR=str(data_dir),
               PYTHONPATH=str(ROOT))
    result: dict = {"data_dir": str(data_dir)}
    if args.demo:
        turns = [(f"d{i // len(DEMO_TURNS)}", DEMO_TURNS[i % len(DEMO_TURNS)]) for i in range(args.turns)]
    else:
        env.update(SHOPASSIST_STORE__KIND="kit", SHOPASSIST_STORE__ROOT=str(args.kit.resolve()))
        result["kit"] = str(args.kit)
        if not args.skip_build:
            result["loadavg_before_build"] = [round(x, 2) for x in os.getloadavg()]
            t = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "store", "build", "--root", str(args.kit)],
                                    env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            tree_peak = _TreePeak(proc.pid).start()
            out, err = proc.communicate()
            proc.stdout, proc.stderr = out, err
            result["build_s"] = round(time.perf_counter() - t, 1)
            result["build_tree_rss_peak_mb"] = round(tree_peak.stop(), 1)
            import resource

            ru = resource.getrusage(resource.RUSAGE_CHILDREN)
            result["build_cpu_s"] = round(ru.ru_utime + ru.ru_stime, 1)
            result["loadavg_after_build"] = [round(x, 2) for x in os.getloadavg()]
            result["build_rss_peak_mb"] = round(_peak_children_mb(), 1)
            result["build_rc"] = proc.returncode
            if proc.returncode != 0:
                print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
                return 1
            print(f"build: {result['build_s']} s, peak RSS {result['build_rss_peak_mb']} MB (one process), "
                  f"{result['build_tree_rss_peak_mb']} MB (all its processes together)", flush=True)
        turns = kit_turns(args.kit, args.turns)
    proc = subprocess.run([sys.executable, "-c", SERVE, json.dumps(turns)], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
        return 1
    served = json.loads(line[7:])
    result.update({"start_s": round(served["start_s"], 2), "start_cpu_s": round(served["start_cpu_s"], 2),
                   "start_phases_wall_cpu_s": served["phases"],
                   "loadavg_before_start": [round(x, 2) for x in served["loadavg_before_start"]],
                   "loadavg_while_serving": [round(x, 2) for x in served["loadavg"]], "serve_rss_peak_mb": round(served["rss_peak_mb"], 1),
                   "turns": len(turns), "turn_ms": summary_ms(served["latencies_ms"])})
    print(json.dumps(result, indent=1))
    write("kit_scale_demo" if args.demo else "kit_scale", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
