"""engine/text.py: cleaning customer input, guessing the language, lexical tokens."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.text import EN_STOPWORDS, clean_text, detect_language, is_cjk, lexical_tokens

# -- clean_text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("hi\x00 there", "hi there"),  # NUL
        ("bell\x07 and \x1b escape", "bell and escape"),  # C0 controls
        ("zero\u200bwidth\u200c\u200d joiners", "zerowidth joiners"),  # zero-width
        ("\ufeffhello", "hello"),  # BOM
        ("\u202eevil", "evil"),  # bidi override
        ("soft\u00adhyphen", "softhyphen"),  # soft hyphen (Cf)
    ],
)
def test_clean_text_drops_control_and_format_characters(raw, expected):
    assert clean_text(raw) == expected


def test_clean_text_normalises_full_width_digits_and_letters():
    assert clean_text("订单号１０００２３") == "订单号100023"
    assert clean_text("ＡＢＣ　ｘ２００") == "ABC x200"  # ideographic space too


def test_clean_text_applies_nfkc_compatibility_forms():
    assert clean_text("\ufb01le") == "file"  # ligature fi
    assert clean_text("e\u0301") == "\u00e9"  # composed


def test_clean_text_squeezes_and_strips_whitespace():
    assert clean_text("  where\t\tis \n\n my\r\norder  ") == "where is my order"
    assert clean_text("a\u00a0b") == "a b"  # no-break space


@pytest.mark.parametrize("raw", ["", "   ", "\u200b\u200b", "\x00\t\n"])
def test_clean_text_of_nothing_is_empty(raw):
    assert clean_text(raw) == ""


def test_clean_text_drops_lone_surrogates_without_inventing_characters():
    """The docstring promises lone surrogates are dropped; they must not become '?'."""
    assert clean_text("x\ud800y") == "xy"
    assert clean_text("order \udcff100023") == "order 100023"


def test_clean_text_keeps_chinese_and_emoji():
    assert clean_text("退货 👍") == "退货 👍"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_clean_text_is_idempotent_and_leaves_no_controls(text):
    once = clean_text(text)
    assert clean_text(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in once)


# -- detect_language ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, lang",
    [
        ("你们支持七天无理由退货吗", "zh"),
        ("X200耳机多少钱", "zh"),
        ("订单号100031到哪了", "zh"),
        ("where is my order?", "en"),
        ("", "en"),
        ("100023", "en"),
        ("refund please for my order 退款", "en"),  # a stray CJK word in an English sentence
    ],
)
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_is_cjk():
    assert is_cjk("退") and not is_cjk("a") and not is_cjk("１")


# -- lexical_tokens -------------------------------------------------------------------------------


def test_lexical_tokens_english_lowercases_and_drops_stop_words():
    toks = lexical_tokens("What is the Return policy for Shoes?")
    assert toks == ["return", "policy", "shoes"]
    assert not set(toks) & EN_STOPWORDS


def test_lexical_tokens_keep_numbers_contractions_and_units():
    assert lexical_tokens("don't 3.5mm 100023") == ["don't", "3.5mm", "100023"]


def test_lexical_tokens_chinese_unigrams_and_bigrams():
    assert lexical_tokens("退款多久") == ["退", "款", "多", "久", "退款", "款多", "多久"]


def test_lexical_tokens_mixed_text():
    toks = lexical_tokens("X200 续航")
    assert "x200" in toks and "续航" in toks and "续" in toks


def test_lexical_tokens_of_stop_words_only_is_empty():
    assert lexical_tokens("what is the") == []
