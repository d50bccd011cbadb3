"""End to end over HTTP: the `authz dev` stack, moto-issued tokens, real DynamoDB Local."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from authz.dev.describe import authz_command, describe, dev_env
from authz.dev.dynamodb import DynamoDBLocal
from authz.dev.stack import DEMO_USERS, DevStack, start_stack
from authz.matrix import build_matrix, parse_principal, routes_from_file, sample_path
from authz.policy import PolicyDocument, evaluate
from authz.store.repository import DynamoRepository

pytestmark = pytest.mark.integration

POLICIES = Path(__file__).resolve().parents[3] / "policies"
DEMO_API = POLICIES.parent / "examples" / "orders-api.yaml"
EPOCH_CHECK = 0.5


@pytest.fixture(scope="module")
def stack(dynamodb_local: DynamoDBLocal) -> Iterator[DevStack]:
    s = start_stack(
        POLICIES,
        dynamodb_endpoint=dynamodb_local.endpoint,
        table=f"e2e-{uuid.uuid4().hex[:8]}",
        epoch_check_seconds=EPOCH_CHECK,
        result_ttl_seconds=300,
    )
    yield s
    s.stop()


def call(stack: DevStack, method: str, path: str, user: str | None, **kw: Any) -> requests.Response:
    headers = kw.pop("headers", {})
    if user is not None:
        headers["Authorization"] = f"Bearer {stack.tokens[user]}"
    return requests.request(method, stack.base_url + path, headers=headers, timeout=10, **kw)


@pytest.mark.parametrize(
    ("user", "method", "path", "status"),
    [
        ("reader", "GET", "/orders", 200),
        ("reader", "GET", "/orders/42", 200),
        ("reader", "POST", "/orders", 403),
        ("intern", "POST", "/orders", 200),
        ("intern", "DELETE", "/orders/42", 403),
        ("admin", "DELETE", "/orders/42", 200),
        ("guest", "GET", "/health", 200),
        ("guest", "GET", "/orders/42", 403),
        (None, "GET", "/orders/42", 401),
        ("reader", "GET", "/policies", 403),
        ("admin", "GET", "/policies", 200),
    ],
)
def test_demo_routes_answer_as_the_example_policies_say(
    stack: DevStack, user: str | None, method: str, path: str, status: int
) -> None:
    """Each demo user gets 200/403/401 on the demo routes exactly as policies/ intends."""
    assert call(stack, method, path, user).status_code == status


def test_own_profile_is_reachable_only_through_the_sub_variable(stack: DevStack) -> None:
    """The default policy's ${sub} gives a user their own profile and nobody else's."""
    me = call(stack, "GET", "/health", "guest").json()["authorizer"]["sub"]
    assert call(stack, "GET", f"/users/{me}", "guest").status_code == 200
    assert call(stack, "GET", f"/users/{me}/settings", "guest").status_code == 200
    assert call(stack, "GET", "/users/someone-else", "guest").status_code == 403


def test_backend_sees_the_real_path_and_the_context_as_strings(stack: DevStack) -> None:
    """A {proxy+} route gets the real path; the authorizer context arrives flat, as strings."""
    body = call(stack, "GET", "/orders/42", "reader").json()
    assert body["path"] == "/orders/42"
    assert body["pathParameters"] == {"proxy": "orders/42"}
    ctx = body["authorizer"]
    assert ctx["username"] == "reader"
    assert json.loads(ctx["groups"]) == ["readers"]
    assert ctx["token_use"] == "access"
    assert all(isinstance(v, str) for v in ctx.values())


def test_a_cached_policy_is_evaluated_again_for_each_route(stack: DevStack) -> None:
    """The gateway reuses one authorizer answer for a second route and still decides per route."""
    token_user = "intern"
    before = stack.gateway.authorizer_calls
    assert call(stack, "POST", "/orders", token_user).status_code == 200
    assert call(stack, "PUT", "/orders/7", token_user).status_code == 200
    assert call(stack, "DELETE", "/orders/7", token_user).status_code == 403
    assert call(stack, "GET", "/users/not-me", token_user).status_code == 403
    # One answer for the identity source served every route above.
    assert stack.gateway.authorizer_calls - before <= 1


def test_the_returned_policy_covers_every_route_not_only_the_first(stack: DevStack) -> None:
    """The authorizer's policy answers routes other than the one that triggered it (cache-safe)."""
    from authz.handlers import authorizer as authorizer_handler

    app = authorizer_handler.build(stack.settings)
    arn = "arn:aws:execute-api:us-east-1:123456789012:authzdev/dev/GET/orders/1"
    answer = app({"type": "TOKEN", "authorizationToken": stack.tokens["reader"], "methodArn": arn})
    doc = PolicyDocument.from_dict(answer["policyDocument"])
    other = "arn:aws:execute-api:us-east-1:123456789012:authzdev/dev/GET/orders"
    assert evaluate(doc, other).allowed
    assert not evaluate(doc, arn.replace("GET", "DELETE")).allowed


