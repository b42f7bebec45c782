"""Spelling against the store's own vocabulary: "wheres my secuirty camra" reads "security camera".

Shoppers misspell the words that matter most to a store (its product kinds, brands, policies:
"warrenty", "recieve", "camra"), and a misspelt word matches nothing: no product, no order item,
no FAQ term, so a clear request reads as small talk. A word is corrected only when

- it is Latin letters, four or more, and is neither one of the store's words nor a known word of
  the language (``known``: e.g. the whole-word entries of an English tokenizer's vocabulary), and
- exactly one store word is closest to it, within one edit (two for words of eight letters or
  more, then with the same first letter); edits are insertions, deletions, substitutions and swaps of
  neighbours. Of store words equally close, the one the store uses most wins; a tie stays a tie.

Nothing else changes: digits, e-mail addresses, Chinese, known words and the spacing around them.
Candidates come from precomputed deletions of the store's words (the SymSpell idea), worked out on
first need: a correction costs microseconds.

Example:
    >>> sp = Speller(["security", "camera", "warranty", "delivery"], known=["where", "my"])
    >>> sp.correct("wheres my secuirty camra")
    'wheres my security camera'
    >>> sp.correct("is it still under warrenty?")
    'is it still under warranty?'
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable

__all__ = ["Speller"]

_WORD_RE = re.compile(r"(?<![A-Za-z0-9@._-])[A-Za-z]{4,24}(?![A-Za-z0-9@_-])")
_MIN = 4


_SUFFIXES = ("iest", "ness", "ment", "able", "ing", "est", "ier", "ied", "ies", "ily", "ful", "es", "ed", "ly", "er",
             "s", "d", "y")


_CONTRACTIONS = ("nt", "ve", "re", "ll")


def _stems(word: str) -> set[str]:
    """What ``word`` may be an inflection of: "cheapest" → "cheap", "braided" → "braid", "wirelessly" →
    "wireless", "shipped" → "ship", "easily" → "easy" (a dictionary of whole words lacks most forms)."""
    out = set()
    for suffix in _CONTRACTIONS:  # chat drops the apostrophe: "cant", "wasnt", "theyve", "youre"
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            out |= {word[: -len(suffix)], word[: -len(suffix) + 1]}
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            out |= {stem, stem + "e", stem + "y"}
            if len(stem) >= 4 and stem[-1] == stem[-2]:
                out.add(stem[:-1])  # shipped, bigger
    return out


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))} - out
        out |= frontier
    return out


def _distance(a: str, b: str, limit: int) -> int:
    """Edits from ``a`` to ``b`` (insert, delete, substitute, swap neighbours); ``limit + 1`` once over."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class Speller:
    """Corrects misspelt words of a text to the store's words (see the module docstring).

    Args:
        words: the store's texts' words, repeated as often as the store uses them (or a function
            giving them: read on the first word that needs them, not at start-up).
        known: words of the language that are right as written even if the store never uses them.
    """

    def __init__(self, words: Iterable[str] | Callable[[], Iterable[str]], *, known: Iterable[str] = ()) -> None:
        self._words = words
        self._known = frozenset(w.lower() for w in known)
        self._counts: Counter[str] = Counter()
        self._index: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        self._built()
        return len(self._counts)

    def _built(self) -> dict[str, list[str]]:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    words = self._words() if callable(self._words) else self._words
                    self._counts = Counter(w.lower() for w in words if w.isascii() and w.isalpha() and len(w) >= _MIN)
                    index: dict[str, list[str]] = {}
                    for word in self._counts:
                        for d in _deletes(word, 2 if len(word) >= 7 else 1):
                            index.setdefault(d, []).append(word)
                    self._index = index
        return self._index

    def word(self, word: str) -> str | None:
        """The store word ``word`` stands for, or None (right as written, or no single closest)."""
        w = word.lower()
        if len(w) < _MIN or w in self._known or not w.isalpha():
            return None
        index = self._built()
        if w in self._counts or any(stem in self._known or stem in self._counts for stem in _stems(w)):
            return None  # a word of the store, or a form of a known word ("cheapest", "braided")
        limit = 1 if len(w) <= 7 else 2
        found: dict[str, int] = {}
        for d in _deletes(w, limit):
            for cand in index.get(d, ()):
                if cand not in found:
                    found[cand] = _distance(w, cand, limit)
        best = sorted((dist, -self._counts[c], c) for c, dist in found.items()
                      if dist <= limit and (dist == 1 or c[0] == w[0]))
        if not best or (len(best) > 1 and best[0][:2] == best[1][:2]):
            return None
        return best[0][2]

    def correct(self, text: str) -> str:
        """``text`` with each misspelt word replaced by its store word (lower case, as the store writes
        it); a capitalised word inside a sentence is a name ("Brattle St"), left as written."""
        def fix(m: re.Match[str]) -> str:
            w = m.group()
            if w[0].isupper() and not w.isupper() and m.start() > 0 and not re.search(r"[.!?]\s*$", text[:m.start()]):
                return w
            return self.word(w) or w

        return _WORD_RE.sub(fix, text)
