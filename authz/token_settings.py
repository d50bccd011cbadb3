"""Token settings of a group: what the pre token generation trigger adds to its members' tokens.

A group's policy item may carry ``{"scopes": [...], "claims": {...}}``. The
admin API and the CLI validate it with :meth:`TokenSettings.from_dict` before
a write; the trigger validates it again at read time, so an item written
around the API can still never put a reserved claim into a token.

Rules (Cognito's pre token generation trigger, event versions 1-3):

- ``scopes``: RFC 6749 scope-tokens, no duplicates, at most ``MAX_SCOPES``.
  The scopes Cognito manages itself are refused in any letter case:
  ``aws.cognito.signin.user.admin`` (the self-service user API) and the
  OpenID Connect scopes ``openid``, ``profile``, ``email`` and ``phone``
  (each stands for "Cognito released these attributes", which a group
  cannot vouch for).
- ``claims``: names of 1-128 characters without whitespace or control
  characters. Values are what a version 2/3 event accepts: a string, a
  number, a boolean, an array of those, or a JSON object (``null`` is not a
  value; there is no "remove" here). Numbers must be finite; integers must
  fit IEEE-754 doubles exactly (|n| <= 2**53 - 1) because token consumers are
  often JavaScript.
- Reserved claims can never be set: Cognito's documented list of claims the
  trigger cannot add or modify (``acr``, ``amr``, ``aud``, ``at_hash``,
  ``auth_time``, ``azp``, ``cognito:username``, ``exp``, ``iat``,
  ``identities``, ``iss``, ``jti``, ``nbf``, ``nonce``, ``origin_jti``, ``sub``,
  ``token_use``, and ``dev:*`` developer attributes), the claims Cognito sets
  in access tokens (``client_id``, ``scope``, ``username``, ``event_id``,
  ``device_key``, ``version``), every ``cognito:*`` claim (groups, roles and
  preferred role go through ``groupOverrideDetails``, never claims), and the
  verification claims (``email_verified``, ``phone_number_verified``) that
  applications trust as Cognito's own statement.
- Identity claims can never be set either: the OpenID Connect standard
  claims (``email``, ``phone_number``, ``preferred_username``, ``name`` ...)
  and ``custom:*`` attributes. Cognito keeps the real ``email_verified:
  true`` in the token, so a group-supplied ``email`` would read as a verified
  address of the editor's choosing, for every app client of the pool.
- Names are compared case-insensitively (after NFKC and case folding): a
  consumer that looks claims up without regard to case, or a lookalike such
  as ``Sub`` or ``Cognito:groups``, must not see a forged identity claim.
- The canonical JSON form must fit ``MAX_BYTES``: tokens travel in headers.

Sources: the Amazon Cognito Developer Guide, "Pre token generation Lambda
trigger" (the list of claims that cannot be modified; the V2_0 value types;
the ID-token exceptions for complex values) and the access token claims it
documents (``client_id``, ``scope``, ``username``, ``event_id``,
``device_key``, ``version``, ``origin_jti``, ``jti``).
"""

# Over ~300 lines on purpose: a third is the rule list above and the reserved-name
# tables below, which are read together with the checks that apply them.

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from authz.errors import TokenSettingsError
from authz.policy.selector import valid_scope_name
from authz.validation import Problems

__all__ = [
    "MAX_BYTES",
    "MAX_CLAIMS",
    "MAX_SCOPES",
    "OIDC_STANDARD_CLAIMS",
    "RESERVED_CLAIMS",
    "RESERVED_CLAIM_PREFIXES",
    "RESERVED_SCOPES",
    "Conflict",
    "MergedTokenSettings",
    "TokenSettings",
    "claim_name_problem",
    "claim_value_problem",
    "merge_token_settings",
]

MAX_SCOPES = 50
MAX_CLAIMS = 50
MAX_CLAIM_NAME = 128
MAX_DEPTH = 5  # nesting of arrays/objects inside one claim value
MAX_BYTES = 8192  # canonical JSON of the whole settings object
_MAX_SAFE_INT = 2**53 - 1

RESERVED_CLAIMS = frozenset(
    {
        # Cognito: claims the trigger cannot add or modify.
        "acr",
        "amr",
        "at_hash",
        "aud",
        "auth_time",
        "azp",
        "c_hash",
        "exp",
        "iat",
        "identities",
        "iss",
        "jti",
        "nbf",
        "nonce",
        "origin_jti",
        "sub",
        "token_use",
        # Set by Cognito in access tokens; authz reads several of them as identity.
        "client_id",
        "device_key",
        "event_id",
        "scope",
        "username",
        "version",
        # Applications trust these as Cognito's verification of an attribute.
        "email_verified",
        "phone_number_verified",
    }
)
# OpenID Connect Core 1.0, section 5.1 (minus the reserved *_verified and sub).
OIDC_STANDARD_CLAIMS = frozenset(
    {
        "address",
        "birthdate",
        "email",
        "family_name",
        "gender",
        "given_name",
        "locale",
        "middle_name",
        "name",
        "nickname",
        "phone_number",
        "picture",
        "preferred_username",
        "profile",
        "updated_at",
        "website",
        "zoneinfo",
    }
)
RESERVED_CLAIM_PREFIXES = ("cognito:", "custom:", "dev:")
RESERVED_SCOPES = frozenset(
    {"aws.cognito.signin.user.admin", "email", "openid", "phone", "profile"}
)

