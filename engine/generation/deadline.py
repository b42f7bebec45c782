"""One deadline per turn for a chat model: whole completions and streams end by it, whatever the model does.

A :class:`Deadline` is a point on the monotonic clock. :func:`call_within` runs a completion and
:func:`stream_within` pumps a stream on a worker thread, and the turn waits for them only until the
deadline: a server that never answers, streams forever or trickles bytes without a line end cannot
hold the turn, because the turn never blocks on the model itself. Models that understand the
deadline (:class:`OpenAIChatModel`, :class:`TransformersChatModel`) also get it, so their own
retries, timeouts and generation stop about when the turn gives up on them and their worker ends.

Whatever a model raises is translated here, at the boundary, into
:class:`engine.errors.GeneratorUnavailable` (a deadline too: its message starts ``deadline``), which
the generator answers with the extractive answer; nothing a model does becomes an internal error.

Example:
    >>> deadline = Deadline(5.0)
    >>> 0 < deadline.remaining() <= 5.0
    True
    >>> call_within(lambda: "done", deadline)
    'done'
"""

from __future__ import annotations

import inspect
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from engine.errors import GeneratorUnavailable, ModelError

__all__ = ["Deadline", "call_within", "stream_within", "takes_deadline"]

log = logging.getLogger("shopassist.generation")
T = TypeVar("T")


class Deadline:
    """A point in time (``time.monotonic``) that a turn's model calls must end by.

    Args:
        seconds: how long from now.
        clock: the clock (tests).
    """

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if seconds <= 0:
            raise ValueError(f"seconds must be > 0, got {seconds}")
        self.seconds = seconds
        self._clock = clock
        self.at = clock() + seconds

    def remaining(self) -> float:
        """Seconds left (0 once it has passed)."""
        return max(0.0, self.at - self._clock())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def error(self) -> GeneratorUnavailable:
        return GeneratorUnavailable(f"deadline: no complete answer within {self.seconds:g} s")


def takes_deadline(method: Callable[..., Any]) -> bool:
    """Whether a model's ``complete``/``stream`` accepts ``deadline=`` (ours do; a plug-in may not)."""
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "deadline" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def _translated(exc: BaseException) -> GeneratorUnavailable:
    if isinstance(exc, GeneratorUnavailable):
        return exc
    if not isinstance(exc, ModelError):  # a bug or an unexpected answer shape in a model: logged, not shown
        log.warning("chat model failed unexpectedly: %s: %s", type(exc).__name__, exc, exc_info=exc)
    return GeneratorUnavailable(f"{type(exc).__name__}: {exc}")


def call_within(call: Callable[[], T], deadline: Deadline) -> T:
    """``call()``'s result, if it comes before ``deadline``.

    Raises:
        GeneratorUnavailable: the deadline passed first (the call goes on on its daemon thread
            until its own deadline or timeout ends it), or the call raised anything.
    """
    box: list[Any] = []
    done = threading.Event()

    def run() -> None:
        try:
            box.append(("ok", call()))
        except BaseException as exc:  # noqa: BLE001 - handed over to the turn's thread
            box.append(("error", exc))
        done.set()

    threading.Thread(target=run, name="shopassist-llm-call", daemon=True).start()
    if not done.wait(deadline.remaining()):
        raise deadline.error()
    kind, value = box[0]
    if kind == "error":
        raise _translated(value) from value
    return value


_END = object()


def stream_within(open_stream: Callable[[], Iterator[str]], deadline: Deadline) -> Iterator[str]:
    """The pieces of ``open_stream()`` until it ends, raising at ``deadline``.

    The stream is read on a worker thread; closing this iterator (or the deadline) tells the worker
    to stop and close the model's stream at its next piece, which stops the model or the HTTP
    response.

    Raises:
        GeneratorUnavailable: the deadline passed, or the stream raised anything.
    """
    pieces: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            stream = open_stream()
            try:
                for piece in stream:
                    if stop.is_set():
                        break
                    pieces.put(piece)
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
            pieces.put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed over to the turn's thread
            pieces.put(exc)

    threading.Thread(target=pump, name="shopassist-llm-stream-pump", daemon=True).start()
    try:
        while True:
            try:
                item = pieces.get(timeout=deadline.remaining())
            except queue.Empty:
                raise deadline.error() from None
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise _translated(item) from item
            if not isinstance(item, str):
                raise GeneratorUnavailable(f"the model streamed a {type(item).__name__}, not text")
            yield item
    finally:
        stop.set()
