"""The local gateway answers the stack's own endpoints under the stage, before routing."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.stub import Stubber
from werkzeug.wrappers import Request, Response

from authz.dev.cognito import LocalCognito
from authz.dev.gateway import AuthorizerConfig, LocalGateway, Route, console_routes
from authz.dev.sign_in import SIGN_IN_PATH, LocalSignIn

pytestmark = pytest.mark.integration

SECRET = "hunter2-not-for-logs"


def lambda_answer(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": event["path"]}


def echo(request: Request) -> Response:
    return Response(f"{request.method} {request.path}", 200)


def failing(request: Request) -> Response:
    raise RuntimeError("the endpoint broke")


def test_local_endpoints_are_served_under_the_stage_only() -> None:
    """A stage-relative endpoint answers at /<stage>/path, not at /path, and not as a route."""
    gateway = LocalGateway(
        [Route("ANY", "/{proxy+}", lambda_answer, protected=False)],
        stage="dev",
        local_endpoints={"/local/echo": echo},
    )
    with gateway:
        url = gateway.start()
        assert requests.post(url + "/local/echo", timeout=5).text == "POST /dev/local/echo"
        # Outside the stage: API Gateway's own 403, as for any unknown path.
        root = url.removesuffix("/dev")
        assert requests.post(root + "/local/echo", timeout=5).status_code == 403
        # Other paths still reach the routes.
        assert requests.get(url + "/local/other", timeout=5).text == "/local/other"


def test_a_failing_endpoint_is_502_and_its_request_is_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An endpoint that raises gets API Gateway's 502; the log names the path, not the body."""
    gateway = LocalGateway([], stage="dev", local_endpoints={"/local/sign-in": failing})
    with gateway, caplog.at_level(logging.INFO):
        url = gateway.start()
        answer = requests.post(url + "/local/sign-in", json={"password": SECRET}, timeout=5)
    assert answer.status_code == 502
    assert answer.json() == {"message": "Internal server error"}
    assert "/dev/local/sign-in" in caplog.text
    assert SECRET not in caplog.text


def test_console_routes_need_no_token_even_with_an_authorizer() -> None:
    """The console's routes reach their handler without any identity source."""

    def refuse(_event: dict[str, Any], _context: Any) -> Any:
        raise Exception("Unauthorized")  # the authorizer's exact contract

    gateway = LocalGateway(
        [*console_routes(lambda_answer), Route("GET", "/policies", lambda_answer)],
        AuthorizerConfig(refuse, result_ttl_seconds=0),
        stage="dev",
    )
    with gateway:
        url = gateway.start()
        assert requests.get(url + "/console", timeout=5).text == "/console"
        assert requests.get(url + "/console/app.js", timeout=5).text == "/console/app.js"
        assert requests.get(url + "/policies", timeout=5).status_code == 401


def test_console_events_carry_resource_and_asset_like_api_gateway() -> None:
    """The handler decides by `resource` and reads `pathParameters.asset`, decoded; the
    trailing slash lands on /console; a nested path matches no console route."""

    def shape(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        seen = {k: event[k] for k in ("resource", "path", "pathParameters")}
        return {"statusCode": 200, "body": json.dumps(seen)}

    with LocalGateway(console_routes(shape), stage="dev") as gateway:
        url = gateway.start()

        def seen(path: str) -> Any:
            return requests.get(url + path, timeout=5).json()

        assert seen("/console") == {
            "resource": "/console",
            "path": "/console",
            "pathParameters": None,
        }
        assert seen("/console/") == {
            "resource": "/console",
            "path": "/console/",
            "pathParameters": None,
        }
        assert seen("/console/app.js") == {
            "resource": "/console/{asset}",
            "path": "/console/app.js",
            "pathParameters": {"asset": "app.js"},
        }
        assert seen("/console/..%2Fapp.py")["pathParameters"] == {"asset": "../app.py"}
        assert requests.get(url + "/console/a/b.js", timeout=5).status_code == 403


@pytest.fixture
def cognito() -> Iterator[tuple[LocalCognito, Stubber]]:
    """A LocalCognito whose client answers from a botocore Stubber: Cognito's replies, offline."""
    client = boto3.client(
        "cognito-idp",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # a stub's, never sent
    )
    # No server: the sign-in endpoint uses only the client and the app client id.
    pool = LocalCognito(None, client, "us-east-1", "us-east-1_Test", "client1")  # type: ignore[arg-type]
    with Stubber(client) as stubber:
        yield pool, stubber
        stubber.assert_no_pending_responses()


def signing_in(pool: LocalCognito, **kwargs: Any) -> requests.Response:
    with LocalGateway([], stage="dev", local_endpoints={SIGN_IN_PATH: LocalSignIn(pool)}) as gw:
        return requests.post(gw.start() + SIGN_IN_PATH, timeout=5, **kwargs)


CREDENTIALS = {"username": "admin", "password": SECRET}


def test_a_parameter_cognito_refuses_is_400_not_502(
    cognito: tuple[LocalCognito, Stubber], caplog: pytest.LogCaptureFixture
) -> None:
    """Cognito's InvalidParameterException is the request's fault: 400, nothing of it logged."""
    pool, stubber = cognito
    stubber.add_client_error(
        "initiate_auth", "InvalidParameterException", f"bad value {SECRET}", 400
    )
    with caplog.at_level(logging.INFO):
        answer = signing_in(pool, json=CREDENTIALS)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_request"
    assert SECRET not in answer.text
    assert SECRET not in caplog.text


def test_another_cognito_failure_is_the_gateways_502(cognito: tuple[LocalCognito, Stubber]) -> None:
    """Cognito failing (not the user) is no 4xx: the endpoint raises and the gateway says 502."""
    pool, stubber = cognito
    stubber.add_client_error("initiate_auth", "InternalErrorException", "down", 500)
    assert signing_in(pool, json=CREDENTIALS).status_code == 502


@pytest.mark.parametrize("challenge", ["NEW_PASSWORD_REQUIRED", "SOFTWARE_TOKEN_MFA"])
def test_a_challenge_is_401_naming_it(
    cognito: tuple[LocalCognito, Stubber], challenge: str
) -> None:
    """A user Cognito challenges cannot finish here: 401 saying which challenge."""
    pool, stubber = cognito
    stubber.add_response(
        "initiate_auth",
        {"ChallengeName": challenge, "Session": "s" * 20, "ChallengeParameters": {}},
    )
    answer = signing_in(pool, json=CREDENTIALS)
    assert answer.status_code == 401
    assert answer.json()["error"] == {
        "code": "not_authorized",
        "message": f"this user must finish signing in elsewhere: {challenge}",
        "details": [],
    }


def test_a_chunked_body_is_411_and_a_large_one_413(cognito: tuple[LocalCognito, Stubber]) -> None:
    """The body is sized before it is read: no Content-Length, or over 4 KB, never reaches
    Cognito (the stubber holds no answer, so a call would fail the test)."""
    pool, _stubber = cognito
    headers = {"Content-Type": "application/json"}
    chunked = signing_in(pool, data=iter([json.dumps(CREDENTIALS).encode()]), headers=headers)
    assert chunked.status_code == 411
    assert chunked.json()["error"]["code"] == "length_required"
    large = signing_in(pool, json={"username": "admin", "password": "x" * 5000})
    assert large.status_code == 413
    assert large.json()["error"]["code"] == "payload_too_large"
