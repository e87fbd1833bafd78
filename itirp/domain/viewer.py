"""Who is looking, and the one rule of what they may see: a trader sees their own orders;
RISK_MANAGER and above see everyone's."""

from __future__ import annotations

from dataclasses import dataclass

from itirp.auth.roles import Role

__all__ = ["Viewer"]


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: str
    role: Role

    @property
    def sees_all(self) -> bool:
        return self.role >= Role.RISK_MANAGER

    def may_see(self, owner_id: str) -> bool:
        """Whether this viewer may see something (an order, a position) owned by `owner_id`."""
        return self.sees_all or owner_id == self.user_id
