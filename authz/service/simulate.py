"""What the authorizer would decide for a principal, and why (no cache)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from authz.policy import (
    Decision,
    Explanation,
    PolicyDocument,
    Selector,
    api_stage_key,
    explain,
    json_size,
    selectors_for,
    substitute,
)
from authz.service.effective import api_of, effective_policy, response_policy
from authz.settings import Settings
from authz.store.types import PolicyRepository
from authz.token.principal import Principal

__all__ = ["Simulation", "simulate"]


@dataclass(frozen=True, slots=True)
class Simulation:
    """What the authorizer would decide, and why (admin API ``POST /simulate``,
    ``authz simulate``)."""

    method_arn: str
    selectors: tuple[Selector, ...]
    """Every selector of the principal (``default``, its groups and scopes)."""
    found: tuple[Selector, ...]
    """Those of ``selectors`` that have a stored policy."""
    decision: Decision
    explanation: Explanation
    """Every matching statement with its selector and Sid (``str()`` reads well in a terminal)."""
    document: PolicyDocument
    """The effective document (substituted, expanded for the methodArn's API and
    stage, merged, compacted)."""
    effective_policy: dict[str, Any]
    """The ``policyDocument`` the authorizer would return (deny-all when nothing allows)."""
    policy_bytes: int
    max_bytes: int | None
    """The budget checked against (``settings.policy_max_bytes``), if any."""

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def over_budget(self) -> bool:
        """True when the authorizer would fail closed (500) for this principal."""
        return self.max_bytes is not None and self.policy_bytes > self.max_bytes

    @property
    def statements(self) -> list[dict[str, Any]]:
        """The explanation's matches as JSON-able dicts (selector, Sid, effect, pattern...)."""
        return [m.to_dict() for m in self.explanation.matches]

    def to_dict(self) -> dict[str, Any]:
        return {
            "methodArn": self.method_arn,
            "allowed": self.decision.allowed,
            "effect": self.decision.effect,
            "selectors": [str(s) for s in self.selectors],
            "found": [str(s) for s in self.found],
            "explanation": self.statements,
            "effective_policy": self.effective_policy,
            "policy_bytes": self.policy_bytes,
            "over_budget": self.over_budget,
        }


def simulate(
    repository: PolicyRepository,
    principal: Principal | None,
    method_arn: str,
    *,
    groups: Iterable[str] = (),
    scopes: Iterable[str] = (),
    sub: str | None = None,
    claims: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
) -> Simulation:
    """Decide ``method_arn`` as the authorizer would, with an explanation.

    Either a verified (or hand-built) ``principal`` -- its groups, scopes and
    ``variables()`` are used and the keyword arguments are ignored -- or
    ``None`` and a described one: ``groups``, ``scopes``, ``sub`` and
    ``claims`` (``claims`` feed ``${claim:NAME}`` and may carry ``username``
    and ``client_id``). One ``get_many`` request, no cache; StoreError
    propagates. The byte budget is reported (``over_budget``), not enforced,
    so an operator can see why a principal gets a 500.
    """
    if principal is not None:
        selectors = selectors_for(principal.groups, principal.scopes)
        variables: dict[str, Any] = principal.variables()
    else:
        selectors = selectors_for(groups, scopes)
        variables = dict(claims or {})
        if sub:
            variables["sub"] = sub
    records = repository.get_many(selectors)
    docs = {s: records[s].document for s in selectors if s in records}
    api = api_of(api_stage_key(method_arn), docs.values())
    explanation = explain([(str(s), substitute(d, variables)) for s, d in docs.items()], method_arn)
    document = effective_policy(docs, variables, api=api)
    return Simulation(
        method_arn=method_arn,
        selectors=selectors,
        found=tuple(docs),
        decision=explanation.decision,
        explanation=explanation,
        document=document,
        effective_policy=response_policy(document),
        policy_bytes=json_size(document),
        max_bytes=settings.policy_max_bytes if settings is not None else None,
    )
