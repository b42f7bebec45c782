"""What a sentence claims, in English or Chinese: its clauses, numbers with units, polarity and entities.

The grounding check (:mod:`engine.generation.grounding`) compares a draft's claims with source
sentences through these features, so both sides are read by the same code:

- :func:`split_claims`: sentences, then clauses (``;``, ``,``, ``；``, ``，``); a fragment that states
  nothing on its own ("Yes", "可以", "No") is joined to the clause after it, so its polarity travels
  with what it answers.
- :func:`quantities`: every number with its unit (``30 days`` → ``(30, "day")``, ``$89.00`` →
  ``(89, "usd")``, a range as one: ``5–7个工作日`` → ``("5-7", "bday")``); English number words and
  Chinese numerals before a unit count as numbers.
- :func:`negations`: how many negations a clause holds (not, no, never, n't, without, cannot,
  unavailable…; 不, 没, 没有, 无, 未, 非, 无法, 暂不…), so a flipped clause has the other parity.
- :func:`contacts`: e-mail addresses, URLs and phone numbers.
- :func:`promises`: words that widen a promise (every, always, free, worldwide, guarantee; 所有,
  任何, 免费, 全球, 保证…), which a source must say too.

Example:
    >>> sorted(quantities("Returns within thirty days; refunds in 5–7 business days."))
    [('30', 'day'), ('5-7', 'bday')]
    >>> negations("We don't ship to P.O. boxes."), negations("我们暂不支持货到付款。")
    (1, 1)
    >>> split_claims("Yes, we ship to 40 countries. 可以。七天内退货。")
    ['Yes, we ship to 40 countries.', '可以。七天内退货。']
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from engine.text import lexical_tokens

__all__ = ["split_sentences", "take_sentences", "split_claims", "says_nothing", "quantities", "negations", "contacts",
           "promises", "content_words", "claim_words", "answer_word", "CITATION_RE"]

CITATION_RE = re.compile(r"\s*[\[【]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]】]")
# a sentence ends at . ! ? before white space (not inside "5.3" or "$129.99"), or at 。！？ or a newline
_BOUNDARY_RE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？\n])")
# clauses end at ; , ； ， and a dash — but not inside a list of numbers ("sizes 8, 8.5, 9")
_CLAUSE_RE = re.compile(r"(?<=[;；])\s*|(?<=，)(?<!\d，)\s*(?!\d)|(?<=,)(?<!\d,)\s+(?!\d)|\s+(?=—\s)")

# -- numbers -------------------------------------------------------------------------------------
_EN_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
            "eighty": 80, "ninety": 90}
_EN_WORD_RE = re.compile(
    r"\b(" + "|".join([*_EN_TENS, *_EN_UNITS, "hundred", "dozen"]) + r")(?:[- ](" + "|".join(_EN_UNITS) + r"))?\b",
    re.IGNORECASE,
)
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_MULT = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_ZH_UNIT_WORDS = "个|天|日|周|星期|月|年|小时|分钟|秒|元|美元|块|次|期|件|倍|种|家|层|%|％|工作日|折|寸|米|克|升|公斤|毫米|厘米"
_ZH_NUM_RE = re.compile(r"(第)?([零〇一二两三四五六七八九十百千万]+)(?=(?:" + _ZH_UNIT_WORDS + r"))")
# unit words (lower case) → one name per unit, so "days", "天" and "日" compare equal
_UNITS = {
    "bday": r"business days?|working days?|个?工作日",
    "day": r"days?|天|日",
    "week": r"weeks?|wks?|个?星期|周",
    "month": r"months?|mos?|个月|月",
    "year": r"years?|yrs?|年",
    "hour": r"hours?|hrs?|h|个?小时",
    "minute": r"minutes?|mins?|分钟",
    "pct": r"%|％|percent|per cent",
    "kg": r"kg|kilograms?|公斤|千克",
    "g": r"g|grams?|克",
    "mm": r"mm|毫米",
    "cm": r"cm|厘米",
    "ml": r"ml|毫升",
    "l": r"l|litres?|liters?|升",
    "usd": r"dollars?|usd|美元|美金",
    "eur": r"euros?|eur",
    "gbp": r"pounds?|gbp",
    "cny": r"元|块|rmb|cny|人民币",
    "item": r"件|items?|pieces?|pcs",
    "country": r"countries|个?国家",
}
_PREFIX_CURRENCY = {"$": "usd", "us$": "usd", "usd": "usd", "€": "eur", "eur": "eur", "£": "gbp", "gbp": "gbp",
                    "¥": "cny", "￥": "cny", "rmb": "cny", "cny": "cny"}
_UNIT_RE = re.compile(r"[\s-]*(?:(" + "|".join(f"(?P<{k}>{v})" for k, v in _UNITS.items()) + r"))(?![A-Za-z])",
                      re.IGNORECASE)
_NUM_RE = re.compile(
    r"(?P<cur>US\$|\$|€|£|¥|￥|(?:USD|EUR|GBP|RMB|CNY)\s?)?"
    r"(?<![A-Za-z\d.])(?P<a>\d+(?:,\d{3})*(?:\.\d+)?)"
    r"(?:\s*(?:-|–|—|~|～|to|至|到)\s*(?:US\$|\$|€|£|¥|￥)?(?P<b>\d+(?:,\d{3})*(?:\.\d+)?))?"
)

# -- contacts ------------------------------------------------------------------------------------
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"'，。）)]+|\b[a-z0-9-]+\.(?:com|net|org|io|shop|store|co|cn|info|biz)"
                     r"(?:/[^\s<>\"'，。）)]*)?\b", re.IGNORECASE)
# a phone number may follow a Chinese word directly ("请拨打1-800-555-0199"): the guards are ASCII
_PHONE_RE = re.compile(r"(?<![A-Za-z0-9_.])\+?\(?\d[\d ().-]{5,}\d(?![A-Za-z0-9_.]*\d)")

# -- polarity ------------------------------------------------------------------------------------
_EN_NEG_RE = re.compile(
    r"n't\b|n’t\b|\b(?:not|no|never|none|nothing|nobody|neither|nor|without|cannot|unable|unavailable|"
    r"unsupported|non-returnable|nonrefundable|non-refundable)\b",
    re.IGNORECASE,
)
_EN_NOT_NEG_RE = re.compile(r"\bnot only\b|\bno matter\b|\bno later than\b|\bno more than\b|\bno less than\b",
                            re.IGNORECASE)
# Chinese: a negation character, except inside words where it negates nothing ("无线" wireless,
# "不同" different, "非常" very, "是否" whether, "免费" free is no negation at all)
_ZH_NEG_RE = re.compile(r"没有|无法|无须|无需|暂不|不|没|无|未|非|别|勿|否")
_ZH_NOT_NEG_RE = re.compile(r"无线|不同|不少|不错|不仅|不但|不过|无论|非常|别的|别人|未来|否则|是否|不久|不管|不论|"
                            r"难免|以免|并非常|差不多|不断|要不要|能不能|是不是|可不可以|有没有|会不会|支不支持")

_NO_WORDS = {"no", "nope", "nah"}
_ANSWER_RE = re.compile(
    r"\s*(?:(?P<en>yes|yeah|yep|sure|of course|absolutely|no|nope|nah)\b\s*[,.!:;—-]\s*"
    r"|(?P<zh>当然可以|可以的|可以|能|支持|是的|有的|会的|当然|不可以|不能|不支持|不是|不行|没有|不会|暂不支持|暂时不支持)"
    r"\s*[，,。！!：:]\s*)", re.IGNORECASE)

# -- promises ------------------------------------------------------------------------------------
_PROMISE_GROUPS = {
    "every": r"\b(?:every|all|any|each|everything|anything|always|whatever)\b|所有|任何|一切|全部|一律|每一?[个件笔单]|总是|随时",
    "forever": r"\b(?:forever|lifetime|permanent(?:ly)?|unlimited|indefinitely)\b|永久|终身|无限|无期限",
    "free": r"\bfree\b|\bno charge\b|免费|包邮|不收费|免运费",
    "world": r"\b(?:worldwide|anywhere|global(?:ly)?|international(?:ly)?)\b|全球|全世界|世界各地|国际",
    "guarantee": r"\b(?:guarantee[ds]?|promise[ds]?|warrant(?:y|ies|ed))\b|保证|承诺|担保|保修",
    "instant": r"\b(?:instant(?:ly)?|immediate(?:ly)?|same[- ]day|right away|24/7)\b|立即|马上|立刻|当天|即时|全天候",
    "refund": r"\b(?:refund(?:s|ed)?|money back|compensat\w*|credit)\b|退款|赔偿|补偿|返现",
    "extra": r"\b(?:extra|bonus|discount(?:s|ed)?|coupon|voucher|gift)\b|额外|赠送|折扣|优惠|红包|礼品",
}
_PROMISE_RES = {k: re.compile(v, re.IGNORECASE) for k, v in _PROMISE_GROUPS.items()}

_CLAIM_WORDS = 3  # a clause with fewer words (and no number) is a fragment: "Yes,", "Best Buy,", "支持，"
_STEM = 5  # English words compare on their first letters ("returns" ~ "returned")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` with their end punctuation (English or Chinese); the last one may
    be unfinished (streaming keeps it until more text arrives).

    Example:
        >>> split_sentences("It costs $129.99. Bluetooth 5.3! 好的。再见")
        ['It costs $129.99.', 'Bluetooth 5.3!', '好的。', '再见']
    """
    return [s.strip() for s in _BOUNDARY_RE.split(text) if s.strip()]


