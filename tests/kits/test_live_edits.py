"""A shop edits its kit while the engine runs: the new FAQ answer or catalog row is served within
seconds, only what changed is embedded again, and a broken edit keeps the last good version
serving while every problem is logged with its file, row and field.

The first half drives :class:`knowledge.kit.live.LiveKit` directly on a starter kit (no models:
seconds); the second half runs a real engine on a kit (``store.kind: kit``, ``store.watch`` on by
default) and edits its files as a shop would, with a text editor or a spreadsheet export.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedders import HashEmbedder
from knowledge.faq.index import HybridFAQRetriever
from knowledge.kit.live import LiveKit
from knowledge.kit.reader import read_kit
from knowledge.kit.starter import init_kit

LOGGER = "shopassist.kit.live"


# -- editing a kit as a shop does -----------------------------------------------------------------
def _faq_rows(kit: Path) -> list[dict]:
    return [json.loads(line) for line in (kit / "faqs.jsonl").read_text("utf-8").splitlines() if line.strip()]


def _write_faqs(kit: Path, rows: list[dict]) -> None:
    _save(kit / "faqs.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _edit_faq(kit: Path, lang: str, **fields) -> dict:
    """Change fields of the first FAQ in ``lang``; returns the row as it was."""
    rows = _faq_rows(kit)
    row = next(r for r in rows if r["language"] == lang)
    before = dict(row)
    row.update(fields)
    _write_faqs(kit, rows)
    return before


def _catalog(kit: Path) -> tuple[list[str], list[dict]]:
    with open(kit / "catalog.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write_catalog(kit: Path, header: list[str], rows: list[dict]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    _save(kit / "catalog.csv", out.getvalue())


def _save(path: Path, text: str) -> None:
    """Write, and move the modification time on (file systems with coarse clocks see the edit)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    if path.stat().st_mtime_ns <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def _until(check, seconds: float = 10.0, step: float = 0.1):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


# -- LiveKit on its own (no models) ---------------------------------------------------------------
class CountingEmbedder(HashEmbedder):
    """The hash embedder, counting the texts it embeds."""

    def __init__(self) -> None:
        super().__init__(dim=64)
        self.texts: list[str] = []

    def embed(self, texts, *, kind: str = "query") -> np.ndarray:
        self.texts.extend(texts)
        return super().embed(texts, kind=kind)


@pytest.fixture
def kit(tmp_path) -> Path:
    return init_kit(tmp_path / "kit")


def _retriever_live(kit: Path, cache: Path, embedder) -> LiveKit:
    def build(k, changed):
        return {"faqs": HybridFAQRetriever(k.faqs, embedder, cache_dir=cache)}

    first = build(read_kit(kit), frozenset())
    first["faqs"].warm_up()
    return LiveKit(kit, build, first, interval_s=0.05)


def _poll_until_new(live: LiveKit) -> bool:
    return _until(live.poll, seconds=5, step=0.01)


def test_an_edited_faq_is_served_and_only_its_row_is_embedded_again(kit, tmp_path):
    embedder = CountingEmbedder()
    live = _retriever_live(kit, tmp_path / "idx", embedder)
    faqs = live.part("faqs")
    embedder.texts.clear()
    answer = "Free shipping on orders over 75 dollars; otherwise 6 dollars."
    before = _edit_faq(kit, "en", answer=answer)

    assert _poll_until_new(live)
    assert live.version == 1 and live.problems == []
    # one FAQ changed: the keys of its question and alternates (each with and without the answer), no other
    keys = [before["question"], *(before.get("alternates") or ())]
    assert sorted(embedder.texts) == sorted([f"{k} {answer}" for k in keys] + keys)
    top = faqs.retrieve(before["question"], top_k=1, language="en")[0]
    assert "75 dollars" in top.answer


def test_a_broken_edit_keeps_the_last_good_version_and_logs_file_row_and_field(kit, tmp_path, caplog):
    live = _retriever_live(kit, tmp_path / "idx", HashEmbedder(dim=64))
    faqs = live.part("faqs")
    old = faqs.current
    rows = _faq_rows(kit)
    rows[2]["answer"] = ""                     # line 3: an FAQ without its answer
    rows[4]["language"] = "fr"                 # line 5: a language the store does not list
    _write_faqs(kit, rows)
    header, products = _catalog(kit)
    products[1]["price"] = "twelve"            # spreadsheet row 3
    _write_catalog(kit, header, products)

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(5):
            assert not live.poll()
    assert faqs.current is old and live.version == 0
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == LOGGER)
    assert "still serving version 0" in logged
    assert re.search(r"faqs\.jsonl:3: answer: ", logged), logged
    assert re.search(r"faqs\.jsonl:5: language: ", logged), logged
    assert re.search(r"catalog\.csv:3: price: .*twelve", logged), logged
    assert {(p.file, p.row, p.field) for p in live.problems} >= {
        ("faqs.jsonl", 3, "answer"), ("faqs.jsonl", 5, "language"), ("catalog.csv", 3, "price")}

    # the same broken files are not read again; the fixed ones are served
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert not live.poll()
    assert not [r for r in caplog.records if r.name == LOGGER]
    products[1]["price"] = "12.00"
    _write_catalog(kit, header, products)
    rows[2]["answer"], rows[4]["language"] = "Back in stock soon.", "en"
    _write_faqs(kit, rows)
    assert _poll_until_new(live)
    assert faqs.current is not old and live.version == 1 and live.problems == []


