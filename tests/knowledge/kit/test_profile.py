"""StoreProfile: every key of store.yaml read and checked, and its helpers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from knowledge.kit import KitInvalid, StoreProfile, load_profile

BASE = {"name": "Lotus & Pine", "currency": "CNY", "languages": ["zh", "en"], "timezone": "Asia/Shanghai",
        "policies": {"return_window_days": 14}}


def profile(**changes):
    return StoreProfile.from_dict({**BASE, **changes})


def fields(exc: KitInvalid) -> set[str]:
    return {p.field for p in exc.problems if p.level == "error"}


def test_every_key_is_read(kit_dir):
    p = load_profile(kit_dir / "store.yaml")
    assert p.name == "Harbor Lane Home" and p.currency == "USD" and p.languages == ("en", "zh")
    assert p.timezone == "America/New_York" and p.default_language == "en"
    assert p.support.hours["zh"].startswith("周一") and p.support.opening["sat"] is None
    assert p.support.email == "help@harborlane.example" and p.support.phone == "+1 555 0142"
    assert p.policies.return_window_days == 30 and p.policies.free_shipping_over == 50.0
    assert p.policies.refund_business_days == (3, 5) and p.policies.non_returnable_categories == ("Gift Cards",)
    assert p.policies.cancel_after_shipping is False
    assert p.attribute_labels["capacity"] == {"en": "capacity", "zh": "容量"}
    assert p.order_id_pattern == "HL[0-9]{5}" and p.order_id_regex().fullmatch("HL10001")


def test_defaults():
    p = profile()
    assert p.order_id_pattern == "[0-9]{6}" and p.policies.free_shipping_over is None
    assert p.policies.refund_business_days is None and p.support.hours == {}
    assert p.reply_language("en") == "en" and p.reply_language("fr") == "zh"


@pytest.mark.parametrize("currency, symbol", [("USD", "$"), ("CNY", "¥"), ("EUR", "€"), ("GBP", "£"),
                                              ("JPY", "¥"), ("CHF", "CHF ")])
def test_currency_symbol(currency, symbol):
    assert profile(currency=currency).currency_symbol == symbol


def test_every_error_is_listed_with_its_key():
    with pytest.raises(KitInvalid) as err:
        StoreProfile.from_dict({
            "name": "", "currency": "usd", "languages": ["en", "english", False], "timezone": "Mars/Olympus",
            "support": {"opening": {"mon": "9-5", "funday": "09:00-10:00"}, "email": "nobody"},
            "policies": {"return_window_days": -3, "free_shipping_over": "lots", "refund_business_days": [5, 3],
                         "cancel_after_shipping": "maybe"},
            "order_id_pattern": "[0-9]*",
        })
    assert fields(err.value) >= {
        "name", "currency", "languages[1]", "languages[2]", "timezone", "support.opening.mon",
        "support.opening.funday", "support.email", "policies.return_window_days", "policies.free_shipping_over",
        "policies.refund_business_days", "policies.cancel_after_shipping", "order_id_pattern"}
    assert "quote it" in str(err.value)  # `no` read as false by YAML gets a hint


@pytest.mark.parametrize("pattern", ["[0-9", "(a|)", ""])
def test_order_id_pattern_must_compile_and_not_match_empty(pattern):
    with pytest.raises(KitInvalid, match="order_id_pattern"):
        profile(order_id_pattern=pattern)


def test_policies_and_return_window_are_required():
    with pytest.raises(KitInvalid, match="policies"):
        StoreProfile.from_dict({k: v for k, v in BASE.items() if k != "policies"})
    with pytest.raises(KitInvalid, match="return_window_days"):
        profile(policies={"free_shipping_over": 10})


def test_is_open_in_the_shops_time_zone():
    weekdays = {d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}
    p = profile(support={"opening": {**weekdays, "sat": None, "sun": None}})
    # Monday 2025-03-03 10:00 in Shanghai = 02:00 UTC
    assert p.is_open(datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc))
    assert not p.is_open(datetime(2025, 3, 3, 11, 0, tzinfo=timezone.utc))  # 19:00 local
    assert not p.is_open(datetime(2025, 3, 8, 2, 0, tzinfo=timezone.utc))  # Saturday
    assert p.is_open(datetime(2025, 3, 3, 2, 0))  # naive = UTC


def test_overnight_and_split_hours_and_no_schedule():
    p = profile(support={"opening": {"fri": "22:00-02:00", "mon": "09:00-12:00,13:00-17:00"}})
    assert p.is_open(datetime(2025, 3, 7, 15, 0, tzinfo=timezone.utc))  # Fri 23:00 local
    assert p.is_open(datetime(2025, 3, 7, 17, 30, tzinfo=timezone.utc))  # Sat 01:30 local
    assert not p.is_open(datetime(2025, 3, 3, 4, 30, tzinfo=timezone.utc))  # Mon 12:30 lunch
    assert profile().is_open(datetime(2025, 3, 8, 2, 0, tzinfo=timezone.utc))  # no hours stated


def test_hours_text_falls_back_to_the_first_language():
    p = profile(support={"hours": {"zh": "周一至周五", "en": "Mon-Fri"}})
    assert p.hours_text("en") == "Mon-Fri" and p.hours_text("fr") == "周一至周五" and profile().hours_text() == ""


def test_unknown_keys_warn_but_load(tmp_path):
    (tmp_path / "store.yaml").write_text(
        "name: X\ncurrency: USD\nlanguages: [en]\ntimezone: UTC\npolicies: {return_window_days: 7}\ncolour: red\n")
    assert load_profile(tmp_path / "store.yaml").name == "X"


def test_sealed_only_categories_are_read_and_checked():
    p = profile(policies={"return_window_days": 14, "sealed_only_categories": ["绿茶", "红茶"]})
    assert p.policies.sealed_only_categories == ("绿茶", "红茶")
    with pytest.raises(KitInvalid) as exc:
        profile(policies={"return_window_days": 14, "sealed_only_categories": "绿茶"})
    assert "policies.sealed_only_categories" in fields(exc.value)
