"""check_kit / read_kit: a valid kit reads whole; a broken one lists every problem and never loads."""

from __future__ import annotations

import json

import pytest

from knowledge.graph.catalog import Catalog
from knowledge.kit import Kit, KitInvalid, check_kit, read_kit, resolve_date
from knowledge.kit._catalog import parse_value


def test_starter_kit_reads_whole(kit_dir):
    assert check_kit(kit_dir) == []
    kit = read_kit(kit_dir)
    assert isinstance(kit, Kit) and isinstance(kit.catalog, Catalog)
    assert len(kit.catalog) == 10 and len(kit.faqs) == 24 and len(kit.customers) == 2 and len(kit.orders) == 4
    kettle = kit.catalog.get("HL100")
    assert kettle.name == "Harbor Electric Kettle 1.7 L" and kettle.name_zh == "Harbor 电热水壶 1.7升"
    assert kettle.price == 39.0 and kettle.currency == "USD" and kettle.stock == 42 and kettle.rating == 4.6
    assert kettle.category == "Kitchen > Kettles" and kettle.text("category", "zh") == "厨房 > 水壶"
    assert kettle.display_name("zh") == "Harbor 电热水壶 1.7升"
    assert kettle.aliases == ("kettle", "electric kettle", "电水壶")
    cap = kettle.attributes["capacity"]
    assert (cap.value, cap.unit, cap.label, cap.label_zh) == (1.7, "L", "capacity", "容量")
    assert kettle.attributes["power"].render() == "1500 W"
    assert kettle.attributes["material"].render("zh") == "不锈钢"
    assert [p.id for p in kit.catalog.accessories("HL100")] == ["HL105"]
    assert [p.id for p in kit.catalog.compatible("HL102")] == ["HL103"]
    assert kit.returnable["HL105"] is False
    faq = next(f for f in kit.faqs if f.id == "zh-returns-window")
    assert faq.lang == "zh" and faq.question == "退货期限是多久？" and faq.alternates == ("可以退货吗？", "退货政策")
    assert {f.id for f in kit.faqs} >= {"en-returns-window", "zh-returns-window"}
    assert kit.templates == {"goodbye": {"en": "Thanks for visiting {store}. Happy cooking!",
                                         "zh": "感谢光临{store}，祝您烹饪愉快！"}}
    assert kit.intents["intents"]["product_question"]["zh"]


def test_catalog_survives_save_and_load(kit_dir, tmp_path):
    catalog = read_kit(kit_dir).catalog
    again = Catalog.load(catalog.save(tmp_path / "c.json"))
    assert again.get("HL100") == catalog.get("HL100") and again.relations() == catalog.relations()


@pytest.mark.parametrize("text, parsed", [
    ("30 h", (30, "h")), ("IPX7", ("IPX7", None)), ("1.2 kg", (1.2, "kg")), ("5.3", (5.3, None)),
    ("1,500 mAh", (1500, "mAh")), ("10 x 5 x 2 cm", ((10.0, 5.0, 2.0), "cm")), ("iOS; Android", (["iOS", "Android"], None)),
    ("yes", (True, None)), ("500ml", (500, "ml")), ("-5 °C", (-5, "°C")),
])
def test_attribute_values_with_units(text, parsed):
    assert parse_value(text) == parsed


