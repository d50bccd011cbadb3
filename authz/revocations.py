"""Revocations: which verified tokens are refused although they are signed and unexpired.

Pure: no clock, no I/O. The store keeps ``Revocation`` items, the admin API
and the CLI write them, the authorizer holds a ``RevocationSet`` and asks it
about every new token (``RevocationSet.match``).

A revocation targets one of

- ``sub``: every token of that user issued, or belonging to a sign-in that
  happened, at or before the **cutoff**: ``revoked_at``, or ``until`` when
  that is later ("disable until"). A user who signs in again after the
  cutoff is let in again. A token is refused when its ``iat`` or its
  ``auth_time`` (the sign-in the token was refreshed from) is at or before
  the cutoff, so refreshing an old session does not escape a revocation; a
  token without ``iat`` counts as revoked;
- ``origin_jti``: one sign-in session, every token refreshed from it;
- ``jti``: one token.

Times are whole seconds since the epoch, as JWTs carry them; the cutoff is
rounded up to a whole second, so a token issued in the same second as the
revocation is refused (a token cannot tell which came first).

Each revocation expires (a DynamoDB TTL, ``expires_at``) once no token it
could refuse can still be valid: the cutoff plus the longest token lifetime
(``AUTHZ_MAX_TOKEN_LIFETIME_SECONDS``) plus the verifier's leeway.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal, get_args

__all__ = [
    "EMPTY",
    "KINDS",
    "MAX_REASON_LENGTH",
    "MAX_UNTIL",
    "Revocation",
    "RevocationEvent",
    "RevocationKind",
    "RevocationSet",
    "Target",
    "expires_at",
]

RevocationKind = Literal["sub", "origin_jti", "jti"]
KINDS: tuple[RevocationKind, ...] = get_args(RevocationKind)

MAX_REASON_LENGTH = 1000
# "Disable until" is for suspensions; a longer ban is a disabled Cognito user.
MAX_UNTIL = timedelta(days=3660)
# Cognito's sub and jti values are UUIDs; this admits any printable token id
# without spaces, '#' (the store's key separator) or '/' (it travels in a URL path).
_VALUE = re.compile(r"^[A-Za-z0-9._:@+=~-]{1,256}$")


@dataclass(frozen=True, slots=True, order=True)
class Target:
    """What a revocation refuses; ``id`` (``sub:<value>``) names it in URLs and the CLI."""

    kind: RevocationKind
    value: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown revocation kind {self.kind!r}: expected {', '.join(KINDS)}")
        if not isinstance(self.value, str) or not _VALUE.fullmatch(self.value):
            raise ValueError(
                f"invalid {self.kind} {self.value!r}: 1 to 256 characters of letters, digits "
                "and . _ : @ + = ~ -"
            )

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.value}"

    @classmethod
    def parse(cls, text: str) -> Target:
        """``sub:<value>``, ``origin_jti:<value>`` or ``jti:<value>``; ValueError otherwise."""
        kind, sep, value = text.partition(":")
        if not sep or kind not in KINDS:
            raise ValueError(
                f"invalid revocation id {text!r}: expected sub:VALUE, origin_jti:VALUE or jti:VALUE"
            )
        return cls(kind, value)

    def __str__(self) -> str:
        return self.id


def _whole_seconds(at: datetime) -> int:
    return math.ceil(at.timestamp())


def expires_at(
    revoked_at: datetime, until: datetime | None, max_token_lifetime: int, leeway: int = 0
) -> int:
    """When a revocation can no longer refuse a valid token (seconds since the epoch)."""
    cutoff = max(revoked_at, until) if until is not None else revoked_at
    return _whole_seconds(cutoff) + max_token_lifetime + leeway


@dataclass(frozen=True, slots=True)
class Revocation:
    """One stored revocation. ``revoked_at`` and ``until`` are timezone-aware UTC."""

    target: Target
    reason: str
    revoked_by: str
    revoked_at: datetime
    expires_at: int
    until: datetime | None = None

    @classmethod
    def new(
        cls,
        target: Target,
        *,
        reason: str,
        revoked_by: str,
        revoked_at: datetime,
        until: datetime | None = None,
        max_token_lifetime: int,
        leeway: int = 0,
    ) -> Revocation:
        """A revocation written now; ValueError for a bad reason or ``until``."""
        if revoked_at.tzinfo is None or (until is not None and until.tzinfo is None):
            raise ValueError("revocation times must be timezone-aware")
        if until is not None:
            try:
                until = until.astimezone(UTC)
            except OverflowError:
                raise ValueError(f"until is out of range: {until.isoformat()}") from None
        if len(reason) > MAX_REASON_LENGTH:
            raise ValueError(f"reason is longer than {MAX_REASON_LENGTH} characters")
        if until is not None:
            if target.kind != "sub":
                raise ValueError("until applies to a sub revocation only")
            if until <= revoked_at:
                raise ValueError(f"until must lie in the future, got {_iso(until)}")
            if until - revoked_at > MAX_UNTIL:
                raise ValueError(f"until must lie within {MAX_UNTIL.days} days, got {_iso(until)}")
        return cls(
            target=target,
            reason=reason,
            revoked_by=revoked_by,
            revoked_at=revoked_at.astimezone(UTC),
            expires_at=expires_at(revoked_at, until, max_token_lifetime, leeway),
            until=until,
        )

    @property
    def cutoff(self) -> int:
        """Tokens of a ``sub`` issued or signed in at or before this second are refused."""
        last = max(self.revoked_at, self.until) if self.until is not None else self.revoked_at
        return _whole_seconds(last)

    def live(self, now: float) -> bool:
        """True until the revocation expires (DynamoDB deletes expired items late: readers ask)."""
        return now < self.expires_at

    def blocks_sign_in(self, now: float) -> bool:
        """True while an ``until`` revocation of a user is in force (the pre token trigger)."""
        until = self.until
        return self.target.kind == "sub" and until is not None and now <= until.timestamp()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.target.id,
            "kind": self.target.kind,
            "value": self.target.value,
            "reason": self.reason,
            "revoked_by": self.revoked_by,
            "revoked_at": _iso(self.revoked_at),
            "until": _iso(self.until) if self.until is not None else None,
            "expires_at": _iso(datetime.fromtimestamp(self.expires_at, UTC)),
        }


@dataclass(frozen=True, slots=True)
class RevocationEvent:
    """One audit entry: a revocation written (``revoke``) or lifted (``delete``)."""

    target: Target
    action: Literal["revoke", "delete"]
    at: datetime
    by: str
    reason: str
    until: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.target.id,
            "action": self.action,
            "at": _iso(self.at),
            "by": self.by,
            "reason": self.reason,
            "until": _iso(self.until) if self.until is not None else None,
        }


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _time(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if type(value) is int or type(value) is float:
        return value
    return None


@dataclass(frozen=True, slots=True)
class RevocationSet:
    """The live revocations an authorizer holds.

    ``complete`` is False when the store held more than the authorizer keeps
    (``AUTHZ_REVOCATIONS_MAX_ENTRIES``): a token that matches is still refused,
    and the caller must fail closed for every other token.
    """

    subs: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    origin_jtis: frozenset[str] = frozenset()
    jtis: frozenset[str] = frozenset()
    complete: bool = True
    # When the first revocation held expires (seconds since the epoch): DynamoDB's TTL
    # deletions move no epoch, so the holder reloads once this time has passed.
    first_expiry: float = math.inf

    @classmethod
    def of(cls, revocations: Iterable[Revocation], *, complete: bool = True) -> RevocationSet:
        return cls.from_rows(
            ((r.target, r.cutoff, r.expires_at) for r in revocations), complete=complete
        )

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[Target, int, int]], *, complete: bool = True
    ) -> RevocationSet:
        """The set of (target, cutoff, expires_at) rows, as the store reads them (the cutoff
        matters for a ``sub`` only; the latest of two for one ``sub`` wins)."""
        subs: dict[str, int] = {}
        origins: set[str] = set()
        jtis: set[str] = set()
        first_expiry = math.inf
        for target, cutoff, expires in rows:
            first_expiry = min(first_expiry, expires)
            if target.kind == "sub":
                subs[target.value] = max(subs.get(target.value, 0), cutoff)
            elif target.kind == "origin_jti":
                origins.add(target.value)
            else:
                jtis.add(target.value)
        return cls(
            MappingProxyType(subs), frozenset(origins), frozenset(jtis), complete, first_expiry
        )

    def __len__(self) -> int:
        return len(self.subs) + len(self.origin_jtis) + len(self.jtis)

    def match(self, claims: Mapping[str, Any]) -> Target | None:
        """The revocation that refuses a token with these verified claims, or None."""
        # A claim of another type (a list is unhashable) can match nothing.
        jti = claims.get("jti")
        if type(jti) is str and jti in self.jtis:
            return Target("jti", jti)
        origin = claims.get("origin_jti")
        if type(origin) is str and origin in self.origin_jtis:
            return Target("origin_jti", origin)
        sub = claims.get("sub")
        if type(sub) is not str:
            return None
        cutoff = self.subs.get(sub)
        if cutoff is None:
            return None
        issued = _time(claims, "iat")
        signed_in = _time(claims, "auth_time")
        if issued is None or issued <= cutoff or (signed_in is not None and signed_in <= cutoff):
            return Target("sub", sub)
        return None


EMPTY = RevocationSet()
