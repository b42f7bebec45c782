"""Lexicon sentiment for English and Chinese customer turns.

Owns one thing: turning a customer message into a :class:`~engine.types.SentimentPrediction`
(``label`` plus a ``score`` in [-1, 1]) from the packaged lexicon
``engine/nlu/data/sentiment.yaml``.
English is split into words and matched case-insensitively, longest phrase first; Chinese is
segmented by longest match over the lexicon itself (no jieba needed); a few emoji and emoticons
count as words. Negators flip the next sentiment word within a short window, intensifiers scale
it, ALL-CAPS words and ``!!!`` add emphasis, and "but"/"但是" shifts the weight to what follows.
Fixed phrases ("not bad", "不错", "不满意", "waste of money") are matched before their parts and
are never negated again. The raw sum is squashed into [-1, 1] as ``s / sqrt(s² + 15)`` (VADER's
normalisation), so one mild word scores about ±0.25 and strong, emphatic text approaches ±1.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from engine.errors import ModelError
from engine.types import SentimentLabel, SentimentPrediction
from engine.yamlio import safe_load as yaml_safe_load

__all__ = ["LexiconSentimentAnalyzer", "ModelSentimentAnalyzer"]

_SENTIMENT, _NEGATOR, _INTENSIFIER, _CONTRAST, _NEUTRAL, _OTHER, _BOUNDARY = range(7)

_NEGATION_WINDOW = 3  # words (en) or characters/lexicon entries (zh) a negator reaches
_NEGATED_POSITIVE = 0.8  # "not happy" is a bit less negative than "unhappy"
_NEGATED_NEGATIVE = 0.5  # "not terrible" is only mildly positive
_CAPS_BOOST = 1.5
_EXCLAIM_STEP, _EXCLAIM_MAX = 0.12, 4
_CONTRAST_BEFORE, _CONTRAST_AFTER = 0.5, 1.5
_ALPHA = 15.0

_WORD = re.compile(r"[a-z0-9\u00c0-\u024f]+(?:'[a-z\u00c0-\u024f]+)*", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_BOUNDARIES = frozenset(".,;:?!。、…\n")
_DROPPED = frozenset("\ufe0e\ufe0f")  # emoji variation selectors: "❤️" is "❤"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # terminal colour codes pasted with the text


@dataclass(frozen=True)
class _Item:
    kind: int
    value: float = 0.0
    window: int = 0  # negators: how many following words they reach
    fixed: bool = False  # fixed phrases are never negated
    caps: bool = False


_BOUNDARY_ITEM = _Item(_BOUNDARY)
_OTHER_ITEM = _Item(_OTHER)


def _clean(text: str) -> str:
    """Drop control/format/unassigned characters (to spaces) and fold width and apostrophes."""
    chars = []
    for ch in _ANSI.sub(" ", text):
        if ch in _DROPPED:
            continue
        if unicodedata.category(ch)[0] == "C":
            chars.append("\n" if ch in "\n\r" else " ")
        else:
            chars.append(ch)
    folded = unicodedata.normalize("NFKC", "".join(chars))
    return folded.replace("\u2019", "'").replace("\u2018", "'")


def _is_caps(word: str) -> bool:
    return word.isupper() and sum(c.isalpha() for c in word) >= 2


class _Lexicon:
    """The YAML lexicon compiled into lookup tables; raises ``ValueError`` naming a bad entry."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        if not isinstance(raw, Mapping):
            raise ValueError("sentiment lexicon must be a mapping with 'en', 'zh' and 'emoji'")
        self.en: dict[tuple[str, ...], _Item] = {}
        self.zh: dict[str, _Item] = {}
        self._fill(raw.get("en") or {}, "en", lambda k: tuple(k.lower().split()), self.en)
        self._fill(raw.get("zh") or {}, "zh", lambda k: k.strip(), self.zh)
        self.en_max = max((len(k) for k in self.en), default=1)
        self.zh_max = max((len(k) for k in self.zh), default=1)
        self.emoji: dict[str, float] = {}
        for key, weight in (raw.get("emoji") or {}).items():
            if not isinstance(key, str):
                raise ValueError(f"sentiment lexicon: emoji entry {key!r} is not a string")
            self.emoji[_clean(key).strip()] = _weight(weight, f"emoji[{key!r}]", -3, 3)
        self.emoji.pop("", None)
        self.emoji_max = max((len(k) for k in self.emoji), default=1)
        self.emoji_first = frozenset(k[0] for k in self.emoji)

    @staticmethod
    def _fill(section: Mapping[str, Any], lang: str, norm: Any, table: dict[Any, _Item]) -> None:
        if not isinstance(section, Mapping):
            raise ValueError(f"sentiment lexicon: '{lang}' must be a mapping")

        def put(key: Any, item: _Item, where: str) -> None:
            if not isinstance(key, str):  # YAML reads a bare no / yes / on as a bool
                raise ValueError(f"sentiment lexicon: {lang}.{where} entry {key!r} is not a string")
            nkey = norm(key.replace("\u2019", "'"))
            if not nkey:
                raise ValueError(f"sentiment lexicon: empty entry in {lang}.{where}")
            if nkey in table:
                raise ValueError(f"sentiment lexicon: {key!r} appears twice in '{lang}'")
            table[nkey] = item

        for key, w in _mapping(section, "positive", lang).items():
            put(key, _Item(_SENTIMENT, _weight(w, f"{lang}.positive[{key!r}]", 1, 3)), "positive")
        for key, w in _mapping(section, "negative", lang).items():
            put(key, _Item(_SENTIMENT, -_weight(w, f"{lang}.negative[{key!r}]", 1, 3)), "negative")
        for key, w in _mapping(section, "phrases", lang).items():
            value = _weight(w, f"{lang}.phrases[{key!r}]", -3, 3)
            put(key, _Item(_SENTIMENT, value, fixed=True), "phrases")
        for key in _words(section, "negators", lang):
            put(key, _Item(_NEGATOR, window=_NEGATION_WINDOW), "negators")
        for key in _words(section, "short_negators", lang):
            put(key, _Item(_NEGATOR, window=1), "short_negators")
        for key, m in _mapping(section, "intensifiers", lang).items():
            multiplier = _weight(m, f"{lang}.intensifiers[{key!r}]", 0.1, 3)
            put(key, _Item(_INTENSIFIER, multiplier), "intensifiers")
        for key in _words(section, "contrast", lang):
            put(key, _Item(_CONTRAST), "contrast")
        for key in _words(section, "neutral", lang):
            put(key, _Item(_NEUTRAL), "neutral")


