"""Behaviour tests of the lexicon sentiment analyzer (engine/nlu/sentiment.py)."""

from __future__ import annotations

import doctest
import time
from importlib import resources

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import engine.nlu.sentiment as sentiment_module
from engine.errors import ModelError
from engine.nlu.base import SentimentAnalyzer
from engine.nlu.sentiment import LexiconSentimentAnalyzer
from engine.types import SentimentPrediction


@pytest.fixture(scope="module")
def analyzer() -> LexiconSentimentAnalyzer:
    return LexiconSentimentAnalyzer()


_SHARED = LexiconSentimentAnalyzer()


def score(analyzer: LexiconSentimentAnalyzer, text: str) -> float:
    return analyzer.analyze(text).score


# A labelled set written for this test: realistic Brightcart messages, not lexicon entries.
LABELLED = [
    # English, positive
    ("the aurora x200 sound amazing, really happy with them", "positive"),
    ("thanks so much, that was super helpful", "positive"),
    ("delivery was quick and the shoes fit perfectly", "positive"),
    ("love my new smartwatch, the battery lasts forever", "positive"),
    ("great service, i'll definitely shop here again", "positive"),
    ("the kettle works great and looks nice in my kitchen", "positive"),
    ("you guys are awesome", "positive"),
    ("i appreciate the fast refund", "positive"),
    ("honestly not bad for the price", "positive"),
    ("the trailrunner 5 are so comfortable for long runs", "positive"),
    # English, negative
    ("the earbuds stopped working after two days", "negative"),
    ("this is the worst customer service i have ever dealt with", "negative"),
    ("i'm really disappointed, the jacket looks nothing like the photos", "negative"),
    ("still no refund after three weeks, this is ridiculous", "negative"),
    ("the blender arrived broken and nobody answers my emails", "negative"),
    ("not happy with the sound quality at all", "negative"),
    ("what a rip off, the case cracked on day one", "negative"),
    ("your delivery driver was incredibly rude", "negative"),
    ("I AM SO ANGRY RIGHT NOW", "negative"),
    ("the app keeps crashing, useless", "negative"),
    # English, neutral
    ("where is my order 100023?", "neutral"),
    ("what is the battery life of the aurora x200", "neutral"),
    ("i want to return the running shoes", "neutral"),
    ("can i pay with apple pay", "neutral"),
    ("please change my shipping address to 12 elm street", "neutral"),
    ("do you ship to canada", "neutral"),
    ("how many days do i have to send it back", "neutral"),
    ("cancel order 100031", "neutral"),
    ("is the charging case sold separately", "neutral"),
    ("i need the tracking number for my package", "neutral"),
    # Chinese, positive
    ("耳机音质很好，非常满意", "positive"),
    ("客服态度特别好，谢谢", "positive"),
    ("跑鞋穿着很舒服", "positive"),
    ("东西收到了，质量不错", "positive"),
    ("发货速度很快，赞一个", "positive"),
    ("这个手表真的好用", "positive"),
    ("包装很用心，下次还会回购", "positive"),
    ("性价比超高，推荐购买", "positive"),
    ("太喜欢这个颜色了", "positive"),
    ("物流挺快的，很满意", "positive"),
    # Chinese, negative
    ("耳机用了三天就坏了", "negative"),
    ("等了两个星期还没收到，太失望了", "negative"),
    ("客服一直不回复，服务太差了", "negative"),
    ("质量很差，不推荐", "negative"),
    ("你们就是骗子", "negative"),
    ("衣服和图片完全不一样，很生气", "negative"),
    ("退款拖了这么久，真的很无语", "negative"),
    ("我对这次购物一点都不满意", "negative"),
    ("充电盒有质量问题，太坑了", "negative"),
    ("这么贵还这么难用，后悔买了", "negative"),
    # Chinese, neutral
    ("我的订单到哪了", "neutral"),
    ("这款耳机支持安卓手机吗", "neutral"),
    ("我想把收货地址改成公司", "neutral"),
    ("退货需要多少天", "neutral"),
    ("订单100024什么时候发货", "neutral"),
    ("请问有黑色的吗", "neutral"),
    ("支持货到付款吗", "neutral"),
    ("帮我查一下退款进度", "neutral"),
    ("这两个有什么区别", "neutral"),
    ("我要取消订单100031", "neutral"),
    # a second batch, written after the lexicon's shopping vocabulary was added and never tuned on
    ("super happy with how fast it shipped", "positive"),
    ("the headphones are comfy and the bass is great", "positive"),
    ("you've been a great help today", "positive"),
    ("the smart plug works perfectly with alexa", "positive"),
    ("honestly the best purchase i've made this year", "positive"),
    ("the tent is solid and easy to set up", "positive"),
    ("i'm so annoyed, the charger stopped charging after a week", "negative"),
    ("nobody has replied to my ticket in 5 days", "negative"),
    ("the screen came scratched", "negative"),
    ("this laptop overheats constantly", "negative"),
    ("i was charged twice and i'm furious", "negative"),
    ("the sizing is way off and the material feels cheap", "negative"),
    ("what's the warranty on the blender", "neutral"),
    ("do you have the trailrunner 5 in size 9", "neutral"),
    ("my order number is 100024", "neutral"),
    ("i'd like to exchange these for a medium", "neutral"),
    ("can someone call me tomorrow morning", "neutral"),
    ("耳机很轻，戴着很舒服", "positive"),
    ("客服小姐姐很耐心，点赞", "positive"),
    ("第二次买了，一如既往的好", "positive"),
    ("发货很快，包装完好", "positive"),
    ("东西很好，下次还来", "positive"),
    ("手表屏幕有划痕，很失望", "negative"),
    ("打了三次电话都没人接", "negative"),
    ("说好的赠品没收到", "negative"),
    ("物流太慢了，等了十天", "negative"),
    ("这质量也太差了吧", "negative"),
    ("请问这个耳机有几种颜色", "neutral"),
    ("我的包裹显示已签收", "neutral"),
    ("能开发票吗", "neutral"),
    ("我想换成42码", "neutral"),
    ("这个是正品吗", "neutral"),
]


