"""Chat completions from any OpenAI-compatible server over HTTP (vLLM, Ollama, llama.cpp, hosted APIs).

``POST {base_url}/chat/completions`` with ``messages``, ``max_tokens``, ``temperature`` and, for
streaming, ``stream: true`` (server-sent events, ``data: {...}`` lines up to ``data: [DONE]``).
Every request has a connect and a read timeout; transport errors, timeouts, 408, 429 and 5xx are
retried with full-jitter exponential backoff (a stream only before its first byte); after
``breaker_failures`` failures in a row the circuit opens and calls fail at once for a while, so a
dead server costs one fast fallback per turn instead of a timeout. A call given a ``deadline`` (the
turn's, from :class:`LLMGenerator`) caps every timeout at the time left, retries only while the
backoff still fits before it, and stops reading a stream once it has passed.

Answers are read defensively (:func:`completion_text`, :func:`delta_text`): ``content`` may be a
string, null, or a list of ``{"type": "text", "text"}`` parts; anything else (another type, a
choice that is not an object, missing fields, invalid JSON, an HTML error page) is a malformed
answer. Every failure is raised as :class:`engine.errors.GeneratorUnavailable`, which the generator
answers with its fallback.

Example:
    >>> model = OpenAIChatModel("http://127.0.0.1:8080/v1", "smollm2")       # doctest: +SKIP
    >>> model.complete([ChatMessage("user", "hi")], max_new_tokens=16, temperature=0).text  # doctest: +SKIP
    'Hello! How can I help you today?'
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx

from knowledge.kernel.resilience import CircuitBreaker, backoff_delays
from engine.errors import GeneratorUnavailable

from .base import ChatMessage, Completion

__all__ = ["OpenAIChatModel", "completion_text", "delta_text"]

_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class _Retry(Exception):
    """A failure worth another attempt."""


class _Malformed(Exception):
    """An answer whose shape is not the chat-completions one."""


def _content(value: Any) -> str:
    """A message's or delta's ``content``: a string, null, or a list of text parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(p, dict) and isinstance(p.get("text", ""), str) for p in value):
        return "".join(p.get("text", "") for p in value if p.get("type", "text") == "text")
    raise _Malformed(f"content is a {type(value).__name__}")


