"""The ``execute-api:/{stage}/{VERB}/{path}`` shorthand end to end: real tokens, policies
in DynamoDB Local, the handler's responses and the authorizer's caches.

The policy returned is expanded for the API and stage of the request, so the
caches must never hand one API's (or stage's) expansion to another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from authz.handlers.authorizer import AuthorizerError
from authz.policy import PolicyDocument, Selector, evaluate
from authz.service import simulate
from tests.functional.authorizer.conftest import Harness, token
from tests.functional.authorizer.support import allow, arn, deny, document, event, load

POLICIES: dict[str, PolicyDocument] = {
    "default": document(allow("execute-api:/*/GET/health", sid="Health")),
    "group:readers": document(
        allow("execute-api:/*/GET/orders", "execute-api:/*/GET/orders/*", sid="Read")
    ),
    "group:profiles": document(allow("execute-api:/*/PUT/users/${sub}/profile", sid="Own")),
    "group:ops": document(
        allow("execute-api:/*/*", sid="Everything"),
        deny("execute-api:/*/DELETE/*", sid="NoDelete"),
    ),
    "group:prodonly": document(allow("execute-api:/prod/GET/reports/*", sid="Reports")),
    "group:legacy": document(allow("arn:aws:execute-api:*:*:*/*/GET/legacy/*", sid="Legacy")),
}

ROUTES = [
    ("GET", "health"),
    ("GET", "orders"),
    ("GET", "orders/1"),
    ("DELETE", "GET/orders/1"),
    ("POST", "admin/GET/orders/x"),
    ("PUT", "users/alice/profile"),
    ("PUT", "users/bob/PUT/users/alice/profile"),
    ("DELETE", "orders/1"),
    ("GET", "reports/q1"),
    ("GET", "legacy/x"),
    ("POST", "x/GET/legacy/y"),
]


@pytest.fixture
def loaded(repository: Any) -> Any:
    load(repository, POLICIES)
    return repository


def policy_of(response: dict[str, Any]) -> PolicyDocument:
    return PolicyDocument.from_dict(response["policyDocument"])


def rest(tok: str, verb: str, path: str, **where: str) -> dict[str, Any]:
    return event("rest_token", tok, methodArn=arn(verb, path, **where))


def resources(response: dict[str, Any]) -> list[str]:
    return [r for s in policy_of(response).statements for r in s.resources]


def test_cross_segment_requests_are_denied_through_the_handler(
    harness: Callable[..., Harness],
) -> None:
    """The attacks a full-ARN ``*`` lets through get a Deny from the authorizer itself."""
    h = harness()
    tok = token("alice", groups=("readers", "profiles"))
    for verb, path in [
        ("DELETE", "GET/orders/1"),
        ("POST", "admin/GET/orders/x"),
        ("PUT", "users/bob/PUT/users/alice/profile"),
    ]:
        h(rest(tok, verb, path))
        assert h.decisions()[-1]["outcome"] == "deny", (verb, path)
    h(rest(tok, "PUT", "users/alice/profile"))
    assert h.decisions()[-1]["outcome"] == "allow"


@pytest.mark.parametrize("groups", [("readers",), ("ops",), ("readers", "profiles", "legacy")])
@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_returned_policy_decides_every_route_of_its_api_and_stage_like_fresh_requests(
    harness: Callable[..., Harness], groups: tuple[str, ...], stage: str
) -> None:
    """API Gateway reuses the first response for every route of the API and stage: that
    policy decides each route exactly as the authorizer does when asked about it."""
    h = harness()
    tok = token("alice", groups=groups)
    cached = policy_of(h(rest(tok, "GET", "health", stage=stage)))
    for verb, path in ROUTES:
        fresh = h(rest(tok, verb, path, stage=stage))
        outcome = h.decisions()[-1]["outcome"]
        assert evaluate(cached, arn(verb, path, stage=stage)).allowed is (outcome == "allow")
        assert policy_of(fresh) == cached


def test_same_token_on_two_apis_gets_each_api_its_own_expansion(
    harness: Callable[..., Harness],
) -> None:
    """The token memo and the effective-policy cache key on API and stage: the second API
    never receives the first one's resources, before or after both are cached."""
    h = harness()
    tok = token("alice", groups=("readers",))
    hits = []
    for _ in range(2):
        for api in ("firstapi1", "secondapi2"):
            outcome = h.authorizer.authorize(tok, arn("GET", "orders", api=api))
            hits.append(outcome.token_cache_hit)
            assert outcome.allowed
            found = [r for s in outcome.policy["Statement"] for r in s["Resource"]]
            assert found
            assert all(f":{api}/prod/GET/" in r for r in found), found
    assert hits == [False, False, True, True]