def _mapping(section: Mapping[str, Any], name: str, lang: str) -> Mapping[str, Any]:
    value = section.get(name) or {}
    if not isinstance(value, Mapping):
        raise ValueError(f"sentiment lexicon: {lang}.{name} must be a mapping of entry -> number")
    return value


def _words(section: Mapping[str, Any], name: str, lang: str) -> Iterable[str]:
    value = section.get(name) or []
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"sentiment lexicon: {lang}.{name} must be a list")
    return value


def _weight(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"sentiment lexicon: {where} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"sentiment lexicon: {where} must be in [{low}, {high}], got {value}")
    return float(value)


def _load_packaged() -> _Lexicon:
    try:
        text = resources.files("engine.nlu.data").joinpath("sentiment.yaml").read_text("utf-8")
        return _Lexicon(yaml_safe_load(text))
    except (OSError, ModuleNotFoundError, yaml.YAMLError, ValueError) as exc:
        raise ModelError(f"the packaged sentiment lexicon is missing or invalid: {exc}") from exc


class LexiconSentimentAnalyzer:
    """Rule-and-lexicon sentiment for English and Chinese (a ``SentimentAnalyzer``).

    Args:
        positive_threshold: scores at or above it are ``"positive"``; in [0, 1].
        negative_threshold: scores at or below it are ``"negative"``; in [-1, 0].
        max_chars: only the first ``max_chars`` characters of a message are analysed.
        lexicon: a lexicon mapping in the shape of ``engine/nlu/data/sentiment.yaml``; the packaged
            one when omitted.

    Raises:
        ValueError: invalid thresholds, ``max_chars`` or ``lexicon``.
        ModelError: the packaged lexicon is missing or corrupt.

    Example:
        >>> analyzer = LexiconSentimentAnalyzer()
        >>> analyzer.analyze("The Aurora X200 sounds great, thanks!").label
        'positive'
        >>> analyzer.analyze("耳机用了两天就坏了，太失望了").label
        'negative'
        >>> analyzer.analyze("where is my order 100023?")
        SentimentPrediction(label='neutral', score=0.0)
    """

    def __init__(
        self,
        *,
        positive_threshold: float = 0.1,
        negative_threshold: float = -0.1,
        max_chars: int = 5000,
        lexicon: Mapping[str, Any] | None = None,
    ) -> None:
        for name, value in (("positive_threshold", positive_threshold),
                            ("negative_threshold", negative_threshold)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
                raise ValueError(f"{name} must be a number, got {value!r}")
        if not 0.0 <= positive_threshold <= 1.0:
            raise ValueError(f"positive_threshold must be in [0, 1], got {positive_threshold}")
        if not -1.0 <= negative_threshold <= 0.0:
            raise ValueError(f"negative_threshold must be in [-1, 0], got {negative_threshold}")
        if negative_threshold == positive_threshold:
            raise ValueError("negative_threshold and positive_threshold must differ, both are 0")
        if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars <= 0:
            raise ValueError(f"max_chars must be an int > 0, got {max_chars!r}")
        self.positive_threshold = float(positive_threshold)
        self.negative_threshold = float(negative_threshold)
        self.max_chars = max_chars
        self._lexicon = _load_packaged() if lexicon is None else _Lexicon(lexicon)

    def analyze(self, text: str | bytes) -> SentimentPrediction:
        """Label one message; ``bytes`` are decoded as UTF-8 with replacement characters."""
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text[: self.max_chars * 4]).decode("utf-8", errors="replace")
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__}")
        cleaned = _clean(text[: self.max_chars])
        items, exclaims = self._tokenize(cleaned)
        raw = self._sum(items)
        if raw and exclaims:
            raw *= 1.0 + _EXCLAIM_STEP * min(exclaims, _EXCLAIM_MAX)
        score = max(-1.0, min(1.0, raw / math.sqrt(raw * raw + _ALPHA)))
        return SentimentPrediction(label=self._label(score), score=round(score, 4))

    def _label(self, score: float) -> SentimentLabel:
        if score >= self.positive_threshold and score > 0:
            return "positive"
        if score <= self.negative_threshold and score < 0:
            return "negative"
        return "neutral"

    def _tokenize(self, text: str) -> tuple[list[_Item], int]:
        """One pass: emoji, English word runs, Chinese runs, boundaries; other symbols skipped."""
        lex, items, words, exclaims = self._lexicon, [], [], 0
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch in lex.emoji_first:
                key = next((text[i:i + k] for k in range(min(lex.emoji_max, n - i), 0, -1)
                            if text[i:i + k] in lex.emoji), None)
                if key is not None:
                    items.extend(self._english(words))
                    words = []
                    items.append(_Item(_SENTIMENT, lex.emoji[key]))
                    i += len(key)
                    continue
            match = _WORD.match(text, i)
            if match:
                words.append(match.group())
                i = match.end()
                continue
            match = _CJK.match(text, i)
            if match or ch in _BOUNDARIES:
                items.extend(self._english(words))
                words = []
            if match:
                items.extend(self._chinese(match.group()))
                i = match.end()
                continue
            if ch in _BOUNDARIES:
                exclaims += ch == "!"
                items.append(_BOUNDARY_ITEM)
            i += 1
        items.extend(self._english(words))
        return items, exclaims

    def _english(self, words: list[str]) -> list[_Item]:
        table, longest, out, i = self._lexicon.en, self._lexicon.en_max, [], 0
        lowered = [w.lower() for w in words]
        while i < len(words):
            for size in range(min(longest, len(words) - i), 0, -1):
                item = table.get(tuple(lowered[i:i + size]))
                if item is not None:
                    if item.kind == _SENTIMENT and all(_is_caps(w) for w in words[i:i + size]):
                        item = _Item(_SENTIMENT, item.value, fixed=item.fixed, caps=True)
                    break
            else:
                size = 1
                # any other "...n't" contraction negates too ("ain't", "mustn't")
                item = (_Item(_NEGATOR, window=_NEGATION_WINDOW) if lowered[i].endswith("n't")
                        else _OTHER_ITEM)
            out.append(item)
            i += size
        return out

    def _chinese(self, run: str) -> list[_Item]:
        table, longest, out, i = self._lexicon.zh, self._lexicon.zh_max, [], 0
        while i < len(run):
            for size in range(min(longest, len(run) - i), 0, -1):
                item = table.get(run[i:i + size])
                if item is not None:
                    break
            else:
                size, item = 1, _OTHER_ITEM
            out.append(item)
            i += size
        return out

    @staticmethod
    def _sum(items: list[_Item]) -> float:
        total, clause_weight, negate, boost = 0.0, 1.0, 0, 1.0
        for item in items:
            kind = item.kind
            if kind == _SENTIMENT:
                value = item.value * boost * (_CAPS_BOOST if item.caps else 1.0)
                if negate and not item.fixed:
                    value = -value * (_NEGATED_POSITIVE if value > 0 else _NEGATED_NEGATIVE)
                total += value * clause_weight
                negate, boost = 0, 1.0
            elif kind == _NEGATOR:
                negate = 0 if negate else item.window  # a double negation cancels out
            elif kind == _INTENSIFIER:
                boost *= item.value
            elif kind == _CONTRAST:
                total *= _CONTRAST_BEFORE
                clause_weight, negate, boost = _CONTRAST_AFTER, 0, 1.0
            elif kind == _BOUNDARY:
                negate, boost = 0, 1.0
            else:  # a word that carries no sentiment uses up the negation window, ends a boost
                negate, boost = max(0, negate - 1), 1.0
        return total


