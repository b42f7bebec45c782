"""Resolving references against the entities of a conversation, from what their data says."""

from __future__ import annotations

import pytest

from engine.dialogue.references import (
    described,
    resolve_head,
    resolve_characters,
    Candidate,
    resolve_comparison,
    resolve_description,
    resolve_digits,
    resolve_other,
    resolve_recency,
)
from engine.dialogue.split import split_requests

# a store unlike the demo: the words come from its data, nothing is listed for it
ORDERS = [
    Candidate("A-7781", "Fjord Wool Blanket 羊毛毯 home textiles delivered"),
    Candidate("A-7702", "Ceramic Pour-Over Kettle 手冲壶 kitchen shipped"),
    Candidate("A-7650", "Linen Apron 亚麻围裙 kitchen delivered"),
]


@pytest.mark.parametrize("text, expected", [
    ("the blanket one", "A-7781"),
    ("what about the kettle order", "A-7702"),
    ("手冲壶那个订单", "A-7702"),
    ("围裙那单", "A-7650"),
])
def test_a_description_picks_the_one_candidate_it_fits(text, expected):
    assert resolve_description(text, ORDERS).id == expected


@pytest.mark.parametrize("text", ["the kitchen one", "that order", "the one", "厨房那个"])
def test_words_several_candidates_share_pick_nothing(text):
    # two orders are kitchen things: guessing one would answer about the wrong order
    assert resolve_description(text, ORDERS) is None


def test_recency_and_the_one_before():
    newest_first = ["A-7781", "A-7702", "A-7650"]
    assert resolve_recency("where is my most recent order", newest_first).id == "A-7781"
    assert resolve_recency("上一单到了吗", newest_first).id == "A-7781"
    assert resolve_recency("the one before that", newest_first).id == "A-7702"
    assert resolve_recency("can you pull up my recent orders", newest_first) is None  # a list, not one


def test_last_digits_pick_the_one_id_that_ends_so():
    ids = ["#1042", "#1187", "#1203"]
    assert resolve_digits("尾号187的", ids).id == "#1187"
    assert resolve_digits("the one ending in 03", ids).id == "#1203"
    assert resolve_digits("it cost 187 dollars", ids) is None  # a number is no reference without a cue
    assert resolve_digits("187", ids, bare=True).id == "#1187"  # an answer to "which order?"


def test_comparatives_are_relative_to_the_focus_superlatives_to_all():
    prices = {"a": 30.0, "b": 120.0, "c": 75.0}
    assert resolve_comparison("the cheapest one", prices).id == "a"
    assert resolve_comparison("the expensive one", prices).id == "b"
    assert resolve_comparison("no wait, the cheaper one", prices, current="b").id == "c"
    assert resolve_comparison("便宜的那个", prices).id == "a"
    assert resolve_comparison("how much is it", prices) is None


def test_the_other_one_needs_exactly_one_other():
    assert resolve_other("what about the other one", ["a", "b"], "a").id == "b"
    assert resolve_other("另一个呢", ["a", "b"], "b").id == "a"
    assert resolve_other("the other one", ["a", "b", "c"], "a") is None


@pytest.mark.parametrize("text, parts", [
    ("cancel #1042 and tell me when #1187 arrives", 2),
    ("退这个，顺便问下运费", 2),
    ("two things: do you gift wrap, and do you ship to canada", 2),
    ("X200多少钱？满多少包邮？", 2),
    ("price of the blanket and the apron", 1),  # one request about two products
    ("yes please cancel it", 1),
    ("好的，取消吧", 1),
])
def test_several_requests_are_cut_where_the_language_joins_them(text, parts):
    assert len(split_requests(text)) == parts


_HEADS = [("P-CASE", "Sonique Air 3 Charging Case 充电盒 charging case"),
          ("P-BUDS", "Sonique Air 3 Wireless Earbuds 无线耳机 earbuds"),
          ("P-CABLE", "Voltix Braid 7 USB-C Cable 数据线 cable")]


