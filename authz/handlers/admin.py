"""The admin API Lambda: edit policies at run time (``authz.handlers.admin.handler``).

A REST API on Powertools' ``APIGatewayRestResolver`` with request
validation; its pydantic models (``admin_models``) are also the OpenAPI
document served at ``GET /openapi.json``. Routes::

    GET    /policies?kind=&limit=&next=       list (summaries), paginated
    GET    /policies/{kind}/{name}            one policy; ETag: "<version>"
    PUT    /policies/{kind}/{name}            create/replace (If-Match / If-None-Match: *)
    DELETE /policies/{kind}/{name}            delete (If-Match honoured)
    GET    /policies/{kind}/{name}/history    audit entries, newest first, paginated
    POST   /simulate                          decision + explanation + effective policy
    GET    /openapi.json                      this API's OpenAPI 3.1 document

Before any route runs, the caller must be in ``AUTHZ_ADMIN_GROUP`` according
to the authorizer context (403 otherwise: the authorizer's own policy should
already have stopped them, this is defence in depth) and the body must fit
``MAX_BODY_BYTES`` (413). Errors are ``{"error": {code, message, details}}``;
see ``admin_errors``. Settings and the repository are built once per
container, on the first invocation; ``build_app`` lets tests inject them.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import quote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
    APIGatewayProxyEvent,
)

from authz.errors import AuthzError, NotFoundError, PolicyValidationError, TokenSettingsError
from authz.handlers.admin_errors import ApiError, from_authz_error, from_validation_errors
from authz.handlers.admin_freshness import Flusher, boto3_flusher, freshness_after_write
from authz.handlers.admin_guard import guard_write, warnings_out
from authz.handlers.admin_http import (
    MAX_BODY_BYTES,
    Caller,
    authorize_caller,
    canonical_event,
    check_body_size,
    decode_name,
    etag,
    parse_preconditions,
)
from authz.handlers.admin_models import (
    DeleteResult,
    ErrorBody,
    HistoryPage,
    PolicyOut,
    PolicyPage,
    PutPolicyBody,
    SimulateBody,
    SimulateOut,
    WriteOut,
)
from authz.handlers.admin_ops import (
    conditional_delete,
    conditional_put,
    history_item,
    policy_out,
    summary,
)
from authz.handlers.admin_simulate import ApiIdentity, simulate_request
from authz.lockout import routes_from_openapi
from authz.policy.document import PolicyDocument
from authz.policy.selector import Selector
from authz.policy.token_settings import TokenSettings
from authz.service import TokenVerifier
from authz.settings import Settings
from authz.store.types import PolicyRepository

__all__ = ["AdminApp", "build_app", "handler", "install"]

logger = logging.getLogger(__name__)

API_TITLE = "authz admin API"
API_VERSION = "1"
# OpenAPI descriptions are Markdown (CommonMark), so not the module's reST docstring.
API_DESCRIPTION = (
    "Edit authz policies at run time: list, read, create or replace, delete, audit "
    "history and simulate. Every write is validated, conditional on `If-Match` / "
    "`If-None-Match`, recorded in the history, and answers when it becomes visible "
    "(`freshness`)."
)

KindParam = Literal["group", "scope", "default"]
_FORCE = (
    "write even though a member of only the admin group would lose admin routes "
    "(recorded in the history)"
)
_ERRORS = {
    400: "invalid request: bad JSON, unknown fields, invalid document (with JSON paths)",
    403: "the caller is not in the admin group",
    404: "no such policy or route",
    405: "the path exists but not with this method",
    409: "If-None-Match: * and the policy already exists, or would_lock_out: the write "
    "would lock the admin group out of this API (override with ?force=true)",
    412: "If-Match does not match the current version (or the policy does not exist)",
    413: "body over the limit, or the item would exceed DynamoDB's 400 KB",
    415: "the body is not JSON",
    500: "the policy store failed",
    503: "the policy store did not answer (a write may have been applied: read it back)",
}


@dataclass
class _Deps:
    settings: Settings
    repository: PolicyRepository
    flusher: Flusher
    clock: Callable[[], float]
    verifier: TokenVerifier | None
    sleep: Callable[[float], None] = time.sleep
    verifier_lock: threading.Lock = field(default_factory=threading.Lock)

    def token_verifier(self) -> TokenVerifier:
        """Built on the first token simulation: most deployments never pay for it."""
        with self.verifier_lock:
            if self.verifier is None:
                # python-jose loads only when a token is simulated.
                from authz.token.verifier import Verifier  # noqa: PLC0415

                self.verifier = Verifier.from_settings(self.settings)
            return self.verifier


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


def _responses(ok: int, model: type[Any], description: str, *errors: int) -> dict[int, Any]:
    out: dict[int, Any] = {
        ok: {"description": description, "content": {"application/json": {"model": model}}}
    }
    for status in sorted({400, 403, 500, 503, *errors}):
        out[status] = {
            "description": _ERRORS[status],
            "content": {"application/json": {"model": ErrorBody}},
        }
    return out


def _json(status: int, model: Any, headers: Mapping[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=model,
        headers=dict(headers or {}),
    )


def _selector(kind: str, raw_name: str) -> Selector:
    try:
        name = decode_name(raw_name)
    except UnicodeDecodeError:
        raise ApiError(
            400, "invalid_selector", "the name is not valid percent-encoded UTF-8"
        ) from None
    return Selector.of(kind, name)


def _location(selector: Selector) -> str:
    return f"/policies/{selector.kind}/{quote(selector.name, safe='')}"


def _validated(
    selector: Selector, body: PutPolicyBody
) -> tuple[PolicyDocument, dict[str, Any] | None]:
    """The document and token settings, with every problem of both reported at once."""
    details: list[dict[str, str]] = []
    document: PolicyDocument | None = None
    token: dict[str, Any] | None = None
    try:
        document = PolicyDocument.from_dict(body.document)
    except PolicyValidationError as exc:
        details += from_authz_error(exc).details
    if body.token is not None:
        if selector.kind != "group":
            details.append(
                {"path": "token", "message": "token settings apply to group policies only"}
            )
        else:
            try:
                token = TokenSettings.from_dict(body.token).to_dict() or None
            except TokenSettingsError as exc:
                details += [dict(e) for e in exc.errors]
    if details or document is None:
        code = (
            "invalid_document"
            if any(d["path"].startswith("document") for d in details)
            else ("invalid_token_settings")
        )
        raise ApiError(400, code, f"the policy is not valid ({len(details)} problems)", details)
    return document, token


def _register_routes(app: _Resolver, deps: _Deps) -> None:  # one route each
    def caller() -> Caller:
        found: Caller = app.context["caller"]
        return found

    generated: list[dict[str, Any]] = []

    def openapi_once() -> dict[str, Any]:
        # Generated once per container: the routes never change after start-up.
        if not generated:
            generated.append(openapi_document(app))
        return generated[0]

    def guard(selector: Selector, after: PolicyDocument | None, force: bool) -> bool:
        routes = routes_from_openapi(openapi_once(), deps.settings.admin_group)
        api: ApiIdentity = app.context["api"]
        return guard_write(
            deps.repository, deps.settings, selector, after, routes=routes, api=api, force=force
        )

    @app.get(
        "/policies",
        summary="List policies",
        responses=_responses(200, PolicyPage, "a page of policy summaries"),
    )
    def list_policies(
        kind: Annotated[KindParam | None, Query(description="only this kind")] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        next_: Annotated[str | None, Query(alias="next", max_length=4096)] = None,
    ) -> Response[PolicyPage]:
        page = deps.repository.list(kind=kind, limit=limit, cursor=next_)
        return _json(200, PolicyPage(items=[summary(r) for r in page.items], next=page.cursor))

    @app.get(
        "/policies/<kind>/<name>",
        summary="Get one policy",
        responses=_responses(200, PolicyOut, "the policy; ETag is its version", 404),
    )
    def get_policy(kind: KindParam, name: str) -> Response[PolicyOut]:
        record = deps.repository.get(_selector(kind, name))
        return _json(200, policy_out(record), {"ETag": etag(record.version)})

    @app.put(
        "/policies/<kind>/<name>",
        summary="Create or replace a policy",
        responses={
            **_responses(200, WriteOut, "updated", 404, 409, 412, 413, 415),
            201: {
                "description": "created",
                "content": {"application/json": {"model": WriteOut}},
            },
        },
    )
    def put_policy(  # noqa: PLR0917  # one parameter per request field, as Powertools binds them
        kind: KindParam,
        name: str,
        body: Annotated[PutPolicyBody, Body()],
        if_match: Annotated[str | None, Header(alias="If-Match")] = None,
        if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
        force: Annotated[bool, Query(description=_FORCE)] = False,
    ) -> Response[WriteOut]:
        selector = _selector(kind, name)
        pre = parse_preconditions(if_match, if_none_match)
        document, token = _validated(selector, body)
        forced = guard(selector, document, force)
        result = conditional_put(
            deps.repository,
            selector,
            document,
            actor=caller().identity,
            description=body.description,
            token=token,
            pre=pre,
            forced=forced,
        )
        record = result.record
        if record is None:  # the protocol promises a record after a put
            raise ApiError(500, "internal_error", "the store returned no record")
        created = result.action == "create"
        out = WriteOut(
            action="created" if created else "updated",
            version=record.version,
            epoch=result.epoch,
            policy=policy_out(record),
            freshness=freshness_after_write(
                result.epoch, deps.settings, deps.flusher, deps.clock, deps.sleep
            ),
            warnings=warnings_out(document),
        )
        headers = {"ETag": etag(record.version)}
        if created:
            headers["Location"] = _location(selector)
        return _json(201 if created else 200, out, headers)

    @app.delete(
        "/policies/<kind>/<name>",
        summary="Delete a policy",
        responses=_responses(200, DeleteResult, "deleted", 404, 409, 412),
    )
    def delete_policy(
        kind: KindParam,
        name: str,
        if_match: Annotated[str | None, Header(alias="If-Match")] = None,
        force: Annotated[bool, Query(description=_FORCE)] = False,
    ) -> Response[DeleteResult]:
        selector = _selector(kind, name)
        pre = parse_preconditions(if_match, None, allow_create_only=False)
        forced = guard(selector, None, force)
        result = conditional_delete(
            deps.repository, selector, actor=caller().identity, pre=pre, forced=forced
        )
        deleted: int | None
        if pre.versions is not None and len(pre.versions) == 1:
            (deleted,) = pre.versions
        else:
            deleted = _deleted_version(deps, selector)
        out = DeleteResult(
            action="deleted",
            selector=str(selector),
            version=deleted,
            epoch=result.epoch,
            freshness=freshness_after_write(
                result.epoch, deps.settings, deps.flusher, deps.clock, deps.sleep
            ),
        )
        return _json(200, out)

    @app.get(
        "/policies/<kind>/<name>/history",
        summary="History of a policy, newest first",
        responses=_responses(200, HistoryPage, "a page of history entries", 404),
    )
    def policy_history(
        kind: KindParam,
        name: str,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        next_: Annotated[str | None, Query(alias="next", max_length=4096)] = None,
    ) -> Response[HistoryPage]:
        selector = _selector(kind, name)
        page = deps.repository.history(selector, limit=limit, cursor=next_)
        if not page.items and next_ is None:
            raise NotFoundError(f"no history for {selector}")
        return _json(
            200,
            HistoryPage(
                selector=str(selector),
                items=[history_item(e) for e in page.items],
                next=page.cursor,
            ),
        )

    @app.post(
        "/simulate",
        summary="Decide a request for a principal or a token, with the explanation",
        responses=_responses(200, SimulateOut, "the decision", 413, 415),
    )
    def simulate(body: Annotated[SimulateBody, Body()]) -> Response[SimulateOut]:
        identity: ApiIdentity = app.context["api"]
        return _json(200, simulate_request(body, deps=deps, api=identity))

    @app.get("/openapi.json", summary="This API's OpenAPI document")
    def openapi() -> dict[str, Any]:
        return openapi_once()


def _deleted_version(deps: _Deps, selector: Selector) -> int | None:
    # A delete's WriteResult carries no record; the newest history entry is
    # the delete itself (unless another write already followed it).
    page = deps.repository.history(selector, limit=1)
    if page.items and page.items[0].action == "delete":
        return page.items[0].version
    return None


_ERROR_REF = "#/components/schemas/ErrorBody"


def openapi_document(app: APIGatewayRestResolver) -> dict[str, Any]:
    """The resolver's generated document, cleaned of Powertools' 422 responses
    (validation errors are answered as 400 in our error format)."""
    raw = app.get_openapi_json_schema(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        security_schemes={"cognito": HTTPBearer(bearerFormat="JWT")},
        security=[{"cognito": []}],
    )
    doc: dict[str, Any] = json.loads(raw)
    error = {"content": {"application/json": {"schema": {"$ref": _ERROR_REF}}}}
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            # Powertools documents its own shapes for these; ours is ErrorBody.
            responses["500"] = {"description": _ERRORS[500], **error}
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc


_ROUTE_TABLE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), method)
    for pattern, methods in (
        (r"^/policies/?$", ("GET",)),
        (r"^/policies/[^/]+/[^/]+/?$", ("GET", "PUT", "DELETE")),
        (r"^/policies/[^/]+/[^/]+/history/?$", ("GET",)),
        (r"^/simulate/?$", ("POST",)),
        (r"^/openapi\.json$", ("GET",)),
    )
    for method in methods
)


def _allowed_methods(path: str) -> list[str]:
    return sorted({m for rx, m in _ROUTE_TABLE if rx.match(path)})


def _register_errors(app: _Resolver) -> None:
    def api_error(exc: ApiError) -> Response[Any]:
        return exc.response()

    def authz_error(exc: AuthzError) -> Response[Any]:
        return from_authz_error(exc).response()

    def invalid_request(exc: RequestValidationError) -> Response[Any]:
        return from_validation_errors(list(exc.errors())).response()

    def unsupported(exc: RequestUnsupportedContentType) -> Response[Any]:
        return ApiError(
            415, "unsupported_media_type", "send the body as application/json"
        ).response()

    def bad_response(exc: ResponseValidationError) -> Response[Any]:
        logger.error("admin API response failed its own schema: %s", exc.errors())
        return ApiError(500, "internal_error", "internal error").response()

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

    def internal(exc: Exception) -> Response[Any]:
        logger.exception("unhandled error in the admin API", exc_info=exc)
        return ApiError(500, "internal_error", "internal error").response()

    # Registered by plain calls: Powertools' decorators are untyped.
    handlers: list[tuple[type[Exception], Callable[[Any], Response[Any]]]] = [
        (ApiError, api_error),
        (AuthzError, authz_error),
        (RequestValidationError, invalid_request),
        (RequestUnsupportedContentType, unsupported),
        (ResponseValidationError, bad_response),
        (RouteNotFoundError, not_found),
        (Exception, internal),
    ]
    for exc_class, func in handlers:
        app.exception_handler(exc_class)(func)


class AdminApp:
    """One admin API: the caller gate, the body limit, then the resolver."""

    def __init__(self, deps: _Deps, *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.deps = deps
        self.max_body_bytes = max_body_bytes
        self.resolver = _Resolver(enable_validation=True, response_validation_error_http_code=500)
        _register_errors(self.resolver)
        _register_routes(self.resolver, deps)
        # Powertools' per-request context lives on the resolver; one request at a time.
        self._lock = threading.Lock()

    def openapi(self) -> dict[str, Any]:
        return openapi_document(self.resolver)

    def __call__(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        try:
            caller = authorize_caller(event, self.deps.settings.admin_group)
            check_body_size(event, self.max_body_bytes)
            canonical = canonical_event(event)
        except ApiError as exc:
            return exc.proxy()
        with self._lock:
            self.resolver.context.update(caller=caller, api=ApiIdentity.from_event(event))
            return self.resolver.resolve(canonical, context)


def build_app(
    settings: Settings,
    repository: PolicyRepository,
    verifier: TokenVerifier | None = None,
    flusher: Flusher | None = None,
    clock: Callable[[], float] | None = None,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    sleep: Callable[[float], None] = time.sleep,
) -> AdminApp:
    """The admin API with its collaborators; defaults are the production ones.

    ``verifier`` checks tokens for ``POST /simulate`` (built from settings on
    first use when None); ``flusher(rest_api_id, stage)`` flushes API
    Gateway's authorizer cache after each write, ``sleep`` seconds after it
    (one epoch check interval, see ``admin_freshness``); ``clock`` is wall
    time in seconds (for ``visible_by``).
    """
    deps = _Deps(
        settings=settings,
        repository=repository,
        flusher=flusher if flusher is not None else boto3_flusher(settings.region),
        clock=clock if clock is not None else time.time,
        verifier=verifier,
        sleep=sleep,
    )
    return AdminApp(deps, max_body_bytes=max_body_bytes)


_app: AdminApp | None = None
_lock = threading.Lock()


def install(app: AdminApp | None) -> None:
    """Use ``app`` for the following invocations (None: rebuild from the environment)."""
    global _app  # noqa: PLW0603  # the one per-container instance, by design
    _app = app


def _boot() -> AdminApp:
    global _app  # noqa: PLW0603  # the one per-container instance, by design
    with _lock:
        if _app is None:
            settings = Settings.from_env()
            # pynamodb loads only for the production repository; tests inject theirs.
            from authz.store import DynamoRepository  # noqa: PLC0415

            _app = build_app(settings, DynamoRepository(settings))
        return _app


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point. Settings and the repository are built on the first call
    and reused for the container's life."""
    app = _app if _app is not None else _boot()
    return app(event, context)
