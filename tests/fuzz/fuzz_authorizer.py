"""Fuzz target ``authorizer``: the Lambda authorizer's event parsing and responses.

The first input byte picks the event: 0 ``json.loads`` of the rest (anything
at all); otherwise one of the fixtures in ``tests/events/`` (REST TOKEN and
REQUEST, HTTP API 1.0 and 2.0, WebSocket $connect) with its token slot filled
by a valid token, an invalid one or fuzzed text, then mutated structurally.

The handler is built through its seam (``AuthorizerApp(settings,
Authorizer(verifier, repository, ...))``) with a preloaded JWKS whose
endpoint (a fake, no network) serves the same keys, an in-memory repository
and a fixed clock. Two apps run every event:
IAM responses (token sources ``header:Authorization,query:token``) and HTTP
API simple responses. Allowed outcomes (README, "How a request is decided"):

- exactly ``Exception("Unauthorized")``;
- ``AuthorizerError`` (500) whose cause is an unsupported event, a store
  failure or an over-budget policy; one raised by the catch-all for any other
  exception means a bug was hidden behind a 500 and is a finding;
- a response of the documented shape whose context is flat (str/int/bool),
  with an Allow (or ``isAuthorized: true``) ONLY when a valid token is in the
  event and the principal named is that token's subject.

Each event is answered twice (the second time from the verified-token memo);
both answers must agree.
"""

from __future__ import annotations

import copy
import json
import traceback
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from atheris import FuzzedDataProvider

from authz.errors import PolicyTooLargeError, StoreError
from authz.handlers.authorizer import AuthorizerApp, AuthorizerError, UnsupportedEvent
from authz.handlers.observability import Telemetry
from authz.policy import PolicyDocument
from authz.service import Authorizer
from authz.token import JwksCache, Verifier
from tests.fuzz.common import (
    NOW,
    NullStream,
    Vocabulary,
    deterministic_rsa_key,
    fail,
    memory_repository,
    mutate_string,
    mutations,
    pick,
    strings_in,
)
from tests.tokens import (
    ISSUER,
    KeyPair,
    access_claims,
    client_credentials_claims,
    id_claims,
    jwks,
    mint,
    settings_for,
)

__all__ = ["POLICIES", "check", "seeds"]

EVENTS = Path(__file__).resolve().parents[1] / "events"
FIXTURES = ("rest_token", "rest_request", "http_v1", "http_v2", "websocket_connect")
PLACEHOLDER = "<token>"
ANY_API = "arn:aws:execute-api:*:*:*"
_IDS: dict[str, Any] = {"jti": "fuzz-jti", "origin_jti": "fuzz-origin", "event_id": "fuzz-event"}


def _doc(*statements: tuple[str, list[str]]) -> PolicyDocument:
    return PolicyDocument.from_dict(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": e, "Action": "execute-api:Invoke", "Resource": r} for e, r in statements
            ],
        }
    )


POLICIES: dict[str, PolicyDocument] = {
    "default": _doc(("Allow", [f"{ANY_API}/*/GET/health"])),
    "group:readers": _doc(("Allow", [f"{ANY_API}/*/GET/orders", f"{ANY_API}/*/GET/orders/*"])),
    "group:admins": _doc(
        ("Allow", [f"{ANY_API}/*/*/*"]), ("Deny", [f"{ANY_API}/*/DELETE/orders/locked-*"])
    ),
    "group:users": _doc(
        ("Allow", [f"{ANY_API}/*/GET/users/${{sub}}", f"{ANY_API}/*/*/t/${{claim:tenant}}/*"])
    ),
    "group:sockets": _doc(("Allow", ["arn:aws:execute-api:*:*:wsapi12345/*"])),
    "scope:orders/write": _doc(("Allow", [f"{ANY_API}/*/POST/orders"])),
    # Over AUTHZ_POLICY_MAX_BYTES (8192) even compacted: a documented 500.
    "group:huge": _doc(("Allow", [f"{ANY_API}/*/GET/r{i:02d}/{'x' * 200}" for i in range(40)])),
}


