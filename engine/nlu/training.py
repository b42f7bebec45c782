"""Training and loading of ``shopassist nlu train`` model folders (head and finetune modes).

A model folder holds ``meta.json`` (format version, mode, task, labels, out-of-scope label and
threshold, the embedder or base model, hyper-parameters chosen, validation metrics, training time
and a SHA-256 of the training data) and the weights: ``head.npz`` (mode ``head``: a
:class:`~engine.nlu.intent.LinearHead` over frozen sentence embeddings) or ``model/`` (mode
``finetune``: a Hugging Face checkpoint, :mod:`engine.nlu.finetune`).

Choices are made on validation data, never on the test: the head's L2 strength (a warm-started
regularisation path, best macro-F1) and the out-of-scope threshold on the top probability —
maximising the mean of in-scope accuracy and OOS recall when the validation rows include
out-of-scope ones, else the threshold that keeps ``in_scope_keep`` of in-scope validation rows.
Without ``--valid`` a stratified 10% of the training rows is carved off for these choices; a head
is then refitted on every row with the chosen strength (a fine-tuned model keeps its best epoch,
trained on the other 90%).

Example:
    >>> model = train_text_model(texts, labels, task="intent", mode="head", embedder="all-MiniLM-L6-v2")  # doctest: +SKIP
    >>> model.save(Path("models/intent")); TextModel.load(Path("models/intent")).predict(["hi"])  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ModelError

__all__ = [
    "MODEL_FORMAT_VERSION",
    "DEFAULT_DECAYS",
    "TextModel",
    "train_text_model",
    "choose_threshold",
    "carve_validation",
    "data_digest",
    "macro_f1",
]

MODEL_FORMAT_VERSION = 1
DEFAULT_DECAYS = (1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6)


def data_digest(texts: Sequence[str], labels: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(f"{t}\t{lab}" for t, lab in zip(texts, labels)).encode()).hexdigest()


def carve_validation(labels: Sequence[str], *, frac: float = 0.1, seed: int = 0) -> tuple[list[int], list[int]]:
    """Indices ``(train, valid)``: ``frac`` of each label with at least 2 rows goes to validation."""
    by: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        by.setdefault(lab, []).append(i)
    rng = random.Random(seed)
    tr, va = [], []
    for lab in sorted(by):
        idx = by[lab][:]
        rng.shuffle(idx)
        k = max(1, round(len(idx) * frac)) if len(idx) >= 2 else 0
        va += idx[:k]
        tr += idx[k:]
    return sorted(tr), sorted(va)


def macro_f1(gold: Sequence[Any], pred: Sequence[Any]) -> float:
    """Mean F1 over the classes present in ``gold``."""
    f1s = []
    for c in set(gold):
        tp = sum(g == p == c for g, p in zip(gold, pred))
        fp = sum(p == c != g for g, p in zip(gold, pred))
        fn = sum(g == c != p for g, p in zip(gold, pred))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(f1s)) if f1s else 0.0


def choose_threshold(
    probs: np.ndarray,
    labels: Sequence[str],
    gold: Sequence[str],
    oos_label: str,
    *,
    in_scope_keep: float = 0.97,
) -> tuple[float, str]:
    """The out-of-scope threshold on the top probability, and how it was chosen."""
    conf = probs.max(1)
    best = [labels[i] for i in probs.argmax(1)]
    is_oos = np.array([g == oos_label for g in gold])
    if is_oos.any() and (~is_oos).any():
        right = np.array([b == g for b, g in zip(best, gold)])
        top = (-1.0, 0.0)
        for thr in np.arange(0.0, 1.0, 0.005):
            score = (float(np.mean(right[~is_oos] & (conf[~is_oos] >= thr))) + float(np.mean(conf[is_oos] < thr))) / 2
            if score > top[0] + 1e-9:
                top = (score, round(float(thr), 3))
        return top[1], "max of (in-scope accuracy + OOS recall) / 2 on validation"
    thr = float(np.quantile(conf[~is_oos], 1.0 - in_scope_keep)) if (~is_oos).any() else 0.0
    return round(thr, 4), f"keeps {in_scope_keep:.0%} of in-scope validation rows"


@dataclass
class TextModel:
    """A trained text classifier folder: predicts labels (or the OOS label) for texts."""

    meta: dict[str, Any]
    head: Any = None  # LinearHead (mode head over sentence embeddings)
    sparse: Any = None  # TfidfHead (mode head over character n-grams, ``embedder="tfidf"``)
    net: Any = None  # FinetunedClassifier (mode finetune)
    _embedder: Any = field(default=None, repr=False)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.meta["labels"])

    @property
    def threshold(self) -> float:
        return float(self.meta.get("threshold") or 0.0)

    def embedder(self) -> Any:
        if self._embedder is None:
            from knowledge.embedders import build_embedder

            self._embedder = build_embedder(self.meta["embedder"], cache_size=0)
        return self._embedder

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        if self.net is not None:
            return self.net.probabilities(list(texts))
        if self.sparse is not None:
            return self.sparse.probabilities(list(texts))
        return self.head.probabilities(self.embedder().embed(list(texts), kind="query"))

    def predict(self, texts: Sequence[str], *, oos_label: str | None = None) -> list[str]:
        oos_label = oos_label or self.meta.get("oos_label")
        return self.decide(self.probabilities(texts), oos_label)

    def decide(self, probs: np.ndarray, oos_label: str | None) -> list[str]:
        best, conf = probs.argmax(1), probs.max(1)
        return [oos_label if oos_label is not None and conf[i] < self.threshold else self.labels[b]
                for i, b in enumerate(best)]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = dict(self.meta, format_version=MODEL_FORMAT_VERSION)
        if self.head is not None:
            self.head.meta = dict(self.head.meta, **meta)
            self.head.save(folder)  # head.npz + meta.json (its own format version inside)
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        elif self.sparse is not None:
            self.sparse.save(folder)
        else:
            self.net.save(folder)
        meta["model_format_version"] = MODEL_FORMAT_VERSION
        tmp = folder / "meta.json.tmp"
        tmp.write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        tmp.replace(folder / "meta.json")

    @classmethod
    def load(cls, folder: Path, *, device: str = "auto") -> "TextModel":
        folder = Path(folder)
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelError(f"{folder} is not a model folder (no meta.json); train one with `shopassist nlu train`") from exc
        except (OSError, ValueError) as exc:
            raise ModelError(f"{folder}/meta.json is unreadable or corrupt ({exc}); retrain with `shopassist nlu train`") from exc
        if not isinstance(meta, dict) or meta.get("model_format_version") != MODEL_FORMAT_VERSION:
            found = meta.get("model_format_version") if isinstance(meta, dict) else None
            raise ModelError(f"{folder} was written in model format {found!r}; this version reads "
                             f"{MODEL_FORMAT_VERSION}: retrain it with `shopassist nlu train`")
        if meta.get("mode") == "finetune":
            from engine.nlu.finetune import FinetunedClassifier

            net = FinetunedClassifier.load(folder, meta["labels"], max_length=int(meta.get("max_length", 64)), device=device)
            return cls(meta, net=net)
        if meta.get("embedder") == "tfidf":
            from engine.nlu.sparse import TfidfHead

            return cls(meta, sparse=TfidfHead.load(folder, meta["labels"]))
        from engine.nlu.intent import LinearHead

        head = LinearHead.load(folder)
        if not meta.get("embedder"):
            raise ModelError(f"{folder}: no embedder recorded in meta.json; retrain with `shopassist nlu train`")
        return cls(meta, head=head)


def _say(msg: str, progress: bool) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


def _fit_head_path(xtr, ytr, xva, yva, decays, *, max_iter, seed, progress):
    from engine.nlu.intent import train_linear_head

    best, scores, init = None, {}, None
    for wd in decays:
        head = train_linear_head(xtr, ytr, max_iter=max_iter, weight_decay=wd, seed=seed, init=init)
        init = head
        f1 = macro_f1(yva, [head.labels[i] for i in head.probabilities(xva).argmax(1)]) if len(yva) else 0.0
        scores[wd] = round(f1, 4)
        _say(f"  weight_decay {wd:g}: validation macro-F1 {f1:.4f}", progress)
        if best is None or f1 > best[0] + 1e-9:
            best = (f1, wd, head)
    return best, scores


def train_text_model(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    task: str,
    mode: str = "head",
    valid_texts: Sequence[str] | None = None,
    valid_labels: Sequence[str] | None = None,
    oos_label: str | None = None,
    embedder: str = "all-MiniLM-L6-v2",
    decays: Sequence[float] = DEFAULT_DECAYS,
    max_iter: int = 300,
    seed: int = 13,
    in_scope_keep: float = 0.97,
    finetune_config: Any = None,
    progress: bool = True,
) -> TextModel:
    """Train a classifier on ``texts``/``labels`` (rows labelled ``oos_label`` are never trained on)."""
    if mode not in ("head", "finetune"):
        raise ValueError(f"mode must be 'head' or 'finetune', got {mode!r}")
    keep = [i for i, lab in enumerate(labels) if lab != oos_label]
    tx, ty = [texts[i] for i in keep], [labels[i] for i in keep]
    if len(set(ty)) < 2:
        raise ValueError(f"need at least two labels to train{f' besides {oos_label!r}' if oos_label else ''}")
    carved = valid_texts is None
    if carved:
        tr, va = carve_validation(ty, seed=seed)
        vx, vy = [tx[i] for i in va], [ty[i] for i in va]
        fx, fy = [tx[i] for i in tr], [ty[i] for i in tr]
    else:
        vx, vy = list(valid_texts), list(valid_labels or [])
        fx, fy = tx, ty
    seen = set(fy)
    vin = [i for i, g in enumerate(vy) if g in seen]  # rows a classifier can get right
    t0 = time.perf_counter()
    meta: dict[str, Any] = {"task": task, "mode": mode, "oos_label": oos_label,
                            "train_rows": len(tx), "train_data_sha256": data_digest(texts, labels),
                            "validation": "carved 10% of train" if carved else "given"}
    if mode == "head" and embedder == "tfidf":
        from engine.nlu.sparse import train_tfidf_head

        _say(f"training a character n-gram TF-IDF head ({len(fy)} rows, {len(seen)} labels), choosing C on validation...", progress)
        sparse, c, scores = train_tfidf_head(fx, fy, [vx[i] for i in vin], [vy[i] for i in vin], progress=progress)
        probs = sparse.probabilities(vx)
        meta.update(embedder="tfidf", C=c, c_scores={f"{k:g}": v for k, v in scores.items()})
        model = TextModel(meta, sparse=sparse)
    elif mode == "head":
        from knowledge.embedders import build_embedder

        emb = build_embedder(embedder, cache_size=0)
        _say(f"embedding {len(tx) + len(vx)} texts with {emb.name}...", progress)
        xall = emb.embed(list(tx) + (list(vx) if not carved else []), kind="query")
        xtx = xall[:len(tx)]
        if carved:
            xf, xv = xtx[tr], xtx[va]
        else:
            xf, xv = xtx, xall[len(tx):]
        _say(f"training the head ({len(fy)} rows, {len(seen)} labels), choosing weight decay on validation...", progress)
        (f1, wd, head), scores = _fit_head_path(xf, fy, xv[vin], [vy[i] for i in vin], decays,
                                                max_iter=max_iter, seed=seed, progress=progress)
        probs = head.probabilities(xv)
        meta.update(embedder=emb.name, weight_decay=wd, decay_scores={f"{k:g}": v for k, v in scores.items()})
        model = TextModel(meta, head=head, _embedder=emb)
    else:
        from engine.nlu.finetune import FinetuneConfig, finetune

        cfg = finetune_config or FinetuneConfig(seed=seed)
        net, report = finetune(fx, fy, [vx[i] for i in vin], [vy[i] for i in vin], cfg, progress=progress)
        probs = net.probabilities(vx)
        meta.update(base_model=cfg.model, max_length=cfg.max_length, finetune=report)
        model = TextModel(meta, net=net)
    meta["labels"] = list((model.head or model.sparse or model.net).labels)
    threshold, how = 0.0, None
    if oos_label is not None:
        threshold, how = choose_threshold(probs, meta["labels"], vy, oos_label, in_scope_keep=in_scope_keep)
    meta.update(threshold=threshold, threshold_choice=how)
    if carved and model.sparse is not None:  # refit on every row with the chosen strength
        from engine.nlu.sparse import train_tfidf_head

        model.sparse = train_tfidf_head(tx, ty, [], [], cs=(meta["C"],), progress=False)[0]
    elif carved and mode == "head":
        from engine.nlu.intent import train_linear_head

        model.head = train_linear_head(xtx, ty, max_iter=max_iter, weight_decay=meta["weight_decay"],
                                       seed=seed, init=model.head)
    meta["train_s"] = round(time.perf_counter() - t0, 2)
    from engine.nlu.cli import metrics  # one metrics implementation for train and eval

    meta["valid"] = {k: v for k, v in metrics(vy, model.decide(probs, oos_label), oos_label).items() if k != "per_class"}
    return model
