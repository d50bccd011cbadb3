"""End to end: tokens through the real authorizer into the admin API, and back into decisions.

An admin's token passes the authorizer (whose policy for the admin group
grants the admin routes), the authorizer's context reaches the admin
handler, the admin edits a group's policy, and a member of that group sees
the decision change once the authorizer's epoch check comes due.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest

from authz.handlers.authorizer import AuthorizerApp
from authz.handlers.observability import Telemetry
from authz.policy import PolicyDocument
from authz.policy.evaluate import evaluate
from authz.policy.selector import Selector
from authz.service import Authorizer
from authz.token.verifier import Verifier
from tests.functional.admin.helpers import ADMIN_GROUP, doc, event, policy_path, reply
from tests.tokens import KeyPair, access_claims, jwks, mint, settings_for

ADMIN_API = "arn:aws:execute-api:us-east-1:123456789012:adm1n4p1/prod"
ORDERS_API = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod"
EPOCH_CHECK = 5.0


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stack(admin_settings: Any, repository: Any, make_app: Any) -> Any:
    """The authorizer and the admin API on one table; the admin group's policy bootstrapped."""
    key = KeyPair.generate("e2e")
    tokens = settings_for(jwks_json=jwks(key))
    settings = dataclasses.replace(
        admin_settings,
        user_pool_id=tokens.user_pool_id,
        issuers=tokens.issuers,
        jwks_urls=tokens.jwks_urls,
        jwks_json=tokens.jwks_json,
        client_ids=tokens.client_ids,
        epoch_check_seconds=EPOCH_CHECK,
    )
    # What `authz policies sync` would have loaded: admins may use the admin API.
    repository.put(
        Selector("group", ADMIN_GROUP),
        PolicyDocument.from_dict(doc(f"{ADMIN_API}/*/policies*", f"{ADMIN_API}/POST/simulate")),
        actor="bootstrap",
    )
    clock = Monotonic()
    verifier = Verifier(settings)
    authorizer = Authorizer(verifier, repository, cache=settings.cache, clock=clock)
    gate = AuthorizerApp(settings, authorizer, Telemetry(stream=io.StringIO(), environ={}))
    admin = make_app(settings=settings, verifier=verifier)

    class Stack:
        def __init__(self) -> None:
            self.clock = clock
            self.admin = admin
            self.admin_token = mint(
                access_claims(sub="a-1", username="ada", groups=[ADMIN_GROUP]), key
            )
            self.reader_token = mint(
                access_claims(sub="r-1", username="rob", groups=["readers"]), key
            )

        def authorize(self, token: str, arn: str) -> tuple[bool, dict[str, Any]]:
            """The authorizer's answer, evaluated the way API Gateway applies it."""
            response = gate(
                {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": arn}
            )
            allowed = evaluate(PolicyDocument.from_dict(response["policyDocument"]), arn).allowed
            return allowed, {**response["context"], "principalId": response["principalId"]}

        def admin_call(self, token: str, method: str, path: str, **kwargs: Any) -> Any:
            """A request through API Gateway: the authorizer first, then the admin handler."""
            allowed, context = self.authorize(token, f"{ADMIN_API}/{method}{path}")
            if not allowed:
                return None
            return reply(admin(event(method, path, authorizer=context, **kwargs), None))

    return Stack()


def test_admin_edit_changes_the_authorizers_decision_within_the_epoch_interval(stack: Any) -> None:
    """An edit through the admin API is enforced by the authorizer once its epoch check is due."""
    order = f"{ORDERS_API}/GET/orders/42"
    invoice = f"{ORDERS_API}/GET/invoices/7"
    created = stack.admin_call(
        stack.admin_token,
        "PUT",
        policy_path("group", "readers"),
        body={"document": doc("arn:aws:execute-api:*:*:*/*/GET/orders/*")},
    )
    assert created.status == 201
    assert created.body["policy"]["updated_by"] == "ada"
    assert stack.authorize(stack.reader_token, order)[0] is True
    assert stack.authorize(stack.reader_token, invoice)[0] is False

    updated = stack.admin_call(
        stack.admin_token,
        "PUT",
        policy_path("group", "readers"),
        body={"document": doc("arn:aws:execute-api:*:*:*/*/GET/invoices/*")},
        headers={"If-Match": created.headers["etag"]},
    )
    assert updated.status == 200
    # Reported bound: the epoch interval plus API Gateway's TTL (no stage flush here).
    assert updated.body["freshness"]["max_staleness_seconds"] == EPOCH_CHECK + 300

    # Before the epoch check is due the warm authorizer may still answer from cache ...
    stack.clock.now += EPOCH_CHECK - 0.5
    assert stack.authorize(stack.reader_token, order)[0] is True
    # ... and once it is due the edit is in force.
    stack.clock.now += 0.5
    assert stack.authorize(stack.reader_token, order)[0] is False
    assert stack.authorize(stack.reader_token, invoice)[0] is True

    deleted = stack.admin_call(stack.admin_token, "DELETE", policy_path("group", "readers"))
    assert deleted.status == 200
    stack.clock.now += EPOCH_CHECK
    assert stack.authorize(stack.reader_token, invoice)[0] is False


def test_non_admin_is_stopped_by_the_authorizer_and_by_the_handler(stack: Any, table: Any) -> None:
    """A reader is denied the admin routes; its context forged past the authorizer gets 403."""
    path = policy_path("group", "readers")
    assert stack.admin_call(stack.reader_token, "PUT", path, body={"document": doc("*")}) is None
    _, reader_context = stack.authorize(stack.reader_token, f"{ORDERS_API}/GET/orders/1")
    before = table()
    forged = reply(
        stack.admin(
            event("PUT", path, body={"document": doc("*")}, authorizer=reader_context), None
        )
    )
    assert forged.status == 403
    assert table() == before
