"""Product linking benchmark: precision and recall of alias + fuzzy linking, and with the embedding fallback.

benchmarks/data/product_linking.csv holds shopper texts (English and Chinese) over the demo
catalog: descriptions that name a product without any alias ("the hydrova bottle"), descriptions
that fit several products ("the aurora earbuds": no link is right) and ordinary customer-service
text (never a product). ``product_id`` empty = nothing should be linked.

A link counts as correct when it is exactly the labelled product; precision = correct / texts with
a link, recall = correct / texts with a label. The sweep over the embedding matcher's cosine
threshold and margin is how ``knowledge.graph.semantic.DEFAULT_THRESHOLD`` / ``DEFAULT_MARGIN`` were
chosen (best F0.5: a wrong product costs more than a missed one).

    python benchmarks/product_linking.py
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks._common import summary_ms, write  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "product_linking.csv"


def _score(pred: list[str | None], gold: list[str | None]) -> dict:
    linked = sum(p is not None for p in pred)
    labelled = sum(g is not None for g in gold)
    correct = sum(p is not None and p == g for p, g in zip(pred, gold))
    prec = correct / linked if linked else 1.0
    rec = correct / labelled if labelled else 1.0
    f05 = (1.25 * prec * rec / (0.25 * prec + rec)) if prec + rec else 0.0
    return {"linked": linked, "correct": correct, "labelled": labelled, "precision": round(prec, 3),
            "recall": round(rec, 3), "f0.5": round(f05, 3)}


def main() -> int:
    from knowledge.demo import ensure_demo_store
    from knowledge.embedders import E5Embedder
    from knowledge.graph.catalog import Catalog
    from knowledge.graph.linker import ProductLinker
    from knowledge.graph.semantic import DEFAULT_MARGIN, DEFAULT_THRESHOLD, EmbeddingProductMatcher

    rows = list(csv.DictReader(DATA.open(encoding="utf-8")))
    texts = [r["text"] for r in rows]
    gold = [r["product_id"] or None for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog.from_file(ensure_demo_store(Path(tmp) / "store").catalog_path)
        e5 = E5Embedder()
        t0 = time.perf_counter()
        matcher = EmbeddingProductMatcher(catalog, e5, cache_dir=Path(tmp) / "cache")
        matcher.warm_up()
        embed_s = time.perf_counter() - t0
        plain = ProductLinker(catalog)
        base_pred = [(plain.link(t) or [None])[0] for t in texts]
        # the fallback only sees what alias + fuzzy left unlinked
        ranked = [matcher.scores(t) if p is None else None for t, p in zip(texts, base_pred)]

        def predict(thr: float, margin: float) -> list[str | None]:
            out = []
            for p, r in zip(base_pred, ranked):
                if p is None and r and r[0][1] >= thr and (len(r) == 1 or r[0][1] - r[1][1] >= margin):
                    p = r[0][0]
                out.append(p)
            return out

        sweep = []
        for thr in [round(0.78 + 0.01 * i, 2) for i in range(15)]:
            for margin in (0.0, 0.005, 0.01, 0.02, 0.03):
                sweep.append({"threshold": thr, "margin": margin, **_score(predict(thr, margin), gold)})
        best = max(sweep, key=lambda s: (s["f0.5"], s["threshold"], s["margin"]))
        chosen = predict(DEFAULT_THRESHOLD, DEFAULT_MARGIN)
        linker = ProductLinker(catalog, semantic=matcher)
        times = []
        for t in texts:
            e5.embed([t])  # the engine has embedded the turn for intent detection already
            t1 = time.perf_counter()
            linker.link(t)
            times.append((time.perf_counter() - t1) * 1000)
    result = {
        "texts": len(rows), "products": len(catalog),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "name_embedding_s": round(embed_s, 2),
        "alias_fuzzy": _score(base_pred, gold),
        "with_embeddings": {"threshold": DEFAULT_THRESHOLD, "margin": DEFAULT_MARGIN, **_score(chosen, gold)},
        "best_of_sweep": best,
        "link_ms_query_cached": summary_ms(times),
        "errors": [{"text": t, "expected": g, "got": p} for t, g, p in zip(texts, gold, chosen) if p != g],
        "sweep": sweep,
    }
    print(f"alias + fuzzy:       {result['alias_fuzzy']}")
    print(f"+ embeddings (thr {DEFAULT_THRESHOLD}, margin {DEFAULT_MARGIN}): {result['with_embeddings']}")
    print(f"best of sweep:       {best}")
    for e in result["errors"]:
        print(f"  miss: {e}")
    write("product_linking", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