_KEYS = ("scopes", "claims")


def claim_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a claim name, or None when it can."""
    if not isinstance(name, str):
        return "claim name must be a string"
    if not 0 < len(name) <= MAX_CLAIM_NAME:
        return f"claim name must be 1-{MAX_CLAIM_NAME} characters"
    if any(c.isspace() or unicodedata.category(c)[0] == "C" for c in name):
        return "claim name must not contain whitespace or control characters"
    return _identity_problem(name)


def _fold(text: str) -> str:
    # NFKC first so that compatibility forms (fullwidth letters, the long s)
    # fold onto the ASCII names they imitate.
    return unicodedata.normalize("NFKC", text).casefold()


def _identity_problem(name: str) -> str | None:
    folded = _fold(name)
    variant = "" if folded == name else f" (in any letter case: {folded!r})"
    if folded in RESERVED_CLAIMS:
        return f"{name!r} is a reserved claim{variant}: Cognito or authz sets it, a group cannot"
    if folded in OIDC_STANDARD_CLAIMS:
        return (
            f"{name!r} is an OpenID Connect standard claim{variant}: applications read it "
            "as the user's identity, which only Cognito's user attributes may set"
        )
    for prefix in RESERVED_CLAIM_PREFIXES:
        if folded.startswith(prefix):
            return f"claims starting with {prefix!r} are reserved, in any letter case"
    return None


def claim_value_problem(value: object, depth: int = 0) -> str | None:
    """Why ``value`` cannot be a claim value (Cognito V2/V3 types), or None when it can."""
    if isinstance(value, (str, bool, int, float)):
        return _scalar_problem(value)
    if value is None:
        return "null is not a claim value"
    if depth >= MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, list):
        return _array_problem(value, depth)
    if isinstance(value, dict):
        return _object_problem(value, depth)
    return (
        f"unsupported type {type(value).__name__}: "
        "expected string, number, boolean, array or object"
    )


def _scalar_problem(value: str | bool | int | float) -> str | None:
    if isinstance(value, str):
        if any("\ud800" <= c <= "\udfff" for c in value):
            # Parses from JSON escapes, but can never be encoded into a token.
            return "not valid Unicode (a lone UTF-16 surrogate)"
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            return f"integers must be within +/-{_MAX_SAFE_INT} (exact in JSON consumers)"
        return None
    return None if math.isfinite(value) else "numbers must be finite"


def _array_problem(value: list[Any], depth: int) -> str | None:
    for item in value:
        if isinstance(item, (list, dict)):
            return "arrays may hold only strings, numbers and booleans"
        problem = claim_value_problem(item, depth + 1)
        if problem:
            return problem
    return None


def _object_problem(value: dict[Any, Any], depth: int) -> str | None:
    for key, item in value.items():
        if not isinstance(key, str):
            return "object keys must be strings"
        problem = claim_value_problem(item, depth + 1)
        if problem:
            return f"{key!r}: {problem}"
    return None


@dataclass(frozen=True, slots=True)
class TokenSettings:
    """Validated scopes and claims; build with :meth:`from_dict`."""

    scopes: tuple[str, ...] = ()
    claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def empty(self) -> bool:
        return not self.scopes and not self.claims

    @classmethod
    def from_dict(cls, obj: object) -> TokenSettings:
        """Validate; raise TokenSettingsError listing every problem with its JSON path."""
        settings, errors = _parse(obj)
        if errors:
            raise TokenSettingsError(errors)
        problems = Problems()
        try:
            size = len(_canonical_json(settings).encode())
        except UnicodeEncodeError:
            # A lone surrogate (from a JSON escape) somewhere the checks above
            # do not look, e.g. a key inside an object-valued claim.
            problems.add("token", "not valid Unicode (a lone surrogate)")
        else:
            if size > MAX_BYTES:
                problems.add("token", f"{size} bytes as JSON; at most {MAX_BYTES}")
        if problems:
            raise TokenSettingsError(problems.as_list())
        return settings

    @classmethod
    def from_stored(cls, obj: object) -> tuple[TokenSettings, list[dict[str, str]]]:
        """Lenient read of a stored item: every valid entry kept, every bad one dropped
        and reported. The trigger uses this so that one bad claim written around the
        admin API neither reaches a token nor blocks its group's other settings."""
        return _parse(obj)

    def to_dict(self) -> dict[str, Any]:
        """Canonical form: sorted scopes, claims sorted by name, empty parts left out."""
        out: dict[str, Any] = {}
        if self.scopes:
            out["scopes"] = list(self.scopes)
        if self.claims:
            out["claims"] = json.loads(json.dumps(dict(self.claims), sort_keys=True))
        return out


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two groups set one claim to different values; ``winner`` is the group whose value is used."""

    claim: str
    winner: str
    losers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MergedTokenSettings:
    scopes: tuple[str, ...]
    claims: Mapping[str, Any]
    conflicts: tuple[Conflict, ...]

    @property
    def empty(self) -> bool:
        return not self.scopes and not self.claims


def merge_token_settings(by_group: Mapping[str, TokenSettings]) -> MergedTokenSettings:
    """Combine the settings of a user's groups, independent of the order they arrive in.

    Scopes are the sorted union. A claim set by several groups takes the value of
    the group whose name sorts first (code-point order). Cognito documents no
    order for ``groupsToOverride`` (group precedence only decides
    ``cognito:roles``/``cognito:preferred_role``, and equal precedences have no
    order at all), so the event's order cannot be the rule; the name order is
    one an operator can see and control. Disagreements are reported as
    ``conflicts`` so they can be logged.
    """
    scopes: set[str] = set()
    claims: dict[str, Any] = {}
    winner: dict[str, str] = {}
    losers: dict[str, list[str]] = {}
    for group in sorted(by_group):
        settings = by_group[group]
        scopes.update(settings.scopes)
        for name, value in settings.claims.items():
            if name not in claims:
                claims[name] = value
                winner[name] = group
            elif _json(value) != _json(claims[name]):
                losers.setdefault(name, []).append(group)
    conflicts = tuple(Conflict(n, winner[n], tuple(g)) for n, g in sorted(losers.items()))
    return MergedTokenSettings(
        tuple(sorted(scopes)), MappingProxyType(dict(sorted(claims.items()))), conflicts
    )


def _parse(obj: object) -> tuple[TokenSettings, list[dict[str, str]]]:
    problems = Problems()
    if not isinstance(obj, Mapping):
        problems.add("token", "must be an object")
        return TokenSettings(), problems.as_list()
    for key in sorted((k for k in obj if k not in _KEYS), key=str):
        problems.add(f"token.{key}", "unknown key: only 'scopes' and 'claims' are allowed")
    scopes = _scopes(obj.get("scopes", []), problems.add)
    claims = _claims(obj.get("claims", {}), problems.add)
    # A deep copy through JSON detaches the settings from the caller's objects,
    # so mutating the input later cannot change validated settings.
    frozen: dict[str, Any] = json.loads(json.dumps(claims, sort_keys=True))
    settings = TokenSettings(tuple(sorted(scopes)), MappingProxyType(frozen))
    return settings, problems.as_list()


def _scopes(raw_scopes: object, err: Callable[[str, str], None]) -> list[str]:
    """The valid scopes of ``raw_scopes``, in order; each problem reported."""
    if not isinstance(raw_scopes, list):
        err("token.scopes", "must be a list of scope names")
        return []
    if len(raw_scopes) > MAX_SCOPES:
        err("token.scopes", f"at most {MAX_SCOPES} scopes, got {len(raw_scopes)}")
    scopes: list[str] = []
    for i, scope in enumerate(raw_scopes):
        path = f"token.scopes[{i}]"
        if not isinstance(scope, str) or not valid_scope_name(scope):
            err(
                path,
                f"invalid scope {scope!r}: 1-256 printable ASCII characters "
                "other than space, '\"' and '\\' (RFC 6749)",
            )
        elif _fold(scope) in RESERVED_SCOPES:
            err(path, f"{scope!r} is Cognito's own scope and cannot be granted by a group")
        elif scope in scopes:
            err(path, f"duplicate scope {scope!r}")
        else:
            scopes.append(scope)
    return scopes


def _claims(raw_claims: object, err: Callable[[str, str], None]) -> dict[str, Any]:
    """The valid claims of ``raw_claims``; each problem reported."""
    if not isinstance(raw_claims, Mapping):
        err("token.claims", "must be an object of claim name to value")
        return {}
    if len(raw_claims) > MAX_CLAIMS:
        err("token.claims", f"at most {MAX_CLAIMS} claims, got {len(raw_claims)}")
    claims: dict[str, Any] = {}
    for name in sorted(raw_claims, key=str):
        problem = claim_name_problem(name)
        if problem is None:
            problem = claim_value_problem(raw_claims[name])
        if problem is not None:
            err(f"token.claims.{name}", problem)
        else:
            claims[name] = raw_claims[name]
    return claims


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical_json(settings: TokenSettings) -> str:
    return _json({"scopes": list(settings.scopes), "claims": dict(settings.claims)})
