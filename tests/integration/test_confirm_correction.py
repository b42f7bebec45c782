"""At a write's confirmation, a correction that points at another order the customer was offered
("no wait, the cheaper one") is neither a yes nor a no to the order asked about: the flow moves to
that order and asks again; only the next clear yes writes, and only to the order then named.
(A store of its own: the shared story store has its orders changed by other stories.)"""

from __future__ import annotations

import sqlite3

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def engine_and_db(tmp_path_factory, data_dir):
    from engine import Engine

    root = tmp_path_factory.mktemp("confirm-store")
    eng = Engine.from_config(data_dir=data_dir, store={"root": root}, tracker={"kind": "memory"})
    return eng, root / "store.db"


def _status(db, order_id: str) -> str:
    with sqlite3.connect(db) as c:
        return c.execute("select status from orders where order_id = ?", (order_id,)).fetchone()[0]


def test_no_wait_the_cheaper_one_moves_the_confirmation_to_that_order(engine_and_db):
    eng, db = engine_and_db
    say = lambda text: eng.respond("confirm-correction", text, customer_id="C039").text  # noqa: E731
    listed = say("i need to cancel an order")
    assert "100329" in listed and "100322" in listed
    assert "100322" in say("the expensive one")
    moved = say("no wait, the cheaper one")
    assert "100329" in moved and "?" in moved and "cancelled" not in moved.replace("haven't cancelled", "")
    assert _status(db, "100322") == "processing" and _status(db, "100329") == "processing"
    assert "100329" in say("yes that one, cancel")
    assert _status(db, "100329") == "cancelled"
    assert _status(db, "100322") == "processing"
