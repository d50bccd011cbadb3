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
module pulls in every Powertools event class, a noticeable share of a cold start. The
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Any, Literal

from authz.errors import KeySetUnavailableError, PolicyTooLargeError, StoreError, TokenError
from authz.handlers.boot import PerContainer
from authz.handlers.events import UnsupportedEvent, context_of, extract
from authz.handlers.observability import DecisionRecord, Telemetry

if TYPE_CHECKING:
    from authz.service import Authorizer, Outcome
    from authz.settings import Settings

__all__ = [
    "UNAUTHORIZED",
    "AuthorizerApp",
    "AuthorizerError",
    "AuthorizerUnavailable",
    "build",
    "handler",
    "install",
]

UNAUTHORIZED = "Unauthorized"


class AuthorizerError(RuntimeError):
    """The authorizer could not decide; API Gateway answers 500 and caches nothing."""


class AuthorizerUnavailable(AuthorizerError):
    """A dependency is down: DynamoDB failed and no cached policy was fresh enough to
    serve, or the JWKS could not be fetched and no held key has the token's kid."""


# -- failures -----------------------------------------------------------------------


def _unauthorized(simple: bool) -> dict[str, Any]:
    if simple:
        return {"isAuthorized": False}
    raise Exception(UNAUTHORIZED)  # API Gateway's exact 401 contract


def _error_text(exc: Exception) -> dict[str, Any]:
    return {"error": f"{type(exc).__name__}: {exc}"}


def _error_name(exc: Exception) -> dict[str, Any]:
    return {"error": type(exc).__name__}


def _too_large(exc: Exception) -> dict[str, Any]:
    if not isinstance(exc, PolicyTooLargeError):  # the table pairs them
        return _error_text(exc)
    selectors = [str(s) for s in exc.selectors]
    return {"selectors": selectors, "size": exc.size, "max_bytes": exc.max_bytes}


@dataclass(frozen=True, slots=True)
class _Failure:
    """How one kind of failure is logged, counted and answered."""

    answer: type[AuthorizerError] | None
    """None: a 401 (or ``isAuthorized: false``); else raised, a 500 API Gateway never caches."""
    answer_message: str = "authorizer error"
    log: str | None = None
    log_extra: Callable[[Exception], dict[str, Any]] | None = None
    traceback: bool = False
    metric: Literal["store_error", "too_large", "keys_unavailable"] | None = None


# First match wins, so subclasses come before their bases. Never an Allow, and
# never a cacheable Deny: a failure is a 401 for a bad token and a 500 otherwise.
_FAILURES: tuple[tuple[type[Exception], _Failure], ...] = (
    (TokenError, _Failure(None)),
    (
        # Like a store outage: the token may be good, so never a 401 (clients
        # would discard it and sign the user out).
        KeySetUnavailableError,
        _Failure(
            AuthorizerUnavailable,
            "authorizer unavailable",
            log="signing keys unavailable: no held key for the token's kid",
            log_extra=_error_text,
            metric="keys_unavailable",
        ),
    ),
    (
        StoreError,
        _Failure(
            AuthorizerUnavailable,
            "authorizer unavailable",
            log="policy store unavailable and no cached policy to serve",
            log_extra=_error_text,
            metric="store_error",
        ),
    ),
    (
        PolicyTooLargeError,
        _Failure(
            AuthorizerError,
            log="effective policy over AUTHZ_POLICY_MAX_BYTES; failing closed",
            log_extra=_too_large,
            metric="too_large",
        ),
    ),
    (
        Exception,
        _Failure(AuthorizerError, log="authorizer failed", log_extra=_error_name, traceback=True),
    ),
)


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
        self.telemetry = telemetry if telemetry is not None else Telemetry(tracing=settings.tracing)
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
        request_id = getattr(context, "aws_request_id", None)
        try:
            kind, token, arn = extract(event, self._sources)
        except UnsupportedEvent as exc:
            self.telemetry.logger.error("unsupported event", extra={"reason": str(exc)})
            self._record("error", "unknown", started, request_id, reason=str(exc))
            raise AuthorizerError("unsupported event") from None
        simple = self._simple and kind == "http2"
        if token is None:
            self._record("unauthorized", kind, started, request_id, reason="missing token")
            return _unauthorized(simple)
        try:
            outcome = self._authorize(token, arn)
        except Exception as exc:  # each kind answered as _FAILURES says
            return self._failed(exc, kind, started, request_id, simple)
        return self._answer(outcome, kind, started, request_id, simple)

    def _answer(
        self, outcome: Outcome, kind: str, started: float, request_id: str | None, simple: bool
    ) -> dict[str, Any]:
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
        # Positional, in DecisionRecord's field order (named in the comments):
        # one is built per request, and a keyword call costs more.
        self.telemetry.decision(
            DecisionRecord(
                "allow" if allowed else "deny",  # outcome
                kind,
                (perf_counter() - started) * 1e6,  # latency_us
                request_id,
                outcome.principal.sub,
                outcome.selectors,
                outcome.epoch,
                outcome.token_cache_hit,
                outcome.policy_cache_hit,
                outcome.stale,
                outcome.policy_bytes,
                self._fetches(),  # jwks_fetches
            )
        )
        return response

    def _failed(
        self, exc: Exception, kind: str, started: float, request_id: str | None, simple: bool
    ) -> dict[str, Any]:
        """Log and record a failure as ``_FAILURES`` says, then answer 401 or raise a 500."""
        failure = next(f for exc_type, f in _FAILURES if isinstance(exc, exc_type))
        if failure.log is not None:
            extra = failure.log_extra(exc) if failure.log_extra is not None else None
            log = (
                self.telemetry.logger.exception
                if failure.traceback
                else self.telemetry.logger.error
            )
            log(failure.log, extra=extra)
        selectors = (
            tuple(str(s) for s in exc.selectors) if isinstance(exc, PolicyTooLargeError) else None
        )
        self._record(
            "unauthorized" if failure.answer is None else "error",
            kind,
            started,
            request_id,
            reason=type(exc).__name__,
            store_error=failure.metric == "store_error",
            too_large=failure.metric == "too_large",
            keys_unavailable=failure.metric == "keys_unavailable",
            selectors=selectors,
        )
        if failure.answer is None:
            return _unauthorized(simple)
        raise failure.answer(failure.answer_message) from None

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
        # Deferred: pynamodb/botocore and python-jose are most of a cold start.
        from authz.store import DynamoRepository  # noqa: PLC0415
        from authz.token import HttpFetcher, JwksCache, Verifier  # noqa: PLC0415

        settings.require_token_config()
        fetcher = _CountingFetcher(HttpFetcher())
        verifier = Verifier(settings, jwks=JwksCache(fetcher=fetcher))
        authorizer = Authorizer(verifier, DynamoRepository(settings), cache=settings.cache)

        def fetches() -> int:
            return fetcher.count

    return AuthorizerApp(settings, authorizer, telemetry, jwks_fetches=fetches)


def _build_quietly() -> AuthorizerApp:
    """``build()`` with the cyclic garbage collector paused.

    Building imports botocore, pynamodb, python-jose and cryptography and
    loads DynamoDB's service model: several hundred thousand long-lived
    objects and almost no garbage. Left running, the collector traverses
    them over and over while they are created, a sizeable part of the cold
    start (bench/ measures it), to free a few hundred objects.
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


container: PerContainer[AuthorizerApp] = PerContainer(_build_quietly)


def install(app: AuthorizerApp | None) -> None:
    """Use ``app`` for the following invocations (None: rebuild from the environment)."""
    container.install(app)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point."""
    return container.get()(event, context)
