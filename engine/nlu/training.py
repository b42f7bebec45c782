"""Training and loading of ``shopassist nlu train`` model folders (head and finetune modes).

A model folder holds ``meta.json`` (format version, mode, task, labels, out-of-scope label and
threshold, the embedder or base model, hyper-parameters chosen, validation metrics, training time
and a SHA-256 of the training data), the weights, and ``checksums.json`` (the SHA-256 of every other
file, written last: :meth:`TextModel.load` refuses a folder whose files differ, and loads one
written before checksums were recorded with a logged warning). The weights are ``head.npz`` (mode ``head``: a
:class:`~engine.nlu.intent.LinearHead` over frozen sentence embeddings) or ``model/`` (mode
``finetune``: a Hugging Face checkpoint, :mod:`engine.nlu.finetune`; mode ``finetune`` with the
``contrastive`` objective: the contrastively tuned sentence encoder under ``model/``,
:mod:`engine.nlu.contrastive`, and ``head.npz`` over its embeddings).

Choices are made on validation data, never on the test: the head's L2 strength (a warm-started
regularisation path, best macro-F1) and the out-of-scope threshold — on the energy score
(log-sum-exp of the logits) for a head over embeddings, which separates out-of-scope queries
better than the top probability (benchmarks/README.md, NLU), its temperature too when the validation rows include out-of-scope ones
(:func:`choose_energy_temperature`), on the top probability for the other modes —
the best in-scope accuracy that still rejects ``min_oos_recall`` (default 0.9) of the validation's
out-of-scope rows when it has some (``None``: maximise the mean of in-scope accuracy and OOS
recall, which trades in-scope accuracy for a higher OOS recall), else the threshold that keeps ``in_scope_keep`` of in-scope validation rows.
Without ``--valid``, a head over sentence embeddings is chosen by stratified k-fold cross-validation
on the training rows (mean macro-F1 over the folds; the threshold and the reported validation
metrics come from the out-of-fold predictions) and refitted on every row with the chosen strength;
the other modes carve a stratified 10% of the training rows off for their choices (a TF-IDF head
is then refitted on every row, a fine-tuned model keeps its best epoch, trained on the other 90%;
a contrastive model's encoder and head are both trained on the 90%, so the threshold is chosen on
texts neither has seen).

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
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ModelError
from engine.integrity import check_folder, write_checksums

__all__ = [
    "MODEL_FORMAT_VERSION",
    "DEFAULT_DECAYS",
    "DEFAULT_FOLDS",
    "DEFAULT_MIN_OOS_RECALL",
    "TextModel",
    "train_text_model",
    "choose_threshold",
    "energy",
    "choose_energy_temperature",
    "ENERGY_TEMPERATURES",
    "carve_validation",
    "stratified_folds",
    "data_digest",
    "macro_f1",
]

MODEL_FORMAT_VERSION = 1
DEFAULT_DECAYS = tuple(float(f"{10 ** (-3 - k / 4):.2g}") for k in range(13))  # 1e-3 ... 1e-6, 4 per decade
DEFAULT_FOLDS = 5
DEFAULT_MIN_OOS_RECALL = 0.9  # validation with out-of-scope rows: the share of them the threshold rejects
# energy temperatures tried when the validation rows include out-of-scope ones, and the OOS recalls
# over which each is rated (the mean in-scope accuracy at thresholds rejecting these shares)
ENERGY_TEMPERATURES = (1.0, 1.5, 2.0, 3.0)
TEMPERATURE_BAND = (0.80, 0.85, 0.90, 0.95)


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


def stratified_folds(labels: Sequence[str], k: int, *, seed: int = 0) -> np.ndarray:
    """A fold number in ``0..k-1`` per row, each label's rows dealt round-robin after a shuffle."""
    by: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        by.setdefault(lab, []).append(i)
    rng = random.Random(seed)
    folds = np.zeros(len(labels), dtype=np.int64)
    start = 0
    for lab in sorted(by):
        idx = by[lab][:]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            folds[i] = (start + j) % k
        start += len(idx)  # the next label starts where this one stopped: folds stay even in size
    return folds


