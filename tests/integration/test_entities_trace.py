"""End-to-end: the engine's entity slots reach the trace; emails and phone numbers stay out of it."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_slots_of_a_turn_are_in_the_trace(engine):
    reply = engine.respond("entities-1", "do you have two pairs of Trailrunner 5 in US 10, black?", customer_id="C001")
    ents = reply.trace["entities"]
    assert ents["quantities"] == [2] and ents["sizes"] == ["US 10"] and ents["colors"] == ["black"]
    assert ents["brands"] == ["Trailrunner"] and len(ents["products"]) == 1


def test_emails_and_phones_stay_out_of_the_trace(engine):
    reply = engine.respond("entities-2", "my new number is 13812345678, email alice@example.com", customer_id="C001")
    assert "phones" not in reply.trace["entities"] and "emails" not in reply.trace["entities"]
    assert "13812345678" not in str(reply.trace) and "alice@example.com" not in str(reply.trace)