def test_same_token_on_two_stages_gets_each_stage_its_own_expansion(
    harness: Callable[..., Harness],
) -> None:
    """A stage-specific shorthand allows on its stage only, whatever the cache holds."""
    h = harness()
    tok = token("alice", groups=("prodonly",))
    for _ in range(2):
        on_prod = h(rest(tok, "GET", "reports/q1", stage="prod"))
        on_dev = h(rest(tok, "GET", "reports/q1", stage="dev"))
        assert evaluate(policy_of(on_prod), arn("GET", "reports/q1", stage="prod")).allowed
        assert not evaluate(policy_of(on_dev), arn("GET", "reports/q1", stage="dev")).allowed
    assert [d["outcome"] for d in h.decisions()] == ["allow", "deny"] * 2


def test_policy_without_shorthand_is_shared_across_apis(repository: Any, harness: Any) -> None:
    """Full-ARN policies do not depend on the API: one effective-policy entry serves all."""
    repository.put(
        Selector.parse("default"),
        document(allow("arn:aws:execute-api:*:*:*/*/GET/health")),
        actor="t",
    )
    h = harness()
    for api in ("firstapi1", "secondapi2", "thirdapi3"):
        outcome = h.authorizer.authorize(
            token(api, groups=("legacy",)), arn("GET", "legacy/x", api=api)
        )
        assert outcome.allowed
    assert len(h.authorizer._caches.effective) == 1


def test_deny_shorthand_beats_allow_on_every_stage(harness: Callable[..., Harness]) -> None:
    """``execute-api:/*/DELETE/*`` denies every DELETE of whatever stage is called."""
    h = harness()
    tok = token("root", groups=("ops",))
    for stage in ("prod", "dev", "$default"):
        response = h(rest(tok, "DELETE", "orders/1", stage=stage))
        assert evaluate(policy_of(response), arn("DELETE", "orders/1", stage=stage)).effect == (
            "Deny"
        )
        h(rest(tok, "POST", "orders", stage=stage))
        assert h.decisions()[-1]["outcome"] == "allow"


@pytest.mark.parametrize(
    "method_arn",
    [
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/*/GET/orders",
        "arn:aws:execute-api:us-east-1:123456789012:abc*/prod/GET/orders",
        "arn:aws:execute-api:*:123456789012:abcdef123/prod/GET/orders",
        "not-an-arn",
    ],
)
def test_methodarn_naming_no_api_and_stage_fails_closed_with_shorthand(
    harness: Callable[..., Harness], method_arn: str
) -> None:
    """A methodArn whose API or stage holds a wildcard (or none at all) cannot be expanded
    for: a 500, never an Allow, and nothing cached for it."""
    h = harness()
    tok = token("alice", groups=("readers",))
    with pytest.raises(AuthorizerError):
        h(event("rest_token", tok, methodArn=method_arn))
    with pytest.raises(AuthorizerError):
        h(event("rest_token", tok, methodArn=method_arn))
    assert not len(h.authorizer._memo)
    assert {d["outcome"] for d in h.decisions()} <= {"error"}


def test_simulate_expands_for_the_simulated_method_arn(repository: Any) -> None:
    """simulate shows the policy the authorizer would return for that API and stage."""
    load(repository, POLICIES)
    target = arn("DELETE", "GET/orders/1", api="simapi1", stage="test")
    result = simulate(repository, None, target, groups=["readers"])
    assert not result.allowed
    assert result.decision.effect == "ImplicitDeny"
    returned = [r for s in result.document.statements for r in s.resources]
    assert returned
    assert all(
        r.startswith("arn:aws:execute-api:us-east-1:123456789012:simapi1/test/GET/")
        for r in returned
    )
    assert result.effective_policy == result.document.to_dict()

    allowed = simulate(repository, None, arn("GET", "orders/7"), groups=["readers"])
    assert allowed.allowed
    [deciding] = [m for m in allowed.statements if m["deciding"]]
    assert deciding["sid"] == "Read"
    assert (
        deciding["pattern"]
        == "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/orders/*"
    )
