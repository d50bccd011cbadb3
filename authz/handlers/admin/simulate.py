"""``POST /simulate``: what the authorizer would decide, and why.

Decisions taken here (the admin is asking, so we explain rather than hide):

- **Principal.** Either given directly (groups, scopes, sub, username,
  client_id, claims) or as a token, verified exactly as the authorizer
  verifies it (same issuers, client ids, token_use). A rejected token is a
  400 whose message says why (expired, wrong client, bad signature...),
  unlike the authorizer, which only ever says "Unauthorized".
- **Request.** Either a complete ``methodArn`` or ``{"method", "path"}``.
  A methodArn is concrete (policies match patterns against it, and a
  wildcard in the request would match only patterns that are wildcards
  there too), so the missing parts are filled with *this* API's identifiers
  from the event's ``requestContext`` (account, API id, stage) and the
  deployment's region; each can be overridden (``region``, ``account_id``,
  ``api_id``, ``stage``) to simulate a request to another API.
- **Answer.** The decision, every matching statement with its selector and
  Sid (``explanation``), and the whole effective policy the authorizer
  would return. Simulation reads the table directly, never a cache, so it
  shows what the authorizer decides once the latest write is visible.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from authz.errors import ConfigError
from authz.handlers.admin.errors import ApiError
from authz.handlers.admin.models import (
    DecisionOut,
    MatchOut,
    SimulateBody,
    SimulatedPrincipal,
    SimulateOut,
)
from authz.policy.arn import (
    FALLBACK_ACCOUNT,
    FALLBACK_API,
    FALLBACK_STAGE,
    method_arn,
    parse_method_arn,
)
from authz.service import TokenVerifier, simulate
from authz.token.principal import Principal

if TYPE_CHECKING:
    from authz.settings import Settings
    from authz.store.types import PolicyRepository

__all__ = ["ApiIdentity", "SimulationDeps", "simulate_request"]


class SimulationDeps(Protocol):
    settings: Settings
    repository: PolicyRepository

    def token_verifier(self) -> TokenVerifier: ...


@dataclass(frozen=True, slots=True)
class ApiIdentity:
    """The identifiers of the API this request came through."""

    account_id: str
    api_id: str
    stage: str

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> ApiIdentity:
        ctx = event.get("requestContext")
        ctx = ctx if isinstance(ctx, Mapping) else {}

        def pick(key: str, fallback: str) -> str:
            value = ctx.get(key)
            return value if isinstance(value, str) and value else fallback

        return cls(
            pick("accountId", FALLBACK_ACCOUNT),
            pick("apiId", FALLBACK_API),
            pick("stage", FALLBACK_STAGE),
        )


def _principal(
    body: SimulateBody, deps: SimulationDeps
) -> tuple[Principal, Literal["principal", "token"]]:
    if body.token is not None:
        try:
            verifier = deps.token_verifier()
        except ConfigError as exc:
            raise ApiError(
                400,
                "token_verification_unavailable",
                f"this deployment cannot verify tokens ({exc}); simulate with a principal instead",
            ) from None
        return verifier.verify(body.token), "token"  # TokenError -> 400 with the reason
    given = body.principal
    if given is None:  # the model guarantees one of the two
        raise ApiError(400, "invalid_request", "give a principal or a token")
    principal = Principal(
        sub=given.sub,
        username=given.username,
        client_id=given.client_id,
        token_use="access",  # noqa: S106  # a claim value
        groups=tuple(given.groups),
        scopes=tuple(given.scopes),
        issuer="simulation",
        expires_at=int(time.time()) + 3600,
        claims=dict(given.claims),
    )
    return principal, "principal"


def _method_arn(body: SimulateBody, region: str, api: ApiIdentity) -> str:
    try:
        if body.methodArn is not None:
            return str(parse_method_arn(body.methodArn))
        req = body.request
        if req is None:  # the model guarantees one of the two
            raise ApiError(400, "invalid_request", "give a request or a methodArn")
        return method_arn(
            req.region or region,
            req.account_id or api.account_id,
            req.api_id or api.api_id,
            req.stage or api.stage,
            req.method.upper(),
            req.path,
        )
    except ValueError as exc:
        path = "methodArn" if body.methodArn is not None else "request"
        raise ApiError(
            400, "invalid_request", str(exc), [{"path": path, "message": str(exc)}]
        ) from None


def simulate_request(body: SimulateBody, *, deps: SimulationDeps, api: ApiIdentity) -> SimulateOut:
    principal, source = _principal(body, deps)
    arn = _method_arn(body, deps.settings.region, api)
    result = simulate(deps.repository, principal, arn, settings=deps.settings)
    return SimulateOut(
        methodArn=arn,
        decision=DecisionOut(allowed=result.decision.allowed, effect=result.decision.effect),
        principal=SimulatedPrincipal(
            sub=principal.sub,
            username=principal.username,
            groups=list(principal.groups),
            scopes=list(principal.scopes),
            source=source,
        ),
        selectors=[str(s) for s in result.selectors],
        found=[str(s) for s in result.found],
        explanation=[MatchOut.model_validate(m) for m in result.statements],
        summary=str(result.explanation),
        effective_policy=result.effective_policy,
        policy_bytes=result.policy_bytes,
        over_budget=result.over_budget,
    )