def test_labelled_set_accuracy(analyzer: LexiconSentimentAnalyzer) -> None:
    assert len(LABELLED) >= 40
    wrong = [(text, gold, analyzer.analyze(text)) for text, gold in LABELLED
             if analyzer.analyze(text).label != gold]
    accuracy = 1 - len(wrong) / len(LABELLED)
    assert accuracy >= 0.85, f"accuracy {accuracy:.3f}; wrong: {wrong}"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_labelled_set_accuracy_per_language(analyzer: LexiconSentimentAnalyzer, lang: str) -> None:
    is_zh = lang == "zh"
    rows = [(t, g) for t, g in LABELLED if is_zh == any("\u4e00" <= c <= "\u9fff" for c in t)]
    assert len(rows) >= 20
    correct = sum(analyzer.analyze(t).label == g for t, g in rows)
    assert correct / len(rows) >= 0.8


def test_is_a_sentiment_analyzer(analyzer: LexiconSentimentAnalyzer) -> None:
    assert isinstance(analyzer, SentimentAnalyzer)
    result = analyzer.analyze("great")
    assert isinstance(result, SentimentPrediction)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("this is great, thank you!", "positive"),
        ("the earbuds are excellent", "positive"),
        ("terrible quality, total waste of money", "negative"),
        ("i hate this", "negative"),
        ("where is my order", "neutral"),
        ("非常满意", "positive"),
        ("垃圾", "negative"),
        ("气死我了", "negative"),
        ("什么时候发货", "neutral"),
        ("好的", "neutral"),
        ("你好", "neutral"),
        ("不好意思，我想问一下", "neutral"),
        ("我有个问题", "neutral"),
    ],
)
def test_clear_cases(analyzer: LexiconSentimentAnalyzer, text: str, label: str) -> None:
    assert analyzer.analyze(text).label == label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("not happy", "negative"),
        ("i am not happy with this", "negative"),
        ("not good at all", "negative"),
        ("not very good", "negative"),
        ("it doesn't look good", "negative"),
        ("never satisfied with your delivery", "negative"),
        ("not bad", "positive"),
        ("not too bad actually", "positive"),
        ("not terrible", "positive"),
        ("no problem", "positive"),
        ("no good", "negative"),
        ("no, that's wrong", "negative"),
        ("no that's wrong", "negative"),
        ("不满意", "negative"),
        ("不错", "positive"),
        ("还不错", "positive"),
        ("不好", "negative"),
        ("不太好用", "negative"),
        ("不是很满意", "negative"),
        ("没坏", "positive"),
        ("不喜欢", "negative"),
        ("别买", "negative"),
        ("没问题", "positive"),
    ],
)
def test_negation(analyzer: LexiconSentimentAnalyzer, text: str, label: str) -> None:
    assert analyzer.analyze(text).label == label, analyzer.analyze(text)


def test_negation_window_is_short(analyzer: LexiconSentimentAnalyzer) -> None:
    # "not" is five words away from "great": the praise stands.
    text = "i could not find the box but the earbuds are great"
    assert analyzer.analyze(text).label == "positive"
    # a clause boundary ends the negation
    assert analyzer.analyze("not sure. the earbuds are great").label == "positive"


def test_negated_positive_is_milder_than_plain_negative(analyzer: LexiconSentimentAnalyzer) -> None:
    assert score(analyzer, "unhappy") < score(analyzer, "not happy") < 0


