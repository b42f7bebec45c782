"""Product query understanding: what a shopper's sentence asks of the catalog, en + zh.

:func:`understand` reads a sentence with the store's :class:`~knowledge.graph.vocabulary.CatalogVocabulary`
and returns a :class:`ProductQuery`: the product types it names (the store's own categories and
name nouns, in every language the catalog has), a price range ("under $200", "200元以内", "between
50 and 100", "一百美元以内", "cheaper than <product>", "便宜点的" next to the product in context),
attribute constraints (a number with a unit bound to the attribute with that unit, "at least 20 h",
"2L以上"; yes/no features the store lists, "with noise cancelling", "带主动降噪"; values such as
colours and materials; water use -> the IP rating it needs), a brand, and an ordering ("cheapest",
"best rated", "longest battery", "最轻"). Nothing here names a product, brand or category: every
word comes from the catalog, the unit table or the ordering words.

Example:
    >>> q = understand("waterproof earbuds under $100, longest battery", "en", vocab)   # doctest: +SKIP
    >>> q.price_max, [c.key for c in q.attrs], q.order                               # doctest: +SKIP
    (100.0, ['water_resistance'], ('battery_life', 'desc'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .meaning import CN_NUMBER, UNITS, WATER_USES, cn_number, unit_of, water_use
from .vocabulary import CatalogVocabulary, is_size_attribute, norm_words

__all__ = ["AttrConstraint", "ProductQuery", "understand", "comparison_key", "asked_dimension", "COMPARATIVE_WORDS", "kind_of"]

_MAX_TEXT = 1000
_NUM = r"(\d+(?:\.\d+)?)"
_CUR_BEFORE = r"(?:\$|us\$|usd|¥|￥|€|£|rmb|cny)"
_CUR_AFTER = r"(?:dollars?|bucks|usd|euros?|pounds?|元|块钱?|美元|美金|刀|人民币|rmb|cny|yuan)"
_UNIT_ALT = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
_NUM_UNIT = re.compile(rf"{_NUM}\s*({_UNIT_ALT})(?![a-z])", re.IGNORECASE)
_LESS = r"(?:under|below|less than|cheaper than|lower than|at most|max(?:imum)?|up to|no more than|not more than|within|<=?|≤|不超过|低于|少于|不到|小于|不高于|最多|budget(?: is| of)?|预算(?:是|在|只有|有)?)"
_MORE = r"(?:over|above|more than|at least|min(?:imum)?|from|>=?|≥|超过|高于|大于|至少|不低于|不少于|起码|最少)"
_ABOUT = r"(?:about|around|roughly|approx(?:imately)?|~|budget(?: is| of)? (?:about|around)|预算(?:是|在)?(?:大概|大约))"
# a budget alone is the most the customer will pay ("预算是1300", "budget of 250"); "budget around 40" is about
_ZH_LESS_AFTER = r"(?:以内|以下|之内|内|封顶)"
_ZH_MORE_AFTER = r"(?:以上|起)"
_ZH_ABOUT_AFTER = r"(?:左右|上下)"
_BETWEEN = re.compile(rf"(?:between\s*)?{_CUR_BEFORE}?\s*{_NUM}\s*{_CUR_AFTER}?\s*(?:and|-|–|~|to|到|至)\s*"
                      rf"{_CUR_BEFORE}?\s*{_NUM}\s*({_CUR_AFTER}|{_UNIT_ALT})?(?![a-z0-9])", re.IGNORECASE)
_AMOUNT = re.compile(rf"({_LESS}|{_MORE}|{_ABOUT})?\s*({_CUR_BEFORE})?\s*{_NUM}\s*((?:{_CUR_AFTER}|{_UNIT_ALT})"
                     rf"(?![a-z])|[a-z]+)?\s*({_ZH_LESS_AFTER}|{_ZH_MORE_AFTER}|{_ZH_ABOUT_AFTER})?", re.IGNORECASE)
_PRICE_WORDS = re.compile(r"price|budget|cost|spend|cheap|expensive|afford|预算|价|钱|便宜|贵", re.IGNORECASE)
_CHEAPER = re.compile(r"cheaper|less expensive|比.{1,30}?便宜|lower price|more affordable|budget option|便宜(?:一?点|些)|更便宜|"
                      r"实惠一?点|价格低一?点", re.IGNORECASE)
_IN_STOCK = re.compile(r"in stock|available (?:now|today|right now)|ships? today|(?:can|could) (?:actually |really )?"
                       r"(?:buy|get|order) (?:it |one |them )?(?:today|now|right now)|right now|not sold out|"
                       r"有货|现货|现在(?:就)?能买|马上能买|今天能买|没(?:有)?卖完|没断货", re.IGNORECASE)
# superlatives: (pattern, direction, implied attribute: price | rating | a dimension | None)
_SUPERLATIVES: list[tuple[re.Pattern[str], str, str | None]] = [
    (re.compile(r"cheapest|least expensive|lowest price|最便宜|最实惠|价格最低", re.I), "asc", "price"),
    (re.compile(r"most expensive|priciest|最贵", re.I), "desc", "price"),
    (re.compile(r"best[- ]rated|highest[- ]rated|top[- ]rated|best reviewed|评分最高|评价最好|口碑最好|好评最多", re.I),
     "desc", "rating"),
    (re.compile(r"lightest|最轻", re.I), "asc", "mass"),
    (re.compile(r"heaviest|最重", re.I), "desc", "mass"),
    (re.compile(r"longest|most|biggest|largest|highest|strongest|brightest|best|maximum|最长|最久|最大|最高|最多|"
                r"最强|最亮|最好|最耐用", re.I), "desc", None),
    (re.compile(r"shortest|smallest|lowest|least|thinnest|最短|最小|最低|最少|最薄", re.I), "asc", None),
]
# a bound, no superlative: "at least 20 h", "at most $50", "最少3天", "最多200元"
_BOUND_WORDS = re.compile(r"\bat (?:the )?(?:least|most)\b|最(?:少|多)(?=\s*(?:要|得)?\s*[\d一二两三四五六七八九十百千])", re.I)
# a superlative that names its measure ("brightest": light), for catalogs whose label says it otherwise
_SUPERLATIVE_DIMENSIONS = [(re.compile(r"bright|最亮", re.I), "light"), (re.compile(r"strong|powerful|最强", re.I), "power"),
                           (re.compile(r"longest|最长|最久|耐用|lasting", re.I), "time"), (re.compile(r"big|large|最大|最多", re.I), "volume")]
_SMALL = re.compile(r"\bsmall(?:er)?\b|compact|mini\b|小一?点|小巧|小的|小型|迷你|宿舍", re.I)
_NOT_TOO_DEAR = re.compile(r"not too expensive|affordable|inexpensive|cheap\b|别太贵|不要太贵|便宜", re.I)


@dataclass(frozen=True)
class AttrConstraint:
    """One stated attribute requirement: ``key op value`` (``value`` in base units or a level)."""

    key: str
    op: str  # "<=", ">=", "==" (numbers, levels, yes/no as 1/0) or "in" (text values)
    value: float | str
    said: str = ""  # the words that stated it, for replies ("IPX7", "at least 20 h")
    dimension: str | None = None  # of a number with a unit ("capacity" in grams, not litres)


@dataclass
class ProductQuery:
    """What a product question asks: types, price range, attributes, brand, order."""

    text: str
    lang: str
    types: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    price_min: float | None = None
    price_max: float | None = None
    price_strict: bool = False  # price_max excluded ("cheaper than X")
    attrs: list[AttrConstraint] = field(default_factory=list)
    order: tuple[str, str] | None = None  # (price | rating | attribute key, asc | desc)
    in_stock: bool = False
    relative_to: str | None = None  # the product id a "cheaper" is relative to
    soft_order: tuple[str, str] | None = None  # a preference that only breaks ties ("small", "not too dear")
    within: tuple[str, ...] = ()  # only among these products ("which of those is cheapest")
    partial: bool = False  # the types come from a word that starts them ("coffee" -> coffee maker), not named

    @property
    def constrained(self) -> bool:
        return bool(self.types or self.brands or self.price_min is not None or self.price_max is not None
                    or self.attrs or self.order or self.within)


def _normalise(text: str) -> str:
    """Lower case, full-width digits folded, Chinese numerals as digits, thousands commas dropped."""
    t = text.lower().translate(str.maketrans("０１２３４５６７８９＄", "0123456789$"))
    t = CN_NUMBER.sub(lambda m: _cn(m.group()), t)
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)


def _cn(run: str) -> str:
    v = cn_number(run)
    if v is None or (len(run) == 1 and run in "一两"):  # "一款", "两个" are not amounts
        return run
    return f"{v:g}"


def _pool_keys(vocab: CatalogVocabulary, rows) -> set[str] | None:
    if rows is None:
        return None
    keys: set[str] = set()
    for i in rows[:400]:
        keys.update(vocab.products[int(i)].attributes)
    return keys


def understand(text: str, lang: str, vocab: CatalogVocabulary, *, context_ids: list[str] | None = None,
               named_ids: list[str] | None = None) -> ProductQuery:
    """Read ``text`` into a :class:`ProductQuery` (see module docstring).

    Args:
        text: the customer's sentence.
        lang: its language (``en``, ``zh``...).
        vocab: the store's catalog vocabulary.
        context_ids: products the conversation is about (what "cheaper" is relative to).
        named_ids: products the sentence names ("cheaper than the X200").
    """
    text = text[:_MAX_TEXT]  # a product request is short; a pasted page is read no further
    t = _normalise(text)
    q = ProductQuery(text=text, lang=lang)
    q.types = _without_purposes(vocab.types_in(t), t)
    if not q.types:
        # (a word inside a named product's name is no kind asked for: the "air" of "Orbit Air 73")
        bare = t
        for pid in named_ids or ():
            row = vocab.row.get(pid)
            if row is not None:
                bare = vocab.products[row].without_names(bare)
        q.types, q.partial = vocab.partial_types_in(bare), True
    latin = " " + " ".join(norm_words(t)) + " "
    q.brands = [b for b in vocab.brands if (f" {b} " in latin if b.isascii() else b in t)
                and not any(b in ty for ty in q.types)]
    q.in_stock = bool(_IN_STOCK.search(t))
    rows = vocab.rows_for_types(q.types) if q.types else None
    keys = _pool_keys(vocab, rows)
    used: list[tuple[int, int]] = []

    # ranges first ("between 50 and 100", "50-100元", "1-2 L")
    for m in _BETWEEN.finditer(t):
        lo, hi, unit = float(m.group(1)), float(m.group(2)), (m.group(3) or "").lower()
        if lo >= hi:
            continue
        if unit and unit_of(unit) and not re.fullmatch(_CUR_AFTER, unit):
            key = _unit_key(vocab, unit, t, keys, rows)
            if key:
                f = unit_of(unit)[1]
                d = unit_of(unit)[0]
                q.attrs += [AttrConstraint(key, ">=", lo * f, m.group(), d), AttrConstraint(key, "<=", hi * f, m.group(), d)]
                used.append(m.span())
            continue
        if "between" in m.group() or unit or _PRICE_WORDS.search(t) or re.search(_CUR_BEFORE, m.group()):
            q.price_min, q.price_max = lo, hi
            used.append(m.span())
    for m in _AMOUNT.finditer(t):
        if any(a <= m.start(3) < b for a, b in used) or not m.group(3):
            continue
        before, cur, num, after, zh_after = m.group(1), m.group(2), float(m.group(3)), m.group(4), m.group(5)
        after_l = (after or "").lower()
        if f"{m.group(3)}{after_l}" in vocab.flag_words:
            continue  # "5G" is a feature the store lists, not five grams
        if after_l and unit_of(after_l) and not re.fullmatch(_CUR_AFTER, after_l):
            key = _unit_key(vocab, after_l, t, keys, rows)
            if key and _a_stay(vocab, key, after_l, t, rows):
                continue  # "三天两夜", "for 3 days": how long the customer goes, not a warranty
            if key:
                dim = unit_of(after_l)[0]
                op = _op(before, zh_after, t[max(0, m.start() - 20):m.start()], dim)
                stated = (before and re.fullmatch(_MORE, before, re.I)) or (zh_after and re.fullmatch(_ZH_MORE_AFTER, zh_after))
                if dim == "temperature" and op == ">=" and not stated and _rates_cold(vocab, key, rows):
                    op = "<="  # "nights around 0°": a sleeping bag rated to 0° or below
                q.attrs.append(AttrConstraint(key, op, num * unit_of(after_l)[1], m.group().strip(), dim))
            continue
        is_money = bool(cur) or (after_l and re.fullmatch(_CUR_AFTER, after_l))
        if after_l and not is_money:
            continue  # "5 star", "3 ports": a number that is not an amount
        if not is_money and not before and not zh_after:
            continue
        if not is_money and not _PRICE_WORDS.search(t) and not before and not (
                zh_after and not after_l and num >= 10 and q.types):
            # (a bare number "以内/以下/左右" with no unit, next to a kind of product, is its price:
            # "有没有200以内的绿茶")
            continue
        if num < 1 or (not is_money and num > 1_000_000):
            continue
        if (before and re.fullmatch(_MORE, before, re.I)) or (zh_after and re.fullmatch(_ZH_MORE_AFTER, zh_after)):
            q.price_min = num
        elif (before and re.fullmatch(_ABOUT, before, re.I)) or (zh_after and re.fullmatch(_ZH_ABOUT_AFTER, zh_after)):
            q.price_max = round(num * 1.15, 2)
        elif before or zh_after:
            q.price_max = num
            if before and "cheaper" in before.lower():
                q.price_strict = True
        elif is_money:
            q.price_max = round(num * 1.15, 2)  # "a 50 dollar charger": about that much

    # "cheaper than the X200" / "something cheaper" next to a product
    if _CHEAPER.search(t) and q.price_max is None:
        ref = (named_ids or [None])[-1] if re.search(r"than|比", t) and named_ids else None
        ref = ref or (context_ids or [None])[0] or ((named_ids or [None])[0])
        if ref in vocab.row:
            p = vocab.products[vocab.row[ref]]
            q.price_max, q.price_strict, q.relative_to = p.price, True, ref
            if not q.types and vocab.head[vocab.row[ref]]:
                q.types = [kind_of(vocab, vocab.head[vocab.row[ref]])]

    # a feature's cue inside the kind's own word is no request for the feature ("充电宝" is no
    # wish for wireless charging): the kinds said are blanked for the feature reading
    _features(q, _without(t, q.types), vocab, keys)
    _ordering(q, t, vocab, keys)
    # a brand said only inside a value ("works with the hexa station 8": a platform) is no
    # request for that brand's products
    inside = " ".join(a.said.lower() for a in q.attrs if a.op == "in" and a.said)
    if inside:
        q.brands = [b for b in q.brands if not _only_inside(b, latin, inside)]
    return q


# what a product is for, not what is asked for: "a teapot for oolong", "适合泡乌龙的壶"
_PURPOSE_LEAD = r"(?:\bfor (?:brewing |making |storing |serving |keeping )?|\bto (?:brew|make|store|serve|keep) |适合(?:泡|喝|装|放|煮|冲)?|用来(?:泡|装|放|煮)|(?:泡|装|放|煮)(?=\S{1,6}的))"


def _without_purposes(types: list[str], t: str) -> list[str]:
    """``types`` less the kinds the text names only as what another kind is for ("which teapot is
    best for oolong?" asks for teapots; the oolong is what they brew)."""
    if len(types) < 2:
        return types
    purposes = [ty for ty in types
                if all(re.search(_PURPOSE_LEAD + r"\s*$", t[:m.start()]) for m in re.finditer(re.escape(ty), t))]
    kept = [ty for ty in types if ty not in purposes]
    return kept or types


def _without(t: str, words: list[str]) -> str:
    """``t`` with each of ``words`` blanked out (same length: positions still point into ``t``)."""
    for w in sorted(words, key=len, reverse=True):
        if w:
            t = t.replace(w, " " * len(w))
    return t


def _only_inside(brand: str, latin: str, inside: str) -> bool:
    """Whether every mention of ``brand`` in the sentence is part of a value it states."""
    if not brand.isascii():
        return False
    said = " ".join(norm_words(inside))
    return latin.count(f" {brand} ") <= f" {said} ".count(f" {brand} ")


def kind_of(vocab: CatalogVocabulary, head: str) -> str:
    """The kind a product's head term names that other products share: "guard phone case" (a
    model's word kept in the head, one product) → "phone case"; the head itself when none is wider."""
    words = head.split(" ")
    for i in range(len(words)):
        term = " ".join(words[i:])
        rows = vocab.types.get(term)
        if rows is not None and len(rows) >= 2:
            return term
    return head


def _op(before: str | None, zh_after: str | None, left: str, dimension: str | None) -> str:
    if (before and re.fullmatch(_LESS, before, re.I)) or (zh_after and re.fullmatch(_ZH_LESS_AFTER, zh_after)):
        return "<="
    if (before and re.fullmatch(_MORE, before, re.I)) or (zh_after and re.fullmatch(_ZH_MORE_AFTER, zh_after)):
        return ">="
    if re.search(r"lighter|smaller|shorter|less|under|below|以下|以内", left):
        return "<="
    return "<=" if dimension == "mass" else ">="


def _stated_in(vocab: CatalogVocabulary, key: str, rows) -> set[float]:
    """The units (as factors of their dimension's base) the pool's products state ``key`` in."""
    stated: set[float] = set()
    for i in (rows if rows is not None else range(len(vocab.products)))[:400]:
        a = vocab.products[int(i)].attributes.get(key)
        if a is not None and unit_of(a.unit):
            stated.add(unit_of(a.unit)[1])
    return stated


def _a_stay(vocab: CatalogVocabulary, key: str, unit: str, text: str, rows) -> bool:
    """Whether a duration the text does not tie to ``key`` is in a unit none of the pool's
    products states ``key`` in: "a sleeping bag for 3 days" is the trip, their warranties are in
    months (an earbud's "30 hours" is its battery, stated in hours)."""
    if unit_of(unit)[0] != "time" or vocab.cue_keys(text, {key}):
        return False
    stated = _stated_in(vocab, key, rows)
    return bool(stated) and unit_of(unit)[1] not in stated


def _rates_cold(vocab: CatalogVocabulary, key: str, rows) -> bool:
    """Whether ``key`` rates how cold a product copes with (the pool's values sit below room
    temperature: a sleeping bag's comfort rating), so a temperature said is a bound from above."""
    values = vocab.numbers.get(key)
    if values is None:
        return False
    picked = values[np.asarray(rows, dtype=np.int64)] if rows is not None else values
    picked = picked[~np.isnan(picked)]
    return bool(picked.size) and float(np.median(picked)) < 20.0


def _unit_key(vocab: CatalogVocabulary, unit: str, text: str, keys: set[str] | None, rows=None) -> str | None:
    """The numeric attribute a unit points at: the one the text names, else the one most products
    carry, of those stated in that very unit when any is ("30 hours": a battery, not a warranty
    in months)."""
    dim, factor = unit_of(unit)
    cands = [k for k, a in vocab.attributes.items() if a.kind == "number" and a.measures(dim)
             and (keys is None or k in keys)]
    if not cands:
        return None
    named = [k for k, _, _ in vocab.cue_keys(text, set(cands))]
    if named:
        return named[0]
    same_unit = [k for k in cands if factor in _stated_in(vocab, k, rows)]
    return max(same_unit or cands, key=lambda k: int((vocab.numbers[k] == vocab.numbers[k]).sum()))


def _features(q: ProductQuery, t: str, vocab: CatalogVocabulary, keys: set[str] | None) -> None:
    """Yes/no features the text names, water use, and text values (colours, materials...)."""
    have = {c.key for c in q.attrs}
    use = water_use(t)
    if use:
        water = [k for k, a in vocab.attributes.items() if a.kind == "water" and (keys is None or k in keys)]
        if water:
            q.attrs.append(AttrConstraint(water[0], ">=", float(WATER_USES[use]), use))
            have.add(water[0])
        else:
            flags = [k for k, a in vocab.attributes.items() if a.kind == "bool" and "water" in f"{k} {a.label}".lower()
                     and (keys is None or k in keys)]
            if flags:
                q.attrs.append(AttrConstraint(flags[0], "==", 1.0, use))
                have.add(flags[0])
    code = re.search(r"\bip\s*([0-6x])\s*([0-9])\b", t)
    if code:
        water = [k for k, a in vocab.attributes.items() if a.kind == "water"]
        if water:
            q.attrs = [c for c in q.attrs if c.key not in water]
            q.attrs.append(AttrConstraint(water[0], ">=", float(code.group(2)), code.group().upper().replace(" ", "")))
            have.add(water[0])
    bools = {k for k, a in vocab.attributes.items() if a.kind == "bool" and (keys is None or k in keys)}
    for key, strength, _ in vocab.cue_keys(t, bools - have):
        if strength >= 2:
            at = _cue_at(t, vocab, key)
            neg = _NEGATION.search(t[max(0, at - 24):at]) if at >= 0 else None
            info = vocab.attributes[key]
            label = (info.label_zh or info.label) if q.lang == "zh" else info.label
            said = label if not neg else ("否" if q.lang == "zh" else "no")  # shown as "hub required: no"
            q.attrs.append(AttrConstraint(key, "==", 0.0 if neg else 1.0, said))
            have.add(key)
    latin = " " + " ".join(norm_words(t)) + " "
    size = _SIZE_RE.search(t)
    if size:  # "shes a size 5", "有没有42码的": the sizes a product comes in
        value = size.group(1) or size.group(2)
        for key, info in vocab.attributes.items():
            if (key not in have and (keys is None or key in keys) and info.kind == "text"
                    and is_size_attribute(info) and value in vocab.values.get(key, {})):
                q.attrs.append(AttrConstraint(key, "in", value, f"size {value}" if q.lang != "zh" else f"{value}码"))
                have.add(key)
                break
    for key, values in vocab.values.items():
        if key in have or (keys is not None and key not in keys):
            continue
        # (a bare number is matched only as a size, above: "5k twice a week" names none)
        hits = [v for v in values if not re.fullmatch(r"[\d.]+", v) and (f" {v} " in latin if v.isascii() else v in t)]
        hits = [v for v in hits if not any(v != o and v in o for o in hits) and not any(v in ty for ty in q.types)]
        if hits:
            q.attrs.append(AttrConstraint(key, "in", "|".join(sorted(hits)), " ".join(hits)))


_SIZE_RE = re.compile(r"\bsize\s*(\d{1,2}(?:\.5)?)(?![\d.])|(?<![\d.])(\d{1,2}(?:\.5)?)\s*(?:码|号鞋|号的鞋)", re.IGNORECASE)
_NEGATION = re.compile(r"(?:without|\bno\b|\bnot\b|\bnon\b|\bnever\b|\b(?:is|are|does|do|did|was|were|wo|ca|has|have)n'?t\b|"
                       r"\b(?:is|are|does|do|was|has|have)\s+not\b|no need for|free of|"
                       r"不带|不要|不用|不需要|无需|免|无)[^,，。;；]{0,12}$|(?<![有要需是能会带用可支])(?:不|没有?)(?:能|可以|可|会|带|支持)?$")


def _cue_at(t: str, vocab: CatalogVocabulary, key: str) -> int:
    """Where in ``t`` the first of ``key``'s cues starts (-1: none)."""
    for cue, _ in vocab.cues.get(key, ()):
        first = cue.split(" ")[0]
        m = re.search(rf"(?<![a-z]){re.escape(first)}" if first.isascii() else re.escape(first), t)
        if m:
            return m.start()
    return -1


def _ordering(q: ProductQuery, t: str, vocab: CatalogVocabulary, keys: set[str] | None) -> None:
    numeric = sorted(k for k, a in vocab.attributes.items() if a.kind in ("number", "water") and (keys is None or k in keys))
    t = _BOUND_WORDS.sub(" ", t)  # "at least 60 days" bounds, it asks for no "least"
    for rx, direction, implied in _SUPERLATIVES:
        m = rx.search(t)
        if not m:
            continue
        if implied in ("price", "rating"):
            q.order = (implied, direction)
            return
        named = vocab.cue_keys(t, numeric)
        if not implied and not named:
            implied = next((dim for rx_dim, dim in _SUPERLATIVE_DIMENSIONS if rx_dim.search(m.group())), None)
        if implied and not named:
            dims = [k for k in numeric if vocab.attributes[k].measures(implied)]
            if dims:
                q.order = (max(dims, key=lambda k: int((vocab.numbers[k] == vocab.numbers[k]).sum())), direction)
                return
            continue
        if named:
            key = min(named, key=lambda c: (abs(c[2] - m.start()), -c[1]))[0]
            q.order = (key, direction)
            return
        if implied is None and re.search(r"best|最好", m.group()):
            q.order = ("rating", "desc")
            return
    if _COMPARATIVE_HINT.search(t) and not _CHEAPER.search(t):
        # "any earbuds with a longer battery", "有没有续航长一点的耳机": a preference for more of what it names
        key = comparison_key(t, vocab, set(numeric))
        if key is not None and key[0] not in ("price", "rating"):
            q.soft_order = key
            return
    if _SMALL.search(t):
        size = [k for k in numeric if vocab.attributes[k].measures("volume") or vocab.attributes[k].measures("length")]
        if size:
            q.soft_order = (max(size, key=lambda k: int((vocab.numbers[k] == vocab.numbers[k]).sum())), "asc")
    elif _NOT_TOO_DEAR.search(t) and q.price_max is None:
        q.soft_order = ("price", "asc")


# a comparative in a request ("longer battery", "lighter", "续航长一点", "更轻的"): a preference, not a filter
# the English comparatives a shopper asks more or less of something with ("any lighter ones?"): one
# list for the dialogue stage that hears them and the product QA that answers them
COMPARATIVE_WORDS = r"bigger|larger|smaller|lighter|heavier|longer|shorter|brighter|louder|quieter|faster|stronger|thinner"
# ("less than $224", "lighter than 1 kg", "比…轻" are bounds, read as such above, not preferences)
_COMPARATIVE_HINT = re.compile(r"\b(?:longer|shorter|lighter|heavier|bigger|smaller|brighter|louder|quieter|faster|"
                               r"stronger|larger)\b(?!\s+than)|一点|一些|更(?=[\u4e00-\u9fff])", re.IGNORECASE)
_COMPARATIVES: list[tuple[re.Pattern[str], str, str | None]] = [
    (re.compile(r"cheaper|less expensive|more affordable|lower price|便宜|实惠|价格低", re.I), "asc", "price"),
    (re.compile(r"pricier|more expensive|贵|how much (?:more|extra) (?:would|will|do|does|is|am|are)|"
                r"how much (?:more|extra)$|pay(?:ing)? (?:more|extra)", re.I), "desc", "price"),
    (re.compile(r"better rated|higher rated|rated higher|评分高|评价好|口碑好", re.I), "desc", "rating"),
    (re.compile(r"lighter|weighs less|轻", re.I), "asc", "mass"),
    (re.compile(r"heavier|weighs more|重", re.I), "desc", "mass"),
    (re.compile(r"last(?:s)? longer|longer|more|bigger|larger|higher|stronger|brighter|better|faster|"
                r"长|久|大|高|多|强|亮|好|快", re.I), "desc", None),
    (re.compile(r"shorter|smaller|lower|less|fewer|thinner|短|小|低|少|薄", re.I), "asc", None),
]


def _comparable(keys: set[str], vocab: CatalogVocabulary) -> list[str]:
    """The attribute keys a comparison can rank on, in a fixed order (a set's order changes between
    processes: "续航" and "保修期" both measure time, and a question must pick the same one every run)."""
    return sorted(k for k in keys if vocab.attributes.get(k) and vocab.attributes[k].kind in ("number", "water", "bool"))


def comparison_key(text: str, vocab: CatalogVocabulary, keys: set[str]) -> tuple[str, str] | None:
    """What "which is cheaper / lighter / has the bigger battery" compares: ``(price | rating | key, direction)``,
    among attribute ``keys`` both products carry; None when the text asks no such question."""
    t = _normalise(text)
    numeric = _comparable(keys, vocab)
    named = vocab.cue_keys(t, numeric)
    for rx, direction, implied in _COMPARATIVES:
        m = rx.search(t)
        if not m:
            continue
        if implied in ("price", "rating"):
            return implied, direction
        if implied:
            dims = [k for k in numeric if vocab.attributes[k].measures(implied)]
            if dims:
                return dims[0], direction
            continue
        if named:
            return named[0][0], direction
    if named:
        return named[0][0], "desc"
    for dim in asked_dimension(t):
        dims = [k for k in numeric if vocab.attributes[k].measures(dim)]
        if dims:
            return dims[0], "asc" if dim == "mass" and re.search(r"light|轻", t) else "desc"
    return None


def comparison_keys(text: str, vocab: CatalogVocabulary, keys: set[str]) -> list[tuple[str, str]]:
    """Every ``(key, direction)`` a comparison asks ("哪个更轻更便宜": weight, then price), the first
    as :func:`comparison_key` reads it; empty when it asks none."""
    first = comparison_key(text, vocab, keys)
    if first is None:
        return []
    out = [first]
    t = _normalise(text)
    numeric = _comparable(keys, vocab)
    for rx, direction, implied in _COMPARATIVES:
        if implied is None or not rx.search(t):
            continue  # only the words that say what they compare ("cheaper", "lighter")
        if implied in ("price", "rating"):
            got = (implied, direction)
        else:
            dims = [k for k in numeric if vocab.attributes[k].measures(implied)]
            got = (dims[0], direction) if dims else None
        if got is not None and got[0] not in {k for k, _ in out}:
            out.append(got)
    # in the order the question says them
    return sorted(out, key=lambda kd: _said_at(t, kd[0]))


def _said_at(t: str, key: str) -> int:
    at = [m.start() for rx, _, implied in _COMPARATIVES if implied for m in [rx.search(t)] if m
          and (implied == key or (implied not in ("price", "rating") and key not in ("price", "rating")))]
    return min(at) if at else 0


# how customers ask for a measure without naming the catalog's label: the dimension of its unit
_DIMENSION_WORDS: list[tuple[str, re.Pattern[str]]] = [
    ("volume", re.compile(r"\bhold|how much (?:water|liquid|coffee|tea|milk)|how many (?:cups|litres|liters)|"
                          r"装多少|装得|能装|多少毫升|几升|多大容量|容量|容积", re.I)),
    ("mass", re.compile(r"heavy|weigh|多重|重不重|几斤|几克|多少克", re.I)),
    ("power", re.compile(r"watt|how powerful|功率|几瓦|多少瓦", re.I)),
    ("time", re.compile(r"how long (?:does|will|can) (?:it|the battery|they) (?:last|run|go)|between charges|battery|"
                        r"能用多久|用多久|续航|电池|耐用", re.I)),
    ("length", re.compile(r"how (?:long|tall|high|wide|big|thick) is|多长|多高|多宽|多厚|多大", re.I)),
    ("pixels", re.compile(r"photo|picture|camera|拍照|拍摄|像素|摄像", re.I)),
    ("temperature", re.compile(r"how (?:warm|cold)|what temperature|多少度|几度|温度", re.I)),
]


def asked_dimension(text: str) -> list[str]:
    """The measures a question asks about in everyday words ("how much water does it hold" -> volume)."""
    return [dim for dim, rx in _DIMENSION_WORDS if rx.search(text)]
