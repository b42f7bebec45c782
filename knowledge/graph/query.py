"""Questions about products answered from the catalog graph: attributes, compare, recommend, search.

:class:`ProductQA` is what the router calls for products. ``facts`` answers a question about the
products in context, the asked fact first (a yes/no with its reason for water use and features,
values in the reply language's units); ``compare`` names the attribute the question asks about
and which product wins on it ("which is lighter?"); ``recommend`` reads the request's constraints
(:mod:`knowledge.graph.constraints`), searches (:mod:`knowledge.graph.search`) and says honestly
when nothing fits; ``is_search`` and ``asks_comparison`` tell the router which of these a turn is.

Everything returned is a :class:`engine.generation.Fact` carrying its source, stated with the
catalog's own values and units, so a generator can only repeat what the catalog says. Every fact
cites the product it is about by node id; a fact drawn from a graph relation (accessory_of,
compatible_with, similar_to) cites both ends of it, the asked-about product first.

Example:
    >>> qa = ProductQA(catalog)                                                   # doctest: +SKIP
    >>> qa.facts("does the X200 work with my iPhone?", ["P1001"], "en")[0].text   # doctest: +SKIP
    'Yes: the Aurora X200 Wireless Earbuds work with iOS and Android.'
"""

from __future__ import annotations

import re
from typing import Any

from knowledge.kernel.types import Fact
from knowledge.kernel.types import Source

from . import answers as say
from .catalog import CATEGORY_SEP, Catalog, Product
from .constraints import (COMPARATIVE_WORDS, AttrConstraint, ProductQuery, asked_dimension, comparison_key,
                          comparison_keys, kind_of, understand)
from .meaning import WATER_USES, render_unit, value_zh, water_level, water_meaning, water_use
from .search import ProductSearch, SearchResult
from .vocabulary import CatalogVocabulary, norm_words, singular, value_heads

__all__ = ["ProductQA"]

_USE_WORDS = {"splash": ("splashes", "防溅"), "sweat": ("sweat", "防汗"), "rain": ("rain", "防雨"),
              "shower": ("the shower", "淋浴"), "dunk": ("a dunk in water", "浸水"), "swim": ("swimming", "游泳")}
_WHICH_RE = re.compile(r"\bwhich\b|\bboth\b|\bvs\.?\b|versus|\beither\b|\bor\b|\bsame\b|differen|哪|两|俩|还是|比|"
                       r"一样|相同|差多少|差距|区别", re.IGNORECASE)
# a request for products, as against a question about the one in context
_REQUEST_RE = re.compile(r"recommend|suggest|option|looking for|\bany\b|do you (?:have|sell|carry)|got any|show me|"
                         r"\bfor (?:it|this|that|my|her|him)\b|alternative|instead|"
                         r"\bwhat (?:\w+ ){1,2}(?:fits?|go(?:es)? with|works? with|are compatible)\b|"
                         r"推荐|有没有|有哪些|有什么|有啥|想买|要买|想要|想换|哪些|配套|配什么|你们有|有卖|适合|换个|来个|"
                         r"有\s*\S{0,12}\s*吗", re.IGNORECASE)
# what the customer already has: "my X", "the X I bought", "我的X", "我买的"
_OWN_RE = re.compile(r"\b(?:my|mine|i (?:bought|ordered|got|received))\b|我的|我买|我那|我收到", re.IGNORECASE)
# a turn that goes on from the last one ("and the X?", "X呢"): about what came before, not a new search
_FOLLOW_RE = re.compile(r"^\s*(?:and|what about|how about|also)\b|呢\s*[?？]?\s*$", re.IGNORECASE)
# shopping: "想买", "推荐", "looking for", "need a", a budget
_BUY_RE = re.compile(r"想买|要买|买个|买双|买台|买一|买件|买款|推荐|求推荐|预算|以内|以下|\blooking for\b|\brecommend|\bsuggest|"
                     r"\bshopping for\b|\b(?:need|want) (?:a|an|some|new)\b|\bbudget\b|\bunder \$?\d|\bgift for\b", re.IGNORECASE)
# browsing: "看看你们家的X", "show me", "what X do you have"
# a which-question ("which kettle is lightest", "哪款耳机续航最长"): with a kind and an ordering, a search
_WHICH_ASK_RE = re.compile(r"\bwhich\b|\bwhat(?:'s| is) the \w+est\b|哪(?:款|个|种|双|台|件|把|只|副|条|部|一款|一个)",
                           re.IGNORECASE)
# whether the store has a kind with something more: "有没有…的X", "any X with …", "do you have X that …"
_HAVE_KIND_RE = re.compile(r"有没有|有无|有啥|有什么|\bany\b|\bdo (?:you|u|ya) (?:have|sell|carry|stock)\b|\bgot any\b|"
                           r"\bis there (?:a|an|any)\b|\bare there any\b", re.IGNORECASE)
# a comparative asked of what is in context: "any bigger ones", "something lighter", "有没有轻一点的", "续航更长的呢"
_COMPARATIVE_ASK_RE = re.compile(
    rf"\b(?:{COMPARATIVE_WORDS}|more powerful)\b|更(?:大|小|轻|重|长|短|亮|快|强|薄|多|久)|(?:大|小|轻|长|亮|快|强|薄|久)(?:一点|一些|些)",
    re.IGNORECASE)
_CHEAPER_WORD_RE = re.compile(r"cheap|expensive|pric|afford|便宜|贵|实惠|价", re.IGNORECASE)
_BIGGER_RE = re.compile(r"\b(?:bigger|larger|smaller)\b|更大|更小|大一点|小一点|大些|小些", re.IGNORECASE)
_SMALLER_RE = re.compile(r"\bsmaller\b|更小|小一点|小些", re.IGNORECASE)
_BROWSE_RE = re.compile(r"看看|瞧瞧|逛逛|\bshow\b|\bbrowse\b|\bsee (?:your|the|some|all|what)\b|"
                        r"\bwhat\b.{0,30}\b(?:do you|you guys|ya|u) (?:have|got|sell|carry)\b", re.IGNORECASE)
