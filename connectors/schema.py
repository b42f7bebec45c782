"""Moved to :mod:`knowledge.kernel.schema` (the order database's tables: shared by the connector
that reads them and the store builders that fill them); this name stays for code written against
it and is the very same module."""

import sys

from knowledge.kernel import schema as _kernel

sys.modules[__name__] = _kernel