def take_sentences(buffer: str) -> tuple[list[str], str]:
    """The finished sentences at the start of ``buffer`` and the unfinished rest.

    Example:
        >>> take_sentences("One. Two 5.")
        (['One.'], 'Two 5.')
    """
    end = 0
    for m in _BOUNDARY_RE.finditer(buffer):
        end = m.end()
    return split_sentences(buffer[:end]), buffer[end:]


def _says_nothing(clause: str) -> bool:
    """A fragment with no number, contact and fewer than two content words ("Yes,", "可以。")."""
    words = [w for w in content_words(clause) if len(w) > 1]  # words and CJK bigrams, not characters
    return not quantities(clause) and not contacts(clause) and len(words) < _CLAIM_WORDS


def says_nothing(sentence: str) -> bool:
    """A sentence that is no claim on its own ("Yes.", "可以。"): it goes with the next one.

    Example:
        >>> says_nothing("Yes."), says_nothing("可以。"), says_nothing("We ship in 2 days.")
        (True, True, False)
    """
    return _says_nothing(sentence)


def split_claims(text: str) -> list[str]:
    """The clauses of ``text``; fragments that say nothing alone are joined to the next clause.

    Example:
        >>> split_claims("Standard shipping takes 3–5 days; express takes 1–2 days.")
        ['Standard shipping takes 3–5 days;', 'express takes 1–2 days.']
    """
    out: list[str] = []
    carry = ""  # a sentence that says nothing alone ("Yes." "可以。") goes with the next sentence
    for sentence in split_sentences(text):
        claims: list[str] = []
        for clause in (c.strip() for c in _CLAUSE_RE.split(sentence) if c.strip()):
            joined = f"{carry}{_glue(carry)}{clause}" if carry else clause
            if _says_nothing(joined):
                carry = joined
                continue
            claims.append(joined)
            carry = ""
        if carry and claims:  # a fragment at a sentence's end belongs to that sentence
            claims[-1] = f"{claims[-1]}{_glue(claims[-1])}{carry}"
            carry = ""
        out += claims
    if carry:
        # a closing "Yes." or "不。" answers the last claim; any other closing fragment ("Sorry about
        # that!", "非常抱歉！") is a claim of its own, which a source must support
        if out and (answer_word(carry)[0] is not None or negations(carry)):
            out[-1] = f"{out[-1]}{_glue(out[-1])}{carry}"
        else:
            out.append(carry)
    return out


