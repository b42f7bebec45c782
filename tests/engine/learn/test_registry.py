"""The model registry: versions with cards, the serving pointer, promotion and rollback."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from engine.errors import ModelError
from engine.learn.registry import BASE, ModelRegistry
from tests.engine.learn.helpers import tiny_head


def test_an_empty_registry_serves_base_and_has_nothing_to_roll_back(tmp_path):
    reg = ModelRegistry(tmp_path / "reg")
    assert reg.current() == BASE and reg.history() == [] and reg.versions() == []
    assert reg.stamp() is None
    assert not (tmp_path / "reg").exists()  # reading creates nothing
    with pytest.raises(ModelError, match="nothing to roll back"):
        reg.rollback()


def test_versions_keep_their_head_and_card(tmp_path):
    reg = ModelRegistry(tmp_path)
    head = tiny_head()
    v1 = reg.add(head, {"metrics": {"macro_f1": 0.8}, "by": "ana"})
    v2 = reg.add(tiny_head(("a", "b", "c")), {"metrics": {"macro_f1": 0.9}})
    assert (v1.version, v2.version) == ("v0001", "v0002")
    assert [v.version for v in reg.versions()] == ["v0001", "v0002"]
    assert reg.get("v0001").macro_f1 == 0.8 and reg.get("v0001").card["by"] == "ana"
    loaded = reg.load_head("v0001")
    assert loaded.labels == head.labels and np.allclose(loaded.weight, head.weight)
    assert reg.current() == BASE  # registered is not serving
    with pytest.raises(ModelError):
        reg.get("v0009")
    with pytest.raises(ModelError):
        reg.promote("v0009")


def test_promote_and_rollback_walk_the_history(tmp_path):
    reg = ModelRegistry(tmp_path)
    for _ in range(2):
        reg.add(tiny_head(), {})
    reg.promote("v0001", by="ana")
    stamp = reg.stamp()
    reg.promote("v0002", by="bo")
    assert reg.current() == "v0002" and reg.history() == [BASE, "v0001"]
    assert reg.stamp() != stamp
    assert reg.rollback(by="cy") == "v0001"
    assert reg.current() == "v0001" and reg.history() == [BASE]
    assert reg.rollback() == BASE
    with pytest.raises(ModelError):
        reg.rollback()
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [(e["action"], e["version"], e["by"]) for e in log] == [
        ("promote", "v0001", "ana"), ("promote", "v0002", "bo"), ("rollback", "v0001", "cy"), ("rollback", BASE, "")]


def test_a_corrupt_pointer_is_an_error_not_a_silent_base(tmp_path):
    reg = ModelRegistry(tmp_path)
    reg.add(tiny_head(), {})
    reg.promote("v0001")
    reg.pointer.write_text("{not json")
    with pytest.raises(ModelError, match="unreadable"):
        reg.current()


def test_concurrent_adds_get_distinct_versions(tmp_path):
    reg = ModelRegistry(tmp_path)
    errors = []

    def add():
        try:
            reg.add(tiny_head(), {})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [v.version for v in reg.versions()] == [f"v{i:04d}" for i in range(1, 7)]


def test_a_promotion_compared_with_a_version_that_no_longer_serves_is_refused(tmp_path):
    reg = ModelRegistry(tmp_path)
    reg.add(tiny_head(), {})
    reg.add(tiny_head(), {})
    reg.promote("v0001")  # someone else promoted while v0002 was being compared with base
    with pytest.raises(ModelError, match="compared with base"):
        reg.promote("v0002", expect=BASE)
    assert reg.current() == "v0001"
    reg.promote("v0002", expect="v0001")
    assert reg.current() == "v0002"


def test_a_version_keeps_the_heads_of_its_other_stages(tmp_path):
    reg = ModelRegistry(tmp_path)
    fast = tiny_head(("a",), dim=3, model="hash-fast")
    v1 = reg.add(tiny_head(), {}, {"fast": fast})
    v2 = reg.add(tiny_head(), {})
    assert reg.has_stage(v1.version, "fast") and not reg.has_stage(v2.version, "fast")
    loaded = reg.load_head(v1.version, stage="fast")
    assert loaded.labels == ("a",) and loaded.meta["model"] == "hash-fast" and np.allclose(loaded.weight, fast.weight)
    assert reg.load_head(v1.version).labels == ("a", "b")  # the full head is still the version's head
    with pytest.raises(ModelError, match="no 'fast' head"):
        reg.load_head(v2.version, stage="fast")
    with pytest.raises(ModelError, match="no '../fast' head"):
        reg.load_head(v1.version, stage="../fast")
    with pytest.raises(ValueError, match="bad stage name"):
        reg.add(tiny_head(), {}, {"../x": fast})
    assert [v.version for v in reg.versions()] == ["v0001", "v0002"]  # the refused add left nothing
