"""Moved to :mod:`knowledge.kernel.integrity` (the shared vocabulary every package may import); this
name stays for code written against it and is the very same module."""

import sys

from knowledge.kernel import integrity as _kernel

sys.modules[__name__] = _kernel
