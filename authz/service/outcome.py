"""What one decision returns to the handler."""

from __future__ import annotations

from typing import Any, NamedTuple

from authz.policy import Decision, PolicyDocument, Selector
from authz.token.principal import Principal

__all__ = ["Outcome"]


class Outcome(NamedTuple):
    """One decision and everything the handler reports about it.

    ``policy`` is the dict API Gateway gets as ``policyDocument`` (the whole
    effective policy, or deny-all); it is shared between decisions served
    from cache and must not be mutated. ``principal`` is the verified one,
    or on a token-memo hit the memo's slim copy (same identity, groups and
    scopes; of the claims, only those its policies read).

    A NamedTuple rather than a frozen dataclass: one is built for every
    request, a repeated token's included, and a frozen dataclass sets each
    of its fields through ``object.__setattr__``, which costs more.
    """

    principal: Principal
    selectors: tuple[Selector, ...]
    document: PolicyDocument
    policy: dict[str, Any]
    decision: Decision
    epoch: int | None
    token_cache_hit: bool
    policy_cache_hit: bool
    stale: bool
    policy_bytes: int

    @property
    def allowed(self) -> bool:
        return self.decision.allowed