def test_a_half_written_file_is_not_read_until_it_holds_still(kit, tmp_path):
    reads = []

    def reader(root):
        reads.append(time.monotonic())
        return read_kit(root)

    live = LiveKit(kit, lambda k, changed: {"faqs": k.faqs}, {"faqs": []}, interval_s=0.05, reader=reader)
    _edit_faq(kit, "en", answer="First half")
    assert not live.poll()          # just changed: wait one look
    _edit_faq(kit, "en", answer="First half, then the rest.")
    assert not live.poll()          # changed again
    assert reads == []
    assert live.poll()              # held still: read once
    assert len(reads) == 1
    assert any(f.answer == "First half, then the rest." for f in live.parts["faqs"])


def test_a_build_that_fails_keeps_the_old_parts(kit, caplog):
    def build(k, changed):
        raise RuntimeError("out of memory")

    live = LiveKit(kit, build, {"faqs": "v0"}, interval_s=0.05)
    _edit_faq(kit, "en", answer="Something new.")
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        _until(lambda: live.poll() or bool(caplog.records), seconds=3, step=0.01)
    assert live.parts["faqs"] == "v0" and live.version == 0
    assert any("still serving version 0" in r.getMessage() for r in caplog.records)


def test_the_watcher_thread_swaps_by_itself_and_stops(kit):
    live = LiveKit(kit, lambda k, changed: {"changed": changed}, {"changed": None}, interval_s=0.05).start()
    try:
        assert live.watching
        _edit_faq(kit, "zh", answer="新的回答。")
        assert _until(lambda: live.version == 1, seconds=5)
        assert live.parts["changed"] == frozenset({"faqs.jsonl"})
    finally:
        live.stop()
    assert not live.watching


def test_bad_arguments_are_refused_clearly(kit):
    with pytest.raises(ValueError, match="interval_s"):
        LiveKit(kit, lambda k, c: {}, {}, interval_s=0)
    with pytest.raises(ValueError, match="build"):
        LiveKit(kit, None, {})
    with pytest.raises(KeyError, match="no live part 'nope'"):
        LiveKit(kit, lambda k, c: {}, {"faqs": 1}).part("nope")


# -- a running engine -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def live_engine(tmp_path_factory, data_dir):
    from engine import Engine

    root = init_kit(tmp_path_factory.mktemp("live-kit") / "kit")
    eng = Engine.from_config(data_dir=data_dir, store={"kind": "kit", "root": root, "watch_interval_s": 0.2})
    eng.warm_up()
    return eng, root


def _price_of(text: str) -> str:
    m = re.search(r"\d+(?:\.\d+)?", text)
    return m.group(0) if m else ""


@pytest.mark.integration
def test_engine_answers_an_edited_faq_within_seconds(live_engine):
    eng, root = live_engine
    row = next(r for r in _faq_rows(root) if r["language"] == "en" and r["id"] == "shipping-cost")
    first = eng.respond("live-faq-1", row["question"])
    assert first.route == "retrieval" and row["answer"] in first.text, first.text

    new = "Shipping is free on orders over $85; below that, standard shipping is $7.50."
    rows = _faq_rows(root)
    next(r for r in rows if r["language"] == "en" and r["id"] == "shipping-cost")["answer"] = new
    _write_faqs(root, rows)
    started = time.monotonic()
    reply = _until(lambda: (r := eng.respond(f"live-faq-{time.monotonic()}", row["question"])) and new in r.text and r,
                   seconds=10, step=0.2)
    assert reply, "the edited answer was not served within 10 s"
    assert time.monotonic() - started < 10


@pytest.mark.integration
def test_engine_answers_an_edited_catalog_row_within_seconds(live_engine):
    eng, root = live_engine
    header, products = _catalog(root)
    product = products[0]
    question = f"how much is the {product['name']}?"
    assert product["price"].rstrip("0").rstrip(".") in eng.respond("live-cat-1", question).text

    product["price"] = "123.45"
    _write_catalog(root, header, products)
    reply = _until(lambda: (r := eng.respond(f"live-cat-{time.monotonic()}", question)) and "123.45" in r.text and r,
                   seconds=10, step=0.2)
    assert reply, "the edited price was not served within 10 s"