def test_wireless_is_not_a_negation(analyzer: LexiconSentimentAnalyzer) -> None:
    # 无线 ("wireless") starts with the negator 无; segmentation must keep it whole
    assert analyzer.analyze("无线充电很好用").label == "positive"


def test_intensity_ordering_negative(analyzer: LexiconSentimentAnalyzer) -> None:
    assert 0 > score(analyzer, "bad") > score(analyzer, "very bad") > score(analyzer, "terrible!!!")
    assert score(analyzer, "bad") > score(analyzer, "BAD")
    assert score(analyzer, "terrible") > score(analyzer, "terrible!!!")
    assert score(analyzer, "失望") > score(analyzer, "非常失望") > score(analyzer, "非常失望！！！")


def test_intensity_ordering_positive(analyzer: LexiconSentimentAnalyzer) -> None:
    good, very_good = score(analyzer, "good"), score(analyzer, "very good")
    assert 0 < good < very_good < score(analyzer, "VERY GOOD!!!")
    assert 0 < score(analyzer, "满意") < score(analyzer, "特别满意") < score(analyzer, "超级满意！！")


def test_diminishers_soften(analyzer: LexiconSentimentAnalyzer) -> None:
    assert score(analyzer, "disappointed") < score(analyzer, "slightly disappointed") < 0
    assert score(analyzer, "失望") < score(analyzer, "有点失望") < 0


def test_exclamation_alone_is_neutral(analyzer: LexiconSentimentAnalyzer) -> None:
    assert analyzer.analyze("!!!!!!").label == "neutral"
    assert analyzer.analyze("WHERE IS MY ORDER 100023???").label == "neutral"


def test_contrast_favours_the_second_clause(analyzer: LexiconSentimentAnalyzer) -> None:
    assert analyzer.analyze("thanks, but the earbuds are broken").label == "negative"
    assert analyzer.analyze("the box was damaged but the earbuds sound great").label == "positive"
    assert analyzer.analyze("包装有点破损，但是耳机很好用").label == "positive"


@pytest.mark.parametrize(
    ("text", "label"),
    [("😡", "negative"), ("🤬🤬", "negative"), ("👎", "negative"), ("still waiting 😞", "negative"),
     ("😊", "positive"), ("👍", "positive"), ("❤️", "positive"), ("❤", "positive"),
     ("got them today 👍", "positive"), ("thanks :)", "positive"), ("快递到了😊", "positive"),
     ("🚚📦", "neutral")],
)
def test_emoji(analyzer: LexiconSentimentAnalyzer, text: str, label: str) -> None:
    assert analyzer.analyze(text).label == label


def test_mixed_language_and_full_width(analyzer: LexiconSentimentAnalyzer) -> None:
    assert analyzer.analyze("耳机 sound great").label == "positive"
    assert analyzer.analyze("ＧＲＥＡＴ！！").label == "positive"
    assert analyzer.analyze("don\u2019t like it, it\u2019s not good").label == "negative"


@pytest.mark.parametrize("text", ["", " ", "\n\t  ", "\u200b", "...", "100023"])
def test_empty_and_contentless_input(analyzer: LexiconSentimentAnalyzer, text: str) -> None:
    assert analyzer.analyze(text) == SentimentPrediction(label="neutral", score=0.0)


def test_huge_input_is_capped_and_fast(analyzer: LexiconSentimentAnalyzer) -> None:
    start = time.perf_counter()
    result = analyzer.analyze("terrible " * 1_000_000)
    assert time.perf_counter() - start < 2.0
    assert result.label == "negative" and -1.0 <= result.score < 0


def test_only_the_first_max_chars_count() -> None:
    text = "x " * 3000 + "great"
    assert LexiconSentimentAnalyzer().analyze(text).label == "neutral"
    assert LexiconSentimentAnalyzer(max_chars=10_000).analyze(text).label == "positive"


def test_control_characters_separate_words(analyzer: LexiconSentimentAnalyzer) -> None:
    assert analyzer.analyze("\x00bad\x07").label == "negative"
    assert analyzer.analyze("not\x00happy").label == "negative"
    assert analyzer.analyze("\x1b[31mterrible\x1b[0m").label == "negative"


def test_binary_ish_input(analyzer: LexiconSentimentAnalyzer) -> None:
    for payload in (bytes(range(256)), b"\xff\xfe\x00\x01" * 5000, "\udcff\ud800x"):
        result = analyzer.analyze(payload)
        assert result.label == "neutral" and result.score == 0.0
    assert analyzer.analyze("great product".encode()).label == "positive"
    assert analyzer.analyze("质量太差了".encode("utf-8")).label == "negative"


