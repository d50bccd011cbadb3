"""POST /simulate: the authorizer's decision for a principal or a real token, with the reasons."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from tests.functional.admin.helpers import call, doc, policy_path
from tests.tokens import KeyPair, access_claims, jwks, mint, settings_for

API = "arn:aws:execute-api:us-east-1:123456789012:adm1n4p1/prod"


@pytest.fixture
def policies(app: Any) -> Any:
    """readers may GET /orders/*, but never /orders/secret; default allows GET /health."""
    readers = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadOrders",
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:*:*:*/*/GET/orders/*",
            },
            {
                "Sid": "NoSecrets",
                "Effect": "Deny",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:*:*:*/*/GET/orders/secret",
            },
        ],
    }
    for kind, name, document in (
        ("group", "readers", readers),
        ("default", "default", doc("arn:aws:execute-api:*:*:*/*/GET/health", sid="Health")),
    ):
        assert call(app, "PUT", policy_path(kind, name), body={"document": document}).status == 201
    return app


def simulate(app: Any, body: dict[str, Any]) -> Any:
    return call(app, "POST", "/simulate", body=body)


def test_principal_allowed_with_the_deciding_statement(policies: Any) -> None:
    """A group member is allowed GET /orders/1, explained by the group's ReadOrders statement."""
    r = simulate(
        policies,
        {
            "principal": {"groups": ["readers"], "sub": "u1"},
            "request": {"method": "GET", "path": "/orders/1"},
        },
    )
    assert r.status == 200
    assert r.body["decision"] == {"allowed": True, "effect": "Allow"}
    # Without a methodArn the request is placed on this API (requestContext ids, settings region).
    assert r.body["methodArn"] == f"{API}/GET/orders/1"
    assert r.body["selectors"] == ["default", "group:readers"]
    assert sorted(r.body["found"]) == ["default", "group:readers"]
    deciding = [m for m in r.body["explanation"] if m["deciding"]]
    assert [(m["selector"], m["sid"]) for m in deciding] == [("group:readers", "ReadOrders")]
    # The whole effective policy (default + group), not one narrowed to the request.
    resources = {
        (st["Effect"], res)
        for st in r.body["effective_policy"]["Statement"]
        for res in st["Resource"]
    }
    assert ("Allow", "arn:aws:execute-api:*:*:*/*/GET/health") in resources
    assert ("Deny", "arn:aws:execute-api:*:*:*/*/GET/orders/secret") in resources
    assert "ReadOrders" in r.body["summary"]
    assert r.body["over_budget"] is False


def test_explicit_deny_wins_and_is_explained(policies: Any) -> None:
    """GET /orders/secret is denied by the Deny statement even though ReadOrders matches too."""
    r = simulate(
        policies,
        {
            "principal": {"groups": ["readers"]},
            "request": {"method": "GET", "path": "/orders/secret"},
        },
    )
    assert r.body["decision"] == {"allowed": False, "effect": "Deny"}
    assert {(m["sid"], m["deciding"]) for m in r.body["explanation"]} == {
        ("NoSecrets", True),
        ("ReadOrders", False),
    }


def test_unmatched_request_is_an_implicit_deny(policies: Any) -> None:
    """A principal without groups gets only the default policy: DELETE /orders/1 is denied."""
    r = simulate(policies, {"principal": {}, "request": {"method": "delete", "path": "/orders/1"}})
    assert r.body["decision"] == {"allowed": False, "effect": "ImplicitDeny"}
    assert r.body["explanation"] == []
    assert r.body["selectors"] == ["default"]


def test_method_arn_and_identifier_overrides(policies: Any) -> None:
    """A methodArn is used as given; request fields can place the request on another API."""
    arn = "arn:aws:execute-api:eu-west-1:210987654321:otherapi/v2/GET/orders/7"
    r = simulate(policies, {"principal": {"groups": ["readers"]}, "methodArn": arn})
    assert (r.body["methodArn"], r.body["decision"]["allowed"]) == (arn, True)
    r = simulate(
        policies,
        {
            "principal": {"groups": ["readers"]},
            "request": {
                "method": "GET",
                "path": "/orders/7",
                "region": "eu-west-1",
                "account_id": "210987654321",
                "api_id": "otherapi",
                "stage": "v2",
            },
        },
    )
    assert r.body["methodArn"] == arn


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"principal": {}, "methodArn": "arn:aws:s3:::bucket"}, "methodArn"),
        ({"principal": {}, "request": {"method": "FETCH", "path": "/x"}}, "request"),
        ({"principal": {}, "token": "a.b.c", "methodArn": f"{API}/GET/x"}, ""),
        ({"request": {"method": "GET", "path": "/x"}}, ""),
        (
            {
                "principal": {},
                "request": {"method": "GET", "path": "/"},
                "methodArn": f"{API}/GET/",
            },
            "",
        ),
        (
            {"principal": {"groups": "readers"}, "request": {"method": "GET", "path": "/"}},
            "principal.groups",
        ),
    ],
)
def test_malformed_simulations_are_400(bare_app: Any, body: dict[str, Any], path: str) -> None:
    """Bad ARNs, verbs, or not exactly one principal/token and request/methodArn: 400."""
    r = simulate(bare_app, body)
    assert r.status == 400, r.body
    if path:
        assert r.body["error"]["details"][0]["path"] == path


