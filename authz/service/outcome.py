"""What one decision returns to the handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authz.policy import Decision, PolicyDocument, Selector
from authz.token.principal import Principal

__all__ = ["Outcome", "Timings"]


@dataclass(frozen=True, slots=True)
class Timings:
    """Where the time of one decision went, in microseconds."""

    verify_us: float
    policy_us: float
    total_us: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """One decision and everything the handler reports about it.

    ``policy`` is the dict API Gateway gets as ``policyDocument`` (the whole
    effective policy, or deny-all); it is shared between decisions served
    from cache and must not be mutated. ``principal`` is the verified one,
    or on a token-memo hit the memo's slim copy (same identity, groups and
    scopes; of the claims, only those its policies read).
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
    timings: Timings

    @property
    def allowed(self) -> bool:
        return self.decision.allowed
