"""Decisions end to end: real tokens, policies in DynamoDB Local, the handler's responses."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from authz.handlers.authorizer import AuthorizerError
from authz.policy import PolicyDocument, Selector, evaluate
from tests.functional.authorizer.conftest import KEY, OTHER_KEY, Harness, token
from tests.functional.authorizer.support import ANY_API, allow, arn, document, event
from tests.tokens import CLIENT_ID, ISSUER, access_claims, id_claims, mint

ROUTES = [
    ("GET", "health"),
    ("GET", "orders"),
    ("GET", "orders/42"),
    ("POST", "orders"),
    ("DELETE", "orders/42"),
    ("DELETE", "orders/locked-7"),
    ("GET", "users/alice"),
    ("PUT", "users/alice/avatar"),
    ("GET", "users/bob"),
    ("GET", "admin/stats"),
]


def policy_of(response: dict[str, Any]) -> PolicyDocument:
    return PolicyDocument.from_dict(response["policyDocument"])


def rest(tok: str, verb: str, path: str) -> dict[str, Any]:
    return event("rest_token", tok, methodArn=arn(verb, path))


@pytest.mark.parametrize(
    ("groups", "scopes", "allowed"),
    [
        (("readers",), (), {("GET", "health"), ("GET", "orders"), ("GET", "orders/42")}),
        ((), ("orders/write",), {("GET", "health"), ("POST", "orders")}),
        (
            ("admins",),
            (),
            {r for r in ROUTES if r != ("DELETE", "orders/locked-7")},
        ),
        (
            ("users",),
            (),
            {("GET", "health"), ("GET", "users/alice"), ("PUT", "users/alice/avatar")},
        ),
    ],
)
def test_one_response_decides_every_route_of_the_principal(
    harness: Callable[..., Harness],
    groups: tuple[str, ...],
    scopes: tuple[str, ...],
    allowed: set[tuple[str, str]],
) -> None:
    """The policy returned for one route allows exactly the principal's routes, on any API."""
    h = harness()
    tok = token("alice", groups=groups, scopes=scopes)
    response = h(rest(tok, "GET", "health"))
    policy = policy_of(response)
    for verb, path in ROUTES:
        expected = (verb, path) in allowed
        assert evaluate(policy, arn(verb, path)).allowed is expected, (verb, path)
        assert evaluate(policy, arn(verb, path, api="otherapi1", stage="dev")).allowed is expected


def test_cached_response_reused_for_another_route_matches_a_fresh_decision(
    harness: Callable[..., Harness],
) -> None:
    """Replaying the first response for other routes, as API Gateway's cache does, decides each
    route exactly as the authorizer decides it when asked about that route."""
    h = harness()
    tok = token("alice", groups=("admins", "users"))
    first = h(rest(tok, "GET", "orders/42"))
    cached = policy_of(first)
    outcomes = set()
    for verb, path in ROUTES:
        fresh = h(rest(tok, verb, path))
        line = h.decisions()[-1]
        outcomes.add(line["outcome"])
        assert evaluate(cached, arn(verb, path)).allowed is (line["outcome"] == "allow"), path
        # Never narrowed to the route asked about: every answer carries the same whole policy.
        assert fresh["policyDocument"] == first["policyDocument"]
    assert outcomes == {"allow", "deny"}


def test_explicit_deny_statement_survives_into_the_response(
    harness: Callable[..., Harness],
) -> None:
    """An admin asking for a locked order gets the whole policy, whose explicit Deny decides it."""
    h = harness()
    response = h(rest(token("root", groups=("admins",)), "DELETE", "orders/locked-1"))
    decision = evaluate(policy_of(response), arn("DELETE", "orders/locked-1"))
    assert decision.effect == "Deny"
    assert h.decisions()[-1]["outcome"] == "deny"


def test_principal_that_nothing_allows_gets_explicit_deny_all(
    harness: Callable[..., Harness], loaded: Any
) -> None:
    """With no allowing statement the response is an explicit Deny of every execute-api route."""
    loaded.delete(Selector.parse("default"), actor="tests")
    h = harness()
    response = h(rest(token("nobody", groups=("strangers",)), "GET", "health"))
    assert response["policyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:*:*:*",
            }
        ],
    }
    for verb, path in ROUTES:
        assert evaluate(policy_of(response), arn(verb, path)).effect == "Deny"


def test_variables_give_each_user_only_their_own_paths(harness: Callable[..., Harness]) -> None:
    """``${sub}`` resolves per principal: alice reaches /users/alice only, bob /users/bob only."""
    h = harness()
    alice = policy_of(h(rest(token("alice", groups=("users",)), "GET", "users/alice")))
    bob = policy_of(h(rest(token("bob", groups=("users",)), "GET", "users/bob")))
    assert evaluate(alice, arn("GET", "users/alice")).allowed
    assert not evaluate(alice, arn("GET", "users/bob")).allowed
    assert evaluate(bob, arn("PUT", "users/bob/avatar")).allowed
    assert not evaluate(bob, arn("PUT", "users/alice/avatar")).allowed


