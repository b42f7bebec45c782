"""A small soak over the shared Redis: 4 worker processes share 8 conversations, one worker is
``kill -9``-ed mid-run, and every conversation stays consistent (``benchmarks/soak.py`` runs the
full 4 x 50 x 20). Uses its own key prefix on ``SHOPASSIST_TEST_REDIS_URL`` and deletes it."""

from __future__ import annotations

import pytest

from tests.adversarial.soak import run_soak

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_four_workers_with_a_kill_lose_and_duplicate_nothing(redis_url):
    r = run_soak(redis_url, workers=4, sessions=8, turns=5, kill=0, kill_after_turns=15, lease_s=1.0,
                 timeout_s=300)
    assert r["killed_worker"] == 0 and r["exit_codes"][0] == -9, r
    assert r["exit_codes"][1:] == [0, 0, 0] and r["hung_workers"] == []
    assert r["problems"] == []
    assert (r["lost"], r["duplicated"], r["inconsistent"], r["unexplained"]) == (0, 0, 0, 0)
    # every surviving worker's turns were all answered and stored; the killed one's up to the kill
    assert r["confirmed"] + r["refused"] >= 3 * 8 * 5 + 15
    assert r["committed"] - r["confirmed"] <= r["in_flight_at_kill"] <= 1