def _chinese_first_kit(folder, store_more: str, catalog: str):
    """A Chinese-first tea shop's kit: ``store_more`` appended to its store.yaml, ``catalog`` its catalog.csv."""
    (folder / "store.yaml").write_text(
        "name: 莲松\ncurrency: CNY\nlanguages: [zh, en]\ntimezone: Asia/Shanghai\n"
        "policies: {return_window_days: 14}\n" + store_more, encoding="utf-8")
    (folder / "catalog.csv").write_text(catalog, encoding="utf-8")
    (folder / "faqs.jsonl").write_text(json.dumps(
        {"id": "r", "language": "zh", "question": "能退货吗？", "answer": "14天内可退。"}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    return read_kit(folder)


def test_chinese_first_store_with_english_columns(tmp_path):
    kit = _chinese_first_kit(
        tmp_path, "attribute_labels: {capacity: {zh: 容量, en: capacity}}\norder_id_pattern: 'LP[0-9]{5}'\n",
        "id,name,name:en,brand,category,category:en,price,stock,description,attr:capacity,attr:capacity:en\n"
        "T1,白瓷盖碗,White Porcelain Gaiwan,景德,茶具,Teaware,128,5,手工白瓷,150毫升,150 ml\n")
    p = kit.catalog.get("T1")
    assert (p.name, p.name_zh, p.category, p.currency) == ("White Porcelain Gaiwan", "白瓷盖碗", "Teaware", "CNY")
    assert p.attributes["capacity"].value == 150 and p.attributes["capacity"].unit == "ml"
    assert p.attributes["capacity"].render("zh") == "150毫升"
    assert p.text("category", "zh") == "茶具" and kit.faqs[0].id == "zh-r"


def _append(path, text):
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def test_seeded_errors_are_each_listed_and_nothing_loads(kit_dir):
    store = (kit_dir / "store.yaml").read_text(encoding="utf-8")
    (kit_dir / "store.yaml").write_text(store.replace("currency: USD", "currency: usd"), encoding="utf-8")
    with pytest.raises(KitInvalid) as err:
        read_kit(kit_dir)
    assert [(p.file, p.field) for p in err.value.problems if p.level == "error"] == [("store.yaml", "currency")]
    (kit_dir / "store.yaml").write_text(store, encoding="utf-8")

    _append(kit_dir / "catalog.csv",
            "HL100,Dup,,Harbor,X,,1,1,,d,,,,,,,,,,,\n"               # row 12: duplicate id
            "HL200,Bad price,,Harbor,X,,abc,1,,d,,,,,,,,,,,\n"       # row 13: price
            "HL201,Bad stock,,Harbor,X,,1,many,9,d,,,,,,,,,,,\n"     # row 14: stock, rating
            "HL202,Links,,Harbor,X,,1,1,,d,,,HL999,HL202,maybe,,,,,,\n"  # row 15: accessories, compat, returnable
            "HL203,Short row\n")                                      # row 16: cell count
    _append(kit_dir / "faqs.jsonl",
            json.dumps({"id": "returns-window", "language": "en", "question": "q", "answer": "a"}) + "\n"  # 25 dup
            + json.dumps({"id": "x", "language": "fr", "question": "q", "answer": "a"}) + "\n"           # 26 lang
            + json.dumps({"id": "y", "language": "en", "question": "", "answer": "a"}) + "\n"            # 27 question
            + "{not json\n")                                                                              # 28
    _append(kit_dir / "customers.csv", "C100,Again,a@b.co,en\nC102,Nomail,nope,en\n")  # rows 4, 5
    _append(kit_dir / "orders.jsonl",
            json.dumps({"id": "123456", "customer_id": "C999", "placed": "yesterday", "status": "lost",
                        "items": [{"product_id": "NOPE", "quantity": 0}]}) + "\n")  # line 5
    (kit_dir / "templates.yaml").write_text(
        "goodbye: {en: 'Bye from {shop}'}\nno_such_template: {en: hi}\norder_processing: {en: 'Order {order_id'}\n",
        encoding="utf-8")
    (kit_dir / "intents.yaml").write_text("intents:\n  made_up_intent: {en: [hello]}\n", encoding="utf-8")
    (kit_dir / "catalog.csv").write_text(
        (kit_dir / "catalog.csv").read_text(encoding="utf-8").replace("attr:warranty", "attr:warranty:fr", 1),
        encoding="utf-8")

    problems = check_kit(kit_dir)
    found = {(p.file, p.row, p.field) for p in problems if p.level == "error"}
    expected = {
        ("catalog.csv", 12, "id"), ("catalog.csv", 13, "price"), ("catalog.csv", 14, "stock"),
        ("catalog.csv", 14, "rating"), ("catalog.csv", 15, "accessories"), ("catalog.csv", 15, "compatible_with"),
        ("catalog.csv", 15, "returnable"), ("catalog.csv", 16, None),
        ("faqs.jsonl", 25, "id"), ("faqs.jsonl", 26, "language"), ("faqs.jsonl", 27, "question"),
        ("faqs.jsonl", 28, None),
        ("customers.csv", 4, "id"), ("customers.csv", 5, "email"),
        ("orders.jsonl", 5, "id"), ("orders.jsonl", 5, "customer_id"), ("orders.jsonl", 5, "placed"),
        ("orders.jsonl", 5, "status"), ("orders.jsonl", 5, "items[0].product_id"),
        ("orders.jsonl", 5, "items[0].quantity"),
        ("templates.yaml", None, "goodbye.en"), ("templates.yaml", None, "no_such_template"),
        ("templates.yaml", None, "order_processing.en"), ("intents.yaml", None, "intents.made_up_intent"),
    }
    assert expected <= found, sorted(expected - found)
    assert found - expected == set(), sorted(found - expected)  # nothing reported twice or by mistake
    warn = [p for p in problems if p.level == "warning"]
    assert any(p.file == "catalog.csv" and p.field == "attr:warranty:fr" for p in warn)
    assert 'catalog.csv:13: price: \'abc\' is not a number' in "\n".join(map(str, problems))
    with pytest.raises(KitInvalid) as err:
        read_kit(kit_dir)
    assert len(err.value.problems) == len(problems) and "HL999" in str(err.value)


def test_missing_files_and_columns(tmp_path):
    problems = check_kit(tmp_path)
    assert {(p.file, p.level) for p in problems} == {("store.yaml", "error"), ("faqs.jsonl", "error"),
                                                     ("catalog.csv", "error")}
    assert check_kit(tmp_path / "nope")[0].message.startswith("is not a folder")


def test_missing_catalog_columns(kit_dir):
    (kit_dir / "catalog.csv").write_text("id,name,price\nA,B,1\n", encoding="utf-8")
    fields = {p.field for p in check_kit(kit_dir) if p.file == "catalog.csv"}
    assert {"brand", "category", "stock", "description"} <= fields


def test_warnings_load(kit_dir):
    text = (kit_dir / "catalog.csv").read_text(encoding="utf-8")
    (kit_dir / "catalog.csv").write_text(text.replace("attr:power", "attr:power:ja", 1).replace(
        "returnable", "colourway", 1), encoding="utf-8")
    problems = check_kit(kit_dir)
    assert problems and all(p.level == "warning" for p in problems)
    assert len(read_kit(kit_dir).warnings) == len(problems)


def test_yaml_is_data_only(kit_dir):
    store = (kit_dir / "store.yaml").read_text(encoding="utf-8")
    (kit_dir / "store.yaml").write_text(store.replace("name: Harbor Lane Home",
                                                      "name: !!python/object/apply:os.system ['echo hacked']"),
                                        encoding="utf-8")
    assert any(p.file == "store.yaml" and "YAML" in p.message for p in check_kit(kit_dir))
    (kit_dir / "store.yaml").write_text(store, encoding="utf-8")
    (kit_dir / "templates.yaml").write_text("a: &x [1, 2]\nb: *x\n", encoding="utf-8")
    assert any(p.file == "templates.yaml" and "aliases" in p.message for p in check_kit(kit_dir))


def test_resolve_date():
    import datetime as dt

    today = dt.date(2025, 3, 10)
    assert resolve_date("-12d", today) == dt.date(2025, 2, 26)
    assert resolve_date("2025-01-02", today) == dt.date(2025, 1, 2)
    with pytest.raises(ValueError):
        resolve_date("soon", today)


def test_synonyms_name_the_catalog_s_kinds_in_the_shoppers_words(tmp_path):
    kit = _chinese_first_kit(
        tmp_path, "synonyms: {茶碗: 盖碗, tea bowl: gaiwan, bad: [1, 2]}\n",
        "id,name,name:en,brand,category,category:en,price,stock,description\n"
        "T1,白瓷盖碗,White Porcelain Gaiwan,景德,茶具,Teaware,128,5,手工白瓷\n"
        "T2,紫砂壶,Purple Clay Teapot,宜兴,茶具,Teaware,328,5,手工紫砂\n")
    assert kit.profile.synonyms == {"茶碗": "盖碗", "tea bowl": "gaiwan"}  # the malformed entry is left out
    from knowledge.graph.query import ProductQA
    qa = ProductQA(kit.catalog, synonyms=kit.profile.synonyms)
    assert qa.kind_product_ids("有没有茶碗", "zh") == {"T1"}
    assert qa.kind_product_ids("any tea bowls?", "en") == {"T1"}
    assert ProductQA(kit.catalog).kind_product_ids("有没有茶碗", "zh") == set()


def test_a_feature_s_cue_inside_a_synonym_asks_for_no_feature(tmp_path):
    # "充电宝" (a power bank) holds 充电, the cue of the wireless-charging feature: asking for a
    # power bank is no wish for wireless charging, so both are offered
    kit = _chinese_first_kit(
        tmp_path, "synonyms: {充电宝: 移动电源}\n",
        "id,name,name:en,brand,category,category:en,price,stock,description,attr:无线充电\n"
        "B1,极光移动电源,Aurora Power Bank,极光,数码配件,Accessories,99,5,两万毫安,是\n"
        "B2,远山移动电源,Ridge Power Bank,远山,数码配件,Accessories,79,5,一万毫安,否\n"
        "C1,极光充电盒,Aurora Charging Case,极光,数码配件,Accessories,59,5,耳机充电盒,是\n")
    from knowledge.graph.query import ProductQA
    qa = ProductQA(kit.catalog, synonyms=kit.profile.synonyms)
    query = qa.understand("有没有充电宝", "zh")
    assert query.attrs == []
    assert qa.kind_product_ids("有没有充电宝", "zh") == {"B1", "B2"}
    assert qa.understand("有没有无线充电的充电宝", "zh").attrs  # said outside the kind's word: asked for


def test_a_store_build_s_vocabulary_is_read_only_with_the_synonyms_it_was_learnt_with(tmp_path):
    from knowledge.graph.vocabulary import CatalogVocabulary

    (tmp_path / "catalog.json").write_text(json.dumps([
        {"id": "T1", "name": "Porcelain Gaiwan", "brand": "Jingde", "category": "Teaware", "price": 128.0}]), "utf-8")
    catalog = Catalog.from_file(tmp_path / "catalog.json")
    tables = CatalogVocabulary(catalog, synonyms={"tea bowl": "gaiwan"}).tables()
    catalog.prebuilt["vocabulary"] = tables
    again = CatalogVocabulary(catalog, synonyms={"tea bowl": "gaiwan"})
    assert "tea bowl" in again.types  # read from the build's tables
    catalog.prebuilt["vocabulary"] = tables
    assert "tea bowl" not in CatalogVocabulary(catalog).types  # learnt again: no synonyms asked for
