"""Dates in customer messages, English and Chinese, resolved to calendar days relative to ``today``.

Absolute forms: ``2026-11-03``, ``2026/11/3``, ``11/03/2026`` (US month first), ``Nov 3``,
``November 3rd, 2026``, ``3 Nov``, ``the 3rd of November``, ``2026年11月3日``, ``11月3号``.
A date without a year takes the year that puts it nearest to ``today`` ("Jan 5" said in late
December is next January).

Relative forms and their conventions:

* ``today`` / ``yesterday`` / ``tomorrow`` / ``the day before yesterday`` / ``3 days ago`` /
  ``a week ago`` / ``in 2 days``; 今天 / 昨天 / 前天 / 大前天 / 明天 / 后天 / 三天前 / 两周前.
* ``last Monday``: the latest Monday before today; ``next Monday``: the first Monday after today;
  ``this Monday``: the Monday of the current week (weeks start on Monday).
* 上周五 / 上星期五: Friday of the previous calendar week; 下周一: Monday of the next one;
  本周三 / 这周三: Wednesday of this week.
* a bare weekday (``on Friday``, 周五) is the latest such day on or before today, since customers
  mostly talk about what already happened; after ``by`` / ``before`` / ``until`` / 之前 it is the
  next such day on or after today ("will it arrive by Friday?").

Spans like "last week" or "within 30 days" are periods or durations, not days, and give nothing;
nor do sale names ("Black Friday", 黑色星期五).

Example:
    >>> from datetime import date
    >>> [d.isoformat() for d in find_dates("ordered last Monday, arrived yesterday", date(2026, 11, 12))]
    ['2026-11-09', '2026-11-11']
    >>> [d.isoformat() for d in find_dates("上周五下的单，11月3日付的款", date(2026, 11, 12))]
    ['2026-11-06', '2026-11-03']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

__all__ = ["find_dates", "zh_number"]

_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
           "oct": 10, "nov": 11, "dec": 12}
_MONTH = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
_WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
                "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_EN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
               "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "thirty": 30}
_EN_NUM = r"(\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|thirty)"
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_NUM = r"(\d{1,3}|[零〇一二两三四五六七八九十]{1,3})"
_FUTURE_CUE_RE = re.compile(r"(?:\bby|\bbefore|\buntil|\btill|\bno later than)\s+(?:this\s+|next\s+)?$", re.IGNORECASE)
_PRONOUN_BEFORE_RE = re.compile(r"\b(?:i|you|we|they|it|he|she|that|this|which)\s+$", re.IGNORECASE)


def zh_number(text: str) -> int | None:
    """A number written in digits or Chinese numerals up to 99 ("3", "十二", "两", "二十一")."""
    if text.isdigit():
        return int(text)
    if not text or any(c not in _ZH_DIGITS and c != "十" for c in text):
        return None
    if "十" not in text:
        return _ZH_DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0)


def _en_number(text: str) -> int | None:
    return int(text) if text.isdigit() else _EN_NUMBERS.get(text.lower())


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest_year(month: int, day: int, today: date) -> date | None:
    options = [d for y in (today.year - 1, today.year, today.year + 1) if (d := _day(y, month, day))]
    return min(options, key=lambda d: abs((d - today).days)) if options else None


def _past_weekday(today: date, wd: int, *, strictly: bool) -> date:
    back = (today.weekday() - wd) % 7
    return today - timedelta(days=7 if strictly and back == 0 else back)


def _next_weekday(today: date, wd: int, *, strictly: bool) -> date:
    ahead = (wd - today.weekday()) % 7
    return today + timedelta(days=7 if strictly and ahead == 0 else ahead)


def _week_day(today: date, wd: int, weeks: int) -> date:
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(days=7 * weeks + wd)


Handler = Callable[[re.Match[str], date, str], "date | None"]


def _iso(m: re.Match[str], today: date, text: str) -> date | None:
    return _day(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def _us(m: re.Match[str], today: date, text: str) -> date | None:
    year = int(m.group(3))
    return _day(year + 2000 if year < 100 else year, int(m.group(1)), int(m.group(2)))


def _month_day(m: re.Match[str], today: date, text: str) -> date | None:
    month_word, day, year = m.group(1), int(m.group(2)), m.group(3)
    if month_word.lower() == "may" and _PRONOUN_BEFORE_RE.search(text[: m.start()]):
        return None  # "you may 2 ..." is the verb
    month = _MONTHS[month_word[:3].lower()]
    return _day(int(year), month, day) if year else _nearest_year(month, day, today)


def _day_month(m: re.Match[str], today: date, text: str) -> date | None:
    day, month, year = int(m.group(1)), _MONTHS[m.group(2)[:3].lower()], m.group(3)
    return _day(int(year), month, day) if year else _nearest_year(month, day, today)


def _relative_word(m: re.Match[str], today: date, text: str) -> date | None:
    word = re.sub(r"\s+", " ", m.group(0).lower())
    offsets = {"today": 0, "tonight": 0, "this morning": 0, "this afternoon": 0, "this evening": 0,
               "yesterday": -1, "tomorrow": 1, "the day before yesterday": -2, "the day after tomorrow": 2}
    return today + timedelta(days=offsets[word])


def _ago(m: re.Match[str], today: date, text: str) -> date | None:
    n = _en_number(m.group(1))
    unit = 7 if m.group(2).lower().startswith("week") else 1
    return today - timedelta(days=n * unit) if n is not None else None


def _in_days(m: re.Match[str], today: date, text: str) -> date | None:
    n = _en_number(m.group(1))
    unit = 7 if m.group(2).lower().startswith("week") else 1
    return today + timedelta(days=n * unit) if n is not None else None


def _en_weekday(m: re.Match[str], today: date, text: str) -> date | None:
    which, wd = (m.group(1) or "").lower(), _WEEKDAYS[m.group(2).lower()]
    if which == "last":
        return _past_weekday(today, wd, strictly=True)
    if which == "next":
        return _next_weekday(today, wd, strictly=True)
    if which == "this":
        return _week_day(today, wd, 0)
    if _FUTURE_CUE_RE.search(text[: m.start()]):
        return _next_weekday(today, wd, strictly=False)
    return _past_weekday(today, wd, strictly=False)


def _zh_ymd(m: re.Match[str], today: date, text: str) -> date | None:
    month, day = zh_number(m.group(2)), zh_number(m.group(3))
    if month is None or day is None:
        return None
    if m.group(1):
        return _day(int(m.group(1)), month, day)
    return _nearest_year(month, day, today)


def _zh_relative_word(m: re.Match[str], today: date, text: str) -> date | None:
    offsets = {"今天": 0, "今日": 0, "今晚": 0, "昨天": -1, "昨日": -1, "昨晚": -1, "前天": -2, "大前天": -3,
               "明天": 1, "明日": 1, "后天": 2, "大后天": 3}
    return today + timedelta(days=offsets[m.group(0)])


def _zh_ago(m: re.Match[str], today: date, text: str) -> date | None:
    n = zh_number(m.group(1))
    if n is None:
        return None
    return today - timedelta(days=n * (7 if m.group(2) in ("周", "个星期", "个礼拜") else 1))


def _zh_weekday(m: re.Match[str], today: date, text: str) -> date | None:
    which, wd = m.group(1) or "", _ZH_WEEKDAYS[m.group(2)]
    if which in ("上", "上个"):
        return _week_day(today, wd, -1)
    if which in ("下", "下个"):
        return _week_day(today, wd, 1)
    if which in ("这", "本", "这个"):
        return _week_day(today, wd, 0)
    after = text[m.end() : m.end() + 6]
    if re.match(r"之前|以前|前", after) or re.search(r"能到|会到|能送|送到|到货|发货|能发", after):
        return _next_weekday(today, wd, strictly=False)  # "周五前能到吗": an upcoming Friday
    return _past_weekday(today, wd, strictly=False)


_RULES: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(r"(?<![\d.])(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})(?:日|号)?(?![\d.]*\d)"), _iso),
    (re.compile(r"(?<![\d/.])(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?![\d/])"), _us),
    (re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*(?:%|am\b|pm\b|hours?|days?|:))"
                r"(?:,?\s+(\d{4})\b)?", re.IGNORECASE), _month_day),
    (re.compile(rf"\b(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?![a-z])(?:,?\s+(\d{{4}})\b)?",
                re.IGNORECASE), _day_month),
    (re.compile(r"\b(?:the\s+day\s+before\s+yesterday|the\s+day\s+after\s+tomorrow|today|tonight|yesterday|tomorrow|"
                r"this\s+(?:morning|afternoon|evening))\b", re.IGNORECASE), _relative_word),
    (re.compile(rf"\b{_EN_NUM}\s+(days?|weeks?)\s+ago\b", re.IGNORECASE), _ago),
    (re.compile(rf"\bin\s+{_EN_NUM}\s+(days?|weeks?)\b(?!\s+(?:of|or))", re.IGNORECASE), _in_days),
    (re.compile(rf"\b(?<!black\s)(?<!cyber\s)(?:(last|next|this)\s+)?{_WEEKDAY}\b", re.IGNORECASE), _en_weekday),
    (re.compile(r"(?:(\d{4})年)?" + _ZH_NUM + r"月" + _ZH_NUM + r"(?:日|号)"), _zh_ymd),
    (re.compile(r"大前天|大后天|今天|今日|今晚|昨天|昨日|昨晚|前天|明天|明日|后天"), _zh_relative_word),
    # "N天后" is left out: it is mostly counted from another event ("收到3天后就坏了"), not today
    (re.compile(_ZH_NUM + r"\s*(天|周|个星期|个礼拜)(之前|以前|前)"), _zh_ago),
    (re.compile(r"(?<!黑色)(上个|下个|这个|上|下|这|本)?(?:周|星期|礼拜)([一二三四五六日天1-7])"), _zh_weekday),
]


def find_dates(text: str, today: date) -> list[date]:
    """Calendar days mentioned in ``text``, in order of appearance, without repeats.

    Args:
        text: one customer message (English, Chinese or mixed).
        today: the day the message was sent, which relative dates are counted from.
    """
    hits: list[tuple[int, int, date]] = []
    for rx, handler in _RULES:
        for m in rx.finditer(text):
            if any(m.start() < e and s < m.end() for s, e, _ in hits):
                continue
            d = handler(m, today, text)
            if d is not None:
                hits.append((m.start(), m.end(), d))
    return list(dict.fromkeys(d for _, _, d in sorted(hits)))
