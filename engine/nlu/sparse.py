"""Character n-gram TF-IDF features with a logistic-regression head (``--embedder tfidf``).

The default features for sentiment: review polarity lives in short character sequences
("不错", "太差", "not worth"), which n-grams of 1-3 characters catch better than a frozen sentence
embedding, and a linear head over sparse counts trains on a shop's whole review history on a CPU
(times and accuracy: benchmarks/README.md, NLU). The vocabulary, IDF
weights and coefficients are saved as JSON/NPZ (no pickles), so a model folder is data only.

Example:
    >>> head, c, scores = train_tfidf_head(texts, labels, vtexts, vlabels)   # doctest: +SKIP
    >>> head.probabilities(["质量很好，物流也快"]).argmax(1)                  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ModelError

__all__ = ["TfidfHead", "train_tfidf_head", "DEFAULT_CS"]

DEFAULT_CS = (1.0, 3.0, 10.0)
_DIRECT_MAX = 8  # up to this many texts, skip the vectorizer (its per-call overhead dominates)
_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's own pattern for the char analyzer
_VECTORIZER = {"analyzer": "char", "ngram_range": (1, 3), "sublinear_tf": True, "min_df": 2,
               "max_features": 300_000, "lowercase": True}


class TfidfHead:
    """A fitted TF-IDF vectorizer and softmax weights over its features."""

    def __init__(self, vectorizer: Any, coef: np.ndarray, intercept: np.ndarray, labels: Sequence[str]) -> None:
        self.vectorizer = vectorizer
        self.coef = np.asarray(coef, dtype=np.float32)  # (classes or 1, features)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.labels = tuple(labels)
        self.meta: dict[str, Any] = {}
        self._idf: np.ndarray | None = None

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if len(texts) <= _DIRECT_MAX and self._direct_ok():
            logits = np.stack([self._logits_one(t) for t in texts]) if texts else np.zeros((0, len(self.intercept)))
        else:
            x = self.vectorizer.transform(texts)
            logits = np.asarray(x @ self.coef.T) + self.intercept
        if logits.shape[1] == 1:  # binary: sklearn keeps one column for the second class
            logits = np.hstack([np.zeros_like(logits), logits])
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def _direct_ok(self) -> bool:
        """Whether :meth:`_logits_one` computes what the vectorizer would (its settings are ours)."""
        v = self.vectorizer
        return (v.analyzer == "char" and v.lowercase and v.sublinear_tf and v.use_idf and v.norm == "l2"
                and v.preprocessor is None and v.strip_accents is None and tuple(v.ngram_range) == (1, 3))

    def _logits_one(self, text: str) -> np.ndarray:
        """One text's logits without the vectorizer's per-call overhead (which dominates one text):
        the same character 1-3-grams (lower-cased, whitespace runs made one space), counts of the
        vocabulary's n-grams, ``1 + log(tf)`` times IDF, L2-normalised, then the weights."""
        vocab = self.vectorizer.vocabulary_
        if self._idf is None:
            self._idf = np.asarray(self.vectorizer.idf_, dtype=np.float64)
        t = _WHITE_SPACES.sub(" ", text.lower())
        counts: dict[int, int] = {}
        for n in (1, 2, 3):
            for i in range(len(t) - n + 1):
                j = vocab.get(t[i:i + n])
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
        if not counts:
            return self.intercept.astype(np.float64)
        idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
        w = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self._idf[idx]
        w /= np.sqrt((w * w).sum())
        return self.coef[:, idx].astype(np.float64) @ w + self.intercept

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        vocab = {term: int(i) for term, i in self.vectorizer.vocabulary_.items()}
        (folder / "vocabulary.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        tmp = folder / f"tfidf.npz.tmp{os.getpid()}.npz"
        np.savez(tmp, idf=self.vectorizer.idf_.astype(np.float32), coef=self.coef, intercept=self.intercept)
        os.replace(tmp, folder / "tfidf.npz")

    @classmethod
    def load(cls, folder: Path, labels: Sequence[str]) -> "TfidfHead":
        from sklearn.feature_extraction.text import TfidfVectorizer

        try:
            vocab = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
            with np.load(folder / "tfidf.npz") as z:
                idf, coef, intercept = z["idf"], z["coef"], z["intercept"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelError(f"{folder}: the TF-IDF model is missing or corrupt ({exc}); retrain it") from exc
        if len(idf) != len(vocab) or coef.shape[1] != len(vocab):
            raise ModelError(f"{folder}: the TF-IDF model is inconsistent (vocabulary vs weights); retrain it")
        vec = TfidfVectorizer(vocabulary=vocab, dtype=np.float32,
                              **{k: v for k, v in _VECTORIZER.items() if k not in ("min_df", "max_features")})
        vec.idf_ = idf.astype(np.float64)
        return cls(vec, coef, intercept, labels)


def train_tfidf_head(
    texts: Sequence[str],
    labels: Sequence[str],
    valid_texts: Sequence[str],
    valid_labels: Sequence[str],
    *,
    cs: Sequence[float] = DEFAULT_CS,
    progress: bool = True,
) -> tuple[TfidfHead, float, dict[float, float]]:
    """Fit the vectorizer on ``texts`` and choose the inverse L2 strength ``C`` on validation accuracy."""
    import sys

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(dtype=np.float32, **_VECTORIZER)
    try:
        x = vec.fit_transform(list(texts))
    except ValueError:  # every n-gram below min_df: a tiny training set
        vec = TfidfVectorizer(dtype=np.float32, **dict(_VECTORIZER, min_df=1))
        x = vec.fit_transform(list(texts))
    xv = vec.transform(list(valid_texts)) if len(valid_texts) else None
    clf = LogisticRegression(max_iter=2000, warm_start=True)
    best: tuple[float, float, np.ndarray, np.ndarray] | None = None
    scores: dict[float, float] = {}
    for c in cs:  # warm-started path over C
        clf.set_params(C=c)
        clf.fit(x, list(labels))
        acc = float(np.mean(clf.predict(xv) == np.asarray(valid_labels))) if xv is not None else 0.0
        scores[c] = round(acc, 4)
        if progress:
            print(f"  C {c:g}: validation accuracy {acc:.4f}", file=sys.stderr, flush=True)
        if best is None or acc > best[0] + 1e-9:
            best = (acc, c, clf.coef_.copy(), clf.intercept_.copy())
    assert best is not None
    head = TfidfHead(vec, best[2], best[3], [str(c) for c in clf.classes_])
    return head, best[1], scores
