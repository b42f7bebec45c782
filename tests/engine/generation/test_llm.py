"""engine/generation/llm.py: LLM answers are checked, cited, or replaced by the extractive answer."""

from __future__ import annotations

import pytest

from engine.errors import GeneratorUnavailable
from engine.generation import Answer, ExtractiveGenerator, Fact, Generator, LLMGenerator, StreamingGenerator, stream_to
from engine.generation.grounding import GroundingChecker
from engine.generation.scripted import ScriptedChatModel
from engine.types import Passage, Source

REFUNDS = Passage("faq-refunds", "How long do refunds take?",
                  "Refunds reach your original payment method 5–7 business days after the return arrives.", "en", 0.8)
RETURNS = Passage("faq-returns", "How long do I have to return?", "Within 30 days of delivery.", "en", 0.5)
ZH_REFUNDS = Passage("zh-refunds", "退款多久能到账？", "退货送达仓库后，退款会在5–7个工作日内退回原支付方式。", "zh", 0.9)
X200 = Source("P1", "product", "Aurora X200 Wireless Earbuds")
X200_FACT = Fact("The Aurora X200 Wireless Earbuds cost $129.99.", (X200,))


def _gen(*replies, **kw) -> tuple[LLMGenerator, ScriptedChatModel]:
    model = ScriptedChatModel(list(replies))
    checker = GroundingChecker(["Aurora X200 Wireless Earbuds", "Nimbus S5 Earbuds"])
    return LLMGenerator(model, backend="scripted", checker=checker, store="Brightcart", **kw), model


def test_satisfies_the_protocols():
    gen, _ = _gen("x")
    assert isinstance(gen, Generator) and isinstance(gen, StreamingGenerator)
    assert isinstance(ExtractiveGenerator(), StreamingGenerator)


def test_a_grounded_answer_is_used_and_cites_what_it_marks():
    gen, model = _gen("Your refund reaches the original payment method 5–7 business days after the return "
                      "arrives [1].")
    answer = gen.generate("how long do refunds take?", [REFUNDS, RETURNS], [])
    assert answer.text == ("Your refund reaches the original payment method 5–7 business days after the return "
                           "arrives.")  # markers are citations, not text
    assert answer.sources == (Source("faq-refunds", "faq", REFUNDS.question, 0.8),)
    assert (answer.grounded, answer.backend, answer.refused) == (True, "scripted", ())
    assert answer.tokens > 0
    prompt = model.calls[0][1].content
    assert "[1] How long do refunds take?" in prompt and "[2] How long do I have to return?" in prompt


def test_without_markers_the_best_matching_source_is_cited():
    gen, _ = _gen("You have 30 days of delivery to return it. Refunds reach your original payment method "
                  "5–7 business days after the return arrives.")
    answer = gen.generate("return window?", [RETURNS, REFUNDS], [])
    assert [s.id for s in answer.sources] == ["faq-returns", "faq-refunds"]


def test_an_answer_only_from_lower_ranked_sources_gives_the_extractive_answer():
    """The top passage (or the facts) is what the extractive answer says; a model answer that takes
    nothing from it answers another question (issue 33: a small model copied the currency FAQ for
    'can I pay with Alipay?')."""
    gen, _ = _gen("You have 30 days of delivery to return it.")
    answer = gen.generate("how long do refunds take?", [REFUNDS, RETURNS], [])
    assert answer.text == REFUNDS.answer and answer.refused[0].startswith("off the best source")
    shown: list[str] = []
    with stream_to(shown.append):
        streamed = gen.generate("how long do refunds take?", [REFUNDS, RETURNS], [])
    assert shown == [REFUNDS.answer] and streamed.backend == "extractive"
    both, _ = _gen("You have 30 days of delivery to return it. Refunds reach your original payment method "
                   "5–7 business days after the return arrives.")
    shown = []
    with stream_to(shown.append):  # held until the top passage's claim comes, then shown together
        answer = both.generate("returns and refunds?", [REFUNDS, RETURNS], [])
    assert answer.backend == "scripted" and len(shown) == 1 and "".join(shown) == answer.text


@pytest.mark.parametrize("reply, problem", [
    ("Refunds reach your original payment method 3 business days after the return arrives.", "number 3"),
    ("Refunds reach the Nimbus S5 Earbuds payment method after the return arrives.", "name Nimbus S5 Earbuds"),
    ("Your order has shipped; refunds reach your payment method after the return arrives.", "order status"),
    ("退款会在5–7个工作日内退回原支付方式。", "language zh"),
])
def test_an_ungrounded_answer_falls_back_to_the_extractive_one(reply, problem):
    gen, _ = _gen(reply)
    answer = gen.generate("how long do refunds take?", [REFUNDS], [])
    assert answer.text == REFUNDS.answer  # the FAQ's own words
    assert answer.backend == "extractive" and answer.grounded
    assert problem in answer.refused


def test_facts_are_sources_and_their_citations_carry_over():
    gen, _ = _gen("The Aurora X200 Wireless Earbuds cost $129.99 [1].")
    answer = gen.generate("how much is the X200?", [], [X200_FACT])
    assert answer.text == "The Aurora X200 Wireless Earbuds cost $129.99." and answer.sources == (X200,)
    gen, _ = _gen("The Aurora X200 Wireless Earbuds cost $99.")
    assert gen.generate("how much is the X200?", [], [X200_FACT]).text == X200_FACT.text


def test_an_unavailable_model_falls_back_and_says_why():
    gen, _ = _gen(GeneratorUnavailable("server down"))
    answer = gen.generate("how long do refunds take?", [REFUNDS], [])
    assert answer.text == REFUNDS.answer and answer.refused == ("unavailable: server down",)


