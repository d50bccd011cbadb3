"""The local API Gateway behaves like API Gateway's REST Lambda-authorizer flow.

Each test drives a real HTTP server on 127.0.0.1 with small fake authorizer
handlers, so no DynamoDB or Cognito is needed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from authz.dev import backend
from authz.dev.gateway import AuthorizerConfig, LocalGateway, Route

pytestmark = pytest.mark.integration

ARN_PREFIX = "arn:aws:execute-api:eu-west-1:111122223333:api123/test"
EXPLICIT_DENY = "User is not authorized to access this resource with an explicit deny"
NO_ALLOW = "User is not authorized to access this resource"
Handler = Callable[[dict[str, Any], Any], Any]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(effect: str, *resources: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": effect, "Action": "execute-api:Invoke", "Resource": list(resources)}
        ],
    }


def answer(effect: str, *resources: str, context: dict[str, Any] | None = None) -> Handler:
    """An authorizer that records its events and always returns the same policy."""

    def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        handler.events.append(event)  # type: ignore[attr-defined]
        out: dict[str, Any] = {
            "principalId": "user-1",
            "policyDocument": policy(effect, *resources),
        }
        if context is not None:
            out["context"] = context
        return out

    handler.events = []  # type: ignore[attr-defined]
    return handler


def raising(message: str) -> Handler:
    def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        raise Exception(message)  # the Lambda contract is a bare Exception

    return handler


def failing_integration(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("backend bug")


ROUTES = [
    Route("GET", "/orders/{id}", backend.handler),
    Route("ANY", "/{proxy+}", backend.handler),
    Route("GET", "/public", backend.handler, protected=False),
    Route("GET", "/broken", failing_integration),
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def start(clock: FakeClock) -> Iterator[Callable[..., tuple[LocalGateway, str]]]:
    """Start gateways on free ports; every one is stopped after the test."""
    running: list[LocalGateway] = []

    def _start(
        auth_handler: Handler, *, ttl: int = 300, routes: list[Route] = ROUTES, **auth: Any
    ) -> tuple[LocalGateway, str]:
        config = AuthorizerConfig(handler=auth_handler, result_ttl_seconds=ttl, **auth)
        gateway = LocalGateway(
            routes, config, "eu-west-1", "111122223333", "api123", "test", clock=clock
        )
        running.append(gateway)
        return gateway, gateway.start(port=0)

    yield _start
    for gateway in running:
        gateway.stop()


def get(url: str, token: str | None = "tok-a", **kwargs: Any) -> requests.Response:  # noqa: S107
    headers = {"Authorization": token} if token is not None else {}
    return requests.get(url, headers=headers, timeout=10, **kwargs)


def test_missing_or_empty_identity_source_is_401_without_calling_the_authorizer(start):
    """A missing or empty Authorization header answers 401 without invoking the authorizer."""
    gateway, base = start(answer("Allow", "*"))
    for token in (None, ""):
        r = get(f"{base}/orders/1", token=token)
        assert r.status_code == 401
        assert r.json() == {"message": "Unauthorized"}
        assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert gateway.authorizer_calls == 0


def test_unauthorized_exception_is_401(start):
    """An authorizer raising Exception("Unauthorized") yields 401 {"message": "Unauthorized"}."""
    gateway, base = start(raising("Unauthorized"))
    r = get(f"{base}/orders/1")
    assert r.status_code == 401
    assert r.json() == {"message": "Unauthorized"}
    assert gateway.authorizer_calls == 1


def test_other_exception_is_500_and_not_cached(start):
    """Any other authorizer exception yields 500 {"message": null} and is retried next request."""
    gateway, base = start(raising("DynamoDB is down"))
    for expected_calls in (1, 2):
        r = get(f"{base}/orders/1")
        assert r.status_code == 500
        assert r.json() == {"message": None}
        assert r.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"
        assert gateway.authorizer_calls == expected_calls


@pytest.mark.parametrize(
    "bad",
    [
        {"policyDocument": policy("Allow", "*")},
        {"principalId": "u", "policyDocument": {"Version": "2012-10-17"}},
        {"principalId": "u", "policyDocument": policy("Allow", "*"), "context": {"a": [1]}},
        None,
    ],
    ids=["no-principal", "invalid-policy", "nested-context", "null"],
)
def test_malformed_answer_is_500_and_not_cached(start, bad):
    """An answer API Gateway cannot use (no principalId, bad policy, nested context) yields 500."""
    gateway, base = start(lambda event, context: bad)
    assert get(f"{base}/orders/1").status_code == 500
    assert get(f"{base}/orders/1").status_code == 500
    assert gateway.authorizer_calls == 2


def test_explicit_deny_and_missing_allow_give_the_two_403_texts(start):
    """An explicit Deny and a policy without a matching Allow produce AWS's two 403 messages."""
    deny = {
        "principalId": "u",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "execute-api:Invoke",
                    "Resource": f"{ARN_PREFIX}/GET/orders/2",
                },
            ],
        },
    }
    _, base = start(lambda event, context: deny)
    r = get(f"{base}/orders/2")
    assert (r.status_code, r.json()) == (403, {"message": EXPLICIT_DENY})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    _, base = start(answer("Allow", f"{ARN_PREFIX}/GET/orders/1"))
    r = get(f"{base}/orders/2")
    assert (r.status_code, r.json()) == (403, {"message": NO_ALLOW})


