"""The engine on a store kit (store.kind: kit): the starter kit end to end, policies from its
store.yaml, order ids in its own form, hand-offs with its hours, and a kit with errors refusing to
start. The engines are real (packaged models, SQLite order database built from the kit's trial data)."""

from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from engine import Engine
from engine.cli import main
from engine.store import SupportHours
from engine.responses.templates import Templates
from knowledge.kit import KitInvalid, read_kit
from knowledge.kit.starter import init_kit

pytestmark = pytest.mark.slow


def _starter(root: Path, *, window: int | None = None) -> Path:
    """The starter kit, with order HL10002 delivered 20 days ago (inside 30 days, outside 14)."""
    init_kit(root)
    lines = [json.loads(x) for x in (root / "orders.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    for order in lines:
        if order["id"] == "HL10002":
            order["placed"], order["shipments"][0]["shipped"], order["shipments"][0]["delivered"] = "-26d", "-24d", "-20d"
    (root / "orders.jsonl").write_text("".join(json.dumps(o) + "\n" for o in lines), encoding="utf-8")
    if window is not None:
        text = (root / "store.yaml").read_text(encoding="utf-8")
        (root / "store.yaml").write_text(re.sub(r"return_window_days: \d+", f"return_window_days: {window}", text),
                                         encoding="utf-8")
    return root


def _add_product(root: Path, **cells: str) -> None:
    """Append a catalog.csv row with these cells (others empty)."""
    with open(root / "catalog.csv", newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    with open(root / "catalog.csv", "a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerow([cells.get(h, "") for h in header])


def _engine(root: Path, data_dir: Path) -> Engine:
    eng = Engine.from_config(data_dir=data_dir, store={"kind": "kit", "root": root}, tracker={"kind": "memory"})
    eng.warm_up()
    return eng


@pytest.fixture(scope="module")
def kit_engine(tmp_path_factory, data_dir):
    root = _starter(tmp_path_factory.mktemp("kit") / "harbor")
    return _engine(root, data_dir)


def _say(engine: Engine, text: str, customer: str | None = None, session: str | None = None):
    return engine.respond(session or f"kit-{abs(hash((text, customer)))}", text, customer_id=customer)


def test_greets_with_the_kits_name(kit_engine):
    reply = _say(kit_engine, "hello")
    assert "Harbor Lane Home" in reply.text and "Brightcart" not in reply.text


def test_product_question_from_the_kits_catalog_in_its_currency(kit_engine):
    reply = _say(kit_engine, "how much is the Harbor Electric Kettle?")
    assert "$39" in reply.text, reply.text


def test_faq_question_from_the_kits_faqs(kit_engine):
    reply = _say(kit_engine, "what is your return policy?")
    assert reply.route == "retrieval" and "30 days" in reply.text, reply.text
    assert reply.sources and reply.sources[0].kind == "faq"


def test_faq_in_chinese(kit_engine):
    reply = _say(kit_engine, "退货政策是什么？")
    assert "30天" in reply.text, reply.text


def test_order_in_the_kits_own_id_form(kit_engine):
    reply = _say(kit_engine, "where is my order HL10001?", "C100")
    assert reply.route == "flow" and "HL10001" in reply.text and "1Z999AA10123456784" in reply.text, reply.text
    lower = _say(kit_engine, "where is my order hl10001?", "C100")
    assert "1Z999AA10123456784" in lower.text, lower.text


def test_six_digits_are_not_this_shops_order_ids(kit_engine):
    reply = _say(kit_engine, "where is my order 100023?", "C100")
    assert "HL1000" in reply.text and "six digits" not in reply.text, reply.text


def test_refund_time_comes_from_the_kits_policies(kit_engine):
    reply = _say(kit_engine, "what's the status of the refund for order HL10004?", "C101")
    assert "HL10004" in reply.text and "3–5 business days" in reply.text, reply.text


def test_others_orders_stay_hidden(kit_engine):
    reply = _say(kit_engine, "where is my order HL10003?", "C100")
    assert "Linen" not in reply.text and "HL10003" in reply.text, reply.text


def test_handoff_gives_the_kits_hours(kit_engine):
    reply = _say(kit_engine, "I want to talk to a human agent")
    assert reply.route == "handoff" and "Mon-Fri 09:00-17:00 ET" in reply.text, reply.text
    zh = _say(kit_engine, "我要转人工客服")
    assert zh.route == "handoff" and "周一至周五 09:00-17:00" in zh.text, zh.text


def test_support_hours_say_open_or_closed(tmp_path):
    profile = read_kit(init_kit(tmp_path / "k")).profile
    t = Templates()
    monday_noon = datetime(2025, 3, 3, 17, 0, tzinfo=timezone.utc)  # 12:00 in New York
    sunday = datetime(2025, 3, 2, 17, 0, tzinfo=timezone.utc)
    assert "available now" in SupportHours(profile, t, clock=lambda: monday_noon).note("en")
    assert "offline" in SupportHours(profile, t, clock=lambda: sunday).note("en")
    assert "不在线" in SupportHours(profile, t, clock=lambda: sunday).note("zh")


def test_return_window_comes_from_store_yaml(kit_engine, tmp_path, data_dir):
    within = _say(kit_engine, "I want to return order HL10002", "C100")
    assert within.route == "flow" and "10 days left" in within.text, within.text
    short = _engine(_starter(tmp_path / "short", window=14), data_dir)
    outside = _say(short, "I want to return order HL10002", "C100")
    assert "10 days left" not in outside.text and "14" in outside.text, outside.text


def test_a_kit_with_errors_refuses_to_start_and_lists_every_problem(tmp_path, data_dir):
    root = init_kit(tmp_path / "broken")
    _add_product(root, id="HL200", name="Bad Kettle", brand="Harbor", category="Kitchen", price="abc", stock="3",
                 description="a kettle")
    (root / "faqs.jsonl").write_text((root / "faqs.jsonl").read_text(encoding="utf-8")
                                     + '{"id": "x", "language": "fr", "question": "q?", "answer": "a"}\n',
                                     encoding="utf-8")
    with pytest.raises(KitInvalid) as err:
        Engine.from_config(data_dir=tmp_path / "data", store={"kind": "kit", "root": root}, tracker={"kind": "memory"})
    text = str(err.value)
    assert "catalog.csv" in text and "faqs.jsonl" in text and len(err.value.problems) >= 2
    assert not (tmp_path / "data" / "kits").exists()  # nothing half-built


def test_engine_start_on_a_broken_kit_is_a_message_not_a_traceback(tmp_path, monkeypatch, capsys):
    root = init_kit(tmp_path / "broken")
    (root / "store.yaml").write_text("name: X\ncurrency: usd\nlanguages: [en]\ntimezone: Nowhere/City\n"
                                     "policies: {return_window_days: 14}\n", encoding="utf-8")
    monkeypatch.setenv("SHOPASSIST_STORE__KIND", "kit")
    monkeypatch.setenv("SHOPASSIST_STORE__ROOT", str(root))
    monkeypatch.setenv("SHOPASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr("sys.stdin", open("/dev/null"))
    assert main(["chat"]) == 1
    err = capsys.readouterr().err
    assert "store.yaml" in err and "currency" in err and "Traceback" not in err


def test_store_check_exit_codes(tmp_path, capsys):
    good = init_kit(tmp_path / "good")
    assert main(["store", "check", str(good)]) == 0
    warned = init_kit(tmp_path / "warned")
    with open(warned / "customers.csv", "a", encoding="utf-8") as f:
        f.write("C199,Jean Dupont,jean@example.com,fr\n")
    capsys.readouterr()
    assert main(["store", "check", str(warned)]) == 0
    assert "customers.csv:4: language:" in capsys.readouterr().out
    bad = init_kit(tmp_path / "bad")
    _add_product(bad, id="HL100", name="Again", brand="Harbor", category="Kitchen", price="12", stock="3",
                 description="a duplicate")
    assert main(["store", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^catalog\.csv:\d+: \w+: ", out, re.M), out


def test_store_init_refuses_to_overwrite(tmp_path):
    assert main(["store", "init", str(tmp_path / "k")]) == 0
    assert main(["store", "init", str(tmp_path / "k")]) == 1