def _endpoint(document: Mapping[str, Any]) -> Callable[[str], Mapping[str, Any]]:
    """A JWKS endpoint that is up and serves ``document`` (no network): an unknown kid
    is then a bad token (401); an unreachable one would make it a documented 500."""
    return lambda url: document


class _State:
    """Apps, tokens and fixtures, built once per process."""

    def __init__(self) -> None:
        key = KeyPair("fuzz-key-1", deterministic_rsa_key(1))
        other = KeyPair("fuzz-key-1", deterministic_rsa_key(2))  # same kid, wrong key
        now = NOW - 60
        valid = {
            "reader": access_claims(sub="alice", groups=["readers"], now=now, **_IDS),
            "admin": access_claims(sub="root", groups=["admins", "users"], now=now, **_IDS),
            "user": access_claims(sub="u-1", groups=["users"], tenant="t1", now=now, **_IDS),
            "nobody": access_claims(sub="nobody", scopes=(), now=now, **_IDS),
            "m2m": client_credentials_claims(scopes=("orders/write",), now=now, jti="j"),
            "odd": access_claims(
                sub="odd/sub*", groups=["a b", "x" * 200, "", "ünï", "readers"], now=now, **_IDS
            ),
            "socket": access_claims(sub="ws", groups=["sockets"], now=now, **_IDS),
            "huge": access_claims(sub="big", groups=["huge"], now=now, **_IDS),
        }
        self.valid = {mint(c, key): c["sub"] for c in valid.values()}
        base = access_claims(sub="alice", groups=["admins"], now=now, **_IDS)
        self.invalid = (
            mint({**base, "exp": NOW - 1}, key),
            mint({**base, "iss": ISSUER + "/"}, key),
            mint({**base, "client_id": "otherclient0123456789abcd"}, key),
            mint(id_claims(groups=["admins"], now=now, **_IDS), key),
            mint(base, other),
            mint(base, key, alg="none"),
            mint(base, key, headers={"kid": "unknown"}),
            "not-a-token",
            "",
        )
        self.repository = memory_repository(POLICIES)
        self.apps = (self._app(), self._app(AUTHZ_RESPONSE="simple"))
        self.fixtures = tuple(json.loads((EVENTS / f"{n}.json").read_text()) for n in FIXTURES)
        tokens = (*self.valid, *self.invalid)
        self.vocab = Vocabulary(
            keys=(
                "type",
                "version",
                "methodArn",
                "routeArn",
                "authorizationToken",
                "headers",
                "Authorization",
                "authorization",
                "AUTHORIZATION",
                "queryStringParameters",
                "token",
                "requestContext",
                "eventType",
                "routeKey",
                "identitySource",
            ),
            strings=(
                "TOKEN",
                "REQUEST",
                "1.0",
                "2.0",
                "CONNECT",
                "$connect",
                "Bearer ",
                "bearer  ",
                "BEARER\t",
                "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/orders/42",
                "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/DELETE/orders/locked-1",
                "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/users/u-1",
                "arn:aws:execute-api:us-east-1:123456789012:wsapi12345/prod/$connect",
                "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/",
                "*",
                *(f"Bearer {t}" for t in tokens),
                *tokens,
            ),
            values=(1.0, 2.0, ["Bearer x"], {"Authorization": "Bearer x"}),
        )

    def _app(self, **env: Any) -> AuthorizerApp:
        document = jwks(KeyPair("fuzz-key-1", deterministic_rsa_key(1)))
        settings = settings_for(
            jwks_json=document, AUTHZ_TOKEN_SOURCE="header:Authorization,query:token", **env
        )
        cache = JwksCache(fetcher=_endpoint(document))
        verifier = Verifier(settings, jwks=cache, clock=lambda: float(NOW))
        clock = _Clock()
        authorizer = Authorizer(
            verifier, self.repository, cache=settings.cache, clock=clock, wall_clock=lambda: NOW
        )
        telemetry = Telemetry(stream=NullStream(), environ={})  # type: ignore[arg-type]
        return AuthorizerApp(settings, authorizer, telemetry)


class _Clock:
    """Monotonic seconds that never move: caches stay warm between the two calls."""

    def __call__(self) -> float:
        return 1000.0