def test_the_demo_api_routes_reach_the_admin_api_the_cli_and_the_printed_lines(
    stack: DevStack,
) -> None:
    assert stack.routes == DEMO_API
    assert stack.settings.routes == str(DEMO_API)
    assert dev_env(stack)["AUTHZ_ROUTES"] == str(DEMO_API)
    lines = describe(stack).splitlines()
    assert f"{authz_command()} matrix" in lines
    assert f'curl -s -H "Authorization: Bearer $ADMIN_TOKEN" {stack.base_url}/matrix' in lines


def test_settled_matrix_cells_of_the_demo_api_are_what_the_gateway_answers(
    stack: DevStack,
) -> None:
    """Each demo user's row, drawn from the table, predicts the local gateway's 200 or 403."""
    repository = DynamoRepository(stack.settings)
    policies = {str(r.selector): r.document for r in repository.list(limit=100).items}
    users = {u: ",".join(f"group:{g}" for g in groups) for u, groups in DEMO_USERS.items()}
    routes = routes_from_file(DEMO_API)
    grid = build_matrix(policies, routes, principals=[p for p in users.values() if p])
    checked = 0
    for user, principal in users.items():
        subject = parse_principal(principal).name
        for route in routes:
            value = grid.value(subject, route)
            if value == "conditional":
                continue
            status = call(stack, route.verb, sample_path(route.path), user).status_code
            assert (status == 200) == (value == "allow"), (user, str(route), value, status)
            assert status in {200, 403}
            checked += 1
    assert checked >= 4 * 7


def test_an_admin_edit_changes_the_decision_within_the_staleness_bound(stack: DevStack) -> None:
    """PUT through the admin API, then the reader's decision flips within the epoch interval."""
    assert call(stack, "PATCH", "/orders/9", "reader").status_code == 403
    current = call(stack, "GET", "/policies/group/readers", "admin")
    assert current.status_code == 200
    document = current.json()["document"]
    document["Statement"].append(
        {
            "Sid": "PatchOrders",
            "Effect": "Allow",
            "Action": "execute-api:Invoke",
            "Resource": "arn:aws:execute-api:*:*:*/*/PATCH/orders/*",
        }
    )
    put = call(
        stack,
        "PUT",
        "/policies/group/readers",
        "admin",
        json={"document": document, "description": "readers may patch"},
        headers={"If-Match": current.headers["ETag"]},
    )
    assert put.status_code == 200, put.text
    bound = put.json()["freshness"]["max_staleness_seconds"]
    deadline = time.monotonic() + bound + 2.0
    status = None
    while time.monotonic() < deadline:
        status = call(stack, "PATCH", "/orders/9", "reader").status_code
        if status == 200:
            break
        time.sleep(0.1)
    assert status == 200
    # A stale If-Match is refused and changes nothing.
    stale = call(
        stack,
        "PUT",
        "/policies/group/readers",
        "admin",
        json={"document": document},
        headers={"If-Match": current.headers["ETag"]},
    )
    assert stale.status_code == 412
    assert (
        call(stack, "GET", "/policies/group/readers", "admin").json()["version"]
        == (put.json()["version"])
    )


