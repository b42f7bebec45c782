"""The one error tree of shopassist.

Every library error is translated at the boundary where it happens into one of these, and
``engine.router`` / ``engine.engine`` map them to what the customer sees, in one place only::

    ShopAssistError
     ├── ConfigError                 invalid configuration (names the field)
     ├── InputError                  a customer turn that cannot be processed as given
     ├── ModelError                  model files missing, corrupt or from another version
     │    └── GeneratorUnavailable   the answer-writing model failed or its server is down
     ├── KnowledgeError              FAQ / catalog / index missing or stale
     ├── StoreError                  the tracker or feedback store failed
     └── ConnectorError              a business system failed (defined in connectors.base)
          ├── ConnectorUnavailable   down, timing out, locked
          ├── OrderNotFound          missing *or* not owned by the acting customer (no leak)
          └── InvalidOrderId         an order id of the wrong shape
"""

from __future__ import annotations

__all__ = [
    "ShopAssistError",
    "ConfigError",
    "InputError",
    "ModelError",
    "GeneratorUnavailable",
    "KnowledgeError",
    "StoreError",
]


class ShopAssistError(Exception):
    """Base of every error shopassist raises on purpose."""


class ConfigError(ShopAssistError):
    """The configuration file or an environment variable is invalid."""


class InputError(ShopAssistError):
    """A customer turn that cannot be processed as given (empty, too long, ...)."""


class ModelError(ShopAssistError):
    """A model folder is missing, corrupt, or was written by an incompatible version."""


class KnowledgeError(ShopAssistError):
    """FAQ, catalog or index data is missing, malformed or stale."""


class GeneratorUnavailable(ModelError):
    """The LLM that writes answers failed, timed out or answered nonsense (answers fall back
    to the extractive generator)."""


class StoreError(ShopAssistError):
    """The tracker or feedback store could not read or commit."""
