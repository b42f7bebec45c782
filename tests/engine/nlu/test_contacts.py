"""engine/nlu/contacts.py: emails and phone numbers, and agreement with PII masking."""

from __future__ import annotations

import re

import pytest

from engine.nlu.contacts import find_emails, find_phones
from engine.nlu.entity_eval import load_entity_eval
from engine.privacy import mask_pii


@pytest.mark.parametrize(
    "text, expected",
    [
        ("call +1 555-201-3344", ["+15552013344"]),
        ("(206) 555-0142", ["2065550142"]),
        ("206.555.0142.", ["2065550142"]),
        ("1 800 555 0199", ["18005550199"]),
        ("555-0142", ["5550142"]),
        ("+44 20 7946 0958", ["+442079460958"]),
        ("13812345678", ["13812345678"]),
        ("手机号13812345678，谢谢", ["13812345678"]),  # Chinese text touching the number
        ("+86 138 1234 5678", ["+8613812345678"]),
        ("138-1234-5678", ["13812345678"]),
        ("座机010-12345678", ["01012345678"]),
        ("0755 1234 5678", ["075512345678"]),
        ("home 212 555 0187, work 415-555-2671", ["2125550187", "4155552671"]),
    ],
)
def test_phone_numbers(text, expected):
    assert [m.value for m in find_phones(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 100023", "orders 100023 100024", "order 1234567", "card 4111 1111 1111 1111",
        "3782 822463 10005", "it costs $1,299.00", "I paid 1299.00", "ZIP 98101-1234", "in 2024",
        "delivered on 2025-03-01", "2026.11.03", "tracking 1Z999AA10123456784", "SF1234567890123",
        "邮编200120", "12345678",
    ],
)
def test_not_phone_numbers(text):
    assert find_phones(text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my email is Alice.Chen@Example.com.", ["alice.chen@example.com"]),
        ("bob_li+shop@mail.example.co.uk", ["bob_li+shop@mail.example.co.uk"]),
        ("邮箱alice@example.com谢谢", ["alice@example.com"]),
        ("me @ home", []),
    ],
)
def test_emails(text, expected):
    assert [m.value for m in find_emails(text)] == expected


def test_masking_masks_exactly_the_extracted_phones_and_emails():
    """Every labelled utterance: what the extractor reads as a phone or email is what the logs
    mask as one, and nothing else becomes ``[phone]``."""
    for item in load_entity_eval().items:
        masked = mask_pii(item.text)
        emails = find_emails(item.text)
        phones = find_phones(item.text)
        assert masked.count("[email]") == len(emails), item.text
        assert masked.count("[phone]") == len(phones), item.text
        for m in (*emails, *phones):
            assert m.text not in masked, item.text


def test_masking_leaves_no_phone_digits_behind():
    text = "call +86 138 1234 5678 or (206) 555-0142 about order 100023"
    assert mask_pii(text) == "call [phone] or [phone] about order 100023"
    assert not re.search(r"\d{4}", mask_pii(text).replace("100023", ""))