def _first_choice(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _Malformed(f"the answer is a {type(data).__name__}, not an object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise _Malformed("no choices")
    if not isinstance(choices[0], dict):
        raise _Malformed(f"a choice is a {type(choices[0]).__name__}, not an object")
    return choices[0]


def completion_text(data: Any) -> tuple[str, int | None]:
    """The text and the server's token count (None when it gives none) of a parsed chat completion.

    Raises:
        ValueError: ``data`` is not shaped like a chat completion.

    Example:
        >>> completion_text({"choices": [{"message": {"content": [{"type": "text", "text": "Hi"}]}}]})
        ('Hi', None)
    """
    try:
        message = _first_choice(data).get("message")
        if not isinstance(message, dict):
            raise _Malformed("the choice has no message object")
        text = _content(message.get("content"))
    except _Malformed as exc:
        raise ValueError(str(exc)) from None
    usage = data.get("usage")
    tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
    return text, tokens if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 0 else None


def delta_text(data: Any) -> str:
    """The text of a parsed stream chunk ("" for a chunk without content: a role, a finish reason).

    Raises:
        ValueError: ``data`` is not shaped like a stream chunk.

    Example:
        >>> delta_text({"choices": [{"delta": {"content": "Hi"}}]}), delta_text({"choices": [{"delta": {}}]})
        ('Hi', '')
    """
    try:
        delta = _first_choice(data).get("delta")
        if delta is None:
            return ""
        if not isinstance(delta, dict):
            raise _Malformed(f"a delta is a {type(delta).__name__}, not an object")
        return _content(delta.get("content"))
    except _Malformed as exc:
        raise ValueError(str(exc)) from None


class OpenAIChatModel:
    """A :class:`ChatModel` over an OpenAI-compatible chat-completions endpoint.

    Args:
        base_url: the API root, usually ending in ``/v1`` (``http://127.0.0.1:8080/v1``).
        model: the model name the server expects.
        api_key: sent as ``Authorization: Bearer ...`` when given.
        timeout_s: read timeout per request (a whole completion, or the gap between stream chunks).
        connect_timeout_s: connect timeout.
        retries: extra attempts after a retryable failure.
        backoff_base_s: first backoff step; later ones double, up to ``backoff_cap_s``.
        backoff_cap_s: the longest backoff step.
        breaker_failures: failures in a row that open the circuit.
        breaker_reset_s: how long the circuit stays open.
        client: an ``httpx.Client`` to use (tests); default: one of its own.
        sleep: how to wait between attempts (tests).

    Example:
        >>> OpenAIChatModel("ftp://x", "m")
        Traceback (most recent call last):
        ...
        ValueError: base_url must be an http(s) URL, got 'ftp://x'
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 2.0,
        retries: int = 2,
        backoff_base_s: float = 0.2,
        backoff_cap_s: float = 2.0,
        breaker_failures: int = 5,
        breaker_reset_s: float = 30.0,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not model:
            raise ValueError("model must be a non-empty model name")
        if timeout_s <= 0 or connect_timeout_s <= 0:
            raise ValueError("timeouts must be > 0")
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.name = model
        self.url = base_url.rstrip("/") + "/chat/completions"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client if client is not None else httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s), headers=headers)
        if client is not None and headers:
            self._client.headers.update(headers)
        self._retries, self._base, self._cap = retries, backoff_base_s, backoff_cap_s
        self._breaker = CircuitBreaker(breaker_failures, breaker_reset_s)
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"OpenAIChatModel({self.url!r}, {self.name!r})"

    def close(self) -> None:
        self._client.close()

    # -- ChatModel ------------------------------------------------------------------------------
    def complete(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, temperature: float,
                 deadline: float | None = None) -> Completion:
        """One whole completion (``usage.completion_tokens`` when the server reports it).

        Args:
            deadline: a ``time.monotonic()`` time by which every try must be over (None: none).
        """
        body = self._body(messages, max_new_tokens, temperature, stream=False)

        def once() -> Completion:
            try:
                response = self._client.post(self.url, json=body, timeout=self._timeout(deadline))
            except httpx.HTTPError as exc:
                raise _Retry(f"{type(exc).__name__}: {exc}") from exc
            self._raise_for_status(response)
            try:
                text, tokens = completion_text(response.json())
            except ValueError as exc:  # invalid JSON (an HTML page), or not a chat completion
                raise GeneratorUnavailable(f"malformed chat completion from {self.url}: {exc} "
                                           f"({response.text[:80]!r})") from exc
            return Completion(text=text, tokens=tokens if tokens is not None else len(text.split()))

        return self._attempts(once, deadline)

    def stream(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, temperature: float,
               deadline: float | None = None) -> Iterator[str]:
        """Text deltas as the server sends them; closing the iterator closes the response.

        Args:
            deadline: a ``time.monotonic()`` time after which no more is read (None: none).
        """
        body = self._body(messages, max_new_tokens, temperature, stream=True)

        def opened() -> tuple[Any, httpx.Response]:
            manager = self._client.stream("POST", self.url, json=body, timeout=self._timeout(deadline))
            try:
                response = manager.__enter__()
            except httpx.HTTPError as exc:
                raise _Retry(f"{type(exc).__name__}: {exc}") from exc
            if response.status_code != 200:
                response.read()
                manager.__exit__(None, None, None)
                self._raise_for_status(response)
            return manager, response

        manager, response = self._attempts(opened, deadline)
        try:
            for line in response.iter_lines():
                if deadline is not None and time.monotonic() >= deadline:
                    raise GeneratorUnavailable(f"deadline: {self.url} was still streaming")
                if not line.startswith("data:"):
                    continue  # comments, event names, keep-alives (and the lines of an HTML page)
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                try:
                    delta = delta_text(json.loads(payload))
                except ValueError as exc:
                    raise GeneratorUnavailable(f"malformed stream chunk from {self.url}: {exc} "
                                               f"({payload[:80]!r})") from exc
                if delta:
                    yield delta
        except httpx.HTTPError as exc:  # the stream broke or went quiet past the read timeout
            self._breaker.record_failure()
            raise GeneratorUnavailable(f"stream from {self.url} failed: {type(exc).__name__}: {exc}") from exc
        finally:
            manager.__exit__(None, None, None)

    # -- helpers --------------------------------------------------------------------------------
    def _body(self, messages: Sequence[ChatMessage], max_new_tokens: int, temperature: float, *,
              stream: bool) -> dict[str, Any]:
        return {"model": self.name, "messages": [{"role": m.role, "content": m.content} for m in messages],
                "max_tokens": max_new_tokens, "temperature": temperature, "stream": stream}

    def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code == 200:
            return
        detail = f"{self.url} answered {response.status_code}: {response.text[:200]!r}"
        if response.status_code in _RETRY_STATUS:
            raise _Retry(detail)
        raise GeneratorUnavailable(detail)  # 400, 401, 404...: another attempt would not help

    def _timeout(self, deadline: float | None) -> Any:
        """The client's timeouts, none longer than the time left before ``deadline``."""
        if deadline is None:
            return httpx.USE_CLIENT_DEFAULT
        left = deadline - time.monotonic()
        if left <= 0:
            raise GeneratorUnavailable(f"deadline: no time left to call {self.url}")
        t = self._client.timeout
        return httpx.Timeout(connect=min(t.connect or left, left), read=min(t.read or left, left),
                             write=min(t.write or left, left), pool=min(t.pool or left, left))

    def _attempts(self, call: Callable[[], Any], deadline: float | None = None) -> Any:
        delays = list(backoff_delays(self._retries, base_s=self._base, cap_s=self._cap))
        for attempt in range(len(delays) + 1):
            if not self._breaker.allow():
                raise GeneratorUnavailable(f"{self.url} is failing; not calling it for a while (circuit open)")
            try:
                result = call()
            except _Retry as exc:
                self._breaker.record_failure()
                if attempt == len(delays):
                    raise GeneratorUnavailable(f"{exc} (after {attempt + 1} attempts)") from exc
                if deadline is not None and time.monotonic() + delays[attempt] >= deadline:
                    raise GeneratorUnavailable(f"deadline: {exc} (after {attempt + 1} attempts; "
                                               f"no time left for another)") from exc
                self._sleep(delays[attempt])
                continue
            except GeneratorUnavailable:
                self._breaker.record_failure()
                raise
            self._breaker.record_success()
            return result
        raise AssertionError("unreachable")  # pragma: no cover
