"""What attribute values mean: units and their conversions, ingress-protection codes, Chinese numbers.

Standards, not store data: a unit (``kg``, ``毫升``, ``hours``) belongs to a dimension and converts to
its base (``1.2 kg`` = ``1200 g``); an IP code (IEC 60529, ``IPX4``, ``IP68``) says which water it
stands (splashes, rain, a dunk, swimming); Chinese numerals (``一百``, ``两千五``) are numbers. The
store's catalog says which attributes carry which units; this module only knows the units.

Example:
    >>> to_base(1.2, "kg"), water_level("IP68"), cn_number("一百五")
    ((1200.0, 'mass'), 8, 150.0)
"""

from __future__ import annotations

import re

__all__ = ["UNITS", "unit_of", "to_base", "render_unit", "water_level", "water_meaning", "cn_number",
           "WATER_USES"]

# unit -> (dimension, factor to the dimension's base unit); spellings customers and catalogs use
UNITS: dict[str, tuple[str, float]] = {
    "g": ("mass", 1), "gram": ("mass", 1), "grams": ("mass", 1), "克": ("mass", 1),
    "kg": ("mass", 1000), "kgs": ("mass", 1000), "kilo": ("mass", 1000), "kilos": ("mass", 1000),
    "公斤": ("mass", 1000), "千克": ("mass", 1000), "斤": ("mass", 500),
    "lb": ("mass", 453.6), "lbs": ("mass", 453.6), "pound": ("mass", 453.6), "pounds": ("mass", 453.6),
    "ml": ("volume", 1), "毫升": ("volume", 1), "l": ("volume", 1000), "litre": ("volume", 1000),
    "liter": ("volume", 1000), "litres": ("volume", 1000), "liters": ("volume", 1000), "升": ("volume", 1000),
    "mm": ("length", 1), "毫米": ("length", 1), "cm": ("length", 10), "厘米": ("length", 10),
    "公分": ("length", 10), "m": ("length", 1000), "米": ("length", 1000), "in": ("length", 25.4),
    "inch": ("length", 25.4), "inches": ("length", 25.4), "英寸": ("length", 25.4), "寸": ("length", 25.4),
    "h": ("time", 60), "hr": ("time", 60), "hrs": ("time", 60), "hour": ("time", 60), "hours": ("time", 60),
    "小时": ("time", 60), "个小时": ("time", 60), "min": ("time", 1), "mins": ("time", 1),
    "minute": ("time", 1), "minutes": ("time", 1), "分钟": ("time", 1),
    "d": ("time", 1440), "day": ("time", 1440), "days": ("time", 1440), "天": ("time", 1440),
    "week": ("time", 10080), "weeks": ("time", 10080), "周": ("time", 10080), "星期": ("time", 10080),
    "w": ("power", 1), "watt": ("power", 1), "watts": ("power", 1), "瓦": ("power", 1),
    "mah": ("charge", 1), "毫安": ("charge", 1), "毫安时": ("charge", 1),
    "gb": ("data", 1), "tb": ("data", 1024), "mp": ("pixels", 1), "megapixel": ("pixels", 1),
    "megapixels": ("pixels", 1), "万像素": ("pixels", 0.01),
    "lm": ("light", 1), "lumen": ("light", 1), "lumens": ("light", 1), "流明": ("light", 1),
    "pa": ("pressure", 1), "°c": ("temperature", 1), "℃": ("temperature", 1), "度": ("temperature", 1),
    "months": ("months", 1), "month": ("months", 1), "个月": ("months", 1),
    "years": ("years", 1), "year": ("years", 1), "岁": ("years", 1),
    "persons": ("persons", 1), "person": ("persons", 1), "people": ("persons", 1), "人": ("persons", 1),
    "pcs": ("pieces", 1), "pieces": ("pieces", 1), "件": ("pieces", 1), "片": ("pieces", 1),
}
# how a unit is written in a reply, per language (others as the catalog writes them)
_ZH_UNITS = {"h": "小时", "min": "分钟", "g": "克", "kg": "千克", "ml": "毫升", "l": "升", "cm": "厘米",
             "mm": "毫米", "m": "米", "in": "英寸", "w": "瓦", "months": "个月", "years": "岁",
             "persons": "人", "pcs": "件",
             # count nouns a catalog writes after a number ("2 slices", "6 presets", "3 ports")
             "slices": "片", "slice": "片", "presets": "种预设程序", "ports": "个接口", "port": "个接口",
             "cups": "杯", "pieces": "件", "pairs": "双", "days": "天", "day": "天", "hours": "小时",
             "minutes": "分钟", "weeks": "周", "speeds": "档", "settings": "档", "levels": "档",
             "people": "人", "servings": "人份", "outlets": "个插孔", "burners": "个灶头", "zones": "个区域"}
_EN_UNITS = {"h": "hours", "min": "minutes", "months": "months"}


