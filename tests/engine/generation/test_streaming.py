"""Streaming never shows what the whole-answer check would refuse (issue 33).

What a customer sees is what the sink of ``stream_to`` receives (the chat CLI prints it, the web
channel sends it as ``delta`` frames). For every draft below the text shown must be the reply, and
the reply must pass :meth:`GroundingChecker.check` as a whole answer.
"""

from __future__ import annotations

import pytest

from engine.generation import GroundingChecker, LLMGenerator, stream_to
from engine.generation.scripted import ScriptedChatModel
from engine.types import Passage

PO_BOX = Passage("faq-po", "Do you ship to parcel lockers?", "We do not ship to parcel lockers. Orders ship within 2 days.",
                 "en", 0.8)
COD = Passage("faq-cod", "支持货到付款吗？", "我们暂不支持货到付款。订单会在2天内发货。", "zh", 0.8)
CANCEL = Passage("faq-cancel", "How do I cancel an order?",
                 "You can cancel an order within 2 hours of placing it in Account > My Orders.", "en", 0.8)
CONTACTS = {"help@shop.example"}

DRAFTS = [  # (passage, language, draft)
    (PO_BOX, "en", "Yes. We do not ship to parcel lockers."),  # "Yes." alone passes; with its clause it is refused
    (COD, "zh", "可以。我们暂不支持货到付款。"),
    (COD, "zh", "我们暂不支持货到付款。订单会在2天内发货。"),
    (CANCEL, "en", "You can cancel an order within 2 hours of placing it. Then email cancel@orders-help.example "
                   "and we refund at once."),
    (CANCEL, "en", "You can cancel an order within 2 hours of placing it in Account > My Orders. "
                   "Cancellations are free on every order worldwide."),
    (PO_BOX, "en", "Orders ship within 2 days. We do not ship to parcel lockers."),
    (PO_BOX, "en", "We ship to parcel lockers. Orders ship within 2 days."),
]


def _generator(draft: str) -> LLMGenerator:
    return LLMGenerator(ScriptedChatModel([draft]), backend="scripted", contacts=CONTACTS,
                        checker=GroundingChecker(contacts=CONTACTS))


@pytest.mark.parametrize(("passage", "language", "draft"), DRAFTS, ids=[d[2][:40] for d in DRAFTS])
def test_what_is_shown_is_the_reply_and_passes_the_whole_answer_check(passage, language, draft):
    shown: list[str] = []
    with stream_to(shown.append):
        reply = _generator(draft).generate(passage.question, [passage], [], language=language)
    assert "".join(shown) == reply.text
    if reply.backend == "extractive":  # the model's draft was refused before anything of it was shown
        assert reply.text == passage.answer
    else:
        sources = [f"{passage.question} {passage.answer}"]
        assert GroundingChecker(contacts=CONTACTS).check(reply.text, sources, language=language) == ()


def test_an_affirmation_waits_for_the_clause_it_answers():
    shown: list[str] = []
    with stream_to(shown.append):
        reply = _generator("Yes. We do not ship to parcel lockers.").generate("parcel lockers?", [PO_BOX], [])
    assert reply.backend == "extractive" and reply.text == PO_BOX.answer  # never a bare "Yes."
    assert shown == [PO_BOX.answer]
    zh = []
    with stream_to(zh.append):
        reply = _generator("可以。我们暂不支持货到付款。").generate("货到付款？", [COD], [], language="zh")
    assert reply.backend == "extractive" and zh == [COD.answer]


def test_a_stream_stops_before_an_invented_step_and_keeps_what_it_showed():
    draft = DRAFTS[3][2]
    shown: list[str] = []
    with stream_to(shown.append):
        reply = _generator(draft).generate("how do I cancel?", [CANCEL], [])
    assert shown == ["You can cancel an order within 2 hours of placing it."]
    assert "cancel@orders-help.example" not in reply.text and reply.text == "".join(shown)
    assert any("contact" in p for p in reply.refused)


def test_a_whole_good_answer_streams_sentence_by_sentence():
    shown: list[str] = []
    with stream_to(shown.append):
        reply = _generator("我们暂不支持货到付款。订单会在2天内发货。").generate("货到付款？", [COD], [], language="zh")
    assert shown == ["我们暂不支持货到付款。", "订单会在2天内发货。"] and reply.backend == "scripted"
