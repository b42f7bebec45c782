"""Bad input is refused early, with a clear message, in bounded memory (measured with tracemalloc)."""

from __future__ import annotations

import tracemalloc

import pytest

from knowledge.kit import KitInvalid, KitLimits, check_kit, read_kit

MiB = 1 << 20


def _peak(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_binary_file_is_rejected(kit_dir):
    (kit_dir / "catalog.csv").write_bytes(b"id,name\n" + bytes(range(256)) * 4096)
    problems, peak = _peak(lambda: check_kit(kit_dir))
    msg = [str(p) for p in problems if p.file == "catalog.csv"]
    assert msg == ["catalog.csv:2: binary data (a NUL byte at offset 8); kit files are UTF-8 text"]
    assert peak < 8 * MiB
    with pytest.raises(KitInvalid, match="binary data"):
        read_kit(kit_dir)


def test_invalid_utf8_names_the_line(kit_dir):
    text = (kit_dir / "faqs.jsonl").read_bytes().splitlines(keepends=True)
    (kit_dir / "faqs.jsonl").write_bytes(b"".join(text[:3]) + "退货".encode("gb18030") + b"\n" + b"".join(text[3:]))
    [p] = [p for p in check_kit(kit_dir) if p.file == "faqs.jsonl"]
    assert p.row == 4 and "not UTF-8" in p.message


def test_a_million_rows_are_refused_in_bounded_memory(kit_dir):
    with (kit_dir / "catalog.csv").open("wb") as fh:
        fh.write(b"id,name,brand,category,price,stock,description\n")
        fh.write(b"X,Thing,Brand,Cat,1,1,A plain row\n" * 1_000_000)
    problems, peak = _peak(lambda: check_kit(kit_dir, limits=KitLimits(max_products=200_000)))
    [p] = [p for p in problems if p.file == "catalog.csv"]
    assert "holds 1,000,000 products, more than this reader accepts (200,000)" in p.message
    assert peak < 16 * MiB, f"{peak / MiB:.1f} MiB"


def test_rows_spanning_lines_are_counted_as_records(kit_dir):
    with (kit_dir / "catalog.csv").open("a", encoding="utf-8") as fh:
        fh.write('Q1,"two\nlines",,b,c,,1,1,,d,,,,,,,,,,,\n' * 6)
    # 10 + 6 products on 22 lines: the line count alone would refuse a limit of 16
    assert check_kit(kit_dir, limits=KitLimits(max_products=16)) == [
        p for p in check_kit(kit_dir) if p.file != "catalog.csv" or "holds" not in p.message]
    problems = check_kit(kit_dir, limits=KitLimits(max_products=15))
    assert any("holds 16 products" in p.message for p in problems)


def test_huge_file_and_endless_line_are_refused_before_parsing(kit_dir):
    (kit_dir / "faqs.jsonl").write_bytes(b'{"id": "' + b"a" * (3 * MiB))
    problems, peak = _peak(lambda: check_kit(kit_dir))
    [p] = [p for p in problems if p.file == "faqs.jsonl"]
    assert "a line longer than 1.0 MiB" in p.message and peak < 8 * MiB
    problems = check_kit(kit_dir, limits=KitLimits(max_file_bytes=MiB))
    assert any("too large: 3.0 MiB" in p.message for p in problems if p.file == "faqs.jsonl")


def test_too_many_faqs(kit_dir):
    problems = check_kit(kit_dir, limits=KitLimits(max_faqs=10))
    assert [p.message for p in problems] == ["holds 24 FAQs, more than this reader accepts (10); "
                                            "split the shop or raise the limit"]


def test_problems_are_capped_per_file(kit_dir):
    with (kit_dir / "catalog.csv").open("a", encoding="utf-8") as fh:
        for i in range(3000):
            fh.write(f"B{i},n,,b,c,,free,1,,d,,,,,,,,,,,\n")
    problems = [p for p in check_kit(kit_dir) if p.file == "catalog.csv"]
    assert len(problems) == 1001 and problems[-1].message.startswith("2000 more problems not listed")


def test_deep_or_aliased_yaml_does_not_blow_up(kit_dir):
    (kit_dir / "intents.yaml").write_text("[" * 5_000 + "]" * 5_000)
    assert any(p.file == "intents.yaml" for p in check_kit(kit_dir))
