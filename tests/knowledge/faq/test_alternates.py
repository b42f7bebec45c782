"""knowledge/faq/index.py: FAQ alternates as extra keys of their FAQ (dense, lexical, persisted)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from knowledge.embedders import HashEmbedder
from knowledge.faq.dense import DenseIndex, KeyedDenseIndex
from knowledge.faq.index import HybridFAQRetriever
from knowledge.faq.lexical import BM25Index, analyse
from knowledge.faq.rerank import NoReranker
from knowledge.faq.store import FAQEntry

ENTRIES = [
    FAQEntry("return", "How long do I have to return an item?", "You can return items within 30 days of delivery.",
             "en", alternates=("Can I send back something I bought a month ago?",)),
    FAQEntry("ship", "Is shipping free?", "Shipping is free on orders over 49.", "en"),
    FAQEntry("refund", "How long does a refund take?",
             "Refunds reach the original payment method 5-7 business days after the return arrives.", "en",
             alternates=("When will I get my money back?", "my money still hasn't arrived")),
    FAQEntry("pay", "Which payment methods do you accept?", "We accept Visa, Mastercard and PayPal.", "en"),
    FAQEntry("warranty", "Do products come with a warranty?", "Electronics have a 12-month warranty.", "en"),
    FAQEntry("gift", "Do you sell gift cards?", "Gift cards from 10 to 200 are sold online.", "en"),
    FAQEntry("zh-refund", "退款多久到账？", "仓库收到退货后5-7个工作日退款。", "zh", alternates=("钱什么时候退回来？",)),
    FAQEntry("zh-ship", "运费怎么算？", "订单满49元包邮。", "zh"),
]
PLAIN = [e.id for e in ENTRIES if not e.alternates]
QUERIES = ["when will my money come back", "is shipping free?", "send back a thing bought last month",
           "gift card", "warranty on electronics", "which cards do you take", "payment methods", "money back"]


def stripped(entries):
    return [dataclasses.replace(e, alternates=()) for e in entries]


class TextCounter(HashEmbedder):
    """A hash embedder that counts the passage texts it embeds (index building)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts, *, kind="query"):
        if kind == "passage":
            self.texts.extend(texts)
        return super().embed(texts, kind=kind)


# -- ranking --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_a_query_phrased_like_an_alternate_ranks_its_faq_first(mode):
    query = "when will I get my money back"
    without = HybridFAQRetriever(stripped(ENTRIES), HashEmbedder())
    with_alts = HybridFAQRetriever(ENTRIES, HashEmbedder())
    assert [p.id for p in without.retrieve(query, top_k=1, mode=mode)] != ["refund"]  # the question alone misses it
    assert with_alts.retrieve(query, top_k=1, mode=mode)[0].id == "refund"
    zh = with_alts.retrieve("钱什么时候退回来", top_k=1, mode=mode)[0]
    assert zh.id == "zh-refund" and zh.language == "zh"


def test_the_dense_score_is_the_best_of_the_faqs_keys():
    r = HybridFAQRetriever(ENTRIES, HashEmbedder())
    plain = HybridFAQRetriever(stripped(ENTRIES), HashEmbedder())
    query = "When will I get my money back?"
    best = {p.id: p.score for p in r.retrieve(query, top_k=6, mode="dense")}
    question = {p.id: p.score for p in plain.retrieve(query, top_k=6, mode="dense")}
    emb = HashEmbedder()
    q = emb.embed([query], kind="query")[0]
    e = next(x for x in ENTRIES if x.id == "refund")
    alt = emb.embed([f"{e.alternates[0]} {e.answer}", e.alternates[0]], kind="passage").sum(axis=0)
    assert best["refund"] == pytest.approx(float(q @ (alt / np.linalg.norm(alt))), abs=1e-4)
    assert best["refund"] > question.get("refund", -1.0)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_top_k_has_one_passage_per_faq(mode):
    many = [dataclasses.replace(ENTRIES[2], alternates=tuple(f"money back question {i}" for i in range(30)))]
    r = HybridFAQRetriever([*many, *ENTRIES[3:6]], HashEmbedder(), candidates=5)
    for query in ("money back question", "gift card", "money"):
        ids = [p.id for p in r.retrieve(query, top_k=10, mode=mode)]
        assert len(ids) == len(set(ids)) and ids
    assert len(r) == 4 and r.stats()["en"]["alternates"] == 30


