"""Small real parts for the learning tests: a hash-embedder classifier on a few intents."""

from __future__ import annotations

import numpy as np

from engine.nlu.intent import EmbeddingIntentClassifier, IntentExample, LinearHead, train_linear_head
from knowledge.embedders import HashEmbedder

EXAMPLES = {
    "track_order": ["where is my parcel", "track my package", "has my order shipped", "when does my order arrive"],
    "refund_status": ["where is my refund", "money back status", "refund not received", "when is my refund due"],
    "greet": ["hello there", "hi", "good morning", "hey"],
}


def examples() -> list[IntentExample]:
    return [IntentExample(t, label, "en") for label, ts in EXAMPLES.items() for t in ts]


def train_head(embedder: HashEmbedder, extra: list[IntentExample] = ()) -> LinearHead:
    exs = examples() + list(extra)
    head = train_linear_head(embedder.embed([e.text for e in exs], kind="query"), [e.label for e in exs],
                             max_iter=50)
    head.meta.update(model=embedder.name)
    return head


def tiny_head(labels=("a", "b"), dim: int = 4, model: str = "hash-test") -> LinearHead:
    """A hand-made head (no training) for registry bookkeeping tests."""
    rng = np.random.default_rng(0)
    n = len(labels)
    return LinearHead(tuple(labels), rng.normal(size=(dim, n)).astype(np.float32), np.zeros(n, np.float32),
                      np.eye(n, dim, dtype=np.float32), np.zeros(dim, np.float32), {"model": model})


def classifier(embedder: HashEmbedder, head: LinearHead) -> EmbeddingIntentClassifier:
    return EmbeddingIntentClassifier(embedder, head, confidence_threshold=0.0)
