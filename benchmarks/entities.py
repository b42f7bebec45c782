"""Entity extraction on the store's labelled set: precision / recall / F1 per type and language.

Usage: python benchmarks/entities.py [--data engine/nlu/data/entities_eval.yaml] [--errors]

Builds the demo store's catalog (seed of the set), the real :class:`RuleEntityExtractor` with
the product and brand linkers, scores it with :mod:`engine.nlu.entity_eval`, prints a table and
writes ``benchmarks/results/entities.json`` (with every error, and the extraction latency).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import summary_ms, write  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from engine.nlu.entities import RuleEntityExtractor
    from engine.nlu.entity_eval import ENTITY_TYPES, evaluate_entities, load_entity_eval
    from knowledge.demo import ensure_demo_store
    from knowledge.graph.brands import BrandLinker
    from knowledge.graph.catalog import Catalog
    from knowledge.graph.linker import ProductLinker

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=None, help="labelled set (default: the packaged store set)")
    ap.add_argument("--errors", action="store_true", help="print every error")
    args = ap.parse_args()
    eval_set = load_entity_eval(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog.from_file(ensure_demo_store(Path(tmp)).catalog_path)
    extractor = RuleEntityExtractor(ProductLinker(catalog), brands=BrandLinker(catalog))
    report = evaluate_entities(extractor, eval_set)
    times = []
    for _ in range(3):
        for item in eval_set.items:
            t = time.perf_counter()
            extractor.extract(item.text, today=eval_set.today)
            times.append((time.perf_counter() - t) * 1000)

    print(f"{len(eval_set.items)} utterances ({report['items']['en']} en, {report['items']['zh']} zh), "
          f"today = {report['today']}")
    print(f"{'type':12s} " + " ".join(f"{lang + ' P/R/F1':>20s}" for lang in ("en", "zh", "all")) + "  support")
    for t in (*ENTITY_TYPES, "micro"):
        row = report["by_type"][t]
        cells = " ".join(f"{row[lang]['precision']:6.3f}{row[lang]['recall']:7.3f}{row[lang]['f1']:7.3f}"
                         for lang in ("en", "zh", "all"))
        print(f"{t:12s} {cells}  {row['all']['tp'] + row['all']['fn']:5d}")
    lat = summary_ms(times)
    print(f"extraction latency per utterance: p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms")
    if args.errors:
        for e in report["errors"]:
            print(f"  [{e['lang']}] {e['type']}: missed {e['missed']} spurious {e['spurious']} <- {e['text']}")
    write("entities", {**report, "data": args.data or "engine/nlu/data/entities_eval.yaml",
                       "latency": lat, "loadavg": os.getloadavg()})


if __name__ == "__main__":
    main()