@pytest.mark.integration
def test_engine_keeps_the_old_answer_when_an_edit_is_broken(live_engine, caplog):
    eng, root = live_engine
    rows = _faq_rows(root)
    row = next(r for r in rows if r["language"] == "en" and r["id"] == "refund-timing")
    served = eng.respond("live-bad-1", row["question"]).text
    assert row["answer"] in served

    row["answer"] = ""
    _write_faqs(root, rows)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        assert _until(lambda: any("faqs.jsonl" in r.getMessage() and ": answer: " in r.getMessage()
                                  for r in caplog.records), seconds=10)
    assert eng.respond("live-bad-2", row["question"]).text == served
    rows[[r["id"] for r in rows].index("refund-timing")]["answer"] = served  # put it back
    _write_faqs(root, rows)


# -- store.watch ------------------------------------------------------------------------------------
def _store_parts(kit: Path, tmp_path: Path, *, profile: bool = True):
    from engine.store import StoreParts

    k = read_kit(kit)
    return StoreParts(name=k.profile.name, catalog=k.catalog, faqs=list(k.faqs), index_dir=tmp_path / "idx",
                      db_url="sqlite://", currency_symbol="$", return_window_days=30,
                      profile=k.profile if profile else None, root=kit)


def _knowledge(calls: list):
    def knowledge(catalog, faqs):
        calls.append((catalog is not None, faqs is not None))
        parts = {}
        if faqs is not None:
            parts["faqs"] = faqs
        if catalog is not None:
            parts["catalog"] = catalog
        return parts

    return knowledge


def test_store_watch_follows_a_kits_edits_and_rebuilds_only_what_changed(kit, tmp_path):
    from engine.settings import load_settings
    from engine.store import watch_store
    from knowledge.kit.live import LivePart

    calls: list = []
    settings = load_settings(data_dir=tmp_path / "data", store={"kind": "kit", "root": kit, "watch_interval_s": 0.05})
    parts = watch_store(settings, _store_parts(kit, tmp_path), _knowledge(calls))
    assert isinstance(parts["faqs"], LivePart) and isinstance(parts["catalog"], LivePart)
    catalog_before = parts["catalog"].current
    _edit_faq(kit, "en", answer="A new answer, saved while serving.")
    assert _until(lambda: any(f.answer == "A new answer, saved while serving." for f in parts["faqs"]), seconds=5)
    assert calls == [(True, True), (False, True)]          # the FAQ edit rebuilt the FAQ parts only
    assert parts["catalog"].current is catalog_before


@pytest.mark.parametrize("watch, profile", [(False, True), (None, False)])
def test_store_watch_off_or_the_demo_serves_what_it_started_with(kit, tmp_path, watch, profile):
    from engine.settings import load_settings
    from engine.store import watch_store
    from knowledge.kit.live import LivePart

    store = {"kind": "kit", "root": kit, "watch_interval_s": 0.05}
    if watch is not None:
        store["watch"] = watch
    parts = watch_store(load_settings(data_dir=tmp_path / "data", store=store),
                        _store_parts(kit, tmp_path, profile=profile), _knowledge([]))
    assert not isinstance(parts["faqs"], LivePart)
    first = parts["faqs"]
    _edit_faq(kit, "en", answer="Not picked up.")
    time.sleep(0.3)
    assert parts["faqs"] is first


def test_a_faq_only_edit_rereads_the_faqs_alone_and_still_checks_them(kit):
    from knowledge.kit.problems import KitInvalid
    from knowledge.kit.reader import reread

    first = read_kit(kit)
    _edit_faq(kit, "zh", answer="新的答案。")
    again = reread(first, {"faqs.jsonl"})
    assert again.catalog is first.catalog and again.profile is first.profile   # not read again
    assert any(f.answer == "新的答案。" for f in again.faqs) and len(again.faqs) == len(first.faqs)
    # another file changed too: the whole kit is read again
    assert reread(first, {"faqs.jsonl", "catalog.csv"}).catalog is not first.catalog
    _edit_faq(kit, "en", answer="   ")
    with pytest.raises(KitInvalid) as err:
        reread(again, {"faqs.jsonl"})
    assert [(p.file, p.row, p.field) for p in err.value.problems if p.is_error] == [("faqs.jsonl", 1, "answer")]


def test_live_kit_with_its_kit_serves_a_faq_edit_and_refuses_a_broken_one(kit):
    live = LiveKit(kit, lambda k, changed: {"faqs": k.faqs}, {"faqs": []}, interval_s=0.05, kit=read_kit(kit))
    _edit_faq(kit, "en", answer="Served from a partial re-read.")
    assert _poll_until_new(live)
    assert any(f.answer == "Served from a partial re-read." for f in live.parts["faqs"])
    rows = _faq_rows(kit)
    rows[1]["question"] = ""
    _write_faqs(kit, rows)
    for _ in range(4):
        assert not live.poll()
    assert [(p.file, p.row, p.field) for p in live.problems if p.is_error] == [("faqs.jsonl", 2, "question")]
