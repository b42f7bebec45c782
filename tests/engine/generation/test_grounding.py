"""engine/generation/grounding.py: what an answer may state, given its sources."""

from __future__ import annotations

import pytest

from engine.generation.grounding import GroundingChecker, split_sentences, take_sentences

REFUNDS = "Refunds go back to your original payment method 5–7 business days after your return arrives."
SHIPPING = "Standard shipping is free on orders over $49. Orders of $49 or less ship for a flat $5.99."
X200 = ("Aurora X200 Wireless Earbuds: battery life 30 h (with the charging case), Bluetooth 5.3, "
        "works with iOS and Android, price $129.99.")
ZH_REFUNDS = "退货送达我们的仓库后，退款会在5–7个工作日内退回您的原支付方式。"
ZH_RETURNS = "支持七天无理由退货吗？支持，而且时间更宽裕：Brightcart支持30天内退货（从收货当天算起）。"
NAMES = ["Aurora X200 Wireless Earbuds", "Aurora", "Nimbus S5 Earbuds", "Nimbus", "Aurora X200 Charging Case"]


@pytest.fixture
def checker():
    return GroundingChecker(NAMES)


@pytest.mark.parametrize("answer", [
    "Refunds reach your original payment method 5–7 business days after your return arrives.",
    "Your refund goes back to the original payment method within 5-7 business days [1].",
    "Refunds take five to seven business days after your return arrives.",
])
def test_supported_paraphrases_pass(checker, answer):
    assert checker.check(answer, [REFUNDS], language="en") == ()


@pytest.mark.parametrize("answer, problem", [
    ("Refunds take 10 business days after your return arrives.", "number 10"),
    ("Refunds take ten business days after your return arrives.", "number 10"),
    ("Shipping is free on orders over $50.", "number 50"),
    ("Shipping is free on orders over $49, otherwise $6.99.", "number 6.99"),
    ("Refunds arrive every Monday after the return arrives.", "date mon"),
    ("Refunds arrive by March after your return arrives.", "date mar"),
])
def test_numbers_prices_durations_and_dates_must_come_from_the_sources(checker, answer, problem):
    assert problem in checker.check(answer, [REFUNDS, SHIPPING], language="en")


def test_prices_match_however_they_are_written(checker):
    assert checker.check("The Aurora X200 Wireless Earbuds cost $129.99.", [X200]) == ()
    assert checker.check("Orders above 49 dollars ship free.", [SHIPPING]) == ()
    assert "number 129" in checker.check("The Aurora X200 Wireless Earbuds cost $129.", [X200])


def test_product_names_and_model_codes_must_come_from_the_sources(checker):
    problems = checker.check("The Nimbus S5 Earbuds work with iOS and Android too.", [X200])
    assert "name Nimbus S5 Earbuds" in problems
    assert "code X300" in checker.check("The Aurora X300 works with iOS and Android.", [X200])
    assert checker.check("The Aurora X200 Wireless Earbuds work with iOS and Android.", [X200]) == ()
    # units glued to numbers are numbers, not model codes
    assert checker.check("The Aurora X200 Wireless Earbuds last 30h with the case.", [X200]) == ()


@pytest.mark.parametrize("answer", [
    "Your order has shipped and is on its way.",
    "Good news: your order is already out for delivery.",
    "Order 100023 will arrive after your return arrives.",
])
def test_order_statuses_are_never_stated(checker, answer):
    source = "When your order ships we email you a tracking number. Order 100023 ... after your return arrives."
    assert "order status" in checker.check(answer, [source, REFUNDS], language="en")


def test_chinese_numbers_and_numerals(checker):
    assert checker.check("退款会在5-7个工作日内退回原支付方式。", [ZH_REFUNDS], language="zh") == ()
    assert checker.check("支持30天内退货，从收货当天算起。", [ZH_RETURNS], language="zh") == ()
    assert checker.check("支持三十天内退货，从收货当天算起。", [ZH_RETURNS], language="zh") == ()
    assert "number 15" in checker.check("支持十五天内退货，从收货当天算起。", [ZH_RETURNS], language="zh")
    assert "number 10" in checker.check("退款会在10个工作日内退回原支付方式。", [ZH_REFUNDS], language="zh")
    # a numeral inside an ordinary word is no claim
    assert checker.check("一般退款会退回您的原支付方式。", [ZH_REFUNDS], language="zh") == ()
    assert "order status" in checker.check("您的订单已发货。", [ZH_REFUNDS], language="zh")


def test_the_answer_must_be_in_the_customers_language(checker):
    assert "language en" in checker.check("Refunds take 5–7 business days.", [ZH_REFUNDS, REFUNDS], language="zh")
    assert "language zh" in checker.check("退款会在5–7个工作日内退回。", [ZH_REFUNDS, REFUNDS], language="en")


def test_off_topic_answers_lack_support(checker):
    problems = checker.check("Our cafeteria serves delicious pancakes with maple syrup daily.", [REFUNDS])
    assert any(p.startswith("support") for p in problems)


def test_empty_answers_are_not_grounded(checker):
    assert checker.check("  [1] ", [REFUNDS]) == ("empty answer",)


