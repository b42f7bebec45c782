"""knowledge/faq/store.py: both FAQ file formats and every way a file can be wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import KnowledgeError
from knowledge.faq.store import FAQEntry, load_faqs


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_questions_object_gets_positional_ids_and_detected_language(tmp_path):
    doc = {"questions": [
        {"question": "How do I return an item?", "answer": "Within 30 days."},
        {"question": " 退货需要多久？ ", "answer": " 签收后30天内。 "},
    ]}
    entries = load_faqs(write(tmp_path, "faq.json", json.dumps(doc, ensure_ascii=False)))
    assert entries == [
        FAQEntry("0", "How do I return an item?", "Within 30 days.", "en"),
        FAQEntry("1", "退货需要多久？", "签收后30天内。", "zh"),
    ]


def test_jsonl_keeps_ids_and_optional_fields_and_skips_blank_lines(tmp_path):
    text = (
        '{"id": "en-returns", "question": "Return window?", "answer": "30 days."}\n'
        "\n"
        '{"id": 7, "question": "退款多久？", "answer": "5-7天。", "lang": "zh", "kind": "policy", '
        '"tags": ["refund", "policy"]}\n'
    )
    entries = load_faqs(write(tmp_path, "faqs.jsonl", text))
    assert [e.id for e in entries] == ["en-returns", "7"]
    assert entries[1].lang == "zh" and entries[1].kind == "policy"
    assert entries[1].tags == ("refund", "policy")
    assert entries[0].kind == "faq" and entries[0].tags == ()


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("bad.json", '{"questions": [', "not valid JSON"),
        ("bad.jsonl", '{"id": "a", "question": "q", "answer": "a"}\nnot json\n', ":2"),
        ("noanswer.jsonl", '{"id": "a", "question": "q"}\n', "answer"),
        ("emptyq.json", '{"questions": [{"question": "  ", "answer": "a"}]}', "question"),
        ("noid.jsonl", '{"question": "q", "answer": "a"}\n', "'id'"),
        ("dup.jsonl", '{"id": "a", "question": "q", "answer": "x"}\n{"id": "a", "question": "r", "answer": "y"}\n',
         "duplicate"),
        ("dup-types.jsonl", '{"id": 1, "question": "q", "answer": "x"}\n{"id": "1", "question": "r", "answer": "y"}\n',
         "duplicate"),
        ("empty.jsonl", "", "no FAQ entries"),
        ("empty.json", '{"questions": []}', "no FAQ entries"),
        ("wrongkey.json", '{"faqs": []}', "questions"),
        ("notobj.jsonl", "[1, 2]\n", "expected an object"),
        ("notobj.json", '{"questions": ["just a string"]}', "expected an object"),
    ],
)
def test_malformed_files_raise_knowledge_error_naming_the_file(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    with pytest.raises(KnowledgeError) as err:
        load_faqs(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_missing_file_raises_knowledge_error(tmp_path):
    with pytest.raises(KnowledgeError, match="nope.json"):
        load_faqs(tmp_path / "nope.json")


def test_non_utf8_file_raises_knowledge_error(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"id": "a", "question": "caf\xe9?", "answer": "x"}\n'.encode("latin-1"))
    with pytest.raises(KnowledgeError):
        load_faqs(path)
