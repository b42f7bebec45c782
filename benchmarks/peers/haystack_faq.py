"""Haystack 2.x hybrid FAQ retrieval (BM25 + MiniLM embeddings, fused), timed per query.

Runs inside the Haystack virtual environment that benchmarks/peers/haystack_env.py builds (not in
shopassist's): it only needs ``haystack-ai`` and sentence-transformers. It reads the same FAQ file
and labelled queries as benchmarks/retrieval.py and scores them with the same definitions
(recall@1, recall@5, MRR over the top 10; an answer counts when its id is one of the query's).

Pipeline per query (Haystack's hybrid retrieval recipe): ``SentenceTransformersTextEmbedder`` →
``InMemoryEmbeddingRetriever`` and ``InMemoryBM25Retriever`` (top 20 each) → ``DocumentJoiner``
(reciprocal rank fusion, or distribution-based rank fusion) → top 10. Documents are "question
answer", as shopassist indexes them.

    python haystack_faq.py --faq FAQ.json --queries Q.csv --model DIR --json OUT.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _pct(values, q):
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faq", required=True)
    ap.add_argument("--queries", required=True, action="append")
    ap.add_argument("--model", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="time every query this many times")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    import haystack
    from haystack import Document, Pipeline
    from haystack.components.embedders import SentenceTransformersDocumentEmbedder, SentenceTransformersTextEmbedder
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    faqs = json.load(open(args.faq, encoding="utf-8"))["questions"]
    docs = [Document(id=str(i), content=f"{f['question']} {f['answer']}", meta={"faq_id": str(i)})
            for i, f in enumerate(faqs)]
    t0 = time.perf_counter()
    doc_embedder = SentenceTransformersDocumentEmbedder(model=args.model, device=None, progress_bar=False)
    doc_embedder.warm_up()
    store = InMemoryDocumentStore()
    store.write_documents(doc_embedder.run(docs)["documents"])
    index_s = time.perf_counter() - t0

    def pipeline(join_mode: str | None, mode: str) -> Pipeline:
        p = Pipeline()
        if mode in ("hybrid", "dense"):
            p.add_component("text_embedder", SentenceTransformersTextEmbedder(model=args.model, progress_bar=False))
            p.add_component("embedding_retriever", InMemoryEmbeddingRetriever(store, top_k=20))
            p.connect("text_embedder.embedding", "embedding_retriever.query_embedding")
        if mode in ("hybrid", "bm25"):
            p.add_component("bm25_retriever", InMemoryBM25Retriever(store, top_k=20))
        if mode == "hybrid":
            p.add_component("joiner", DocumentJoiner(join_mode=join_mode, top_k=10))
            p.connect("bm25_retriever", "joiner")
            p.connect("embedding_retriever", "joiner")
        p.warm_up()
        return p

    def run(p: Pipeline, mode: str, q: str) -> list[str]:
        inputs = {}
        if mode in ("hybrid", "dense"):
            inputs["text_embedder"] = {"text": q}
        if mode in ("hybrid", "bm25"):
            inputs["bm25_retriever"] = {"query": q}
        out = p.run(inputs)
        key = {"hybrid": "joiner", "dense": "embedding_retriever", "bm25": "bm25_retriever"}[mode]
        return [d.id for d in out[key]["documents"]][:10]

    result = {"haystack": haystack.__version__, "torch_threads": args.threads, "index_s": round(index_s, 2),
              "faqs": len(docs), "splits": {}}
    for qpath in args.queries:
        with open(qpath, encoding="utf-8-sig", newline="") as fh:
            queries = [(r["query"].strip(), {i.strip() for i in r["faq_id"].split("|") if i.strip()})
                       for r in csv.DictReader(fh)]
        split = os.path.splitext(os.path.basename(qpath))[0]
        rows = {}
        for name, mode, join in (("hybrid_rrf", "hybrid", "reciprocal_rank_fusion"),
                                 ("hybrid_dbrf", "hybrid", "distribution_based_rank_fusion"),
                                 ("dense", "dense", None), ("bm25", "bm25", None)):
            p = pipeline(join, mode)
            run(p, mode, queries[0][0])  # untimed: lazy loading is not query latency
            hits1 = hits5 = 0
            rr = 0.0
            times = []
            for q, ids in queries:
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    got = run(p, mode, q)
                    times.append((time.perf_counter() - t) * 1000)
                rank = next((i for i, d in enumerate(got) if d in ids), None)
                hits1 += rank == 0
                hits5 += rank is not None and rank < 5
                rr += 1.0 / (rank + 1) if rank is not None else 0.0
            n = len(queries)
            rows[name] = {"n": n, "recall@1": round(hits1 / n, 4), "recall@5": round(hits5 / n, 4),
                          "mrr": round(rr / n, 4), "p50_ms": round(_pct(times, 0.5), 3),
                          "p95_ms": round(_pct(times, 0.95), 3), "mean_ms": round(statistics.fmean(times), 3),
                          "latencies_ms": [round(x, 3) for x in times]}
            print(f"haystack {split} {name:<12} r@1 {rows[name]['recall@1']:.3f} mrr {rows[name]['mrr']:.3f} "
                  f"p50 {rows[name]['p50_ms']:.2f} ms", flush=True)
        result["splits"][split] = rows
    with open(args.json, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