@pytest.mark.parametrize("text, expected", [
    ("这个盒子充满能给耳机续多久", "P-CASE"),   # the noun after the demonstrative, not 耳机 later on
    ("那根数据线多长", "P-CABLE"),
    ("does this case charge wirelessly", "P-CASE"),
    ("how long is that cable", "P-CABLE"),
])
def test_the_noun_after_a_demonstrative_picks_the_candidate_it_names(text, expected):
    assert resolve_head(text, _HEADS).id == expected


@pytest.mark.parametrize("text", ["那我收到以后再说", "is this waterproof", "这个多少钱", "that thing"])
def test_a_demonstrative_without_a_naming_noun_picks_nothing(text):
    assert resolve_head(text, _HEADS) is None


def test_a_short_chinese_word_inside_an_item_name_picks_its_order():
    cands = [Candidate("100284", "Urbanstep Low 2 休闲鞋"), Candidate("100311", "Hearthstone AF60 空气炸锅 智能灯泡")]
    assert resolve_description("鞋子那个", cands) is None  # no two-character word of it is in a name
    assert resolve_characters("鞋子那个", cands).id == "100284"
    assert resolve_characters("那个到了吗", cands) is None  # grammar and order talk describe nothing


def test_one_character_of_a_longer_word_names_no_item():
    cands = [Candidate("100028", "Hearthstone Temp 1 电热水壶 Sonique Raid 7 游戏耳机"),
             Candidate("100212", "Tempo Fit 7 智能手表")]
    assert resolve_characters("退掉我买的笔记本电脑", cands) is None  # 电 of 电脑 is not 电热水壶
    assert resolve_characters("手表那单", cands).id == "100212"
    assert resolve_characters("表到了吗", cands).id == "100212"  # a one-character word is whole


def test_a_superlative_is_over_all_the_products_not_the_next_one_up():
    prices = {"cheap": 99.99, "mid": 129.99, "top": 199.99}
    assert resolve_comparison("最贵的那个能用哪些语音助手", prices, "cheap").id == "top"
    assert resolve_comparison("the most expensive one", prices, "cheap").id == "top"
    assert resolve_comparison("the pricier one", prices, "cheap").id == "mid"  # a comparative: the next one up


def test_described_keeps_every_candidate_that_ties():
    cands = [Candidate("a", "", frozenset({"air", "fryer", "zestly"})),
             Candidate("b", "", frozenset({"air", "fryer", "crisp"})),
             Candidate("c", "", frozenset({"screen", "protector"}))]
    assert {i for i, _ in described("is my air fryer on the way", cands)} == {"a", "b"}
    assert resolve_description("is my air fryer on the way", cands) is None


def test_still_in_stock_is_no_second_request():
    """"还有货" asks about stock; "还有" joins two requests only before something new."""
    assert split_requests("AF10现在还有货吗") == ["AF10现在还有货吗"]
    assert split_requests("100302什么时候到 还有Wave 2这个音箱防水吗") == ["100302什么时候到", "Wave 2这个音箱防水吗"]


@pytest.mark.parametrize("text", [
    "where's my blanket? the wool one",
    "how much is shipping? i mean the express one",
    "什么时候发货？就是羊毛毯那个",
])
def test_a_piece_that_only_says_which_one_stays_with_the_question_before_it(text):
    """"the wool one" after a question says which thing that question is about: no request of its own."""
    assert split_requests(text) == [text]


def test_a_question_about_the_other_one_is_still_a_request_of_its_own():
    assert split_requests("is it waterproof? and the other one?") == ["is it waterproof?", "and the other one?"]


def test_a_size_or_budget_stated_after_a_question_is_part_of_it():
    """"what shoes should she get? shes a size 5": the size bounds that request, it is none of its own."""
    assert split_requests("which boots would you pick? i'm a size 9") == ["which boots would you pick? i'm a size 9"]
    assert split_requests("推荐个耳机？预算500以内") == ["推荐个耳机？预算500以内"]
    assert len(split_requests("where is my order? what is your return policy")) == 2
