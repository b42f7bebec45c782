"""FAQ retrieval benchmark: quality per retriever, latency on a 10k-FAQ store, ANN scaling to 1M.

Three parts (all by default; pick with flags):

``--quality``  recall@1/5 and MRR of BM25, dense, RRF (BM25 + dense, k=60) and the hybrid
               retriever on our held-out shopper queries for ../shared/data/ecommerce_faq_en
               (benchmarks/data/ecommerce_faq_en_queries_{tune,test}.csv: tuning was done on
               *tune* only) and on the demo store's paraphrases (English and Chinese).
``--latency``  p50/p95 of the hybrid retriever on a 10,000-FAQ synthetic store (real models),
               end to end (query embedding included) and index side (embedding cached).
``--scaling``  synthetic 384-d vectors (a 64-d latent Gaussian mixture of 1,000 clusters projected
               to 384-d, plus noise, L2-normalised: closer to sentence embeddings than uniform
               noise), n = 10k .. ``--max-n`` (1M): build time, memory, single-query p50/p95
               latency and recall@10 against exact search, for flat, HNSW and IVF, with a sweep of
               the search-time knob (efSearch, nprobe).

Writes benchmarks/results/retrieval.json (or retrieval_<part>.json when only some parts run).

    python benchmarks/retrieval.py                 # everything (the 1M scaling run takes minutes)
    python benchmarks/retrieval.py --quality
    python benchmarks/retrieval.py --scaling --max-n 100000
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks._common import summary_ms, write  # noqa: E402

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
FAQ_EN = SHARED / "ecommerce_faq_en" / "Ecommerce_FAQ_Chatbot_dataset.json"


# -- quality ------------------------------------------------------------------------------------


class _RRF:
    """Reciprocal rank fusion of the retriever's BM25 and dense lists (for comparison only)."""

    def __init__(self, retriever, k: int = 60, depth: int = 50) -> None:
        self._r, self._k, self._depth = retriever, k, depth

    def warm_up(self) -> None:
        self._r.warm_up()

    def retrieve(self, query, *, top_k=3, language=None):
        from dataclasses import replace

        fused: dict[str, float] = {}
        keep = {}
        for mode in ("dense", "bm25"):
            for rank, p in enumerate(self._r.retrieve(query, top_k=self._depth, language=language, mode=mode)):
                fused[p.id] = fused.get(p.id, 0.0) + 1.0 / (self._k + rank + 1)
                keep.setdefault(p.id, p)
        best = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
        return [replace(keep[i], score=round(s, 5)) for i, s in best]


def _quality_rows(retriever, queries) -> dict:
    from knowledge.faq.evaluate import evaluate

    rows = {}
    for name, target, kwargs in (
        ("bm25", retriever, {"mode": "bm25"}),
        ("dense", retriever, {"mode": "dense"}),
        ("rrf", _RRF(retriever), {}),
        ("hybrid", retriever, {"mode": "hybrid"}),
    ):
        res = evaluate(target, queries, **kwargs)
        rows[name] = {k: res[k] for k in ("n", "recall@1", "recall@5", "mrr", "p50_ms")}
        print(f"  {name:<7} r@1 {res['recall@1']:.3f}  r@5 {res['recall@5']:.3f}  mrr {res['mrr']:.3f}  "
              f"p50 {res['p50_ms']:.2f} ms")
    return rows


def _embedders() -> dict:
    """The embedders configs/default.yaml configures (MiniLM + E5 ensemble for English, E5 for Chinese)."""
    from engine.settings import load_settings
    from knowledge.ensemble import configured_embedders

    return configured_embedders(load_settings(), {"en", "zh"})


def _demo_retriever(entries, embedders):
    """The retriever as configs/default.yaml configures it (per-language weights included)."""
    from engine.settings import load_settings
    from knowledge.faq.index import HybridFAQRetriever

    return HybridFAQRetriever.from_settings(entries, embedders, load_settings().retrieval)


