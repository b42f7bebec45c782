"""Resolve what a shopper refers to against the entities in the conversation (its salience list).

A reference is resolved by what the store's own data says about each candidate, never by word lists
about particular products: each candidate (an order, a product) carries *descriptors* — its items'
names in every language the catalog has, brands, categories, status, price — and a turn's words are
weighed against them like a tiny search engine whose documents are the candidates. A word that
describes every candidate ("order", the one brand all of them share) tells nothing and weighs
nothing; a word only one candidate has ("laptop", "水壶") picks it.

Besides descriptions, three language-level forms are read here (they are about language, not about
a store): recency ("my most recent order", "上一单"), the last digits of an id ("尾号284",
"the one ending in 284") and comparison over the candidates ("the cheaper one", "便宜的那个", "the
other one").

Example:
    >>> cands = [Candidate("100311", "air fryer smart bulb 空气炸锅"), Candidate("100284", "sneakers 运动鞋")]
    >>> resolve_description("the sneakers one", cands).id
    '100284'
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from knowledge.kernel.text import EN_STOPWORDS

__all__ = [
    "Candidate",
    "Resolution",
    "descriptor_tokens",
    "resolve_description",
    "resolve_recency",
    "resolve_digits",
    "resolve_comparison",
    "resolve_other",
    "resolve_head",
    "resolve_characters",
    "describing_characters",
]

_WORD_RE = re.compile(r"[a-z][a-z0-9\-]*|\d+[a-z]+[a-z0-9]*")
_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# words that refer without describing: they never pick a candidate
_REFERRING = frozenset(
    "one ones order orders item items thing things stuff product products purchase purchases bought buy "
    "ordered got get the that this those these my mine which about with for please thanks want need "
    "still yet when what where how did does do is was are were arrive arrived deliver delivered "
    "delivery ship shipped shipping status track return cancel refund change address".split()
)
_ZH_REFERRING = frozenset(["订单", "那个", "这个", "那单", "这单", "一单", "个订", "单的", "买的", "的那",
                           "的订", "我的", "我买", "那件", "这件", "那款", "这款", "东西"])


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def descriptor_tokens(text: str) -> set[str]:
    """The describing tokens of ``text``: English word stems (stop words and referring words out)
    and Chinese character bigrams (single characters only for one-character runs)."""
    lowered = text.lower()
    words = [w for w in _WORD_RE.findall(lowered) if w not in EN_STOPWORDS and w not in _REFERRING]
    out = {_stem(w) for w in words}
    # "-ies" is "-y" (batteries) or "-ie" (hoodies, cookies): both forms, whichever the catalog writes
    out.update(w[:-1] for w in words if len(w) > 4 and w.endswith("ies"))
    for run in _CJK_RUN_RE.findall(lowered):
        if len(run) == 1:
            continue
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return {t for t in out if t not in _ZH_REFERRING}


@dataclass(frozen=True)
class Candidate:
    """One entity in the salience list: its id and the text that describes it."""

    id: str
    text: str
    tokens: frozenset[str] = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        if not self.tokens:
            object.__setattr__(self, "tokens", frozenset(descriptor_tokens(self.text)))


@dataclass(frozen=True)
class Resolution:
    """The candidate a turn refers to and how it was found (``by``: description, recency, digits,
    comparison, other)."""

    id: str
    by: str
    score: float = 1.0


def resolve_description(text: str, candidates: Sequence[Candidate], *, min_score: float = 0.5) -> Resolution | None:
    """The one candidate the words of ``text`` describe best, or None when none or several tie."""
    best = described(text, candidates, min_score=min_score)
    if len(best) != 1:
        return None
    return Resolution(best[0][0], "description", round(best[0][1], 3))


def described(text: str, candidates: Sequence[Candidate], *, min_score: float = 0.5) -> list[tuple[str, float]]:
    """``(id, score)`` of the candidates the words of ``text`` describe best (several when they tie:
    "my air fryer" with two air fryer orders); empty when none is described well enough."""
    if len(candidates) == 0:
        return []
    words = descriptor_tokens(text)
    if not words:
        return []
    n = len(candidates)
    df = Counter(t for c in candidates for t in c.tokens & words)
    scores = []
    for c in candidates:
        s = sum(math.log((n + 1) / df[t]) for t in c.tokens & words if df[t] < n or n == 1)
        scores.append(s)
    best = max(scores)
    if best < min_score:
        return []
    return [(c.id, best) for c, s in zip(candidates, scores) if s == best]


_RECENT_RE = re.compile(
    r"\b(?:(?:my |the )?(?:most recent|latest|newest|last|recent)(?: one| order| purchase| thing| item)?(?!s\b| orders)"
    r"|(?:the )?one i (?:just|last) (?:ordered|bought|got))\b"
    r"|最近(?:的|那|一|下|买)|最新|上一单|上一个订单|上个订单|刚(?:买|下|拍|订)|最后(?:一|那)",
    re.IGNORECASE,
)
_BEFORE_RE = re.compile(r"\b(?:the one before(?: that)?|previous one|the previous order|second(?:-| )?(?:most )?"
                        r"(?:recent|latest|last))\b|上上(?:一?单|个)|倒数第二", re.IGNORECASE)
_LAST_OF_LIST_RE = re.compile(r"\b(?:last one|last order)\b", re.IGNORECASE)


def resolve_recency(text: str, newest_first: Sequence[str]) -> Resolution | None:
    """"my latest order" → the newest id, "the one before" → the second newest (``newest_first`` is
    the customer's orders by date, newest first)."""
    if not newest_first:
        return None
    if _BEFORE_RE.search(text):
        return Resolution(newest_first[1], "recency") if len(newest_first) > 1 else None
    if _RECENT_RE.search(text):
        return Resolution(newest_first[0], "recency")
    return None


_DIGITS_RE = re.compile(
    r"(?:尾号|末尾|后\s*[三四五3-5]\s*位|结尾(?:是)?|ending(?: in| with)?|ends? (?:in|with)|last (?:\w+ )?digits?"
    r"(?: are| is)?|the)\s*[:：是为]?\s*(\d{2,6})(?!\d)", re.IGNORECASE)
_BARE_DIGITS_RE = re.compile(r"(?<![\d.$¥€£])(\d{3,5})(?![\d.])\s*(?:那个|那单|那笔|的那个|one\b|order\b)?",
                             re.IGNORECASE)


def resolve_digits(text: str, ids: Sequence[str], *, bare: bool = False) -> Resolution | None:
    """"尾号284", "the one ending in 284" → the one id ending in those digits. With ``bare``, a lone
    three-to-five-digit number that ends exactly one id counts too (an answer to "which order?")."""
    matches = [m.group(1) for m in _DIGITS_RE.finditer(text)]
    if bare and not matches:
        matches = [m.group(1) for m in _BARE_DIGITS_RE.finditer(text)]
    for digits in matches:
        hits = [i for i in ids if re.sub(r"\D", "", i).endswith(digits) and re.sub(r"\D", "", i) != digits]
        if len(hits) == 1:
            return Resolution(hits[0], "digits")
    return None


_UNIT = r"(?:one|ones|option|model|pair|order|of (?:the|them|those|these))"
_CHEAPER_RE = re.compile(r"\b(?:cheaper|less expensive|lower[- ]priced) " + _UNIT + r"\b|(?:更)?便宜(?:点|一点|些)?的?(?:那|这)"
                         r"(?:个|款|台|双|件|单|笔)", re.IGNORECASE)
_CHEAPEST_RE = re.compile(r"\b(?:cheapest|least expensive|cheap|budget|lowest[- ]priced) " + _UNIT
                          + r"\b|最便宜|便宜的那|价格低的那", re.IGNORECASE)
_DEARER_RE = re.compile(r"\b(?:pricier|more expensive|dearer|higher[- ]priced) " + _UNIT + r"\b|(?:更)?贵(?:点|一点|些)?的?"
                        r"(?:那|这)(?:个|款|台|双|件|单|笔)", re.IGNORECASE)
_DEAREST_RE = re.compile(r"\b(?:priciest|most expensive|expensive|premium|highest[- ]priced|big|bigger) " + _UNIT
                         + r"\b|最贵|贵的那", re.IGNORECASE)


_SUPERLATIVE_RE = re.compile(r"\b(?:cheapest|priciest|least expensive|most expensive|lowest|highest)\b|最",
                             re.IGNORECASE)


def resolve_comparison(text: str, prices: dict[str, float], current: str | None = None) -> Resolution | None:
    """"the cheaper one" / "贵的那个" over the entities in the conversation (id → price or total).

    A comparative ("the cheaper one") is relative to the one in focus (``current``): the nearest
    price on that side of it; a superlative ("the cheapest", "the expensive one") is over them all.
    """
    if len(prices) < 2:
        return None
    others = {i: v for i, v in prices.items() if i != current}
    superlative = bool(_SUPERLATIVE_RE.search(text))  # "最贵的那个" is over them all, not the next one up
    if current in prices and not superlative and (_CHEAPER_RE.search(text) or _DEARER_RE.search(text)):
        cheaper = bool(_CHEAPER_RE.search(text))
        side = {i: v for i, v in others.items() if (v < prices[current] if cheaper else v > prices[current])}
        if side:
            pick = max(side, key=side.get) if cheaper else min(side, key=side.get)
            return Resolution(pick, "comparison")
    if _CHEAPEST_RE.search(text) or _CHEAPER_RE.search(text):
        return Resolution(min(prices, key=lambda i: prices[i]), "comparison")
    if _DEAREST_RE.search(text) or _DEARER_RE.search(text):
        return Resolution(max(prices, key=lambda i: prices[i]), "comparison")
    return None


_OTHER_RE = re.compile(r"\bthe other (?:one|order|model|pair|option)\b|\bthe other\b(?! \w+ \w+)|"
                       r"\b(?:other|different) (?:one|order)\b|另(?:一|外)(?:个|款|单|笔|一个|那个|台|双)|另外那",
                       re.IGNORECASE)


def resolve_other(text: str, salient: Sequence[str], current: str | None) -> Resolution | None:
    """"the other one" / "另一个": the salient entity that is not the current one, when exactly one is."""
    if not _OTHER_RE.search(text) or current is None:
        return None
    others = [i for i in dict.fromkeys(salient) if i != current]
    return Resolution(others[0], "other") if len(others) == 1 else None


# a demonstrative and the noun it points with: "this case", "that cable", "这个盒子", "那条"
_EN_HEAD_RE = re.compile(r"\b(?:this|that|these|those)\s+([a-z][a-z\-]{2,})", re.IGNORECASE)
_ZH_HEAD_RE = re.compile(r"[这那](?:个|款|台|双|件|条|只|副|块|把|套|根|部|张|本)?([\u4e00-\u9fff]{1,3})")
# characters that end a Chinese noun without describing it (盒子, 壶儿) or join it to what follows
_ZH_HEAD_NOISE = frozenset("子儿的是么呢吗能可还也都就我你他她它们")


def resolve_head(text: str, candidates: Sequence[tuple[str, str]]) -> Resolution | None:
    """The one candidate the noun after a demonstrative names ("this case", "这个盒子": the
    charging case, not the earbuds the same sentence mentions). ``candidates`` are ``(id, noun
    text)`` pairs: each candidate's names and category in every language the catalog has. None
    when no demonstrative points with a noun, or when the noun fits no candidate or several."""
    if len(candidates) < 2:
        return None
    scores: dict[str, int] = {}
    for m in _EN_HEAD_RE.finditer(text):
        head = _stem(m.group(1).lower())
        if head in _REFERRING or head in EN_STOPWORDS:
            continue
        for cid, nouns in candidates:
            if head in {_stem(w) for w in _WORD_RE.findall(nouns.lower())}:
                scores[cid] = scores.get(cid, 0) + 2
    for m in _ZH_HEAD_RE.finditer(text):
        chars = [c for c in m.group(1) if c not in _ZH_HEAD_NOISE]
        # the head noun is the first characters after the measure word (这个盒子充满: 盒, then 充)
        for weight, c in zip((2, 1, 1), chars):
            for cid, nouns in candidates:
                if c in nouns:
                    scores[cid] = scores.get(cid, 0) + weight
    if not scores:
        return None
    best = max(scores.values())
    winners = [cid for cid, s in scores.items() if s == best]
    if len(winners) != 1 or best < 2:
        return None
    return Resolution(winners[0], "head", float(best))


# Chinese characters that carry grammar or the talk about orders, not what an item is
_ZH_CHAR_NOISE = frozenset("的了吗呢吧啊呀嘛哦我你他她它们这那个是在有和就也都还要会能可以不没么什哪里儿子"
                           "单买到发送货快递订件款台双条只把给让被从对向到过着得地很太更最多少几吗么啥咋样呀")


_NOISE_SPLIT_RE = re.compile("[" + re.escape("".join(sorted(_ZH_CHAR_NOISE))) + "]+")


def describing_characters(text: str) -> frozenset[str]:
    """The Chinese characters of ``text`` that may describe something (grammar and order talk out)."""
    return frozenset(c for run in _CJK_RUN_RE.findall(text) for c in run if c not in _ZH_CHAR_NOISE)


def resolve_characters(text: str, candidates: Sequence[Candidate], *, min_score: float = 0.6) -> Resolution | None:
    """:func:`resolve_description` by single Chinese characters, for a short word the candidates'
    names hold only inside longer ones ("鞋子" and 跑鞋, "盒" and 充电盒): the fallback when no
    two-character word matched. The same weighing: a character every candidate has tells nothing."""
    words = describing_characters(text)
    if not words or len(candidates) == 0:
        return None
    # the words the text is made of (runs between grammar characters): a character counts only
    # where it makes up at least half of its word, so that "电" of 笔记本电脑 names no 电热水壶
    segments = [seg for run in _CJK_RUN_RE.findall(text) for seg in _NOISE_SPLIT_RE.split(run) if seg]

    def hits(own: frozenset[str]) -> frozenset[str]:
        out: set[str] = set()
        for seg in segments:
            found = [ch for ch in seg if ch in own]
            if len(found) * 2 >= len(seg):
                out.update(found)
        return frozenset(out)

    chars = [(c, hits(frozenset(ch for t in c.tokens for ch in t)) & words) for c in candidates]
    n = len(candidates)
    df = Counter(ch for _, hit in chars for ch in hit)
    scores = [sum(math.log((n + 1) / df[ch]) for ch in hit if df[ch] < n or n == 1) for _, hit in chars]
    best = max(scores)
    winners = [c for (c, _), sc in zip(chars, scores) if sc == best]
    if best < min_score or len(winners) != 1:
        return None
    return Resolution(winners[0].id, "description", round(best, 3))
