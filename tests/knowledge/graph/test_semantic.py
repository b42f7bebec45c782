"""knowledge/graph/semantic.py: the embedding fallback of product linking, and its guards."""

from __future__ import annotations

import pytest

from knowledge.embedders import E5Embedder, HashEmbedder
from knowledge.graph.catalog import Catalog
from knowledge.graph.linker import ProductLinker
from knowledge.graph.semantic import DEFAULT_MARGIN, DEFAULT_THRESHOLD, EmbeddingProductMatcher
from tests.fakes import CHARGER, LAPTOP_AIR, LAPTOP_PRO, VEGA, X200, write_catalog


class CountingEmbedder(HashEmbedder):
    """A hash embedder that counts the texts it embeds."""

    def __init__(self, name: str = "counting") -> None:
        super().__init__()
        self.name = name
        self.texts: list[str] = []

    def embed(self, texts, *, kind="query"):
        self.texts.extend(texts)
        return super().embed(texts, kind=kind)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Catalog:
    return Catalog.from_file(write_catalog(tmp_path_factory.mktemp("catalog")))


@pytest.fixture(scope="module")
def e5_matcher(catalog) -> EmbeddingProductMatcher:
    return EmbeddingProductMatcher(catalog, E5Embedder())


@pytest.mark.parametrize(
    "text, expected",
    [
        ("is the vega headset comfortable", [VEGA]),
        ("the zenith laptop", [LAPTOP_AIR, LAPTOP_PRO]),  # both share the rarest word
        ("how many watts is the volt charger", [CHARGER]),
        ("Vega 耳机好用吗", [VEGA]),
        ("where is my order 100023", []),  # customer-service words anchor nothing
        ("I want a refund for the broken thing", []),
        ("", []),
    ],
)
def test_only_products_sharing_the_rarest_distinctive_word_are_candidates(catalog, text, expected):
    m = EmbeddingProductMatcher(catalog, HashEmbedder())
    assert sorted(catalog_id for catalog_id in (m._ids[k] for k in m.candidates(text))) == sorted(expected)


def test_names_are_embedded_lazily_once_and_cached_on_disk(catalog, tmp_path):
    emb = CountingEmbedder()
    m = EmbeddingProductMatcher(catalog, emb, threshold=-1.0, margin=0.0, cache_dir=tmp_path)
    m.match("is the vega headset comfortable")
    names_of_vega = len(emb.texts) - 1  # the query itself is the last text embedded
    assert 0 < names_of_vega < 5
    m.match("is the vega headset comfortable")
    assert len(emb.texts) == names_of_vega + 2  # only the query again: names are not re-embedded
    m.warm_up()
    assert (tmp_path / "product-names.npy").is_file() and (tmp_path / "product-names.json").is_file()

    again = CountingEmbedder()
    EmbeddingProductMatcher(catalog, again, cache_dir=tmp_path).warm_up()
    assert again.texts == []  # same model, same names: loaded from disk

    other = CountingEmbedder("another-model")
    EmbeddingProductMatcher(catalog, other, cache_dir=tmp_path).warm_up()
    assert other.texts  # another model's vectors are never used


def test_a_damaged_cache_is_rebuilt(catalog, tmp_path):
    EmbeddingProductMatcher(catalog, CountingEmbedder(), cache_dir=tmp_path).warm_up()
    (tmp_path / "product-names.npy").write_bytes(b"not numpy")
    emb = CountingEmbedder()
    EmbeddingProductMatcher(catalog, emb, cache_dir=tmp_path).warm_up()
    assert emb.texts


def test_the_fallback_runs_only_when_alias_and_fuzzy_find_nothing(catalog):
    emb = CountingEmbedder()
    linker = ProductLinker(catalog, semantic=EmbeddingProductMatcher(catalog, emb, threshold=-1.0, margin=0.0))
    assert linker.link("how long does the X200 battery last") == [X200]
    assert linker.link("aurorax200") == [X200]  # fuzzy
    assert emb.texts == []
    assert linker.link("is the vega headset comfortable") == [VEGA]
    assert emb.texts


@pytest.mark.parametrize("kwargs", [{"threshold": 1.5}, {"margin": -0.1}, {"margin": 2.0}])
def test_bad_guards_are_refused(catalog, kwargs):
    with pytest.raises(ValueError):
        EmbeddingProductMatcher(catalog, HashEmbedder(), **kwargs)


# -- the real multilingual E5 at the tuned threshold and margin --------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "text, expected",
    [
        ("is the vega headset comfortable", VEGA),
        ("how many watts is the volt charger", CHARGER),
        ("Vega 耳机好用吗", VEGA),
        ("does the zenith laptop have a backlit keyboard", None),  # two Zenith laptops: ambiguous
        ("where is my order 100023", None),
        ("do you sell apple airpods", None),
        ("我的订单到哪了", None),
    ],
)
def test_e5_links_descriptions_and_refuses_ambiguous_or_ordinary_text(e5_matcher, text, expected):
    assert (e5_matcher.threshold, e5_matcher.margin) == (DEFAULT_THRESHOLD, DEFAULT_MARGIN)
    assert e5_matcher.match(text) == expected
