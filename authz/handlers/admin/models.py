"""Request and response bodies of the admin API (pydantic; they are the OpenAPI schemas).

Request models forbid unknown fields and coerce nothing (``strict``): a typo
such as ``"descripton"`` or a number where a string belongs is a 400, never
silently dropped. The policy document itself is typed loosely here (an
object) because ``PolicyDocument.from_dict`` reports its problems with JSON
paths far better than a schema could.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from authz.policy.document import VERSION
from authz.revocations import KINDS, MAX_REASON_LENGTH, RevocationKind

__all__ = [
    "DESCRIPTION_MAX",
    "CellOut",
    "CellValue",
    "DecisionOut",
    "DeleteResult",
    "DryRunOut",
    "ErrorBody",
    "ErrorDetail",
    "ErrorInfo",
    "FlushError",
    "Freshness",
    "HistoryItem",
    "HistoryPage",
    "ImpactOut",
    "MatchOut",
    "MatrixOut",
    "PolicyOut",
    "PolicyPage",
    "PolicySummary",
    "PolicyWarningOut",
    "PrincipalIn",
    "PutPolicyBody",
    "RequestIn",
    "RevocationDeleteOut",
    "RevocationEventOut",
    "RevocationHistoryPage",
    "RevocationOut",
    "RevocationPage",
    "RevocationWriteOut",
    "RevokeBody",
    "SignOutOut",
    "SimulateBody",
    "SimulateOut",
    "SimulatedPrincipal",
    "StatementOut",
    "WriteOut",
]

DESCRIPTION_MAX = 1024

Kind = Literal["group", "scope", "default"]
CellValue = Literal["allow", "deny", "explicit-deny", "conditional"]

_EXAMPLE_DOCUMENT: dict[str, Any] = {
    "Version": VERSION,
    "Statement": [
        {
            "Sid": "ReadOrders",
            "Effect": "Allow",
            "Action": "execute-api:Invoke",
            "Resource": ["execute-api:/*/GET/orders", "execute-api:/*/GET/orders/*"],
        }
    ],
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors -----------------------------------------------------------------


class ErrorDetail(_Out):
    path: str = Field(description="JSON path of the problem, e.g. document.Statement[0].Effect")
    message: str


class ErrorInfo(_Out):
    code: str = Field(description="stable machine-readable code, e.g. invalid_document")
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorBody(_Out):
    error: ErrorInfo


# --- policies ---------------------------------------------------------------


class PutPolicyBody(_Strict):
    document: dict[str, Any] = Field(
        description="An IAM policy document for execute-api",
        json_schema_extra={"example": _EXAMPLE_DOCUMENT},
    )
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    token: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Groups only: token settings for the pre token generation trigger, "
            '{"scopes": [...], "claims": {"name": "value"}}'
        ),
    )


class PolicySummary(_Out):
    kind: Kind
    name: str
    selector: str = Field(description="group:NAME, scope:NAME or default")
    version: int
    description: str
    updated_at: datetime
    updated_by: str
    has_token_settings: bool


class PolicyOut(_Out):
    kind: Kind
    name: str
    selector: str
    version: int
    etag: str = Field(description='the ETag header value, e.g. "3"')
    description: str
    updated_at: datetime
    updated_by: str
    document: dict[str, Any]
    token: dict[str, Any] | None = None


class PolicyPage(_Out):
    items: list[PolicySummary]
    next: str | None = Field(description="cursor for the next page; null on the last page")


class HistoryItem(_Out):
    version: int
    action: Literal["create", "update", "delete"]
    at: datetime
    by: str
    description: str
    document: dict[str, Any]
    token: dict[str, Any] | None = None
    forced: bool = Field(
        default=False,
        description="true when the write was forced (?force=true) past the lock-out guard",
    )


class HistoryPage(_Out):
    selector: str
    items: list[HistoryItem]
    next: str | None


class FlushError(_Out):
    stage: str = Field(description="restApiId/stage")
    message: str


class Freshness(_Out):
    epoch: int = Field(description="the policy epoch this write moved the table to")
    max_staleness_seconds: float = Field(
        description=(
            "worst-case delay before every authorizer decides with this write: the epoch "
            "check interval, plus API Gateway's result TTL unless every stage was flushed"
        )
    )
    visible_by: datetime
    flushed: list[str] = Field(description="restApiId/stage caches flushed after the write")
    flush_errors: list[FlushError]


class PolicyWarningOut(_Out):
    path: str = Field(
        description="JSON path of the resource, e.g. document.Statement[0].Resource[0]"
    )
    message: str
    request: str = Field(
        description="a request the resource allows although its text suggests it does not, "
        "e.g. DELETE /GET/orders/1"
    )


class ImpactOut(_Out):
    subject: str = Field(description="a row of the access matrix: default, group:NAME, scope:NAME")
    route: str = Field(description="a route of AUTHZ_ROUTES, e.g. DELETE /orders/{id}")
    before: CellValue
    after: CellValue


_IMPACT = (
    "the access-matrix cells (subject x route of AUTHZ_ROUTES) whose value the write changes, "
    "widenings first; a conditional cell whose matching statements changed is listed too"
)
_IMPACT_NOTICE = (
    "why the impact list is empty without being computed (e.g. AUTHZ_ROUTES is not set); "
    "null when it was computed"
)


class WriteOut(_Out):
    action: Literal["created", "updated"]
    version: int
    epoch: int
    policy: PolicyOut
    freshness: Freshness
    warnings: list[PolicyWarningOut] = Field(
        default_factory=list,
        description="Allow resources whose API id, stage or method * also matches '/'; "
        "the write was applied anyway",
    )
    impact: list[ImpactOut] = Field(default_factory=list, description=_IMPACT)
    impact_notice: str | None = Field(default=None, description=_IMPACT_NOTICE)


class DeleteResult(_Out):
    action: Literal["deleted"]
    selector: str
    version: int | None = Field(description="the version that was deleted")
    epoch: int
    freshness: Freshness
    impact: list[ImpactOut] = Field(default_factory=list, description=_IMPACT)
    impact_notice: str | None = Field(default=None, description=_IMPACT_NOTICE)


class DryRunOut(_Out):
    """What `PUT ...?dry_run=true` answers; nothing is written."""

    valid: bool = Field(description="whether the document and token settings are valid")
    problems: list[ErrorDetail] = Field(
        default_factory=list, description="why the policy is not valid, each with its JSON path"
    )
    warnings: list[PolicyWarningOut] = Field(default_factory=list)
    impact: list[ImpactOut] = Field(default_factory=list, description=_IMPACT)
    impact_notice: str | None = Field(default=None, description=_IMPACT_NOTICE)


# --- matrix -----------------------------------------------------------------


class StatementOut(_Out):
    policy: str = Field(description="the selector of the policy holding the statement")
    statement: int = Field(description="index of the statement in its policy")
    sid: str | None
    effect: Literal["Allow", "Deny"]


class CellOut(_Out):
    value: CellValue
    statements: list[StatementOut] = Field(
        description="statements whose resources match some or all requests of the route"
    )


class MatrixOut(_Out):
    routes: list[str] = Field(description="the routes of AUTHZ_ROUTES, spelled VERB /path")
    subjects: list[str] = Field(
        description="default, each group:NAME and scope:NAME (each with default), then the "
        "combined principals asked for"
    )
    cells: dict[str, dict[str, CellValue | CellOut]] = Field(
        description="subject -> route -> value; with ?explain=true each cell is an object "
        "with its value and statements"
    )


# --- simulate ---------------------------------------------------------------


class PrincipalIn(_Strict):
    groups: list[str] = Field(default_factory=list)
    scopes: list[str] = Field(default_factory=list)
    sub: str = ""
    username: str | None = None
    client_id: str | None = None
    claims: dict[str, Any] = Field(
        default_factory=dict, description="claims that ${claim:NAME} policy variables read"
    )


class RequestIn(_Strict):
    method: str = Field(description="HTTP verb, e.g. GET")
    path: str = Field(description="request path, e.g. /orders/1")
    region: str | None = Field(default=None, description="default: the deployment's region")
    account_id: str | None = Field(default=None, description="default: this API's account")
    api_id: str | None = Field(default=None, description="default: this API's id")
    stage: str | None = Field(default=None, description="default: this API's stage")


class SimulateBody(_Strict):
    principal: PrincipalIn | None = None
    token: str | None = Field(default=None, description="a JWT, verified like the authorizer does")
    request: RequestIn | None = None
    methodArn: str | None = Field(  # the name API Gateway uses
        default=None, description="arn:aws:execute-api:region:account:api/stage/VERB/path"
    )

    @model_validator(mode="after")
    def _one_of_each(self) -> SimulateBody:
        if (self.principal is None) == (self.token is None):
            raise ValueError("give exactly one of principal or token")
        if (self.request is None) == (self.methodArn is None):
            raise ValueError("give exactly one of request or methodArn")
        return self


class DecisionOut(_Out):
    allowed: bool
    effect: Literal["Allow", "Deny", "ImplicitDeny"]


class MatchOut(_Out):
    selector: str | None = Field(description="the policy the statement belongs to")
    document: int | None
    statement: int = Field(description="index of the statement in its policy")
    sid: str | None
    effect: Literal["Allow", "Deny"]
    pattern: str = Field(description="the Resource pattern that matched")
    deciding: bool = Field(description="true when this statement's effect decided")


class SimulatedPrincipal(_Out):
    sub: str
    username: str | None
    groups: list[str]
    scopes: list[str]
    source: Literal["principal", "token"]


class SimulateOut(_Out):
    methodArn: str  # the name API Gateway uses
    decision: DecisionOut
    principal: SimulatedPrincipal
    selectors: list[str] = Field(description="every selector of the principal")
    found: list[str] = Field(description="those selectors that have a stored policy")
    explanation: list[MatchOut] = Field(description="every statement that matched the request")
    summary: str = Field(description="the explanation in one human-readable paragraph")
    effective_policy: dict[str, Any] = Field(
        description="the policyDocument the authorizer would return for this principal"
    )
    policy_bytes: int
    over_budget: bool = Field(
        description="true when the effective policy exceeds AUTHZ_POLICY_MAX_BYTES "
        "(the authorizer then fails closed with a 500)"
    )


# --- revocations ------------------------------------------------------------

_TARGET_VALUE = "1 to 256 characters of letters, digits and . _ : @ + = ~ -"


class RevokeBody(_Strict):
    sub: str | None = Field(default=None, description=f"every token of this user; {_TARGET_VALUE}")
    origin_jti: str | None = Field(
        default=None, description="one sign-in session and every token refreshed from it"
    )
    jti: str | None = Field(default=None, description="one token")
    reason: str = Field(default="", max_length=MAX_REASON_LENGTH)
    # A string, not a datetime: strict models take no string for a datetime, and a
    # time without an offset must be refused with its own message, never guessed.
    until: str | None = Field(
        default=None,
        max_length=64,
        description="an ISO 8601 time with an offset (e.g. 2030-01-01T00:00:00Z): a sub "
        "revocation also refuses every sign-in before it ('disable until')",
        json_schema_extra={"format": "date-time"},
    )
    cognito: bool = Field(
        default=False,
        description="sub only: also sign the user out of Cognito everywhere "
        "(AdminUserGlobalSignOut), so their refresh tokens stop working",
    )

    @model_validator(mode="after")
    def _one_target(self) -> RevokeBody:
        given = [kind for kind in KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of sub, origin_jti or jti")
        if self.cognito and self.sub is None:
            raise ValueError("cognito: true signs a user out, so it needs a sub target")
        return self


class RevocationOut(_Out):
    id: str = Field(description="sub:VALUE, origin_jti:VALUE or jti:VALUE")
    kind: RevocationKind
    value: str
    reason: str
    revoked_by: str
    revoked_at: datetime
    until: datetime | None
    expires_at: datetime = Field(
        description="when the revocation lapses (no token it refuses can still be valid)"
    )


class SignOutOut(_Out):
    signed_out: bool
    username: str | None = Field(description="the Cognito user name the sub belongs to")
    error: str | None = Field(description="why the sign-out failed; null when it worked")


class RevocationWriteOut(_Out):
    action: Literal["revoked"]
    revocation: RevocationOut
    epoch: int
    freshness: Freshness
    cognito: SignOutOut | None = Field(
        default=None,
        description="the Cognito global sign-out, when asked for; a failure is reported "
        "here and the revocation stands",
    )


class RevocationDeleteOut(_Out):
    action: Literal["deleted"]
    revocation: RevocationOut = Field(description="the revocation lifted")
    epoch: int
    freshness: Freshness


class RevocationPage(_Out):
    items: list[RevocationOut]
    next: str | None = Field(description="cursor for the next page; null on the last page")


class RevocationEventOut(_Out):
    id: str
    action: Literal["revoke", "delete"]
    at: datetime
    by: str
    reason: str
    until: datetime | None


class RevocationHistoryPage(_Out):
    items: list[RevocationEventOut]
    next: str | None = Field(description="cursor for the next page; null on the last page")
