"""engine/nlu/catalog.py: the intent catalog is read in one place, validated, and a store overrides it."""

from __future__ import annotations

import pytest

from engine.errors import ConfigError
from engine.flows.specs import FLOWS
from engine.nlu.catalog import IntentEntry, load_intent_catalog, store_catalog_overrides
from engine.nlu.intent import load_intent_examples
from engine.responses.templates import Templates


def test_the_packaged_catalog_routes_every_trained_intent():
    catalog = load_intent_catalog()
    trained = {e.label for e in load_intent_examples()}
    assert trained <= set(catalog), trained - set(catalog)
    assert "out_of_scope" in catalog
    assert catalog["greet"].route == "template" and catalog["greet"].digression
    assert catalog.read_order_intents == {"track_order", "refund_status"}
    assert catalog.write_order_intents == set(FLOWS)  # every write intent is a flow spec, and back
    assert {"product_question", "product_compare", "recommend"} == catalog.product_intents
    assert catalog["deny"].stops_flow and catalog["affirm"].continues_flow
    assert catalog["out_of_scope"].with_order_id == "track_order"


def test_every_template_the_catalog_names_exists():
    templates = Templates()
    for entry in load_intent_catalog().values():
        assert entry.template is None or templates.has(entry.template), entry


def test_an_unknown_intent_is_a_retrieval_question():
    entry = load_intent_catalog().entry("no_such_intent")
    assert entry.route == "retrieval" and not entry.digression


def test_overrides_change_fields_and_add_intents():
    base = load_intent_catalog()
    merged = base.merged({"thanks": {"digression": False},
                          "store_hours": {"route": "template", "template": "store_hours", "digression": True}})
    assert not merged["thanks"].digression and merged["thanks"].route == "template"
    assert merged["store_hours"] == IntentEntry("store_hours", "template", "store_hours", digression=True)
    assert base["thanks"].digression  # the packaged catalog is untouched


@pytest.mark.parametrize("bad", [
    {"x": {"route": "telepathy"}},
    {"x": {"template": "greet"}},  # no route
    {"x": {"route": "template"}},  # no template
    {"x": {"route": "order"}},  # read or write?
    {"x": {"route": "retrieval", "colour": "blue"}},
    {"x": {"route": "retrieval", "with_order_id": "nope"}},
    {"x": "template"},
])
def test_a_malformed_entry_is_a_config_error(bad):
    with pytest.raises(ConfigError):
        load_intent_catalog().merged(bad)


def test_a_store_kit_overrides_through_its_intents_yaml(tmp_path):
    assert store_catalog_overrides(tmp_path) == {}
    (tmp_path / "intents.yaml").write_text("version: 1\nintents: {}\n", encoding="utf-8")
    assert store_catalog_overrides(tmp_path) == {}
    (tmp_path / "intents.yaml").write_text("catalog:\n  complaint: {escalates_when_upset: false}\n", encoding="utf-8")
    catalog = load_intent_catalog(overrides=store_catalog_overrides(tmp_path))
    assert not catalog["complaint"].escalates_when_upset


def test_a_catalog_file_replaces_the_packaged_one(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text("intents:\n  hello: {route: template, template: greet}\n", encoding="utf-8")
    assert set(load_intent_catalog(path)) == {"hello"}
    with pytest.raises(ConfigError):
        load_intent_catalog(tmp_path / "missing.yaml")
