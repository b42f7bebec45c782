"""A deterministic :class:`ChatModel` that answers from a script, for fast tests and demos.

Each request gets the next scripted reply (the last one repeats), or what a function of the
messages returns; a scripted exception is raised instead. Requests are recorded, so tests can
look at the prompt. ``delay_s`` makes it slow (timeouts), ``stream`` hands the reply over word
by word.

Example:
    >>> model = ScriptedChatModel(["Refunds take 5-7 business days."])
    >>> model.complete([ChatMessage("user", "refunds?")], max_new_tokens=32, temperature=0).text
    'Refunds take 5-7 business days.'
    >>> list(model.stream([ChatMessage("user", "refunds?")], max_new_tokens=32, temperature=0))
    ['Refunds', ' take', ' 5-7', ' business', ' days.']
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from .base import ChatMessage, Completion

__all__ = ["ScriptedChatModel"]

Script = Sequence[str | BaseException] | Callable[[Sequence[ChatMessage]], str]


class ScriptedChatModel:
    """Replies from ``script``; see the module docstring.

    Args:
        script: replies in order (strings or exceptions to raise), or a function of the messages.
        name: the model's name.
        delay_s: wait this long before answering (and between streamed words).
    """

    def __init__(self, script: Script, *, name: str = "scripted", delay_s: float = 0.0) -> None:
        if not callable(script) and not script:
            raise ValueError("script must hold at least one reply")
        self.name = name
        self._script = script
        self._delay = delay_s
        self._lock = threading.Lock()
        self.calls: list[list[ChatMessage]] = []

    def _next(self, messages: Sequence[ChatMessage]) -> str:
        with self._lock:
            self.calls.append(list(messages))
            if callable(self._script):
                reply: str | BaseException = self._script(messages)
            else:
                reply = self._script[min(len(self.calls), len(self._script)) - 1]
        if self._delay:
            time.sleep(self._delay)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def complete(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, temperature: float) -> Completion:
        words = self._next(messages).split(" ")[:max_new_tokens]
        return Completion(text=" ".join(words), tokens=len(words))

    def stream(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, temperature: float) -> Iterator[str]:
        text = self._next(messages)
        for i, piece in enumerate(re.findall(r"\s*\S+", text)[:max_new_tokens]):
            if i and self._delay:
                time.sleep(self._delay)
            yield piece
