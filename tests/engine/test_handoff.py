"""engine/handoff.py: when a person will answer, and the tickets a customer leaves off duty."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.cli import main
from engine.handoff import HandoffTickets, next_opening, valid_contact
from knowledge.kit.profile import StoreProfile

PROFILE = StoreProfile.from_dict({
    "name": "Tea Shop", "currency": "CNY", "languages": ["zh", "en"], "timezone": "Asia/Shanghai",
    "support": {"hours": {"en": "Mon-Sat 09:00-21:00"},
                "opening": {"mon": "09:00-21:00", "tue": "09:00-21:00", "wed": "09:00-21:00", "thu": "09:00-21:00",
                            "fri": "09:00-21:00", "sat": "09:00-21:00", "sun": None}},
    "policies": {"return_window_days": 14},
})


def test_open_now_means_no_wait():
    monday_noon = datetime(2026, 12, 7, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai
    assert next_opening(PROFILE, monday_noon) is None


def test_sunday_message_is_answered_monday_morning_local_time():
    sunday = datetime(2026, 12, 6, 4, 0, tzinfo=timezone.utc)  # Sunday 12:00 in Shanghai
    at = next_opening(PROFILE, sunday)
    assert (at.weekday(), at.hour, at.minute) == (0, 9, 0) and at.utcoffset().total_seconds() == 8 * 3600


def test_late_evening_waits_for_the_next_morning():
    tuesday_late = datetime(2026, 12, 8, 14, 30, tzinfo=timezone.utc)  # Tuesday 22:30 in Shanghai
    at = next_opening(PROFILE, tuesday_late)
    assert (at.day, at.hour) == (9, 9)


def test_a_store_without_hours_is_never_closed():
    profile = StoreProfile.from_dict({"name": "X", "currency": "USD", "languages": ["en"], "timezone": "UTC",
                                      "policies": {"return_window_days": 30}})
    assert next_opening(profile) is None


def test_tickets_are_stored_listed_and_closed(tmp_path):
    tickets = HandoffTickets(tmp_path / "t.db")
    t = tickets.open("s1", kind="email", contact="amy@example.com", language="en", reason="refund late", customer_id="C001")
    again = tickets.open("s1", kind="email", contact="amy@example.com", language="en", reason="refund late")
    assert again.ticket_id == t.ticket_id  # asking twice leaves one ticket
    tickets.open("s2", kind="callback", contact="+86 138 0000 0000", language="zh", reason="破损")
    assert [x.session_id for x in tickets.list()] == ["s1", "s2"]
    assert tickets.close(t.ticket_id) and not tickets.close(t.ticket_id)
    assert [x.session_id for x in tickets.list()] == ["s2"] and len(tickets.list(None)) == 2


@pytest.mark.parametrize("kind,contact", [("email", "not an email"), ("callback", "call me"), ("fax", "123456")])
def test_a_bad_contact_is_refused_and_nothing_is_written(tmp_path, kind, contact):
    tickets = HandoffTickets(tmp_path / "t.db")
    with pytest.raises(ValueError):
        tickets.open("s1", kind=kind, contact=contact, language="en", reason="x")
    assert tickets.list(None) == []


def test_contact_checks():
    assert valid_contact("email", "a.b@shop.cn") and not valid_contact("email", "a@b")
    assert valid_contact("callback", "+1 555 0100") and not valid_contact("callback", "soon")


def test_cli_lists_tickets(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SHOPASSIST_DATA_DIR", str(tmp_path))
    assert main(["handoff", "list"]) == 0
    assert "no tickets" in capsys.readouterr().out
    HandoffTickets(tmp_path / "handoff_tickets.db").open("s9", kind="email", contact="z@example.com",
                                                         language="en", reason="help")
    assert main(["handoff", "list"]) == 0
    assert "z@example.com" in capsys.readouterr().out
    assert main(["handoff", "close", "T-NOPE"]) == 1


def test_contacts_are_sealed_at_rest(tmp_path):
    from engine.state.cipher import FieldCipher

    import sqlite3

    tickets = HandoffTickets(tmp_path / "t.db", cipher=FieldCipher.ephemeral())
    t = tickets.open("s1", kind="email", contact="amy@example.com", language="en", reason="refund for amy")
    assert tickets.open("s1", kind="email", contact="amy@example.com", language="en", reason="x").ticket_id == t.ticket_id
    raw = sqlite3.connect(tmp_path / "t.db").execute("SELECT contact, reason FROM tickets").fetchone()
    assert "amy" not in " ".join(raw)
    assert tickets.list()[0].contact == "amy@example.com"