def test_min_support_is_validated():
    with pytest.raises(ValueError):
        GroundingChecker(min_support=1.5)


def test_sentences_split_at_ends_not_inside_numbers():
    assert split_sentences("It costs $129.99. Bluetooth 5.3 is supported! 好的。再见") == [
        "It costs $129.99.", "Bluetooth 5.3 is supported!", "好的。", "再见"]
    assert take_sentences("One. Two costs $5.") == (["One."], "Two costs $5.")
    assert take_sentences("好的。还有") == (["好的。"], "还有")


def test_an_answer_may_not_say_no_where_the_sources_say_yes(checker):
    source = "Do you ship internationally? Yes, we ship to over 40 countries."
    assert "polarity" in checker.check("No, we do not ship to over 40 countries.", [source])
    assert checker.check("Yes, we ship to over 40 countries.", [source]) == ()
    # sources with neither word leave the answer's yes or no to the other checks
    assert checker.check("Yes, refunds reach your original payment method.", [REFUNDS]) == ()


# -- what the adversarial benchmark found (benchmarks/grounding_adversarial.py, seeds 0-4) --------
FRYER = ("The Zestly AF10 Air Fryer by Zestly costs $99.00. capacity: 5.5 L; color: grey; power: 1900 W. "
         "Warranty of the Zestly AF10 Air Fryer: 24 months.")
AFFIRM = ("Can I pay in installments? Yes, on orders of $100 or more you can choose Affirm at checkout. "
          "Affirm shows your rate before you confirm.")
GOLD = ("What is Gold status? Spend $500 or more in a calendar year and you're Gold for the following year, "
        "earning 2 points per $1 and free gift wrap on every order.")
ZH_GOLD = "一个自然年内消费满500美元，次年即可成为金卡会员，并且每笔订单都享受免费礼品包装。"
ZH_EARBUD = "如果还是有一只没声音，可能是产品缺陷，在12个月电子产品保修范围内。"
ZH_AGENT = "您也可以拨打1-800-555-0199，或发邮件到support@brightcart.com。"


def test_a_unit_letter_is_a_term_only_as_a_word():
    # "W" of "1900 W" is no proper name that "Warranty of ..." must find in its unit
    checker = GroundingChecker(["Zestly AF10 Air Fryer", "Zestly"])
    answer = "power: 1900 W. Warranty of the Zestly AF10 Air Fryer: 24 months."
    assert checker.check(answer, [FRYER, SHIPPING], language="en") == ()


def test_a_name_that_opens_a_source_sentence_is_still_that_source_s_name():
    answer = "Affirm shows your rate before you confirm, and you can choose Affirm at checkout."
    assert GroundingChecker().check(answer, [AFFIRM, SHIPPING], language="en") == ()


def test_a_shared_number_unit_is_no_support_for_the_rest_of_a_claim():
    # the 12 months are right, but nothing in the sources speaks of stick drift
    checker = GroundingChecker(["Aurora X200 Wireless Earbuds", "Aurora"])
    facts = "Warranty of the Aurora X200 Wireless Earbuds: 12 months. Weight of the Aurora X200 Wireless Earbuds: 51 g."
    answer = "Stick drift is treated as a manufacturing defect and is covered by the 12-month electronics warranty."
    assert any(p.startswith("support") for p in checker.check(answer, [facts], language="en"))
    assert checker.check("The Aurora X200 Wireless Earbuds come with a 12-month warranty.", [facts]) == ()


def test_a_phone_number_right_after_chinese_text_is_read_whole():
    checker = GroundingChecker(contacts=["+1-800-555-0199", "support@brightcart.com"])
    assert checker.check("您也可以拨打1-800-555-0199。", [ZH_AGENT], language="zh") == ()
    assert "contact 18005550100" in checker.check("您也可以拨打1-800-555-0100。", [ZH_AGENT], language="zh")


def test_polarity_of_a_claim_that_spans_two_source_clauses():
    answer = "若还是有一只没声音，可能是产品缺陷，在12个月电子产品保修范围内。"
    assert GroundingChecker().check(answer, [ZH_EARBUD, ZH_REFUNDS], language="zh") == ()
    assert "polarity" in GroundingChecker().check("如果还是有一只有声音，可能是产品缺陷。", [ZH_EARBUD], language="zh")


def test_a_closing_yes_needs_a_source_that_answers_yes():
    facts = "Sonique Studio 3 头戴式耳机的保修期：12个月。"
    assert "answer yes" in GroundingChecker().check(facts + "可以。", [facts, ZH_REFUNDS], language="zh")
    assert GroundingChecker().check("可以。" + ZH_RETURNS.split("？")[1][3:], [ZH_RETURNS], language="zh") == ()


@pytest.mark.parametrize("answer, source, language", [
    ("You get free gift wrap on every order. Cancelled orders also get a free gift card.", GOLD, "en"),
    ("每笔订单都享受免费礼品包装。每笔订单都赠送礼品。", ZH_GOLD, "zh"),
])
def test_a_free_gift_the_source_does_not_give_is_refused(answer, source, language):
    problems = GroundingChecker().check(answer, [source, REFUNDS if language == "en" else ZH_REFUNDS], language=language)
    assert any(p.startswith("support") for p in problems), problems
