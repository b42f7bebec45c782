"""Retrieval evaluation: labelled shopper queries in, recall@k / MRR / latency out (docs/contract.md).

The queries file is a CSV with a header holding ``query`` and ``faq_id``; ``faq_id`` may list several
acceptable ids separated by ``|`` (FAQs that say the same thing). A query counts as found at rank r
when any of its ids is at rank r. MRR is over the top ``max_rank`` results (0 when none is there).
Latency is measured per query after a warm-up, embedding included.

Example:
    >>> queries = load_queries("benchmarks/data/ecommerce_faq_en_queries_test.csv")  # doctest: +SKIP
    >>> evaluate(retriever, queries)["recall@1"]                                      # doctest: +SKIP
    0.94
"""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.kernel.errors import KnowledgeError

__all__ = ["EvalQuery", "load_queries", "evaluate", "percentile"]


@dataclass(frozen=True)
class EvalQuery:
    query: str
    ids: frozenset[str]
    language: str | None = None


def load_queries(path: str | Path, *, known_ids: Collection[str] | None = None) -> list[EvalQuery]:
    """Read a ``query,faq_id`` CSV (extra columns ignored; an optional ``lang`` column is used).

    Raises:
        KnowledgeError: missing/unreadable file, missing columns, an empty query or id, an id not
            in ``known_ids``, or no rows at all. Messages name the file and line.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            fields = set(reader.fieldnames or ())
            if not {"query", "faq_id"} <= fields:
                raise KnowledgeError(f"{path}: the header must hold 'query' and 'faq_id' columns, got {sorted(fields)}")
            out = []
            for line, row in enumerate(reader, 2):
                query = (row.get("query") or "").strip()
                ids = frozenset(i.strip() for i in (row.get("faq_id") or "").split("|") if i.strip())
                if not query:
                    raise KnowledgeError(f"{path}:{line}: empty query")
                if not ids:
                    raise KnowledgeError(f"{path}:{line}: empty faq_id")
                if known_ids is not None and not ids <= set(known_ids):
                    raise KnowledgeError(f"{path}:{line}: unknown FAQ id(s) {sorted(ids - set(known_ids))}")
                out.append(EvalQuery(query, ids, (row.get("lang") or "").strip() or None))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise KnowledgeError(f"cannot read queries file {path}: {exc}") from exc
    if not out:
        raise KnowledgeError(f"{path}: no queries")
    return out


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def evaluate(
    retriever: Any,
    queries: Sequence[EvalQuery],
    *,
    max_rank: int = 10,
    progress: Callable[[int, int], None] | None = None,
    **retrieve_kwargs: Any,
) -> dict[str, Any]:
    """recall@1, recall@5, MRR (over the top ``max_rank``) and latency of ``retriever`` on ``queries``.

    ``retrieve_kwargs`` go to ``retriever.retrieve`` (e.g. ``mode="bm25"``). The result also lists
    the misses at rank 1 (query, expected ids, what came first) for error analysis.
    """
    if not queries:
        raise ValueError("queries must not be empty")
    if max_rank < 5:
        raise ValueError(f"max_rank must be >= 5, got {max_rank}")
    if hasattr(retriever, "warm_up"):
        retriever.warm_up()
    first = queries[0]  # one untimed call: lazy model and jieba loading are not query latency
    retriever.retrieve(first.query, top_k=max_rank, language=first.language, **retrieve_kwargs)
    hits1 = hits5 = 0
    rr = 0.0
    times: list[float] = []
    misses = []
    for n, q in enumerate(queries):
        t0 = time.perf_counter()
        got = retriever.retrieve(q.query, top_k=max_rank, language=q.language, **retrieve_kwargs)
        times.append((time.perf_counter() - t0) * 1000.0)
        ids = [p.id for p in got]
        rank = next((i for i, pid in enumerate(ids) if pid in q.ids), None)
        hits1 += rank == 0
        hits5 += rank is not None and rank < 5
        rr += 1.0 / (rank + 1) if rank is not None else 0.0
        if rank != 0:
            misses.append({"query": q.query, "expected": sorted(q.ids), "got": ids[:3], "rank": rank})
        if progress:
            progress(n + 1, len(queries))
    total = len(queries)
    return {
        "n": total,
        "recall@1": round(hits1 / total, 4),
        "recall@5": round(hits5 / total, 4),
        "mrr": round(rr / total, 4),
        "p50_ms": round(percentile(times, 0.5), 3),
        "p95_ms": round(percentile(times, 0.95), 3),
        "mean_ms": round(statistics.fmean(times), 3),
        "misses": misses,
    }
