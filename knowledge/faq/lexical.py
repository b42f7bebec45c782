"""Lexical side of FAQ retrieval: analysers (English, Chinese) and a BM25 index on ``bm25s``.

English text is lower-cased, split into words, stripped of stop words and lightly stemmed
("returns" → "return", "shipping" → "ship"); Chinese text goes through jieba's search-mode
segmentation when jieba is installed (``pip install 'shopassist[zh]'``) and falls back to CJK
unigrams + bigrams otherwise, so Chinese retrieval works, only a little less sharply, without it.

:class:`BM25Index` wraps ``bm25s`` (sparse, fast, numpy) and adds what the FAQ retriever needs:
scores for every document, and an idf-weighted *coverage* in [0, 1] (the share of the query's
information that a document contains), which is bounded and therefore usable in a calibrated
answerability score, unlike raw BM25.

Example:
    >>> analyse("Returns of shipped items", "en")
    ['return', 'ship', 'item']
    >>> idx = BM25Index([analyse(t, "en") for t in ["free shipping", "return window"]])
    >>> int(idx.scores(analyse("shipping cost", "en")).argmax())
    0
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Collection, Sequence
from functools import lru_cache

import numpy as np

from knowledge.kernel.errors import KnowledgeError
from knowledge.kernel.text import EN_STOPWORDS, lexical_tokens

__all__ = ["analyse", "stem", "BM25Index", "jieba_available"]

_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# hyphenated prefixes shoppers write both ways ("pre-order" / "preorder")
_JOIN_RE = re.compile(r"\b(pre|re|back|e|co|non)[-\s](?=(order|stock|mail|turn|refundable|returnable)\b)")
_EXTRA_STOP = frozenset("i'm it's i'd i'll don't can't isn't doesn't didn't won't get got just want like".split())
_NEGATIONS = frozenset({"not", "no", "without"})  # "available" vs "not available" differ
_STOP = (EN_STOPWORDS | _EXTRA_STOP) - _NEGATIONS
_MAX_QUERY_TOKENS = 256  # a 100 KB "query" must not cost 100 KB of scoring


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English stemmer: plural, -ing and -ed endings (enough for FAQ matching)."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl, min_len in (
        ("ies", "y", 5), ("sses", "ss", 5), ("ss", "ss", 0), ("us", "us", 0), ("is", "is", 0),
        ("xes", "x", 4), ("ches", "ch", 5), ("shes", "sh", 5),
        ("ing", "", 6), ("ied", "y", 5), ("ed", "", 5), ("s", "", 4),
    ):
        if word.endswith(suffix) and len(word) >= min_len:
            base = word[: len(word) - len(suffix)] + repl
            if suffix in ("ing", "ed") and len(base) > 2 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # shipping → shipp → ship
            return base
    return word


_jieba = None
_jieba_checked = False


def jieba_available() -> bool:
    """Whether jieba (the ``zh`` extra) can be imported; checked once."""
    global _jieba, _jieba_checked
    if not _jieba_checked:
        _jieba_checked = True
        try:
            import jieba

            jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" chatter on stderr
            _jieba = jieba
        except ImportError:
            _jieba = None
    return _jieba is not None


def _zh_tokens(run: str) -> list[str]:
    if jieba_available():
        return [t for t in _jieba.lcut_for_search(run) if t.strip()]
    return lexical_tokens(run)  # CJK unigrams + bigrams


def analyse(text: str, lang: str = "en") -> list[str]:
    """Index/query terms of ``text``: stemmed English words and Chinese words (or n-grams)."""
    lowered = _JOIN_RE.sub(r"\1", text.lower())
    tokens = [stem(w) for w in _WORD_RE.findall(lowered) if w not in _STOP]
    for run in _CJK_RUN_RE.findall(lowered):
        tokens.extend(_zh_tokens(run))
    return tokens


class BM25Index:
    """BM25 (Lucene variant, via ``bm25s``) over pre-analysed documents.

    Args:
        docs: one token list per document (see :func:`analyse`).
        k1: term-frequency saturation.
        b: length normalisation.

    Example:
        >>> idx = BM25Index([["free", "ship"], ["return", "window"]])
        >>> idx.scores(["return"]).round(2).tolist()[0]
        0.0
    """

    def __init__(self, docs: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75) -> None:
        if k1 < 0 or not 0.0 <= b <= 1.0:
            raise ValueError(f"need k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        try:
            import bm25s
        except ImportError as exc:  # a core dependency; only a broken install gets here
            raise KnowledgeError("bm25s is missing: pip install bm25s") from exc
        # bm25s sets its own logger to DEBUG on import; let the application's level decide
        logging.getLogger("bm25s").setLevel(logging.NOTSET)
        self._n = len(docs)
        self._vocab: dict[str, int] = {}
        ids = [[self._vocab.setdefault(t, len(self._vocab)) for t in doc] for doc in docs]
        df = np.zeros(len(self._vocab), dtype=np.int64)
        for doc in ids:
            for t in set(doc):
                df[t] += 1
        self._idf = np.log(1.0 + (self._n - df + 0.5) / (df + 0.5)).astype(np.float32)
        self._unseen_idf = float(math.log(1.0 + (self._n + 0.5) / 0.5))
        self._doc_sets = [frozenset(doc) for doc in ids]
        self._bm25 = None
        if self._vocab and self._n:
            vocab = {t: i for t, i in self._vocab.items()}
            if "" not in vocab:
                vocab[""] = len(vocab)  # bm25s wants an empty token for empty documents
            self._bm25 = bm25s.BM25(k1=k1, b=b)
            self._bm25.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)

    def __len__(self) -> int:
        return self._n

    def _query_ids(self, query: Sequence[str]) -> list[int]:
        return [self._vocab[t] for t in dict.fromkeys(query[:_MAX_QUERY_TOKENS]) if t in self._vocab]

    def scores(self, query: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the analysed ``query`` (zeros when nothing matches)."""
        qids = self._query_ids(query)
        if not qids or self._bm25 is None:
            return np.zeros(self._n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(qids), dtype=np.float32)

    def coverage(
        self,
        query: Sequence[str],
        doc_ids: Sequence[int],
        extra: Sequence[Collection[str] | None] | None = None,
    ) -> np.ndarray:
        """idf-weighted share of the query's distinct terms found in each of ``doc_ids``, in [0, 1].

        Terms the index has never seen count against every document (they are information the
        store does not have), which is what makes this useful for answerability. ``extra``, one
        term set (or ``None``) per document, counts more terms as found in that document (an
        FAQ's alternate phrasings) without changing any idf, so documents without extra terms
        score exactly as they would without them.
        """
        terms = list(dict.fromkeys(query[:_MAX_QUERY_TOKENS]))
        out = np.zeros(len(doc_ids), dtype=np.float32)
        if not terms:
            return out
        weights = [(self._vocab.get(t), self._idf[self._vocab[t]] if t in self._vocab else self._unseen_idf)
                    for t in terms]
        total = float(sum(w for _, w in weights))
        for row, d in enumerate(doc_ids):
            present = self._doc_sets[d]
            more = extra[row] if extra is not None else None
            if more:
                out[row] = sum(w for t, (tid, w) in zip(terms, weights)
                               if (tid is not None and tid in present) or t in more) / total
            else:
                out[row] = sum(w for tid, w in weights if tid is not None and tid in present) / total
        return out
