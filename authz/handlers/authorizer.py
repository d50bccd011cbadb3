"""The API Gateway Lambda authorizer: ``authz.handlers.authorizer.handler``.

One handler serves every flavour API Gateway sends, told apart by shape:

=================  ==============================================  ==================
flavour            recognised by                                   token from
=================  ==============================================  ==================
REST TOKEN         ``type: TOKEN``                                 ``authorizationToken``
REST REQUEST       ``type: REQUEST`` (no ``version``)              ``AUTHZ_TOKEN_SOURCE``
HTTP API 1.0       ``version: "1.0"``                              ``AUTHZ_TOKEN_SOURCE``
HTTP API 2.0       ``version: "2.0"`` (``routeArn``)               ``AUTHZ_TOKEN_SOURCE``
WebSocket connect  ``requestContext.eventType: CONNECT``           ``AUTHZ_TOKEN_SOURCE``
=================  ==============================================  ==================

``AUTHZ_TOKEN_SOURCE`` lists ``header:NAME`` (case-insensitive) and
``query:NAME`` sources, tried in order; an optional ``Bearer`` scheme is
stripped case-insensitively everywhere.

Responses. IAM responses carry the WHOLE effective policy of the principal,
never one narrowed to the current ``methodArn``: API Gateway caches the
response per token and answers other routes from it, so only the whole
policy keeps those answers right. A principal that nothing allows gets an
explicit deny-all document (never an empty ``Statement``, which API Gateway
rejects). With ``AUTHZ_RESPONSE=simple`` and payload 2.0 the handler
answers ``{"isAuthorized": ..., "context": ...}`` for the route itself; HTTP
API caches simple responses per identity source *across routes*, so such an
API must add ``$context.routeKey`` to the identity sources or turn caching
off. REST, payload 1.0 and WebSocket events always get IAM responses.

The responses are built as plain dicts rather than with Powertools'
``APIGatewayAuthorizerResponse``: that class assembles statements from
``allow_route(verb, path)`` calls for the API and stage of the current ARN
and validates paths against ``[/.a-zA-Z0-9-_*{}+]``, so it cannot return a
stored policy whose resources span APIs and stages or use ``?``; and its
module pulls in every Powertools event class (~95 ms of cold start). The
tests pin that the simple response equals ``APIGatewayAuthorizerResponseV2``'s.

Failures, each written as one decision line (README, "How a request is decided"):

* no token, or any ``TokenError``: ``raise Exception("Unauthorized")``
  (API Gateway answers 401); a simple response is ``isAuthorized: false``.
* ``StoreError`` with no usable cached policy: ``AuthorizerUnavailable``
  (API Gateway answers 500 and does not cache it). Never a Deny, which API
  Gateway would cache, and never an Allow.
* ``KeySetUnavailableError`` (no held key has the token's kid and the JWKS
  could not be fetched): ``AuthorizerUnavailable`` too. A 401 would tell
  clients a good token is bad, and they would sign their users out.
* ``PolicyTooLargeError``: ``AuthorizerError`` (500), logged with the
  principal's selectors.
* anything else, including an event of unknown shape: ``AuthorizerError``
  (500). Simple responses raise too: a 500 is not cached, ``false`` would be.

Settings, verifier, repository and ``Authorizer`` are built once per
container at the first invocation (with the garbage collector paused, see
``_build_quietly``). Importing this module costs only the standard library,
``authz.settings`` and the pure policy engine; boto3, pynamodb, python-jose
and Powertools are imported when first needed.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from time import perf_counter
from typing import TYPE_CHECKING, Any, NoReturn

from authz.errors import KeySetUnavailableError, PolicyTooLargeError, StoreError, TokenError
from authz.handlers.observability import DecisionRecord, Telemetry

if TYPE_CHECKING:
    from authz.service import Authorizer, Outcome
    from authz.settings import Settings, TokenSource

__all__ = [
    "UNAUTHORIZED",
    "AuthorizerApp",
    "AuthorizerError",
    "AuthorizerUnavailable",
    "build",
    "encode_names",
    "extract",
    "handler",
    "install",
]

UNAUTHORIZED = "Unauthorized"


class AuthorizerError(RuntimeError):
    """The authorizer could not decide; API Gateway answers 500 and caches nothing."""


class AuthorizerUnavailable(AuthorizerError):
    """A dependency is down: DynamoDB failed and no cached policy was fresh enough to
    serve, or the JWKS could not be fetched and no held key has the token's kid."""


