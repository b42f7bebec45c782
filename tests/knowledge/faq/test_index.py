"""knowledge/faq/index.py: hybrid retrieval with a hash embedder, and the persisted index."""

from __future__ import annotations

import json

import pytest

from knowledge.embedders import HashEmbedder
from knowledge.faq.index import HybridFAQRetriever, Retriever
from knowledge.faq.store import FAQEntry

ENTRIES = [
    FAQEntry("en-return", "How long do I have to return an item?", "You can return items within 30 days of delivery.", "en"),
    FAQEntry("en-ship", "Is shipping free?", "Shipping is free on orders over 49.", "en"),
    FAQEntry("en-refund", "How long does a refund take?",
             "Refunds reach the original payment method 5-7 business days after the return arrives.", "en"),
    FAQEntry("en-pay", "Which payment methods do you accept?", "We accept Visa, Mastercard and PayPal.", "en"),
    FAQEntry("en-warranty", "Do products come with a warranty?", "Electronics have a 12-month warranty.", "en"),
    FAQEntry("zh-return", "退货期限是多久？", "签收后30天内可以退货。", "zh"),
    FAQEntry("zh-ship", "运费怎么算？", "订单满49元包邮。", "zh"),
    FAQEntry("zh-refund", "退款多久到账？", "仓库收到退货后5-7个工作日退款。", "zh"),
]


class CountingEmbedder(HashEmbedder):
    """A hash embedder that counts passage (index-building) calls."""

    def __init__(self) -> None:
        super().__init__()
        self.passage_calls = 0

    def embed(self, texts, *, kind="query"):
        if kind == "passage":
            self.passage_calls += 1
        return super().embed(texts, kind=kind)


@pytest.fixture(scope="module")
def retriever() -> HybridFAQRetriever:
    return HybridFAQRetriever(ENTRIES, HashEmbedder())


def test_satisfies_the_protocol(retriever):
    assert isinstance(retriever, Retriever)
    assert retriever.languages == ["en", "zh"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("how long do I have to return an item", "en-return"),
        ("is shipping free?", "en-ship"),
        ("how long does my refund take", "en-refund"),
        ("what payment methods do you accept", "en-pay"),
        ("退款多久到账", "zh-refund"),
        ("运费怎么算", "zh-ship"),
        ("退货期限", "zh-return"),
    ],
)
def test_finds_the_right_faq_for_a_lexically_close_query(retriever, query, expected):
    top = retriever.retrieve(query, top_k=3)
    assert top[0].id == expected
    assert top[0].score > top[1].score


def test_results_stay_in_the_query_language(retriever):
    assert {p.language for p in retriever.retrieve("退款多久到账", top_k=5)} == {"zh"}
    assert {p.language for p in retriever.retrieve("refund", top_k=5)} == {"en"}


def test_explicit_language_overrides_detection(retriever):
    assert {p.language for p in retriever.retrieve("退款", top_k=3, language="en")} == {"en"}


def test_unknown_language_falls_back_to_english(retriever):
    assert {p.language for p in retriever.retrieve("shipping", top_k=2, language="fr")} == {"en"}


@pytest.mark.parametrize("k", [1, 2, 5])
def test_top_k_bounds_the_results(retriever, k):
    assert len(retriever.retrieve("how long do refunds take?", top_k=k)) == k


def test_top_k_larger_than_the_index_returns_every_entry_once(retriever):
    out = retriever.retrieve("shipping", top_k=50)
    assert sorted(p.id for p in out) == sorted(e.id for e in ENTRIES if e.lang == "en")


def test_scores_are_sorted_best_first_and_bounded(retriever):
    out = retriever.retrieve("how long does a refund take after the return", top_k=5)
    scores = [p.score for p in out]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= s <= 1.0 for s in scores)


def test_passages_carry_the_faq_text(retriever):
    top = retriever.retrieve("is shipping free", top_k=1)[0]
    assert (top.question, top.answer, top.language, top.kind) == (
        "Is shipping free?", "Shipping is free on orders over 49.", "en", "faq")


@pytest.mark.parametrize("query", ["", "   ", "\n"])
def test_empty_query_returns_nothing(retriever, query):
    assert retriever.retrieve(query) == []


