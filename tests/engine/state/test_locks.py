"""engine/state/locks.py: one lock per conversation, dropped when nobody needs it."""

from __future__ import annotations

import threading
import time

import pytest

from engine.state.locks import SessionLocks


def _holder(locks: SessionLocks, session: str, entered: threading.Event, release: threading.Event):
    def run():
        with locks.hold(session):
            entered.set()
            release.wait(5)

    t = threading.Thread(target=run)
    t.start()
    assert entered.wait(5)
    return t


def test_two_threads_on_one_session_are_serialised():
    locks = SessionLocks()
    entered_a, release_a, entered_b = threading.Event(), threading.Event(), threading.Event()
    a = _holder(locks, "s1", entered_a, release_a)

    def second():
        with locks.hold("s1"):
            entered_b.set()

    b = threading.Thread(target=second)
    b.start()
    assert not entered_b.wait(0.2), "the second turn entered while the first held the lock"
    release_a.set()
    assert entered_b.wait(5)
    a.join(5)
    b.join(5)
    assert len(locks) == 0


def test_two_sessions_do_not_block_each_other():
    locks = SessionLocks()
    entered_a, release_a = threading.Event(), threading.Event()
    a = _holder(locks, "s1", entered_a, release_a)
    try:
        started = time.perf_counter()
        with locks.hold("s2", timeout_s=1.0):
            assert len(locks) == 2
        assert time.perf_counter() - started < 0.5
    finally:
        release_a.set()
        a.join(5)
    assert len(locks) == 0


def test_many_threads_never_overlap_and_the_table_empties():
    locks = SessionLocks()
    inside, overlaps = [0], [0]
    guard = threading.Lock()

    def turn():
        for _ in range(20):
            with locks.hold("busy"):
                with guard:
                    inside[0] += 1
                    overlaps[0] = max(overlaps[0], inside[0])
                time.sleep(0.0005)
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=turn) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert overlaps[0] == 1
    assert len(locks) == 0


def test_timeout_raises_and_leaves_no_entry_behind():
    locks = SessionLocks()
    entered_a, release_a = threading.Event(), threading.Event()
    a = _holder(locks, "s1", entered_a, release_a)
    try:
        with pytest.raises(TimeoutError):
            with locks.hold("s1", timeout_s=0.05):
                pass
        assert len(locks) == 1  # only the holder's entry
    finally:
        release_a.set()
        a.join(5)
    assert len(locks) == 0


def test_an_exception_inside_releases_the_lock():
    locks = SessionLocks()
    with pytest.raises(RuntimeError):
        with locks.hold("s1"):
            raise RuntimeError("turn failed")
    assert len(locks) == 0
    with locks.hold("s1", timeout_s=0.1):  # not still held
        pass
