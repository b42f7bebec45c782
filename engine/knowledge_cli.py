"""``shopassist knowledge build | eval``: build the configured store's indexes; evaluate retrieval.

``eval`` reads an FAQ file in either format of docs/contract.md and a ``query,faq_id`` CSV (``faq_id`` may
be ``a|b``), builds an in-memory hybrid index with the configured models, prints recall@1,
recall@5, MRR and latency, and writes them to ``--json``. ``--mode`` evaluates one side alone.
``build`` (re)builds and persists the FAQ indexes of the configured store (the demo store by
default) with a progress display, re-embedding only what changed.

Registered from :mod:`engine.cli` by :func:`register`; it reads the engine's settings, so it lives in the engine.

Example:
    $ shopassist knowledge eval --faq faq.json --queries q.csv --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["register"]


def _embedders(settings, langs: set[str]) -> dict:
    """The configured embedders (:func:`knowledge.ensemble.configured_embedders`)."""
    from knowledge.ensemble import configured_embedders

    return configured_embedders(settings, langs)


class _Progress:
    """A rich progress display on a terminal; quiet lines otherwise."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._bar = None
        self._tasks: dict[str, int] = {}

    def __enter__(self):
        if self._tty:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), transient=False)
            self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._bar is None:
            if done == total:
                print(f"{stage}: {done}/{total}", file=sys.stderr)
            return
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=total)
        self._bar.update(self._tasks[stage], completed=done, total=total)


def _cmd_eval(args: argparse.Namespace) -> int:
    from engine.settings import load_settings
    from knowledge.faq.evaluate import evaluate, load_queries
    from knowledge.faq.index import HybridFAQRetriever
    from knowledge.faq.store import load_faqs

    settings = load_settings(args.config)
    entries = load_faqs(args.faq)
    queries = load_queries(args.queries, known_ids={e.id for e in entries})
    langs = {e.lang for e in entries}
    with _Progress() as progress:
        retriever = HybridFAQRetriever.from_settings(
            entries, _embedders(settings, langs), settings.retrieval,
            cache_dir=args.cache_dir, progress=progress,
        )
        retriever.warm_up()
        result = evaluate(retriever, queries, mode=args.mode,
                          progress=lambda d, t: progress(f"querying ({args.mode})", d, t))
    report = {
        "faq": str(args.faq),
        "queries": str(args.queries),
        "mode": args.mode,
        "faqs": len(entries),
        **{k: v for k, v in result.items() if k != "misses"},
        "index": retriever.stats(),
        "misses": result["misses"],
    }
    print(f"{args.mode}: {result['n']} queries over {len(entries)} FAQs")
    for key in ("recall@1", "recall@5", "mrr"):
        print(f"  {key:<9} {result[key]:.4f}")
    print(f"  latency   p50 {result['p50_ms']:.2f} ms, p95 {result['p95_ms']:.2f} ms")
    if args.json:
        out = Path(args.json)
        if out.parent and not out.parent.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
        print(f"wrote {out}")
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from engine.settings import load_settings
    from knowledge.faq.index import HybridFAQRetriever
    from knowledge.faq.store import load_faqs

    settings = load_settings(args.config)
    if args.faq:
        faq_path = Path(args.faq)
        cache_dir = Path(args.out) if args.out else faq_path.parent / f"{faq_path.stem}-indexes"
    else:
        from knowledge.demo import ensure_demo_store

        root = Path(settings.store.root) if settings.store.root else settings.resolved_data_dir / "demo-store"
        demo = ensure_demo_store(root, seed=settings.store.seed, progress=True)
        faq_path, cache_dir = Path(demo.faqs_path), Path(args.out) if args.out else root / "indexes"
    entries = load_faqs(faq_path)
    with _Progress() as progress:
        retriever = HybridFAQRetriever.from_settings(
            entries, _embedders(settings, {e.lang for e in entries}), settings.retrieval,
            cache_dir=cache_dir, progress=progress,
        )
        retriever.warm_up()
    for lang, info in retriever.stats().items():
        print(f"{lang}: {info['entries']} FAQs, {info['index']} index, {info['model']} ({info['dim']}-d)")
    print(f"indexes in {cache_dir}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``knowledge build`` and ``knowledge eval`` to the ``shopassist`` parser."""
    knowledge = sub.add_parser("knowledge", help="FAQ indexes: build them, evaluate retrieval")
    ksub = knowledge.add_subparsers(dest="knowledge_command", required=True)

    build = ksub.add_parser("build", help="build and persist the FAQ indexes (re-embeds only what changed)")
    build.add_argument("--config", help="YAML config (default: configs/default.yaml or $SHOPASSIST_CONFIG)")
    build.add_argument("--faq", help="an FAQ file to index instead of the configured store's")
    build.add_argument("--out", help="index folder (default: the store's indexes/ folder)")
    build.set_defaults(func=_cmd_build)

    ev = ksub.add_parser("eval", help="recall@1/5, MRR and latency on labelled queries")
    ev.add_argument("--config", help="YAML config (models, fusion weight, reranker)")
    ev.add_argument("--faq", required=True, help='{"questions": [...]} JSON or JSONL with id, question, answer')
    ev.add_argument("--queries", required=True, help="CSV with query,faq_id (faq_id may be a|b)")
    ev.add_argument("--json", help="write the results here")
    ev.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid",
                    help="the full hybrid retriever (default) or one side alone")
    ev.add_argument("--cache-dir", help="persist the index here (default: in memory)")
    ev.set_defaults(func=_cmd_eval)
