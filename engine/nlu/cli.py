"""``shopassist nlu train | eval``: train a text classifier head on a CSV and evaluate it (DESIGN.md §3).

Mode ``head``: frozen sentence embeddings (multilingual E5 by default, or any embedder name) and
an L2-regularised softmax head (:func:`engine.nlu.intent.train_linear_head`). With
``--oos-label``, rows of that label are never trained on; the out-of-scope confidence threshold
is chosen on the validation file when it holds such rows (maximising the mean of in-scope
accuracy and OOS recall), else the configured one is kept. The model folder holds the head,
labels, threshold, metrics, the embedder name and a hash of the training data.

Example:
    $ shopassist nlu train --task intent --data train.csv --valid valid.csv --out models/intent --oos-label oos
    $ shopassist nlu eval --model models/intent --data test.csv --json out.json --oos-label oos
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from engine.errors import ModelError, ShopAssistError

__all__ = ["register", "read_labelled_csv", "metrics"]

OOS = "out_of_scope"


class DataError(ShopAssistError):
    """A training or evaluation file that cannot be used as given."""


def read_labelled_csv(path: str | Path) -> tuple[list[str], list[str]]:
    """Texts and labels from a CSV with a header holding ``text`` and ``label`` (others ignored)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 (byte {exc.start}); re-save it as UTF-8") from exc
    reader = csv.DictReader(text.splitlines())
    missing = {"text", "label"} - set(reader.fieldnames or ())
    if missing:
        raise DataError(f"{path}: the header needs columns 'text' and 'label' (missing: {', '.join(sorted(missing))})")
    texts, labels = [], []
    for row in reader:
        t, lab = (row.get("text") or "").strip(), (row.get("label") or "").strip()
        if t and lab:
            texts.append(t)
            labels.append(lab)
    if not texts:
        raise DataError(f"{path}: no rows with both text and label")
    return texts, labels


