"""One frozen ``Settings`` built from the environment once, at start-up.

Every value is validated here so that a typo fails the cold start with a
message naming the variable, instead of failing open (or closed) at the first
request. Unknown ``AUTHZ_*`` variables are rejected for the same reason: a
misspelt ``AUTHZ_CLIENT_ID`` must not silently leave the default in force.
``AUTHZ_DEV_*`` is left to the local stack and its tests.

Variables that only the token verifier needs (pool, issuers, client ids) are
parsed here but enforced by :meth:`Settings.require_token_config`, so the CLI
can manage policies without knowing the user pool.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlsplit

from authz.errors import ConfigError

__all__ = ["KNOWN_VARIABLES", "Settings", "TokenSource", "default_jwks_url"]

TokenUse = Literal["access", "id", "any"]
ResponseKind = Literal["iam", "simple"]

KNOWN_VARIABLES = frozenset(
    {
        "AUTHZ_TABLE",
        "AUTHZ_DYNAMODB_ENDPOINT",
        "AUTHZ_USER_POOL_ID",
        "AUTHZ_ISSUERS",
        "AUTHZ_JWKS_URL",
        "AUTHZ_JWKS_JSON",
        "AUTHZ_CLIENT_IDS",
        "AUTHZ_TOKEN_USE",
        "AUTHZ_LEEWAY_SECONDS",
        "AUTHZ_CACHE_TTL_SECONDS",
        "AUTHZ_CACHE_MAX_ENTRIES",
        "AUTHZ_EPOCH_CHECK_SECONDS",
        "AUTHZ_STALE_IF_ERROR_SECONDS",
        "AUTHZ_RESPONSE",
        "AUTHZ_TOKEN_SOURCE",
        "AUTHZ_ADMIN_GROUP",
        "AUTHZ_POLICY_MAX_BYTES",
        "AUTHZ_STAGE_FLUSH",
        "AUTHZ_RESULT_TTL_SECONDS",
    }
)

_POOL_ID = re.compile(r"^(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
_STAGE_PAIR = re.compile(r"^[A-Za-z0-9]+/[A-Za-z0-9_-]+$")
_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
# Cognito's ClientId pattern is [\w+]+ (1-128); ASCII only here, so a pasted
# quote or a non-ASCII look-alike fails start-up instead of every request.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_+]{1,128}$")
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
_INT = re.compile(r"^[+-]?[0-9]+$")
_FLOAT = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass(frozen=True, slots=True)
class TokenSource:
    """Where a REQUEST/WebSocket event carries the token."""

    kind: Literal["header", "query"]
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class Settings:
    table: str = "authz-policies"
    dynamodb_endpoint: str | None = None
    region: str = "us-east-1"
    user_pool_id: str | None = None
    issuers: tuple[str, ...] = ()
    # issuer -> JWKS URL. Both Cognito issuer formats share the original one's key set.
    jwks_urls: Mapping[str, str] = field(default_factory=dict)
    jwks_json: Mapping[str, Any] | None = None
    # None means the variable was not set; frozenset({"*"}) is the explicit opt-out.
    client_ids: frozenset[str] | None = None
    token_use: TokenUse = "access"
    leeway_seconds: int = 0
    cache_ttl_seconds: int = 300
    cache_max_entries: int = 10_000
    epoch_check_seconds: float = 5.0
    stale_if_error_seconds: int = 60
    response: ResponseKind = "iam"
    token_sources: tuple[TokenSource, ...] = (TokenSource("header", "Authorization"),)
    admin_group: str = "authz-admins"
    policy_max_bytes: int = 8192
    stage_flush: tuple[tuple[str, str], ...] = ()
    # API Gateway's authorizer result TTL; only reported (staleness bound), never enforced here.
    result_ttl_seconds: int = 300

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
        env = dict(os.environ if environ is None else environ)
        unknown = sorted(
            k
            for k in env
            if k.startswith("AUTHZ_")
            and not k.startswith("AUTHZ_DEV_")
            and k not in KNOWN_VARIABLES
        )
        if unknown:
            raise ConfigError(
                unknown[0], f"unknown variable (known: {', '.join(sorted(KNOWN_VARIABLES))})"
            )

        def get(name: str) -> str | None:
            value = env.get(name)
            if value is None:
                return None
            value = value.strip()
            return value or None

        region_var = "AWS_REGION" if get("AWS_REGION") else "AWS_DEFAULT_REGION"
        region = get(region_var) or "us-east-1"
        if not _REGION.match(region):
            raise ConfigError(region_var, f"not a region name: {region!r}")

        table = get("AUTHZ_TABLE") or "authz-policies"
        if not _TABLE.match(table):
            raise ConfigError("AUTHZ_TABLE", f"not a DynamoDB table name: {table!r}")

        endpoint = get("AUTHZ_DYNAMODB_ENDPOINT")
        if endpoint is not None and not re.match(r"^https?://[^\s/]+", endpoint):
            raise ConfigError("AUTHZ_DYNAMODB_ENDPOINT", f"not an http(s) URL: {endpoint!r}")

        pool, issuers = _pool_and_issuers(get)
        jwks_urls = _jwks_urls(get, issuers)
        jwks_json = _jwks_json(get)
        client_ids = _client_ids(get)

        token_use = get("AUTHZ_TOKEN_USE") or "access"
        if token_use not in ("access", "id", "any"):
            raise ConfigError("AUTHZ_TOKEN_USE", f"must be access, id or any, not {token_use!r}")

        response = get("AUTHZ_RESPONSE") or "iam"
        if response not in ("iam", "simple"):
            raise ConfigError("AUTHZ_RESPONSE", f"must be iam or simple, not {response!r}")

        sources = _token_sources(get("AUTHZ_TOKEN_SOURCE") or "header:Authorization")

        admin_group = get("AUTHZ_ADMIN_GROUP") or "authz-admins"
        if len(admin_group) > 128:
            raise ConfigError(
                "AUTHZ_ADMIN_GROUP", "longer than Cognito's 128-character group names"
            )

        return cls(
            table=table,
            dynamodb_endpoint=endpoint,
            region=region,
            user_pool_id=pool,
            issuers=issuers,
            jwks_urls=jwks_urls,
            jwks_json=jwks_json,
            client_ids=client_ids,
            token_use=token_use,  # type: ignore[arg-type]  # checked above
            leeway_seconds=_int(get, "AUTHZ_LEEWAY_SECONDS", 0, 0, 600),
            cache_ttl_seconds=_int(get, "AUTHZ_CACHE_TTL_SECONDS", 300, 0, 86_400),
            cache_max_entries=_int(get, "AUTHZ_CACHE_MAX_ENTRIES", 10_000, 1, 10_000_000),
            epoch_check_seconds=_float(get, "AUTHZ_EPOCH_CHECK_SECONDS", 5.0, 0.0, 3600.0),
            stale_if_error_seconds=_int(get, "AUTHZ_STALE_IF_ERROR_SECONDS", 60, 0, 86_400),
            response=response,  # type: ignore[arg-type]  # checked above
            token_sources=sources,
            admin_group=admin_group,
            policy_max_bytes=_int(get, "AUTHZ_POLICY_MAX_BYTES", 8192, 256, 1_000_000),
            stage_flush=_stage_flush(get),
            result_ttl_seconds=_int(get, "AUTHZ_RESULT_TTL_SECONDS", 300, 0, 3600),
        )


_Get = Callable[[str], str | None]


def _pool_and_issuers(get: _Get) -> tuple[str | None, tuple[str, ...]]:
    pool = get("AUTHZ_USER_POOL_ID")
    pool_region = None
    if pool is not None:
        m = _POOL_ID.match(pool)
        if not m:
            raise ConfigError(
                "AUTHZ_USER_POOL_ID", f"not a user pool id like us-east-1_AbC123: {pool!r}"
            )
        pool_region = m.group("region")
    issuers_raw = get("AUTHZ_ISSUERS")
    if issuers_raw is not None:
        issuers = tuple(i.strip() for i in issuers_raw.split(",") if i.strip())
        if not issuers:
            raise ConfigError("AUTHZ_ISSUERS", "empty; name at least one issuer URL")
        for iss in issuers:
            if not _URL.match(iss):
                raise ConfigError("AUTHZ_ISSUERS", f"not an issuer URL: {iss!r}")
        return pool, issuers
    if pool is None:
        return None, ()
    # Cognito signs with the original issuer unless the pool opted into the
    # multi-region format; either may appear, both are the same pool.
    return pool, (
        f"https://cognito-idp.{pool_region}.amazonaws.com/{pool}",
        f"https://issuer-cognito-idp.{pool_region}.amazonaws.com/{pool}",
    )


def _jwks_urls(get: _Get, issuers: tuple[str, ...]) -> Mapping[str, str]:
    jwks_url = get("AUTHZ_JWKS_URL")
    if jwks_url is not None:
        _require_safe_url("AUTHZ_JWKS_URL", jwks_url)
        return MappingProxyType(dict.fromkeys(issuers, jwks_url))
    urls = {iss: default_jwks_url(iss) for iss in issuers}
    for url in urls.values():
        # Plain http would let anyone on the path swap the keys.
        _require_safe_url("AUTHZ_ISSUERS", url, what="JWKS URL derived from the issuer")
    return MappingProxyType(urls)


def _jwks_json(get: _Get) -> Mapping[str, Any] | None:
    raw = get("AUTHZ_JWKS_JSON")
    if raw is None:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise ConfigError("AUTHZ_JWKS_JSON", f"not JSON: {exc}") from exc
    if (
        not isinstance(parsed, dict)
        or not isinstance(parsed.get("keys"), list)
        or not all(isinstance(k, dict) for k in parsed["keys"])
    ):
        raise ConfigError("AUTHZ_JWKS_JSON", 'must be a JWKS object: {"keys": [{...}]}')
    return parsed


def _client_ids(get: _Get) -> frozenset[str] | None:
    raw = get("AUTHZ_CLIENT_IDS")
    if raw is None:
        return None  # require_token_config() refuses this when tokens are verified
    ids = frozenset(c.strip() for c in raw.split(",") if c.strip())
    if not ids:
        raise ConfigError("AUTHZ_CLIENT_IDS", "empty; name client ids or '*'")
    if "*" in ids and len(ids) > 1:
        raise ConfigError("AUTHZ_CLIENT_IDS", "'*' disables the check; do not mix it with ids")
    for cid in sorted(ids - {"*"}):
        if not _CLIENT_ID.match(cid):
            raise ConfigError("AUTHZ_CLIENT_IDS", f"not an app client id: {cid!r}")
    return ids


def _stage_flush(get: _Get) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    raw = get("AUTHZ_STAGE_FLUSH")
    for pair in (p.strip() for p in (raw or "").split(",") if p.strip()):
        if not _STAGE_PAIR.match(pair):
            raise ConfigError("AUTHZ_STAGE_FLUSH", f"expected restApiId/stage, got {pair!r}")
        api_id, stage = pair.split("/", 1)
        out.append((api_id, stage))
    return tuple(out)


def default_jwks_url(issuer: str) -> str:
    """``<issuer>/.well-known/jwks.json``; the multi-region format maps to the original."""
    # The multi-region issuer format publishes no key set of its own; Cognito
    # serves the pool's keys under the original issuer.
    m = re.match(r"^https://issuer-cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/(.+)$", issuer)
    if m:
        return f"https://cognito-idp.{m.group(1)}.amazonaws.com/{m.group(2)}/.well-known/jwks.json"
    return issuer.rstrip("/") + "/.well-known/jwks.json"


def _require_safe_url(variable: str, url: str, *, what: str = "URL") -> None:
    if not _URL.match(url):
        raise ConfigError(variable, f"not an http(s) {what}: {url!r}")
    if url.startswith("http://") and urlsplit(url).hostname not in _LOOPBACK_HOSTS:
        raise ConfigError(variable, f"{what} must use https (plain http only on loopback): {url!r}")


def _token_sources(raw: str) -> tuple[TokenSource, ...]:
    out: list[TokenSource] = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        kind, sep, name = part.partition(":")
        if not sep or kind not in ("header", "query") or not re.match(r"^[A-Za-z0-9_.-]+$", name):
            raise ConfigError(
                "AUTHZ_TOKEN_SOURCE",
                f"expected header:NAME or query:NAME (comma-separated), got {part!r}",
            )
        out.append(TokenSource(kind, name))  # type: ignore[arg-type]  # checked above
    if not out:
        raise ConfigError("AUTHZ_TOKEN_SOURCE", "empty")
    return tuple(out)


def _int(get: _Get, name: str, default: int, lo: int, hi: int) -> int:
    raw = get(name)
    if raw is None:
        return default
    # int() alone would also take "1_000" and non-ASCII digits.
    if not _INT.match(raw):
        raise ConfigError(name, f"not a whole number: {raw!r}")
    value = int(raw)
    if not lo <= value <= hi:
        raise ConfigError(name, f"must be between {lo} and {hi}, got {value}")
    return value


def _float(get: _Get, name: str, default: float, lo: float, hi: float) -> float:
    raw = get(name)
    if raw is None:
        return default
    # float() alone would also take "nan", "inf" and "1_0".
    if not _FLOAT.match(raw):
        raise ConfigError(name, f"not a number: {raw!r}")
    value = float(raw)
    if not lo <= value <= hi:
        raise ConfigError(name, f"must be between {lo} and {hi}, got {raw}")
    return value
