"""The embedded demo store: a deterministic catalog, FAQs and business data built on first use.

:func:`ensure_demo_store` builds (or reuses) the store's files in a folder; the fixture
constants name the products, customers and orders that docs/contract.md (demo store fixtures) promises, so tests and
examples never hard-code ids.

Example:
    >>> from pathlib import Path
    >>> store = ensure_demo_store(Path("/tmp/shopassist-demo"))  # doctest: +SKIP
    >>> FIXTURE_PRODUCT_X200
    'P1001'
"""

from .build import DEMO_VERSION, DemoStore, StoreHasWrites, build_demo_store, ensure_demo_store
from .catalog import (
    CATEGORIES,
    FIXTURE_PRODUCT_TRAILRUNNER,
    FIXTURE_PRODUCT_X200,
    FIXTURE_PRODUCT_X200_CASE,
)
from .people import (
    FIXTURE_CUSTOMER_ALICE,
    FIXTURE_CUSTOMER_BOB,
    FIXTURE_ORDER_DELIVERED,
    FIXTURE_ORDER_PROCESSING,
    FIXTURE_ORDER_SHIPPED,
)

__all__ = [
    "DEMO_VERSION",
    "DemoStore",
    "StoreHasWrites",
    "build_demo_store",
    "ensure_demo_store",
    "CATEGORIES",
    "FIXTURE_PRODUCT_X200",
    "FIXTURE_PRODUCT_X200_CASE",
    "FIXTURE_PRODUCT_TRAILRUNNER",
    "FIXTURE_CUSTOMER_ALICE",
    "FIXTURE_CUSTOMER_BOB",
    "FIXTURE_ORDER_SHIPPED",
    "FIXTURE_ORDER_DELIVERED",
    "FIXTURE_ORDER_PROCESSING",
]
