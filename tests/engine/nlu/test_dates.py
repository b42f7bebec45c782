"""engine/nlu/dates.py: absolute and relative dates, English and Chinese, resolved against today."""

from __future__ import annotations

from datetime import date

import pytest

from engine.nlu.dates import find_dates, zh_number

TODAY = date(2026, 11, 12)  # a Thursday


def iso(text: str, today: date = TODAY) -> list[str]:
    return [d.isoformat() for d in find_dates(text, today)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("delivered on 2026-11-03", ["2026-11-03"]),
        ("2026/11/3", ["2026-11-03"]),
        ("ordered 10/28/2026", ["2026-10-28"]),  # US: month first
        ("Nov 3", ["2026-11-03"]),
        ("November 3rd, 2025", ["2025-11-03"]),
        ("the 5th of November", ["2026-11-05"]),
        ("3 Nov", ["2026-11-03"]),
        ("2026年11月3日", ["2026-11-03"]),
        ("11月3号付的款", ["2026-11-03"]),
        ("十一月三日", ["2026-11-03"]),
    ],
)
def test_absolute_dates(text, expected):
    assert iso(text) == expected


def test_a_date_without_a_year_takes_the_nearest_year():
    assert iso("can it come before Jan 5?", date(2026, 12, 20)) == ["2027-01-05"]
    assert iso("I ordered on Dec 20", date(2027, 1, 3)) == ["2026-12-20"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("today", ["2026-11-12"]),
        ("it came yesterday", ["2026-11-11"]),
        ("the day before yesterday", ["2026-11-10"]),
        ("tomorrow", ["2026-11-13"]),
        ("3 days ago", ["2026-11-09"]),
        ("two weeks ago", ["2026-10-29"]),
        ("in 2 days", ["2026-11-14"]),
        ("last Monday", ["2026-11-09"]),  # the latest Monday before today
        ("last Thursday", ["2026-11-05"]),  # not today
        ("next Tuesday", ["2026-11-17"]),
        ("this Friday", ["2026-11-13"]),
        ("I ordered on Tuesday", ["2026-11-10"]),  # a bare weekday: the latest one
        ("will it arrive by Friday?", ["2026-11-13"]),  # ... unless it is a deadline
        ("昨天", ["2026-11-11"]),
        ("前天", ["2026-11-10"]),
        ("大前天", ["2026-11-09"]),
        ("明天能到吗", ["2026-11-13"]),
        ("三天前", ["2026-11-09"]),
        ("两周前", ["2026-10-29"]),
        ("上周五", ["2026-11-06"]),  # Friday of the previous calendar week
        ("上星期一", ["2026-11-02"]),
        ("下周一", ["2026-11-16"]),
        ("本周三", ["2026-11-11"]),
        ("周二下的单", ["2026-11-10"]),
        ("周五能到吗", ["2026-11-13"]),
    ],
)
def test_relative_dates(text, expected):
    assert iso(text) == expected


def test_several_dates_keep_their_order():
    assert iso("ordered last Monday, arrived yesterday, 上周五付款") == ["2026-11-09", "2026-11-11", "2026-11-06"]


@pytest.mark.parametrize(
    "text",
    [
        "you can return it within 30 days", "refunds take 5-7 business days", "I bought it in 2024",
        "March 2026", "last week", "上周买的", "30天内可以退吗", "收到3天后就坏了", "Black Friday deals",
        "黑色星期五有活动吗", "order 100023", "the X200 costs $129.99", "size 10.5", "May I return it?",
        "battery lasts 30 hours", "3号能到吗", "12/25",
    ],
)
def test_periods_durations_and_numbers_are_not_dates(text):
    assert iso(text) == []


def test_impossible_dates_are_dropped():
    assert iso("2026-02-30 or Feb 30") == []


@pytest.mark.parametrize("text, n", [("3", 3), ("三", 3), ("两", 2), ("十", 10), ("十二", 12), ("二十", 20),
                                     ("二十一", 21), ("x", None), ("十十", None)])
def test_zh_number(text, n):
    assert zh_number(text) == n
