"""Helpers for the authorizer tests: events, settable clocks, a verifier of known tokens,
failing stores, policies."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from authz.errors import ExpiredTokenError, StoreUnavailableError
from authz.policy import PolicyDocument, Selector
from authz.revocations import RevocationSet
from authz.settings import CacheConfig
from authz.store.memory import MemoryRepository
from authz.store.types import PolicyRecord
from authz.token.principal import Principal

EVENTS = Path(__file__).resolve().parents[2] / "events"
PLACEHOLDER = "<token>"

ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/{verb}/{path}"


def arn(verb: str, path: str, *, api: str = "abcdef123", stage: str = "prod") -> str:
    """A REST methodArn for ``verb`` and ``path`` (no leading slash in ``path``)."""
    return f"arn:aws:execute-api:us-east-1:123456789012:{api}/{stage}/{verb}/{path.lstrip('/')}"


def _replace(value: Any, token: str | None) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            new = _replace(v, token)
            if new is not _DROP:
                out[k] = new
        return out
    if isinstance(value, list):
        return [x for x in (_replace(v, token) for v in value) if x is not _DROP]
    if isinstance(value, str) and PLACEHOLDER in value:
        return _DROP if token is None else value.replace(PLACEHOLDER, token)
    return value


_DROP: Any = object()


def event(name: str, token: str | None, **overrides: Any) -> dict[str, Any]:
    """The fixture ``tests/events/<name>.json`` with its token placeholder filled in.

    ``token=None`` removes every field that would carry the token (a request
    without credentials); ``overrides`` replace top-level fields.
    """
    raw = json.loads((EVENTS / f"{name}.json").read_text())
    out: dict[str, Any] = _replace(copy.deepcopy(raw), token)
    out.update(overrides)
    return out


class Clock:
    """A clock tests move by hand (monotonic seconds)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# The state machines' wall clock start and cache timings, which their bounds are sums of.
WALL_START = 1_700_000_000.0
EPOCH_CHECK = 5.0
TTL = 30.0
STALE_IF_ERROR = 60.0


def machine_cache(*, max_entries: int, revocations_max_entries: int | None = None) -> CacheConfig:
    """The state machines' cache configuration (``TTL``, ``EPOCH_CHECK``, ``STALE_IF_ERROR``)."""
    more: dict[str, int] = {}
    if revocations_max_entries is not None:  # else CacheConfig's own default
        more["revocations_max_entries"] = revocations_max_entries
    return CacheConfig(
        ttl_seconds=TTL,
        max_entries=max_entries,
        epoch_check_seconds=EPOCH_CHECK,
        stale_if_error_seconds=STALE_IF_ERROR,
        policy_max_bytes=100_000,
        **more,
    )


def principal(
    sub: str,
    exp: float,
    *,
    groups: tuple[str, ...] = (),
    scopes: tuple[str, ...] = (),
    claims: Mapping[str, Any] | None = None,
) -> Principal:
    """A verified access token's principal as a test's verifier returns it."""
    return Principal(
        sub,
        sub,
        "client",
        "access",
        groups,
        scopes,
        "https://issuer.example",
        int(exp),
        {"sub": sub, "username": sub} if claims is None else claims,
    )


class WallClock:
    """Seconds since the epoch from ``start``, moved together with the monotonic ``clock``."""

    def __init__(self, clock: Clock, start: float) -> None:
        self.clock = clock
        self.offset = start - clock.now

    def __call__(self) -> float:
        return self.clock.now + self.offset

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self(), UTC)


class KnownTokens:
    """A TokenVerifier over the tokens ``principal_of`` knows; honours ``exp`` like the real one."""

    def __init__(self, wall_clock: WallClock, principal_of: Callable[[str], Principal]) -> None:
        self.wall_clock = wall_clock
        self.principal_of = principal_of

    def verify(self, token: str) -> Principal:
        principal = self.principal_of(token)
        if self.wall_clock() >= principal.expires_at:
            raise ExpiredTokenError("expired", claim="exp")
        return principal


class Switched:
    """An in-memory store as the authorizer sees it: ``down`` makes every read fail."""

    def __init__(self, inner: MemoryRepository) -> None:
        self.inner = inner
        self.down = False

    def _up(self) -> None:
        if self.down:
            raise StoreUnavailableError("injected: store down")

    def get_many(self, selectors: Sequence[Selector]) -> dict[Selector, PolicyRecord]:
        self._up()
        return self.inner.get_many(selectors)

    def epoch(self) -> int:
        self._up()
        return self.inner.epoch()


