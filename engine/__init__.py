"""shopassist engine: a hybrid retrieval-augmented dialogue engine for e-commerce service.

Example:
    >>> from engine import Engine
    >>> engine = Engine.from_config()                                              # doctest: +SKIP
    >>> engine.respond("s1", "where is my order 100023?", customer_id="C001").text  # doctest: +SKIP
"""

from .engine import Engine
from .errors import ConfigError, ShopAssistError
from .settings import Settings, load_settings
from .types import Reply, Source

__all__ = ["Engine", "Reply", "Source", "Settings", "load_settings", "ShopAssistError", "ConfigError"]
