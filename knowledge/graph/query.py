"""Questions about products answered from the catalog graph: attributes, compare, recommend.

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

from knowledge.kernel.types import Fact
from knowledge.kernel.types import Source

from .catalog import Catalog, Product

__all__ = ["ProductQA"]

# question keywords -> attribute keys that answer them (first present wins)
_ATTRIBUTE_CUES: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"battery|charge last|last on a charge|hours|续航|电池|能用多久"), ("battery_life",)),
    (re.compile(r"bluetooth|蓝牙"), ("bluetooth_version", "bluetooth", "connectivity")),
    (re.compile(r"water|rain|sweat|swim|防水|ip\d"), ("water_resistance", "waterproof")),
    (re.compile(r"weigh|heavy|light|重量|多重"), ("weight", "shipping_weight")),
    (re.compile(r"warrant|guarantee|保修|质保"), ("warranty",)),
    (re.compile(r"size|fit|尺码|尺寸|码数"), ("sizes", "size", "screen_size", "dimensions")),
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
_COMPAT_RE = re.compile(r"work with|works with|compatible|support|connect|pair|兼容|支持|能用|适配|连接")
_PRICE_RE = re.compile(r"price|cost|how much|\$|多少钱|价格|价钱")
_STOCK_RE = re.compile(r"stock|available|availability|sold out|有货|库存|缺货|还有吗")
_ACCESSORY_RE = re.compile(r"accessor|case|charger|配件|充电盒")
_SIMILAR_RE = re.compile(r"similar|alternative|instead|comparable|like (?:it|this|that)|类似|相似|替代|差不多")
_FIT_RE = re.compile(r"\bfit|go with|work with|works with|compatible|兼容|适配|配套|能用")
_AMOUNT = r"(\d{1,3}(?:,\d{3})+|\d{2,6})"
_BUDGET_RE = re.compile(
    rf"(?:under|below|less than|max|budget|within|up to|以内|以下|不超过)\s*\$?\s*{_AMOUNT}"
    rf"|\$?\s*{_AMOUNT}\s*(?:以内|以下|块|元|dollars)"
)

_CATEGORY_CUES = {
    "audio": r"earbud|headphone|earphone|speaker|headset|audio|耳机|音箱|音响",
    "mobile_accessories": r"phone case|charger|cable|power bank|screen protector|手机壳|充电器|数据线|充电宝",
    "phones": r"(?<!head)(?<!ear)phone(?! case)s?\b|smartphone|手机(?!壳)|平板",
    "computing": r"laptop|notebook|keyboard|mouse|monitor|tablet|computer|电脑|笔记本|键盘|鼠标|显示器",
    "wearables": r"watch|smartwatch|fitness|tracker|band|手表|手环",
    "footwear": r"shoe|sneaker|boot|running|trainer|鞋|跑鞋",
    "apparel": r"jacket|shirt|hoodie|pants|clothes|衣服|外套|夹克|裤",
    "kitchen": r"coffee|blender|kettle|kitchen|toaster|air fryer|咖啡|料理机|水壶|厨房|空气炸锅",
    "outdoor": r"tent|backpack|hiking|camping|bottle|outdoor|帐篷|背包|露营|户外|水壶",
    "smart_home": r"smart home|bulb|plug|camera|doorbell|thermostat|智能家居|灯泡|插座|摄像头|门铃",
    "gaming": r"gaming|controller|console|game|游戏|手柄",
}


def _src(p: Product, score: float = 1.0) -> Source:
    return Source(id=p.id, kind="product", title=p.name, score=score)


class ProductQA:
    """Answers product questions from a :class:`Catalog`."""

    def __init__(self, catalog: Catalog, *, currency_symbol: str = "$") -> None:
        self._catalog = catalog
        self._cur = currency_symbol

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
        out: list[Fact] = []
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
                    if a is not None:
                        note = f" ({a.note})" if a.note and lang == "en" else ""
                        label = a.label_zh or a.label if lang == "zh" else a.label
                        out.append(Fact(
                            f"{name}的{label}：{a.render(lang)}。" if lang == "zh"
                            else f"{label.capitalize()} of the {name}: {a.render(lang)}{note}.", (_src(p),)))
                        break
        if _PRICE_RE.search(q):
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

    def _relation_facts(
        self, p: Product, others: list[Product], q: str, lang: str, *, asked_platforms: bool
    ) -> list[Fact]:
        """Facts from the graph's edges around ``p``, each citing ``p`` and the products at the other end."""
        out: list[Fact] = []
        others = [o for o in others if o.id != p.id]
        if others and (_FIT_RE.search(q) or _COMPAT_RE.search(q)):
            for o in others:
                out.append(self.compatibility(p, o, lang))
        elif _ACCESSORY_RE.search(q):
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

    def summary(self, p: Product, lang: str = "en") -> Fact:
        attrs = list(p.attributes.values())[:4]
        if lang == "zh":
            details = "，".join(f"{a.label_zh or a.label}{a.render('zh')}" for a in attrs)
            text = f"{p.display_name('zh')}（{p.brand}）售价{self.price(p)}，{details}。"
        else:
            details = "; ".join(f"{a.label}: {a.render()}" for a in attrs)
            text = f"The {p.name} by {p.brand} costs {self.price(p)}. {details}."
        return Fact(text, (_src(p),))

    def compare(self, product_ids: list[str], lang: str = "en") -> list[Fact]:
        products = [p for p in (self._catalog.get(i) for i in product_ids[:2]) if p is not None]
        if len(products) < 2:
            return []
        a, b = products
        shared = [k for k in a.attributes if k in b.attributes][:4]
        if lang == "zh":
            parts = [f"{a.display_name('zh')}售价{self.price(a)}，评分{a.rating}；{b.display_name('zh')}售价{self.price(b)}，评分{b.rating}。"]
            parts += [f"{a.attributes[k].label_zh or a.attributes[k].label}：{a.attributes[k].render('zh')} 对比 {b.attributes[k].render('zh')}。" for k in shared]
        else:
            parts = [f"The {a.name} costs {self.price(a)} (rated {a.rating}); the {b.name} costs {self.price(b)} (rated {b.rating})."]
            parts += [f"{a.attributes[k].label.capitalize()}: {a.attributes[k].render()} vs {b.attributes[k].render()}." for k in shared]
        return [Fact(" ".join(parts) if lang != "zh" else "".join(parts), (_src(a), _src(b)))]

    def recommend(self, question: str, lang: str = "en", *, context_ids: list[str] | None = None, k: int = 3) -> list[Fact]:
        q = question.lower()
        cats = [c for c, rx in _CATEGORY_CUES.items() if re.search(rx, q)]
        pool: list[Product] = []
        if cats:
            pool = [p for c in cats for p in self._catalog.in_category(c)]
        elif context_ids:
            base = [self._catalog.get(i) for i in context_ids if self._catalog.get(i)]
            pool = [s for b in base for s in self._catalog.similar(b.id)] or [
                p for b in base for p in self._catalog.in_category(b.category) if p.id != b.id
            ]
        if not pool:
            return []
        m = _BUDGET_RE.search(q)
        budget = float((m.group(1) or m.group(2)).replace(",", "")) if m else None
        wants_accessory = bool(_ACCESSORY_RE.search(q))
        pool = [
            p for p in {p.id: p for p in pool}.values()
            if p.stock > 0
            and (budget is None or p.price <= budget)
            and (wants_accessory or not self._catalog.is_accessory(p.id))
        ]
        pool.sort(key=lambda p: (-p.rating, p.price, p.id))
        picks = pool[:k]
        if not picks:
            return []
        if lang == "zh":
            items = "；".join(f"{p.display_name('zh')}（{self.price(p)}，评分{p.rating}）" for p in picks)
            text = f"为您推荐：{items}。"
        else:
            items = "; ".join(f"{p.name} ({self.price(p)}, rated {p.rating})" for p in picks)
            text = f"Top picks{f' under {self._cur}{budget:,.0f}' if budget else ''}: {items}."
        return [Fact(text, tuple(_src(p) for p in picks))]