def _glue(left: str) -> str:
    return "" if left.endswith(("，", "。", "；", "！", "？")) else " "


def _norm_number(text: str) -> str | None:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return format(value.normalize(), "f")


def _zh_value(numeral: str) -> int | None:
    total, section, digit = 0, 0, None
    for ch in numeral:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_MULT:
            unit = _ZH_MULT[ch]
            if unit == 10000:
                total += (section + (digit or 0)) * unit
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
        else:
            return None
    return total + section + (digit or 0)


def _digits(text: str) -> str:
    """``text`` with English number words and Chinese numerals before units written as digits."""
    def en(m: re.Match[str]) -> str:
        head, tail = m.group(1).lower(), (m.group(2) or "").lower()
        if head == "hundred":
            return "100"
        if head == "dozen":
            return "12"
        return str(_EN_TENS.get(head, _EN_UNITS.get(head, 0)) + _EN_UNITS.get(tail, 0))

    def zh(m: re.Match[str]) -> str:
        value = _zh_value(m.group(2))
        return m.group(0) if value is None else f"{m.group(1) or ''}{value}"

    return _ZH_NUM_RE.sub(zh, _EN_WORD_RE.sub(en, text))


def _without_contacts(text: str) -> str:
    for rx in (_EMAIL_RE, _URL_RE, _PHONE_RE):
        text = rx.sub(" ", text)
    return text