def quality() -> dict:
    from knowledge.demo.faqs import FAQS
    from knowledge.ensemble import EnsembleEmbedder
    from knowledge.faq.evaluate import EvalQuery, evaluate, load_queries
    from knowledge.faq.index import HybridFAQRetriever
    from knowledge.faq.store import FAQEntry, load_faqs

    embedders = _embedders()
    out: dict = {}
    if FAQ_EN.is_file():
        entries = load_faqs(FAQ_EN)
        retriever = _demo_retriever(entries, embedders)  # what `shopassist knowledge eval` runs
        parts = [e for e, _ in embedders["default"].parts] if isinstance(embedders["default"], EnsembleEmbedder) else []
        singles = {f"dense_{e.name.split(':')[0]}": HybridFAQRetriever(entries, e) for e in parts}
        for split in ("tune", "test"):
            queries = load_queries(HERE / "data" / f"ecommerce_faq_en_queries_{split}.csv",
                                   known_ids={e.id for e in entries})
            print(f"ecommerce_faq_en, {split} queries ({len(queries)}):")
            rows = _quality_rows(retriever, queries)
            for name, single in singles.items():  # each ensemble member alone, for comparison
                res = evaluate(single, queries, mode="dense")
                rows[name] = {k: res[k] for k in ("n", "recall@1", "recall@5", "mrr", "p50_ms")}
                print(f"  {name:<7} r@1 {res['recall@1']:.3f}  r@5 {res['recall@5']:.3f}  mrr {res['mrr']:.3f}")
            out[f"ecommerce_faq_en_{split}"] = rows
    else:
        print(f"skipping ecommerce_faq_en: {FAQ_EN} not found")

    entries = [FAQEntry(f["id"], f["question"], f["answer"], f["lang"], f["kind"], tuple(f["tags"])) for f in FAQS]
    demo = _demo_retriever(entries, embedders)
    for lang in ("en", "zh"):
        queries = [EvalQuery(p, frozenset({f["id"]}), lang) for f in FAQS if f["lang"] == lang
                   for p in f["paraphrases"]]
        print(f"demo store paraphrases, {lang} ({len(queries)}):")
        out[f"demo_paraphrases_{lang}"] = _quality_rows(demo, queries)
        # the first paraphrase of each Chinese FAQ tuned the zh weights: report the others apart
        held = [EvalQuery(p, frozenset({f["id"]}), lang) for f in FAQS if f["lang"] == lang
                for p in f["paraphrases"][1:]]
        print(f"demo store paraphrases 2-3 only, {lang} ({len(held)}):")
        out[f"demo_paraphrases_{lang}_2_3"] = _quality_rows(demo, held)
    return out


# -- answerability thresholds ------------------------------------------------------------------------


def thresholds() -> dict:
    """Per-language answerability thresholds for the demo store (what configs/default.yaml uses).

    Answerable: the demo FAQs' shopper paraphrases whose top hit is right; unanswerable:
    benchmarks/data/unanswerable_{lang}.txt (off-topic requests). The threshold maximises balanced
    accuracy (answer the first, refuse the second), ties broken towards the midpoint of the gap.
    """
    from knowledge.demo.faqs import FAQS
    from knowledge.faq.store import FAQEntry

    entries = [FAQEntry(f["id"], f["question"], f["answer"], f["lang"], f["kind"], tuple(f["tags"])) for f in FAQS]
    r = _demo_retriever(entries, _embedders())
    out = {}
    for lang in ("en", "zh"):
        good, wrong = [], []
        for f in FAQS:
            if f["lang"] != lang:
                continue
            for q in f["paraphrases"]:
                top = r.retrieve(q, top_k=1, language=lang)[0]
                (good if top.id == f["id"] else wrong).append(top.score)
        bad = [r.retrieve(q, top_k=1, language=lang)[0].score
               for q in (HERE / "data" / f"unanswerable_{lang}.txt").read_text(encoding="utf-8").split("\n") if q.strip()]
        cands = sorted(set(good + bad))
        best, best_acc = None, -1.0
        for lo, hi in zip(cands, cands[1:]):
            t = (lo + hi) / 2
            acc = (np.mean([s >= t for s in good]) + np.mean([s < t for s in bad])) / 2
            if acc > best_acc + 1e-9:
                best, best_acc = t, acc
        out[lang] = {
            "threshold": round(float(best), 3), "balanced_accuracy": round(float(best_acc), 3),
            "answerable_correct": summary_scores(good), "answerable_wrong_top1": summary_scores(wrong),
            "unanswerable": summary_scores(bad),
            "answered_at_threshold": round(float(np.mean([s >= best for s in good])), 3),
            "refused_at_threshold": round(float(np.mean([s < best for s in bad])), 3),
        }
        print(f"{lang}: threshold {best:.3f} (balanced accuracy {best_acc:.3f}); correct top-1 scores "
              f"p10 {out[lang]['answerable_correct']['p10']}, unanswerable max {out[lang]['unanswerable']['max']}")
    return out


