"""PUT ?dry_run=true on DynamoDB Local: the real PUT's checks, the impact, and nothing written."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from authz.handlers.admin.app import AdminApp
from authz.settings import Settings
from tests.functional.admin.helpers import ADMIN_GROUP, call, doc, policy_path

ROUTES = "GET /orders, GET /orders/{id}, DELETE /orders/{id}"
READ = "execute-api:/prod/GET/orders/*"
DELETE = "execute-api:/prod/DELETE/orders/*"
DRY = {"dry_run": "true"}
POLICIES = Path(__file__).resolve().parents[3] / "policies"
ADMIN_DOC = json.loads((POLICIES / "group" / "authz-admins.json").read_text())


@pytest.fixture
def routed(make_app: Callable[..., AdminApp], admin_settings: Settings) -> AdminApp:
    return make_app(settings=dataclasses.replace(admin_settings, routes=ROUTES))


def put(app: Any, kind: str, name: str, document: dict[str, Any], **kw: Any) -> Any:
    return call(app, "PUT", policy_path(kind, name), body={"document": document}, **kw)


def test_a_widening_dry_run_reports_its_impact_and_writes_nothing(
    routed: AdminApp, table: Any
) -> None:
    """Readers gaining DELETE: one cell deny -> allow; no item, history entry or epoch moves."""
    assert put(routed, "group", "readers", doc(READ)).status == 201
    before = table()
    r = put(routed, "group", "readers", doc(READ, DELETE), query=DRY)
    assert r.status == 200
    assert r.body == {
        "valid": True,
        "problems": [],
        "warnings": [],
        "impact": [
            {
                "subject": "group:readers",
                "route": "DELETE /orders/{id}",
                "before": "deny",
                "after": "allow",
            }
        ],
        "impact_notice": None,
    }
    assert "etag" not in r.headers
    assert table() == before
    assert call(routed, "GET", policy_path("group", "readers")).body["version"] == 1


def test_a_dry_run_create_compares_the_new_row_with_default_alone(
    routed: AdminApp, table: Any
) -> None:
    """A new group's members had what default gives; the new row is judged against that."""
    assert put(routed, "default", "default", doc("execute-api:/prod/GET/orders")).status
    before = table()
    r = put(routed, "group", "writers", doc(DELETE), query=DRY)
    assert r.status == 200
    assert r.body["impact"] == [
        {
            "subject": "group:writers",
            "route": "DELETE /orders/{id}",
            "before": "deny",
            "after": "allow",
        }
    ]
    assert table() == before
    assert call(routed, "GET", policy_path("group", "writers")).status == 404


def test_a_dry_run_of_default_reports_every_row_it_changes(routed: AdminApp, table: Any) -> None:
    """default is in every row: a Deny there narrows each group's cells as well."""
    assert put(routed, "group", "readers", doc(READ)).status == 201
    assert put(routed, "scope", "orders.read", doc(READ)).status == 201
    before = table()
    deny = doc(READ, effect="Deny", sid="NoReads")
    r = put(routed, "default", "default", deny, query=DRY)
    assert r.status == 200, r.body
    changed = {(c["subject"], c["route"], c["before"], c["after"]) for c in r.body["impact"]}
    assert changed == {
        ("default", "GET /orders/{id}", "deny", "explicit-deny"),
        ("group:readers", "GET /orders/{id}", "allow", "explicit-deny"),
        ("scope:orders.read", "GET /orders/{id}", "allow", "explicit-deny"),
    }
    assert table() == before


def test_a_dry_run_that_changes_nothing_has_an_empty_impact(routed: AdminApp) -> None:
    assert put(routed, "group", "readers", doc(READ)).status == 201
    r = put(routed, "group", "readers", doc(READ), query=DRY)
    assert (r.status, r.body["valid"], r.body["impact"]) == (200, True, [])


def test_an_invalid_policy_is_judged_in_a_200_with_its_problems(
    routed: AdminApp, table: Any
) -> None:
    """The dry run's answer to a bad document: valid false, every problem with its path."""
    before = table()
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "x"}]}
    r = put(routed, "group", "readers", bad, query=DRY)
    assert r.status == 200
    assert r.body["valid"] is False
    paths = {p["path"] for p in r.body["problems"]}
    assert paths
    assert all(p.startswith("document.Statement[0]") for p in paths)
    assert r.body["impact"] == []
    assert "not valid" in r.body["impact_notice"]
    assert table() == before


def test_token_settings_on_a_scope_are_a_problem_of_the_dry_run(routed: AdminApp) -> None:
    body = {"document": doc(READ), "token": {"scopes": ["x"]}}
    r = call(routed, "PUT", policy_path("scope", "s"), body=body, query=DRY)
    assert r.status == 200
    assert r.body["valid"] is False
    assert [p["path"] for p in r.body["problems"]] == ["token"]


def test_a_malformed_request_is_still_a_400(routed: AdminApp, table: Any) -> None:
    """Unknown body fields are a request error, not a policy problem."""
    before = table()
    body = {"document": doc(READ), "descripton": "typo"}
    r = call(routed, "PUT", policy_path("group", "readers"), body=body, query=DRY)
    assert r.status == 400
    assert table() == before


@pytest.mark.parametrize("value", ["maybe", "", "2"])
def test_a_dry_run_value_other_than_true_or_false_is_a_400(
    routed: AdminApp, table: Any, value: str
) -> None:
    before = table()
    r = put(routed, "group", "readers", doc(READ), query={"dry_run": value})
    assert r.status == 400
    assert r.error_code == "invalid_request"
    assert any("dry_run" in d["path"] for d in r.body["error"]["details"])
    assert table() == before


