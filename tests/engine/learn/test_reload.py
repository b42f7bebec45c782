"""Hot reload: the serving classifier follows the registry between turns, never within one."""

from __future__ import annotations

import logging
import threading

import pytest

from engine.learn.registry import BASE, ModelRegistry
from engine.learn.reload import ReloadingClassifier
from engine.nlu.intent import IntentExample
from knowledge.embedders import HashEmbedder
from tests.engine.learn.helpers import classifier, tiny_head, train_head


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def setup(tmp_path):
    emb = HashEmbedder()
    base = classifier(emb, train_head(emb))
    reg = ModelRegistry(tmp_path)
    # v0001 learnt that "parcel tracking please" means refund_status: a visible behaviour change
    taught = [IntentExample("parcel tracking please", "refund_status", "en")] * 8
    reg.add(train_head(emb, taught), {})
    return emb, base, reg


def test_a_promoted_model_serves_from_the_next_turn(setup):
    emb, base, reg = setup
    clf = ReloadingClassifier(reg, base, interval_s=0)
    before = clf.classify("parcel tracking please")
    assert (before.model, before.intent) == (BASE, "track_order")
    reg.promote("v0001")
    after = clf.classify("parcel tracking please")
    assert (after.model, after.intent) == ("v0001", "refund_status")
    fresh = ReloadingClassifier(reg, base, interval_s=60)  # an engine started after the promotion
    assert fresh.classify("parcel tracking please").model == "v0001"
    reg.rollback()
    assert clf.classify("parcel tracking please").model == BASE


def test_the_pointer_is_checked_at_most_once_per_interval(setup):
    _, base, reg = setup
    clock = Clock()
    clf = ReloadingClassifier(reg, base, interval_s=5.0, clock=clock)
    assert clf.classify("hi").model == BASE
    reg.promote("v0001")
    clock.t = 4.9
    assert clf.classify("hi").model == BASE
    clock.t = 5.0
    assert clf.classify("hi").model == "v0001"


def test_a_turn_in_progress_finishes_with_the_model_it_started_with(setup):
    emb, base, reg = setup
    entered, release = threading.Event(), threading.Event()

    class SlowEmbedder:
        name = emb.name

        def embed(self, texts, kind="query"):
            entered.set()
            assert release.wait(10)
            return emb.embed(texts, kind=kind)

    slow_base = classifier(SlowEmbedder(), base.head)
    clf = ReloadingClassifier(reg, slow_base, interval_s=0)
    results = []
    worker = threading.Thread(target=lambda: results.append(clf.classify("parcel tracking please")))
    worker.start()
    assert entered.wait(10)
    reg.promote("v0001")
    assert clf.refresh() is True  # swapped while the first turn is still classifying
    release.set()
    worker.join(10)
    assert results[0].model == BASE and results[0].intent == "track_order"
    assert clf.classify("parcel tracking please").model == "v0001"


def test_a_version_it_cannot_serve_is_refused_and_the_serving_one_kept(setup, caplog):
    emb, base, reg = setup
    reg.add(tiny_head(("track_order", "greet"), dim=emb.dim, model="other-model"), {})
    clf = ReloadingClassifier(reg, base, interval_s=0)
    reg.promote("v0002")
    with caplog.at_level(logging.ERROR, logger="shopassist.learn.reload"):
        pred = clf.classify("where is my parcel")
    assert pred.model == BASE and pred.intent == "track_order"
    assert "other-model" in caplog.text


def test_a_two_stage_base_serves_promoted_models_without_its_fast_stage(setup):
    """A promoted head learnt from feedback the fast stage never saw: it must not be overruled."""
    from engine.nlu.intent import CascadeIntentClassifier

    emb, base, reg = setup
    fast_emb = HashEmbedder(dim=64)
    fast = classifier(fast_emb, train_head(fast_emb))
    two_stage = CascadeIntentClassifier(fast, base, accept=0.3)
    clf = ReloadingClassifier(reg, two_stage, interval_s=0)
    before = clf.classify("parcel tracking please")
    assert (before.model, before.intent, before.stage) == (BASE, "track_order", "fast")
    reg.promote("v0001")
    after = clf.classify("parcel tracking please")
    assert (after.model, after.intent, after.stage) == ("v0001", "refund_status", "")
    reg.rollback()
    assert clf.classify("parcel tracking please").stage == "fast"


def test_a_promoted_version_with_a_fast_head_serves_two_stage(setup, caplog):
    from engine.nlu.intent import CascadeIntentClassifier

    emb, base, reg = setup
    fast_emb = HashEmbedder(dim=64)
    two_stage = CascadeIntentClassifier(classifier(fast_emb, train_head(fast_emb)), base, accept=0.3)
    taught = [IntentExample("parcel tracking please", "refund_status", "en")] * 8
    v2 = reg.add(train_head(emb, taught), {}, {"fast": train_head(fast_emb, taught)})
    other = HashEmbedder(dim=32)  # a fast head over another model than the engine's fast stage
    v3 = reg.add(train_head(emb, taught), {}, {"fast": train_head(other, taught)})
    clf = ReloadingClassifier(reg, two_stage, interval_s=0)
    reg.promote(v2.version)
    pred = clf.classify("parcel tracking please")
    assert (pred.model, pred.intent, pred.stage) == (v2.version, "refund_status", "fast")
    assert clf.classify("你好").stage == "full"
    with caplog.at_level(logging.WARNING, logger="shopassist.learn.reload"):
        reg.promote(v3.version)
        pred = clf.classify("parcel tracking please")
    assert (pred.model, pred.intent, pred.stage) == (v3.version, "refund_status", "")
    assert "does not fit this engine" in caplog.text
