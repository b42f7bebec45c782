"""Fuzzy matching of product aliases in text, for typos the exact alias pass misses.

A run of the text's Latin words is squashed (spaces removed: "trailrunner5", "aurrax200") and
compared with each squashed alias by :class:`difflib.SequenceMatcher` ratio. Guards keep ordinary
sentences from turning into products: the alias and the run must start with the same letter, carry
exactly the same digit groups (model numbers are never "close enough"), be at least
``min_len`` characters long, and the run must neither start nor end with a function word nor consist
only of ordinary words. Overlapping matches keep the one with the most characters matched.

Example:
    >>> m = FuzzyAliasMatcher([("trailrunner 5", "P1003")])
    >>> m.match(" my trailrunnr 5 shoes ")
    [(4, 'P1003')]
"""

from __future__ import annotations

import re
from collections import defaultdict
from difflib import SequenceMatcher

__all__ = ["FuzzyAliasMatcher", "COMMON_WORDS"]

_TOKEN_RE = re.compile(r"[0-9a-z]+")
_SPLIT_POOL = 2000
_DIGITS_RE = re.compile(r"\d+")

# function words: a matched run never starts or ends with one
_FUNCTION_WORDS = frozenset(
    "a an the my your our their his her its this that these those i you he she we they me us them it "
    "to of in on at for with by from and or but if so as is are was were be been am do does did "
    "have has had can could will would should may might not no yes please thanks thank hi hello hey "
    "what when where which who why how there here".split()
)
# ordinary words of customer-service talk: a run made only of these (and numbers) is never a product
COMMON_WORDS = _FUNCTION_WORDS | frozenset(
    "want need like get got buy bought order orders ordered return returned returns refund refunds "
    "cancel cancelled exchange replace replacement deliver delivery delivered shipping ship shipped "
    "package parcel track tracking status address change changed payment pay paid card money price "
    "cost costs dollars help support service agent human person talk speak call email phone number "
    "account login password coupon discount code sale item items product products thing stuff "
    "arrived arrive broken damaged wrong missing late still yet today tomorrow week weeks day days "
    "time hour hours long much many more less some any all one two three four five six seven eight "
    "nine ten quite very really just also only about again back new old good bad great fine ok okay "
    "sure right left make made take took send sent give gave know think see look looking find found "
    "work works working use used using size color colour store shop online website app question "
    "problem issue wait waiting still since ago last first second next store receipt invoice "
    "tell show check let gift box bag free fast slow big small".split()
)


def _squash(tokens: list[str]) -> str:
    return "".join(tokens)


def _entry(alias: str, pid: str, min_len: int) -> tuple[str, int, tuple[str, ...], str] | None:
    """``(squashed alias, word count, digit groups, product id)``; None for an alias left to the exact pass."""
    tokens = _TOKEN_RE.findall(alias)
    squashed = _squash(tokens)
    # Chinese or mixed aliases are left to the exact pass
    if len(squashed) < min_len or len(" ".join(tokens)) != len(alias.strip()):
        return None
    return squashed, len(tokens), tuple(_DIGITS_RE.findall(squashed)), pid


