"""Only the admin group may use the admin API, whatever the authorizer context claims to lack."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from authz.handlers.admin.app import build_app
from tests.functional.admin.helpers import ADMIN_GROUP, call, doc, event, policy_path, reply

ROUTES = [
    ("GET", "/policies", None),
    ("GET", policy_path("group", "readers"), None),
    ("PUT", policy_path("group", "readers"), {"document": doc()}),
    ("DELETE", policy_path("group", "readers"), None),
    ("GET", policy_path("group", "readers", "/history"), None),
    (
        "POST",
        "/simulate",
        {"principal": {"groups": [ADMIN_GROUP]}, "request": {"method": "GET", "path": "/"}},
    ),
    ("GET", "/openapi.json", None),
    ("GET", "/not/a/route", None),
]

CONTEXTS = {
    "no authorizer context": None,
    "groups without the admin group": {"principalId": "mallory", "groups": "support,sales"},
    "admin group only as a prefix": {"principalId": "mallory", "groups": "authz-admins-x"},
    "admin group only as a substring": {"principalId": "mallory", "groups": "x" + ADMIN_GROUP},
    "empty groups": {"principalId": "mallory", "groups": ""},
    "no groups key": {"principalId": "mallory", "username": "mallory"},
    "groups of the wrong type": {"principalId": "mallory", "groups": 7},
}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
@pytest.mark.parametrize("context", list(CONTEXTS), ids=list(CONTEXTS))
def test_callers_outside_the_admin_group_get_403_on_every_route(
    bare_app: Any, method: str, path: str, body: Any, context: str
) -> None:
    """Without the admin group in the authorizer context every request is 403, before routing."""
    r = call(bare_app, method, path, body=body, authorizer=CONTEXTS[context])
    assert (r.status, r.error_code) == (403, "forbidden")


def test_a_forged_context_without_the_admin_group_writes_nothing(app: Any, table: Any) -> None:
    """A PUT/DELETE from a non-admin changes nothing, even for an existing policy."""
    assert call(app, "PUT", policy_path("group", "readers"), body={"document": doc()}).status == 201
    before = table()
    for method in ("PUT", "DELETE"):
        r = call(
            app,
            method,
            policy_path("group", "readers"),
            body={"document": doc("*")} if method == "PUT" else None,
            groups="readers,support",
        )
        assert r.status == 403
    assert table() == before


def test_the_admin_group_comes_from_settings(make_app: Any, admin_settings: Any) -> None:
    """AUTHZ_ADMIN_GROUP decides who is admin: the default group name is not special."""
    app = make_app(settings=dataclasses.replace(admin_settings, admin_group="platform"))
    assert call(app, "GET", "/policies").status == 403
    assert call(app, "GET", "/policies", groups='["platform"]').status == 200


def test_updated_by_falls_back_to_sub_without_a_username(app: Any) -> None:
    """A caller with no username (e.g. a machine client) is recorded by its sub."""
    r = call(app, "PUT", policy_path("group", "readers"), body={"document": doc()}, username=None)
    assert r.status == 201
    assert r.body["policy"]["updated_by"] == "11111111-2222-3333-4444-555555555555"


def test_an_admin_context_naming_no_caller_is_403(bare_app: Any) -> None:
    """A write must be attributable: a context with the group but no identity is refused."""
    r = reply(bare_app(event("GET", "/policies", authorizer={"groups": [ADMIN_GROUP]}), None))
    assert r.status == 403


def test_groups_may_arrive_as_a_list(make_app: Any, admin_settings: Any, repository: Any) -> None:
    """A context built in process with a list of groups reads like the JSON array string."""
    app = build_app(admin_settings, repository, flusher=lambda a, s: None)
    ctx = {"principalId": "p", "username": "u", "groups": ["support", ADMIN_GROUP]}
    assert reply(app(event("GET", "/policies", authorizer=ctx), None)).status == 200