def summary_scores(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    v = np.asarray(values)
    return {"n": len(v), "min": round(float(v.min()), 3), "p10": round(float(np.percentile(v, 10)), 3),
            "median": round(float(np.median(v)), 3), "max": round(float(v.max()), 3)}


# -- latency on a 10k-FAQ store ---------------------------------------------------------------------

_TOPICS = ["order", "return", "refund", "shipping", "warranty", "payment", "gift card", "account",
           "coupon", "delivery", "exchange", "invoice", "subscription", "price match", "pickup"]
_THINGS = ["headphones", "running shoes", "coffee maker", "tent", "laptop sleeve", "smart watch",
           "blender", "backpack", "desk lamp", "yoga mat", "phone case", "air fryer", "jacket",
           "monitor", "kettle", "sleeping bag", "keyboard", "speaker", "sunglasses", "water bottle"]
_ASKS = ["How do I {t} my {x}?", "Can I get a {t} for the {x} I bought?", "What is the {t} policy for {x}?",
         "How long does a {t} take for {x} in region {r}?", "Is {t} available for {x} model {m}?"]


def synthetic_faqs(n: int, seed: int = 5):
    from knowledge.faq.store import FAQEntry

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t, x = _TOPICS[rng.integers(len(_TOPICS))], _THINGS[rng.integers(len(_THINGS))]
        q = _ASKS[rng.integers(len(_ASKS))].format(t=t, x=x, r=int(rng.integers(90)), m=f"M{i}")
        a = (f"For {x} (model M{i}), {t} requests are handled within {int(rng.integers(1, 30))} days "
             f"in region {int(rng.integers(90))}; contact support with reference R{i}.")
        out.append(FAQEntry(f"syn-{i}", q, a, "en"))
    return out


def latency(n: int = 10_000, queries: int = 300, *, configured: bool = False,
            model: str = "all-MiniLM-L6-v2") -> dict:
    """p50/p95 on ``n`` synthetic FAQs: with MiniLM alone, or (``configured``) with the English
    embedder the settings configure (MiniLM blended with E5 by default: two query embeddings)."""
    from engine.settings import load_settings
    from knowledge.embedders import SentenceTransformerEmbedder
    from knowledge.faq.index import HybridFAQRetriever

    entries = synthetic_faqs(n)
    if configured:
        from knowledge.ensemble import configured_embedders

        os.environ["SHOPASSIST_EMBEDDER__CACHE_SIZE"] = str(queries * 2)  # the second pass reads the cache
        emb = configured_embedders(load_settings(), ["en"])["default"]
    else:
        emb = SentenceTransformerEmbedder(model, device="cpu", batch_size=128, cache_size=queries * 2, threads=1)
    rs = load_settings().retrieval  # the configured fusion and hubness correction (its densities: at warm-up)
    t0 = time.perf_counter()
    r = HybridFAQRetriever(entries, emb, dense_weight=rs.dense_weight, hub_weight=rs.hub_weight, hub_k=rs.hub_k)
    r.warm_up()
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(11)
    qs = []
    for _ in range(queries):
        e = entries[int(rng.integers(n))]
        qs.append(f"{e.question.split('?')[0].lower()} please")
    cold, warm = [], []
    for q in qs:
        t = time.perf_counter()
        r.retrieve(q, top_k=5)
        cold.append((time.perf_counter() - t) * 1000)
    for q in qs:  # embeddings now cached: what the index side costs
        t = time.perf_counter()
        r.retrieve(q, top_k=5)
        warm.append((time.perf_counter() - t) * 1000)
    out = {"faqs": n, "embedder": emb.name, "index": r.stats()["en"]["index"], "build_s": round(build_s, 1),
           "end_to_end": summary_ms(cold), "index_side": summary_ms(warm)}
    print(f"10k store ({emb.name}): build {build_s:.0f} s; end to end p50 {out['end_to_end']['p50_ms']} ms, "
          f"index side p50 {out['index_side']['p50_ms']} ms")
    return out


# -- ANN scaling --------------------------------------------------------------------------------------


def synthetic_vectors(n: int, d: int = 384, latent: int = 64, clusters: int = 1000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    proj = np.random.default_rng(99).standard_normal((latent, d)).astype(np.float32) / np.sqrt(latent)
    centers = np.random.default_rng(98).standard_normal((clusters, latent)).astype(np.float32)
    out = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        z = centers[rng.integers(clusters, size=m)] + 0.8 * rng.standard_normal((m, latent)).astype(np.float32)
        x = z @ proj + 0.15 * rng.standard_normal((m, d)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start : start + m] = x
    return out


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _index_mb(index) -> float:
    """Bytes the index holds (vectors + graph links or inverted-list ids), from its structures."""
    import faiss

    if isinstance(index, faiss.IndexHNSWFlat):
        h = index.hnsw
        links = h.neighbors.size() * 4 + h.levels.size() * 4 + h.offsets.size() * 8
        return (index.ntotal * index.d * 4 + links) / 2**20
    if isinstance(index, faiss.IndexIVF):
        inv = index.invlists
        listed = sum(inv.list_size(i) for i in range(index.nlist)) * (index.code_size + 8)
        return (listed + index.nlist * index.d * 4) / 2**20
    return index.ntotal * index.d * 4 / 2**20


def _single_query_ms(index, queries: np.ndarray, k: int) -> tuple[list[float], np.ndarray]:
    times, ids = [], np.empty((len(queries), k), dtype=np.int64)
    for i in range(len(queries)):
        t = time.perf_counter()
        _, got = index.search(queries[i : i + 1], k)
        times.append((time.perf_counter() - t) * 1000)
        ids[i] = got[0]
    return times, ids


def _recall(ids: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(ids, truth)]))


