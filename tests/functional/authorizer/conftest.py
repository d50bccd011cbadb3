"""Wiring for the authorizer handler tests: a preloaded JWKS (no network), the
real repository on DynamoDB Local behind a switch, a hand-moved clock."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pytest

from authz.handlers.authorizer import AuthorizerApp
from authz.handlers.observability import Telemetry
from authz.service import Authorizer
from authz.token import JwksCache, Verifier
from tests.functional.authorizer.support import Clock, FlakyRepository, lines, load
from tests.tokens import KeyPair, access_claims, jwks, mint, settings_for

KEY = KeyPair.generate("authz-authorizer-tests")
OTHER_KEY = KeyPair.generate("authz-authorizer-other")


def no_fetch(url: str) -> Mapping[str, Any]:
    return jwks(KEY)  # the endpoint is up (no network): an unknown kid is a 401, not an outage


def token(
    sub: str = "alice", *, groups: tuple[str, ...] = (), key: KeyPair = KEY, **claims: Any
) -> str:
    """An access token signed by the test key that the app's JWKS holds."""
    scopes = claims.pop("scopes", ())
    return mint(access_claims(sub=sub, groups=groups, scopes=scopes, **claims), key)


@dataclass
class Harness:
    app: AuthorizerApp
    authorizer: Authorizer
    store: FlakyRepository
    clock: Clock
    out: io.StringIO

    def __call__(self, event: dict[str, Any]) -> Any:
        return self.app(event, None)

    def decisions(self) -> list[dict[str, Any]]:
        return [line for line in lines(self.out) if line.get("message") == "decision"]

    def log(self) -> list[dict[str, Any]]:
        return lines(self.out)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def loaded(repository: Any) -> Any:
    """The repository with the standard test policies stored."""
    load(repository)
    return repository


@pytest.fixture
def harness(loaded: Any, clock: Clock) -> Callable[..., Harness]:
    """Build the handler's app around the real repository; keyword args are
    AUTHZ_* settings (``AUTHZ_RESPONSE="simple"``) or Authorizer knobs."""

    def make(**options: Any) -> Harness:
        env = {k: str(v) for k, v in options.items() if k.startswith("AUTHZ_")}
        knobs = {k: v for k, v in options.items() if not k.startswith("AUTHZ_")}
        settings = settings_for(jwks_json=jwks(KEY), **env)
        verifier = Verifier(settings, jwks=JwksCache(fetcher=no_fetch))
        store = FlakyRepository(loaded)
        authorizer = Authorizer(
            verifier, store, cache=replace(settings.cache, **knobs), clock=clock
        )
        out = io.StringIO()
        app = AuthorizerApp(settings, authorizer, Telemetry(stream=out, environ={}))
        return Harness(app, authorizer, store, clock, out)

    return make
