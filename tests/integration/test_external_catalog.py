"""An external Amazon-format catalog selected in settings (``store.catalog_csv``): the real engine
answers product questions over it merged into the demo catalog (``replace`` mode is covered by
tests/knowledge/graph/test_sources.py without a second engine build)."""

from __future__ import annotations

import csv

import pytest

from engine.errors import ConfigError

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COLUMNS = ["Uniq Id", "Product Name", "Brand Name", "Category", "Selling Price", "Model Number",
           "Product Specification", "Shipping Weight", "Product Dimensions"]
ROWS = [
    {"Uniq Id": "amz-1", "Product Name": "Quillbrook Telescope Starter Kit", "Brand Name": "Quillbrook",
     "Category": "Toys & Games | Learning & Education | Science Kits", "Selling Price": "$89.50",
     "Model Number": "QB-77", "Shipping Weight": "6.2 pounds",
     "Product Dimensions": "20.1 x 8.3 x 7.5 inches"},
    {"Uniq Id": "amz-2", "Product Name": "Marlow Wooden Puzzle Box", "Category": "Toys & Games | Puzzles",
     "Selling Price": "$24.99", "Shipping Weight": "14 ounces"},
]


@pytest.fixture(scope="module")
def catalog_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("amazon") / "slice.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(ROWS)
    return path


def _engine(data_dir, demo_store, catalog_csv, mode):
    from engine import Engine

    eng = Engine.from_config(data_dir=data_dir, store={"root": demo_store.root, "catalog_csv": str(catalog_csv),
                                                       "catalog_mode": mode}, tracker={"kind": "memory"})
    eng.warm_up()
    return eng


def test_merged_catalog_answers_over_csv_and_demo_products(data_dir, demo_store, catalog_csv):
    eng = _engine(data_dir, demo_store, catalog_csv, "merge")
    weight = eng.respond("ext-1", "how much does the Quillbrook Telescope Starter Kit weigh?")
    assert weight.sources and weight.sources[0].kind == "product" and weight.sources[0].id == "amz-1"
    assert "6.2" in weight.text and weight.slots.get("product_id") == "amz-1"
    price = eng.respond("ext-2", "how much is the Marlow Wooden Puzzle Box?")
    assert "24.99" in price.text and price.sources[0].id == "amz-2"
    demo = eng.respond("ext-3", "what's the battery life of the Aurora X200?")
    assert "30 hours" in demo.text and demo.sources[0].id == "P1001"


def test_a_missing_catalog_csv_fails_at_start_naming_the_field(data_dir, tmp_path):
    from engine import Engine

    with pytest.raises(ConfigError, match="catalog_csv"):
        Engine.from_config(data_dir=data_dir, store={"catalog_csv": str(tmp_path / "nope.csv")})
