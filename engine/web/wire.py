"""What the web channel sends browsers: the public reply (DESIGN §3c) and WebSocket frames.

A reply for a browser carries ``text``, ``intent``, ``confidence``, ``route``, ``sources``,
``handoff`` and ``session_id``, and two fields for the widget, ``quick_replies`` (answers offered
when the bot asks for a confirmation) and ``language``; never the trace or the slots. A product
source carries its ``price`` and ``stock`` (units available) as the catalog states them.

Frames (JSON objects, ``type`` first) are documented field by field in ``docs/web.md``.

Example:
    >>> public_reply(reply, ProductCards(engine))["route"]                     # doctest: +SKIP
    'retrieval'
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["public_reply", "ProductCards", "QUICK_REPLIES", "error_body"]

log = logging.getLogger("shopassist.web")

#: answers offered when the bot waits for a yes or a no, per reply language
QUICK_REPLIES = {"en": ["yes", "no"], "zh": ["是的", "不用了"]}


def error_body(code: str, message: str) -> dict[str, Any]:
    """The one error shape of the web channel (nothing of the request in it)."""
    return {"error": {"code": code, "message": message}}


class ProductCards:
    """Price and stock of the products a reply cites, from the engine's catalog and inventory.

    Args:
        engine: the engine whose catalog (its product answers') and inventory connector are read.
    """

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        products = getattr(getattr(engine, "router", None), "_products", None)
        self._catalog = getattr(products, "_catalog", None)

    def card(self, product_id: str) -> dict[str, Any]:
        """``price`` (a number) and ``stock`` (units; None when unknown) of one product."""
        out: dict[str, Any] = {"price": None, "stock": None}
        product = self._catalog.get(product_id) if self._catalog is not None else None
        if product is not None:
            out["price"] = round(float(product.price), 2)
            out["currency"] = product.currency
            out["stock"] = int(product.stock)
        inventory = getattr(self._engine, "orders", None)
        if inventory is not None and hasattr(inventory, "get_stock"):
            from connectors.auth import Actor

            try:
                levels = inventory.get_stock(Actor.anonymous(), product_id)
                out["stock"] = sum(level.available for level in levels)
            except Exception as exc:  # stock is a nicety on a card: the reply stands without it
                log.debug("no stock for %s: %s", product_id, type(exc).__name__)
        return out


def public_reply(reply: Any, cards: ProductCards | None) -> dict[str, Any]:
    """The browser's view of an engine :class:`~engine.types.Reply`."""
    sources = []
    for s in reply.sources:
        item = {"id": s.id, "kind": s.kind, "title": s.title, "score": round(float(s.score), 4)}
        if s.kind == "product" and cards is not None:
            item.update(cards.card(s.id))
        sources.append(item)
    language = str(reply.trace.get("language") or "en")
    asks = (reply.slots or {}).get("flow_step") == "confirm" and not reply.handoff
    return {
        "text": reply.text,
        "intent": reply.intent,
        "confidence": round(float(reply.confidence), 4),
        "route": reply.route,
        "sources": sources,
        "handoff": bool(reply.handoff),
        "session_id": reply.session_id,
        "language": language,
        "quick_replies": list(QUICK_REPLIES.get(language, QUICK_REPLIES["en"])) if asks else [],
    }
