"""The ``connectors`` settings section, the factory, and the resilience helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.services import build_services
from knowledge.kernel.resilience import CircuitBreaker, backoff_delays
from knowledge.kernel import schema
from connectors.rest import RestBackend
from connectors.sql import SqlBackend
from engine.errors import ConfigError
from engine.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_default_is_sql_on_the_demo_store(demo_store):
    settings = load_settings(ROOT / "configs" / "default.yaml")
    assert settings.connectors.kind == "sql" and settings.connectors.url is None
    services = build_services(settings, demo_store.db_url)
    assert isinstance(services.orders, SqlBackend) and services.orders.url == demo_store.db_url
    assert services.returns is services.orders is services.inventory


def test_rest_from_the_environment(monkeypatch):
    monkeypatch.setenv("SHOPASSIST_CONNECTORS__KIND", "rest")
    monkeypatch.setenv("SHOPASSIST_CONNECTORS__BASE_URL", "http://127.0.0.1:8766")
    monkeypatch.setenv("SHOPASSIST_CONNECTORS__TOKEN", "env-secret-token")
    monkeypatch.setenv("SHOPASSIST_CONNECTORS__RETRIES", "4")
    settings = load_settings(ROOT / "configs" / "default.yaml")
    assert settings.connectors.retries == 4
    assert "env-secret-token" not in repr(settings)
    backend = build_services(settings, None).backend
    assert isinstance(backend, RestBackend) and backend.base_url == "http://127.0.0.1:8766"
    backend.close()


@pytest.mark.parametrize("overrides, field", [
    ({"kind": "rest"}, "base_url"),
    ({"kind": "rest", "base_url": "http://x:1"}, "token"),
    ({"kind": "soap"}, "connectors.kind"),
    ({"retries": -1}, "connectors.retries"),
    ({"timeout_s": 0}, "connectors.timeout_s"),
])
def test_invalid_connector_settings_name_the_field(overrides, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_settings(ROOT / "configs" / "default.yaml", connectors=overrides)


def test_postgres_example_config_loads(monkeypatch):
    settings = load_settings(ROOT / "configs" / "postgres.yaml")
    assert settings.connectors.kind == "sql" and settings.connectors.url.startswith("postgresql+psycopg://")
    assert settings.connectors.migrate is True


def test_sql_url_setting_wins_over_the_demo_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    settings = load_settings(ROOT / "configs" / "default.yaml", connectors={"url": url, "migrate": True})
    backend = build_services(settings, "sqlite:///demo.db").backend
    assert backend.url == url and backend.schema_version() == schema.SCHEMA_VERSION  # migrate created it


def test_backoff_delays_are_capped_and_jittered():
    assert list(backoff_delays(4, base_s=0.1, cap_s=0.25, rng=lambda: 1.0)) == [0.1, 0.2, 0.25, 0.25]
    assert all(0 <= d <= 0.4 for d in backoff_delays(50, base_s=0.1, cap_s=0.4))
    assert list(backoff_delays(0, base_s=1, cap_s=1)) == []


def test_breaker_lets_one_trial_through_when_half_open():
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=3, reset_after_s=5, clock=lambda: now[0])
    breaker.record_failure(); breaker.record_failure()
    assert breaker.allow() and breaker.state == "closed"
    breaker.record_success(); breaker.record_failure(); breaker.record_failure()
    assert breaker.state == "closed"  # success reset the count
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()
    now[0] = 5.0
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow()
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)
