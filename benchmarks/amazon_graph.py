"""Import the Amazon product sample into the catalog graph: what parses, and how fast it builds and loads.

Usage: python benchmarks/amazon_graph.py [--csv PATH] [--repeat 5]

Prints products imported, the share with a price / weight / dimensions / category parsed, the
CSV build time, the saved JSON's size with save and load times (median of ``--repeat``), and the
product linker's build time and per-message latency over that catalog (exact and fuzzy paths).
Writes ``benchmarks/results/amazon_graph.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import summary_ms, write  # noqa: E402

from knowledge.graph.amazon import import_amazon_csv  # noqa: E402
from knowledge.graph.catalog import Catalog  # noqa: E402
from knowledge.graph.linker import ProductLinker  # noqa: E402

DEFAULT_CSV = (Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon_product_catalog_sample"
               / "amazon_products_sample_1000.csv")


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    build_ms, result = timed(lambda: import_amazon_csv(args.csv), args.repeat)
    s, cat = result.stats, result.catalog
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "amazon_graph.json"
        save_ms, _ = timed(lambda: cat.save(path), args.repeat)
        size_kb = path.stat().st_size / 1024
        load_ms, loaded = timed(lambda: Catalog.load(path), args.repeat)
    assert list(loaded) == list(cat)

    linker_ms, linker = timed(lambda: ProductLinker(cat), args.repeat)
    # names as shoppers type them: exact, lower-cased, with a typo, and ordinary sentences
    names = [p.name for p in list(cat)[:50]]
    typo = [" ".join(n.split()[:3]).lower().replace("a", "", 1) for n in names]
    ordinary = ["I want to return my order", "where is my package", "can I change the delivery address",
                "how long does shipping take", "my toy arrived broken, what now?"]
    lat = {}
    for label, msgs in (("exact_name", names), ("typo_first_words", typo), ("ordinary", ordinary)):
        times = []
        for m in msgs:
            t = time.perf_counter()
            linker.link(m)
            times.append((time.perf_counter() - t) * 1000)
        lat[label] = summary_ms(times)
    hits = {
        "exact_name_linked": sum(bool(linker.link(n)) for n in names) / len(names),
        "ordinary_linked": sum(bool(linker.link(m)) for m in ordinary),
    }

    out = {
        "csv": str(args.csv),
        "rows": s.rows,
        "products_imported": s.imported,
        "rows_skipped": s.skipped,
        "share_price": round(s.share(s.with_price), 3),
        "share_weight": round(s.share(s.with_weight), 3),
        "share_item_weight": round(sum("weight" in p.attributes for p in cat) / max(len(cat), 1), 3),
        "share_dimensions": round(s.share(s.with_dimensions), 3),
        "share_category": round(s.share(s.with_category), 3),
        "graph_nodes": cat.graph.number_of_nodes(),
        "graph_edges": cat.graph.number_of_edges(),
        "build_ms": round(build_ms, 1),
        "save_ms": round(save_ms, 1),
        "saved_kb": round(size_kb, 1),
        "load_ms": round(load_ms, 1),
        "linker_build_ms": round(linker_ms, 1),
        "link_latency": lat,
        **hits,
        "problems_sample": s.problems[:5],
    }
    for k, v in out.items():
        print(f"{k:>20}: {v}")
    write("amazon_graph", out)


if __name__ == "__main__":
    main()