def macro_f1(gold: Sequence[Any], pred: Sequence[Any]) -> float:
    """Mean F1 over the classes present in ``gold``."""
    if not len(gold):
        return 0.0
    classes = {c: i for i, c in enumerate(dict.fromkeys(list(gold) + list(pred)))}
    g = np.fromiter((classes[c] for c in gold), dtype=np.int64, count=len(gold))
    p = np.fromiter((classes[c] for c in pred), dtype=np.int64, count=len(pred))
    n = len(classes)
    tp = np.bincount(g[g == p], minlength=n)
    fp = np.bincount(p, minlength=n) - tp
    fn = np.bincount(g, minlength=n) - tp
    present = np.unique(g)
    f1 = 2 * tp[present] / np.maximum(2 * tp[present] + fp[present] + fn[present], 1)
    return float(f1.mean())


def energy(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``T * log-sum-exp(logits / T)`` of each row: high for inputs like the training data (Liu et
    al., 2020). At ``T = 1`` the plain log-sum-exp, near the top logit when one class dominates; a
    higher ``T`` lets the runner-up classes count, so a text torn between two known intents scores
    as more in scope than one that matches none."""
    if not temperature > 0:
        raise ValueError(f"the energy temperature must be > 0, got {temperature}")
    top = logits.max(axis=1)
    return top + temperature * np.log(np.exp((logits - top[:, None]) / temperature).sum(axis=1))


def choose_energy_temperature(
    logits: np.ndarray,
    labels: Sequence[str],
    gold: Sequence[str],
    oos_label: str | None,
    temperatures: Sequence[float] = ENERGY_TEMPERATURES,
) -> tuple[float, dict[str, float]]:
    """The energy temperature that best separates the validation's out-of-scope rows: ``(T, scores)``.

    Each temperature is rated by the mean in-scope accuracy (right label and above the threshold)
    at the thresholds that reject 80, 85, 90 and 95% of the validation's OOS rows — a band rather
    than the one operating point, so the choice does not follow where a few OOS rows happen to fall
    (its measured effect on CLINC150 is in benchmarks/README.md, NLU). Ties keep the lower
    temperature. Without
    both OOS and in-scope rows there is nothing to rate: ``(1.0, {})``."""
    is_oos = np.array([g == oos_label for g in gold]) if oos_label is not None else np.zeros(len(gold), bool)
    if not is_oos.any() or is_oos.all():
        return 1.0, {}
    right = np.array([labels[b] == g for b, g in zip(logits.argmax(1), gold)])[~is_oos]
    scores: dict[str, float] = {}
    best: tuple[float, float] | None = None
    for t in temperatures:
        e = energy(logits, t)
        ein, eout = e[~is_oos], e[is_oos]
        rating = float(np.mean([np.mean(right & (ein >= np.quantile(eout, q))) for q in TEMPERATURE_BAND]))
        scores[f"{t:g}"] = round(rating, 4)
        if best is None or rating > best[0] + 1e-9:
            best = (rating, float(t))
    assert best is not None
    return best[1], scores


def choose_threshold(
    probs: np.ndarray,
    labels: Sequence[str],
    gold: Sequence[str],
    oos_label: str,
    *,
    in_scope_keep: float = 0.97,
    confidence: np.ndarray | None = None,
    min_oos_recall: float | None = None,
) -> tuple[float, str]:
    """The out-of-scope threshold on ``confidence`` (default: the top probability), and how it was chosen.

    With out-of-scope rows in the validation: the threshold that maximises the mean of in-scope
    accuracy and OOS recall, or, given ``min_oos_recall``, the lowest one (so the best in-scope
    accuracy) that rejects at least that share of them. Without: the one keeping ``in_scope_keep``
    of the in-scope rows."""
    _check_threshold_settings(in_scope_keep, min_oos_recall)
    conf = probs.max(1) if confidence is None else np.asarray(confidence, dtype=np.float64)
    best = [labels[i] for i in probs.argmax(1)]
    is_oos = np.array([g == oos_label for g in gold])
    if is_oos.any() and (~is_oos).any() and min_oos_recall is not None:
        oos_conf = np.sort(conf[is_oos])
        k = int(np.ceil(min_oos_recall * len(oos_conf) - 1e-9))  # rows to reject: those below the threshold
        thr = float(np.nextafter(oos_conf[k - 1], np.inf))
        return thr, f"lowest with OOS recall >= {min_oos_recall:g} on validation (best in-scope accuracy there)"
    if is_oos.any() and (~is_oos).any():
        right = np.array([b == g for b, g in zip(best, gold)])
        top = (-1.0, 0.0)
        grid = np.arange(0.0, 1.0, 0.005) if confidence is None else np.unique(np.quantile(conf, np.linspace(0, 1, 401)))
        for thr in grid:
            score = (float(np.mean(right[~is_oos] & (conf[~is_oos] >= thr))) + float(np.mean(conf[is_oos] < thr))) / 2
            if score > top[0] + 1e-9:
                top = (score, round(float(thr), 3))
        return top[1], "max of (in-scope accuracy + OOS recall) / 2 on validation"
    thr = float(np.quantile(conf[~is_oos], 1.0 - in_scope_keep)) if (~is_oos).any() else 0.0
    return round(thr, 4), f"keeps {in_scope_keep * 100:g}% of in-scope validation rows"


def _check_threshold_settings(in_scope_keep: float, min_oos_recall: float | None) -> None:
    if not 0.0 < in_scope_keep <= 1.0:
        raise ValueError(f"in_scope_keep must be in (0, 1], got {in_scope_keep}")
    if min_oos_recall is not None and not 0.0 < min_oos_recall <= 1.0:
        raise ValueError(f"min_oos_recall must be in (0, 1], got {min_oos_recall}")


@dataclass
class TextModel:
    """A trained text classifier folder: predicts labels (or the OOS label) for texts."""

    meta: dict[str, Any]
    head: Any = None  # LinearHead (mode head over sentence embeddings)
    sparse: Any = None  # TfidfHead (mode head over character n-grams, ``embedder="tfidf"``)
    net: Any = None  # FinetunedClassifier (mode finetune)
    _embedder: Any = field(default=None, repr=False)
    _encoder: Path | None = field(default=None, repr=False)  # a contrastive model's tuned encoder folder
    _encoder_tmp: Any = field(default=None, repr=False)  # keeps a freshly trained one's temporary folder alive

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

    @property
    def energy_temperature(self) -> float:
        """The temperature of the energy score (1 for folders written before it was chosen)."""
        return float(self.meta.get("energy_temperature") or 1.0)

    @property
    def oos_score(self) -> str:
        """What the threshold applies to: ``probability`` (the top one) or ``energy`` (of the logits)."""
        return str(self.meta.get("oos_score") or "probability")

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        return self.scores(texts)[0]

    def scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(probabilities, confidence)``: the confidence is what :attr:`threshold` applies to."""
        if self.net is not None:
            probs = self.net.probabilities(list(texts))
        elif self.sparse is not None:
            probs = self.sparse.probabilities(list(texts))
        else:
            x = self.embedder().embed(list(texts), kind="query")
            probs = self.head.probabilities(x)
            if self.oos_score == "energy":
                return probs, energy(self.head.logits(x), self.energy_temperature)
        return probs, probs.max(1)

    def predict(self, texts: Sequence[str], *, oos_label: str | None = None) -> list[str]:
        oos_label = oos_label or self.meta.get("oos_label")
        return self.decide(*self.scores(texts), oos_label=oos_label)

    def decide(self, probs: np.ndarray, confidence: np.ndarray | None = None, *, oos_label: str | None) -> list[str]:
        if confidence is None and oos_label is not None and self.oos_score != "probability":
            raise ValueError(f"this model's threshold applies to {self.oos_score}: pass the confidence scores() gives")
        best = probs.argmax(1)
        # compared in float64, as the threshold was chosen: against a float32 array numpy would round
        # the threshold to float32, and a row exactly at the chosen boundary would cross back
        conf = np.asarray(probs.max(1) if confidence is None else confidence, dtype=np.float64)
        return [oos_label if oos_label is not None and conf[i] < self.threshold else self.labels[b]
                for i, b in enumerate(best)]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = dict(self.meta, format_version=MODEL_FORMAT_VERSION)
        if self._encoder is not None:  # the tuned encoder first: a folder whose meta.json exists is whole
            _copy_folder(self._encoder, folder / "model")
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
        write_checksums(folder)  # last: what load() verifies the folder against

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
        # before any weights are read: an edited or swapped file is refused, not served
        check_folder(folder, fix="retrain it with `shopassist nlu train`", what="model folder")
        if meta.get("mode") == "finetune" and meta.get("objective") != "contrastive":
            from engine.nlu.finetune import FinetunedClassifier

            net = FinetunedClassifier.load(folder, meta["labels"], max_length=int(meta.get("max_length", 64)), device=device)
            return cls(meta, net=net)
        if meta.get("embedder") == "tfidf":
            from engine.nlu.sparse import TfidfHead

            return cls(meta, sparse=TfidfHead.load(folder, meta["labels"]))
        from engine.nlu.intent import LinearHead

        head = LinearHead.load(folder, checksums="skip")  # verified above, with the whole folder
        if meta.get("objective") == "contrastive":
            encoder = folder / "model"
            return cls(meta, head=head, _embedder=tuned_encoder(encoder, owner=folder), _encoder=encoder)
        if not meta.get("embedder"):
            raise ModelError(f"{folder}: no embedder recorded in meta.json; retrain with `shopassist nlu train`")
        return cls(meta, head=head)


ENSEMBLE_SPEC = "ensemble.json"  # a contrastive model's tuned parts (model/part0, model/part1...) and weights


def tuned_encoder(folder: Path, *, owner: Path | None = None, part: bool = False) -> Any:
    """The embedder of a contrastive model's ``model/`` folder: a tuned sentence-transformers
    encoder, a tuned E5 (:mod:`knowledge.e5_torch`), or an ensemble of those (``ensemble.json``,
    whose parts are its own ``partN`` sub-folders: never nested ensembles, never links out)."""
    import re

    from knowledge.e5_onnx import is_tuned_folder
    from knowledge.embedders import E5Embedder, SentenceTransformerEmbedder

    where = owner or folder.parent
    spec = folder / ENSEMBLE_SPEC
    if spec.is_file() and not part:
        from knowledge.ensemble import EnsembleEmbedder, check_weights

        try:
            doc = json.loads(spec.read_text(encoding="utf-8"))
            parts = [(str(p["folder"]), float(p["weight"])) for p in doc["parts"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{where}: unreadable {ENSEMBLE_SPEC} in model/ ({exc})") from exc
        inside = folder.resolve()
        bad = [name for name, _ in parts if not re.fullmatch(r"part\d{1,2}", name)
               or (folder / name).resolve().parent != inside]
        if bad or not parts:
            raise ModelError(f"{where}: {ENSEMBLE_SPEC} names no parts or foreign folders: {bad[:3]}")
        try:
            check_weights(parts)
        except ValueError as exc:
            raise ModelError(f"{where}: {ENSEMBLE_SPEC}: {exc}") from exc
        return EnsembleEmbedder([(tuned_encoder(folder / name, owner=where, part=True), w) for name, w in parts])
    if is_tuned_folder(folder):  # built directly, not through build_embedder's reading of names
        return E5Embedder(tuned=folder, cache_size=0)
    if (folder / "config.json").exists() and not (folder / ENSEMBLE_SPEC).exists():
        return SentenceTransformerEmbedder(str(folder), cache_size=0)
    raise ModelError(f"{where}: no tuned encoder in model/; retrain it with "
                     "`shopassist nlu train --mode finetune --objective contrastive`")


def check_ensemble_base(model: str) -> list[tuple[str, float]] | None:
    """An ``ensemble(...)`` base model's ``(part, weight)`` pairs, checked before any part is tuned
    (None for a single model): two parts at least, weights finite and > 0, each part a model the
    contrastive stage tunes (no nested ensembles, no ``hash`` or ``tfidf``)."""
    from knowledge.embedders import ensemble_parts
    from knowledge.ensemble import check_weights

    parts = ensemble_parts(model)
    if parts is None:
        return None
    check_weights(parts)  # what EnsembleEmbedder would refuse, before any part is tuned
    for name, _ in parts:
        if name.startswith(("ensemble(", "hash")) or name == "tfidf":
            raise ValueError(f"ensemble part {name!r} is not an encoder the contrastive stage can tune")
    return parts


def _is_contrastive(config: Any) -> bool:
    from engine.nlu.contrastive import ContrastiveConfig

    return isinstance(config, ContrastiveConfig)


def _copy_folder(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` through a temporary sibling, so a half-written copy never replaces it."""
    import shutil

    if Path(src).resolve() == Path(dst).resolve():
        return
    tmp = dst.with_name(dst.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    if dst.exists():
        shutil.rmtree(dst)
    tmp.rename(dst)


def _say(msg: str, progress: bool) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


def _head_path(x, y, decays, *, max_iter, seed):
    """``(weight decay, head)`` along the regularisation path, each fit warm-started from the last."""
    from engine.nlu.intent import train_linear_head

    init = None
    for wd in decays:
        init = train_linear_head(x, y, max_iter=max_iter, weight_decay=wd, seed=seed, init=init)
        yield wd, init


def _fit_head_path(xtr, ytr, xva, yva, decays, *, max_iter, seed, progress):
    best, scores = None, {}
    for wd, head in _head_path(xtr, ytr, decays, max_iter=max_iter, seed=seed):
        f1 = macro_f1(yva, [head.labels[i] for i in head.probabilities(xva).argmax(1)]) if len(yva) else 0.0
        scores[wd] = round(f1, 4)
        _say(f"  weight_decay {wd:g}: validation macro-F1 {f1:.4f}", progress)
        if best is None or f1 > best[0] + 1e-9:
            best = (f1, wd, head)
    return best, scores


def _validated_head(xf, fy, xv, vy, vin, decays, *, max_iter, seed, progress):
    """A head over fit rows ``xf``, its L2 strength chosen on the in-scope validation rows (``vin``):
    ``(wd, scores, head, probs, logits)``, the last two over every validation row."""
    (_, wd, head), scores = _fit_head_path(xf, fy, xv[vin], [vy[i] for i in vin], decays,
                                           max_iter=max_iter, seed=seed, progress=progress)
    return wd, scores, head, head.probabilities(xv), head.logits(xv)


def _energy_choice(head, logits, vy, oos_label, progress) -> tuple[np.ndarray, dict[str, Any]]:
    """The validation rows' energy at the temperature chosen on them, and the meta entries saying so."""
    temp, ratings = choose_energy_temperature(logits, head.labels, vy, oos_label)
    if ratings:
        _say(f"energy temperature {temp:g} (mean in-scope accuracy at 0.80-0.95 OOS recall on validation: "
             + ", ".join(f"T {k} {v:.4f}" for k, v in ratings.items()) + ")", progress)
    return energy(logits, temp), {"energy_temperature": temp, "energy_temperature_ratings": ratings}


def one_se_choice(decays: Sequence[float], fold_scores: dict[float, list[float]]) -> float:
    """The strongest L2 whose mean cross-validated score is within one standard error of the best
    mean (the one-standard-error rule): where the curve is flat, the argmax is decided by noise,
    and strengths the folds cannot tell apart are settled in favour of the simpler model.
    ``decays`` run from the strongest; a strength with no fold scores is never chosen."""
    means = {wd: float(np.mean(v)) for wd, v in fold_scores.items() if v}
    if not means:
        raise ValueError("no cross-validation scores to choose from")
    best = max(means, key=lambda wd: (means[wd], -list(decays).index(wd)))
    runs = fold_scores[best]
    se = float(np.std(runs, ddof=1) / np.sqrt(len(runs))) if len(runs) > 1 else 0.0
    return next(wd for wd in decays if wd in means and means[wd] >= means[best] - se)


def _cross_validate_head(x, y, decays, *, folds, max_iter, seed, progress):
    """Choose the L2 strength by k-fold cross-validation: ``(wd, scores, oof_probs, oof_energy)``.

    Each fold fits the whole regularisation path (warm-started). ``oof_probs`` holds, for every row,
    the top class's probability from the fold that did not see it, at the chosen strength (the other
    classes' share is left at 0: the threshold and the metrics read only the top class), in the
    columns of ``sorted(set(y))``; only the top class and scores are kept per strength, so memory
    stays at a few numbers per row whatever the number of labels.
    """
    labels = tuple(sorted(set(y)))
    col = {lab: j for j, lab in enumerate(labels)}
    fold_of = stratified_folds(y, folds, seed=seed)
    yarr = np.asarray(y, dtype=object)
    top = {wd: np.zeros(len(y), dtype=np.int32) for wd in decays}
    top_p = {wd: np.zeros(len(y), dtype=np.float32) for wd in decays}
    oof_energy = {wd: np.zeros(len(y), dtype=np.float64) for wd in decays}
    f1s: dict[float, list[float]] = {wd: [] for wd in decays}
    for f in range(folds):
        held, fit = np.flatnonzero(fold_of == f), np.flatnonzero(fold_of != f)
        if len(held) == 0 or len(set(yarr[fit])) < 2:
            continue
        for wd, head in _head_path(x[fit], list(yarr[fit]), decays, max_iter=max_iter, seed=seed):
            p = head.probabilities(x[held])
            best_i = p.argmax(1)
            top[wd][held] = [col[head.labels[i]] for i in best_i]
            top_p[wd][held] = p.max(1)
            oof_energy[wd][held] = energy(head.logits(x[held]))
            f1s[wd].append(macro_f1(list(yarr[held]), [head.labels[i] for i in best_i]))
        _say(f"  fold {f + 1}/{folds} done", progress)
    scores = {wd: round(float(np.mean(v)), 4) if v else 0.0 for wd, v in f1s.items()}
    for wd in decays:
        _say(f"  weight_decay {wd:g}: cross-validated macro-F1 {scores[wd]:.4f}", progress)
    best = one_se_choice(decays, f1s)
    probs = np.zeros((len(y), len(labels)), dtype=np.float32)
    probs[np.arange(len(y)), top[best]] = top_p[best]
    return best, scores, probs, oof_energy[best]


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
    folds: int = DEFAULT_FOLDS,
    max_iter: int = 300,
    seed: int = 13,
    in_scope_keep: float = 0.97,
    min_oos_recall: float | None = DEFAULT_MIN_OOS_RECALL,
    finetune_config: Any = None,
    progress: bool = True,
) -> TextModel:
    """Train a classifier on ``texts``/``labels`` (rows labelled ``oos_label`` are never trained on)."""
    if mode not in ("head", "finetune"):
        raise ValueError(f"mode must be 'head' or 'finetune', got {mode!r}")
    _check_threshold_settings(in_scope_keep, min_oos_recall)  # before any training, not after
    keep = [i for i, lab in enumerate(labels) if lab != oos_label]
    tx, ty = [texts[i] for i in keep], [labels[i] for i in keep]
    if len(set(ty)) < 2:
        raise ValueError(f"need at least two labels to train{f' besides {oos_label!r}' if oos_label else ''}")
    carved = valid_texts is None
    cross = carved and mode == "head" and embedder != "tfidf" and folds >= 2
    if cross:  # every row trains and every row validates (out of fold)
        vx, vy = list(tx), list(ty)
        fx, fy = list(tx), list(ty)
    elif carved:
        tr, va = carve_validation(ty, seed=seed)
        vx, vy = [tx[i] for i in va], [ty[i] for i in va]
        fx, fy = [tx[i] for i in tr], [ty[i] for i in tr]
    else:
        vx, vy = list(valid_texts), list(valid_labels or [])
        fx, fy = tx, ty
    seen = set(fy)
    conf = None  # the OOS score of the validation rows when it is not the top probability (energy heads)
    vin = [i for i, g in enumerate(vy) if g in seen]  # rows a classifier can get right
    t0 = time.perf_counter()
    meta: dict[str, Any] = {"task": task, "mode": mode, "oos_label": oos_label,
                            "train_rows": len(tx), "train_data_sha256": data_digest(texts, labels),
                            "validation": (f"{folds}-fold cross-validation on train" if cross
                                           else "carved 10% of train" if carved else "given")}
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
        if cross:
            _say(f"training the head ({len(ty)} rows, {len(seen)} labels), choosing weight decay by "
                 f"{folds}-fold cross-validation...", progress)
            # probs' columns are sorted(set(ty)): the final head's labels, in its order
            wd, scores, probs, conf = _cross_validate_head(xtx, ty, tuple(decays), folds=folds,
                                                           max_iter=max_iter, seed=seed, progress=progress)
            from engine.nlu.intent import train_linear_head

            head = train_linear_head(xtx, ty, max_iter=max_iter, weight_decay=wd, seed=seed)
        else:
            xf, xv = (xtx[tr], xtx[va]) if carved else (xtx, xall[len(tx):])
            _say(f"training the head ({len(fy)} rows, {len(seen)} labels), choosing weight decay on validation...", progress)
            wd, scores, head, probs, logits = _validated_head(xf, fy, xv, vy, vin, decays, max_iter=max_iter,
                                                              seed=seed, progress=progress)
            conf, chosen = _energy_choice(head, logits, vy, oos_label, progress)
            meta.update(chosen)
        meta.update(embedder=emb.name, weight_decay=wd, decay_scores={f"{k:g}": v for k, v in scores.items()},
                    oos_score="energy")
        model = TextModel(meta, head=head, _embedder=emb)
    elif _is_contrastive(finetune_config):
        import tempfile

        from engine.nlu.contrastive import contrastive_tune

        cfg = finetune_config
        tmp = tempfile.TemporaryDirectory(prefix="shopassist-encoder-")
        encoder = Path(tmp.name) / "model"
        vtx, vty = [vx[i] for i in vin], [vy[i] for i in vin]
        parts = check_ensemble_base(cfg.model)
        if parts is None:
            _say(f"contrastive stage: tuning {cfg.model} on {len(fy)} rows, {len(seen)} labels...", progress)
            report = contrastive_tune(fx, fy, vtx, vty, cfg, out=encoder, progress=progress)
        else:  # each part tuned on its own, the head over their weighted concatenation
            encoder.mkdir(parents=True)
            reports = []
            for i, (name, _) in enumerate(parts):
                _say(f"contrastive stage, part {i + 1} of {len(parts)}: tuning {name} on {len(fy)} rows, "
                     f"{len(seen)} labels...", progress)
                reports.append(contrastive_tune(fx, fy, vtx, vty, replace(cfg, model=name), out=encoder / f"part{i}",
                                                progress=progress))
            (encoder / ENSEMBLE_SPEC).write_text(json.dumps(
                {"parts": [{"folder": f"part{i}", "base_model": name, "weight": w} for i, (name, w) in enumerate(parts)]},
                indent=2), encoding="utf-8")
            report = {"config": asdict(cfg), "parts": reports, "train_s": round(sum(r["train_s"] for r in reports), 1),
                      "best_epoch": [r["best_epoch"] for r in reports], "history": [r["history"] for r in reports]}
        emb = tuned_encoder(encoder)
        _say(f"head stage: embedding {len(fx) + len(vx)} texts with the tuned encoder...", progress)
        xall = emb.embed(list(fx) + list(vx), kind="query")
        wd, scores, head, probs, logits = _validated_head(xall[:len(fx)], fy, xall[len(fx):], vy, vin, decays,
                                                          max_iter=max_iter, seed=seed, progress=progress)
        conf, chosen = _energy_choice(head, logits, vy, oos_label, progress)
        meta.update(chosen)
        meta.update(objective="contrastive", base_model=cfg.model, embedder=None, contrastive=report,
                    weight_decay=wd, decay_scores={f"{k:g}": v for k, v in scores.items()}, oos_score="energy")
        model = TextModel(meta, head=head, _embedder=emb, _encoder=encoder, _encoder_tmp=tmp)
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
        threshold, how = choose_threshold(probs, meta["labels"], vy, oos_label, in_scope_keep=in_scope_keep,
                                          min_oos_recall=min_oos_recall,
                                          confidence=conf)
    meta.update(threshold=threshold, threshold_choice=how)
    if carved and model.sparse is not None:  # refit on every row with the chosen strength
        from engine.nlu.sparse import train_tfidf_head

        model.sparse = train_tfidf_head(tx, ty, [], [], cs=(meta["C"],), progress=False)[0]
    elif carved and mode == "head" and not cross:  # (a contrastive model keeps its head: the encoder never saw the carve)
        from engine.nlu.intent import train_linear_head

        model.head = train_linear_head(xtx, ty, max_iter=max_iter, weight_decay=meta["weight_decay"],
                                       seed=seed, init=model.head)
    meta["train_s"] = round(time.perf_counter() - t0, 2)
    from engine.nlu.cli import metrics  # one metrics implementation for train and eval

    meta["valid"] = {k: v for k, v in metrics(vy, model.decide(probs, conf, oos_label=oos_label), oos_label).items() if k != "per_class"}
    return model
