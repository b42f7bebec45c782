"""Product attributes a customer names in a message, English and Chinese: sizes, colors, quantities.

Values are normalised so that flows and catalog filters compare them directly:

* sizes: a shoe size as said (``"9"``, ``"10.5"``), with its system when given (``"US 10"``,
  ``"UK 8"``, ``"EU 42"``; 42码 is ``"EU 42"``), or a garment size ``"XS"`` ... ``"XXL"``
  ("a medium" and 中号 are ``"M"``);
* colors: English names (``"black"``, ``"navy"``, ``"grey"``; 黑色 is ``"black"``);
* quantities: integers ("two pairs", "x3", "qty 4", 3件, 两个).

Numbers that only look like these (prices, durations, model numbers such as "Trailrunner 5 shoes",
"screen size 6.5 inch", 3号 as a date) are left alone, and so are phrases such as "Black Friday",
"white noise" or 蓝牙.

Example:
    >>> find_sizes("do you have the hoodie in XL or a size 9 in US 10?")
    ['XL', '9', 'US 10']
    >>> find_colors("black or 深蓝色, not the white noise one")
    ['black', 'navy']
    >>> find_quantities("I need two pairs and 3件")
    [2, 3]
"""

from __future__ import annotations

import re

from knowledge.graph.fuzzy import COMMON_WORDS

from .dates import zh_number

__all__ = ["find_sizes", "find_colors", "find_quantities"]

# -- sizes ----------------------------------------------------------------------------------------

_NUM = r"(\d{1,2}(?:\.5)?)"
# units of length, volume or storage after a number: "size 6.5 inch", "size 10 l"; "in" only at the end
_NOT_A_SIZE_AFTER = (r"(?!\s*(?:-?inch|inches|in\b(?!\s+\w)|mm|cm|m\b|gb|tb|l\b|litres?|liters?|oz|%|\"|''|"
                     r"\.\d|/\d|x\s*\d))")
_LETTERS = {"XXS": "XXS", "XS": "XS", "S": "S", "M": "M", "L": "L", "XL": "XL", "XXL": "XXL", "2XL": "XXL",
            "XXXL": "XXXL", "3XL": "XXXL"}
_SPELLED = {"extra small": "XS", "extra-small": "XS", "x-small": "XS", "small": "S", "medium": "M", "large": "L",
            "extra large": "XL", "extra-large": "XL", "x-large": "XL", "xx-large": "XXL"}
_ZH_SPELLED = {"加加大": "XXL", "加大": "XL", "特大": "XL", "大": "L", "中": "M", "小": "S"}
_LETTER = r"(XXS|XXXL|XXL|XS|XL|2XL|3XL|S|M|L)"
_SIZE_LEAD = r"(?:size|sz|in|an?|the|to|for|or|and|from|wear|need|want|get|have|had|got|ordered|bought)"
_GARMENT = (r"(?:one|size|in|t-?shirts?|tees?|shirts?|hoodies?|jackets?|tights|socks|pairs?|instead|please|and|or|but|"
            r"version|fit)")

_SYSTEM_RE = re.compile(r"(?<![A-Za-z])(US|UK|EU|EUR|us|uk|eu)\s?(?:(?:men'?s|women'?s|mens|womens|M|W)\s?)?" + _NUM
                        + r"(?![\d.%])" + _NOT_A_SIZE_AFTER)
_SIZE_NUM_RE = re.compile(r"\b(?:size[sd]?|sz|wear)\s*(?:is\s+|of\s+|:\s*|=\s*)?(?:an?\s+)?(?:size\s+)?" + _NUM + r"\b"
                          + _NOT_A_SIZE_AFTER, re.IGNORECASE)
_LETTER_RE = re.compile(r"(?<![A-Za-z0-9_-])" + _LETTER + r"(?![A-Za-z0-9_-])(?!\.\d)", re.IGNORECASE)
_SPELLED_RE = re.compile(r"\b(extra[- ]small|x-small|xx-large|x-large|extra[- ]large|small|medium|large)\b",
                         re.IGNORECASE)
