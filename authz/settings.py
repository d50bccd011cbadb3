"""One frozen ``Settings`` built from the environment once, at start-up.

Every value is validated here so that a typo fails the cold start with a
message naming the variable, instead of failing open (or closed) at the first
request. Unknown ``AUTHZ_*`` variables are rejected for the same reason: a
misspelt ``AUTHZ_CLIENT_ID`` must not silently leave the default in force.
``AUTHZ_DEV_*`` is left to the local stack and its tests.

Each setting is declared once, on its ``Settings`` field: the variable's name,
the default and the parser with its bounds (``authz.envvars``). ``SETTINGS``,
``KNOWN_VARIABLES``, ``from_env`` and ``CacheConfig``'s defaults are derived
from those declarations. Two fields are derived rather than read: ``issuers``
falls back to the pool's two issuer URLs, and ``jwks_urls`` maps every issuer
to ``AUTHZ_JWKS_URL`` or to its default key-set URL.

Variables that only the token verifier needs (pool, issuers, client ids) are
parsed here but enforced by :meth:`Settings.require_token_config`, so the CLI
can manage policies without knowing the user pool.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from authz.envvars import (
    UNSET,
    Setting,
    boolean,
    float_in,
    int_in,
    matching,
    one_of,
    read,
    setting,
)
from authz.errors import ConfigError
from authz.netloc import is_loopback_url
from authz.policy.arn import REGION_PATTERN

__all__ = [
    "KNOWN_VARIABLES",
    "SETTINGS",
    "CacheConfig",
    "Settings",
    "TokenSource",
    "default_jwks_url",
]

TokenUse = Literal["access", "id", "any"]
ResponseKind = Literal["iam", "simple"]

_POOL_ID = re.compile(rf"^(?P<region>{REGION_PATTERN})_[0-9A-Za-z]+$")
_REGION = re.compile(rf"^{REGION_PATTERN}$")
_STAGE_PAIR = re.compile(r"^[A-Za-z0-9]+/[A-Za-z0-9_-]+$")
_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_ENDPOINT = re.compile(r"^https?://[^\s/]+")
# Cognito's ClientId pattern is [\w+]+ (1-128); ASCII only here, so a pasted
# quote or a non-ASCII look-alike fails start-up instead of every request.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_+]{1,128}$")
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
# A hosted UI domain is an origin: the console appends /oauth2/authorize and /oauth2/token,
# and the CSP names it as a source, where a path or query would not mean what it says.
_HOSTED_DOMAIN = re.compile(
    r"^https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::(?P<port>[0-9]{1,5}))?/?$"
)
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


# Parsers --------------------------------------------------------------------


def _pool_id(raw: str) -> str:
    if not _POOL_ID.match(raw):
        raise ValueError(f"not a user pool id like us-east-1_AbC123: {raw!r}")
    return raw


def _issuers(raw: str) -> tuple[str, ...]:
    issuers = tuple(i.strip() for i in raw.split(",") if i.strip())
    if not issuers:
        raise ValueError("empty; name at least one issuer URL")
    for iss in issuers:
        if not _URL.match(iss):
            raise ValueError(f"not an issuer URL: {iss!r}")
    return issuers


def _jwks_json(raw: str) -> Mapping[str, Any]:
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if (
        not isinstance(parsed, dict)
        or not isinstance(parsed.get("keys"), list)
        or not all(isinstance(k, dict) for k in parsed["keys"])
    ):
        raise ValueError('must be a JWKS object: {"keys": [{...}]}')
    return parsed


def _client_ids(raw: str) -> frozenset[str]:
    ids = frozenset(c.strip() for c in raw.split(",") if c.strip())
    if not ids:
        raise ValueError("empty; name client ids or '*'")
    if "*" in ids and len(ids) > 1:
        raise ValueError("'*' disables the check; do not mix it with ids")
    for cid in sorted(ids - {"*"}):
        if not _CLIENT_ID.match(cid):
            raise ValueError(f"not an app client id: {cid!r}")
    return ids


def _token_sources(raw: str) -> tuple[TokenSource, ...]:
    out: list[TokenSource] = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        kind, sep, name = part.partition(":")
        if not sep or kind not in ("header", "query") or not _SOURCE_NAME.match(name):
            raise ValueError(f"expected header:NAME or query:NAME (comma-separated), got {part!r}")
        out.append(TokenSource(kind, name))  # type: ignore[arg-type]  # checked above
    if not out:
        raise ValueError("empty")
    return tuple(out)


def _admin_group(raw: str) -> str:
    if len(raw) > 128:
        raise ValueError("longer than Cognito's 128-character group names")
    return raw


def _stage_flush(raw: str) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for pair in (p.strip() for p in raw.split(",") if p.strip()):
        if not _STAGE_PAIR.match(pair):
            raise ValueError(f"expected restApiId/stage, got {pair!r}")
        api_id, stage = pair.split("/", 1)
        out.append((api_id, stage))
    return tuple(out)


def _hosted_domain(raw: str) -> str:
    match = _HOSTED_DOMAIN.fullmatch(raw)
    port = match["port"] if match else None
    if match is None or (port is not None and not 1 <= int(port) <= 65535):
        raise ValueError(
            "not the https origin of a Cognito hosted UI domain, e.g. "
            f"https://example.auth.us-east-1.amazoncognito.com (no path or query): {raw!r}"
        )
    return raw.rstrip("/")


def _routes(raw: str) -> str:
    # A control character can only be a pasting accident; the route readers report the rest.
    if any(ord(c) < 0x20 and c not in "\r\n\t" for c in raw):
        raise ValueError("contains control characters")
    return raw


def _safe_url(url: str, what: str = "URL") -> str:
    if not _URL.match(url):
        raise ValueError(f"not an http(s) {what}: {url!r}")
    # Plain http would let anyone on the path swap the keys.
    if url.startswith("http://") and not is_loopback_url(url):
        raise ValueError(f"{what} must use https (plain http only on loopback): {url!r}")
    return url


# The settings ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenSource:
    """Where a REQUEST/WebSocket event carries the token."""

    kind: Literal["header", "query"]
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting, in the order ``from_env`` validates them."""

    region: str = setting(
        "AWS_REGION",
        matching(_REGION, "not a region name"),
        "us-east-1",
        fallback_env="AWS_DEFAULT_REGION",
    )
    table: str = setting(
        "AUTHZ_TABLE", matching(_TABLE, "not a DynamoDB table name"), "authz-policies"
    )
    dynamodb_endpoint: str | None = setting(
        "AUTHZ_DYNAMODB_ENDPOINT", matching(_ENDPOINT, "not an http(s) URL"), None
    )
    user_pool_id: str | None = setting("AUTHZ_USER_POOL_ID", _pool_id, None)
    # Unset: both issuer formats of the pool (see _derived).
    issuers: tuple[str, ...] = setting("AUTHZ_ISSUERS", _issuers, ())
    # AUTHZ_JWKS_URL for every issuer, else each issuer's own key set (see _derived).
    jwks_url: str | None = setting("AUTHZ_JWKS_URL", _safe_url, None)
    # issuer -> JWKS URL. Both Cognito issuer formats share the original one's key set.
    jwks_urls: Mapping[str, str] = field(default_factory=dict)
    jwks_json: Mapping[str, Any] | None = setting("AUTHZ_JWKS_JSON", _jwks_json, None)
    # None means the variable was not set; frozenset({"*"}) is the explicit opt-out.
    client_ids: frozenset[str] | None = setting("AUTHZ_CLIENT_IDS", _client_ids, None)
    token_use: TokenUse = setting("AUTHZ_TOKEN_USE", one_of(TokenUse), "access")
    response: ResponseKind = setting("AUTHZ_RESPONSE", one_of(ResponseKind), "iam")
    token_sources: tuple[TokenSource, ...] = setting(
        "AUTHZ_TOKEN_SOURCE", _token_sources, (TokenSource("header", "Authorization"),)
    )
    admin_group: str = setting("AUTHZ_ADMIN_GROUP", _admin_group, "authz-admins")
    leeway_seconds: int = setting("AUTHZ_LEEWAY_SECONDS", int_in(0, 600), 0)
    cache_ttl_seconds: int = setting("AUTHZ_CACHE_TTL_SECONDS", int_in(0, 86_400), 300)
    cache_max_entries: int = setting("AUTHZ_CACHE_MAX_ENTRIES", int_in(1, 10_000_000), 10_000)
    epoch_check_seconds: float = setting("AUTHZ_EPOCH_CHECK_SECONDS", float_in(0.0, 3600.0), 5.0)
    stale_if_error_seconds: int = setting("AUTHZ_STALE_IF_ERROR_SECONDS", int_in(0, 86_400), 60)
    policy_max_bytes: int = setting("AUTHZ_POLICY_MAX_BYTES", int_in(256, 1_000_000), 8192)
    stage_flush: tuple[tuple[str, str], ...] = setting("AUTHZ_STAGE_FLUSH", _stage_flush, ())
    # API Gateway's authorizer result TTL; only reported (staleness bound), never enforced here.
    result_ttl_seconds: int = setting("AUTHZ_RESULT_TTL_SECONDS", int_in(0, 3600), 300)
    # The protected API's routes for the admin API's access matrix: an inline list or the path of
    # a bundled route file. Kept as text: the route readers (authz.matrix) sit above this layer,
    # and only the admin Lambda parses it, at its own start (authz.handlers.admin.access).
    routes: str | None = setting("AUTHZ_ROUTES", _routes, None)
    # How long a revocation is kept after its cutoff: at least the pool's longest access or ID
    # token lifetime (a day at most), or its refresh token lifetime (up to 3650 days) to keep
    # the sessions it names refused for their whole life.
    max_token_lifetime_seconds: int = setting(
        "AUTHZ_MAX_TOKEN_LIFETIME_SECONDS", int_in(300, 3650 * 86_400), 86_400
    )
    # The most live revocations an authorizer holds; beyond it, it refuses to decide (fails closed).
    revocations_max_entries: int = setting(
        "AUTHZ_REVOCATIONS_MAX_ENTRIES", int_in(1, 1_000_000), 100_000
    )
    # The pre token trigger fails the sign-in of a user under an active `until` revocation.
    pretoken_block_revoked: bool = setting("AUTHZ_PRETOKEN_BLOCK_REVOKED", boolean, False)
    # X-Ray tracing of the Lambda handlers; off unless asked for: the X-Ray SDK slows cold starts.
    tracing: bool = setting("AUTHZ_TRACING", boolean, False)
    # The console's Cognito hosted UI sign-in (admin API only): both or neither (see _derived).
    console_domain: str | None = setting("AUTHZ_CONSOLE_DOMAIN", _hosted_domain, None)
    console_client_id: str | None = setting(
        "AUTHZ_CONSOLE_CLIENT_ID", matching(_CLIENT_ID, "not an app client id"), None
    )

    @property
    def cache(self) -> CacheConfig:
        return CacheConfig(
            ttl_seconds=float(self.cache_ttl_seconds),
            max_entries=self.cache_max_entries,
            epoch_check_seconds=float(self.epoch_check_seconds),
            stale_if_error_seconds=float(self.stale_if_error_seconds),
            policy_max_bytes=self.policy_max_bytes,
            revocations_max_entries=self.revocations_max_entries,
        )

    @property
    def client_check_disabled(self) -> bool:
        return self.client_ids is not None and "*" in self.client_ids

    def require_token_config(self) -> None:
        """Fail unless the verifier can run: issuers known, client ids set."""
        if not self.issuers:
            raise ConfigError(
                "AUTHZ_USER_POOL_ID",
                "required to verify tokens (or set AUTHZ_ISSUERS); e.g. us-east-1_AbCdEf123",
            )
        if self.client_ids is None:
            raise ConfigError(
                "AUTHZ_CLIENT_IDS",
                "required: comma-separated app client ids, or '*' to disable the check on purpose",
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every variable; ``environ`` defaults to ``os.environ``."""
        env = os.environ if environ is None else environ
        _reject_unknown(env)
        values = {name: read(env, spec) for name, spec in SETTINGS.items()}
        return cls(**_derived(values))


SETTINGS: Mapping[str, Setting] = MappingProxyType(
    {f.name: f.metadata["setting"] for f in dataclasses.fields(Settings) if f.metadata}
)
"""Field name -> its variable, in validation order: the one table every reader derives from."""

KNOWN_VARIABLES = frozenset(s.env for s in SETTINGS.values() if s.env.startswith("AUTHZ_"))


def _reject_unknown(env: Mapping[str, str]) -> None:
    unknown = sorted(
        k
        for k in env
        if k.startswith("AUTHZ_") and not k.startswith("AUTHZ_DEV_") and k not in KNOWN_VARIABLES
    )
    if unknown:
        raise ConfigError(
            unknown[0], f"unknown variable (known: {', '.join(sorted(KNOWN_VARIABLES))})"
        )


def _check_console(values: Mapping[str, Any]) -> None:
    """The hosted UI needs its domain and its app client; half of it is a typo, not a choice.

    The console's client must also be one whose tokens the authorizer accepts,
    or every console sign-in would end in a 401 that no page can explain.
    """
    domain, client = values["console_domain"], values["console_client_id"]
    if (domain is UNSET) != (client is UNSET):
        missing, given = (
            ("AUTHZ_CONSOLE_CLIENT_ID", "AUTHZ_CONSOLE_DOMAIN")
            if client is UNSET
            else ("AUTHZ_CONSOLE_DOMAIN", "AUTHZ_CONSOLE_CLIENT_ID")
        )
        raise ConfigError(
            missing, f"required when {given} is set (the console's hosted UI needs both)"
        )
    ids = values["client_ids"]
    if client is not UNSET and ids is not UNSET and "*" not in ids and client not in ids:
        raise ConfigError(
            "AUTHZ_CONSOLE_CLIENT_ID",
            f"{client!r} is not in AUTHZ_CLIENT_IDS: the authorizer would refuse its tokens",
        )


def _derived(values: dict[str, Any]) -> dict[str, Any]:
    """Fill in the issuers from the pool, and every issuer's JWKS URL."""
    _check_console(values)
    pool, issuers = values["user_pool_id"], values["issuers"]
    if issuers is UNSET and pool is not UNSET:
        # Cognito signs with the original issuer unless the pool opted into the
        # multi-region format; either may appear, both are the same pool.
        region = pool.split("_", 1)[0]
        issuers = values["issuers"] = (
            f"https://cognito-idp.{region}.amazonaws.com/{pool}",
            f"https://issuer-cognito-idp.{region}.amazonaws.com/{pool}",
        )
    issuers = () if issuers is UNSET else issuers
    jwks_url = values["jwks_url"]
    if jwks_url is not UNSET:
        values["jwks_urls"] = MappingProxyType(dict.fromkeys(issuers, jwks_url))
    else:
        urls = {iss: default_jwks_url(iss) for iss in issuers}
        for url in urls.values():
            try:
                _safe_url(url, what="JWKS URL derived from the issuer")
            except ValueError as exc:
                raise ConfigError("AUTHZ_ISSUERS", str(exc)) from exc
        values["jwks_urls"] = MappingProxyType(urls)
    return {name: value for name, value in values.items() if value is not UNSET}


def default_jwks_url(issuer: str) -> str:
    """``<issuer>/.well-known/jwks.json``; the multi-region format maps to the original."""
    # The multi-region issuer format publishes no key set of its own; Cognito
    # serves the pool's keys under the original issuer.
    m = re.match(r"^https://issuer-cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/(.+)$", issuer)
    if m:
        return f"https://cognito-idp.{m.group(1)}.amazonaws.com/{m.group(2)}/.well-known/jwks.json"
    return issuer.rstrip("/") + "/.well-known/jwks.json"


_DEFAULTS = Settings()


@dataclass(frozen=True, slots=True)
class CacheConfig:
    """The authorizer's cache knobs, in one object; ``Settings.cache`` reads them from the env."""

    ttl_seconds: float = float(_DEFAULTS.cache_ttl_seconds)
    max_entries: int = _DEFAULTS.cache_max_entries
    epoch_check_seconds: float = float(_DEFAULTS.epoch_check_seconds)
    stale_if_error_seconds: float = float(_DEFAULTS.stale_if_error_seconds)
    policy_max_bytes: int = _DEFAULTS.policy_max_bytes
    revocations_max_entries: int = _DEFAULTS.revocations_max_entries