def scaling(sizes: list[int], n_queries: int = 500, k: int = 10) -> list[dict]:
    import faiss

    from knowledge.faq.dense import build_faiss_index

    threads = faiss.omp_get_max_threads()
    rows = []
    for n in sizes:
        data = synthetic_vectors(n)
        queries = synthetic_vectors(n_queries, seed=12345)
        exact = build_faiss_index(data, "flat")
        _, truth = exact.search(queries, k)
        for kind, knob, values in (("flat", None, [None]), ("hnsw", "efSearch", [32, 64, 96, 128]),
                                   ("ivf", "nprobe", [8, 16, 24, 32, 64])):
            gc.collect()
            faiss.omp_set_num_threads(threads)
            t0 = time.perf_counter()
            index = exact if kind == "flat" else build_faiss_index(data, kind)
            build_s = time.perf_counter() - t0
            mem_mb = _index_mb(index)
            faiss.omp_set_num_threads(1)  # single-query latency, as the engine issues them
            for v in values:
                if kind == "hnsw":
                    index.hnsw.efSearch = v
                elif kind == "ivf":
                    index.nprobe = v
                times, ids = _single_query_ms(index, queries if kind != "flat" or n <= 100_000 else queries[:100], k)
                rec = 1.0 if kind == "flat" else _recall(ids, truth[: len(ids)])
                s = summary_ms(times)
                row = {"n": n, "index": kind, "knob": knob, "value": v, "build_s": round(build_s, 2),
                       "memory_mb": round(mem_mb, 1), "process_rss_mb": round(_rss_mb()), "p50_ms": s["p50_ms"], "p95_ms": s["p95_ms"],
                       f"recall@{k}": round(rec, 4), "load1": round(os.getloadavg()[0], 2)}
                rows.append(row)
                print(f"  n={n:>8} {kind:<5} {knob or '':>8}={v!s:<4} build {build_s:7.1f} s  mem {mem_mb:7.0f} MB  "
                      f"p50 {s['p50_ms']:6.3f} ms  p95 {s['p95_ms']:6.3f} ms  recall@{k} {rec:.3f}", flush=True)
            if kind != "flat":
                del index
        del exact, data
        faiss.omp_set_num_threads(threads)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quality", action="store_true")
    p.add_argument("--latency", action="store_true")
    p.add_argument("--configured", action="store_true",
                   help="--latency with the configured English embedder (MiniLM + E5 by default; slow to build) "
                        "instead of MiniLM alone")
    p.add_argument("--model", default="all-MiniLM-L6-v2",
                   help="--latency with this embedder (say all-MiniLM-L6-v2:onnx-int8)")
    p.add_argument("--scaling", action="store_true")
    p.add_argument("--thresholds", action="store_true")
    p.add_argument("--max-n", type=int, default=1_000_000, help="largest scaling size (default 1M)")
    args = p.parse_args(argv)
    every = ("quality", "thresholds", "latency", "scaling")
    parts = [x for x in every if getattr(args, x)] or list(every)
    slug = "configured" if args.configured else args.model.replace("/", "_").replace(":", "_")
    result: dict = {"loadavg_start": [round(x, 2) for x in os.getloadavg()]}  # timings are noisy on a shared CPU
    if "thresholds" in parts:
        result["thresholds"] = thresholds()
    if "quality" in parts:
        result["quality"] = quality()
    if "latency" in parts:
        if args.configured:
            result["latency_10k_configured"] = latency(configured=True)
        elif args.model == "all-MiniLM-L6-v2":
            result["latency_10k"] = latency()
        else:
            result["latency_10k_" + slug] = latency(model=args.model)
    if "scaling" in parts:
        sizes = [s for s in (10_000, 100_000, 1_000_000) if s <= args.max_n] or [args.max_n]
        result["scaling"] = scaling(sizes)
    result["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    name = "retrieval" if len(parts) == len(every) else "retrieval_" + "_".join(parts)
    if "latency" in parts and (args.configured or args.model != "all-MiniLM-L6-v2"):
        name += "_" + slug
    write(name, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
