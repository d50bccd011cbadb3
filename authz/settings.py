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
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from authz.errors import ConfigError

__all__ = ["KNOWN_VARIABLES", "Settings", "TokenSource"]

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
        import os

        env = dict(os.environ if environ is None else environ)
        unknown = sorted(
            k
            for k in env
            if k.startswith("AUTHZ_") and not k.startswith("AUTHZ_DEV_") and k not in KNOWN_VARIABLES
        )
        if unknown:
            raise ConfigError(unknown[0], f"unknown variable (known: {', '.join(sorted(KNOWN_VARIABLES))})")

        def get(name: str) -> str | None:
            value = env.get(name)
            if value is None:
                return None
            value = value.strip()
            return value or None

        region = get("AWS_REGION") or get("AWS_DEFAULT_REGION") or "us-east-1"
        if not _REGION.match(region):
            raise ConfigError("AWS_REGION", f"not a region name: {region!r}")

        table = get("AUTHZ_TABLE") or "authz-policies"
        if not _TABLE.match(table):
            raise ConfigError("AUTHZ_TABLE", f"not a DynamoDB table name: {table!r}")

        endpoint = get("AUTHZ_DYNAMODB_ENDPOINT")
        if endpoint is not None and not re.match(r"^https?://[^\s/]+", endpoint):
            raise ConfigError("AUTHZ_DYNAMODB_ENDPOINT", f"not an http(s) URL: {endpoint!r}")

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
            for iss in issuers:
                if not re.match(r"^https?://[^\s]+$", iss):
                    raise ConfigError("AUTHZ_ISSUERS", f"not an issuer URL: {iss!r}")
        elif pool is not None:
            issuers = (
                f"https://cognito-idp.{pool_region}.amazonaws.com/{pool}",
                f"https://issuer-cognito-idp.{pool_region}.amazonaws.com/{pool}",
            )
        else:
            issuers = ()

        jwks_url = get("AUTHZ_JWKS_URL")
        if jwks_url is not None and not re.match(r"^https?://[^\s]+$", jwks_url):
            raise ConfigError("AUTHZ_JWKS_URL", f"not an http(s) URL: {jwks_url!r}")
        jwks_urls = {iss: jwks_url or _default_jwks_url(iss) for iss in issuers}

        jwks_json: Mapping[str, Any] | None = None
        raw_jwks = get("AUTHZ_JWKS_JSON")
        if raw_jwks is not None:
            try:
                parsed = json.loads(raw_jwks)
            except ValueError as exc:
                raise ConfigError("AUTHZ_JWKS_JSON", f"not JSON: {exc}") from exc
            if not isinstance(parsed, dict) or not isinstance(parsed.get("keys"), list):
                raise ConfigError("AUTHZ_JWKS_JSON", 'must be a JWKS object: {"keys": [...]}')
            jwks_json = parsed

        client_ids: frozenset[str] | None = None
        raw_clients = get("AUTHZ_CLIENT_IDS")
        if raw_clients is not None:
            ids = frozenset(c.strip() for c in raw_clients.split(",") if c.strip())
            if not ids:
                raise ConfigError("AUTHZ_CLIENT_IDS", "empty; name client ids or '*'")
            if "*" in ids and len(ids) > 1:
                raise ConfigError("AUTHZ_CLIENT_IDS", "'*' disables the check; do not mix it with ids")
            client_ids = ids

        token_use = get("AUTHZ_TOKEN_USE") or "access"
        if token_use not in ("access", "id", "any"):
            raise ConfigError("AUTHZ_TOKEN_USE", f"must be access, id or any, not {token_use!r}")

        response = get("AUTHZ_RESPONSE") or "iam"
        if response not in ("iam", "simple"):
            raise ConfigError("AUTHZ_RESPONSE", f"must be iam or simple, not {response!r}")

        sources = _token_sources(get("AUTHZ_TOKEN_SOURCE") or "header:Authorization")

        admin_group = get("AUTHZ_ADMIN_GROUP") or "authz-admins"
        if len(admin_group) > 128:
            raise ConfigError("AUTHZ_ADMIN_GROUP", "longer than Cognito's 128-character group names")

        stage_flush: list[tuple[str, str]] = []
        raw_flush = get("AUTHZ_STAGE_FLUSH")
        if raw_flush is not None:
            for pair in (p.strip() for p in raw_flush.split(",") if p.strip()):
                if not _STAGE_PAIR.match(pair):
                    raise ConfigError("AUTHZ_STAGE_FLUSH", f"expected restApiId/stage, got {pair!r}")
                api_id, stage = pair.split("/", 1)
                stage_flush.append((api_id, stage))

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
            stage_flush=tuple(stage_flush),
            result_ttl_seconds=_int(get, "AUTHZ_RESULT_TTL_SECONDS", 300, 0, 3600),
        )


def _default_jwks_url(issuer: str) -> str:
    # The multi-region issuer format publishes no key set of its own; Cognito
    # serves the pool's keys under the original issuer.
    m = re.match(r"^https://issuer-cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/(.+)$", issuer)
    if m:
        return f"https://cognito-idp.{m.group(1)}.amazonaws.com/{m.group(2)}/.well-known/jwks.json"
    return issuer.rstrip("/") + "/.well-known/jwks.json"


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


def _int(get: Any, name: str, default: int, lo: int, hi: int) -> int:
    raw = get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"not a whole number: {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(name, f"must be between {lo} and {hi}, got {value}")
    return value


def _float(get: Any, name: str, default: float, lo: float, hi: float) -> float:
    raw = get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"not a number: {raw!r}") from None
    if not lo <= value <= hi or value != value:
        raise ConfigError(name, f"must be between {lo} and {hi}, got {raw}")
    return value
