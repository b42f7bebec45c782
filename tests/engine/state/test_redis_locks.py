"""engine/state/redis_locks.py: the per-conversation lock shared by processes through Redis.

Each ``RedisSessionLocks`` instance below stands for one worker process (its own client, its own
connection pool); the cross-process test with real processes is in test_store_backends.py.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from engine.errors import StoreError
from engine.state.locks import ConversationLocks, SessionLocks, build_session_locks
from tests.engine.state.conftest import closed_port


@pytest.fixture
def prefix(redis_url):
    p = f"test-{uuid.uuid4().hex[:12]}:"
    yield p
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=p + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def make(redis_url, prefix):
    made = []

    def make(**kw):
        from engine.state.redis_locks import RedisSessionLocks

        locks = RedisSessionLocks(redis_url, key_prefix=prefix, **kw)
        made.append(locks)
        return locks

    yield make
    for locks in made:
        locks.close()


def _raw(redis_url):
    import redis

    return redis.Redis.from_url(redis_url)


def test_satisfies_the_protocol(make):
    assert isinstance(make(), ConversationLocks)
    assert isinstance(SessionLocks(), ConversationLocks)


def test_two_workers_on_one_session_are_serialised(make):
    a, b = make(), make()
    entered_b = threading.Event()
    with a.hold("s1"):
        assert len(a) == 1

        def second():
            with b.hold("s1", timeout_s=5):
                entered_b.set()

        t = threading.Thread(target=second)
        t.start()
        assert not entered_b.wait(0.3), "the second worker entered while the first held the lock"
    assert entered_b.wait(5)
    t.join(5)
    assert len(a) == 0 and len(b) == 0


def test_two_sessions_do_not_block_each_other(make):
    a, b = make(), make()
    with a.hold("s1"):
        started = time.perf_counter()
        with b.hold("s2", timeout_s=1.0):
            pass
        assert time.perf_counter() - started < 0.5


def test_many_workers_never_overlap(make):
    workers = [make() for _ in range(4)]
    inside, overlaps = [0], [0]
    guard = threading.Lock()

    def run(locks):
        for _ in range(15):
            with locks.hold("busy", timeout_s=20):
                with guard:
                    inside[0] += 1
                    overlaps[0] = max(overlaps[0], inside[0])
                time.sleep(0.001)
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert overlaps[0] == 1


def test_timeout_raises_timeout_error(make):
    a, b = make(), make()
    with a.hold("s1"):
        started = time.perf_counter()
        with pytest.raises(TimeoutError, match="busy"):
            with b.hold("s1", timeout_s=0.2):
                pass
        assert 0.2 <= time.perf_counter() - started < 1.0


def test_an_exception_inside_releases_the_lock(make, redis_url, prefix):
    a = make()
    with pytest.raises(RuntimeError):
        with a.hold("s1"):
            raise RuntimeError("turn failed")
    assert _raw(redis_url).exists(f"{prefix}lock:{{s1}}") == 0
    with make().hold("s1", timeout_s=0.1):
        pass


def test_a_crashed_holder_frees_the_lock_after_its_lease(make, redis_url, prefix):
    # a worker that died holding the lock: its key, with a short lease left, and nobody to release it
    _raw(redis_url).set(f"{prefix}lock:{{s1}}", "dead-worker-token", px=300)
    started = time.perf_counter()
    with make().hold("s1", timeout_s=3):
        waited = time.perf_counter() - started
    assert 0.2 < waited < 2.0


def test_only_the_owner_releases(make, redis_url, prefix):
    """A holder whose lease ran out must not delete the lock its successor now holds."""
    slow, fast = make(lease_s=0.2, renew=False), make()
    key = f"{prefix}lock:{{s1}}"
    inside, leave = threading.Event(), threading.Event()

    def successor():
        with fast.hold("s1", timeout_s=3):
            inside.set()
            leave.wait(5)

    t = threading.Thread(target=successor)
    with slow.hold("s1"):
        t.start()
        assert inside.wait(3), "the expired lease was not handed on"
        token = _raw(redis_url).get(key)
    # slow's turn ended and it "released": the successor's lock must still be there
    assert token is not None and _raw(redis_url).get(key) == token
    with pytest.raises(TimeoutError):
        with make().hold("s1", timeout_s=0.1):
            pass
    leave.set()
    t.join(5)
    assert _raw(redis_url).get(key) is None


def test_the_lease_is_renewed_while_a_long_turn_runs(make):
    a, b = make(lease_s=0.3), make()
    with a.hold("s1"):
        time.sleep(1.0)  # more than three leases
        with pytest.raises(TimeoutError):
            with b.hold("s1", timeout_s=0.2):
                pass


def test_without_renewal_a_long_turn_loses_the_lock(make):
    a, b = make(lease_s=0.3, renew=False), make()
    with a.hold("s1"):
        time.sleep(0.5)
        with b.hold("s1", timeout_s=0.2):  # the control case: the lease really does expire
            pass


def test_redis_down_is_a_store_error():
    from engine.state.redis_locks import RedisSessionLocks

    locks = RedisSessionLocks(f"redis://127.0.0.1:{closed_port()}/0", timeout_s=0.5)
    started = time.perf_counter()
    with pytest.raises(StoreError, match="lock unavailable"):
        with locks.hold("s1"):
            pass
    assert time.perf_counter() - started < 2.0


def test_build_session_locks(redis_url):
    assert isinstance(build_session_locks("local"), SessionLocks)
    redis_locks = build_session_locks("redis", redis_url, lease_s=5)
    assert type(redis_locks).__name__ == "RedisSessionLocks"
    redis_locks.close()
    with pytest.raises(ValueError, match="url"):
        build_session_locks("redis", None)
    with pytest.raises(ValueError):
        build_session_locks("zookeeper")
    with pytest.raises(ValueError, match="lease_s"):
        build_session_locks("redis", redis_url, lease_s=0.01)