# the clauses of a question: "屏幕几寸的，拿着重不重", "how big is the screen, and is it heavy"
_CLAUSE_RE = re.compile(r"[，,；;。?？]|\band\b|\balso\b|还有|另外", re.IGNORECASE)
# the parts of a text value that enumerates options: "regular and wide", "black/white", "红色、蓝色"
_ENUM_RE = re.compile(r"\s+(?:and|or)\s+|\s*[,/、，和或]\s*", re.IGNORECASE)
def _options(value: Any, *, enumerations_only: bool = False) -> list | None:
    """The options an attribute value offers: a list's items, or the parts of a text that
    enumerates ("regular and wide"); a plain text is one option (None with ``enumerations_only``)."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        parts = [v.strip() for v in _ENUM_RE.split(value) if v.strip()]
        if len(parts) >= 2:
            return parts
        return None if enumerations_only else parts
    return None


_HOW_RE = re.compile(r"\bhow\b|怎么|如何|怎样", re.IGNORECASE)
# where something is on its way: "when's the X getting here", "X啥时候到"
_WHEN_RE = re.compile(r"\b(?:when|arriv\w*|getting here|get here|ship(?:ped|ping)?|deliver\w*|showed up|came|arrived)\b|"
                      r"什么时候到|啥时候到|到了|发货|快递|送到", re.IGNORECASE)
_YES_NO = re.compile(r"^(?:does|do|is|are|can|will|would|could|has|have|did)\b|吗|么|能不能|可不可以|是不是|有没有|支不支持|防不防",
                     re.IGNORECASE)

# question keywords -> attribute keys that answer them (first present wins)
_ATTRIBUTE_CUES: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"battery|charge last|last on a charge|hours|续航|电池|能用多久"), ("battery_life",)),
    (re.compile(r"bluetooth|蓝牙"), ("bluetooth_version", "bluetooth", "connectivity")),
    (re.compile(r"water|rain|sweat|swim|防水|ip\d"), ("water_resistance", "waterproof")),
    (re.compile(r"weigh|heavy|light|重量|多重"), ("weight", "shipping_weight")),
    (re.compile(r"warrant|guarantee|保修|质保"), ("warranty",)),
    (re.compile(r"size|尺码|尺寸|码数"), ("sizes", "size", "screen_size", "dimensions")),
    # "does it fit true to size": what one wears; "a case that fits the S6" asks no screen size
    (re.compile(r"\bfit"), ("sizes", "size")),
    (re.compile(r"colou?r|颜色"), ("colors", "color")),
    (re.compile(r"screen|display|屏幕"), ("screen_size", "display")),
    (re.compile(r"\bram\b|memory|内存"), ("ram",)),
    (re.compile(r"storage|\bssd\b|capacity|容量|存储"), ("storage", "capacity")),
    (re.compile(r"material|made of|fabric|材质|面料"), ("material", "upper_material")),
    (re.compile(r"noise|anc|降噪"), ("noise_cancelling", "anc")),
    (re.compile(r"power|watt|功率"), ("power", "wattage")),
]
_PLATFORMS = {
    "iOS": re.compile(r"iphone|ipad|\bios\b|apple|苹果"),
    "Android": re.compile(r"android|samsung|pixel|galaxy|安卓|华为|小米"),
    "Windows": re.compile(r"windows|\bpc\b"),
    "macOS": re.compile(r"\bmac\b|macbook|macos"),
}
_COMPAT_RE = re.compile(r"work with|works with|compatible|support|connect|pair|use (?:it |this |that )?with|ok with|"
                        r"\b(?:use|put|place|set)\b[^.?!]{0,40}\bon\b|"
                        r"兼容|支持|能用|适配|连接|能连|能套|能配|能给|放在|放到|一起用|搭配|能煮|能烧|能加热")
_PRICE_RE = re.compile(r"price|cost|how much(?![^.?]*\bweigh)(?! (?!is\b|are\b|does\b|do\b|for\b|would\b|will\b|it\b|they\b|was\b|were\b)[a-z]+)|\$|多少钱|价格|价钱")


def _names_value(word: str, low: str) -> bool:
    """Whether the lower-cased question ``low`` names the value ``word`` as a whole."""
    return re.search(rf"(?<![0-9a-z.]){re.escape(word)}(?![0-9a-z]|\.\d)", low) is not None
_RATING_RE = re.compile(r"\b(?:rating|rated|stars?|reviews?)\b|评分|评价|几星|星级|口碑|打分")
_STOCK_RE = re.compile(r"stock|available|availability|sold out|有货|库存|缺货|还有吗")
_ACCESSORY_RE = re.compile(r"accessor|case|charger|配件|充电盒")
# asking for a product (not for a value of one): "which charger works with it", "有没有配套的盒子"
_ASKS_FOR_ONE_RE = re.compile(r"\bwhich\b|\bwhat\b(?! (?:is|are|does|do)\b)|\bany\b|\bis there\b|哪|什么|有没有|推荐", re.IGNORECASE)
# accessories asked for without a kind: "what accessories are there for it", "有什么配件"
_ANY_ACCESSORY_RE = re.compile(r"\baccessor(?:y|ies)\b|\bextras\b|\badd-?ons?\b|配件|周边")
_GOES_WITH_RE = re.compile(r"\bgoes? with\b|\bto go with\b|配套|搭配")
_SIMILAR_RE = re.compile(r"similar|alternative|instead|comparable|like (?:it|this|that)|类似|相似|替代|差不多")
_FIT_RE = re.compile(r"\bfit|go with|work with|works with|compatible|兼容|适配|配套|能用")

# texts whose categories are remembered (the store's FAQs, read by the router)
_CATEGORIES_REMEMBERED = 10_000


def _category_label(p: Product, lang: str) -> str:
    """The product's category as a reply in ``lang`` names it: its last level, words spaced."""
    leaf = p.text("category", lang).split(CATEGORY_SEP)[-1].strip()
    return leaf.replace("_", " ") if lang != "zh" else leaf


def _without_whole_names(p: Product, text: str) -> str:
    """``text`` without the product's names and aliases where they stand whole ("the glass fair cup,
    is it porcelain?" → "the , is it porcelain?"; "is it glass?" keeps its word)."""
    names = {p.name, p.name_zh, *p.aliases, *(t.get("name", "") for t in p.translations.values())}
    for name in sorted((n for n in names if n), key=len, reverse=True):
        text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
    return text


def _src(p: Product, score: float = 1.0) -> Source:
    return Source(id=p.id, kind="product", title=p.name, score=score)


