"""Hot reload: a running engine serves the registry's promoted intent model without a restart.

:class:`ReloadingClassifier` is an :class:`engine.nlu.base.IntentClassifier` that holds the
serving ``(version, classifier)`` pair. Before classifying it checks — at most every
``interval_s`` seconds, a ``stat`` of the registry's pointer file — whether another version was
promoted (or rolled back); if so it loads that head and swaps the pair in one assignment. A turn
reads the pair once, so a turn in progress finishes with the model it started with and no turn is
dropped or blocked while a new one loads elsewhere. Every prediction names the version that made
it (:attr:`engine.types.IntentPrediction.model`), which the engine writes into the reply trace.

Example:
    >>> clf = ReloadingClassifier(ModelRegistry(reg_dir), load_or_train(emb, examples, cache))  # doctest: +SKIP
    >>> clf.classify("where is my parcel?").model                                                # doctest: +SKIP
    'v0003'
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from engine.errors import ModelError
from engine.nlu.intent import CascadeIntentClassifier, EmbeddingIntentClassifier
from engine.types import IntentPrediction

from .registry import BASE, ModelRegistry

__all__ = ["ReloadingClassifier"]

log = logging.getLogger("shopassist.learn.reload")

_UNSEEN = object()


class ReloadingClassifier:
    """Serves the registry's current intent model and swaps it in when a new one is promoted.

    Args:
        registry: where promoted versions are.
        base: the engine's start-up classifier (version ``base``); promoted heads are served with
            its embedder, and with the out-of-scope threshold retrain chose for them (its own when
            a head names none). When it is two-stage
            (:class:`~engine.nlu.intent.CascadeIntentClassifier`), a promoted version registered with
            a fast-stage head serves two-stage too; one without is served by its full head alone.
        interval_s: at most one pointer check per this many seconds (0: before every turn).
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self,
        registry: ModelRegistry,
        base: EmbeddingIntentClassifier,
        *,
        interval_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval_s < 0:
            raise ValueError(f"interval_s must be >= 0, got {interval_s}")
        self.registry = registry
        self.base = base
        self.interval_s = interval_s
        self._clock = clock
        self._active: tuple[str, Any] = (BASE, base)
        self._stamp: Any = _UNSEEN
        self._next_check = float("-inf")
        self._check_lock = threading.Lock()

    @property
    def version(self) -> str:
        """The version serving now."""
        return self._active[0]

    @property
    def labels(self) -> tuple[str, ...]:
        return self._active[1].labels

    def __getattr__(self, name: str) -> Any:  # embedder, head, threshold: the serving classifier's
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._active[1], name)

    def classify(self, text: str) -> IntentPrediction:
        self.refresh()
        version, classifier = self._active  # one read: a swap now does not touch this turn
        return replace(classifier.classify(text), model=version)

    def refresh(self, *, force: bool = False) -> bool:
        """Swap in the registry's current version if it changed; True when a swap happened.

        Never raises: a version that cannot be loaded is logged and the serving one kept.
        """
        now = self._clock()
        if not force and now < self._next_check:
            return False
        if not self._check_lock.acquire(blocking=False):
            return False  # another thread is checking; this turn goes on with the serving model
        try:
            self._next_check = now + self.interval_s
            stamp = self.registry.stamp()
            if stamp == self._stamp:
                return False
            target = self.registry.current()
            self._stamp = stamp
            if target == self._active[0]:
                return False
            classifier = self.classifier_for(target)
            previous = self._active[0]
            self._active = (target, classifier)
            log.warning("intent model %s now serving (was %s)", target, previous)
            return True
        except ModelError as exc:
            log.error("cannot serve the registry's intent model, keeping %s: %s", self._active[0], exc)
            return False
        finally:
            self._check_lock.release()

    def classifier_for(self, version: str) -> Any:
        """The classifier this engine would serve ``version`` with (raises :class:`ModelError` when it
        cannot be loaded or was trained on another embedder)."""
        if version == BASE:
            return self.base
        head = self.registry.load_head(version)
        want = getattr(self.base.embedder, "name", None)
        if head.meta.get("model") != want:
            raise ModelError(f"model version {version} was trained on embedder {head.meta.get('model')!r}, "
                             f"this engine embeds with {want!r}")
        # a version carries the out-of-scope threshold chosen for it (retrain); older ones use the engine's
        threshold = float(head.meta.get("confidence_threshold", self.base.threshold))
        full = EmbeddingIntentClassifier(self.base.embedder, head, confidence_threshold=threshold,
                                         min_similarity=self.base.min_similarity)
        if not isinstance(self.base, CascadeIntentClassifier):
            return full
        base_fast = self.base.fast
        # the fast stage must know what the promoted version learnt: its own fast head, or none
        if not self.registry.has_stage(version, "fast"):
            log.warning("model version %s has no fast-stage head: its intents come from the full model alone", version)
            return full
        fast_head = self.registry.load_head(version, stage="fast")
        if fast_head.meta.get("model") != base_fast.embedder.name or set(fast_head.labels) - set(head.labels):
            log.warning("model version %s's fast-stage head does not fit this engine (%r): full model alone",
                        version, fast_head.meta.get("model"))
            return full
        fast = EmbeddingIntentClassifier(base_fast.embedder, fast_head, confidence_threshold=base_fast.threshold,
                                         min_similarity=base_fast.min_similarity)
        return CascadeIntentClassifier(fast, full, accept=self.base.accept)
