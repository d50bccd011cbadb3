"""The verified identity a token carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Principal"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who the token speaks for, after every check passed.

    ``claims`` is the whole verified claim set (read-only); policy variables
    (``${claim:NAME}``) and the pre token trigger's added claims are read from
    it. Machine-to-machine access tokens have ``username=None`` and no groups.
    """

    sub: str
    username: str | None
    client_id: str | None
    token_use: Literal["access", "id"]
    groups: tuple[str, ...]
    scopes: tuple[str, ...]
    issuer: str
    expires_at: int
    claims: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def variables(self) -> dict[str, Any]:
        """The mapping ``authz.policy.substitute`` reads: the claims, plus
        ``username`` and ``client_id`` resolved the same way for both token uses."""
        out = dict(self.claims)
        if self.username is not None:
            out["username"] = self.username
        else:
            out.pop("username", None)
        if self.client_id is not None:
            out["client_id"] = self.client_id
        out["sub"] = self.sub
        return out