_ZH_LETTER_RE = re.compile(r"(?<![A-Za-z])" + _LETTER + r"\s*(?:码|号)", re.IGNORECASE)
_ZH_NUM_RE = re.compile(r"(?<![\d.])(\d{2}(?:\.5)?)\s*(?:码|号)(?!码)")
_ZH_LEAD_RE = re.compile(r"(?:(欧码|美码|英码)|尺码\s*(?:是|为|要|[:：])?|穿)\s*" + _NUM + r"(?![\d.])")
_ZH_SPELLED_RE = re.compile(r"(加加大|加大|特大|大|中|小)(?:号|码)")
_ONE_SIZE_RE = re.compile(r"均码|\bone[- ]size\b", re.IGNORECASE)
_PAIRED_AFTER_RE = re.compile(r"\s*(?:/|or\b|and\b)\s*" + _LETTER + r"\b")  # "S or M", "M/L"
_PAIRED_BEFORE_RE = re.compile(r"(?:/|\bor\s+|\band\s+|^)$", re.IGNORECASE)  # "... or M?", "M" alone
_SIZE_END_RE = re.compile(r"\s*(?:\?|$|,|instead\b|please\b|size\b)")
_LONE_WORD_RE = re.compile(r"\s+[a-z]", re.IGNORECASE)
_GARMENT_AFTER_RE = re.compile(r"\s+" + _GARMENT + r"\b", re.IGNORECASE)


def _shoe(num: str) -> str | None:
    n = float(num)
    if 30 <= n <= 50:
        return f"EU {num}"
    return num if 1 <= n <= 18 else None


def find_sizes(text: str) -> list[str]:
    """Sizes in ``text``, in order of appearance, without repeats."""
    hits: list[tuple[int, int, str]] = []

    def add(start: int, end: int, value: str | None) -> None:
        if value and not any(start < e and s < end for s, e, _ in hits):
            hits.append((start, end, value))

    for m in _SYSTEM_RE.finditer(text):
        system = m.group(1).upper().replace("EUR", "EU")
        if system == "US" and m.group(1) == "us" and not re.search(r"size\s*$", text[: m.start()], re.I):
            continue  # "send us 2": the pronoun
        n = float(m.group(2))
        if (system == "EU" and 30 <= n <= 50) or (system != "EU" and 1 <= n <= 18):
            add(m.start(), m.end(), f"{system} {m.group(2)}")
    for m in _ZH_LEAD_RE.finditer(text):
        system = {"欧码": "EU", "美码": "US", "英码": "UK"}.get(m.group(1) or "")
        add(m.start(), m.end(), f"{system} {m.group(2)}" if system else _shoe(m.group(2)))
    for m in _SIZE_NUM_RE.finditer(text):
        add(m.start(), m.end(), _shoe(m.group(1)))
    for m in _ZH_NUM_RE.finditer(text):
        if 30 <= float(m.group(1)) <= 50:  # 3号 / 15号 are days of the month
            add(m.start(), m.end(), f"EU {m.group(1)}")
    for m in _ZH_LETTER_RE.finditer(text):
        add(m.start(), m.end(), _LETTERS[m.group(1).upper()])
    for m in _ZH_SPELLED_RE.finditer(text):
        add(m.start(), m.end(), _ZH_SPELLED[m.group(1)])
    for m in _ONE_SIZE_RE.finditer(text):
        add(m.start(), m.end(), "one size")
    for m in _LETTER_RE.finditer(text):
        word = m.group(1)
        before, after = text[: m.start()], text[m.end() :]
        lead = re.search(_SIZE_LEAD + r"\s+$", before, re.IGNORECASE)
        if word.isupper() and len(word) > 1:
            ok = True  # "XL", "XXL": unambiguous when written in capitals
        elif word.isupper():
            # a single capital letter needs a size context: "in M", "an L", "S or M?", "M/L"
            ok = bool(lead or _PAIRED_AFTER_RE.match(after)
                      or (_PAIRED_BEFORE_RE.search(before) and _SIZE_END_RE.match(after)))
        else:
            ok = bool(lead) and len(word) > 1  # "an xl", never a lone lower-case "s"/"m"/"l"
        if ok:
            add(m.start(), m.end(), _LETTERS[word.upper()])
    for m in _SPELLED_RE.finditer(text):
        before, after = text[: m.start()], text[m.end() :]
        if not re.search(_SIZE_LEAD + r"\s+$", before, re.IGNORECASE):
            continue
        if _LONE_WORD_RE.match(after) and not _GARMENT_AFTER_RE.match(after):
            continue  # "a large order", "a small problem"
        add(m.start(), m.end(), _SPELLED[re.sub(r"\s+", " ", m.group(1).lower())])
    return list(dict.fromkeys(v for _, _, v in sorted(hits)))