class FuzzyAliasMatcher:
    """Finds near-miss alias mentions; ``match`` returns ``(offset, product_id)`` pairs.

    Args:
        aliases: ``(normalised alias, product id)`` pairs (Chinese aliases are ignored).
        threshold: the similarity ratio a match needs (0.5-1).
        min_len: squashed aliases shorter than this are not fuzzy-matched (one typo in "x200" is
            another model, not a typo).
    """

    def __init__(self, aliases: list[tuple[str, str]], *, threshold: float = 0.85, min_len: int = 6,
                 entries: dict | None = None) -> None:
        if not 0.5 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [0.5, 1], got {threshold}")
        if min_len <= 0:
            raise ValueError(f"min_len must be > 0, got {min_len}")
        self._threshold = threshold
        # pools by first letter and digit groups (both must agree anyway); a large catalog's pools
        # (thousands of aliases per letter) are split further by the first two letters
        self._by_first: dict[tuple[str, tuple[str, ...]], list[tuple[str, int, tuple[str, ...], str]]] = defaultdict(list)
        self._by_two: dict[tuple[str, tuple[str, ...]], list[tuple[str, int, tuple[str, ...], str]]] = defaultdict(list)
        self._letters: set[str] = set()
        self._max_tokens = 0
        if entries is not None and entries.get("min_len") == min_len and entries.get("count") == len(aliases):
            # a store build's reading of these same aliases (:meth:`entries_of`): no regex per alias
            kept = entries["kept"]
            tokens = entries["tokens"]
            digits = entries["digits"]
            found = [(aliases[k][0].replace(" ", ""), tokens[i], tuple(digits[i].split()) if digits[i] else (), aliases[k][1])
                     for i, k in enumerate(kept)]
        else:
            found = [e for alias, pid in aliases if (e := _entry(alias, pid, min_len)) is not None]
        by_first, by_two = self._by_first, self._by_two
        for entry in found:
            squashed = entry[0]
            by_first[(squashed[0], entry[2])].append(entry)
            by_two[(squashed[:2], entry[2])].append(entry)
        self._letters = {key[0] for key in by_first}
        self._max_tokens = max((e[1] for e in found), default=0)

    @staticmethod
    def entries_of(aliases: list[tuple[str, str]], *, min_len: int = 6) -> dict:
        """Which aliases a matcher keeps and how it reads them, as JSON data (a store build saves it;
        ``entries=`` takes it back for the same aliases)."""
        kept, tokens, digits = [], [], []
        for k, (alias, pid) in enumerate(aliases):
            entry = _entry(alias, pid, min_len)
            if entry is not None:
                kept.append(k)
                tokens.append(entry[1])
                digits.append(" ".join(entry[2]))
        return {"min_len": min_len, "count": len(aliases), "kept": kept, "tokens": tokens, "digits": digits}

    def match(self, norm: str) -> list[tuple[int, str]]:
        """Fuzzy alias hits in normalised text (as the linker normalises it), best first per span."""
        spans = [(m.group(), m.start()) for m in _TOKEN_RE.finditer(norm)][:200]
        tokens = [t for t, _ in spans]
        candidates: list[tuple[float, int, int, str]] = []
        thr = self._threshold
        for i, first in enumerate(tokens):
            if first in _FUNCTION_WORDS or first[0] not in self._letters:
                continue
            for j in range(i + 1, min(i + self._max_tokens + 1, len(tokens)) + 1):
                window = tokens[i:j]
                if window[-1] in _FUNCTION_WORDS:
                    continue
                if all(t in COMMON_WORDS or t.isdigit() for t in window):
                    continue
                text = _squash(window)
                digits = tuple(_DIGITS_RE.findall(text))
                pool = self._by_first.get((first[0], digits), ())
                if len(pool) > _SPLIT_POOL:
                    pool = self._by_two.get((text[:2], digits), ())
                for squashed, n_tokens, alias_digits, pid in pool:
                    if abs(n_tokens - len(window)) > 1 or alias_digits != digits:
                        continue
                    la, lw = len(squashed), len(text)
                    if 2 * min(la, lw) / (la + lw) < thr:  # the best ratio these lengths allow
                        continue
                    sm = SequenceMatcher(None, text, squashed, autojunk=False)
                    if sm.quick_ratio() < thr:
                        continue
                    score = sm.ratio()
                    if score >= thr:
                        # rank by characters matched, so "aurora x200 cse" -> the case beats an
                        # exact "aurora x200" inside it, as the longest alias wins in the exact pass
                        candidates.append((score * (la + lw) / 2, i, j, pid))
        taken: list[tuple[int, int]] = []
        hits: list[tuple[int, str]] = []
        for _, i, j, pid in sorted(candidates, key=lambda c: (-c[0], -(c[2] - c[1]), c[1])):
            if any(i < tj and ti < j for ti, tj in taken):
                continue
            taken.append((i, j))
            hits.append((spans[i][1], pid))
        return sorted(hits)