def test_rejects_non_text(analyzer: LexiconSentimentAnalyzer) -> None:
    with pytest.raises(TypeError):
        analyzer.analyze(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        analyzer.analyze(None)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_bounded_consistent_score(text: str) -> None:
    analyzer = _SHARED
    result = analyzer.analyze(text)
    assert -1.0 <= result.score <= 1.0
    if result.label == "positive":
        assert result.score >= analyzer.positive_threshold
    elif result.label == "negative":
        assert result.score <= analyzer.negative_threshold
    else:
        low, high = analyzer.negative_threshold, analyzer.positive_threshold
        assert low < result.score < high or result.score == 0


def test_thresholds_change_labels() -> None:
    assert LexiconSentimentAnalyzer().analyze("good").label == "positive"
    strict = LexiconSentimentAnalyzer(positive_threshold=0.5, negative_threshold=-0.5)
    assert strict.analyze("good").label == "neutral"
    assert strict.analyze("bad").label == "neutral"
    assert strict.analyze("absolutely terrible!!!").label == "negative"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"positive_threshold": -0.1},
        {"positive_threshold": 1.5},
        {"negative_threshold": 0.2},
        {"negative_threshold": -1.5},
        {"positive_threshold": float("nan")},
        {"positive_threshold": True},
        {"positive_threshold": "0.1"},
        {"positive_threshold": 0.0, "negative_threshold": 0.0},
        {"max_chars": 0},
        {"max_chars": -5},
        {"max_chars": 10.5},
    ],
)
def test_invalid_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        LexiconSentimentAnalyzer(**kwargs)


def test_custom_lexicon() -> None:
    custom = {"en": {"positive": {"stellar": 3}, "negators": ["nah"]}, "zh": {}, "emoji": {}}
    analyzer = LexiconSentimentAnalyzer(lexicon=custom)
    assert analyzer.analyze("stellar").label == "positive"
    assert analyzer.analyze("nah stellar").label == "negative"
    assert analyzer.analyze("great").label == "neutral"  # only the custom words count


@pytest.mark.parametrize(
    "lexicon",
    [
        [],
        {"en": {"positive": {"good": 5}}},
        {"en": {"negative": {"bad": 0}}},
        {"en": {"positive": {"good": "high"}}},
        {"en": {"positive": {"good": 1}, "negative": {"good": 1}}},
        {"en": {"negators": "not"}},
        {"en": {"short_negators": [False]}},  # what a bare YAML `no` becomes
        {"zh": {"intensifiers": {"非常": 10}}},
        {"emoji": {"😡": -9}},
    ],
)
def test_invalid_lexicon(lexicon: object) -> None:
    with pytest.raises(ValueError):
        LexiconSentimentAnalyzer(lexicon=lexicon)  # type: ignore[arg-type]


def test_broken_packaged_lexicon_is_a_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise FileNotFoundError("sentiment.yaml")

    class Files:
        def joinpath(self, name: str) -> Files:
            return self

        def read_text(self, encoding: str) -> str:
            broken()
            return ""

    monkeypatch.setattr(sentiment_module.resources, "files", lambda package: Files())
    with pytest.raises(ModelError):
        LexiconSentimentAnalyzer()


def test_packaged_lexicon_has_the_required_entries() -> None:
    text = resources.files("engine.nlu.data").joinpath("sentiment.yaml").read_text("utf-8")
    lexicon = yaml.safe_load(text)
    assert lexicon["version"] == 1
    en, zh = lexicon["en"], lexicon["zh"]
    assert {"not", "never", "don't"} <= set(en["negators"])
    assert {"不", "没", "没有", "别"} <= set(zh["negators"])
    assert {"very", "so", "really", "extremely"} <= set(en["intensifiers"])
    assert {"非常", "太", "特别", "超级"} <= set(zh["intensifiers"])
    en_negative = {**en["negative"], **{k: -v for k, v in en["phrases"].items()}}
    zh_negative = {**zh["negative"], **{k: -v for k, v in zh["phrases"].items()}}
    for entry in ("waste of money", "worst"):
        assert en_negative.get(entry, 0) >= 2, entry
    for entry in ("垃圾", "气死", "太差了", "骗子"):
        assert zh_negative.get(entry, 0) >= 2, entry
    for lang in (en, zh):
        for table in ("positive", "negative"):
            assert all(isinstance(w, int) and 1 <= w <= 3 for w in lang[table].values())
    for insult in ("useless", "scam", "stupid"):
        assert en["negative"][insult] == 3
    for emoji in ("😡", "🤬", "👎", "😞"):
        assert lexicon["emoji"][emoji] < 0
    for emoji in ("😊", "👍", "❤️"):
        assert lexicon["emoji"][emoji] > 0


def test_docstring_examples() -> None:
    result = doctest.testmod(sentiment_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 3 and result.failed == 0
