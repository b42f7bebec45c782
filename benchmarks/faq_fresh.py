"""FAQ ranking and answerability on held-out shopper queries (benchmarks/faq_fresh/, never tuned on).

For each store (the demo store; the Lotus & Pine kit) and language, the engine's own FAQ
retriever (built exactly as a turn uses it) ranks every query of ``<store>_<lang>.csv``:
recall@1, recall@5 and MRR. Then the engine's answerability decision
(:meth:`knowledge.faq.index.HybridFAQRetriever.answerable`) is asked about the top passage of
every answerable query and of every uncovered one (``<store>_<lang>_uncovered.csv``):

- **coverage**: the share of answerable queries the engine answers (with any FAQ);
- **precision**: of all the queries it answers (answerable and uncovered), the share answered
  with an acceptable FAQ;
- **honest**: the share of uncovered queries it declines.

Each query is first spelt as a turn spells it (the store's spelling, :mod:`knowledge.kernel.spelling`;
``--no-spelling`` ranks it as typed). The per-query cost of retrieval plus the decision is reported
as p50/p95. Writes
benchmarks/results/faq_fresh.json.

    python benchmarks/faq_fresh.py                    # both stores
    python benchmarks/faq_fresh.py --store demo --show misses
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks._common import summary_ms, write  # noqa: E402

HERE = Path(__file__).resolve().parent
FRESH = HERE / "faq_fresh"
KIT = HERE.parent / "examples" / "kits" / "lotus-pine"


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _engine(store: str, data_dir: Path, work: Path):
    from engine import Engine

    overrides = {"data_dir": data_dir, "tracker": {"kind": "memory"}}
    if store == "demo":
        from knowledge.demo import build_demo_store

        build_demo_store(work / "store")
        overrides["store"] = {"root": work / "store"}
    else:
        overrides["store"] = {"kind": "kit", "root": KIT}
        overrides["connectors"] = {"kind": "sql", "url": f"sqlite:///{work / 'orders.db'}"}
    engine = Engine.from_config(None, **overrides)
    engine.warm_up()
    return engine


def evaluate(retriever, lang: str, bar: float, answerable: list[dict], uncovered: list[dict], show: bool,
             spell=None) -> dict:
    """``spell``: the engine's spelling correction, run on each query first as a turn runs it (None: off)."""
    hits1 = hits5 = 0
    if spell is not None:
        answerable = [{**row, "query": spell(row["query"])} for row in answerable]
        uncovered = [{**row, "query": spell(row["query"])} for row in uncovered]
    rr = 0.0
    answered = answered_right = answered_uncovered = 0
    times = []
    for row in answerable:
        ok = set(row["faq_id"].split("|"))
        t0 = time.perf_counter()
        passages = retriever.retrieve(row["query"], top_k=5, language=lang)
        verdict = retriever.answerable(row["query"], passages, language=lang, bar=bar)
        times.append((time.perf_counter() - t0) * 1000)
        ids = [p.id for p in passages]
        rank = next((i for i, x in enumerate(ids) if x in ok), None)
        hits1 += rank == 0
        hits5 += rank is not None and rank < 5
        rr += 0.0 if rank is None else 1.0 / (rank + 1)
        if verdict.answerable:
            answered += 1
            answered_right += rank == 0
        if show and (rank != 0 or not verdict.answerable):
            print(f"  MISS {lang} {row['query']!r} want {row['faq_id']} got {ids[:2]} "
                  f"p={verdict.probability:.2f}")
    for row in uncovered:
        t0 = time.perf_counter()
        passages = retriever.retrieve(row["query"], top_k=5, language=lang)
        verdict = retriever.answerable(row["query"], passages, language=lang, bar=bar)
        times.append((time.perf_counter() - t0) * 1000)
        if verdict.answerable:
            answered_uncovered += 1
            if show:
                print(f"  UNCOVERED ANSWERED {lang} {row['query']!r} -> {passages[0].id} p={verdict.probability:.2f}")
    n = len(answerable)
    total_answered = answered + answered_uncovered
    return {
        "queries": n,
        "uncovered": len(uncovered),
        "recall@1": round(hits1 / n, 4),
        "recall@5": round(hits5 / n, 4),
        "mrr": round(rr / n, 4),
        "coverage": round(answered / n, 4),
        "precision": round(answered_right / total_answered, 4) if total_answered else None,
        "honest_on_uncovered": round(1 - answered_uncovered / len(uncovered), 4) if uncovered else None,
        "latency": summary_ms(times),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", choices=["demo", "lotus-pine", "both"], default="both")
    ap.add_argument("--data-dir", type=Path, default=Path.home() / ".cache" / "shopassist-bench" / "faq_fresh")
    ap.add_argument("--show", choices=["misses", "none"], default="none")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--no-spelling", action="store_true", help="rank the queries as typed (a turn corrects them first)")
    args = ap.parse_args(argv)
    stores = ["demo", "lotus-pine"] if args.store == "both" else [args.store]
    out: dict = {}
    for store in stores:
        with tempfile.TemporaryDirectory() as tmp:
            engine = _engine(store, args.data_dir, Path(tmp))
            retriever = engine.router._retriever
            out[store] = {}
            for lang in ("en", "zh"):
                spell = None if args.no_spelling or engine.speller is None else engine.speller.correct
                res = evaluate(retriever, lang, engine.settings.retrieval.threshold(lang), _rows(FRESH / f"{store}_{lang}.csv"),
                               _rows(FRESH / f"{store}_{lang}_uncovered.csv"), args.show == "misses", spell)
                out[store][lang] = res
                print(f"{store:10s} {lang}  recall@1 {res['recall@1']:.3f}  recall@5 {res['recall@5']:.3f}  "
                      f"mrr {res['mrr']:.3f}  coverage {res['coverage']:.3f}  precision {res['precision']}  "
                      f"honest {res['honest_on_uncovered']}  p95 {res['latency']['p95_ms']:.1f} ms", flush=True)
    if not args.no_write:
        write("faq_fresh", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