def test_dry_run_false_writes(routed: AdminApp) -> None:
    r = put(routed, "group", "readers", doc(READ), query={"dry_run": "false"})
    assert r.status == 201
    assert r.body["action"] == "created"


def test_preconditions_answer_as_the_real_put_would(routed: AdminApp, table: Any) -> None:
    """409 for create-only on an existing policy, 412 for another or a missing version."""
    assert put(routed, "group", "readers", doc(READ)).status == 201
    before = table()
    exists = put(routed, "group", "readers", doc(DELETE), query=DRY, headers={"If-None-Match": "*"})
    assert (exists.status, exists.error_code) == (409, "already_exists")
    stale = put(routed, "group", "readers", doc(DELETE), query=DRY, headers={"If-Match": '"7"'})
    assert (stale.status, stale.error_code) == (412, "precondition_failed")
    missing = put(routed, "group", "nobody", doc(DELETE), query=DRY, headers={"If-Match": '"1"'})
    assert (missing.status, missing.error_code) == (412, "precondition_failed")
    current = put(routed, "group", "readers", doc(DELETE), query=DRY, headers={"If-Match": '"1"'})
    assert (current.status, current.body["valid"]) == (200, True)
    anything = put(routed, "group", "readers", doc(DELETE), query=DRY, headers={"If-Match": "*"})
    assert anything.status == 200
    assert table() == before


def test_a_dry_run_that_would_lock_the_admins_out_answers_409(routed: AdminApp, table: Any) -> None:
    """The lock-out guard runs as for the real PUT, and ?force=true passes it (still no write)."""
    assert put(routed, "group", ADMIN_GROUP, ADMIN_DOC).status == 201
    before = table()
    deny_all = doc("*", effect="Deny")
    r = put(routed, "default", "default", deny_all, query=DRY)
    assert (r.status, r.error_code) == (409, "would_lock_out")
    forced = put(routed, "default", "default", deny_all, query={**DRY, "force": "true"})
    assert (forced.status, forced.body["valid"]) == (200, True)
    assert table() == before


def test_without_routes_the_dry_run_says_the_impact_was_not_computed(
    app: AdminApp, table: Any
) -> None:
    before = table()
    r = put(app, "group", "readers", doc(READ), query=DRY)
    assert r.status == 200
    assert (r.body["valid"], r.body["impact"]) == (True, [])
    assert "AUTHZ_ROUTES is not set" in r.body["impact_notice"]
    assert table() == before


def test_a_non_admin_dry_run_is_refused(routed: AdminApp, table: Any) -> None:
    before = table()
    r = put(routed, "group", "readers", doc(READ), query=DRY, groups='["support"]')
    assert r.status == 403
    assert table() == before


def test_warnings_come_with_the_dry_run(routed: AdminApp) -> None:
    """A resource whose stage * also matches '/' is warned about, as on a real write."""
    r = put(routed, "group", ADMIN_GROUP + "-x", doc("execute-api:/*/GET/orders/*"), query=DRY)
    assert r.status == 200
    real = put(routed, "group", ADMIN_GROUP + "-x", doc("execute-api:/*/GET/orders/*"))
    assert r.body["warnings"] == real.body["warnings"]


def test_a_delete_dry_run_reports_its_impact_and_deletes_nothing(
    routed: AdminApp, table: Any
) -> None:
    assert put(routed, "group", "readers", doc(READ)).status == 201
    before = table()
    path = policy_path("group", "readers")
    r = call(routed, "DELETE", path, query=DRY)
    assert r.status == 200
    assert r.body["impact"] == [
        {
            "subject": "group:readers",
            "route": "GET /orders/{id}",
            "before": "allow",
            "after": "deny",
        }
    ]
    stale = call(routed, "DELETE", path, query=DRY, headers={"If-Match": '"5"'})
    assert (stale.status, stale.error_code) == (412, "precondition_failed")
    missing = call(routed, "DELETE", policy_path("group", "nobody"), query=DRY)
    assert missing.status == 404
    assert table() == before
    assert call(routed, "GET", path).status == 200


def test_a_delete_dry_run_that_would_lock_the_admins_out_answers_409(
    routed: AdminApp, table: Any
) -> None:
    assert put(routed, "group", ADMIN_GROUP, ADMIN_DOC).status == 201
    before = table()
    r = call(routed, "DELETE", policy_path("group", ADMIN_GROUP), query=DRY)
    assert (r.status, r.error_code) == (409, "would_lock_out")
    assert table() == before


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("typo", ["dry-run", "dryrun", "dry_run "])
def test_a_misspelt_query_parameter_is_refused_before_anything_is_written(
    routed: AdminApp, table: Any, method: str, typo: str
) -> None:
    """A misspelt dry_run must never fall through to a real write."""
    assert put(routed, "group", "readers", doc(READ)).status == 201
    before = table()
    body = {"document": doc(DELETE)} if method == "PUT" else None
    r = call(routed, method, policy_path("group", "readers"), body=body, query={typo: "true"})
    assert (r.status, r.error_code) == (400, "invalid_request")
    assert r.body["error"]["details"] == [
        {"path": f"query.{typo}", "message": "unknown query parameter"}
    ]
    assert table() == before