def test_bad_arguments_are_rejected(retriever):
    with pytest.raises(ValueError):
        retriever.retrieve("x", top_k=0)
    with pytest.raises(ValueError):
        HybridFAQRetriever([], HashEmbedder())
    with pytest.raises(ValueError):
        HybridFAQRetriever(ENTRIES, HashEmbedder(), dense_weight=1.5)
    with pytest.raises(ValueError):
        HybridFAQRetriever(ENTRIES, {})


def test_dense_weight_zero_is_pure_lexical_coverage():
    r = HybridFAQRetriever(ENTRIES, HashEmbedder(), dense_weight=0.0)
    top = r.retrieve("shipping free", top_k=1)[0]
    assert top.id == "en-ship" and top.score == pytest.approx(1.0)  # every query token covered


def test_a_language_can_have_its_own_embedder():
    en, zh = CountingEmbedder(), CountingEmbedder()
    r = HybridFAQRetriever(ENTRIES, {"en": en, "zh": zh})
    r.warm_up()
    assert en.passage_calls == 1 and zh.passage_calls == 1


# -- persistence ---------------------------------------------------------------------------------


def test_index_is_persisted_with_a_manifest_and_reused(tmp_path):
    first = CountingEmbedder()
    HybridFAQRetriever(ENTRIES, first, cache_dir=tmp_path).warm_up()
    assert first.passage_calls == 2  # en + zh built
    for lang, count in (("en", 5), ("zh", 3)):
        manifest = json.loads((tmp_path / f"faq-{lang}.json").read_text())
        assert manifest["count"] == count and manifest["dim"] == 256
        assert manifest["model"] == first.name and manifest["data_hash"]
        assert (tmp_path / f"faq-{lang}.faiss").stat().st_size > 0

    second = CountingEmbedder()
    r = HybridFAQRetriever(ENTRIES, second, cache_dir=tmp_path)
    assert r.retrieve("is shipping free?")[0].id == "en-ship"
    assert second.passage_calls == 0  # loaded, not rebuilt
    assert not list(tmp_path.glob("*.tmp*"))


def test_changed_data_makes_the_manifest_stale_and_rebuilds(tmp_path):
    HybridFAQRetriever(ENTRIES, CountingEmbedder(), cache_dir=tmp_path).warm_up()
    changed = [e if e.id != "en-ship" else FAQEntry("en-ship", "Do you ship for free?", e.answer, "en")
               for e in ENTRIES]
    emb = CountingEmbedder()
    r = HybridFAQRetriever(changed, emb, cache_dir=tmp_path)
    assert r.retrieve("do you ship for free")[0].id == "en-ship"
    assert emb.passage_calls == 1  # only English changed
    # and the rebuilt index is the one now on disk
    emb2 = CountingEmbedder()
    HybridFAQRetriever(changed, emb2, cache_dir=tmp_path).warm_up()
    assert emb2.passage_calls == 0


def test_a_different_embedder_rebuilds(tmp_path):
    HybridFAQRetriever(ENTRIES, HashEmbedder(dim=256), cache_dir=tmp_path).warm_up()
    r = HybridFAQRetriever(ENTRIES, HashEmbedder(dim=128), cache_dir=tmp_path)
    assert r.retrieve("is shipping free?")[0].id == "en-ship"
    assert json.loads((tmp_path / "faq-en.json").read_text())["dim"] == 128


