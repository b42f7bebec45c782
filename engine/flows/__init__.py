"""Transactional flows: order status, returns, refunds, cancellation and address changes."""

from .base import Decision, Turn
from .orders import ORDER_INTENTS, OrderFlows

__all__ = ["Decision", "Turn", "OrderFlows", "ORDER_INTENTS"]