class ModelSentimentAnalyzer:
    """A trained sentiment model (``shopassist nlu train --task sentiment``) for the languages it
    was trained on, the lexicon analyzer for the rest (a ``SentimentAnalyzer``).

    The score is ``P(positive) - P(negative)`` in [-1, 1], so the router's hand-off rule
    (``dialogue.negative_handoff_score``) reads it like the lexicon's score. A two-class model
    calls a message neutral when neither class leads by ``binary_margin``.

    Args:
        model: a loaded :class:`engine.nlu.training.TextModel` with labels among
            ``negative``/``neutral``/``positive``.
        fallback: analyzer for other languages (and if the model fails on a message).
        languages: ``("zh",)``: messages holding Chinese go to the model.

    Example:
        >>> from engine.nlu.training import TextModel                                  # doctest: +SKIP
        >>> ModelSentimentAnalyzer(TextModel.load(path)).analyze("质量太差了").label     # doctest: +SKIP
        'negative'
    """

    def __init__(self, model: Any, fallback: Any = None, *, languages: tuple[str, ...] = ("zh",),
                 binary_margin: float = 0.5, max_chars: int = 2000) -> None:
        labels = set(model.labels)
        if not {"negative", "positive"} <= labels or not labels <= {"negative", "neutral", "positive"}:
            raise ModelError(f"a sentiment model needs labels negative/positive (and optionally neutral), has {sorted(labels)}")
        if not 0.0 <= binary_margin <= 1.0:
            raise ValueError(f"binary_margin must be in [0, 1], got {binary_margin}")
        self.model = model
        self.fallback = fallback or LexiconSentimentAnalyzer()
        self.languages = languages
        self.binary_margin = binary_margin
        self.max_chars = max_chars
        self._index = {lab: i for i, lab in enumerate(model.labels)}

    def _covers(self, text: str) -> bool:
        has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in text)
        return ("zh" in self.languages and has_cjk) or ("en" in self.languages and not has_cjk)

    def analyze(self, text: str | bytes) -> SentimentPrediction:
        if isinstance(text, (bytes, bytearray)) or not isinstance(text, str) or not self._covers(text):
            return self.fallback.analyze(text)
        p = self.model.probabilities([text[: self.max_chars]])[0]
        pos, neg = float(p[self._index["positive"]]), float(p[self._index["negative"]])
        score = round(pos - neg, 4)
        if "neutral" in self._index:
            label = self.model.labels[int(p.argmax())]
        else:
            label = "positive" if score >= self.binary_margin else "negative" if score <= -self.binary_margin else "neutral"
        return SentimentPrediction(label=label, score=score)