class ProductQA:
    """Answers product questions from a :class:`Catalog`."""

    def __init__(self, catalog: Catalog, *, currency_symbol: str = "$",
                 synonyms: dict[str, str] | None = None) -> None:
        self._catalog = catalog
        self._cur = currency_symbol
        self._synonyms = synonyms
        self._vocab: CatalogVocabulary | None = None
        self._values: dict[str, dict[str, str]] | None = None
        self._search: ProductSearch | None = None
        self._category_cache: dict[str, list[str]] = {}
        self._categories_of: dict[tuple[str, str], frozenset[str]] = {}

    def warm_up(self) -> None:
        """Learn the catalog's vocabulary (types, attribute cues, value arrays) now, not on the first question."""
        self.vocabulary  # noqa: B018 - built on first access

    @property
    def vocabulary(self) -> CatalogVocabulary:
        if self._vocab is None:
            self._vocab = CatalogVocabulary(self._catalog, synonyms=self._synonyms)
            self._search = ProductSearch(self._vocab)
        return self._vocab

    def understand(self, text: str, lang: str = "en", *, context_ids: list[str] | None = None,
                   named_ids: list[str] | None = None) -> ProductQuery:
        """What ``text`` asks of the catalog (:func:`knowledge.graph.constraints.understand`)."""
        return understand(text, lang, self.vocabulary, context_ids=context_ids, named_ids=named_ids)

    def search(self, query: ProductQuery, k: int = 5) -> SearchResult:
        """Products meeting every constraint of ``query``, best first (or the closest, with what was let go)."""
        self.vocabulary  # noqa: B018
        assert self._search is not None
        return self._search.search(query, k)

    @property
    def currency_symbol(self) -> str:
        return self._cur

    def price_of(self, product_id: str) -> float | None:
        """The product's price (None for an unknown id)."""
        p = self._catalog.get(product_id)
        return float(p.price) if p is not None else None

    def without_names(self, text: str, product_id: str) -> str:
        """``text`` without the product's names (:meth:`Product.without_names`)."""
        p = self._catalog.get(product_id)
        return text if p is None else p.without_names(text)

    def stock_of(self, product_id: str) -> int | None:
        """The units in stock (None for an unknown id or a listing that does not say)."""
        p = self._catalog.get(product_id)
        return int(p.stock) if p is not None and p.stock is not None else None

    def display_name(self, product_id: str, lang: str = "en") -> str | None:
        """The product's name as a reply in ``lang`` writes it (None for an unknown id)."""
        p = self._catalog.get(product_id)
        return p.display_name(lang) if p is not None else None

    def price(self, p: Product) -> str:
        return f"{self._cur}{p.price:,.2f}"

    def facts(self, question: str, product_ids: list[str], lang: str = "en") -> list[Fact]:
        """Facts answering ``question`` about the first known product in ``product_ids``."""
        products = [p for p in (self._catalog.get(i) for i in product_ids) if p is not None]
        if not products:
            return []
        p = products[0]
        q = question.lower()
        name = p.display_name(lang)
        relation = len(products) > 1 and bool(_FIT_RE.search(q) or _COMPAT_RE.search(q))
        out, asked_keys = ([], set()) if relation else self._asked(p, question, lang)
        asked_platforms = [plat for plat, rx in _PLATFORMS.items() if rx.search(q)]
        os_attr = p.attributes.get("compatible_os") or p.attributes.get("os")
        if asked_platforms and (os_attr is not None or _COMPAT_RE.search(q)):
            value = os_attr.value if os_attr else []
            supported = value if isinstance(value, list) else [str(value)]
            listed = os_attr.render(lang) if os_attr else ""
            for plat in asked_platforms:
                if os_attr is None:
                    break
                if plat in supported:
                    verb = "are" if len(supported) > 1 else "is"
                    text = (f"是的，{name}兼容{listed}。" if lang == "zh"
                            else f"Yes: {listed} {verb} supported by the {name}.")
                else:
                    text = (f"{name}官方支持的系统是{listed}，不包括{plat}。" if lang == "zh"
                            else f"The {name} lists {listed} as supported, not {plat}.")
                out.append(Fact(text, (_src(p),)))
        for rx, keys in _ATTRIBUTE_CUES:
            if rx.search(q):
                for key in keys:
                    a = p.attributes.get(key)
                    if a is not None and key in asked_keys:
                        break
                    if a is not None:
                        note = f" ({a.note})" if a.note and lang == "en" else ""
                        label = a.label_zh or a.label if lang == "zh" else a.label
                        out.append(Fact(
                            f"{name}的{label}：{say.rendered(a, lang)}。" if lang == "zh"
                            else f"{label.capitalize()} of the {name}: {say.rendered(a, lang)}.", (_src(p),)))
                        break
        rating = bool(_RATING_RE.search(q)) and p.rating > 0
        if rating:
            out.append(Fact(f"{name}的评分：{p.rating:g}分（满分5分）。" if lang == "zh"
                            else f"The {name} is rated {p.rating:g} out of 5.", (_src(p),)))
        if _PRICE_RE.search(q) and not (rating and not re.search(r"price|cost|\$|钱|价", q)):
            out.append(Fact(f"{name}售价{self.price(p)}。" if lang == "zh"
                            else f"The {name} costs {self.price(p)}.", (_src(p),)))
        if _STOCK_RE.search(q):
            if p.stock > 0:
                out.append(Fact(f"{name}有货（库存{p.stock}件）。" if lang == "zh"
                                else f"The {name} is in stock ({p.stock} available).", (_src(p),)))
            else:
                out.append(Fact(f"{name}目前缺货。" if lang == "zh"
                                else f"The {name} is currently out of stock.", (_src(p),)))
        out += self._relation_facts(p, products[1:], q, lang, asked_platforms=bool(asked_platforms))
        if not out:
            out.append(self.summary(p, lang))
        return out

    def _asked(self, p: Product, question: str, lang: str) -> tuple[list[Fact], set[str]]:
        """The asked fact first: a yes/no on water use or a feature with its reason, else the values
        of the attributes the question names (the store's own labels, in either language)."""
        out: list[Fact] = []
        keys: set[str] = set()
        name = p.display_name(lang)
        use = water_use(question)
        water = next((k for k, a in p.attributes.items() if water_level(a.value) is not None), None)
        if use and water:
            a = p.attributes[water]
            ok = water_level(a.value) >= WATER_USES[use]
            meaning = water_meaning(a.value, lang)
            if lang == "zh":
                text = (f"{'可以' if ok else '不行'}：{name}的{say.label(a, lang)}是{say.value(a, lang)}，"
                        f"{'能' if ok else '只能'}{meaning}。" if use != "splash" else
                        f"{'防水' if ok else '只能轻度防水'}：{name}的{say.label(a, lang)}是{say.value(a, lang)}（{meaning}）。")
            else:
                text = (f"{'Yes' if ok else 'No'}: the {name} is rated {say.value(a, lang)}, which protects against {meaning}.")
            out.append(Fact(text, (_src(p),)))
            keys.add(water)
        listed = self._listed_value(p, question, lang)
        if listed is not None:
            out.append(listed[0])
            keys.add(listed[1])
        cues = self.vocabulary.cue_keys(question.lower(), set(p.attributes) - keys)
        yes_no = bool(_YES_NO.search(question.strip()))
        for key, strength, _ in cues[:2]:
            if strength < 2 or (out and cues and strength < cues[0][1]):
                continue
            a = p.attributes[key]
            lab = say.label(a, lang)
            if isinstance(a.value, bool) and yes_no:
                can = bool(re.search(r"能|可以|can", question))
                has = not can and bool(re.search(r"有", question))  # "有降噪吗": 有的 / 没有
                if lang == "zh":
                    text = (f"{'可以' if can else '有的' if has else '是的'}，{name}的{lab}：是。" if a.value
                            else f"{'不能' if can else '没有' if has else '不是'}，{name}的{lab}：否。")
                else:
                    text = (f"Yes: the {name} has {lab}." if a.value else f"No: the {name} does not have {lab}.")
            elif lang == "zh":
                text = f"{name}的{lab}：{say.rendered(a, lang)}。"
            else:
                text = f"{lab.capitalize()} of the {name}: {say.rendered(a, lang)}."
            out.append(Fact(text, (_src(p),)))
            keys.add(key)
        if not out:  # "how many slices does it take": the attribute counted in that unit
            words = set(norm_words(question))
            for key, a in p.attributes.items():
                unit = singular(str(a.unit or "").lower())
                zh_unit = render_unit(a.unit, "zh").strip()
                counted = (len(unit) >= 4 and unit.isalpha() and unit in words) or (
                    bool(zh_unit) and "\u4e00" <= zh_unit[0] <= "\u9fff" and re.search(f"(?:几|多少){re.escape(zh_unit)}", question))
                if counted and key not in keys:
                    lab = say.label(a, lang)
                    out.append(Fact(f"{name}的{lab}：{say.rendered(a, lang)}。" if lang == "zh"
                                    else f"{lab.capitalize()} of the {name}: {say.rendered(a, lang)}.", (_src(p),)))
                    keys.add(key)
                    break
        # a measure asked in everyday words ("重不重", "how much does it hold"): for the whole question
        # when nothing else was asked, else for each clause that named no attribute of its own
        # ("屏幕几寸的，拿着重不重": the screen, then the weight)
        clauses = [question] if not out else [
            c for c in _CLAUSE_RE.split(question)
            if c.strip() and not any(strength >= 2 for _, strength, _ in self.vocabulary.cue_keys(c.lower(), set(p.attributes)))]
        for clause in clauses:
            for dim in asked_dimension(clause):
                key = next((k for k in p.attributes if k in self.vocabulary.attributes and k not in keys
                            and self.vocabulary.attributes[k].measures(dim)), None)
                if key is not None:
                    a = p.attributes[key]
                    lab = say.label(a, lang)
                    out.append(Fact(f"{name}的{lab}：{say.rendered(a, lang)}。" if lang == "zh"
                                    else f"{lab.capitalize()} of the {name}: {say.rendered(a, lang)}.", (_src(p),)))
                    keys.add(key)
                    break
        return out, keys

    def _listed_value(self, p: Product, question: str, lang: str) -> tuple[Fact, str] | None:
        """"Do they come in 13.5 / wide / navy?": a value the question names, among the values a
        list attribute of the product holds (sizes, widths, colours) -- yes, and the whole list."""
        low = question.lower()
        if any(rx.search(low) for rx in _PLATFORMS.values()) and (
                "compatible_os" in p.attributes or "os" in p.attributes):
            return None  # "does it work with iOS": the platform answer says it with its reason
        for key, a in p.attributes.items():
            values = _options(a.value, enumerations_only=True)
            if values is None:
                continue
            for item in values:
                word = str(item).lower()
                zh = value_zh(key, word)  # "有没有海军蓝的"
                if (len(word) >= 2 and _names_value(word, low)) or (zh and zh in question):
                    name, lab = p.display_name(lang), say.label(a, lang)
                    item = zh if lang == "zh" and zh else item
                    text = (f"有的，{name}的{lab}包括{item}（{say.value(a, lang)}）。" if lang == "zh"
                            else f"Yes: {item} is listed for the {name} ({lab}: {say.value(a, lang)}).")
                    return Fact(text, (_src(p),)), key
        # a single text value the question names ("里面填的是羽绒还是棉", "is the shell nylon?"): what it is
        labels = " ".join(f"{b.label} {b.label_zh}" for b in p.attributes.values()).lower()
        asked = _without_whole_names(p, question)  # ("the glass fair cup, is it porcelain?" names no glass)
        for key, a in p.attributes.items():
            if not isinstance(a.value, str) or _options(a.value, enumerations_only=True) is not None:
                continue
            word = a.value.strip().lower()
            zh = value_zh(key, word)
            # (or its head word: "玻璃的有吗" of 高硼硅玻璃, "is it glass?" of borosilicate glass)
            heads = value_heads(" ".join(norm_words(word)) if not re.search(r"[\u3400-\u9fff]", word) else word)
            heads += value_heads(zh) if zh else []
            heads += value_heads(a.value_zh) if a.value_zh else []
            heads = [h for h in heads if h not in labels]  # "battery" of "battery life" asks no "AA battery"
            if (len(word) >= 3 and _names_value(word, asked.lower())) or (zh and zh in asked) or any(
                    (h in asked) if re.search(r"[\u3400-\u9fff]", h) else _names_value(h, asked.lower()) for h in heads):
                name, lab = p.display_name(lang), say.label(a, lang)
                shown = (zh or a.value_zh) if lang == "zh" and (zh or a.value_zh) else a.value
                choice = bool(re.search(r"还是|\bor\b", low))  # "A or B?": which one, no yes
                text = (f"{'' if choice else '是的，'}{name}的{lab}是{shown}。" if lang == "zh"
                        else f"{'' if choice else 'Yes: '}{'the' if not choice else 'The'} {name}'s {lab} is {shown}.")
                return Fact(text, (_src(p),)), key
        # a value other products have for the same attribute, and this one lacks: no, with what it has
        for key, a in p.attributes.items():
            own_values = _options(a.value)
            if own_values is None:
                continue
            own = {str(v).lower() for v in own_values}
            for word in self._list_values().get(key, ()):
                if (word not in own and word in low and _names_value(word, low)
                        and not any(_names_value(word, o) for o in own)):  # "mesh" is in "engineered mesh"
                    name, lab = p.display_name(lang), say.label(a, lang)
                    shown = self._list_values()[key][word]
                    text = (f"没有，{name}的{lab}是{say.value(a, lang)}，不包括{shown}。" if lang == "zh"
                            else f"No: {shown} is not listed for the {name} ({lab}: {say.value(a, lang)}).")
                    return Fact(text, (_src(p),)), key
        return None

    def _list_values(self) -> dict[str, dict[str, str]]:
        """Every value the catalog's list attributes hold, by attribute, lower-cased to as written
        (read once, on first use)."""
        if self._values is None:
            values: dict[str, dict[str, str]] = {}
            for p in self._catalog:
                for key, a in p.attributes.items():
                    options = _options(a.value, enumerations_only=True)
                    if options is not None:
                        seen = values.setdefault(key, {})
                        for v in options:
                            if len(w := str(v).lower()) >= 3:
                                seen.setdefault(w, str(v))
            self._values = values
        return self._values

    def _relation_facts(
        self, p: Product, others: list[Product], q: str, lang: str, *, asked_platforms: bool
    ) -> list[Fact]:
        """Facts from the graph's edges around ``p``, each citing ``p`` and the products at the other end."""
        out: list[Fact] = []
        others = [o for o in others if o.id != p.id]
        asks_for_one = not others and bool(_ASKS_FOR_ONE_RE.search(q)) and bool(
            _ACCESSORY_RE.search(q) or _GOES_WITH_RE.search(q) or _FIT_RE.search(q) or _COMPAT_RE.search(q))
        kinds = [t for t in self.understand(p.without_names(q), lang).types
                 if t not in self._own_types([t], [p.id])] if asks_for_one else []
        if kinds:
            # "which charger works with my lumen s6?": what is listed with it of that kind, or that none is
            rows = set(self.vocabulary.rows_for_types(kinds).tolist())
            related = [*self._catalog.accessories(p.id), *self._catalog.compatible(p.id), *self._catalog.goes_with(p.id)]
            fit = list({o.id: o for o in related if self.vocabulary.row.get(o.id) in rows}.values())
            if fit:
                return [self._listing(p, fit, lang, "配件", "Accessories for the {name}: {names}.")]
            return [self._none_listed(kinds[0], p.id, lang)]
        if others and (_FIT_RE.search(q) or _COMPAT_RE.search(q)):
            for o in others:
                out.append(self.compatibility(p, o, lang))
        elif _ACCESSORY_RE.search(q) or _GOES_WITH_RE.search(q):  # "what goes with it": its accessories too
            acc = self._catalog.accessories(p.id)
            if acc:
                out.append(self._listing(p, acc, lang, "配件", "Accessories for the {name}: {names}."))
        if not others and not asked_platforms and _FIT_RE.search(q):
            comp = self._catalog.compatible(p.id)
            if comp:
                out.append(self._listing(p, comp, lang, "兼容产品", "Listed as compatible with the {name}: {names}."))
        if _SIMILAR_RE.search(q):
            sim = self._catalog.similar(p.id)
            if sim:
                out.append(self._listing(p, sim, lang, "类似产品", "Similar to the {name}: {names}."))
        return out

    def _listing(self, p: Product, items: list[Product], lang: str, zh_label: str, en_text: str) -> Fact:
        name = p.display_name(lang)
        if lang == "zh":
            text = f"{name}的{zh_label}：{'、'.join(i.display_name('zh') for i in items)}。"
        else:
            text = en_text.format(name=name, names=", ".join(i.name for i in items))
        return Fact(text, (_src(p), *(_src(i) for i in items)))

    def compatibility(self, a: Product, b: Product, lang: str = "en") -> Fact:
        """Whether the graph links ``a`` and ``b`` (compatible_with or accessory_of, either way), citing both."""
        na, nb = a.display_name(lang), b.display_name(lang)
        if b in self._catalog.compatible(a.id):
            text = f"是的，{na}与{nb}兼容。" if lang == "zh" else f"Yes: the {na} is listed as compatible with the {nb}."
        elif a in self._catalog.accessories(b.id) or b in self._catalog.accessories(a.id):
            acc, base = (a, b) if a in self._catalog.accessories(b.id) else (b, a)
            text = (f"是的，{acc.display_name(lang)}是{base.display_name(lang)}的配件。" if lang == "zh"
                    else f"Yes: the {acc.display_name(lang)} is an accessory for the {base.display_name(lang)}.")
        else:
            text = (f"商品目录中没有列出{na}与{nb}兼容。" if lang == "zh"
                    else f"The catalog does not list the {na} as compatible with the {nb}.")
        return Fact(text, (_src(a), _src(b)))

    def unlisted(self, question: str, facts: list[Fact], product_ids: list[str], lang: str = "en") -> list[Fact]:
        """``facts`` with an honest opening when a yes/no question about a product found only its
        summary ("are the trailrunner 5s vegan?", "能扫长毛地毯吗"): the listing does not say, so
        no yes and no no -- then what it does list."""
        p = self._catalog.get(product_ids[0]) if product_ids else None
        if p is None or not self.only_summary(facts, product_ids, lang):
            return facts
        if not _YES_NO.search(question.strip()) or _PRICE_RE.search(question.lower()) or _STOCK_RE.search(question.lower()):
            return facts
        name = p.display_name(lang)
        text = (f"{name}的商品资料里没有写明这一点，我没法确认。资料里写明的有：" if lang == "zh"
                else f"The listing for the {name} doesn't say, so I can't confirm that. What it does list:")
        return [Fact(text, (_src(p),)), *facts]

    def only_summary(self, facts: list[Fact], product_ids: list[str], lang: str = "en") -> bool:
        """Whether ``facts`` are only the first product's summary: nothing in its listing answered
        the question ("can I preorder it?", "是编织线吗")."""
        p = self._catalog.get(product_ids[0]) if product_ids else None
        return p is not None and len(facts) == 1 and facts[0].text == self.summary(p, lang).text

    def summary(self, p: Product, lang: str = "en") -> Fact:
        attrs = list(p.attributes.values())[:4]
        if lang == "zh":
            details = "，".join(f"{say.label(a, 'zh')}{say.value(a, 'zh')}" for a in attrs)
            text = f"{p.display_name('zh')}（{p.brand}）售价{self.price(p)}，{details}。"
        else:
            details = "; ".join(f"{a.label}: {say.value(a, lang)}" for a in attrs)
            text = f"The {p.name} by {p.brand} costs {self.price(p)}. {details}."
        return Fact(text, (_src(p),))

    def compare(self, product_ids: list[str], lang: str = "en", question: str = "") -> list[Fact]:
        """Two products side by side: the attribute the question asks about first ("which is cheaper /
        lighter / has the bigger battery" answered directly), then the other attributes that differ."""
        products = [p for p in (self._catalog.get(i) for i in product_ids[:2]) if p is not None]
        if len(products) < 2:
            return []
        a, b = products
        shared = [k for k in a.attributes if k in b.attributes]
        asked_all = comparison_keys(question, self.vocabulary, set(shared)) if question else []
        asked = asked_all[0] if asked_all else None
        parts: list[str] = [self._decide(a, b, key, direction, lang) for key, direction in asked_all[:2]]
        done = {key for key, _ in asked_all[:2]}
        if "price" not in done:
            parts.append(f"{say.name(a, lang)}售价{self.price(a)}，{say.name(b, lang)}售价{self.price(b)}。" if lang == "zh"
                         else f"The {a.display_name(lang)} costs {self.price(a)}; the {b.display_name(lang)} "
                              f"costs {self.price(b)}.")
        differ = [k for k in shared if k not in done and a.attributes[k].value != b.attributes[k].value]
        differ = differ[:2] if asked is not None else differ[:3]
        for k in differ:
            x, y = a.attributes[k], b.attributes[k]
            parts.append(f"{say.label(x, 'zh')}：{say.value(x, 'zh')} 对比 {say.value(y, 'zh')}。" if lang == "zh"
                         else f"{say.label(x, lang).capitalize()}: {say.value(x, lang)} vs {say.value(y, lang)}.")
        return [Fact(("" if lang == "zh" else " ").join(parts), (_src(a), _src(b)))]

    def _decide(self, a: Product, b: Product, key: str, direction: str, lang: str) -> str:
        """One sentence naming which of two products wins on ``key`` and by how much."""
        na, nb = a.display_name(lang), b.display_name(lang)
        if key in ("price", "rating"):
            va, vb = (a.price, b.price) if key == "price" else (a.rating, b.rating)
            show = (lambda p: self.price(p)) if key == "price" else (lambda p: f"{p.rating:g}")
            word = {("price", "asc"): ("cheaper", "更便宜"), ("price", "desc"): ("more expensive", "更贵"),
                    ("rating", "desc"): ("better rated", "评分更高"), ("rating", "asc"): ("lower rated", "评分更低")}[
                (key, direction)]
        else:
            x, y = a.attributes[key], b.attributes[key]
            col = self.vocabulary.numbers.get(key)
            va = col[self.vocabulary.row[a.id]] if col is not None else None
            vb = col[self.vocabulary.row[b.id]] if col is not None else None
            info = self.vocabulary.attributes.get(key)
            if info is not None and info.kind == "bool":
                return self._both_flag(a, b, x, y, lang)
            unit = say.common_unit(x, y)
            show = lambda p: say.rendered(p.attributes[key], lang, unit)  # noqa: E731
            lab = say.label(x, lang)
            if info is not None and info.dimension == "mass":
                word = ("lighter", "更轻") if direction == "asc" else ("heavier", "更重")
            else:
                word = (f"the {'lower' if direction == 'asc' else 'higher'} {lab}",
                        f"{lab}更{'低' if direction == 'asc' else '高'}")
            if va is None or vb is None or va != va or vb != vb:
                return (f"{lab}：{na} {show(a)}，{nb} {show(b)}。" if lang == "zh"
                        else f"{lab.capitalize()}: the {na} {show(a)}, the {nb} {show(b)}.")
        if va == vb:
            return (f"两款一样：{show(a)}。" if lang == "zh" else f"Both are the same here: {show(a)}.")
        win, lose = (a, b) if (va < vb) == (direction == "asc") else (b, a)
        en, zh = word
        if key == "price":  # by how much: what the customer pays more or less
            gap = f"{self._cur}{abs(float(win.price) - float(lose.price)):,.2f}"
            if lang == "zh":
                return (f"{win.display_name(lang)}{zh}，差{gap}：{show(win)}，"
                        f"{lose.display_name(lang)}是{show(lose)}。")
            return (f"The {win.display_name(lang)} is {en} by {gap}: {show(win)} vs {show(lose)} "
                    f"for the {lose.display_name(lang)}.")
        if lang == "zh":
            return f"{win.display_name(lang)}{zh}：{show(win)}，{lose.display_name(lang)}是{show(lose)}。"
        verb = "has" if en.startswith("the ") else "is"
        return f"The {win.display_name(lang)} {verb} {en}: {show(win)} vs {show(lose)} for the {lose.display_name(lang)}."

    @staticmethod
    def _both_flag(a: Product, b: Product, x, y, lang: str) -> str:
        lab = say.label(x, lang)
        has = [p for p, attr in ((a, x), (b, y)) if attr.value is True]
        if lang == "zh":
            verb = "" if lab.startswith(("支持", "有", "带", "可")) else "有"
            if len(has) == 2:
                return f"两款都{verb}{lab}。"
            if not has:
                return f"两款都不{lab}。" if not verb else f"两款都没有{lab}。"
            other = b if has[0] is a else a
            return (f"只有{has[0].display_name(lang)}{verb}{lab}，{other.display_name(lang)}"
                    f"{'不' + lab if not verb else '没有' + lab}。")
        if len(has) == 2:
            return f"Both have {lab}."
        if not has:
            return f"Neither has {lab}."
        other = b if has[0] is a else a
        return f"Only the {has[0].display_name(lang)} has {lab}; the {other.display_name(lang)} does not have {lab}."

    def asks_relation(self, text: str) -> bool:
        """Whether ``text`` asks how products go together (fit, compatibility, accessories)."""
        q = text.lower()
        return bool(_FIT_RE.search(q) or _COMPAT_RE.search(q) or _ACCESSORY_RE.search(q))

    def asks_comparison(self, text: str) -> bool:
        """Whether ``text`` asks which of several products wins on something ("which is lighter?", "哪个续航更久")."""
        if not _WHICH_RE.search(text):
            return False
        return comparison_key(text, self.vocabulary, set(self.vocabulary.attributes)) is not None

    def is_search(self, text: str, lang: str = "en", context_ids: list[str] | None = None) -> bool:
        """Whether ``text`` asks for products (a type with a constraint, a budget, "something cheaper",
        "the brightest one", a type of accessory) rather than about the product in context."""
        q = self.understand(text, lang, context_ids=context_ids)
        if q.relative_to is not None:
            return True
        bounded = q.price_max is not None or q.price_min is not None or q.order is not None
        asks = bool(_REQUEST_RE.search(text))
        if not context_ids:
            return (bool(q.types) and (not q.partial or asks or bounded)) or bounded
        types = [] if q.partial and not asks else q.types
        own = self._own_types(types, context_ids)
        if [t for t in types if t not in own] and (asks or bounded):
            return True  # another kind of product than the one in context ("a case for it?")
        if _YES_NO.search(text.strip()) and not q.order:
            return False
        return bounded or (bool(types) and bool(q.attrs) and bool(_WHICH_RE.search(text)))

    def asks_for_products(self, text: str, lang: str = "en") -> bool:
        """Whether ``text``, with no product in context, asks to see products of a kind ("看看你们家的
        X", "what X do you have under 400"): a request or a bound on price or order, not a yes/no
        about one thing ("是编织线吗"), what the customer already has ("is my X on the way") or a
        report ("the laptop showed up cracked")."""
        if _OWN_RE.search(text) or _FOLLOW_RE.search(text) or _WHEN_RE.search(text):
            return False
        request = bool(_REQUEST_RE.search(text) or _BROWSE_RE.search(text))
        if _YES_NO.search(text.strip()) and not request:
            return False
        q = self.understand(text, lang)
        bounded = q.price_max is not None or q.price_min is not None or q.order is not None
        named = any(len(t) >= 2 for t in q.types)  # a kind it names (not a single character: "送人" is no robot)
        return (request or bounded) and named and self.is_search(text, lang, [])

    def wants_to_buy(self, text: str, lang: str = "en") -> bool:
        """A shopping or browsing request for a kind of product ("想买双防水的越野跑鞋 150美元以内",
        "looking for a tent under 250", "看看你们家的X"): searched before any FAQ is tried (an FAQ sharing a word never answers it)."""
        # browsing a kind too ("看看你们家的X", "show me your X"), unless it asks how to do something
        browsing = bool(_BROWSE_RE.search(text)) and not _HOW_RE.search(text)
        if bool(_BUY_RE.search(text) or browsing) and self.asks_for_products(text, lang):
            return True
        which = bool(_WHICH_ASK_RE.search(text))
        if not (which or _HAVE_KIND_RE.search(text)):
            return False
        q = self.understand(text, lang)
        if which:  # "哪款耳机续航最长", "which kettle is the lightest": a kind, ordered
            return bool(q.types and q.order)
        # "有没有防水的音箱", "any earbuds with anc", "do you have X under 50": a kind with something more
        return bool(q.types and (q.attrs or q.order or q.soft_order or q.price_max is not None or q.price_min is not None
                                 or re.search(r"[\u4e00-\u9fff]一?(?:点|些)的", text)))

    def kind_categories(self, text: str, lang: str = "en") -> list[str]:
        """The store's category names, in ``lang``, of the kinds of product ``text`` names
        ("咖啡机保修多久" → 厨房电器; "warranty on a coffee maker" → kitchen): what an FAQ written
        about the category calls them. Empty when it names no kind (a word that only starts
        one, or a single Chinese character, names none)."""
        types = self._named_kinds(text, lang)
        if not types:
            return []
        out: dict[str, None] = {}
        for row in self.vocabulary.rows_for_types(types)[:200].tolist():
            p = self.vocabulary.products[row]
            if p.category:
                out[_category_label(p, lang)] = None
        return list(out)[:3]

    def kind_product_ids(self, text: str, lang: str = "en") -> set[str]:
        """The products of the kinds ``text`` names ("the robot vacuum I bought" → every robot
        vacuum); empty when it names no kind (a word that only starts one names none)."""
        types = self._named_kinds(text, lang)
        if not types:
            return set()
        return {self.vocabulary.products[r].id for r in self.vocabulary.rows_for_types(types).tolist()}

    def related_of_kind(self, text: str, lang: str, product_ids: list[str]) -> list[str]:
        """What goes with ``product_ids`` (:meth:`Catalog.goes_with`) of the kinds ``text`` names
        ("a screen protector for it" with a tablet's cover in view: the tablet's screen protector)."""
        kinds = self.kind_product_ids(text, lang)
        if not kinds:
            return []
        return list(dict.fromkeys(p.id for i in product_ids for p in self._catalog.goes_with(i) if p.id in kinds))

    def _named_kinds(self, text: str, lang: str) -> list[str]:
        """The kinds ``text`` names outright: not a word that only starts one, not a single Chinese character."""
        q = self.understand(text, lang)
        return [t for t in q.types if len(t) >= 2] if not q.partial else []

    def without_kinds(self, text: str, lang: str = "en") -> str:
        """``text`` without the kinds of product it names ("咖啡机保修多久" → "保修多久"): what it
        asks about them."""
        q = self.understand(text, lang)
        out = text
        for t in sorted((t for t in q.types if len(t) >= 2), key=len, reverse=True):
            if lang == "zh":
                out = out.replace(t, " ")
            else:
                out = re.sub(r"(?<![A-Za-z])" + re.escape(t) + r"(?:e?s)?(?![A-Za-z])", " ", out, flags=re.IGNORECASE)
        return re.sub(r"\s+", " ", out).strip()

    def categories_in(self, text: str, lang: str = "en") -> set[str]:
        """The store's category names, in ``lang``, that ``text`` speaks of by name ("All
        electronics, including audio, smart home and gaming" → audio, smart home, gaming), or
        through a kind of product it names ("Outdoor gear such as tents"). Remembered per text (an
        FAQ is read once; an edited one is another text)."""
        key = (lang, text)
        cached = self._categories_of.get(key)
        if cached is None:
            names = self._category_names(lang)
            low = text.lower()
            cached = frozenset({n for n in names if (n in text if lang == "zh" else
                                                     re.search(r"(?<![a-z])" + re.escape(n.lower()) + r"(?![a-z])", low))}
                               | set(self.kind_categories(text, lang)))
            if len(self._categories_of) < _CATEGORIES_REMEMBERED:
                self._categories_of[key] = cached
        return set(cached)

    def _category_names(self, lang: str) -> list[str]:
        cached = self._category_cache.get(lang)
        if cached is None:
            cached = sorted({n for n in (_category_label(p, lang) for p in self._catalog if p.category) if len(n) >= 2})
            self._category_cache[lang] = cached
        return cached

    def names_other_kind(self, text: str, lang: str, product_ids: list[str]) -> bool:
        """Whether ``text`` names a kind of product that none of ``product_ids`` is ("earbuds" when
        smartwatches are in view)."""
        types = self.understand(text, lang).types
        return bool(types) and not self._own_types(types, product_ids)

    def _value_names(self, q: ProductQuery, context_ids: list[str]) -> bool:
        """Whether a value the request asks for is a product in context ("a gift for my nephew, he
        has a Hexa Station 8": things that work with it, not another console)."""
        said = [" ".join(norm_words(a.said)) for a in q.attrs if a.op == "in" and a.said]
        return any(w and w in self._names(i) for w in said for i in context_ids)

    def _own_types(self, types: list[str], context_ids: list[str]) -> set[str]:
        """The named types that the products in context are themselves ("平板" when a tablet is in context)."""
        rows = [self.vocabulary.row[i] for i in context_ids if i in self.vocabulary.row]
        heads = [self.vocabulary.head[r] for r in rows]
        return {t for t in types if any(t in h or h in t for h in heads if h)
                or (t in self.vocabulary.types and bool(set(rows) & set(self.vocabulary.types[t].tolist())))}

    def _names(self, product_id: str) -> str:
        p = self._catalog.get(product_id)
        if p is None:
            return ""
        names = [p.name, p.name_zh, *(t.get("name", "") for t in p.translations.values())]
        return " ".join(" ".join(norm_words(n)) + " " + n.lower() for n in names if n)

    def _related(self, context_ids: list[str]) -> list[str]:
        """Accessories of, and products compatible with, the products in context (the graph's edges)."""
        out: list[str] = []
        for i in context_ids:
            out += [p.id for p in self._catalog.accessories(i)] + [p.id for p in self._catalog.compatible(i)]
        return list(dict.fromkeys(out))

    def recommend(self, question: str, lang: str = "en", *, context_ids: list[str] | None = None, k: int = 3,
                  named_ids: list[str] | None = None, within: list[str] | None = None) -> list[Fact]:
        """Products for a request: its constraints filter, the rest ranks (see :mod:`knowledge.graph.search`).

        With products in context: a type of accessory is looked for among their accessories and
        compatible products (and, when none is listed, the reply says so); an ordering or constraint
        without a type ("the brightest one") keeps to their kind; nothing stated at all: the graph's
        similar products. With ``within``, only among those products ("which of them is cheapest").
        """
        q = self.understand(question, lang, context_ids=context_ids, named_ids=named_ids)
        context = list(dict.fromkeys([*(named_ids or []), *(context_ids or [])]))
        if context and within is None and q.relative_to is None and not q.attrs and not q.order:
            more = self._more_than(q, question, context[0], lang)  # "any bigger ones?", "有没有轻一点的"
            if more is not None:
                return more
        if context and within is None and not q.types and _ANY_ACCESSORY_RE.search(question):
            # "what accessories do you have for the orbit air 73?": what is listed to go with it
            owner = self._catalog.get(context[0])
            if owner is not None:
                acc = list({o.id: o for o in [*self._catalog.accessories(owner.id),
                                              *self._catalog.compatible(owner.id)]}.values())
                if acc:  # in stock first, then cheaper
                    picks = sorted(acc, key=lambda o: (o.stock <= 0, o.price, o.id))[:k]
                    name = owner.display_name(lang)
                    return [self._picks_fact(picks, lang, title=f"{name}的配件" if lang == "zh"
                                             else f"Accessories for the {name}")]
                return [self._none_listed("配件" if lang == "zh" else "accessory", owner.id, lang)]
        # a brand said as part of a product's name ("my Tempo W8") is not asked of the answer
        own_brands = {" ".join(norm_words(p.brand)) for p in (self._catalog.get(i) for i in context) if p and p.brand}
        q.brands = [b for b in q.brands if b not in own_brands]
        if within:
            q.within, q.types, q.relative_to = tuple(within), [], None
            keys = set.intersection(*[set(p.attributes) for p in (self._catalog.get(i) for i in within) if p])
            if q.order is None or (q.order[0] not in ("price", "rating") and q.order[0] not in keys):
                # an ordering on what these products have ("哪个电池最耐用" over mice: their battery
                # life, not a battery capacity only power banks list)
                q.order = comparison_key(question, self.vocabulary, keys) or q.order
        elif context and q.types:
            own = self._own_types(q.types, context)
            wanted = [t for t in q.types if t not in own]
            if wanted and q.relative_to is None:
                q.types = wanted
                rows = set(self.vocabulary.rows_for_types(wanted).tolist())
                related = self._related(context)
                fit = [i for i in related if self.vocabulary.row.get(i) in rows]
                if not fit:  # "配套的键盘" for a "Keyboard Folio": the type's word inside a related product's name
                    fit = [i for i in related if any(w in self._names(i) for w in wanted)]
                if not fit:  # "再来个贴膜" after the tablet's keyboard: what else goes with the same tablet
                    fit = [p.id for i in context for p in self._catalog.goes_with(i) if self.vocabulary.row.get(p.id) in rows]
                if fit:
                    q.within, q.types = tuple(fit), []
                elif rows and self.vocabulary.accessory[sorted(rows)].mean() >= 0.5:
                    return [self._none_listed(wanted[0], context[0], lang)]
            elif not wanted:
                # the kind of the accessory in context ("cheapest case?" after a case for the Edge 6,
                # "anything cheaper?" after one): among the accessories of what it is for, not
                # every case of the store
                owners = [o.id for i in context for o in self._catalog.related(i, "accessory_of")]
                rows = set(self.vocabulary.rows_for_types(q.types).tolist())
                fit = [a.id for o in dict.fromkeys(owners) for a in self._catalog.accessories(o)
                       if self.vocabulary.row.get(a.id) in rows]
                if fit:
                    q.within, q.types = tuple(dict.fromkeys(fit)), []
        elif context and q.constrained and q.relative_to is None and not self._value_names(q, context):
            heads = [self.vocabulary.head[self.vocabulary.row[i]] for i in context if i in self.vocabulary.row]
            q.types = [h for h in heads if h]
        elif context and not q.constrained:
            similar = [s for i in context for s in self._catalog.similar(i) if s.stock > 0]
            if similar:
                picks = sorted({p.id: p for p in similar}.values(), key=lambda p: (-p.rating, p.price, p.id))[:k]
                return [self._picks_fact(picks, lang)]
            heads = [self.vocabulary.head[self.vocabulary.row[i]] for i in context if i in self.vocabulary.row]
            q.types, q.relative_to = [h for h in heads if h], context[0]
        if not q.constrained:
            return []
        result = self.search(q, k)
        if q.relative_to is not None and q.price_strict and (not result.products or "price" in result.relaxed):
            # "anything cheaper?" when nothing of the kind costs less: say so (never dearer picks)
            return [self._none_cheaper(q.relative_to, lang)]
        if not result.products:
            return []
        return [self._result_fact(result, lang)]

    def _more_than(self, q: ProductQuery, question: str, ref: str, lang: str) -> list[Fact] | None:
        """A comparative relative to the product in context ("any bigger ones?", "有没有轻一点的",
        "续航更长的呢"): its kind (among what fits the same product, for an accessory) beyond its own
        value, best first, or plainly that none is; None when the question is no such comparative."""
        v = self.vocabulary
        p = self._catalog.get(ref)
        if p is None or ref not in v.row or not _COMPARATIVE_ASK_RE.search(question) or _CHEAPER_WORD_RE.search(question):
            return None
        if q.types and not self._own_types(q.types, [ref]):
            return None  # "any lighter running shoes?" after earbuds: a search of its own
        keys = {k for k in p.attributes if k in v.numbers}
        key = comparison_key(question, v, keys)
        if key is None and _BIGGER_RE.search(question):  # "bigger" of a thing: its volume, else its length
            size = [k for k in sorted(keys) if v.attributes[k].measures("volume") or v.attributes[k].measures("length")]
            key = (size[0], "asc" if _SMALLER_RE.search(question) else "desc") if size else None
        if key is None or key[0] in ("price", "rating"):
            return None
        value = v.numbers[key[0]][v.row[ref]]
        if value != value:  # the product has no such number
            return None
        k, direction = key
        bound = float(value) * (1.0001 if direction == "desc" else 0.9999)
        a = p.attributes.get(k)
        shown = say.rendered(a, lang) if a is not None else f"{value:g}"
        said = (f"{'高于' if direction == 'desc' else '低于'}{shown}" if lang == "zh"
                else f"{'more' if direction == 'desc' else 'less'} than {shown}")
        q.attrs = [AttrConstraint(k, ">=" if direction == "desc" else "<=", bound, said, v.attributes[k].dimension)]
        q.order, q.types = (k, direction), [kind_of(v, v.head[v.row[ref]])] if v.head[v.row[ref]] else q.types
        owners = [o.id for o in self._catalog.related(ref, "accessory_of")]
        if owners:  # an accessory: among those for the same product
            rows = set(v.rows_for_types(q.types).tolist())
            fit = [a.id for o in dict.fromkeys(owners) for a in self._catalog.accessories(o) if v.row.get(a.id) in rows]
            if fit:
                q.within, q.types = tuple(dict.fromkeys(fit)), []
        result = self.search(q, 3)
        if not result.products or result.relaxed:
            lab = say.label(a, lang) if a is not None else k
            word = ("更高" if direction == "desc" else "更低") if lang == "zh" else ("higher" if direction == "desc" else "lower")
            text = (f"没有{lab}比{p.display_name(lang)}（{say.rendered(a, lang)}）{word}的同类商品了。" if lang == "zh"
                    else f"Nothing of its kind has a {word} {lab} than the {p.display_name(lang)} ({say.rendered(a, lang)}).")
            return [Fact(text, (_src(p),))]
        return [self._result_fact(result, lang)]

    def _none_cheaper(self, product_id: str, lang: str) -> Fact:
        """Nothing of its kind (among what fits the same product, for an accessory) costs less."""
        p = self._catalog.get(product_id)
        name = p.display_name(lang) if p else product_id
        price = self.price(p) if p else ""
        text = (f"没有比{name}（{price}）更便宜的同类商品了，它已经是价格最低的一款。" if lang == "zh"
                else f"Nothing of its kind costs less than the {name} ({price}): it is already the lowest-priced one.")
        return Fact(text, (_src(p),) if p else ())

    def _none_listed(self, kind: str, product_id: str, lang: str) -> Fact:
        p = self._catalog.get(product_id)
        name = p.display_name(lang) if p else product_id
        text = (f"目前没有列出适用于{name}的{kind}。" if lang == "zh"
                else f"No {kind} is listed for the {name} in our catalog.")
        return Fact(text, (_src(p),) if p else ())

    def _picks_fact(self, picks: list[Product], lang: str, extra: list[str] | None = None, heading: str = "",
                    title: str = "") -> Fact:
        items = []
        for p in picks:
            bits = [self.price(p)] + [say.value(p.attributes[key], lang) for key in (extra or []) if key in p.attributes]
            if p.stock <= 0:
                bits.append("缺货" if lang == "zh" else "out of stock")
            items.append(f"{p.display_name(lang)}（{'，'.join(bits)}）" if lang == "zh"
                         else f"{p.display_name(lang)} ({', '.join(bits)})")
        if lang == "zh":
            text = f"{title or (f'符合（{heading}）的推荐' if heading else '为您推荐')}：{'；'.join(items)}。"
        else:
            text = f"{title or 'Top picks'}{f' ({heading})' if heading else ''}: {'; '.join(items)}."
        return Fact(text, tuple(_src(p) for p in picks))

    def _result_fact(self, r: SearchResult, lang: str) -> Fact:
        """The asked fact first: the best pick for an ordering, or what fits; or, honestly, the closest."""
        q, picks = r.query, r.products
        # (a value picked from a long list — "size 5" of fifteen sizes — is said in the heading, not listed per product)
        long_lists = {c.key for c in q.attrs if c.op == "in" and isinstance(getattr(picks[0].attributes.get(c.key), "value", None), list)
                      and len(picks[0].attributes[c.key].value) > 3}
        keys = [c.key for c in q.attrs if c.key not in long_lists] + (
            [q.order[0]] if q.order and q.order[0] not in ("price", "rating") else []) + (
            [q.soft_order[0]] if q.soft_order and q.soft_order[0] not in ("price", "rating") else [])
        keys = list(dict.fromkeys(k for k in keys if k in self.vocabulary.attributes))
        first = picks[0]
        lead = ""
        # the true best of an ordering when it is out of stock and one in stock comes first
        best = r.best if (r.best is not None and r.best.stock <= 0 and first.stock > 0) else None
        if r.relaxed:
            what = self._said(q, r.relaxed, lang)
            lead = (f"没有完全符合（{what}）的商品，最接近的是{first.display_name(lang)}。" if lang == "zh"
                    else f"Nothing matches all of that ({what}); the closest is the {first.display_name(lang)}.")
        elif q.order is not None:
            key, direction = q.order
            if key == "price":
                lead = (f"{'最便宜' if direction == 'asc' else '最贵'}的是{first.display_name(lang)}，售价{self.price(first)}。"
                        if lang == "zh" else
                        f"The {'cheapest' if direction == 'asc' else 'most expensive'} is the "
                        f"{first.display_name(lang)} at {self.price(first)}.")
            elif key == "rating":
                lead = (f"评分最高的是{first.display_name(lang)}（{first.rating:g}分）。" if lang == "zh"
                        else f"The best rated is the {first.display_name(lang)} ({first.rating:g}).")
            elif key in first.attributes:
                a = first.attributes[key]
                lab = say.label(a, lang)
                lead = (f"{lab}{'最低' if direction == 'asc' else '最高'}的是{first.display_name(lang)}："
                        f"{say.rendered(a, lang)}。" if lang == "zh" else
                        f"The {first.display_name(lang)} has the {'lowest' if direction == 'asc' else 'highest'} "
                        f"{lab}: {say.rendered(a, lang)}.")
            if lead and first.stock <= 0:  # the true best, said to be out of stock
                lead = lead[:-1] + ("，但目前缺货。" if lang == "zh" else ", but it is out of stock.")
            elif lead and best is not None:  # the best in stock, and the true best that is not
                value = (self.price(best) if key == "price" else f"{best.rating:g}" if key == "rating"
                         else say.rendered(best.attributes[key], lang) if key in best.attributes else "")
                lead = (f"有货的商品里，{lead[:-1]}；{best.display_name(lang)}（{value}）目前缺货。" if lang == "zh"
                        else f"Of those in stock, {lead[0].lower()}{lead[1:-1]}; the {best.display_name(lang)}, "
                             f"{value}, is out of stock.")
        stated = [n for n in ("price", *(c.key for c in q.attrs)) if n != "price" or q.price_max or q.price_min]
        heading = "" if r.relaxed or not stated else self._said(q, stated, lang)
        title = ("其他接近的" if lang == "zh" else "Also close") if r.relaxed else ""
        if r.relaxed and len(picks) > 1:
            picks = picks[1:]
        body = self._picks_fact(picks, lang, keys, heading, title) if not r.relaxed or len(r.products) > 1 else None
        if body is None:
            return Fact(lead, (_src(first),))
        body = Fact(body.text, (_src(first), *body.sources) if r.relaxed else body.sources)
        return Fact((lead + ("" if lang == "zh" else " ") + body.text).strip() if lead else body.text, body.sources)

    def _said(self, q: ProductQuery, relaxed: list[str], lang: str) -> str:
        bits = []
        for name in relaxed:
            if name == "price":
                if q.price_min is not None and q.price_max is not None:
                    bits.append(f"{self._cur}{q.price_min:g}-{self._cur}{q.price_max:g}")
                elif q.price_max is not None:
                    bits.append(f"{self._cur}{q.price_max:g}以内" if lang == "zh" else f"under {self._cur}{q.price_max:g}")
                elif q.price_min is not None:
                    bits.append(f"{self._cur}{q.price_min:g}以上" if lang == "zh" else f"over {self._cur}{q.price_min:g}")
            elif name in ("brand", "type"):
                continue
            else:
                c = next((c for c in q.attrs if c.key == name), None)
                info = self.vocabulary.attributes.get(name)
                lab = (info.label_zh or info.label) if info and lang == "zh" else (info.label if info else name)
                said = c.said if c is not None else ""
                if said in WATER_USES:
                    said = _USE_WORDS[said][1 if lang == "zh" else 0]
                bits.append((f"{lab}：{said}" if lang == "zh" else f"{lab}: {said}") if said and said != lab else lab)
        return ("、" if lang == "zh" else ", ").join(bits) or ("条件" if lang == "zh" else "your request")
