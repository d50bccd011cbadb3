"""Regression: the admin API refuses token settings that would forge a member's identity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.functional.admin.helpers import call, doc, policy_path

ORDERS = "arn:aws:execute-api:*:*:*/*/GET/orders/*"


def put_token(app: Any, token: dict[str, Any]) -> Any:
    body = {"document": doc(ORDERS), "token": token}
    return call(app, "PUT", policy_path("group", "staff"), body=body)


@pytest.mark.parametrize(
    ("token", "path"),
    [
        ({"claims": {"email": "ceo@example.com"}}, "token.claims.email"),
        ({"claims": {"phone_number": "+15550100"}}, "token.claims.phone_number"),
        ({"claims": {"preferred_username": "ceo"}}, "token.claims.preferred_username"),
        ({"claims": {"custom:tenant": "other"}}, "token.claims.custom:tenant"),
        ({"claims": {"Sub": "someone-else"}}, "token.claims.Sub"),
        ({"claims": {"Cognito:groups": ["authz-admins"]}}, "token.claims.Cognito:groups"),
        ({"scopes": ["orders/read", "openid"]}, "token.scopes[1]"),
        ({"scopes": ["Email"]}, "token.scopes[0]"),
    ],
)
def test_editor_cannot_give_group_members_a_forged_identity(
    app: Any, table: Callable[[], list[dict[str, Any]]], token: dict[str, Any], path: str
) -> None:
    """400 invalid_token_settings naming the JSON path; the table is left unchanged."""
    before = table()
    r = put_token(app, token)
    assert r.status == 400, r.body
    assert r.body["error"]["code"] == "invalid_token_settings", r.body
    assert [d["path"] for d in r.body["error"]["details"]] == [path], r.body
    assert table() == before
    assert call(app, "GET", policy_path("group", "staff")).status == 404


def test_ordinary_claims_next_to_the_refused_names_are_still_accepted(app: Any) -> None:
    """Names that only contain an identity claim's name are ordinary claims."""
    token = {"claims": {"tenant_email": "ops@example.com"}, "scopes": ["orders/read"]}
    r = put_token(app, token)
    assert r.status == 201, r.body
    assert r.body["policy"]["token"] == token
