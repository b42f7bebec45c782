"""Resident memory: a running engine with the demo store, and growth with catalog and FAQ size.

Usage: python benchmarks/memory.py [--scales 1,10,100] [--data-dir DIR]

Every measurement runs in a fresh subprocess and reads ``VmRSS`` / ``VmHWM`` from /proc:

- ``engine``: ``Engine.from_config()`` with the demo store, warmed up, after 40 scripted turns.
- ``scale``: the demo catalog and FAQs replicated ``k`` times (new ids, names and questions with a
  copy suffix, relations kept within each copy), then the knowledge side built as the engine builds
  it: ``Catalog`` + ``ProductLinker`` + ``ProductQA`` and ``HybridFAQRetriever`` (dense index +
  BM25, both languages). FAQ vectors come from a seeded random 384-d embedder: memory depends on
  the count and dimension, not the values, and embedding 13,000 FAQs with a real model would
  only measure the model's speed. Reported: RSS after building minus RSS after the imports.
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
from _common import write  # noqa: E402

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

__all__ = ["main", "rss_mb"]

ENGINE = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
from turn_latency import SCRIPT
from memory import rss_mb
base = rss_mb()
from engine import Engine
e = Engine.from_config()
e.warm_up()
for i in range(40):
    c, t = SCRIPT[i % len(SCRIPT)]
    e.respond(f"mem-{i // len(SCRIPT)}", t, customer_id=c)
print(json.dumps({"python_start_mb": base, **rss_mb(peak=True)}))
"""

SCALE = r"""
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from memory import rss_mb
k, store = int(sys.argv[2]), sys.argv[3]
from engine.settings import load_settings
from knowledge.faq.index import HybridFAQRetriever
from knowledge.faq.store import FAQEntry, load_faqs
from knowledge.graph.catalog import Catalog
from knowledge.graph.linker import ProductLinker
from knowledge.graph.query import ProductQA

class RandomEmbedder:
    name = "random-384"
    dim = 384
    def embed(self, texts, *, kind="query"):
        rng = np.random.default_rng(abs(hash(texts[0])) % 2**32 if texts else 0)
        v = rng.standard_normal((len(texts), 384)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

raw = json.load(open(f"{store}/catalog.json", encoding="utf-8"))
faqs = load_faqs(f"{store}/faqs.jsonl")
base = rss_mb()["rss_mb"]
products = []
for c in range(k):
    sfx = "" if c == 0 else f" c{c}"
    for p in raw:
        q = dict(p, id=p["id"] if c == 0 else f"{p['id']}-c{c}", name=p["name"] + sfx,
                 aliases=[a + sfx for a in p.get("aliases") or []],
                 relations=[dict(r, target=r["target"] if c == 0 else f"{r['target']}-c{c}")
                            for r in p.get("relations") or []])
        products.append(q)
tmp = f"{store}/../catalog-x{k}.json"
json.dump(products, open(tmp, "w", encoding="utf-8"))
catalog = Catalog.from_file(tmp)
linker = ProductLinker(catalog)
qa = ProductQA(catalog)
entries = [FAQEntry(e.id if c == 0 else f"{e.id}-c{c}", e.question + ("" if c == 0 else f" (copy {c})"),
                    e.answer, e.lang, e.kind, e.tags) for c in range(k) for e in faqs]
retriever = HybridFAQRetriever.from_settings(entries, RandomEmbedder(), load_settings().retrieval)
retriever.warm_up()
linker.link("does the X200 work with my iPhone?")
retriever.retrieve("how long do refunds take?", top_k=3, language="en")
after = rss_mb(peak=True)
print(json.dumps({"scale": k, "products": len(catalog), "faqs": len(entries), "knowledge_mb": round(after["rss_mb"] - base, 1),
                  "rss_mb": after["rss_mb"], "peak_mb": after["peak_mb"], "baseline_mb": base}))
"""


def rss_mb(*, peak: bool = False) -> dict:
    """This process's resident set (and peak) in MiB, from /proc/self/status."""
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                out["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
            elif line.startswith("VmHWM:") and peak:
                out["peak_mb"] = round(int(line.split()[1]) / 1024, 1)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scales", default="1,10,100")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="shopassist-bench-"))
    env = dict(os.environ, SHOPASSIST_DATA_DIR=str(data_dir), PYTHONPATH=str(HERE.parent))
    out = subprocess.run([sys.executable, "-c", ENGINE, str(HERE)], capture_output=True, text=True, env=env,
                         check=True, cwd=HERE.parent)
    engine = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"engine with the demo store: RSS {engine['rss_mb']} MiB (peak {engine['peak_mb']} MiB)", flush=True)
    store = data_dir / "demo-store"
    rows = []
    for k in (int(x) for x in args.scales.split(",")):
        out = subprocess.run([sys.executable, "-c", SCALE, str(HERE), str(k), str(store)], capture_output=True,
                             text=True, env=env, check=True, cwd=HERE.parent)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"  x{k:<4} {row['products']:>6} products {row['faqs']:>6} FAQs: knowledge {row['knowledge_mb']} MiB "
              f"(process RSS {row['rss_mb']} MiB)", flush=True)
    result = {"engine": engine, "scaling": rows, "loadavg": [round(x, 2) for x in os.getloadavg()]}
    if not args.no_write:
        write("memory", result)
    return result


if __name__ == "__main__":
    main()