def test_allow_delivers_context_as_strings_with_principal_id(start):
    """On Allow the integration sees the context flat, every value a string, plus principalId."""
    context = {"tenant": "t1", "admin": True, "guest": False, "groups": 3, "ratio": 0.5}
    _, base = start(answer("Allow", "*", context=context))
    r = get(f"{base}/orders/7", params={"expand": "items"})
    assert r.status_code == 200
    body = r.json()
    assert body["authorizer"] == {
        "tenant": "t1",
        "admin": "true",
        "guest": "false",
        "groups": "3",
        "ratio": "0.5",
        "principalId": "user-1",
    }
    assert body["pathParameters"] == {"id": "7"}
    assert body["queryStringParameters"] == {"expand": "items"}
    assert (body["method"], body["path"], body["resource"]) == ("GET", "/orders/7", "/orders/{id}")


def test_method_arn_carries_the_real_path_not_the_template(start):
    """methodArn names the requested path for /orders/{id} and greedy /{proxy+} routes."""
    auth = answer("Allow", "*")
    _, base = start(auth, ttl=0)
    assert get(f"{base}/orders/42").status_code == 200
    r = requests.delete(f"{base}/a/b/c", headers={"Authorization": "t"}, timeout=10)
    assert r.status_code == 200
    assert r.json()["pathParameters"] == {"proxy": "a/b/c"}
    assert r.json()["resource"] == "/{proxy+}"
    assert [e["methodArn"] for e in auth.events] == [
        f"{ARN_PREFIX}/GET/orders/42",
        f"{ARN_PREFIX}/DELETE/a/b/c",
    ]
    assert auth.events[0] == {
        "type": "TOKEN",
        "authorizationToken": "tok-a",
        "methodArn": f"{ARN_PREFIX}/GET/orders/42",
    }


def test_results_are_cached_per_identity_source_for_the_ttl(start, clock):
    """Within the TTL one token calls the authorizer once; another token or expiry calls again."""
    gateway, base = start(answer("Allow", "*"), ttl=300)
    assert get(f"{base}/orders/1").status_code == 200
    assert get(f"{base}/orders/2").status_code == 200
    assert gateway.authorizer_calls == 1
    assert get(f"{base}/orders/1", token="tok-b").status_code == 200
    assert gateway.authorizer_calls == 2
    clock.now += 299
    assert get(f"{base}/orders/1").status_code == 200
    assert gateway.authorizer_calls == 2
    clock.now += 1
    assert get(f"{base}/orders/1").status_code == 200
    assert gateway.authorizer_calls == 3
    gateway.flush_authorizer_cache()
    assert get(f"{base}/orders/1").status_code == 200
    assert gateway.authorizer_calls == 4


def test_ttl_zero_disables_caching(start):
    """With a TTL of 0 every request invokes the authorizer."""
    gateway, base = start(answer("Allow", "*"), ttl=0)
    for _ in range(3):
        assert get(f"{base}/orders/1").status_code == 200
    assert gateway.authorizer_calls == 3


def test_cached_policy_is_re_evaluated_for_each_route(start):
    """A cached policy allowing only route A denies route B without calling the authorizer again."""
    gateway, base = start(answer("Allow", f"{ARN_PREFIX}/GET/orders/1"), ttl=300)
    assert get(f"{base}/orders/1").status_code == 200
    r = get(f"{base}/orders/2")
    assert (r.status_code, r.json()) == (403, {"message": NO_ALLOW})
    assert gateway.authorizer_calls == 1