class SnapshotReads(Switched):
    """Mixed in before a ``Switched``: the cold start's combined read, as DynamoRepository has."""

    def get_many_with_epoch(
        self, selectors: Sequence[Selector]
    ) -> tuple[dict[Selector, PolicyRecord], int]:
        self._up()
        return self.inner.get_many(selectors), self.inner.epoch()


class FlakyRepository:
    """A real repository behind a switch: while ``down``, every call raises
    StoreUnavailableError like an unreachable DynamoDB; calls are counted."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False
        self.calls: dict[str, int] = {
            "get_many": 0,
            "epoch": 0,
            "get_many_with_epoch": 0,
            "live_revocations": 0,
        }

    def get_many(self, selectors: Sequence[Selector]) -> dict[Selector, PolicyRecord]:
        self.calls["get_many"] += 1
        if self.down:
            raise StoreUnavailableError("injected: DynamoDB unreachable")
        result: dict[Selector, PolicyRecord] = self.inner.get_many(selectors)
        return result

    def get_many_with_epoch(
        self, selectors: Sequence[Selector]
    ) -> tuple[dict[Selector, PolicyRecord], int]:
        self.calls["get_many_with_epoch"] += 1
        if self.down:
            raise StoreUnavailableError("injected: DynamoDB unreachable")
        result: tuple[dict[Selector, PolicyRecord], int] = self.inner.get_many_with_epoch(selectors)
        return result

    def epoch(self) -> int:
        self.calls["epoch"] += 1
        if self.down:
            raise StoreUnavailableError("injected: DynamoDB unreachable")
        result: int = self.inner.epoch()
        return result

    def live_revocations(self, *, max_entries: int) -> RevocationSet:
        # Declared, not left to __getattr__: the authorizer holds revocations
        # only for a repository that has this method (RevocationSource).
        self.calls["live_revocations"] += 1
        if self.down:
            raise StoreUnavailableError("injected: DynamoDB unreachable")
        result: RevocationSet = self.inner.live_revocations(max_entries=max_entries)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class RequestCounter:
    """Counts the HTTP requests a DynamoRepository sends, by operation."""

    def __init__(self, repository: Any) -> None:
        self.by_operation: dict[str, int] = {}
        repository.events.register("before-send.dynamodb", self._count)

    def _count(self, request: Any = None, **kwargs: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"") if request is not None else b""
        if isinstance(target, bytes):
            target = target.decode()
        operation = target.rsplit(".", 1)[-1] or "?"
        self.by_operation[operation] = self.by_operation.get(operation, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())

    def reset(self) -> None:
        self.by_operation.clear()


def allow(*resources: str, sid: str | None = None) -> dict[str, Any]:
    st: dict[str, Any] = {
        "Effect": "Allow",
        "Action": "execute-api:Invoke",
        "Resource": list(resources),
    }
    if sid:
        st["Sid"] = sid
    return st


def deny(*resources: str, sid: str | None = None) -> dict[str, Any]:
    st: dict[str, Any] = {
        "Effect": "Deny",
        "Action": "execute-api:Invoke",
        "Resource": list(resources),
    }
    if sid:
        st["Sid"] = sid
    return st


def document(*statements: Mapping[str, Any]) -> PolicyDocument:
    return PolicyDocument.from_dict({"Version": "2012-10-17", "Statement": list(statements)})


ANY_API = "arn:aws:execute-api:*:*:*"

# The policies most tests load: readers read orders, writers (a scope) create
# them, admins do everything except touch locked orders, users reach only
# their own profile (${sub}), and every verified principal may call /health.
POLICIES: dict[str, PolicyDocument] = {
    "default": document(allow(f"{ANY_API}/*/GET/health", sid="Health")),
    "group:readers": document(
        allow(f"{ANY_API}/*/GET/orders", f"{ANY_API}/*/GET/orders/*", sid="Read")
    ),
    "group:admins": document(
        allow(f"{ANY_API}/*/*/*", sid="Everything"),
        deny(f"{ANY_API}/*/DELETE/orders/locked-*", sid="Locked"),
    ),
    "group:users": document(
        allow(f"{ANY_API}/*/GET/users/${{sub}}", f"{ANY_API}/*/*/users/${{sub}}/*", sid="Own"),
    ),
    "group:sockets": document(allow("arn:aws:execute-api:*:*:wsapi12345/*", sid="Connect")),
    "scope:orders/write": document(allow(f"{ANY_API}/*/POST/orders", sid="Create")),
}


def load(repository: Any, policies: Mapping[str, PolicyDocument] = POLICIES) -> None:
    """Write ``policies`` through the repository (each write bumps the epoch)."""
    for selector, doc in policies.items():
        repository.put(Selector.parse(selector), doc, actor="tests")


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every JSON line written to ``stream`` so far."""
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