@pytest.mark.parametrize("hub_weight", [0.0, 0.25])
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_faqs_without_alternates_score_exactly_as_in_a_store_without_any(mode, hub_weight):
    kw = dict(reranker=NoReranker(), candidates=len(ENTRIES), hub_weight=hub_weight, hub_k=3)
    with_alts = HybridFAQRetriever(ENTRIES, HashEmbedder(), **kw)
    without = HybridFAQRetriever(stripped(ENTRIES), HashEmbedder(), **kw)
    reached = set()
    for query in QUERIES:
        got = {p.id: p.score for p in with_alts.retrieve(query, top_k=len(ENTRIES), mode=mode) if p.id in PLAIN}
        want = {p.id: p.score for p in without.retrieve(query, top_k=len(ENTRIES), mode=mode) if p.id in PLAIN}
        assert got == want, query
        reached |= set(got)
    assert reached == {i for i in PLAIN if not i.startswith("zh")}  # the queries reach every English one


def test_the_question_vectors_and_hub_densities_ignore_alternates(tmp_path):
    HybridFAQRetriever(stripped(ENTRIES), HashEmbedder(), cache_dir=tmp_path / "plain").warm_up()
    r = HybridFAQRetriever(ENTRIES, HashEmbedder(), cache_dir=tmp_path / "alts", hub_weight=0.25, hub_k=3)
    plain = HybridFAQRetriever(stripped(ENTRIES), HashEmbedder(), hub_weight=0.25, hub_k=3)
    r.warm_up()
    plain.warm_up()
    for lang in ("en", "zh"):
        a = json.loads((tmp_path / "alts" / f"faq-{lang}.json").read_text())
        b = json.loads((tmp_path / "plain" / f"faq-{lang}.json").read_text())
        assert a["data_hash"] == b["data_hash"] and a["entries"] == b["entries"] and a["count"] == b["count"]
        npy = f"faq-{lang}.npy"
        assert (tmp_path / "alts" / npy).read_bytes() == (tmp_path / "plain" / npy).read_bytes()
    ia, ib = r._indexes["en"], plain._indexes["en"]
    ids = [e.id for e in ENTRIES if e.lang == "en"]
    assert ia.density(3, [ia.slot_of[i] for i in ids]).tolist() == ib.density(3, [ib.slot_of[i] for i in ids]).tolist()


def test_a_store_without_alternates_writes_no_alternates_files(tmp_path):
    r = HybridFAQRetriever(stripped(ENTRIES), HashEmbedder(), cache_dir=tmp_path)
    r.warm_up()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"faq-{lang}.{ext}" for lang in ("en", "zh")
                                                          for ext in ("faiss", "json", "npy")]
    assert r.stats()["en"]["alternates"] == 0


# -- persistence and incremental changes ------------------------------------------------------------


def test_the_persisted_index_round_trips(tmp_path):
    first = TextCounter()
    r1 = HybridFAQRetriever(ENTRIES, first, cache_dir=tmp_path)
    r1.warm_up()
    n_alts = sum(len(e.alternates) for e in ENTRIES)
    assert len(first.texts) == 2 * (len(ENTRIES) + n_alts)
    manifest = json.loads((tmp_path / "faq-en-alternates.json").read_text())
    assert manifest["count"] == 3 and manifest["model"] == first.name
    second = TextCounter()
    r2 = HybridFAQRetriever(ENTRIES, second, cache_dir=tmp_path)
    for query in QUERIES:
        assert r2.retrieve(query, top_k=5) == r1.retrieve(query, top_k=5)
    assert second.texts == []  # loaded, not re-embedded
    assert not list(tmp_path.glob("*.tmp*"))