def test_simulate_explains_the_interns_explicit_deny(stack: DevStack) -> None:
    """POST /simulate names the selector and Sid whose Deny decided."""
    r = call(
        stack,
        "POST",
        "/simulate",
        "admin",
        json={
            "principal": {"groups": ["writers", "interns"]},
            "request": {"method": "DELETE", "path": "/orders/1"},
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["decision"] == {"allowed": False, "effect": "Deny"}
    deciding = [e for e in body["explanation"] if e["deciding"]]
    assert [(e["selector"], e["sid"]) for e in deciding] == [("group:interns", "NoDelete")]


def test_a_forged_or_garbage_token_is_401(stack: DevStack) -> None:
    """A token with a flipped signature byte or plain garbage gets API Gateway's 401."""
    good = stack.tokens["admin"]
    head, payload, sig = good.split(".")
    flipped = f"{head}.{payload}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"
    for token in (flipped, "garbage", good + "x"):
        r = call(stack, "GET", "/orders", None, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        assert r.json() == {"message": "Unauthorized"}


def test_a_scope_name_with_a_slash_round_trips_through_the_gateway(stack: DevStack) -> None:
    """`orders/write` travels percent-encoded and addresses one policy, not two segments."""
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:*:*:*/*/POST/orders",
            }
        ],
    }
    put = call(stack, "PUT", "/policies/scope/orders%2Fwrite", "admin", json={"document": doc})
    assert put.status_code == 201, put.text
    got = call(stack, "GET", "/policies/scope/orders%2Fwrite", "admin")
    assert got.status_code == 200
    assert got.json()["selector"] == "scope:orders/write"
    assert call(stack, "GET", "/policies/scope/orders", "admin").status_code == 404


def _wait_past(cutoff: float) -> None:
    """Until a token's whole-second ``iat`` is past ``cutoff``'s second."""
    while int(time.time()) <= math.ceil(cutoff):
        time.sleep(0.1)


def test_a_revoked_user_gets_401_at_once_and_a_fresh_sign_in_works_again(
    stack: DevStack,
) -> None:
    """POST /revocations, then the old token's next request is 401; a new sign-in is let in."""
    user = f"revoked{uuid.uuid4().hex[:6]}"
    stack.cognito.create_user(user, groups=("readers",))
    old = stack.cognito.tokens(user)["access"]
    me = {"Authorization": f"Bearer {old}"}
    url = f"{stack.base_url}/orders/42"
    assert requests.get(url, headers=me, timeout=10).status_code == 200
    sub = requests.get(f"{stack.base_url}/health", headers=me, timeout=10).json()["authorizer"][
        "sub"
    ]

    revoked = call(stack, "POST", "/revocations", "admin", json={"sub": sub, "reason": "e2e"})
    assert revoked.status_code == 201, revoked.text
    assert revoked.json()["freshness"]["flushed"] == ["authzdev/dev"]
    # The answer was held one epoch interval and the stage flushed: no waiting.
    assert requests.get(url, headers=me, timeout=10).status_code == 401

    _wait_past(time.time())
    fresh = {"Authorization": f"Bearer {stack.cognito.tokens(user)['access']}"}
    assert requests.get(url, headers=fresh, timeout=10).status_code == 200
    assert requests.get(url, headers=me, timeout=10).status_code == 401

    lifted = call(stack, "DELETE", f"/revocations/sub:{sub}", "admin")
    assert lifted.status_code == 200, lifted.text
    assert requests.get(url, headers=me, timeout=10).status_code == 200


def test_authz_dev_prints_the_revocation_demo_for_the_reader(stack: DevStack) -> None:
    """The printed lines revoke the demo reader by its real sub, then sign in afresh."""
    reader_sub = stack.subs["reader"]
    assert dev_env(stack)["AUTHZ_DEV_READER_SUB"] == reader_sub
    text = describe(stack)
    assert f'"sub": "{reader_sub}"' in text
    lines = text.splitlines()
    post = next(i for i, line in enumerate(lines) if line.endswith(f"{stack.base_url}/revocations"))
    after = lines[post:]
    reader = f'curl -i -H "Authorization: Bearer $READER_TOKEN" {stack.base_url}/orders/42'
    fresh = f"export READER_TOKEN=$({authz_command()} dev token reader)"
    assert after.index(reader) < after.index(fresh) < len(after) - 1 - after[::-1].index(reader)
