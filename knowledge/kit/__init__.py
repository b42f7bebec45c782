"""Store kits: any shop's knowledge as a folder of plain files (docs/store-kit.md).

``check_kit`` lists every problem of a kit (file, row, field); ``read_kit`` reads a clean one into
the knowledge objects the engine builds from; ``init_kit`` writes a small bilingual starter kit.
"""

from ._files import KitLimits
from ._trial import resolve_date
from .problems import KitInvalid, Problem
from .profile import DEFAULT_ORDER_ID_PATTERN, Policies, StoreProfile, Support, load_profile
from .reader import Kit, check_kit, read_kit

__all__ = [
    "DEFAULT_ORDER_ID_PATTERN",
    "Kit",
    "KitInvalid",
    "KitLimits",
    "Policies",
    "Problem",
    "StoreProfile",
    "Support",
    "check_kit",
    "load_profile",
    "read_kit",
    "resolve_date",
]
