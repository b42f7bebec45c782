"""engine/flows/finding.py: the order request a customer's words make, and whether a return is only weighed."""

from __future__ import annotations

import pytest

from engine.flows.finding import makes_request, request_in
from engine.flows.returns import weighs_return


@pytest.mark.parametrize("text,expected", [
    ("how much would i get back for the air fryer", "refund_status"),
    ("how much will I get back if I send the shoes back", "refund_status"),
    ("do i get the shipping back too?", None),  # a policy question about shipping, not this order's refund
    ("那就都退吧", "return_item"),
    ("把耳机退回去", "return_item"),
    ("ok 是退回我原来的卡吧", None),  # where the money goes back to, no return of an item
    ("退回到原支付方式吗", None),
    ("给我退款吧", "refund_status"),
])
def test_the_request_the_words_make(text, expected):
    assert request_in(text) == expected


@pytest.mark.parametrize("text,weighed", [
    ("and if i return both?", True),
    ("what about returning both?", True),
    ("那两个都退呢", True),
    ("只退耳机呢", True),
    ("都退的话呢", True),
    ("return both", False),
    ("那就都退吧", False),
    ("退款到了吗", False),
])
def test_a_return_weighed_is_not_one_asked_for(text, weighed):
    assert weighs_return(text) is weighed
    if not weighed and request_in(text) == "return_item":
        assert makes_request(text, "return_item")