def test_an_index_written_without_alternates_keeps_its_question_vectors(tmp_path):
    HybridFAQRetriever(stripped(ENTRIES), HashEmbedder(), cache_dir=tmp_path).warm_up()
    emb = TextCounter()
    r = HybridFAQRetriever(ENTRIES, emb, cache_dir=tmp_path)
    assert r.retrieve("when will I get my money back", top_k=1)[0].id == "refund"
    r.warm_up()
    assert sorted(emb.texts) == sorted(t for e in ENTRIES for a in e.alternates for t in (f"{a} {e.answer}", a))
    # and stripping them again re-uses the saved question index as is, dropping the alternates files
    again = TextCounter()
    HybridFAQRetriever(stripped(ENTRIES), again, cache_dir=tmp_path).warm_up()
    assert again.texts == [] and not list(tmp_path.glob("faq-*-alternates.*"))


def test_a_changed_alternate_re_embeds_only_that_alternate(tmp_path):
    HybridFAQRetriever(ENTRIES, HashEmbedder(), cache_dir=tmp_path).warm_up()
    refund = ENTRIES[2]
    changed = [dataclasses.replace(e, alternates=(e.alternates[0], "where is my reimbursement"))
               if e.id == "refund" else e for e in ENTRIES]
    emb = TextCounter()
    r = HybridFAQRetriever(changed, emb, cache_dir=tmp_path)
    assert r.retrieve("where is my reimbursement", top_k=1)[0].id == "refund"
    r.warm_up()
    assert emb.texts == [f"where is my reimbursement {refund.answer}", "where is my reimbursement"]


def test_upsert_and_delete_keep_alternates_in_step(tmp_path):
    emb = TextCounter()
    r = HybridFAQRetriever(ENTRIES, emb, cache_dir=tmp_path)
    r.warm_up()
    emb.texts.clear()
    gift = dataclasses.replace(ENTRIES[5], alternates=("present voucher",))
    assert r.upsert([gift]) == 1
    assert emb.texts == [f"present voucher {gift.answer}", "present voucher"]  # not the question again
    assert r.retrieve("present voucher", top_k=1)[0].id == "gift"
    emb.texts.clear()
    assert r.upsert([dataclasses.replace(ENTRIES[2], alternates=ENTRIES[2].alternates[:1])]) == 0  # one dropped
    assert emb.texts == []
    assert r.retrieve("my money still hasn't arrived", top_k=1, mode="dense")[0].score < 0.99
    assert r.delete(["refund", "gift", "return"]) == 3
    assert r.stats()["en"]["alternates"] == 0
    assert not (tmp_path / "faq-en-alternates.json").exists()  # all gone: no stale files
    assert r.retrieve("when will I get my money back", top_k=3)[0].id not in {"refund", "gift"}
    reloaded = TextCounter()
    r2 = HybridFAQRetriever([e for e in ENTRIES if e.id not in {"refund", "gift", "return"}], reloaded,
                            cache_dir=tmp_path)
    r2.warm_up()
    assert reloaded.texts == []


def test_upsert_moves_an_faq_with_alternates_across_languages():
    r = HybridFAQRetriever(ENTRIES, HashEmbedder())
    r.upsert([dataclasses.replace(ENTRIES[2], lang="fr")])
    assert "refund" not in {p.id for p in r.retrieve("when will I get my money back", top_k=10, language="en")}
    assert r.retrieve("when will I get my money back", top_k=1, language="fr")[0].id == "refund"
    assert r.stats()["en"]["alternates"] == 1 and r.stats()["fr"]["alternates"] == 2