def unit_of(text: str | None) -> tuple[str, float] | None:
    """``(dimension, factor)`` of a unit as written (``"kg"``, ``"Hours"``, ``"毫升"``), or None."""
    if not text:
        return None
    return UNITS.get(text.strip().lower())


def to_base(value: float, unit: str | None) -> tuple[float, str] | None:
    """``value`` in its dimension's base unit, with the dimension; None for an unknown unit."""
    u = unit_of(unit)
    return (float(value) * u[1], u[0]) if u else None


def render_unit(unit: str | None, lang: str) -> str:
    """The unit as a reply in ``lang`` writes it after a number (with its leading space in English)."""
    if not unit:
        return ""
    low = unit.lower()
    if lang == "zh":
        return _ZH_UNITS.get(low, unit if not unit[:1].isalpha() else f" {unit}")
    return " " + _EN_UNITS.get(low, unit)


# (metres alone are no rating: "10 m" is as likely a cable's length)
_ATM = re.compile(r"(\d+(?:\.\d+)?)\s*(?:atm|bar)\b|\b(\d{2,3})\s*(?:m|metres|meters|米)\s*(?:water|防水)|\bWR\s*(\d{2,3})\b",
                  re.IGNORECASE)
_IP = re.compile(r"\bIP\s*([0-6X])\s*([0-9X])\b", re.IGNORECASE)
# the water digit of an IP code: what it stands, per IEC 60529, in the customer's words
_WATER = {
    0: ("no protection against water", "不防水"),
    1: ("dripping water only", "只防滴水"),
    2: ("dripping water only", "只防滴水"),
    3: ("light spray and rain", "防淋雨"),
    4: ("splashes, sweat and rain", "防溅水、汗水和雨水"),
    5: ("water jets and heavy rain", "防喷水和大雨"),
    6: ("powerful water jets and heavy rain", "防强力喷水和大雨"),
    7: ("a brief dunk (up to 1 m for 30 minutes), not swimming", "短时浸水（1米内30分钟），不适合游泳"),
    8: ("continuous submersion, such as swimming", "持续浸水，可以游泳"),
    9: ("continuous submersion and hot high-pressure jets", "持续浸水和高温高压水流"),
}
# what a use needs: the lowest water digit that stands it
WATER_USES: dict[str, int] = {"splash": 4, "sweat": 4, "rain": 4, "shower": 5, "dunk": 7, "swim": 8}
_USE_WORDS = [
    ("swim", re.compile(r"swim|pool|snorkel|dive|diving|游泳|潜水|泳池|下水")),
    ("dunk", re.compile(r"submerge|drop(?:ped)? in(?:to)? (?:the )?water|dunk|泡水|掉水里|掉进水")),
    ("shower", re.compile(r"shower|洗澡|淋浴")),
    ("rain", re.compile(r"\brain|下雨|雨天|淋雨")),
    ("sweat", re.compile(r"sweat|\bgym\b|workout|出汗|健身|\b(?:for|during|while|when|on) (?:my )?(?:running|runs?|jogging|jogs?|"
                         r"exercise|exercising|training|sports?|working out|hikes?|hiking)\b|(?:跑步|运动|锻炼)(?:用|时|的时候|戴)")),
    ("splash", re.compile(r"splash|waterproof|water ?resist|防水|溅")),
]


def water_level(value: object) -> int | None:
    """The water digit of an IP code (``IPX4`` -> 4, ``IP68`` -> 8), or the IP digit that stands the
    same uses for a watch-style rating in atmospheres (``5 ATM``, ``WR50``: swimming -> 8,
    ``3 ATM``: splashes and rain -> 4); None when ``value`` is neither."""
    m = _IP.search(str(value))
    if m and m.group(2).upper() != "X":
        return int(m.group(2))
    atm = _atm(value)
    if atm is None:
        return None
    return 8 if atm >= 5 else 4 if atm >= 2 else 3


def _atm(value: object) -> float | None:
    """A water-resistance rating in atmospheres (``5 ATM``, ``10 bar``, ``50 m``, ``WR50``), or None."""
    m = _ATM.search(str(value))
    if not m:
        return None
    if m.group(1):
        return float(m.group(1))
    return float(m.group(2) or m.group(3)) / 10.0  # metres of static pressure: 10 m per atmosphere


def water_use(text: str) -> str | None:
    """The wettest use a question names (``"can I swim with it"`` -> ``"swim"``), or None."""
    low = text.lower()
    for use, rx in _USE_WORDS:
        if rx.search(low):
            return use
    return None


