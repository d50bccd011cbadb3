"""The admin API Lambda: edit policies at run time (``authz.handlers.admin.app.handler``).

A REST API on Powertools' ``APIGatewayRestResolver`` with request
validation, one ``Router`` per resource; its pydantic models
(``admin.models``) are also the OpenAPI document served at
``GET /openapi.json``. Routes::

    GET    /policies?kind=&limit=&next=       list (summaries), paginated    routes_policies
    GET    /policies/{kind}/{name}            one policy; ETag: "<version>"   routes_policies
    PUT    /policies/{kind}/{name}            create/replace (If-Match / If-None-Match: *)
    DELETE /policies/{kind}/{name}            delete (If-Match honoured)
           ?dry_run=true on either: judge and report the impact, write nothing  (admin.preview)
    GET    /policies/{kind}/{name}/history    audit entries, newest first     routes_history
    POST   /simulate                          decision + explanation          routes_simulate
    GET    /matrix?subjects=&principal=&explain=  the access matrix           routes_matrix
    GET    /openapi.json                      this API's OpenAPI 3.1 document routes_openapi
    POST   /revocations                       revoke a sub, origin_jti or jti routes_revocations
    GET    /revocations?limit=&next=          live revocations, paginated
    GET    /revocations/{id}                  one live revocation (id: sub:VALUE, ...)
    DELETE /revocations/{id}                  lift it
    GET    /revocation-history?limit=&next=   every revoke and delete, newest first
    GET    /console, /console/{asset}         the admin console (no token)  admin.console

The console's two resources are static files for everyone and are answered
before the caller gate (``admin.console``), told apart by the event's
``resource``; they never reach the resolver. Before
any other route runs, the caller must be in ``AUTHZ_ADMIN_GROUP`` according
to the authorizer context (403 otherwise: the authorizer's own policy should
already have stopped them, this is defence in depth) and the body must fit
``MAX_BODY_BYTES`` (413). Errors are ``{"error": {code, message, details}}``;
see ``admin.errors``. The routes reach the app's collaborators through the
resolver's context (``admin.context``), appended per request. Settings and
the repository are built once per container, on the first invocation;
``build_app`` lets tests inject them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
    APIGatewayProxyEvent,
)

from authz.errors import AuthzError
from authz.handlers.admin.access import load_routes, task_root
from authz.handlers.admin.console import Console, ConsoleConfig, is_console_event
from authz.handlers.admin.console_files import ASSETS, AssetFolder
from authz.handlers.admin.context import AdminDeps, RequestScope
from authz.handlers.admin.errors import ApiError, from_authz_error, from_validation_errors
from authz.handlers.admin.freshness import Flusher, boto3_flusher
from authz.handlers.admin.http import (
    MAX_BODY_BYTES,
    authorize_caller,
    canonical_event,
    check_body_size,
)
from authz.handlers.admin.routes_history import history_router
from authz.handlers.admin.routes_matrix import matrix_router
from authz.handlers.admin.routes_openapi import (
    MethodTable,
    method_table,
    openapi_document,
    openapi_router,
)
from authz.handlers.admin.routes_policies import policies_router
from authz.handlers.admin.routes_revocations import revocations_router
from authz.handlers.admin.routes_simulate import simulate_router
from authz.handlers.admin.simulate import ApiIdentity
from authz.handlers.boot import PerContainer
from authz.handlers.observability import bind_invocation, function_logger
from authz.handlers.signout import CognitoAdmin
from authz.service import TokenVerifier
from authz.settings import Settings
from authz.store.types import PolicyRepository

__all__ = ["AdminApp", "admin_openapi", "build_app", "handler", "install"]


class _Resolver(APIGatewayRestResolver):
    """Powertools keeps the current event on a class attribute shared by every
    resolver; keep it per thread so two apps in two threads (a threaded local
    server, the concurrency tests) never read each other's request."""

    _local = threading.local()

    def _to_proxy_event(self, event: dict[str, Any]) -> APIGatewayProxyEvent:
        proxy = super()._to_proxy_event(event)
        self._local.event = proxy
        return proxy  # type: ignore[return-value]  # REST resolver: always this class

    @property  # type: ignore[override]  # read per thread, see the class docstring
    def current_event(self) -> APIGatewayProxyEvent:
        event: APIGatewayProxyEvent = self._local.event
        return event

    @current_event.setter
    def current_event(self, value: APIGatewayProxyEvent) -> None:
        self._local.event = value


def _resolver() -> _Resolver:
    """A resolver with every route: it needs no collaborators, those come per request."""
    resolver = _Resolver(enable_validation=True, response_validation_error_http_code=500)
    routers = (
        policies_router(),
        history_router(),
        simulate_router(),
        matrix_router(),
        revocations_router(),
        openapi_router(),
    )
    for router in routers:
        resolver.include_router(router)
    return resolver


@cache
def admin_openapi() -> dict[str, Any]:
    """The admin API's OpenAPI document: the one list of its routes (generated once)."""
    return openapi_document(_resolver())


@cache
def _methods() -> MethodTable:
    return method_table(admin_openapi())


def _allowed_methods(path: str) -> list[str]:
    return sorted({method for rx, method in _methods() if rx.match(path)})