@pytest.fixture
def verifier() -> Any:
    from authz.token import JwksCache, Verifier

    up = JwksCache(fetcher=lambda url: jwks(KeyPair.generate("admin-test")))  # no network
    return Verifier(settings_for(jwks_json=jwks(KeyPair.generate("admin-test"))), jwks=up)


def test_token_is_verified_and_its_groups_decide(
    policies: Any, make_app: Any, verifier: Any
) -> None:
    """A real RS256 token is verified like the authorizer does; its cognito:groups apply."""
    app = make_app(verifier=verifier)
    token = mint(access_claims(groups=["readers"], username="dana"), KeyPair.generate("admin-test"))
    r = simulate(app, {"token": token, "request": {"method": "GET", "path": "/orders/1"}})
    assert r.status == 200
    assert r.body["decision"]["allowed"] is True
    assert r.body["principal"]["source"] == "token"
    assert r.body["principal"]["username"] == "dana"
    assert r.body["principal"]["groups"] == ["readers"]


def test_rejected_token_is_400_with_the_reason(bare_app: Any, make_app: Any, verifier: Any) -> None:
    """Unlike the authorizer's bare 401, the admin is told why the token was refused."""
    app = make_app(verifier=verifier)
    key = KeyPair.generate("admin-test")
    expired = mint(access_claims(now=int(time.time()) - 7200, ttl=60), key)
    r = simulate(app, {"token": expired, "request": {"method": "GET", "path": "/orders/1"}})
    assert (r.status, r.error_code) == (400, "invalid_token")
    assert "exp" in r.body["error"]["message"].lower()
    foreign = mint(access_claims(), KeyPair.generate("someone-else"))
    r = simulate(app, {"token": foreign, "request": {"method": "GET", "path": "/orders/1"}})
    assert (r.status, r.error_code) == (400, "invalid_token")


def test_token_verifier_is_built_from_settings_when_not_injected(
    policies: Any, make_app: Any, admin_settings: Any
) -> None:
    """With token settings configured, the production verifier is built on first use."""
    token_settings = settings_for(jwks_json=jwks(KeyPair.generate("admin-test")))
    settings = dataclasses.replace(
        admin_settings,
        user_pool_id=token_settings.user_pool_id,
        issuers=token_settings.issuers,
        jwks_urls=token_settings.jwks_urls,
        jwks_json=token_settings.jwks_json,
        client_ids=token_settings.client_ids,
    )
    app = make_app(settings=settings)
    token = mint(access_claims(groups=["readers"]), KeyPair.generate("admin-test"))
    r = simulate(app, {"token": token, "request": {"method": "GET", "path": "/orders/1"}})
    assert (r.status, r.body["decision"]["allowed"]) == (200, True)


def test_token_simulation_without_token_settings_is_400(bare_app: Any) -> None:
    """A deployment that cannot verify tokens says so and suggests simulating a principal."""
    r = simulate(bare_app, {"token": "a.b.c", "request": {"method": "GET", "path": "/"}})
    assert (r.status, r.error_code) == (400, "token_verification_unavailable")


def test_token_whose_keys_cannot_be_fetched_is_503_not_invalid(make_app: Any) -> None:
    """A JWKS outage says nothing about the token: 503 keys_unavailable, never invalid_token."""
    from authz.errors import JwksError
    from authz.token import JwksCache, Verifier

    def down(url: str) -> Any:
        raise JwksError(f"{url}: connection refused")

    app = make_app(verifier=Verifier(settings_for(), jwks=JwksCache(fetcher=down)))
    token = mint(access_claims(groups=["readers"]), KeyPair.generate("rotated-in"))
    r = simulate(app, {"token": token, "request": {"method": "GET", "path": "/orders/1"}})
    assert (r.status, r.error_code) == (503, "keys_unavailable")