def test_request_authorizer_with_query_string_identity_source(start):
    """A REQUEST authorizer keyed on ?token= gets the request's fields and caches per token."""
    auth = answer("Allow", "*")
    gateway, base = start(
        auth, type="REQUEST", identity_source="method.request.querystring.token", ttl=60
    )
    r = get(f"{base}/orders/9", token=None)
    assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
    assert gateway.authorizer_calls == 0
    assert get(f"{base}/orders/9", token=None, params={"token": "q1"}).status_code == 200
    assert get(f"{base}/orders/8", token=None, params={"token": "q1"}).status_code == 200
    assert gateway.authorizer_calls == 1
    event = auth.events[0]
    assert event["type"] == "REQUEST"
    assert event["methodArn"] == f"{ARN_PREFIX}/GET/orders/9"
    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/orders/{id}",
        "/orders/9",
        "GET",
    )
    assert event["queryStringParameters"] == {"token": "q1"}
    assert event["multiValueQueryStringParameters"] == {"token": ["q1"]}
    assert event["pathParameters"] == {"id": "9"}
    assert event["requestContext"]["resourcePath"] == "/orders/{id}"
    assert event["requestContext"]["path"] == "/test/orders/9"
    assert "body" not in event
    assert get(f"{base}/orders/9", token=None, params={"token": "q2"}).status_code == 200
    assert gateway.authorizer_calls == 2


def test_unknown_route_is_403_missing_authentication_token(start):
    """An unknown path, a known resource without the method, or another stage answer 403."""
    gateway, base = start(answer("Allow", "*"))
    root = base.rsplit("/", 1)[0]
    for url, method in ((f"{base}/", "GET"), (f"{base}/orders/1", "POST"), (f"{root}/x", "GET")):
        r = requests.request(method, url, headers={"Authorization": "t"}, timeout=10)
        assert (r.status_code, r.json()) == (403, {"message": "Missing Authentication Token"})
        assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert gateway.authorizer_calls == 0


def test_unprotected_route_skips_the_authorizer(start):
    """A route not guarded by the authorizer is served without any identity source."""
    gateway, base = start(answer("Deny", "*"))
    r = get(f"{base}/public", token=None)
    assert r.status_code == 200
    assert r.json()["authorizer"] is None
    assert gateway.authorizer_calls == 0


def test_integration_exception_is_502(start):
    """An integration that raises answers 502 Internal server error."""
    _, base = start(answer("Allow", "*"))
    r = get(f"{base}/broken")
    assert (r.status_code, r.json()) == (502, {"message": "Internal server error"})


def test_proxy_response_headers_and_body_pass_through(start):
    """The integration's status, headers and body reach the client unchanged."""

    def created(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            "statusCode": 201,
            "headers": {"ETag": '"3"'},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": json.dumps({"echo": event["body"]}),
        }

    _, base = start(answer("Allow", "*"), routes=[Route("PUT", "/items/{id}", created)])
    r = requests.put(f"{base}/items/1", data="hello", headers={"Authorization": "t"}, timeout=10)
    assert r.status_code == 201
    assert r.headers["ETag"] == '"3"'
    assert r.headers["Content-Type"] == "application/json"
    assert r.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert r.json() == {"echo": "hello"}


def test_token_validation_expression_refuses_without_calling(start):
    """A token not matching the TOKEN validation expression answers 401 without the authorizer."""
    gateway, base = start(answer("Allow", "*"), validation_expression=r"Bearer [\w.-]+")
    assert get(f"{base}/orders/1", token="Basic abc").status_code == 401
    assert gateway.authorizer_calls == 0
    assert get(f"{base}/orders/1", token="Bearer abc.def").status_code == 200
    assert gateway.authorizer_calls == 1


def test_admin_routes_win_over_a_greedy_proxy(start):
    """The admin API's resources take precedence over a /{proxy+} catch-all, as in API Gateway."""
    from authz.dev.gateway import admin_routes

    def admin(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200, "body": json.dumps({"admin": event["resource"]})}

    routes = [*admin_routes(admin), Route("ANY", "/{proxy+}", backend.handler)]
    _, base = start(answer("Allow", "*"), routes=routes)
    assert get(f"{base}/policies/group/devs/history").json() == {
        "admin": "/policies/{kind}/{name}/history"
    }
    assert get(f"{base}/policies").json() == {"admin": "/policies"}
    assert get(f"{base}/policies/group").json()["resource"] == "/{proxy+}"
