"""The local gateway answers the stack's own endpoints under the stage, before routing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from authz.dev.gateway import AuthorizerConfig, LocalGateway, Route, console_routes

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
