"""Which items, which order: what a shopper's words point at among their own orders' lines.

"Just the headphones", "one of the two cases", "both", "all of it", "不要那个水壶", "the toaster
one": this module reads such words against the data of the orders themselves, never a list of
phrases. Each order line is described by its own words: the words of its name as the order
records it and, when the catalog has the product, its names in other languages, aliases, brand,
category and product type. A line is named when the text holds one of its words (English words
whole, plural or not; Chinese as the runs of its Chinese name, or their heads and stems of two
characters or more). "Keep X" / "X留着" excludes X; "all" / "both" / "全部" / "都" takes every line;
a number names how many units. Amounts written in the text ("got 979.99 back") find the order whose
total, line or refund it is.

Example:
    >>> lines = [ItemInfo("P1", "Aurora X200 Wireless Earbuds", 1), ItemInfo("P2", "Aurora X200 Charging Case", 2)]
    >>> pick_lines("return just the earbuds", lines).indexes
    (0,)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ItemInfo", "LinePick", "item_infos", "pick_lines", "mentions", "amounts_in", "says_all", "units_said"]

_WORD_RE = re.compile(r"[a-z][a-z0-9'-]*")
_CJK_RUN_RE = re.compile(r"[\u4e00-\u9fff]{2,}")
_AMOUNT_RE = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?![\d])")
# words that describe nothing by themselves (they come with many products, or only join words)
_STOP = frozenset({
    "the", "a", "an", "and", "or", "for", "with", "of", "in", "on", "to", "my", "your", "pro", "max", "mini", "plus",
    "air", "one", "set", "pack", "kit", "new", "edition", "series", "gen", "classic", "ultra", "lite", "s",
    "x", "v", "z", "it", "this", "that", "order", "item", "items", "thing", "things", "stuff", "default",
})
_ALL_RE = re.compile(r"\b(?:all|both|everything|every(?: single)? (?:item|thing|one)|whole (?:order|thing)|"
                     r"entire (?:order|thing)|all of (?:it|them)|the lot)\b|全部|所有|整单|都(?:要|不要|退|取消)|两个都|"
                     r"两样都|三样都|全都|一起退", re.IGNORECASE | re.ASCII)
_KEEP_RE = re.compile(r"\b(?:keep(?:ing)?|hold on to|hang on to|want to keep|(?:i'?ll|will) keep|not the)\b|"
                      r"留着|留下|保留|还要|不退|要留|我还要|继续要", re.IGNORECASE | re.ASCII)
_CLAUSE_SPLIT_RE = re.compile(r"[,，。;；!！?？]|\bbut\b|\bbut\b|\band keep\b|但是?|不过", re.IGNORECASE | re.ASCII)
_ORDER_CLAUSE_RE = re.compile(r"(?:那|这|那个|这个)(?:单|订单)$|的订单$|\border$|\border (?:with|of)\b", re.IGNORECASE | re.ASCII)
_CHANGE_VERB_RE = re.compile(r"\b(?:return|send|ship|refund|exchange|replace|cancel|drop|remove)", re.IGNORECASE | re.ASCII)
_COUNT_WORD_RE = re.compile(r"\b(one|two|three|a single|\d{1,2})\s+(?:of\s+)?(?:\w+\s+)?([a-z]+)", re.IGNORECASE | re.ASCII)
# "... from my last order", "... in order 100282": the order the items are in, said after them
_ORDER_TAIL_RE = re.compile(r"\s+(?:from|in|of|on)\s+(?:(?:my|the|that|this|our)\s+)?(?:[a-z]+\s+){0,3}?order"
                            r"(?:\s*(?:#|no\.?)?\s*\d+)?\s*$", re.IGNORECASE | re.ASCII)
_ONLY_RE = re.compile(r"\b(?:only|just|solely)\b|只|仅|就退", re.IGNORECASE | re.ASCII)
_NUMBER_WORDS = {"one": 1, "a single": 1, "single": 1, "two": 2, "three": 3, "四": 4, "一": 1, "两": 2, "二": 2,
                 "三": 3}
_ONE_OF_RE = re.compile(r"\b(one|two|three|\d+) (?:of (?:the|my|them|those)|unit|piece|pair)|"
                        r"\bthe (?:unopened|unused|unworn|sealed|other|new) (one)\b|"
                        r"(一|两|二|三|\d+)\s*(?:个|件|双|台|只|套|支|把|条|副|罐|盒|包|袋|瓶|张|本|块|盏|杯|壶|份|听|箱|卷)",
                        re.IGNORECASE | re.ASCII)


@dataclass(frozen=True)
class ItemInfo:
    """One order line as the matcher sees it.

    Attributes:
        product_id: the line's product.
        name: the name the order records.
        quantity: units of the line (that may be named now: for a return, those left to return).
        words: extra describing words (other-language names, aliases, category, type).
    """

    product_id: str
    name: str
    quantity: int = 1
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinePick:
    """What a text names among lines: ``indexes`` into them with ``quantities`` each (None: not
    said), ``all`` when it says every one, ``excluded`` the lines it keeps."""

    indexes: tuple[int, ...] = ()
    quantities: tuple[int | None, ...] = ()
    all: bool = False
    excluded: tuple[int, ...] = ()
    scores: dict[int, int] = field(default_factory=dict)


def _stem(word: str) -> str:
    w = word.lower().strip("'-")
    for suffix in ("ies", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            if suffix == "ies":
                return w[:-3] + "y"
            if suffix == "es":
                if w.endswith(("ses", "xes", "zes", "ches", "shes")) and not w.endswith(("cases", "uses")):
                    return w[:-2]  # boxes, watches, glasses (but cases, fuses: case, fuse)
                continue  # bottles, shoes, phones: only the "s" goes
            return w[:-1]
    return w


def _en_terms(text: str) -> set[str]:
    return {_stem(w) for w in _WORD_RE.findall(text.lower()) if w not in _STOP and len(w) > 1 and not w.isdigit()}


def _zh_terms(text: str) -> set[str]:
    """Runs of Chinese in a product's own words, and their heads and stems (two characters or more):
    "扫地机器人" gives 扫地机器人, 机器人, 器人, 扫地机, 扫地... (heads and stems are what people say)."""
    out: set[str] = set()
    for run in _CJK_RUN_RE.findall(text):
        out.add(run)
        for n in range(2, len(run)):
            out.add(run[-n:])
            out.add(run[:n])
    return out


def item_infos(order: Any, product: Callable[[str], Any] | None = None,
               quantities: dict[str, int] | None = None) -> list[ItemInfo]:
    """The order's lines with their describing words from the catalog (``product(id)`` gives a
    :class:`knowledge.graph.catalog.Product` or None); ``quantities`` overrides units per line."""
    out = []
    for item in order.items:
        words: list[str] = []
        p = product(item.product_id) if product is not None else None
        if p is not None:
            words += [p.name, getattr(p, "name_zh", "") or "", *getattr(p, "aliases", ()),
                      getattr(p, "category", "") or ""]
            for texts in (getattr(p, "translations", {}) or {}).values():
                words += [texts.get("name", ""), texts.get("category", "")]
            words.append(str(getattr(p, "product_type", "") or "").replace("_", " "))
        qty = (quantities or {}).get(item.product_id, item.quantity)
        out.append(ItemInfo(item.product_id, item.name, int(qty), tuple(w for w in words if w)))
    return out


def _line_terms(info: ItemInfo, brands: set[str]) -> tuple[set[str], set[str]]:
    text = " ".join((info.name, *info.words))
    en = {t for t in _en_terms(text) if t not in brands}
    return en, _zh_terms(text)


def _score(text: str, en_words: set[str], info_terms: tuple[set[str], set[str]], product_ids: Sequence[str],
           info: ItemInfo) -> int:
    if info.product_id in product_ids:
        return 100
    en, zh = info_terms
    score = len(en_words & en) * 10
    if not score:  # "watch" for a smartwatch, "bud" for earbuds: a word that ends one of the line's
        score = 5 * sum(1 for w in en_words if len(w) >= 4 and any(t.endswith(w) and t != w for t in en))
    best_zh = max((len(t) for t in zh if t in text), default=0)
    return score + best_zh * 5


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE_SPLIT_RE.split(text) if c and c.strip()]


def says_all(text: str) -> bool:
    """The text means every line ("both", "all of it", "全部", "都不要了")."""
    return bool(_ALL_RE.search(text))


def _quantity(clause: str) -> int | None:
    """The units a clause asks for: the last count it says ("两个保温杯退一个": one; "one of the two")."""
    m = None
    for m in _ONE_OF_RE.finditer(clause):
        pass
    if not m:
        return None
    word = (m.group(1) or m.group(2) or m.group(3) or "").lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word)


def units_said(text: str) -> int | None:
    """The units the words ask for when they name no line ("那没拆的那一罐呢": one), or None."""
    return _quantity(text)


def pick_lines(text: str, lines: Sequence[ItemInfo], product_ids: Sequence[str] = ()) -> LinePick:
    """The lines ``text`` names (see the module docstring); an empty pick when it names none."""
    if not lines:
        return LinePick()
    firsts = {_stem(w) for info in lines for w in _WORD_RE.findall(info.name.lower())[:1]}
    # a brand (first word) shared by every line names none of them; a brand of one line names it
    shared = firsts if len(firsts) <= 1 else set()
    terms = [_line_terms(info, shared) for info in lines]
    chosen: dict[int, int | None] = {}
    excluded: list[int] = []
    scores: dict[int, int] = {}
    only: set[int] = set()
    last: list[int] = []
    for clause in _clauses(text):
        items = _ORDER_TAIL_RE.sub("", clause)  # "just the tent from my last order": the tent
        if items == clause and _ORDER_CLAUSE_RE.search(clause):  # "游戏机水壶扫地机那单": describes the order, not the items
            continue
        clause = items
        low = clause.lower()
        words = _en_terms(low)
        found = {}
        for i, info in enumerate(lines):
            s = _score(low, words, terms[i], product_ids if len(_clauses(text)) == 1 else (), info)
            if s:
                found[i] = s
        if not found:
            # "…两个保温杯，想退一个" / "the two bottles, I only want to return one": a count
            # with nothing named is the count of what the clause before named
            qty = _quantity(clause)
            if qty is not None and last:
                for i in last:
                    chosen[i] = qty
            continue
        top = max(found.values())
        named = [i for i, s in found.items() if s == top]
        if _KEEP_RE.search(clause):
            excluded += [i for i in found if i not in excluded]
            continue
        qty = _quantity(clause)
        if qty is None and _CHANGE_VERB_RE.search(low):  # "return one bottle" (not "it has 2 cases"): a count before the line's word
            qty = next((_NUMBER_WORDS.get(m.group(1).lower()) or int(m.group(1)) for m in _COUNT_WORD_RE.finditer(low)
                        if any(_stem(m.group(2)) in terms[i][0] for i in named)
                        and not any(m.group(1) in re.findall(r"[a-z0-9]+", lines[i].name.lower()) for i in named)), None)
        for i in named:
            chosen.setdefault(i, qty)
            scores[i] = max(scores.get(i, 0), top)
        last = named
        if _ONLY_RE.search(clause):
            only.update(named)
    if only:  # "just the kettle" wins over the other lines named around it
        chosen = {i: q for i, q in chosen.items() if i in only}
    if not chosen and product_ids:
        for i, info in enumerate(lines):
            if info.product_id in product_ids and i not in excluded:
                chosen[i] = _quantity(text)
                scores[i] = 100
    everything = says_all(text) and not chosen
    if everything or (excluded and not chosen):
        chosen = {i: None for i in range(len(lines)) if i not in excluded}
    idx = tuple(sorted(i for i in chosen if i not in excluded))
    return LinePick(idx, tuple(chosen[i] for i in idx), everything, tuple(excluded), scores)


def mentions(text: str, lines: Sequence[ItemInfo], product_ids: Sequence[str] = ()) -> int:
    """How strongly ``text`` names any of ``lines`` (0: not at all): to find the order meant."""
    if not lines:
        return 0
    low = text.lower()
    words = _en_terms(low)
    terms = [_line_terms(info, set()) for info in lines]
    return max(_score(low, words, terms[i], product_ids, info) for i, info in enumerate(lines))


def amounts_in(text: str) -> list[float]:
    """Money amounts written in the text ("202.99", "$1,059.99", "170"), order ids excluded by the caller."""
    out = []
    for m in _AMOUNT_RE.finditer(text):
        whole = m.group(1).replace(",", "")
        if len(whole) >= 6 and not m.group(2):  # six digits and more: an id, not an amount
            continue
        out.append(float(f"{whole}.{m.group(2) or '0'}"))
    return out