# -- colors ---------------------------------------------------------------------------------------

_EN_COLORS = {"black": "black", "white": "white", "navy": "navy", "navy blue": "navy", "olive": "olive",
              "sand": "sand", "red": "red", "grey": "grey", "gray": "grey", "teal": "teal", "blue": "blue",
              "green": "green", "yellow": "yellow", "pink": "pink", "purple": "purple", "orange": "orange",
              "brown": "brown", "beige": "beige", "silver": "silver", "gold": "gold", "rose gold": "rose gold",
              "khaki": "khaki", "charcoal": "grey", "cream": "beige", "burgundy": "red", "maroon": "red",
              "ivory": "white", "tan": "brown"}
_EN_COLOR_RE = re.compile(
    r"\b(?:(?:light|dark|matte|pale|deep|bright|jet|sky|sage|forest|royal|midnight)[- ])?"
    r"(navy blue|rose gold|" + "|".join(sorted(_EN_COLORS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
# phrases where a color word names something else
_NOT_COLOR_AFTER = re.compile(
    r"\s+(?:friday|noise|eye|list|label|tape|flag|hat|market|member(?:ship)?|tier|status|level|plan|card|"
    r"screen|carpet|belt)\b",
    re.IGNORECASE,
)
_ZH_COLORS = {"玫瑰金": "rose gold", "海军蓝": "navy", "藏青": "navy", "藏蓝": "navy", "深蓝": "navy",
              "橄榄绿": "olive", "橄榄": "olive", "军绿": "olive", "蓝绿": "teal", "水鸭": "teal", "咖啡": "brown",
              "卡其": "khaki", "粉红": "pink", "橘黄": "orange", "米白": "beige", "沙漠": "sand", "黑": "black",
              "白": "white", "红": "red", "蓝": "blue", "绿": "green", "黄": "yellow", "灰": "grey", "粉": "pink",
              "紫": "purple", "橙": "orange", "橘": "orange", "棕": "brown", "褐": "brown", "米": "beige",
              "银": "silver", "金": "gold", "青": "teal", "沙": "sand"}
_ZH_NAMES = "|".join(sorted(_ZH_COLORS, key=len, reverse=True))
_ZH_COLOR_RE = re.compile(
    r"(?:(玫瑰金|海军蓝|藏青|藏蓝|深蓝|橄榄绿)|(?:深|浅|亮|哑光|磨砂|暗)?(" + _ZH_NAMES + r")色)(?!星期五|周五)"
)
_ZH_SHORT_RE = re.compile(r"(?<=[要买换选是拿成个款件双条台])(黑|白|红|蓝|绿|灰|粉|紫|黄)的")


def find_colors(text: str) -> list[str]:
    """Colors in ``text`` as English names, in order of appearance, without repeats."""
    hits: list[tuple[int, str]] = []
    for m in _EN_COLOR_RE.finditer(text):
        if _NOT_COLOR_AFTER.match(text, m.end()) or re.search(r"\bin the\s+$", text[: m.start()], re.I):
            continue
        hits.append((m.start(), _EN_COLORS[m.group(1).lower()]))
    for m in _ZH_COLOR_RE.finditer(text):
        hits.append((m.start(), _ZH_COLORS[m.group(1) or m.group(2)]))
    for m in _ZH_SHORT_RE.finditer(text):
        hits.append((m.start(), _ZH_COLORS[m.group(1)]))
    return list(dict.fromkeys(v for _, v in sorted(hits)))


# -- quantities -----------------------------------------------------------------------------------

_EN_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
               "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a dozen": 12, "dozen": 12}
_UNITS = (r"pairs?|pieces?|pcs|items?|units?|packs?|box(?:es)?|sets?|bottles?|copies|"
          r"of (?:them|these|those|it)|"
          r"shoes|sneakers|boots|socks|shirts|t-?shirts|tees|hoodies|jackets|tights|earbuds|headphones|"
          r"headsets|speakers|phones|cases|chargers|cables|bands|bulbs|plugs|cameras|tents|bags|mice|"
          r"keyboards|controllers|laptops|tablets|monitors|kettles|toasters|blenders|watches|poles|backpacks")
_EN_QTY_RE = re.compile(
    r"\b(\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a dozen)\s+"
    r"(?:(?:more|extra|additional|new|identical|same|separate|different|spare|of the same)\s+)?(?:[a-z]+\s+)?"
    r"(?:" + _UNITS + r")\b",
    re.IGNORECASE,
)
# "4 of the Kestrel C100 cables", "five Homely Glow 8 bulbs": a product name between number and noun
_EN_QTY_NAMED_RE = re.compile(
    r"\b(?i:(\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a dozen))\s+"
    r"(?i:of\s+(?:the|your|these|those)\s+)?(?:(?:[A-Z][\w-]*|[A-Za-z]*\d[\w-]*)\s+){1,4}"
    r"(?i:" + _UNITS + r")\b"
)
_X_QTY_RE = re.compile(r"(?<![A-Za-z0-9])(?:[x×]\s?(\d{1,2})(?![\w.])|(\d{1,2})\s?[x×]\s+(?=[A-Z]))")
_QTY_WORD_RE = re.compile(r"\b(?:qty|quantity)\s*(?:of|:|=|is)?\s*(\d{1,3})\b|数量\s*(?:是|为|[:：])?\s*(\d{1,3})",
                          re.IGNORECASE)
_ZH_QTY_RE = re.compile(
    r"(?<![第\d.])(\d{1,3}|[一二两三四五六七八九十]{1,3})\s*(件|个|双|副|台|部|条|只|盒|套|瓶|包|份|箱|把|顶|支|根|对|袋)"
    r"(?!小时|月|星期|礼拜|工作日|问题|事|人|客服|订单|地址|原因|多月|多小时|字|号|邮)"  # 满49包邮: free shipping
)
# a number right after one of these is a model number ("Trailrunner 5 shoes"), not a quantity
_QTY_LEAD_OK = (COMMON_WORDS - {"size", "number", "code", "card", "price", "cost", "time"}) | frozenset(
    "add adding ordered bought buying purchase purchased received got just only another exchange swap returning "
    "sending these those".split()
)


def find_quantities(text: str) -> list[int]:
    """Quantities in ``text``, in order of appearance (repeats kept: "2 shoes and 2 shirts")."""
    hits: list[tuple[int, int, int]] = []

    def add(start: int, end: int, value: int | None) -> None:
        if value and 0 < value < 1000 and not any(start < e and s < end for s, e, _ in hits):
            hits.append((start, end, value))

    for m in _QTY_WORD_RE.finditer(text):
        add(m.start(), m.end(), int(m.group(1) or m.group(2)))
    for m in _X_QTY_RE.finditer(text):
        add(m.start(), m.end(), int(m.group(1) or m.group(2)))
    for m in (*_EN_QTY_RE.finditer(text), *_EN_QTY_NAMED_RE.finditer(text)):
        num = m.group(1).lower()
        if num.isdigit():
            prev = re.search(r"([A-Za-z][\w-]*)\s*$", text[: m.start()])
            if prev and prev.group(1).lower() not in _QTY_LEAD_OK:
                continue  # "Trailrunner 5 shoes", "Cell 50 packs"
            if re.search(r"[$€£¥]\s*$", text[: m.start()]):
                continue
        add(m.start(), m.end(), int(num) if num.isdigit() else _EN_NUMBERS[num])
    for m in _ZH_QTY_RE.finditer(text):
        add(m.start(), m.end(), zh_number(m.group(1)))
    return [v for _, _, v in sorted(hits)]