def water_meaning(value: object, lang: str = "en") -> str | None:
    """What an IP code stands, in words (``IPX4`` -> ``"splashes, sweat and rain"``); None when no code."""
    level = water_level(value)
    if level is None:
        return None
    if not (_IP.search(str(value)) and _IP.search(str(value)).group(2).upper() != "X"):
        atm = _atm(value) or 0.0  # a watch-style rating says less than an IP code: no diving below 10 ATM
        en, zh = (("swimming and snorkelling, not scuba diving", "游泳和浮潜，不适合水肺潜水") if atm >= 10 else
                  ("swimming in a pool or the sea, not diving", "在泳池或海里游泳，不适合潜水") if atm >= 5 else
                  ("splashes, sweat and rain, not swimming", "防溅水、汗水和雨水，不适合游泳"))
        return zh if lang == "zh" else en
    en, zh = _WATER[level]
    return zh if lang == "zh" else en


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千万]+")


def cn_number(text: str) -> float | None:
    """A Chinese numeral as a number: ``一百`` 100, ``三百五`` 350, ``两千`` 2000, ``十五`` 15."""
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in text):
        return None
    total, section, digit, last_unit, zero = 0, 0, None, None, False
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
            zero = zero or digit == 0
        else:
            unit = _CN_UNITS[ch]
            if unit == 10000:
                total += (section + (digit or 0)) * unit
                section, digit, last_unit = 0, None, unit
                continue
            section += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
    if digit is not None:
        # "三百五" is 350: a trailing digit counts in the unit below the last one
        section += digit * (last_unit // 10 if last_unit and last_unit >= 100 and not zero else 1)
    return float(total + section)


# colour names as Chinese writes them (the language's words, not any store's): a catalog written in
# English still answers "有没有海军蓝的" and says "黑色" in a Chinese reply
COLOURS_ZH = {
    "black": "黑色", "white": "白色", "grey": "灰色", "gray": "灰色", "silver": "银色", "gold": "金色",
    "navy": "海军蓝", "navy blue": "海军蓝", "blue": "蓝色", "light blue": "浅蓝色", "dark blue": "深蓝色",
    "red": "红色", "green": "绿色", "sage green": "鼠尾草绿", "sage": "鼠尾草绿", "olive": "橄榄绿",
    "pink": "粉色", "rose": "玫瑰色", "rose gold": "玫瑰金", "purple": "紫色", "lavender": "薰衣草紫",
    "yellow": "黄色", "orange": "橙色", "brown": "棕色", "beige": "米色", "cream": "奶油色",
    "khaki": "卡其色", "tan": "棕褐色", "burgundy": "酒红色", "teal": "青色", "charcoal": "炭灰色",
    "graphite": "石墨色", "space gray": "深空灰", "space grey": "深空灰", "midnight": "午夜色",
    "clear": "透明", "transparent": "透明", "coral": "珊瑚色", "mint": "薄荷绿", "ivory": "象牙白",
    "stone": "岩石灰", "sand": "沙色", "forest green": "森林绿", "dark green": "深绿色", "light gray": "浅灰色",
    "light grey": "浅灰色", "dark gray": "深灰色", "dark grey": "深灰色", "multicolor": "多色", "camo": "迷彩",
}


# materials as Chinese writes them
MATERIALS_ZH = {
    "leather": "皮革", "genuine leather": "真皮", "vegan leather": "素食皮革", "faux leather": "人造革",
    "nylon": "尼龙", "braided nylon": "编织尼龙", "silicone": "硅胶", "stainless steel": "不锈钢", "steel": "钢",
    "aluminum": "铝", "aluminium": "铝", "titanium": "钛", "plastic": "塑料", "tpu": "TPU", "tpe": "TPE",
    "polycarbonate": "聚碳酸酯", "glass": "玻璃", "tempered glass": "钢化玻璃", "ceramic": "陶瓷",
    "cotton": "棉", "organic cotton": "有机棉", "polyester": "聚酯纤维", "recycled polyester": "再生聚酯纤维",
    "wool": "羊毛", "merino wool": "美利奴羊毛", "fleece": "抓绒", "down": "羽绒", "mesh": "网布",
    "engineered mesh": "工程网布", "ripstop nylon": "防撕裂尼龙", "ripstop mesh": "防撕裂网布",
    "canvas": "帆布", "rubber": "橡胶", "suede": "麂皮", "bamboo": "竹", "wood": "木", "fabric": "织物",
    "gore-tex": "GORE-TEX", "spandex": "氨纶", "elastane": "弹性纤维", "linen": "亚麻",
}


def colour_zh(value: str) -> str | None:
    """The Chinese name of a colour written in English ("Navy" -> "海军蓝"), or None."""
    return COLOURS_ZH.get(value.strip().lower())


def value_zh(key: str, value: str) -> str | None:
    """A colour's or a material's Chinese name (by the attribute's key: a colour, a material, a fill,
    a fabric...), or None."""
    low = key.lower()
    table = (COLOURS_ZH if "colo" in low else
             MATERIALS_ZH if re.search(r"material|fill|fabric|lining|upper|shell|insulation", low) else None)
    return table.get(value.strip().lower()) if table else None
