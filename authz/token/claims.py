"""Pure claim checks for Cognito tokens: no I/O, no clock of their own.

Like aws-jwt-verify's ``validateCognitoJwtFields``: given the decoded
payload, the rules and "now", either build the :class:`Principal` or raise
the ``ClaimError`` subclass that names the claim, what it held and what was
expected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import repeat
from types import MappingProxyType
from typing import Any, Literal

from authz.errors import (
    AudienceError,
    ClaimError,
    ExpiredTokenError,
    IssuerError,
    NotYetValidError,
    TokenUseError,
)
from authz.token.principal import Principal

__all__ = ["ClaimRules", "check_claims", "check_issuer"]

_MAX_SECONDS = 2**53
_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class ClaimRules:
    """What a token's claims must satisfy. ``client_ids=None`` disables the client check."""

    issuers: frozenset[str]
    client_ids: frozenset[str] | None
    token_use: Literal["access", "id", "any"] = "access"
    leeway: float = 0.0


def check_issuer(payload: Mapping[str, Any], issuers: frozenset[str]) -> str:
    """The token's ``iss`` if it is exactly one of ``issuers`` (no normalisation at all)."""
    iss = payload.get("iss")
    if not isinstance(iss, str) or iss not in issuers:
        raise IssuerError(
            f"issuer {iss!r} is not accepted", claim="iss", actual=iss, expected=sorted(issuers)
        )
    return iss


def check_claims(
    payload: Mapping[str, Any],
    rules: ClaimRules,
    now: float,
    *,
    checked_issuer: str | None = None,
) -> Principal:
    """Apply every claim rule to ``payload`` at time ``now`` (seconds since the epoch).

    ``checked_issuer`` is what ``check_issuer(payload, rules.issuers)``
    already returned for this very payload (the verifier checks the issuer
    first, to choose the key set), so that it is not checked twice.
    """
    issuer = check_issuer(payload, rules.issuers) if checked_issuer is None else checked_issuer
    token_use = _token_use(payload.get("token_use"), rules.token_use)
    exp = _check_times(payload, now, rules.leeway)
    sub = payload.get("sub")
    if not isinstance(sub, str) or not sub:
        raise ClaimError("sub must be a non-empty string", claim="sub", actual=sub)
    # In this order, so that a token with several defects reports the same one each time.
    client_id = _client_id(payload, token_use, rules.client_ids)
    username = _username(payload, token_use)
    groups = _groups(payload)
    scopes = _scopes(payload)
    # Positional (each argument is named as its field): a keyword call costs
    # more, and one principal is built for every new token.
    return Principal(
        sub,
        username,
        client_id,
        token_use,
        groups,
        scopes,
        issuer,
        # Rounded down: the principal never claims to outlive its token.
        exp if type(exp) is int else math.floor(exp),
        # A read-only view, not a copy: the verifier hands over a payload it owns.
        MappingProxyType(payload if type(payload) is dict else dict(payload)),
    )


def _check_times(payload: Mapping[str, Any], now: float, leeway: float) -> float:
    """The token's ``exp``, after checking ``exp``, ``nbf``, ``iat`` and ``auth_time``."""
    exp = _number(payload, "exp", ExpiredTokenError)
    if exp is None:
        raise ExpiredTokenError("exp is required", claim="exp", actual=None, expected="a number")
    # RFC 7519 4.1.4: the token is valid only *before* exp.
    if now >= exp + leeway:
        raise ExpiredTokenError(
            f"token expired at {exp} (now {now:.0f}, leeway {leeway:g}s)",
            claim="exp",
            actual=exp,
            expected=f"> {now - leeway:.0f}",
        )
    latest = now + leeway
    for name in ("nbf", "iat"):
        value = _number(payload, name, NotYetValidError)
        if value is not None and value > latest:
            raise NotYetValidError(
                f"{name} {value} is in the future (now {now:.0f}, leeway {leeway:g}s)",
                claim=name,
                actual=value,
                expected=f"<= {latest:.0f}",
            )
    _number(payload, "auth_time", ClaimError)
    return exp


def _client_id(
    payload: Mapping[str, Any],
    token_use: Literal["access", "id"],
    allowed: frozenset[str] | None,
) -> str:
    client_claim = "client_id" if token_use == "access" else "aud"
    client_id = payload.get(client_claim)
    if not isinstance(client_id, str) or not client_id:
        raise AudienceError(
            f"{client_claim} must be a non-empty string",
            claim=client_claim,
            actual=client_id,
            expected="an app client id",
        )
    if allowed is not None and client_id not in allowed:
        raise AudienceError(
            f"app client {client_id!r} is not allowed",
            claim=client_claim,
            actual=client_id,
            expected=sorted(allowed),
        )
    return client_id


def _username(payload: Mapping[str, Any], token_use: Literal["access", "id"]) -> str | None:
    username_claim = "username" if token_use == "access" else "cognito:username"
    username = payload.get(username_claim)
    if username is not None and not (isinstance(username, str) and username):
        raise ClaimError(
            f"{username_claim} must be a non-empty string",
            claim=username_claim,
            actual=username,
        )
    return username


def _groups(payload: Mapping[str, Any]) -> tuple[str, ...]:
    groups = payload.get("cognito:groups", _MISSING)
    if groups is _MISSING:
        return ()
    # all() over map() rather than a generator: one pass without a Python frame per group.
    if not isinstance(groups, list) or not all(map(isinstance, groups, repeat(str))):
        raise ClaimError(
            "cognito:groups must be a list of strings",
            claim="cognito:groups",
            actual=groups,
            expected="list[str]",
        )
    return tuple(groups)


def _scopes(payload: Mapping[str, Any]) -> tuple[str, ...]:
    scope = payload.get("scope", "")
    if not isinstance(scope, str):
        raise ClaimError("scope must be a string", claim="scope", actual=scope, expected="str")
    return tuple(scope.split())


def _token_use(token_use: object, wanted: str) -> Literal["access", "id"]:
    if token_use == "access" and wanted in ("access", "any"):
        return "access"
    if token_use == "id" and wanted in ("id", "any"):
        return "id"
    expected = ["access", "id"] if wanted == "any" else wanted
    raise TokenUseError(
        f"token_use {token_use!r} is not accepted (expected {expected})",
        claim="token_use",
        actual=token_use,
        expected=expected,
    )


def _number(payload: Mapping[str, Any], name: str, error: type[ClaimError]) -> float | None:
    """A NumericDate claim: int or float, finite, not a bool; None if absent."""
    value = payload.get(name, _MISSING)
    # Exact types (JSON yields nothing else): bool, a subclass of int, is refused.
    # Bounded: a huge int would overflow float(); NaN/inf never compare sanely.
    # Cognito's times are whole seconds, so that case is tested first.
    kind = type(value)
    if (kind is int and -_MAX_SECONDS <= value <= _MAX_SECONDS) or (
        kind is float and math.isfinite(value)
    ):
        return value  # type: ignore[no-any-return]  # int or float, checked above
    if value is _MISSING:
        return None
    raise error(
        f"{name} must be a number of seconds",
        claim=name,
        actual=value,
        expected="NumericDate",
    )