def test_nothing_to_ground_on_means_no_model_call():
    gen, model = _gen("Anything.")
    assert gen.generate("what is the meaning of life?", [], []) == Answer("", (), False)
    assert model.calls == []


def test_repeated_sentences_and_a_cut_off_tail_are_dropped():
    gen, _ = _gen("Refunds reach your original payment method after the return arrives. "
                  "Refunds reach your original payment method after the return arrives. It takes 5–7 busi")
    answer = gen.generate("refunds?", [REFUNDS], [])
    assert answer.text == "Refunds reach your original payment method after the return arrives."


def test_history_goes_into_the_prompt_bounded():
    gen, model = _gen("Refunds reach your original payment method 5–7 business days after the return arrives.",
                      history_turns=2)
    gen.generate("and refunds?", [REFUNDS], [], history=[("user", "old"), ("bot", "older"), ("user", "hi"),
                                                          ("bot", "Hello!")])
    prompt = model.calls[0][1].content
    assert "customer: hi\nassistant: Hello!" in prompt and "old" not in prompt


def test_chinese_answers_are_checked_and_joined_without_spaces():
    gen, model = _gen("退货送达仓库后，退款会在5–7个工作日内退回。")
    answer = gen.generate("退款多久到账", [ZH_REFUNDS], [], language="zh")
    assert answer.text == "退货送达仓库后，退款会在5–7个工作日内退回。" and answer.backend == "scripted"
    assert "用中文" in model.calls[0][0].content


# -- streaming -------------------------------------------------------------------------------------


def test_stream_hands_over_checked_sentences_and_ends_with_the_whole_answer():
    text = ("Refunds reach your original payment method after the return arrives. "
            "It takes 5–7 business days after the return arrives.")
    gen, _ = _gen(text)
    stream = gen.stream("refunds?", [REFUNDS], [])
    chunks = list(stream)
    assert chunks == ["Refunds reach your original payment method after the return arrives.",
                      " It takes 5–7 business days after the return arrives."]
    assert stream.answer.text == "".join(chunks) == text
    assert stream.answer.backend == "scripted" and stream.answer.sources[0].id == "faq-refunds"


def test_stream_stops_at_the_first_ungrounded_sentence():
    gen, _ = _gen("Refunds reach your original payment method after the return arrives. "
                  "It takes 12 business days. Refunds reach your original payment method.")
    stream = gen.stream("refunds?", [REFUNDS], [])
    assert list(stream) == ["Refunds reach your original payment method after the return arrives."]
    assert stream.answer.text == "Refunds reach your original payment method after the return arrives."
    assert "number 12" in stream.answer.refused


def test_stream_gives_the_extractive_answer_when_the_first_sentence_fails():
    gen, _ = _gen("Refunds take 12 business days after the return arrives. More text follows here.")
    stream = gen.stream("refunds?", [REFUNDS], [])
    assert list(stream) == [REFUNDS.answer]
    assert stream.answer.backend == "extractive" and "number 12" in stream.answer.refused


def test_stream_to_sends_chunks_to_the_sink_while_generate_returns_the_answer():
    text = "Refunds reach your original payment method 5–7 business days after the return arrives."
    gen, _ = _gen(text)
    seen: list[str] = []
    with stream_to(seen.append):
        answer = gen.generate("refunds?", [REFUNDS], [])
    assert seen == [text] and answer.text == text
    gen.generate("refunds?", [REFUNDS], [])  # outside the block nothing is streamed
    assert seen == [text]


def test_arguments_are_validated():
    model = ScriptedChatModel(["x"])
    for bad in ({"max_passages": 0}, {"max_new_tokens": 0}, {"temperature": -1}, {"history_turns": -1}):
        with pytest.raises(ValueError):
            LLMGenerator(model, backend="x", **bad)


def test_stream_leaves_out_a_tail_cut_off_by_the_token_limit():
    gen, _ = _gen("Refunds reach your original payment method after the return arrives. It takes 5–7 busi")
    stream = gen.stream("refunds?", [REFUNDS], [])
    assert list(stream) == ["Refunds reach your original payment method after the return arrives."]
    assert stream.answer.refused == () and stream.answer.backend == "scripted"


@pytest.mark.parametrize("reply", [
    "How long do refunds take?",                       # the FAQ's question
    "how long do refunds take, and are they quick",    # the customer's question, parroted
    "You are the customer-service assistant of Brightcart, an online store.",  # the prompt leaking
    "Refunds reach your original payment method 5–7 business days after the ret",  # cut off
])
def test_echoes_questions_and_unfinished_text_are_no_answer(reply):
    gen, _ = _gen(reply)
    answer = gen.generate("how long do refunds take, and are they quick", [REFUNDS], [])
    assert answer.text == REFUNDS.answer and answer.backend == "extractive" and answer.refused
    stream = gen.stream("how long do refunds take, and are they quick", [REFUNDS], [])
    assert list(stream) == [REFUNDS.answer] and stream.answer.backend == "extractive"


def test_an_echoed_question_is_left_out_and_the_statement_after_it_kept():
    gen, _ = _gen("How long do refunds take? Refunds reach your original payment method 5–7 business days "
                  "after the return arrives.")
    expected = "Refunds reach your original payment method 5–7 business days after the return arrives."
    assert gen.generate("refunds?", [REFUNDS], []).text == expected
    assert "".join(gen.stream("refunds?", [REFUNDS], [])) == expected


def test_talk_about_the_prompt_is_left_out():
    gen, _ = _gen("The customer has no information about refunds.")
    answer = gen.generate("refunds?", [REFUNDS], [])
    assert answer.backend == "extractive" and answer.text == REFUNDS.answer