def test_many_alternate_changes_compact_the_alternates_index():
    r = HybridFAQRetriever(ENTRIES, HashEmbedder())
    for i in range(40):
        r.upsert([dataclasses.replace(ENTRIES[2], alternates=(f"variant number {i}",))])
    idx = r._indexes["en"]
    assert idx.alt.dense.slots < 40 and idx.alt.size == 2  # "return" + the latest variant
    assert r.retrieve("variant number 39", top_k=1)[0].id == "refund"


def test_blank_and_repeated_alternates_add_nothing():
    e = dataclasses.replace(ENTRIES[1], alternates=(" ", "Is shipping free?", "free delivery?", "Free delivery? "))
    r = HybridFAQRetriever([e, *ENTRIES[3:6]], HashEmbedder())
    assert r.stats()["en"]["alternates"] == 1


# -- the pieces ---------------------------------------------------------------------------------------


def test_keyed_dense_index_scores_an_owner_by_its_best_row():
    v = np.eye(4, dtype=np.float32)
    idx = KeyedDenseIndex(DenseIndex(v[:3]), ["a", "a", "b"], ["k0", "k1", "k2"])
    assert idx.search(v[1], 3) == {"a": 1.0, "b": 0.0}
    assert idx.best(v[2], ["a", "b", "c"]).tolist() == [0.0, 1.0, -np.inf]
    assert set(idx.remove("a")) == {"k0", "k1"} and "a" not in idx
    idx.add("c", v[3:4], ["k3"])
    idx.compact()
    assert idx.keys == ["k2", "k3"] and idx.search(v[3], 5) == {"b": 0.0, "c": 1.0}
    with pytest.raises(ValueError):
        idx.add("c", v[:1], ["again"])
    with pytest.raises(ValueError):
        KeyedDenseIndex(DenseIndex(v), ["a"], ["k"])


def test_coverage_counts_extra_terms_without_changing_idf():
    docs = [analyse(t, "en") for t in ["free shipping", "return window", "gift card"]]
    bm = BM25Index(docs)
    q = analyse("refund money", "en")
    assert bm.coverage(q, [0, 1]).tolist() == [0.0, 0.0]
    got = bm.coverage(q, [0, 1], [None, frozenset(analyse("money back", "en"))])
    assert got[0] == 0.0 and got[1] == pytest.approx(0.5)
    q2 = analyse("return gift", "en")
    assert bm.coverage(q2, [1, 2], [None, None]).tolist() == bm.coverage(q2, [1, 2]).tolist()


# -- the real packaged model (slow) -------------------------------------------------------------------


@pytest.mark.slow
def test_with_the_packaged_minilm_an_alternate_phrasing_finds_its_faq():
    from knowledge.embedders import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder(device="cpu")
    query = "my parcel went to the wrong house"
    entries = [
        FAQEntry("wrong-item", "I received the wrong item, what do I do?",
                 "Contact us within 14 days and we will send the right item with a free return label.", "en"),
        FAQEntry("missing", "My order says delivered but I cannot find it",
                 "Check with neighbours and your building's mail room; if it is still missing after 48 hours, "
                 "contact us and we will open a claim with the carrier.", "en",
                 alternates=("The courier left my parcel at the wrong house",)),
        FAQEntry("change-address", "Can I change my shipping address?",
                 "You can change it until the order ships, from your account's order page.", "en"),
        FAQEntry("track", "How do I track my order?", "Use the tracking link in your shipping email.", "en"),
        FAQEntry("ship-time", "How long does delivery take?", "Standard delivery takes 3-5 business days.", "en"),
    ]
    before = {p.id: p.score for p in HybridFAQRetriever(stripped(entries), emb).retrieve(query, top_k=5)}
    after = {p.id: p.score for p in HybridFAQRetriever(entries, emb).retrieve(query, top_k=5)}
    assert max(before, key=before.get) == "wrong-item"  # the question alone loses to a look-alike
    assert max(after, key=after.get) == "missing"
    assert {k: v for k, v in after.items() if k != "missing"} == {k: v for k, v in before.items() if k != "missing"}
