"""Who may see what: the acting party of every connector call.

A customer sees only their own orders; an agent or admin role is separate and explicit and is
never inferred from anything a customer types.

Example:
    >>> Actor.customer("C001").may_see("C001")
    True
    >>> Actor.customer("C001").may_see("C002")
    False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Actor"]

Role = Literal["customer", "agent", "anonymous"]


@dataclass(frozen=True)
class Actor:
    """The party on whose behalf a connector call is made."""

    role: Role
    customer_id: str | None = None

    def __post_init__(self) -> None:
        if self.role == "customer" and not self.customer_id:
            raise ValueError("a customer actor needs a customer_id")

    @classmethod
    def customer(cls, customer_id: str) -> "Actor":
        return cls(role="customer", customer_id=customer_id)

    @classmethod
    def anonymous(cls) -> "Actor":
        return cls(role="anonymous")

    @classmethod
    def agent(cls) -> "Actor":
        return cls(role="agent")

    def may_see(self, owner_id: str) -> bool:
        """True when this actor may read or act on data owned by ``owner_id``."""
        if self.role == "agent":
            return True
        return self.role == "customer" and self.customer_id == owner_id