class UnsupportedEvent(ValueError):
    """The event is not one of the authorizer payloads this handler knows."""


# -- event parsing ------------------------------------------------------------------


def _bearer(value: object) -> str | None:
    """The token in a header/parameter value: optional ``Bearer`` scheme stripped."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].lstrip()
    return value or None


def _header(headers: object, name: str) -> object:
    if not isinstance(headers, Mapping):
        return None
    found = headers.get(name)
    if found is None:
        lowered = name.lower()
        found = headers.get(lowered)
        if found is None:
            for key, value in headers.items():
                if isinstance(key, str) and key.lower() == lowered:
                    return value
    return found


def _from_sources(event: Mapping[str, Any], sources: tuple[TokenSource, ...]) -> str | None:
    for source in sources:
        if source.kind == "header":
            raw = _header(event.get("headers"), source.name)
        else:
            query = event.get("queryStringParameters")
            raw = query.get(source.name) if isinstance(query, Mapping) else None
        token = _bearer(raw)
        if token is not None:
            return token
    return None


def extract(event: object, sources: tuple[TokenSource, ...]) -> tuple[str, str | None, str]:
    """``(flavour, token or None, methodArn)`` of an authorizer event.

    ``flavour`` is ``token``, ``request``, ``http1``, ``http2`` or ``websocket``.
    Raises UnsupportedEvent when the event is none of them or lacks its ARN.
    """
    # type() first: an ABC isinstance check costs more than the rest of this function.
    if type(event) is not dict and not isinstance(event, Mapping):
        raise UnsupportedEvent(f"expected an event object, got {type(event).__name__}")
    version = event.get("version")
    if version == "2.0":
        kind, arn = "http2", event.get("routeArn")
        token = _from_sources(event, sources)
    elif event.get("type") == "TOKEN":
        kind, arn = "token", event.get("methodArn")
        token = _bearer(event.get("authorizationToken"))
    elif version == "1.0":
        kind, arn = "http1", event.get("methodArn")
        token = _from_sources(event, sources)
    elif event.get("type") == "REQUEST":
        ctx = event.get("requestContext")
        connect = isinstance(ctx, Mapping) and (
            ctx.get("eventType") == "CONNECT" or ctx.get("routeKey") == "$connect"
        )
        kind, arn = ("websocket" if connect else "request"), event.get("methodArn")
        token = _from_sources(event, sources)
    else:
        raise UnsupportedEvent("not an API Gateway authorizer event (no type TOKEN/REQUEST)")
    if not isinstance(arn, str) or not arn:
        raise UnsupportedEvent(f"{kind} authorizer event without its method/route ARN")
    return kind, token, arn


# -- responses ----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def encode_names(names: tuple[str, ...]) -> str:
    """A list of group or scope names as one context string: a compact JSON array.

    Cognito allows commas (and spaces, quotes) in group names, so a joined
    string is ambiguous: ``support`` + ``ops,authz-admins`` would read as
    three groups. A JSON array is exact, and a reader still splitting on
    commas sees ``["support"`` and never a real group name: it fails closed.
    Memoised because the same few group sets come back on every request.
    """
    return json.dumps(list(names), separators=(",", ":"))


def context_of(outcome: Outcome) -> dict[str, str | int | bool]:
    """The flat context API Gateway passes to the backend (strings and numbers only);
    ``groups`` and ``scopes`` are JSON arrays serialised as strings."""
    p = outcome.principal
    ctx: dict[str, str | int | bool] = {"sub": p.sub, "token_use": p.token_use}
    if p.username is not None:
        ctx["username"] = p.username
    if p.client_id is not None:
        ctx["client_id"] = p.client_id
    ctx["groups"] = encode_names(p.groups)
    ctx["scopes"] = encode_names(p.scopes)
    if outcome.epoch is not None:
        ctx["epoch"] = outcome.epoch
    return ctx


# -- the application ----------------------------------------------------------------


class AuthorizerApp:
    """The handler's state for one container: settings, the Authorizer, telemetry."""

    def __init__(
        self,
        settings: Settings,
        authorizer: Authorizer,
        telemetry: Telemetry | None = None,
        *,
        jwks_fetches: Callable[[], int] | None = None,
    ) -> None:
        self.settings = settings
        self.authorizer = authorizer
        self.telemetry = telemetry if telemetry is not None else Telemetry()
        self._sources = settings.token_sources
        self._simple = settings.response == "simple"
        self._jwks_fetches = jwks_fetches
        self._jwks_seen = jwks_fetches() if jwks_fetches is not None else 0

    def _fetches(self) -> int:
        if self._jwks_fetches is None:
            return 0
        total = self._jwks_fetches()
        delta = total - self._jwks_seen
        self._jwks_seen = total
        return delta

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        started = perf_counter()
        telemetry = self.telemetry
        request_id = getattr(context, "aws_request_id", None)
        try:
            kind, token, arn = extract(event, self._sources)
        except UnsupportedEvent as exc:
            telemetry.logger.error("unsupported event", extra={"reason": str(exc)})
            self._record("error", "unknown", started, request_id, reason=str(exc))
            raise AuthorizerError("unsupported event") from None
        simple = self._simple and kind == "http2"
        outcome: Outcome | None = None
        failure: str | None = None
        if token is None:
            failure = "missing token"
        else:
            try:
                outcome = self._authorize(token, arn)
            except TokenError as exc:
                failure = type(exc).__name__
            except KeySetUnavailableError as exc:
                # Like a store outage: the token may be good, so never a 401 (clients
                # would discard it and sign the user out); a 500 is not cached.
                message = "signing keys unavailable: no held key for the token's kid"
                self._unavailable(message, exc, kind, started, request_id, keys=True)
            except StoreError as exc:
                message = "policy store unavailable and no cached policy to serve"
                self._unavailable(message, exc, kind, started, request_id, keys=False)
            except PolicyTooLargeError as exc:
                selectors = [str(s) for s in exc.selectors]
                telemetry.logger.error(
                    "effective policy over AUTHZ_POLICY_MAX_BYTES; failing closed",
                    extra={"selectors": selectors, "size": exc.size, "max_bytes": exc.max_bytes},
                )
                self._record(
                    "error",
                    kind,
                    started,
                    request_id,
                    too_large=True,
                    reason="PolicyTooLargeError",
                    selectors=tuple(selectors),
                )
                raise AuthorizerError("authorizer error") from None
            except Exception as exc:
                # Whatever went wrong, the one thing never to do is answer Allow
                # (or a cacheable Deny): a 500 is retried and not cached.
                telemetry.logger.exception("authorizer failed", extra={"error": type(exc).__name__})
                self._record("error", kind, started, request_id, reason=type(exc).__name__)
                raise AuthorizerError("authorizer error") from None
        if outcome is None:
            self._record("unauthorized", kind, started, request_id, reason=failure)
            if simple:
                return {"isAuthorized": False}
            raise Exception(UNAUTHORIZED)  # API Gateway's exact 401 contract

        allowed = outcome.decision.allowed
        ctx = context_of(outcome)
        if simple:
            response: dict[str, Any] = {"isAuthorized": allowed, "context": ctx}
        else:
            response = {
                "principalId": outcome.principal.sub,
                "policyDocument": outcome.policy,
                "context": ctx,
            }
        telemetry.decision(
            DecisionRecord(
                "allow" if allowed else "deny",
                kind=kind,
                latency_us=(perf_counter() - started) * 1e6,
                request_id=request_id,
                sub=outcome.principal.sub,
                selectors=outcome.selectors,
                epoch=outcome.epoch,
                token_cache_hit=outcome.token_cache_hit,
                policy_cache_hit=outcome.policy_cache_hit,
                stale=outcome.stale,
                policy_bytes=outcome.policy_bytes,
                jwks_fetches=self._fetches() if self._jwks_fetches is not None else 0,
            )
        )
        return response

    def _unavailable(
        self,
        message: str,
        exc: Exception,
        kind: str,
        started: float,
        request_id: str | None,
        *,
        keys: bool,
    ) -> NoReturn:
        """Log and record a dependency outage, then answer 500 (never cached)."""
        self.telemetry.logger.error(message, extra={"error": f"{type(exc).__name__}: {exc}"})
        self._record(
            "error",
            kind,
            started,
            request_id,
            store_error=not keys,
            keys_unavailable=keys,
            reason=type(exc).__name__,
        )
        raise AuthorizerUnavailable("authorizer unavailable") from None

    def _authorize(self, token: str, arn: str) -> Outcome:
        tracer = self.telemetry.tracer
        if tracer is None:
            return self.authorizer.authorize(token, arn)
        with tracer.provider.in_subsegment("## authorize") as subsegment:
            outcome = self.authorizer.authorize(token, arn)
            subsegment.put_annotation("allowed", outcome.decision.allowed)
            subsegment.put_annotation("policy_cache_hit", outcome.policy_cache_hit)
            return outcome

    def _record(
        self,
        outcome: Any,
        kind: str,
        started: float,
        request_id: str | None,
        *,
        reason: str | None = None,
        store_error: bool = False,
        too_large: bool = False,
        keys_unavailable: bool = False,
        selectors: tuple[str, ...] | None = None,
    ) -> None:
        self.telemetry.decision(
            DecisionRecord(
                outcome,
                kind=kind,
                latency_us=(perf_counter() - started) * 1e6,
                request_id=request_id,
                selectors=selectors,
                store_error=store_error,
                too_large=too_large,
                keys_unavailable=keys_unavailable,
                jwks_fetches=self._fetches(),
                reason=reason,
            )
        )


# -- wiring -------------------------------------------------------------------------


class _CountingFetcher:
    """Wraps the JWKS fetcher to count fetches for the JwksFetches metric."""

    def __init__(self, inner: Callable[[str], Mapping[str, Any]]) -> None:
        self.inner = inner
        self.count = 0

    def __call__(self, url: str) -> Mapping[str, Any]:
        self.count += 1
        return self.inner(url)


def build(
    settings: Settings | None = None,
    *,
    authorizer: Authorizer | None = None,
    telemetry: Telemetry | None = None,
) -> AuthorizerApp:
    """Compose the production authorizer from ``settings`` (default: the environment)."""
    # Deferred: module import stays cheap for tests and tools that only parse events.
    from authz.service import Authorizer  # noqa: PLC0415
    from authz.settings import Settings  # noqa: PLC0415

    if settings is None:
        settings = Settings.from_env()
    fetches: Callable[[], int] | None = None
    if authorizer is None:
        # Deferred: pynamodb/botocore and python-jose cost ~0.4 s of cold start.
        from authz.store import DynamoRepository  # noqa: PLC0415
        from authz.token import HttpFetcher, JwksCache, Verifier  # noqa: PLC0415

        settings.require_token_config()
        fetcher = _CountingFetcher(HttpFetcher())
        # The Authorizer keeps its own verified-token memo (principal and
        # policy together), so the verifier's cache would only duplicate it.
        verifier = Verifier(settings, jwks=JwksCache(fetcher=fetcher), cache_size=0)
        authorizer = Authorizer(verifier, DynamoRepository(settings), settings=settings)

        def fetches() -> int:
            return fetcher.count

    return AuthorizerApp(settings, authorizer, telemetry, jwks_fetches=fetches)


_app: AuthorizerApp | None = None
_lock = threading.Lock()


def install(app: AuthorizerApp | None) -> None:
    """Use ``app`` for the following invocations (None: rebuild from the environment)."""
    global _app  # noqa: PLW0603  # the one per-container instance, by design
    _app = app


def _boot() -> AuthorizerApp:
    global _app  # noqa: PLW0603  # the one per-container instance, by design
    with _lock:
        if _app is None:
            _app = _build_quietly()
        return _app


def _build_quietly() -> AuthorizerApp:
    """``build()`` with the cyclic garbage collector paused.

    Building imports botocore, pynamodb, python-jose and cryptography and
    loads DynamoDB's service model: several hundred thousand long-lived
    objects and almost no garbage. Left running, the collector traverses
    them over and over while they are created (~150 collections, ~0.1 s of
    a ~0.45 s cold start on the build machine) to free a few hundred objects.
    Afterwards ``gc.freeze()`` moves them to the permanent generation, so no
    later collection walks them again either (steadier warm latencies).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        app = build()
        if enabled:
            gc.freeze()
        return app
    finally:
        if enabled:
            gc.enable()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point."""
    app = _app
    if app is None:
        app = _boot()
    return app(event, context)
