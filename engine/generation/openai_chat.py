"""Chat completions from any OpenAI-compatible server over HTTP (vLLM, Ollama, llama.cpp, hosted APIs).

``POST {base_url}/chat/completions`` with ``messages``, ``max_tokens``, ``temperature`` and, for
streaming, ``stream: true`` (server-sent events, ``data: {...}`` lines up to ``data: [DONE]``).
Every request has a connect and a read timeout; transport errors, timeouts, 408, 429 and 5xx are
retried with full-jitter exponential backoff (a stream only before its first byte); after
``breaker_failures`` failures in a row the circuit opens and calls fail at once for a while, so a
dead server costs one fast fallback per turn instead of a timeout. Every failure is raised as
:class:`engine.errors.GeneratorUnavailable`, which the generator answers with its fallback.

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

__all__ = ["OpenAIChatModel"]

_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class _Retry(Exception):
    """A failure worth another attempt."""


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
    def complete(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, temperature: float) -> Completion:
        """One whole completion (``usage.completion_tokens`` when the server reports it)."""
        body = self._body(messages, max_new_tokens, temperature, stream=False)

        def once() -> Completion:
            try:
                response = self._client.post(self.url, json=body)
            except httpx.HTTPError as exc:
                raise _Retry(f"{type(exc).__name__}: {exc}") from exc
            self._raise_for_status(response)
            try:
                data = response.json()
                text = data["choices"][0]["message"]["content"] or ""
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise GeneratorUnavailable(f"malformed chat completion from {self.url}: {exc!r}") from exc
            usage = data.get("usage") or {}
            tokens = usage.get("completion_tokens")
            return Completion(text=text, tokens=int(tokens) if isinstance(tokens, int) else len(text.split()))

        return self._attempts(once)

    def stream(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, temperature: float) -> Iterator[str]:
        """Text deltas as the server sends them; closing the iterator closes the response."""
        body = self._body(messages, max_new_tokens, temperature, stream=True)

        def opened() -> tuple[Any, httpx.Response]:
            manager = self._client.stream("POST", self.url, json=body)
            try:
                response = manager.__enter__()
            except httpx.HTTPError as exc:
                raise _Retry(f"{type(exc).__name__}: {exc}") from exc
            if response.status_code != 200:
                response.read()
                manager.__exit__(None, None, None)
                self._raise_for_status(response)
            return manager, response

        manager, response = self._attempts(opened)
        try:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue  # comments, event names, keep-alives
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                try:
                    choice = json.loads(payload)["choices"][0]
                except (ValueError, KeyError, IndexError, TypeError) as exc:
                    raise GeneratorUnavailable(f"malformed stream chunk from {self.url}: {payload[:80]!r}") from exc
                delta = (choice.get("delta") or {}).get("content")
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

    def _attempts(self, call: Callable[[], Any]) -> Any:
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
                self._sleep(delays[attempt])
                continue
            except GeneratorUnavailable:
                self._breaker.record_failure()
                raise
            self._breaker.record_success()
            return result
        raise AssertionError("unreachable")  # pragma: no cover
