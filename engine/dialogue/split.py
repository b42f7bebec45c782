"""Several requests in one message: "cancel 100031 and tell me when 100023 arrives", "退这个，顺便问下运费".

A message is cut where the language joins one request to the next — "and also", "plus", "btw",
", and when ...", a question mark followed by more, "还有", "顺便问下", "另外" — never inside a product
name or a list ("the X and the Y"). Whether the pieces really are separate requests is for the
engine to judge (it reads each one: two pieces that ask the same thing are one request).

Example:
    >>> split_requests("where's my x200 order at, and also whats the warranty on those earbuds")
    ["where's my x200 order at", 'whats the warranty on those earbuds']
    >>> split_requests("100302什么时候到 还有Wave 2这个音箱防水吗")
    ['100302什么时候到', 'Wave 2这个音箱防水吗']
"""

from __future__ import annotations

import re

__all__ = ["split_requests"]

_EN_JOINS = re.compile(
    r"\s*[,;]?\s*\b(?:and also|also|plus|oh and|and then|another thing|btw|by the way|as well as that)\b[,:]?\s*"
    r"|\s*,?\s*\band\s+(?=(?:what|what's|whats|when|where|where's|how|is|are|can|could|do|does|did|will|would|"
    r"should|which|who|why|tell|let|cancel|return|change|track|send)\b)"
    r"|(?<=[?!])\s+(?=\S)",
    re.IGNORECASE,
)
_ZH_JOINS = re.compile(r"\s*[，,。；;]?\s*(?:还有(?:就是)?(?!货|吗|么|没|库存|现货|多少|几|剩|呢)|顺便(?:问(?:一?下)?|说一?下)?|另外|以及|再问(?:一?下)?|然后还有)[，,:：]?\s*"
                       r"|(?<=[？?！!。])\s*(?=\S)")
_PREFIX = re.compile(r"^\s*(?:(?:two|2|three|3|a couple of|couple) (?:things|questions|q'?s)\s*[-:,]?|"
                     r"(?:两|三|几)(?:个|件)(?:问题|事)[:：，,]?)\s*", re.IGNORECASE)
_MIN_CHARS = 4
# a statement that only bounds what was asked before it ("what shoes should she get? shes a size 5",
# "推荐个耳机？预算500以内"): part of that request
_BOUND = re.compile(r"\bsize\s*\d|\d\s*码|\bbudget\b|\bunder\s*\$?\d|\bbelow\s*\$?\d|\bmax(?:imum)?\s*\$?\d|"
                    r"预算|以内|以下|之内", re.IGNORECASE)
_ASKS = re.compile(r"[?？]|\b(?:what|which|where|when|how|why|who|can|could|do|does|is|are|will)\b|吗|呢|什么|哪|怎么|多少",
                   re.IGNORECASE)
# a piece that only says which one ("the ru ware one", "that blue one", "就是蓝色那个"): it qualifies
# the piece before it, it asks nothing of its own
_QUALIFIER = re.compile(r"(?:i mean |i meant |like )?(?:the|that|this)\b[\w\s'-]{0,40}\bones?[.!]*"
                        r"|(?:就是|我说的是)?[^？?。！!，,]{0,16}(?:那个|那款|那件|那台|那双|那单|的那个)[。!！]*",
                        re.IGNORECASE)


def split_requests(text: str, *, max_parts: int = 3) -> list[str]:
    """The requests in ``text`` (one item when it holds one)."""
    body = _PREFIX.sub("", text.strip())
    cjk = bool(re.search(r"[\u3400-\u9fff]", body))
    pattern = _ZH_JOINS if cjk else _EN_JOINS
    parts = [p.strip(" ,，;；") for p in pattern.split(body)]
    if cjk:  # a mixed message may join in English too
        parts = [q.strip(" ,，;；") for p in parts for q in _EN_JOINS.split(p)]
    parts = [p for p in parts if p and len(p) >= (2 if re.search(r"[\u3400-\u9fff]", p) else _MIN_CHARS)]
    merged: list[str] = []
    for part in parts:
        if merged and (_QUALIFIER.fullmatch(part) or (_BOUND.search(part) and not _ASKS.search(part))):
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    if len(merged) < 2:
        return [text]
    return merged[:max_parts]