@pytest.mark.parametrize(
    "corrupt, embeds",
    [
        # a broken FAISS file is rebuilt from the saved vectors (their checksum still matches)
        pytest.param(lambda d: (d / "faq-en.faiss").write_bytes(b"not a faiss index"), 0, id="faiss-garbage"),
        pytest.param(lambda d: (d / "faq-en.faiss").write_bytes((d / "faq-en.faiss").read_bytes()[:100]), 0,
                     id="faiss-truncated"),
        pytest.param(lambda d: (d / "faq-en.faiss").unlink(), 0, id="faiss-missing"),
        # anything wrong with the manifest or the vectors means re-embedding
        pytest.param(lambda d: (d / "faq-en.json").write_text("{not json"), 1, id="manifest-garbage"),
        pytest.param(lambda d: (d / "faq-en.json").write_text("[]"), 1, id="manifest-not-an-object"),
        pytest.param(lambda d: (d / "faq-en.json").write_text("null"), 1, id="manifest-null"),
        pytest.param(lambda d: (d / "faq-en.npy").write_bytes(b"garbage"), 1, id="vectors-garbage"),
        pytest.param(lambda d: (d / "faq-en.npy").unlink(), 1, id="vectors-missing"),
        pytest.param(lambda d: (d / "faq-en.npy").write_bytes((d / "faq-en.npy").read_bytes()[:-8] + b"\0" * 8), 1,
                     id="vectors-bitrot"),
    ],
)
def test_a_corrupted_index_is_rebuilt_not_a_crash(tmp_path, corrupt, embeds):
    HybridFAQRetriever(ENTRIES, CountingEmbedder(), cache_dir=tmp_path).warm_up()
    corrupt(tmp_path)
    emb = CountingEmbedder()
    r = HybridFAQRetriever(ENTRIES, emb, cache_dir=tmp_path)
    assert r.retrieve("is shipping free?")[0].id == "en-ship"
    assert emb.passage_calls == embeds
    assert json.loads((tmp_path / "faq-en.json").read_text())["count"] == 5
    # and what is on disk now loads cleanly, without embedding anything
    again = CountingEmbedder()
    HybridFAQRetriever(ENTRIES, again, cache_dir=tmp_path).warm_up()
    assert again.passage_calls == 0


# -- changes without a full rebuild --------------------------------------------------------------


def test_upsert_embeds_only_new_or_changed_entries_and_persists(tmp_path):
    emb = CountingEmbedder()
    r = HybridFAQRetriever(ENTRIES, emb, cache_dir=tmp_path)
    r.warm_up()
    before = emb.passage_calls
    new = FAQEntry("en-giftcard", "Do you sell gift cards?", "Yes, digital gift cards from 10 to 500.", "en")
    unchanged = ENTRIES[0]
    assert r.upsert([new, unchanged]) == 1
    assert emb.passage_calls == before + 1
    assert r.retrieve("do you sell gift cards", top_k=1)[0].id == "en-giftcard"
    assert json.loads((tmp_path / "faq-en.json").read_text())["count"] == 6
    reloaded = CountingEmbedder()
    again = HybridFAQRetriever([*ENTRIES, new], reloaded, cache_dir=tmp_path)
    assert again.retrieve("do you sell gift cards", top_k=1)[0].id == "en-giftcard"
    assert reloaded.passage_calls == 0  # what upsert saved is exactly the new store


def test_upsert_replaces_a_changed_answer():
    r = HybridFAQRetriever(ENTRIES, HashEmbedder())
    r.upsert([FAQEntry("en-ship", "Is shipping free?", "Shipping is free on orders over 99.", "en")])
    hits = [p for p in r.retrieve("is shipping free", top_k=10) if p.id == "en-ship"]
    assert len(hits) == 1 and "99" in hits[0].answer
    assert len(r) == len(ENTRIES)


def test_upsert_into_a_new_language():
    r = HybridFAQRetriever(ENTRIES, HashEmbedder())
    r.upsert([FAQEntry("fr-ship", "La livraison est-elle gratuite ?", "Oui, dès 49 euros.", "fr")])
    assert r.retrieve("livraison gratuite", language="fr")[0].id == "fr-ship"
    assert "fr" in r.languages


def test_delete_removes_entries_and_survives_a_reload(tmp_path):
    r = HybridFAQRetriever(ENTRIES, CountingEmbedder(), cache_dir=tmp_path)
    assert r.delete(["en-ship", "nope"]) == 1
    assert "en-ship" not in [p.id for p in r.retrieve("is shipping free?", top_k=10)]
    assert len(r) == len(ENTRIES) - 1
    rest = [e for e in ENTRIES if e.id != "en-ship"]
    emb = CountingEmbedder()
    HybridFAQRetriever(rest, emb, cache_dir=tmp_path).warm_up()
    assert emb.passage_calls == 0


def test_many_deletes_compact_the_index():
    many = [FAQEntry(f"e{i}", f"question number {i} about topic {i % 7}", f"answer {i}", "en") for i in range(120)]
    r = HybridFAQRetriever(many, HashEmbedder())
    r.delete([f"e{i}" for i in range(0, 120, 2)])
    assert len(r) == 60
    assert r.retrieve("question number 31 about topic 3", top_k=1)[0].id == "e31"
    assert all(int(p.id[1:]) % 2 for p in r.retrieve("question number", top_k=60))


def test_entries_outside_their_validity_window_are_not_returned():
    expired = FAQEntry("en-promo", "Is there a summer sale?", "Yes, 20% off in July.", "en", valid_until="2000-01-01")
    future = FAQEntry("en-future", "Is there a winter sale?", "Yes.", "en", valid_from="2999-01-01")
    r = HybridFAQRetriever([*ENTRIES, expired, future], HashEmbedder())
    ids = {p.id for p in r.retrieve("is there a summer sale", top_k=10)}
    assert "en-promo" not in ids and "en-future" not in ids


def test_duplicate_ids_are_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        HybridFAQRetriever([ENTRIES[0], ENTRIES[0]], HashEmbedder())


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_each_side_alone_finds_a_close_query(retriever, mode):
    assert retriever.retrieve("which payment methods do you accept", top_k=3, mode=mode)[0].id == "en-pay"


def test_bad_mode_is_rejected(retriever):
    with pytest.raises(ValueError):
        retriever.retrieve("x", mode="magic")


@pytest.mark.parametrize("query", ["?!?", "...", "👍👍", "¿¡"])
def test_punctuation_only_queries_return_nothing(retriever, query):
    assert retriever.retrieve(query) == []


def test_a_100kb_query_is_answered_without_crashing(retriever):
    out = retriever.retrieve("is shipping free? " * 6000, top_k=2)
    assert out and out[0].id == "en-ship"


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_every_index_kind_serves_retrieval(kind, tmp_path):
    r = HybridFAQRetriever(ENTRIES, HashEmbedder(), index_kind=kind, cache_dir=tmp_path)
    assert r.retrieve("is shipping free?")[0].id == "en-ship"
    assert r.stats()["en"]["index"] == kind
    assert json.loads((tmp_path / "faq-en.json").read_text())["index_kind"] == kind


def test_an_index_from_another_model_is_rebuilt_not_used(tmp_path):
    HybridFAQRetriever(ENTRIES, HashEmbedder(dim=256, ngram=3), cache_dir=tmp_path).warm_up()
    other = CountingEmbedder()
    other.name = "another-model"
    r = HybridFAQRetriever(ENTRIES, other, cache_dir=tmp_path)
    r.warm_up()
    assert other.passage_calls == 2
    assert json.loads((tmp_path / "faq-en.json").read_text())["model"] == "another-model"


class TableEmbedder:
    """Fixed vectors by a text's first word: the geometry of a hubness test, set by hand."""

    name = "table-3"

    def __init__(self, table: dict[str, list[float]]) -> None:
        import numpy as np

        self._t = {k: np.asarray(v, dtype=np.float32) / np.linalg.norm(v) for k, v in table.items()}

    @property
    def dim(self) -> int:
        return 3

    def embed(self, texts, *, kind="query"):
        import numpy as np

        return np.stack([self._t[t.split()[0].lower()] for t in texts])


# three near-identical generic FAQs (a crowded region: a hub) and one specific FAQ on its own
HUB_TABLE = {"generic1": [1.0, 0.02, 0.0], "generic2": [1.0, 0.0, 0.02], "generic3": [1.0, -0.02, 0.0],
             "specific": [0.35, 1.0, 0.0], "query": [1.0, 0.65, 0.0]}
HUB_ENTRIES = [FAQEntry(f"h{i}", f"generic{i} question", f"generic{i} answer", "en") for i in (1, 2, 3)] + [
    FAQEntry("s", "specific question", "specific answer", "en")]


def test_density_is_centred_and_highest_in_a_crowded_region():
    r = HybridFAQRetriever(HUB_ENTRIES, TableEmbedder(HUB_TABLE), dense_weight=1.0, hub_weight=0.25, hub_k=2)
    r.warm_up()
    idx = r._indexes["en"]
    ids = ["h1", "h2", "h3", "s"]
    dens = dict(zip(ids, idx.density(2, [idx.slot_of[i] for i in ids])))
    assert abs(sum(dens.values())) < 1e-5  # centred: 4 FAQs, so the mean is exact
    assert min(dens["h1"], dens["h2"], dens["h3"]) > 0 > dens["s"]


def test_hub_weight_lets_a_specific_faq_beat_a_generic_crowd():
    """The query sits a little closer to the generic crowd than to the specific FAQ: cosine alone
    ranks a generic FAQ first; with the hubness correction the specific FAQ wins."""
    plain = HybridFAQRetriever(HUB_ENTRIES, TableEmbedder(HUB_TABLE), dense_weight=1.0, hub_weight=0.0, hub_k=2)
    corrected = HybridFAQRetriever(HUB_ENTRIES, TableEmbedder(HUB_TABLE), dense_weight=1.0, hub_weight=0.25, hub_k=2)
    assert plain.retrieve("query text", top_k=1)[0].id.startswith("h")
    assert corrected.retrieve("query text", top_k=1)[0].id == "s"


def test_density_follows_upserts_and_deletes():
    r = HybridFAQRetriever(HUB_ENTRIES, TableEmbedder(HUB_TABLE), dense_weight=1.0, hub_weight=0.25, hub_k=2)
    assert r.retrieve("query text", top_k=1)[0].id == "s"
    r.delete(["h2", "h3"])  # the crowd is gone: one generic FAQ left, no longer a hub
    assert r.retrieve("query text", top_k=1)[0].id == "h1"
    r.upsert([FAQEntry("h4", "generic2 again", "generic2 answer", "en"),
              FAQEntry("h5", "generic3 again", "generic3 answer", "en")])
    assert r.retrieve("query text", top_k=1)[0].id == "s"


def test_density_of_a_large_store_is_measured_per_candidate_and_estimated_on_a_sample(monkeypatch):
    """Above DENSITY_PRECOMPUTE_MAX FAQs: a query measures only its candidates' neighbourhoods, the
    centring mean comes from 512 FAQs, and a value equals the exact mean cosine to the k nearest
    other FAQs."""
    import numpy as np

    from knowledge.faq import index as index_module

    monkeypatch.setattr(index_module, "DENSITY_PRECOMPUTE_MAX", 1000)

    rng = np.random.default_rng(3)
    n = 3000
    vecs = rng.standard_normal((n, 3)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    table = {f"w{i}": v.tolist() for i, v in enumerate(vecs)} | {"query": [1.0, 0.0, 0.0]}
    entries = [FAQEntry(f"f{i}", f"w{i} question", f"w{i} answer", "en") for i in range(n)]
    r = HybridFAQRetriever(entries, TableEmbedder(table), dense_weight=1.0, hub_weight=0.25, hub_k=5)
    r.warm_up()
    idx = r._indexes["en"]
    assert len(idx._density.values) == 512 and idx._density.mean is not None  # warm-up: the sample only
    r.retrieve("query", top_k=3)
    assert len(idx._density.values) <= 512 + 2 * 20  # plus this query's candidates
    slot = idx.slot_of["f7"]
    sims = vecs @ vecs[7]
    exact = float(np.sort(np.delete(sims, 7))[-5:].mean())
    got = float(idx.density(5, [slot])[0]) + idx._density.mean
    assert abs(got - exact) < 1e-5


def test_density_of_a_small_store_is_measured_whole_at_warm_up():
    r = HybridFAQRetriever(HUB_ENTRIES, TableEmbedder(HUB_TABLE), dense_weight=1.0, hub_weight=0.25, hub_k=2)
    r.warm_up()
    idx = r._indexes["en"]
    assert set(idx._density.values) == set(idx.slot_of.values())
    r.delete(["h3"])  # a write measures the new state whole again
    assert set(idx._density.values) == set(idx.slot_of.values())


def test_bad_hub_settings_are_rejected():
    with pytest.raises(ValueError):
        HybridFAQRetriever(ENTRIES, HashEmbedder(), hub_weight=1.5)
    with pytest.raises(ValueError):
        HybridFAQRetriever(ENTRIES, HashEmbedder(), hub_k=0)


def test_hubness_correction_on_a_one_faq_store_and_after_deleting_down_to_one():
    one = [FAQEntry("only", "Is shipping free?", "Shipping is free on orders over 49.", "en")]
    r = HybridFAQRetriever(one, HashEmbedder(), hub_weight=0.25, hub_k=20)
    assert [p.id for p in r.retrieve("is shipping free", top_k=3)] == ["only"]
    r = HybridFAQRetriever(ENTRIES, HashEmbedder(), hub_weight=0.25, hub_k=20)
    r.delete([e.id for e in ENTRIES if e.lang == "en" and e.id != "en-ship"])
    assert [p.id for p in r.retrieve("is shipping free", top_k=3)] == ["en-ship"]