def quantities(text: str) -> set[tuple[str, str | None]]:
    """Every number ``text`` states with its unit (None when it has none), contacts left out.

    Example:
        >>> sorted(quantities("Costs $1,299.00 or 1299 dollars, ships in 2 weeks."), key=str)
        [('1299', 'usd'), ('2', 'week')]
    """
    text = _digits(_without_contacts(CITATION_RE.sub(" ", text)))
    found: set[tuple[str, str | None]] = set()
    for m in _NUM_RE.finditer(text):
        unit = None
        if m.group("cur"):
            unit = _PREFIX_CURRENCY.get(m.group("cur").strip().lower())
        after = _UNIT_RE.match(text, m.end())
        if after is not None and unit is None:
            unit = next(k for k, v in after.groupdict().items() if v is not None and k in _UNITS)
        a = _norm_number(m.group("a"))
        b = _norm_number(m.group("b")) if m.group("b") else None
        if a is not None and b is not None:
            found.add((f"{a}-{b}", unit))  # a range is one claim: "5–5 days" is not "5–7 days"
        elif a is not None:
            found.add((a, unit))
    return found


def claim_words(text: str) -> set[str]:
    """The content words of ``text`` outside its quantities: "12-month" and "30天" are read by
    :func:`quantities` with their units, so "month" / "天" are not also words a claim shares with a
    source (a "12-month" sentence would otherwise find support in any other "12 months" sentence).

    Example:
        >>> sorted(claim_words("Covered by the 12-month warranty.")), sorted(claim_words("保修期：十二个月。"))
        (['cover', 'warra'], ['保', '保修', '修', '修期', '期'])
    """
    text = _digits(_without_contacts(CITATION_RE.sub(" ", text)))
    parts, end = [], 0
    for m in _NUM_RE.finditer(text):
        after = _UNIT_RE.match(text, m.end())
        parts.append(text[end:m.start()])
        end = after.end() if after is not None else m.end()
    parts.append(text[end:])
    return content_words(" ".join(parts))


def answer_word(text: str) -> tuple[str | None, str]:
    """A leading yes or no ("Yes,", "No.", "可以，", "不支持。") and the rest of ``text``.

    Example:
        >>> answer_word("No, we don't ship there."), answer_word("不支持，请用信用卡。")
        (('no', "we don't ship there."), ('no', '请用信用卡。'))
    """
    m = _ANSWER_RE.match(text)
    if m is None:
        return None, text
    word = (m.group("en") or m.group("zh")).lower()
    no = word in _NO_WORDS or word.startswith(("不", "没", "暂"))
    return ("no" if no else "yes"), text[m.end():]


def negations(text: str) -> int:
    """How many negations ``text`` holds (English and Chinese forms), a leading yes/no left out."""
    text = answer_word(text)[1]
    en = _EN_NOT_NEG_RE.sub(" ", text)
    zh = _ZH_NOT_NEG_RE.sub("", text)
    return len(_EN_NEG_RE.findall(en)) + len(_ZH_NEG_RE.findall(zh))


def contacts(text: str) -> set[str]:
    """E-mail addresses, URLs and phone numbers in ``text``, normalised (lower case; a phone's digits).

    Example:
        >>> sorted(contacts("Mail Help@Shop.example or call +1 (555) 010-0199, see www.shop.example/help."))
        ['15550100199', 'help@shop.example', 'www.shop.example/help']
    """
    out = {m.lower() for m in _EMAIL_RE.findall(text)}
    rest = _EMAIL_RE.sub(" ", text)
    out |= {m.lower().rstrip(".") for m in _URL_RE.findall(rest)}
    rest = _URL_RE.sub(" ", rest)
    for m in _PHONE_RE.findall(rest):
        digits = re.sub(r"\D", "", m)
        if len(digits) >= 7:
            out.add(digits)
    return out


def promises(text: str) -> set[str]:
    """The promise-widening word groups ``text`` uses (``every``, ``free``, ``world``...)."""
    return {k for k, rx in _PROMISE_RES.items() if rx.search(text)}


def _stem(word: str) -> str:
    """A light English stem: "shipping", "shipped", "ships" → "ship"; "returns" → "retur"."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiousl":
                word = word[:-1]
            break
    return word[:_STEM]


def content_words(text: str) -> set[str]:
    """Words that carry meaning: English words of 3+ letters (stemmed), CJK bigrams and the CJK
    characters that are not function words (so "价格" and "售价" share "价")."""
    out = set()
    for t in lexical_tokens(text):
        if t.isascii():
            # numbers and negations have their own checks
            if len(t) >= 3 and not any(c.isdigit() for c in t) and not _EN_NEG_RE.search(t):
                out.add(_stem(t))
        elif _ZH_NEG_CHARS.isdisjoint(t) and (len(t) == 2 and _ZH_FUNCTION.isdisjoint(t)
                                               or len(t) == 1 and t not in _ZH_FUNCTION):
            out.add(t)
    return out


_ZH_NEG_CHARS = set("不没无未非别勿否")


_ZH_FUNCTION = set("的了是在和与或也都就而及把被我您你他她它们这那个有会要可以能吗呢吧啊着过很还并让给对从到为于后前内中上下里时")
