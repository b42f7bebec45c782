"""Transactional flows: order look-ups and the write flows (cancel, return, address change, ...)."""

from .base import Decision, Turn
from .orders import OrderFlows

__all__ = ["Decision", "Turn", "OrderFlows"]