@lru_cache(maxsize=1)
def state() -> _State:
    return _State()


def _fill(value: Any, token: str | None) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, token) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, token) for v in value]
    if isinstance(value, str) and PLACEHOLDER in value:
        return value.replace(PLACEHOLDER, token if token is not None else "")
    return value


def _event(data: bytes) -> Any:
    s = state()
    if data[0] % 4 == 0:
        try:
            return json.loads(data[1:])
        except (ValueError, RecursionError):
            return None
    fdp = FuzzedDataProvider(data[1:])
    choice = fdp.ConsumeIntInRange(0, 3)
    if choice < 2:
        token = pick(fdp, list(s.valid))
    elif choice == 2:
        token = pick(fdp, s.invalid)
    else:
        token = mutate_string(fdp, pick(fdp, list(s.valid)), s.vocab)
    event = _fill(copy.deepcopy(pick(fdp, s.fixtures)), token)
    return mutations(fdp, event, s.vocab, 4)


def _bearer(text: str) -> str:
    text = text.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].lstrip()
    return text


def _subjects(event: Any) -> set[str]:
    """Subjects of the valid tokens present anywhere in the event."""
    valid = state().valid
    return {valid[t] for s in strings_in(event) for t in (s, _bearer(s)) if t in valid}


def _answer(app: AuthorizerApp, event: Any) -> tuple[str, Any]:
    try:
        return "response", app(copy.deepcopy(event), None)
    except AuthorizerError as exc:
        cause = exc.__context__
        if not isinstance(cause, (UnsupportedEvent, PolicyTooLargeError, StoreError)):
            detail = "".join(traceback.format_exception(cause)) if cause else None
            fail("a 500 hides an unexpected exception", event=event, cause=detail)
        return "500", type(cause).__name__
    except Exception as exc:
        if type(exc) is Exception and exc.args == ("Unauthorized",):
            return "401", None
        raise


def _check_response(event: Any, response: Any, simple: bool) -> None:
    if not isinstance(response, dict):
        fail("the handler returned something other than a dict", response=response)
    json.dumps(response, allow_nan=False)
    subjects = _subjects(event)
    context = response.get("context", {})
    if not isinstance(context, dict) or not all(
        isinstance(k, str) and type(v) in (str, int, bool) for k, v in context.items()
    ):
        fail("the context is not flat str/int/bool", context=context)
    if simple and set(response) <= {"isAuthorized", "context"} and "isAuthorized" in response:
        allowed = response["isAuthorized"]
        if type(allowed) is not bool:
            fail("isAuthorized is not a boolean", response=response)
        sub = context.get("sub")
    else:
        if set(response) != {"principalId", "policyDocument", "context"}:
            fail("an IAM response of the wrong shape", response=response)
        document = PolicyDocument.from_dict(response["policyDocument"])
        allowed = any(s.effect == "Allow" for s in document.statements)
        sub = response["principalId"]
        if sub != context.get("sub"):
            fail("principalId and context.sub differ", response=response)
    if allowed and sub not in subjects:
        fail("an Allow without a valid token for its principal", event=event, response=response)
    if not subjects and "sub" in context:
        fail("a principal answered although the event holds no valid token", event=event)


def check(data: bytes) -> None:
    """One fuzz input; raises only for a finding."""
    if not data:
        return
    event = _event(data)
    s = state()
    s.repository.reset()
    for simple, app in zip((False, True), s.apps, strict=True):
        app.authorizer.clear()
        first = _answer(app, event)
        if first[0] == "response":
            _check_response(event, first[1], simple)
        second = _answer(app, event)
        if second != first:
            fail("the same event was answered differently", event=event, first=first, second=second)


def seeds() -> list[bytes]:
    """Each fixture as JSON with a valid token, and generator inputs for each mode."""
    s = state()
    token = next(iter(s.valid))
    out = [b"\x00" + json.dumps(_fill(f, token)).encode() for f in s.fixtures]
    out += [bytes([m]) + bytes(range(i, i + 40)) for m in (1, 2, 3) for i in range(0, 160, 32)]
    return out