def metrics(gold: list[str], pred: list[str], oos_label: str | None = None) -> dict:
    """accuracy, macro-F1, per-class report; with ``oos_label``: in-scope accuracy and OOS recall."""
    labels = sorted(set(gold) | set(pred))
    per_class = {}
    for lab in labels:
        tp = sum(g == p == lab for g, p in zip(gold, pred))
        fp = sum(p == lab != g for g, p in zip(gold, pred))
        fn = sum(g == lab != p for g, p in zip(gold, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        per_class[lab] = {"precision": round(prec, 4), "recall": round(rec, 4),
                          "f1": round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0, "support": tp + fn}
    gold_classes = [lab for lab in labels if per_class[lab]["support"]]
    out = {
        "accuracy": round(float(np.mean([g == p for g, p in zip(gold, pred)])), 4),
        "macro_f1": round(float(np.mean([per_class[lab]["f1"] for lab in gold_classes])), 4),
        "n": len(gold),
        "per_class": per_class,
    }
    if oos_label is not None:
        ins = [(g, p) for g, p in zip(gold, pred) if g != oos_label]
        oos = [p for g, p in zip(gold, pred) if g == oos_label]
        out["in_scope_accuracy"] = round(float(np.mean([g == p for g, p in ins])), 4) if ins else None
        out["oos_recall"] = round(float(np.mean([p == oos_label for p in oos])), 4) if oos else None
    return out


def _predict(head, x: np.ndarray, threshold: float, oos_label: str | None) -> list[str]:
    probs = head.probabilities(x)
    best = probs.argmax(1)
    return [oos_label if (oos_label is not None and probs[i, b] < threshold) else head.labels[b]
            for i, b in enumerate(best)]


def _embedder(name: str):
    from knowledge.embedders import build_embedder

    return build_embedder(name, cache_size=0)


def _cmd_train(args: argparse.Namespace) -> int:
    from engine.nlu.intent import train_linear_head
    from engine.settings import load_settings

    if args.mode != "head":
        print("shopassist: --mode finetune is not available in this version; use --mode head", file=sys.stderr)
        return 2
    settings = load_settings(args.config)
    texts, labels = read_labelled_csv(args.data)
    keep = [i for i, lab in enumerate(labels) if lab != args.oos_label]
    if len({labels[i] for i in keep}) < 2:
        raise DataError(f"{args.data}: need at least two labels to train (besides {args.oos_label!r})")
    name = args.embedder or settings.nlu.embedder
    emb = _embedder(name)
    t0 = time.perf_counter()
    x = emb.embed([texts[i] for i in keep], kind="query")
    head = train_linear_head(x, [labels[i] for i in keep], max_iter=settings.nlu.max_iter,
                             weight_decay=settings.nlu.weight_decay, seed=settings.nlu.seed)
    train_s = time.perf_counter() - t0
    threshold = settings.nlu.confidence_threshold if args.oos_label else 0.0
    valid_metrics = None
    if args.valid:
        vtexts, vlabels = read_labelled_csv(args.valid)
        xv = emb.embed(vtexts, kind="query")
        if args.oos_label and args.oos_label in vlabels:
            best = (-1.0, threshold)
            for thr in np.arange(0.05, 0.96, 0.01):
                m = metrics(vlabels, _predict(head, xv, float(thr), args.oos_label), args.oos_label)
                score = (m["in_scope_accuracy"] + m["oos_recall"]) / 2
                if score > best[0]:
                    best = (score, round(float(thr), 2))
            threshold = best[1]
        valid_metrics = metrics(vlabels, _predict(head, xv, threshold, args.oos_label), args.oos_label)
    digest = hashlib.sha256("\n".join(f"{t}\t{lab}" for t, lab in zip(texts, labels)).encode()).hexdigest()
    head.meta.update(task=args.task, embedder=name, threshold=threshold, oos_label=args.oos_label,
                     train_data=str(args.data), train_data_sha256=digest, train_s=round(train_s, 2),
                     valid=valid_metrics)
    out = Path(args.out)
    head.save(out)
    print(f"trained {args.task} head on {len(keep)} rows, {len(head.labels)} labels, in {train_s:.1f}s -> {out}")
    if valid_metrics:
        print(json.dumps({k: v for k, v in valid_metrics.items() if k != "per_class"}))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from engine.nlu.intent import LinearHead

    head = LinearHead.load(Path(args.model))
    name = head.meta.get("embedder")
    if not name:
        raise ModelError(f"{args.model}: no embedder recorded; retrain it with `shopassist nlu train`")
    oos_label = args.oos_label or head.meta.get("oos_label")
    texts, labels = read_labelled_csv(args.data)
    emb = _embedder(name)
    t0 = time.perf_counter()
    x = emb.embed(texts, kind="query")
    pred = _predict(head, x, float(head.meta.get("threshold") or 0.0), oos_label)
    per_ms = (time.perf_counter() - t0) * 1000 / len(texts)
    result = metrics(labels, pred, oos_label)
    result.update(model=str(args.model), data=str(args.data), ms_per_utterance_batched=round(per_ms, 3))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(json.dumps({k: v for k, v in result.items() if k != "per_class"}))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``nlu train`` and ``nlu eval`` to the ``shopassist`` parser."""
    nlu = sub.add_parser("nlu", help="train and evaluate text classifiers (intent, sentiment)")
    nsub = nlu.add_subparsers(dest="nlu_command", required=True)
    train = nsub.add_parser("train", help="train a classifier head on a CSV with text,label columns")
    train.add_argument("--task", choices=("intent", "sentiment"), required=True)
    train.add_argument("--data", required=True, help="training CSV (header with text and label)")
    train.add_argument("--valid", help="validation CSV (chooses the OOS threshold when it has OOS rows)")
    train.add_argument("--out", required=True, help="model folder to write")
    train.add_argument("--mode", choices=("head", "finetune"), default="head")
    train.add_argument("--oos-label", help="this label is out of scope: never trained, detected")
    train.add_argument("--embedder", help="embedding model (default: the configured nlu.embedder)")
    train.add_argument("--config")
    train.set_defaults(func=_cmd_train)
    ev = nsub.add_parser("eval", help="evaluate a trained model folder on a CSV")
    ev.add_argument("--model", required=True)
    ev.add_argument("--data", required=True)
    ev.add_argument("--json", help="write accuracy, macro_f1, in_scope_accuracy, oos_recall, per_class here")
    ev.add_argument("--oos-label", help="label of out-of-scope rows (default: the one the model was trained with)")
    ev.set_defaults(func=_cmd_eval)
