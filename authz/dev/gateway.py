"""A local API Gateway (REST API, Lambda proxy integration, Lambda authorizer) on 127.0.0.1.

It reproduces the parts of API Gateway's REST Lambda-authorizer flow that an
authorizer's correctness depends on, so the local stack fails where AWS would:

- routes match by *resource* first (``/orders/{id}``, greedy ``/{proxy+}``;
  the most specific resource wins), then by method (exact, else ``ANY``);
  nothing matches -> 403 ``Missing Authentication Token``;
- a configured identity source that is missing or empty -> 401 without
  calling the authorizer; a TOKEN validation expression that does not match
  -> 401 likewise;
- the authorizer gets API Gateway's TOKEN or REQUEST event whose ``methodArn``
  carries the *real* request path (never the route template);
- ``Exception("Unauthorized")`` -> 401; any other exception or a malformed
  answer (no principalId, a policy ``PolicyDocument.from_dict`` rejects, a
  context value that is not a string, number or boolean) -> 500
  ``{"message": null}``, never cached;
- the returned policy is cached per identity-source value for the TTL and
  evaluated with ``authz.policy.evaluate`` against each request's own
  methodArn, so a policy narrowed to one route denies the others, exactly like
  AWS; explicit Deny and "no Allow" give AWS's two different 403 texts;
- Allow -> the integration gets ``requestContext.authorizer`` = the context
  with every value turned into a string (booleans ``"true"``/``"false"``)
  plus ``principalId``; an integration that raises or answers without a
  ``statusCode`` -> 502 ``Internal server error``.

Some paths are answered by the gateway itself, before routing: API Gateway's
own FlushStageAuthorizersCache request, and the stack's ``local_endpoints``
under the stage (the console's ``/local/sign-in``), which no Lambda serves.

Gateway responses (401/403/5xx produced by the gateway itself) carry the
CORS headers that serverless.yml's GatewayResponses add. The API is served
under ``/<stage>`` like an execute-api URL, so ``start()`` returns
``http://127.0.0.1:<port>/<stage>``.

Requests are parsed by werkzeug; this module only maps them to Lambda events.
Nothing here is imported by the Lambda functions.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from authz.errors import PolicyValidationError
from authz.policy import CompiledPolicy, PolicyDocument, compile_policy, evaluate

__all__ = [
    "CORS_HEADERS",
    "AuthorizerConfig",
    "LambdaContext",
    "LambdaHandler",
    "LocalEndpoint",
    "LocalGateway",
    "Route",
    "admin_routes",
    "console_routes",
]

logger = logging.getLogger(__name__)

LambdaHandler = Callable[[dict[str, Any], Any], Any]
"""``handler(event, context)`` exactly as the Lambda runtime calls it."""

LocalEndpoint = Callable[[Request], Response]
"""A path the local stack serves itself, with no Lambda behind it (``/local/sign-in``)."""

CORS_HEADERS: Mapping[str, str] = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "*",
}

# API Gateway's own bodies (default gateway response templates) and the
# x-amzn-ErrorType header it sends with each.
_UNAUTHORIZED = (401, {"message": "Unauthorized"}, "UnauthorizedException")
_EXPLICIT_DENY = (
    403,
    {"message": "User is not authorized to access this resource with an explicit deny"},
    "AccessDeniedException",
)
_NO_ALLOW = (
    403,
    {"message": "User is not authorized to access this resource"},
    "AccessDeniedException",
)
_MISSING_TOKEN = (
    403,
    {"message": "Missing Authentication Token"},
    "MissingAuthenticationTokenException",
)
_AUTHORIZER_CONFIG = (500, {"message": None}, "AuthorizerConfigurationException")
_INTEGRATION_ERROR = (502, {"message": "Internal server error"}, "InternalServerErrorException")

_GatewayAnswer = tuple[int, dict[str, Any], str]

_PARAM = re.compile(r"\{([^{}/]+?)(\+?)\}")
_SOURCE = re.compile(r"method\.request\.(header|querystring)\.(.+)|stageVariables\.(.+)")


@dataclass(frozen=True, slots=True)
class Route:
    """One method of one resource, proxied to a Lambda handler."""

    method: str
    """``GET``, ``POST``, ... or ``ANY``."""
    resource: str
    """Resource template: ``/orders/{id}``, ``/{proxy+}``, ``/``."""
    handler: LambdaHandler
    protected: bool = True
    """Whether the authorizer guards this method."""
    function_name: str = "integration"


def admin_routes(handler: LambdaHandler) -> list[Route]:
    """The admin API's routes, all behind the authorizer, proxied to ``handler``.

    Read from the admin API's OpenAPI document, the one list of its routes
    (a test holds serverless.yml's events to the same list).
    """
    # Deferred: Powertools and pydantic load only when a stack serves the admin API.
    from authz.handlers.admin.app import admin_openapi  # noqa: PLC0415
    from authz.handlers.admin.routes_openapi import operations  # noqa: PLC0415

    return [
        Route(method, path, handler, function_name="admin")
        for method, path in operations(admin_openapi())
    ]


def console_routes(handler: LambdaHandler) -> list[Route]:
    """The console's static routes: no authorizer, as serverless.yml declares them.

    They are not in the OpenAPI document (they are no API); the page they
    serve calls the admin routes above with a token. The handler tells them
    apart by the event's ``resource`` and reads ``pathParameters.asset``,
    which ``_proxy_event`` fills as API Gateway does.
    """
    return [
        Route("GET", "/console", handler, protected=False, function_name="admin"),
        Route("GET", "/console/{asset}", handler, protected=False, function_name="admin"),
    ]


@dataclass(frozen=True, slots=True)
class AuthorizerConfig:
    """A Lambda authorizer as API Gateway configures one."""

    handler: LambdaHandler
    type: Literal["TOKEN", "REQUEST"] = "TOKEN"
    identity_source: str | Sequence[str] = "method.request.header.Authorization"
    """``method.request.header.X``, ``method.request.querystring.X`` or
    ``stageVariables.X`` (REQUEST only, several allowed as a list or
    comma-separated like API Gateway's own setting)."""
    result_ttl_seconds: int = 300
    """0 disables the result cache (AWS's maximum is 3600)."""
    validation_expression: str | None = None
    """TOKEN only: a token not fully matching this regex is refused with 401."""
    function_name: str = "authorizer"

    def sources(self) -> tuple[str, ...]:
        raw = self.identity_source
        items = raw.split(",") if isinstance(raw, str) else list(raw)
        return tuple(s.strip() for s in items if s.strip())


@dataclass(slots=True)
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    log_group_name: str = ""
    log_stream_name: str = "local"
    timeout_ms: int = 10_000

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


@dataclass(frozen=True, slots=True)
class _Grant:
    """A validated authorizer answer as the result cache keeps it."""

    policy: CompiledPolicy
    authorizer: dict[str, str]


class _MalformedAnswer(ValueError):
    """The authorizer answered something API Gateway would refuse (-> 500)."""


def _to_rule(resource: str) -> tuple[str, dict[str, str]]:
    """A werkzeug rule for an API Gateway resource, and rule-variable -> parameter names.

    API Gateway parameter names need not be Python identifiers, so the rule
    uses positional names and the mapping restores the real ones.
    """
    if not resource.startswith("/"):
        raise ValueError(f"resource {resource!r} must start with /")
    names: dict[str, str] = {}

    def repl(m: re.Match[str]) -> str:
        var = f"p{len(names)}"
        names[var] = m.group(1)
        return f"<path:{var}>" if m.group(2) else f"<{var}>"

    rule = _PARAM.sub(repl, resource)
    if "{" in rule or "}" in rule:
        raise ValueError(f"resource {resource!r} has a malformed {{parameter}}")
    return rule, names


def _parse_source(source: str) -> tuple[str, str]:
    """``(kind, name)`` of an identity source: kind is header, querystring or stage."""
    m = _SOURCE.fullmatch(source)
    if m is None:
        raise ValueError(f"unsupported identity source {source!r}")
    kind, name, stage_var = m.groups()
    return (kind, name) if kind else ("stage", stage_var)


def _context_value(key: str, value: object) -> str:
    # API Gateway documents only strings, numbers and booleans as context
    # values and rejects objects and arrays with an authorizer configuration
    # error; null is refused here too, so a sloppy authorizer fails locally.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    raise _MalformedAnswer(f"context[{key!r}] is {type(value).__name__}, not string/number/bool")


def _validate_answer(answer: object) -> _Grant:
    if not isinstance(answer, Mapping):
        raise _MalformedAnswer(f"authorizer returned {type(answer).__name__}, not an object")
    principal = answer.get("principalId")
    if not isinstance(principal, str) or not principal:
        raise _MalformedAnswer("principalId is missing or not a non-empty string")
    try:
        policy = compile_policy(PolicyDocument.from_dict(answer.get("policyDocument")))
    except PolicyValidationError as exc:
        raise _MalformedAnswer(f"policyDocument is invalid: {exc}") from exc
    context = answer.get("context") or {}
    if not isinstance(context, Mapping):
        raise _MalformedAnswer("context is not an object")
    delivered = {str(k): _context_value(str(k), v) for k, v in context.items()}
    delivered["principalId"] = principal
    return _Grant(policy, delivered)


def _gateway_response(answer: _GatewayAnswer, cors: Mapping[str, str]) -> Response:
    status, body, error_type = answer
    headers = {**cors, "x-amzn-ErrorType": error_type}
    return Response(json.dumps(body), status, headers, content_type="application/json")


def _raw_path(request: Request) -> str:
    """The path as the client sent it; werkzeug's ``request.path`` has %2F decoded to '/'."""
    raw: str | None = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        return request.path
    path = raw.split("?", 1)[0]
    if "://" in path:  # absolute-form request target
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return path


def _single(values: Mapping[str, list[str]]) -> dict[str, str] | None:
    # API Gateway's single-value maps keep the last value and are null when empty.
    return {k: v[-1] for k, v in values.items()} or None


class LocalGateway:
    """A REST API stage on 127.0.0.1: routes, one optional Lambda authorizer, a result cache.

    ``clock`` (seconds, monotonic) drives the authorizer result TTL so tests
    can expire cached results without sleeping.
    """

    def __init__(  # noqa: PLR0917  # the signature the local stack and tests share
        self,
        routes: Sequence[Route],
        authorizer: AuthorizerConfig | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        api_id: str = "local",
        stage: str = "dev",
        *,
        stage_variables: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        cors_headers: Mapping[str, str] = CORS_HEADERS,
        local_endpoints: Mapping[str, LocalEndpoint] | None = None,
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.api_id = api_id
        self.stage = stage
        self._stage_variables = dict(stage_variables) if stage_variables else None
        self._clock = clock
        self._cors = dict(cors_headers)
        self._authorizer = authorizer
        self._sources = authorizer.sources() if authorizer else ()
        self._check_authorizer(routes)
        self._source_specs = [_parse_source(s) for s in self._sources]
        self._methods: dict[str, dict[str, Route]] = {}
        self._param_names: dict[str, dict[str, str]] = {}
        rules = []
        for route in routes:
            method = route.method.upper()
            by_method = self._methods.setdefault(route.resource, {})
            if method in by_method:
                raise ValueError(f"duplicate route {method} {route.resource}")
            by_method[method] = route
            if route.resource not in self._param_names:
                rule, names = _to_rule(route.resource)
                self._param_names[route.resource] = names
                rules.append(Rule(rule, endpoint=route.resource))
        # Resource-only rules: the method is chosen afterwards, as API Gateway
        # does, so a known resource without the method is not rerouted to a
        # greedy {proxy+} sibling.
        self._map = Map(rules, strict_slashes=False, merge_slashes=False)
        self._cache: dict[tuple[str, ...], tuple[float, _Grant]] = {}
        self._lock = threading.Lock()
        self._calls = 0
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        # Paths the gateway answers itself, before routing: API Gateway's own flush API,
        # and the stack's endpoints under the stage (given stage-relative).
        self._local: dict[str, LocalEndpoint] = {self.flush_path: self._flush_request}
        for path, endpoint in (local_endpoints or {}).items():
            self._local[f"/{stage}{path}"] = endpoint

    def _check_authorizer(self, routes: Sequence[Route]) -> None:
        auth = self._authorizer
        if auth is None:
            if any(r.protected for r in routes):
                raise ValueError("a protected route needs an authorizer")
            return
        if auth.type not in ("TOKEN", "REQUEST"):
            raise ValueError(f"authorizer type {auth.type!r} is not TOKEN or REQUEST")
        for source in self._sources:
            _parse_source(source)
        if auth.type == "TOKEN" and (
            len(self._sources) != 1 or not self._sources[0].startswith("method.request.header.")
        ):
            raise ValueError("a TOKEN authorizer needs exactly one header identity source")
        if auth.result_ttl_seconds > 0 and not self._sources:
            raise ValueError("caching authorizer results needs an identity source")
        if not 0 <= auth.result_ttl_seconds <= 3600:
            raise ValueError("result_ttl_seconds must be between 0 and 3600")

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def authorizer_calls(self) -> int:
        """How many times the authorizer handler has been invoked."""
        with self._lock:
            return self._calls

    def flush_authorizer_cache(self) -> None:
        """Drop every cached authorizer result (the FlushStageAuthorizersCache API)."""
        with self._lock:
            self._cache.clear()

    @property
    def flush_path(self) -> str:
        """Where API Gateway's own API takes FlushStageAuthorizersCache for this stage.

        The same port answers it, so a boto3 ``apigateway`` client whose
        endpoint is this gateway (``AWS_ENDPOINT_URL_API_GATEWAY``) flushes the
        local stage exactly as it flushes a real one: the CLI's writes use the
        admin API's code path unchanged.
        """
        return f"/restapis/{self.api_id}/stages/{self.stage}/cache/authorizers"

    def _flush_request(self, request: Request) -> Response:
        if request.method != "DELETE":
            return Response('{"message": "Method not allowed"}', 405, mimetype="application/json")
        self.flush_authorizer_cache()
        return Response(status=202)

    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 in a background thread; returns the stage's base URL."""
        if self._server is not None:
            raise RuntimeError("the gateway is already running")
        server = make_server("127.0.0.1", port, self, threaded=True)
        self._server = server
        # A short poll interval keeps stop() quick; the loop is idle otherwise.
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="authz-local-gateway", daemon=True
        )
        self._thread.start()
        return f"http://127.0.0.1:{server.server_port}/{self.stage}"

    def stop(self) -> None:
        """Stop serving and release the port; idempotent."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> LocalGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        prefix = f"/{self.stage}"
        full_path = _raw_path(request)
        endpoint = self._local.get(full_path)
        if endpoint is not None:
            return self._serve_local(endpoint, request, full_path)
        if full_path != prefix and not full_path.startswith(prefix + "/"):
            return _gateway_response(_MISSING_TOKEN, self._cors)
        path = full_path[len(prefix) :] or "/"
        try:
            resource, values = self._map.bind("localhost").match(path)
        except HTTPException:
            return _gateway_response(_MISSING_TOKEN, self._cors)
        by_method = self._methods[resource]
        route = by_method.get(request.method) or by_method.get("ANY")
        if route is None:
            return _gateway_response(_MISSING_TOKEN, self._cors)
        names = self._param_names[resource]
        # Routing and `path` keep the request's own encoding (a %2F stays inside
        # its segment, as on API Gateway); path parameters arrive decoded.
        params = {names[k]: unquote(str(v)) for k, v in values.items()} or None
        event = self._proxy_event(request, route, path, params)
        if route.protected and self._authorizer is not None:
            outcome = self._authorize(self._authorizer, event, request)
            if not isinstance(outcome, _Grant):
                return _gateway_response(outcome, self._cors)
            event["requestContext"]["authorizer"] = dict(outcome.authorizer)
        return self._integrate(route, event)

    def _serve_local(self, endpoint: LocalEndpoint, request: Request, path: str) -> Response:
        try:
            return endpoint(request)
        except Exception:
            # The request may hold a password: log where it failed, never what it carried.
            logger.exception("local endpoint %s failed; answering 502", path)
            return _gateway_response(_INTEGRATION_ERROR, self._cors)

    # -- events ------------------------------------------------------------------------------

    def _method_arn(self, method: str, path: str) -> str:
        return (
            f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}"
            f"/{self.stage}/{method}/{path[1:]}"
        )

    def _proxy_event(
        self, request: Request, route: Route, path: str, params: dict[str, str] | None
    ) -> dict[str, Any]:
        headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            headers.setdefault(name, []).append(value)
        query = {k: request.args.getlist(k) for k in request.args}
        raw = request.get_data(cache=True)
        body: str | None = None
        is_base64 = False
        if raw:
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                body, is_base64 = base64.b64encode(raw).decode("ascii"), True
        return {
            "resource": route.resource,
            "path": path,
            "httpMethod": request.method,
            "headers": _single(headers),
            "multiValueHeaders": headers or None,
            "queryStringParameters": _single(query),
            "multiValueQueryStringParameters": query or None,
            "pathParameters": params,
            "stageVariables": self._stage_variables,
            "requestContext": {
                "accountId": self.account_id,
                "apiId": self.api_id,
                "stage": self.stage,
                "resourcePath": route.resource,
                "httpMethod": request.method,
                "path": f"/{self.stage}{path}",
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(time.time() * 1000),
                "domainName": request.host,
                "identity": {
                    "sourceIp": request.remote_addr or "127.0.0.1",
                    "userAgent": request.headers.get("User-Agent"),
                },
            },
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def _identity(self, event: dict[str, Any], request: Request) -> tuple[str, ...] | None:
        """The identity-source values, or None when one is missing or empty (-> 401)."""
        found = []
        for kind, name in self._source_specs:
            value: str | None
            if kind == "header":
                value = request.headers.get(name)
            elif kind == "querystring":
                value = request.args.get(name)
            else:
                value = (self._stage_variables or {}).get(name)
            if not value or not value.strip():
                return None
            found.append(value)
        return tuple(found)

    def _authorizer_event(
        self, auth: AuthorizerConfig, event: dict[str, Any], identity: tuple[str, ...]
    ) -> dict[str, Any]:
        arn = self._method_arn(event["httpMethod"], event["path"])
        if auth.type == "TOKEN":
            return {"type": "TOKEN", "authorizationToken": identity[0], "methodArn": arn}
        request_event = {k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}
        return {"type": "REQUEST", "methodArn": arn, **request_event}

    # -- authorization -----------------------------------------------------------------------

    def _authorize(
        self, auth: AuthorizerConfig, event: dict[str, Any], request: Request
    ) -> _Grant | _GatewayAnswer:
        identity = self._identity(event, request)
        if identity is None:
            return _UNAUTHORIZED
        pattern = auth.validation_expression
        if auth.type == "TOKEN" and pattern is not None and not re.fullmatch(pattern, identity[0]):
            return _UNAUTHORIZED
        grant = self._cached(identity) if auth.result_ttl_seconds > 0 else None
        if grant is None:
            answer = self._invoke_authorizer(auth, self._authorizer_event(auth, event, identity))
            if not isinstance(answer, _Grant):
                return answer
            grant = answer
            if auth.result_ttl_seconds > 0:
                with self._lock:
                    self._cache[identity] = (self._clock() + auth.result_ttl_seconds, grant)
        arn = self._method_arn(event["httpMethod"], event["path"])
        decision = evaluate(grant.policy, arn)
        if decision.allowed:
            return grant
        return _EXPLICIT_DENY if decision.effect == "Deny" else _NO_ALLOW

    def _cached(self, identity: tuple[str, ...]) -> _Grant | None:
        with self._lock:
            hit = self._cache.get(identity)
            if hit is None:
                return None
            expires, grant = hit
            if self._clock() >= expires:
                del self._cache[identity]
                return None
            return grant

    def _invoke_authorizer(
        self, auth: AuthorizerConfig, auth_event: dict[str, Any]
    ) -> _Grant | _GatewayAnswer:
        with self._lock:
            self._calls += 1
        context = self._lambda_context(auth.function_name)
        try:
            answer = auth.handler(auth_event, context)
        except Exception as exc:
            # Lambda reports only the message; API Gateway maps exactly
            # "Unauthorized" to 401 and everything else to a 500.
            if str(exc) == "Unauthorized":
                return _UNAUTHORIZED
            logger.exception("authorizer raised; answering 500 (AuthorizerConfigurationException)")
            return _AUTHORIZER_CONFIG
        try:
            return _validate_answer(answer)
        except _MalformedAnswer as exc:
            logger.error("authorizer answer rejected (500): %s", exc)
            return _AUTHORIZER_CONFIG

    # -- integration -------------------------------------------------------------------------

    def _lambda_context(self, name: str) -> LambdaContext:
        return LambdaContext(
            function_name=name,
            invoked_function_arn=(
                f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
            ),
            log_group_name=f"/aws/lambda/{name}",
        )

    def _integrate(self, route: Route, event: dict[str, Any]) -> Response:
        try:
            answer = route.handler(event, self._lambda_context(route.function_name))
            return _proxy_response(answer)
        except Exception:
            logger.exception(
                "integration %s %s failed; answering 502", route.method, route.resource
            )
            return _gateway_response(_INTEGRATION_ERROR, self._cors)


def _proxy_response(answer: object) -> Response:
    """Turn a Lambda proxy integration answer into a response; ValueError if malformed."""
    if not isinstance(answer, Mapping):
        raise ValueError(f"integration returned {type(answer).__name__}, not an object")
    status = answer.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"statusCode {status!r} is not an HTTP status")
    body = answer.get("body") or ""
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    try:
        data = base64.b64decode(body, validate=True) if answer.get("isBase64Encoded") else body
    except binascii.Error as exc:
        raise ValueError("isBase64Encoded body is not base64") from exc
    # API Gateway answers application/json when the function names no type.
    response = Response(data, status, content_type="application/json")
    for name, value in (answer.get("headers") or {}).items():
        response.headers[str(name)] = str(value)
    for name, values in (answer.get("multiValueHeaders") or {}).items():
        response.headers.remove(str(name))
        for value in values:
            response.headers.add(str(name), str(value))
    return response
