"""Text utilities shared by every stage: cleaning customer input, language, lexical tokens.

Example:
    >>> clean_text("hi\\x00 there\\u200b ")
    'hi there'
    >>> detect_language("你们支持七天无理由退货吗")
    'zh'
    >>> lexical_tokens("退款多久")
    ['退', '款', '多', '久', '退款', '款多', '多久']
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_text", "clip_for_model", "detect_language", "lexical_tokens", "is_cjk", "without_opener",
           "EN_STOPWORDS", "MODEL_QUERY_TOKENS"]

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD_RE = re.compile(r"[a-z0-9]+(?:['.][a-z0-9]+)*")
_SPACES_RE = re.compile(r"\s+")
_RUN_RE = re.compile(r"[A-Za-z0-9]+|\S")  # a run of ASCII letters and digits, or any other character

#: What a query model sees of one turn, in (estimated) tokens: enough for any real question,
#: and it bounds a turn's model time (encoders cost grows with length; 2,000 characters of
#: Chinese or of one long token took the E5 intent model 5-9 s on a busy CPU).
MODEL_QUERY_TOKENS = 128

EN_STOPWORDS = frozenset(
    """a an the is are was were be been am do does did i me my we our you your it its of to in on
    for at by with and or can could would should will how what when where which who why this that
    there please hi hello any have has had if so as from about not no""".split()
)


def is_cjk(ch: str) -> bool:
    return bool(_CJK_RE.match(ch))


def clean_text(text: str, *, fold: bool = True) -> str:
    """NFKC-normalise, drop control/format characters and lone surrogates, squeeze whitespace.

    ``fold=False`` keeps the text as typed (NFC: full-width "，" stays "，"), for what is stored
    and shown; the models read the folded form.
    """
    text = unicodedata.normalize("NFKC" if fold else "NFC", text.encode("utf-8", "ignore").decode("utf-8"))
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r":
            kept.append(" ")
        elif cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            kept.append(ch)
    return _SPACES_RE.sub(" ", "".join(kept)).strip()


def clip_for_model(text: str, max_tokens: int = MODEL_QUERY_TOKENS) -> str:
    """The start of ``text`` that fits ``max_tokens`` estimated subword tokens.

    The estimate errs high: a run of ASCII letters and digits costs one token per three
    characters (a word piece), any other character one token (punctuation, CJK, emoji: random
    punctuation is about a token a character). Shorter texts are returned unchanged.

    Example:
        >>> clip_for_model("where is my order 100023?")
        'where is my order 100023?'
        >>> len(clip_for_model("x" * 2000))
        384
    """
    if max_tokens <= 0:
        raise ValueError(f"max_tokens must be > 0, got {max_tokens}")
    if len(text) <= max_tokens:  # nothing this short can cost more
        return text
    budget = max_tokens
    for m in _RUN_RE.finditer(text):
        run = m.group(0)
        cost = -(-len(run) // 3) if len(run) > 1 else 1
        if cost >= budget:
            end = m.start() + (budget * 3 if len(run) > 1 else (len(run) if cost == budget else 0))
            return text[:end].rstrip()
        budget -= cost
    return text


# an acknowledgement or hesitation before the message proper: "ok what about …", "cool. when is it
# arriving", "好的，那…" (chat words of the language, not of any store)
_OPENER_RE = re.compile(r"^(?:\s*(?:ok(?:ay)?|so|hmm+|alright|cool|great|got it|i see|right|actually|wait|hold on|oh|um+|"
                        r"uh+|well|sorry|好的|好吧|嗯+|哦+|行|等等|等一下|其实)(?:[\s,，.!。…]+|$))+", re.IGNORECASE)


def without_opener(text: str) -> str:
    """``text`` without the acknowledgements that open it ("cool. when is it arriving" → "when is it arriving").

    Example:
        >>> without_opener("ok so where's my order")
        "where's my order"
        >>> without_opener("好的，那运费多少")
        '那运费多少'
    """
    return _OPENER_RE.sub("", text, count=1)


def detect_language(text: str) -> str:
    """``"zh"`` when the Chinese carries a fair share of the words, else ``"en"``.

    A Chinese word is one or two characters, an English one about five letters, so characters are
    weighed against English *words*: "Sonique Air 3多少钱" and "ok 那refund多久到账" are Chinese
    (product names, brand names and a loan word or two inside a Chinese sentence), "what does 包邮
    mean" is English.
    """
    cjk = len(_CJK_RE.findall(text))
    if not cjk:
        return "en"
    words = len(re.findall(r"[A-Za-z]+", text))
    return "zh" if cjk * 4 >= words * 3 else "en"


def lexical_tokens(text: str) -> list[str]:
    """Tokens for lexical matching: English words (stop words dropped), CJK unigrams+bigrams."""
    lowered = text.lower()
    tokens = [w for w in _WORD_RE.findall(lowered) if w not in EN_STOPWORDS]
    runs = re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", lowered)
    for run in runs:
        tokens.extend(run)
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens
