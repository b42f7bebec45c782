"""HybridFAQRetriever loads a language's indexes on that language's first query only."""

from __future__ import annotations

from knowledge.embedders import HashEmbedder
from knowledge.faq.index import HybridFAQRetriever
from knowledge.faq.store import FAQEntry

ENTRIES = [
    FAQEntry("en-refund", "How long do refunds take?", "Refunds take 5-7 business days.", "en"),
    FAQEntry("en-ship", "Is shipping free?", "Shipping is free over 49.", "en"),
    FAQEntry("zh-refund", "退款多久到账", "退款在5-7个工作日内到账。", "zh"),
    FAQEntry("zh-ship", "包邮吗", "订单满49包邮。", "zh"),
]


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.passages = 0

    def embed(self, texts, *, kind="query"):
        if kind == "passage":
            self.passages += len(texts)
        return super().embed(texts, kind=kind)


def test_an_english_query_loads_english_only_then_chinese_on_demand(tmp_path):
    en, zh = CountingEmbedder(), CountingEmbedder()
    r = HybridFAQRetriever(ENTRIES, {"en": en, "zh": zh}, cache_dir=tmp_path)
    assert r.retrieve("how long do refunds take", top_k=1, language="en")[0].id == "en-refund"
    assert en.passages == 4 and zh.passages == 0  # 2 FAQs x (question+answer, question)
    assert not (tmp_path / "faq-zh.json").exists()
    assert r.retrieve("退款多久到账", top_k=1)[0].id == "zh-refund"  # detected language
    assert zh.passages == 4
    r.warm_up()  # nothing left to build
    assert en.passages == 4 and zh.passages == 4
    assert len(r) == 4


def test_warm_up_builds_every_language_and_unknown_languages_fall_back_to_english(tmp_path):
    emb = CountingEmbedder()
    r = HybridFAQRetriever(ENTRIES, emb, cache_dir=tmp_path)
    r.warm_up()
    assert emb.passages == 8 and (tmp_path / "faq-zh.json").exists()
    r2 = HybridFAQRetriever(ENTRIES, CountingEmbedder())
    assert r2.retrieve("is shipping free", top_k=1, language="fr")[0].id == "en-ship"
