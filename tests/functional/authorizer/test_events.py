"""Every API Gateway authorizer event flavour: where the token comes from and what goes back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponseV2,
)

from authz.handlers.authorizer import AuthorizerError
from authz.handlers.events import extract
from authz.policy import PolicyDocument, evaluate
from authz.settings import TokenSource
from tests.functional.authorizer.conftest import Harness, token
from tests.functional.authorizer.support import event

HEADER = (TokenSource("header", "Authorization"),)
BOTH = (TokenSource("header", "Authorization"), TokenSource("query", "token"))

IAM_FLAVOURS = [
    ("rest_token", "token"),
    ("rest_request", "request"),
    ("http_v1", "http1"),
    ("http_v2", "http2"),
]


@pytest.mark.parametrize(("name", "kind"), [*IAM_FLAVOURS, ("websocket_connect", "websocket")])
def test_each_fixture_is_recognised_with_its_token_and_arn(name: str, kind: str) -> None:
    """Each event fixture parses to its flavour, the bare token and the ARN API Gateway sent."""
    ev = event(name, "tok.en.sig")
    found_kind, found_token, found_arn = extract(ev, BOTH)
    assert found_kind == kind
    assert found_token == "tok.en.sig"
    assert found_arn == ev.get("routeArn", ev.get("methodArn"))


@pytest.mark.parametrize("prefix", ["Bearer ", "bearer ", "BEARER   ", ""])
def test_bearer_scheme_is_stripped_case_insensitively(prefix: str) -> None:
    """``Bearer`` in any case (or no scheme at all) yields the bare token."""
    ev = event("rest_token", "x", authorizationToken=f"{prefix}abc.def.ghi")
    assert extract(ev, HEADER)[1] == "abc.def.ghi"


def test_request_header_lookup_ignores_case_and_sources_go_in_order() -> None:
    """A header source matches any spelling of the name; the first source with a value wins."""
    ev = event("rest_request", None, headers={"AUTHORIZATION": "Bearer from-header"})
    ev["queryStringParameters"] = {"token": "from-query"}
    assert extract(ev, BOTH)[1] == "from-header"
    assert extract(ev, (TokenSource("query", "token"), *HEADER))[1] == "from-query"
    ev["headers"] = {}
    assert extract(ev, BOTH)[1] == "from-query"
    assert extract(ev, HEADER)[1] is None


def test_unknown_event_shape_is_an_error_not_a_decision(harness: Callable[..., Harness]) -> None:
    """An event that is no authorizer payload fails with a 500-type error, never Unauthorized."""
    h = harness()
    with pytest.raises(AuthorizerError) as info:
        h({"Records": []})
    assert str(info.value) != "Unauthorized"
    assert h.decisions()[-1]["outcome"] == "error"


@pytest.mark.parametrize(("name", "kind"), IAM_FLAVOURS)
def test_iam_flavours_return_principal_policy_and_flat_context(
    harness: Callable[..., Harness], name: str, kind: str
) -> None:
    """REST and HTTP API 1.0/2.0 events get principalId = sub, the policy and a flat context."""
    h = harness()
    ev = event(name, token("reader-1", groups=("readers",), scopes=("orders/write",)))
    response = h(ev)
    assert set(response) == {"principalId", "policyDocument", "context"}
    assert response["principalId"] == "reader-1"
    arn = ev.get("routeArn", ev.get("methodArn"))
    assert evaluate(PolicyDocument.from_dict(response["policyDocument"]), arn).allowed
    ctx = response["context"]
    assert ctx == {
        "sub": "reader-1",
        "username": "reader-1",
        "client_id": ctx["client_id"],
        "token_use": "access",
        "groups": '["readers"]',
        "scopes": '["orders/write"]',
        "epoch": h.authorizer.epoch,
    }
    assert all(isinstance(v, str | int | bool) for v in ctx.values())
    assert h.decisions()[-1]["event"] == kind


def test_websocket_connect_reads_the_query_string_token(harness: Callable[..., Harness]) -> None:
    """A WebSocket $connect carries the token in the query string; its policy covers $connect."""
    h = harness(AUTHZ_TOKEN_SOURCE="query:token")
    ev = event("websocket_connect", token("sock-1", groups=("sockets",)))
    response = h(ev)
    assert response["principalId"] == "sock-1"
    policy = PolicyDocument.from_dict(response["policyDocument"])
    assert evaluate(policy, ev["methodArn"]).allowed
    other_api = ev["methodArn"].replace("wsapi12345", "otherapi99")
    assert not evaluate(policy, other_api).allowed


def test_http_v2_simple_response_decides_the_route_itself(harness: Callable[..., Harness]) -> None:
    """Simple mode answers a 2.0 event for its own route, shaped as Powertools shapes it."""
    h = harness(AUTHZ_RESPONSE="simple")
    reader = token("reader-2", groups=("readers",))
    allowed = h(event("http_v2", reader))
    assert allowed["isAuthorized"] is True
    assert allowed == APIGatewayAuthorizerResponseV2(True, allowed["context"]).asdict()
    post = event("http_v2", reader)
    post["routeArn"] = post["routeArn"].replace("/GET/orders/42", "/DELETE/orders/42")
    denied = h(post)
    assert denied["isAuthorized"] is False
    assert denied["context"]["sub"] == "reader-2"


def test_simple_response_for_a_bad_or_missing_token_is_false(
    harness: Callable[..., Harness],
) -> None:
    """Simple responses answer isAuthorized false (no exception) for missing and invalid tokens."""
    h = harness(AUTHZ_RESPONSE="simple")
    assert h(event("http_v2", None)) == {"isAuthorized": False}
    assert h(event("http_v2", "not-a-jwt")) == {"isAuthorized": False}
    assert [d["outcome"] for d in h.decisions()] == ["unauthorized", "unauthorized"]


def test_simple_mode_still_answers_rest_events_with_iam_policies(
    harness: Callable[..., Harness],
) -> None:
    """Simple mode only changes payload 2.0 responses; a REST event still gets a policy."""
    h = harness(AUTHZ_RESPONSE="simple")
    response = h(event("rest_token", token("reader-3", groups=("readers",))))
    assert "policyDocument" in response


@pytest.mark.parametrize("name", ["rest_token", "rest_request", "http_v1", "websocket_connect"])
def test_missing_token_is_unauthorized(harness: Callable[..., Harness], name: str) -> None:
    """No token: exactly Exception("Unauthorized") and an unauthorized decision line."""
    h = harness(AUTHZ_TOKEN_SOURCE="header:Authorization,query:token")
    with pytest.raises(Exception) as info:  # noqa: PT011  # the contract IS the bare Exception
        h(event(name, None))
    assert type(info.value) is Exception
    assert info.value.args == ("Unauthorized",)
    line = h.decisions()[-1]
    assert (line["outcome"], line["reason"]) == ("unauthorized", "missing token")


def test_context_omits_absent_username_and_client_id(harness: Callable[..., Harness]) -> None:
    """API Gateway rejects null context values, so an absent username is left out, not null."""
    h = harness()
    response: dict[str, Any] = h(event("rest_token", token("m2m-client", username=None)))
    assert "username" not in response["context"]
    assert None not in response["context"].values()


def test_boot_builds_with_the_collector_paused_then_freezes_what_it_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The container's app is built with automatic garbage collection off; afterwards it is
    back on and the objects built are frozen out of later collections."""
    import gc

    from authz.handlers import authorizer as module

    seen: list[bool] = []
    app = object()

    def build() -> object:
        seen.append(gc.isenabled())
        return app

    monkeypatch.setattr(module, "build", build)
    assert gc.isenabled()
    try:
        assert module._build_quietly() is app
        assert seen == [False]
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_failed_boot_turns_the_collector_back_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A configuration error while building propagates, with garbage collection on again."""
    import gc

    from authz.errors import ConfigError
    from authz.handlers import authorizer as module

    def build() -> object:
        raise ConfigError("AUTHZ_CLIENT_IDS", "required")

    monkeypatch.setattr(module, "build", build)
    with pytest.raises(ConfigError):
        module._build_quietly()
    assert gc.isenabled()
