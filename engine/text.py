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

__all__ = ["clean_text", "detect_language", "lexical_tokens", "is_cjk", "EN_STOPWORDS"]

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD_RE = re.compile(r"[a-z0-9]+(?:['.][a-z0-9]+)*")
_SPACES_RE = re.compile(r"\s+")

EN_STOPWORDS = frozenset(
    """a an the is are was were be been am do does did i me my we our you your it its of to in on
    for at by with and or can could would should will how what when where which who why this that
    there please hi hello any have has had if so as from about not no""".split()
)


def is_cjk(ch: str) -> bool:
    return bool(_CJK_RE.match(ch))


def clean_text(text: str) -> str:
    """NFKC-normalise, drop control/format characters and lone surrogates, squeeze whitespace."""
    text = unicodedata.normalize("NFKC", text.encode("utf-8", "ignore").decode("utf-8"))
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


def detect_language(text: str) -> str:
    """``"zh"`` when CJK characters make up a fair share of the letters, else ``"en"``."""
    cjk = len(_CJK_RE.findall(text))
    if not cjk:
        return "en"
    latin = len(re.findall(r"[A-Za-z]", text))
    return "zh" if cjk * 3 >= latin else "en"


def lexical_tokens(text: str) -> list[str]:
    """Tokens for lexical matching: English words (stop words dropped), CJK unigrams+bigrams."""
    lowered = text.lower()
    tokens = [w for w in _WORD_RE.findall(lowered) if w not in EN_STOPWORDS]
    runs = re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", lowered)
    for run in runs:
        tokens.extend(run)
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens
