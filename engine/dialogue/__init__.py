"""Dialogue understanding: each turn read in its context (references, ellipsis, small talk).

See :mod:`engine.dialogue.understand` (the stage) and :mod:`engine.dialogue.references` (resolving
what a shopper refers to against the store's data).
"""

from engine.dialogue.understand import SMALL_TALK, Command, Understanding, store_vocabulary

__all__ = ["Command", "Understanding", "store_vocabulary", "SMALL_TALK"]
