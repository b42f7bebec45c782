"""Order ids in a store's own form (store kit ``order_id_pattern``): validation and the SQL backend."""

from __future__ import annotations

import pytest

from connectors.auth import Actor
from connectors.base import InvalidOrderId, validate_order_id
from connectors.sql import SqlBackend


def test_default_is_six_digits():
    assert validate_order_id(" #100023 ") == "100023"
    with pytest.raises(InvalidOrderId, match="six digits"):
        validate_order_id("LP10023")


@pytest.mark.parametrize("raw, pattern, want", [
    ("LP10023", "LP[0-9]{5}", "LP10023"),
    (" #LP10023", "LP[0-9]{5}", "LP10023"),
    ("#1001", "#[0-9]{4}", "#1001"),  # the store's form keeps its '#'
    ("#1001", "[0-9]{4,}", "1001"),
])
def test_a_stores_pattern(raw, pattern, want):
    assert validate_order_id(raw, pattern) == want


@pytest.mark.parametrize("raw", ["100023", "LP1002", "LP100234", "lp10023x", "LP１００２３", "L" * 5000])
def test_other_shapes_are_refused(raw):
    with pytest.raises(InvalidOrderId) as err:
        validate_order_id(raw, "LP[0-9]{5}")
    assert len(str(err.value)) < 140


def test_a_bad_pattern_fails_at_construction():
    with pytest.raises(ValueError, match="order_id_pattern"):
        SqlBackend("sqlite://", order_id_pattern="LP[0-9")


def test_sql_backend_checks_the_stores_pattern_before_any_query():
    backend = SqlBackend("sqlite://", order_id_pattern="LP[0-9]{5}")
    assert backend.order_id_pattern == "LP[0-9]{5}"
    with pytest.raises(InvalidOrderId):
        backend.get_order(Actor.customer("C001"), "100023")
