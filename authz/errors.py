"""The one error tree of authz.

Third-party errors (python-jose, pynamodb/botocore, urllib) are converted
where they enter: inside ``authz.token`` and ``authz.store``, with
``raise Mapped(...) from exc``. Nothing above those packages catches a
foreign exception type.

::

    AuthzError
    ├── ConfigError                 bad environment variable; names it (.variable)
    ├── PolicyValidationError       a document breaks the grammar (.errors: [{path, message}])
    ├── SelectorError               bad kind/name of a policy selector
    ├── TokenSettingsError          bad token settings on a group (.errors: [{path, message}])
    ├── PolicyTooLargeError         policy over the byte budget (.size, .max_bytes, .selectors)
    ├── CursorError                 a pagination cursor this store did not issue -> 400
    ├── JwksError                   a key set could not be fetched or parsed (the cause below)
    ├── KeySetUnavailableError      no key for the kid because the key set could not be
    │                               fetched -> 500 (not 401: the token may well be good)
    ├── TokenError                  any reason a token is not accepted -> 401 "Unauthorized"
    │   ├── MalformedTokenError     not a compact JWS / bad base64url / bad JSON / too big
    │   ├── UnsupportedTokenError   alg other than RS256, unknown crit, JWE
    │   ├── UnknownKeyError         no usable key for the header's kid (key set reachable)
    │   ├── SignatureError          the signature does not verify
    │   └── ClaimError              a claim breaks a rule (.claim, .actual, .expected)
    │       ├── ExpiredTokenError   exp missing or in the past
    │       ├── NotYetValidError    nbf / iat in the future
    │       ├── IssuerError         iss not accepted
    │       ├── AudienceError       client_id / aud not allowed
    │       ├── TokenUseError       token_use not the configured one
    │       └── RevokedTokenError   a live revocation refuses it (authz.revocations)
    ├── StoreAnswer                 the store answered "no" to this request (not a failure)
    │   ├── NotFoundError           no such policy -> 404
    │   └── ConflictError           expected version does not match -> 412
    │       └── AlreadyExistsError  create-only on an existing policy -> 409
    └── StoreError                  DynamoDB failed -> 500 (never an Allow)
        ├── StoreCredentialsError   no AWS credentials or region: a set-up problem
        ├── StoreUnavailableError   could not reach/complete the request (throttled, down)
        ├── ItemTooLargeError       item would exceed DynamoDB's 400 KB -> 413
        └── RevocationsOverflowError  more live revocations than the authorizer holds: every
                                    token they do not refuse fails closed -> 500

A ``StoreAnswer`` is the store doing its job, like httpx's ``HTTPStatusError``
beside its ``RequestError``: ``except StoreError`` means "retry or 500" and
never swallows a 404 or a version conflict.

``PolicyValidationError``, ``SelectorError`` and ``CursorError`` are also ``ValueError`` so
callers that only know the standard library can still catch them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AlreadyExistsError",
    "AudienceError",
    "AuthzError",
    "ClaimError",
    "ConfigError",
    "ConflictError",
    "CursorError",
    "ExpiredTokenError",
    "IssuerError",
    "ItemTooLargeError",
    "JwksError",
    "KeySetUnavailableError",
    "MalformedTokenError",
    "NotFoundError",
    "NotYetValidError",
    "PolicyTooLargeError",
    "PolicyValidationError",
    "RevocationsOverflowError",
    "RevokedTokenError",
    "SelectorError",
    "SignatureError",
    "StoreAnswer",
    "StoreCredentialsError",
    "StoreError",
    "StoreUnavailableError",
    "TokenError",
    "TokenSettingsError",
    "TokenUseError",
    "UnknownKeyError",
    "UnsupportedTokenError",
]


class AuthzError(Exception):
    """Base of every error authz raises on purpose."""


class ConfigError(AuthzError):
    """An environment variable is missing or malformed; fails start-up."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


class _PathErrors(AuthzError, ValueError):
    """Carries every problem found, each with the JSON path it concerns."""

    def __init__(self, errors: list[dict[str, str]], what: str) -> None:
        self.errors = errors
        lines = "; ".join(f"{e['path'] or '(root)'}: {e['message']}" for e in errors)
        super().__init__(
            f"{what} ({len(errors)} problem{'s' if len(errors) != 1 else ''}): {lines}"
        )


