"""engine/generation/extractive.py: facts first, else the top passage; always cited."""

from __future__ import annotations

import pytest

from engine.generation import Answer, ExtractiveGenerator, Fact, Generator
from engine.types import Passage, Source

X200 = Source("P1", "product", "Aurora X200")
CASE = Source("P2", "product", "X200 Charging Case")
P_TOP = Passage("faq-returns", "How long do I have to return?", "Within 30 days of delivery.", "en", 0.82)
P_NEXT = Passage("faq-refunds", "How long do refunds take?", "5-7 business days.", "en", 0.55)


def test_satisfies_the_protocol():
    assert isinstance(ExtractiveGenerator(), Generator)


def test_facts_come_first_and_are_cited():
    facts = [Fact("The X200 costs $129.99.", (X200,)), Fact("Its case costs $39.00.", (CASE, X200))]
    answer = ExtractiveGenerator().generate("how much?", [P_TOP], facts, language="en")
    assert answer == Answer("The X200 costs $129.99. Its case costs $39.00.", (X200, CASE), True)


def test_chinese_facts_are_joined_without_spaces():
    facts = [Fact("价格129.99元。", (X200,)), Fact("有货。", (X200,))]
    answer = ExtractiveGenerator().generate("多少钱", [], facts, language="zh")
    assert answer.text == "价格129.99元。有货。"
    assert answer.sources == (X200,)  # one source, cited once


def test_max_facts_bounds_the_answer():
    facts = [Fact(f"fact {i}.", (Source(f"P{i}", "product", f"p{i}"),)) for i in range(5)]
    answer = ExtractiveGenerator(max_facts=2).generate("q", [], facts)
    assert answer.text == "fact 0. fact 1."
    assert [s.id for s in answer.sources] == ["P0", "P1"]
    with pytest.raises(ValueError):
        ExtractiveGenerator(max_facts=0)


def test_without_facts_the_top_passage_answers_and_is_cited():
    answer = ExtractiveGenerator().generate("return window?", [P_TOP, P_NEXT], [])
    assert answer.text == P_TOP.answer
    assert answer.grounded is True
    assert answer.sources == (Source("faq-returns", "faq", P_TOP.question, 0.82),)


def test_nothing_to_say_is_ungrounded_and_empty():
    answer = ExtractiveGenerator().generate("what is the meaning of life?", [], [])
    assert answer == Answer("", (), False)


def test_history_is_accepted_and_does_not_change_the_answer():
    gen = ExtractiveGenerator()
    plain = gen.generate("return window?", [P_TOP], [])
    assert gen.generate("return window?", [P_TOP], [], history=[("user", "hi"), ("bot", "hello")]) == plain


def test_stream_hands_over_the_whole_answer_once():
    stream = ExtractiveGenerator().stream("return window?", [P_TOP, P_NEXT], [])
    assert stream.answer is None  # set once iterated
    assert list(stream) == [P_TOP.answer]
    assert stream.answer == ExtractiveGenerator().generate("return window?", [P_TOP, P_NEXT], [])
    empty = ExtractiveGenerator().stream("?", [], [])
    assert list(empty) == [] and empty.answer == Answer("", (), False)


def test_extractive_answers_report_their_backend_and_no_tokens():
    answer = ExtractiveGenerator().generate("return window?", [P_TOP], [])
    assert (answer.backend, answer.refused, answer.tokens) == ("extractive", (), 0)
