"""Shared fixtures: real packaged models and a real demo store, loaded once per session."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

PG_ENV = "SHOPASSIST_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL that `.ci/run` starts (connector contract and tracker-store tests)."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set, so there is no PostgreSQL to test against "
                    f"(.ci/run starts one; locally: export {PG_ENV}=$(.ci/postgres up))")
    return url


REDIS_ENV = "SHOPASSIST_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis that `.ci/run` starts (tracker store, session locks, soak)."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{REDIS_ENV} is not set, so there is no Redis to test against "
                    f"(.ci/run starts one; locally: export {REDIS_ENV}=$(.ci/redis up))")
    return url


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    from knowledge.demo import ensure_demo_store

    return ensure_demo_store(tmp_path_factory.mktemp("demo-store"))


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("shopassist-data")


@pytest.fixture(scope="session")
def engine(demo_store, data_dir):
    """The real engine: packaged models, SQLite tracker, the demo store."""
    from engine import Engine

    eng = Engine.from_config(data_dir=data_dir, store={"root": demo_store.root})
    eng.warm_up()
    return eng
