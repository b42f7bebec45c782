"""Spelling against the store's own words: misspelt product kinds, brands and policy words read as
the store writes them; words of the language, their forms, chat contractions and names stay."""

from __future__ import annotations

import pytest

from knowledge.kernel.spelling import Speller

STORE = ["security", "camera", "warranty", "sneakers", "wireless", "earbuds", "refund", "address", "return",
         "window", "express", "shipping", "battery", "bottle", "price", "want"]
KNOWN = ["where", "my", "is", "it", "the", "cheap", "braid", "was", "can", "they", "you", "ship", "under", "still"]


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller(lambda: STORE, known=KNOWN)


@pytest.mark.parametrize("typed, read", [
    ("wheres my secuirty camra", "wheres my security camera"),
    ("is it still under warrenty?", "is it still under warranty?"),
    ("sneakrs refnd", "sneakers refund"),
    ("retrun windo", "return window"),
])
def test_misspelt_store_words_read_as_the_store_writes_them(speller, typed, read):
    assert speller.correct(typed) == read


@pytest.mark.parametrize("typed", [
    "cheapest", "braided", "shipped",  # forms of known words
    "cant", "wasnt", "theyve", "youre",  # chat drops the apostrophe ("cant" is no "want")
    "100319", "jo@mail.com", "我的充电宝",  # digits, contacts, Chinese
])
def test_words_of_the_language_and_what_is_no_word_stay_as_typed(speller, typed):
    assert speller.correct(typed) == typed


def test_a_name_inside_a_sentence_stays_and_a_tie_is_left_alone(speller):
    assert speller.correct("ship it to Brattle St") == "ship it to Brattle St"
    tied = Speller(["batter", "better"], known=[])
    assert tied.word("bktter") is None  # two store words one edit away, used as often: no guess


def test_an_engine_spells_a_turn_but_never_an_address_or_a_flows_free_text(tmp_path):
    from engine.engine import _AS_TYPED_RE

    assert _AS_TYPED_RE.search("ship it to 12 Elm Stret, Bostn MA 02108")
    assert _AS_TYPED_RE.search("my email is jo@mail.com")
    assert not _AS_TYPED_RE.search("wheres my secuirty camra")
