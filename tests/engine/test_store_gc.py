"""engine.store.gc_paused: the collector is off during a start and everything is as before after it."""

from __future__ import annotations

import gc

import pytest

from engine.store import gc_paused


@pytest.fixture(autouse=True)
def _collector_restored():
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_off_inside_and_back_with_nothing_frozen_after():
    gc.enable()
    with gc_paused() as settle:
        assert not gc.isenabled()
        kept = [object() for _ in range(10)]  # noqa: F841 - long-lived objects of the start
        settle()
        assert gc.get_freeze_count() > 0
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_restored_when_the_start_fails():
    gc.enable()
    with pytest.raises(RuntimeError), gc_paused() as settle:
        settle()
        raise RuntimeError("kit invalid")
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_disabled_collector_stays_disabled():
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_objects_a_process_froze_itself_stay_frozen(monkeypatch):
    """Neither frozen again nor unfrozen (the count itself may fall meanwhile: a frozen object
    whose last reference goes is freed like any other)."""
    gc.enable()
    gc.freeze()
    calls: list[str] = []
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    with gc_paused() as settle:
        settle()  # does nothing: the process manages freezing itself
    assert calls == [] and gc.isenabled() and gc.get_freeze_count() > 0