def _register_errors(app: _Resolver) -> None:
    def not_found(exc: RouteNotFoundError) -> Response[Any]:
        path = app.current_event.path
        allowed = _allowed_methods(path)
        if allowed:
            return ApiError(
                405,
                "method_not_allowed",
                f"{app.current_event.http_method} is not allowed on {path}",
                headers={"Allow": ", ".join(allowed)},
            ).response()
        return ApiError(404, "not_found", f"no route {path}").response()

    def bad_response(exc: ResponseValidationError) -> Response[Any]:
        function_logger().error("admin API response failed its own schema: %s", exc.errors())
        return ApiError(500, "internal_error", "internal error").response()

    def internal(exc: Exception) -> Response[Any]:
        function_logger().exception("unhandled error in the admin API", exc_info=exc)
        return ApiError(500, "internal_error", "internal error").response()

    # Registered by plain calls: Powertools' decorators are untyped. Subclasses first.
    handlers: list[tuple[type[Exception], Callable[[Any], Response[Any]]]] = [
        (ApiError, lambda exc: exc.response()),
        (AuthzError, lambda exc: from_authz_error(exc).response()),
        (
            RequestValidationError,
            lambda exc: from_validation_errors(list(exc.errors())).response(),
        ),
        (
            RequestUnsupportedContentType,
            lambda _exc: ApiError(
                415, "unsupported_media_type", "send the body as application/json"
            ).response(),
        ),
        (ResponseValidationError, bad_response),
        (RouteNotFoundError, not_found),
        (Exception, internal),
    ]
    for exc_class, func in handlers:
        app.exception_handler(exc_class)(func)


class AdminApp:
    """One admin API: the console's static resources, else the caller gate, the body limit,
    then the resolver."""

    def __init__(
        self,
        deps: AdminDeps,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        console: Console | None = None,
    ) -> None:
        self.deps = deps
        self.max_body_bytes = max_body_bytes
        self.console = (
            console if console is not None else Console(ConsoleConfig.from_settings(deps.settings))
        )
        self.resolver = _resolver()
        _register_errors(self.resolver)
        # Powertools' per-request context lives on the resolver; one request at a time.
        self._lock = threading.Lock()

    def openapi(self) -> dict[str, Any]:
        return admin_openapi()

    def __call__(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        bind_invocation(function_logger(), context, _request_id(event))
        # By resource, which API Gateway sets, not by path, which a custom domain's
        # base path prefixes: static and the same for everyone, no caller to check.
        if is_console_event(event):
            return self.console(event)
        try:
            caller = authorize_caller(event, self.deps.settings.admin_group)
            check_body_size(event, self.max_body_bytes)
            canonical = canonical_event(event)
        except ApiError as exc:
            return exc.proxy()
        request = RequestScope(self.deps, caller, ApiIdentity.from_event(event), admin_openapi)
        with self._lock:
            self.resolver.append_context(**request.as_context())  # type: ignore[no-untyped-call]  # unannotated
            return self.resolver.resolve(canonical, context)


def _request_id(event: Mapping[str, Any]) -> str | None:
    """API Gateway's request id: the id a caller quotes, and the correlation id of the logs."""
    ctx = event.get("requestContext")
    found = ctx.get("requestId") if isinstance(ctx, Mapping) else None
    return found if isinstance(found, str) else None


def build_app(
    settings: Settings,
    repository: PolicyRepository,
    verifier: TokenVerifier | None = None,
    flusher: Flusher | None = None,
    clock: Callable[[], float] | None = None,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    sleep: Callable[[float], None] = time.sleep,
    routes_base: Path | None = None,
    cognito: CognitoAdmin | None = None,
    console_assets: Path = ASSETS,
    local_sign_in_path: str | None = None,
) -> AdminApp:
    """The admin API with its collaborators; defaults are the production ones.

    ``verifier`` checks tokens for ``POST /simulate`` (built from settings on
    first use when None); ``flusher(rest_api_id, stage)`` flushes API
    Gateway's authorizer cache after each write, ``sleep`` seconds after it
    (one epoch check interval, see ``admin.freshness``); ``clock`` is wall
    time in seconds (for ``visible_by``). ``settings.routes`` (``AUTHZ_ROUTES``)
    is read here, a relative path from ``routes_base`` (default: the Lambda task
    root); an unreadable value raises ConfigError naming the variable.
    ``cognito`` is the ``cognito-idp`` client of ``"cognito": true`` revocations
    (built from settings on first use when None). ``console_assets`` is the built
    console's folder; ``local_sign_in_path`` is where the dev stack signs users in
    (the console then offers its username and password form).
    """
    deps = AdminDeps(
        settings=settings,
        repository=repository,
        flusher=flusher if flusher is not None else boto3_flusher(settings.region),
        clock=clock if clock is not None else time.time,
        verifier=verifier,
        sleep=sleep,
        routes=load_routes(settings.routes, routes_base or task_root()),
        cognito=cognito,
    )
    config = ConsoleConfig.from_settings(settings, local_sign_in_path)
    console = Console(config, AssetFolder(console_assets))
    return AdminApp(deps, max_body_bytes=max_body_bytes, console=console)


def _build_from_env() -> AdminApp:
    settings = Settings.from_env()
    # pynamodb loads only for the production repository; tests inject theirs.
    from authz.store import DynamoRepository  # noqa: PLC0415

    return build_app(settings, DynamoRepository(settings))


container: PerContainer[AdminApp] = PerContainer(_build_from_env)


def install(app: AdminApp | None) -> None:
    """Use ``app`` for the following invocations (None: rebuild from the environment)."""
    container.install(app)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point. Settings and the repository are built on the first call
    and reused for the container's life."""
    return container.get()(event, context)