class PolicyValidationError(_PathErrors):
    """A policy document breaks the grammar; ``.errors`` lists every problem."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors, "invalid policy document")


class TokenSettingsError(_PathErrors):
    """A group's token settings (scopes/claims for the pre token trigger) are invalid."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors, "invalid token settings")


class SelectorError(AuthzError, ValueError):
    """A policy selector (kind and name) is not valid."""


class CursorError(AuthzError, ValueError):
    """A pagination cursor was altered, truncated or belongs to another listing."""


class PolicyTooLargeError(AuthzError):
    """The effective policy does not fit the byte budget even after compaction.

    ``selectors`` names the policies it was built from (when known), so an
    operator knows which ones to shrink.
    """

    def __init__(self, size: int, max_bytes: int, selectors: Sequence[object] = ()) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.selectors = tuple(selectors)
        of = f" of {', '.join(map(str, self.selectors))}" if self.selectors else ""
        super().__init__(
            f"effective policy{of} is {size} bytes after compaction; budget is {max_bytes}"
        )


class TokenError(AuthzError):
    """The token is not accepted. API Gateway must answer 401 and nothing else."""


class MalformedTokenError(TokenError):
    """The token is not a well-formed compact JWS of acceptable size."""


class UnsupportedTokenError(TokenError):
    """The token uses something we refuse: an algorithm other than RS256, unknown crit, JWE."""


class UnknownKeyError(TokenError):
    """No signing key in the issuer's key set matches the token's kid."""


class JwksError(AuthzError):
    """The issuer's key set could not be fetched or parsed.

    Not a ``TokenError``: it says nothing about the token. A verifier that
    meets it while looking up a kid raises ``KeySetUnavailableError``.
    """


class KeySetUnavailableError(AuthzError):
    """No held key has the token's kid, and fetching the key set failed (now, or on
    the last attempt within the refetch back-off). The authorizer answers 500,
    which API Gateway does not cache: a 401 would make clients discard good tokens."""


class SignatureError(TokenError):
    """The signature does not verify with the selected key."""


class ClaimError(TokenError):
    """A claim breaks a rule. ``actual`` and ``expected`` help an operator see why."""

    def __init__(
        self, message: str, *, claim: str, actual: Any = None, expected: Any = None
    ) -> None:
        super().__init__(message)
        self.claim = claim
        self.actual = actual
        self.expected = expected


class ExpiredTokenError(ClaimError):
    """``exp`` is missing or in the past."""


class NotYetValidError(ClaimError):
    """``nbf`` or ``iat`` lies in the future beyond the leeway."""


class IssuerError(ClaimError):
    """``iss`` is not an accepted issuer."""


class AudienceError(ClaimError):
    """``client_id`` (access token) or ``aud`` (ID token) is not an allowed app client."""


class TokenUseError(ClaimError):
    """``token_use`` is not the configured one."""


class RevokedTokenError(ClaimError):
    """A live revocation (``authz.revocations``) refuses the token; ``actual`` is its id."""


class StoreError(AuthzError):
    """DynamoDB could not answer. Never turned into an Allow."""


class StoreCredentialsError(StoreError):
    """No AWS credentials or region to reach DynamoDB with: a set-up problem, not an outage."""


class StoreUnavailableError(StoreError):
    """The store is down, slow or throttling; the request may be retried later."""


class StoreAnswer(AuthzError):
    """The store answered: the request was understood and refused for what is stored."""


class NotFoundError(StoreAnswer):
    """No policy for that selector."""


class ConflictError(StoreAnswer):
    """The expected version does not match the stored one (optimistic concurrency)."""

    def __init__(self, message: str, *, expected: int | None = None, actual: int | None = None):
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class AlreadyExistsError(ConflictError):
    """A create-only write found the policy already there."""


class ItemTooLargeError(StoreError):
    """The item would exceed DynamoDB's 400 KB item limit."""


class RevocationsOverflowError(StoreError):
    """The table holds more live revocations than ``AUTHZ_REVOCATIONS_MAX_ENTRIES``.

    The authorizer cannot tell whether a token is revoked, so it refuses to
    decide (500) rather than let a revoked one through.
    """