def test_unusable_variable_value_removes_the_allow(harness: Callable[..., Harness]) -> None:
    """A sub with a character outside the safe set cannot widen access: its ${sub} Allow is gone."""
    h = harness()
    policy = policy_of(h(rest(token("eve*", groups=("users",)), "GET", "health")))
    assert evaluate(policy, arn("GET", "health")).allowed
    assert not evaluate(policy, arn("GET", "users/eve*")).allowed
    assert not evaluate(policy, arn("GET", "users/anyone")).allowed


def test_principal_in_fifty_groups_gets_the_union_in_one_read(
    harness: Callable[..., Harness], loaded: Any, count_requests: Any
) -> None:
    """Fifty group policies are read with one BatchGetItem and merged into one policy."""
    groups = tuple(f"team-{i:02d}" for i in range(50))
    for g in groups:
        loaded.put(Selector("group", g), document(allow(f"{ANY_API}/*/GET/{g}/*")), actor="t")
    h = harness()
    tok = token("busy", groups=groups)
    h(rest(tok, "GET", "health"))  # epoch baseline read happens here
    counter = count_requests(loaded)
    h.authorizer.clear()
    response = h(rest(token("busy2", groups=groups), "GET", "team-07/x"))
    # The documents, and the revocation set that clear() marked outdated.
    assert dict(counter.by_operation) == {"BatchGetItem": 1, "Query": 1}
    policy = policy_of(response)
    assert all(evaluate(policy, arn("GET", f"{g}/1")).allowed for g in groups)
    assert not evaluate(policy, arn("POST", "team-07/x")).allowed
    assert len(h.decisions()[-1]["selectors"]) == 51


def test_over_budget_policy_fails_closed_with_selectors_logged(
    harness: Callable[..., Harness], loaded: Any
) -> None:
    """An effective policy over AUTHZ_POLICY_MAX_BYTES is a 500-type error naming the selectors."""
    many = [f"{ANY_API}/*/GET/reports/r{i:03d}" for i in range(40)]
    loaded.put(Selector("group", "analysts"), document(allow(*many)), actor="t")
    h = harness(AUTHZ_POLICY_MAX_BYTES="1024")
    tok = token("ana", groups=("analysts", "readers"))
    for _ in range(2):  # the second time comes from the remembered failure
        with pytest.raises(AuthorizerError) as info:
            h(rest(tok, "GET", "reports/r001"))
        assert str(info.value) != "Unauthorized"
    errors = [line for line in h.log() if line.get("level") == "ERROR" and "selectors" in line]
    assert errors
    assert errors[0]["selectors"] == ["default", "group:analysts", "group:readers"]
    assert errors[0]["max_bytes"] == 1024
    assert h.decisions()[-1]["PolicyTooLarge"] == 1
    # A principal without that group is unaffected.
    assert h(rest(token("r", groups=("readers",)), "GET", "orders"))["principalId"] == "r"


def _bad_tokens() -> dict[str, str]:
    now = int(time.time())
    return {
        "expired": mint(access_claims(sub="x", now=now - 7200, ttl=3600), KEY),
        "not yet valid": mint(access_claims(sub="x", nbf=now + 600), KEY),
        "wrong issuer": mint(access_claims(ISSUER + "x", sub="x"), KEY),
        "wrong client": mint(access_claims(client_id="someone-else", sub="x"), KEY),
        "id token": mint(id_claims(sub="x"), KEY),
        "unknown key": mint(access_claims(sub="x"), OTHER_KEY),
        "forged signature": mint(access_claims(sub="x"), KEY)[:-8] + "AAAAAAAA",
        "alg none": mint(access_claims(sub="x"), None, alg="none"),
        "hs256 confusion": mint(
            access_claims(sub="x"), KEY, alg="HS256", hmac_key=KEY.public_pem()
        ),
        "garbage": "not.a.jwt",
        "jwe": "a.b.c.d.e",
        "no exp": mint(access_claims(sub="x", exp=None), KEY),
        "client mismatch": mint(access_claims(CLIENT_ID[::-1], sub="x"), KEY),
    }


@pytest.mark.parametrize("case", sorted(_bad_tokens()))
def test_every_bad_token_is_exactly_unauthorized(
    harness: Callable[..., Harness], case: str
) -> None:
    """Each class of bad token raises Exception("Unauthorized") and never reaches the store."""
    h = harness()
    with pytest.raises(Exception) as info:  # noqa: PT011  # the contract IS the bare Exception
        h(rest(_bad_tokens()[case], "GET", "health"))
    assert type(info.value) is Exception
    assert info.value.args == ("Unauthorized",)
    assert h.store.calls["get_many"] == 0
    line = h.decisions()[-1]
    assert line["outcome"] == "unauthorized"
    assert line["reason"].endswith("Error")
