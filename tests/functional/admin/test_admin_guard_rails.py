"""The admin API's guard rails on DynamoDB Local: the lock-out guard and resource warnings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from authz.policy.selector import Selector
from tests.functional.admin.helpers import ADMIN_GROUP, call, doc, policy_path

POLICIES = Path(__file__).resolve().parents[3] / "policies"
ADMIN_DOC = json.loads((POLICIES / "group" / "authz-admins.json").read_text())
LITERAL = "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/orders/*"
DENY_ALL = doc("*", effect="Deny")


def put(app: Any, kind: str, name: str, document: dict[str, Any], **kw: Any) -> Any:
    body = {"document": document, "description": "d"}
    return call(app, "PUT", policy_path(kind, name), body=body, **kw)


def seed(app: Any) -> None:
    """The shipped admin policy and a harmless default: admins reach every admin route."""
    assert put(app, "group", ADMIN_GROUP, ADMIN_DOC).status == 201
    assert put(app, "default", "default", doc(LITERAL)).status == 201


def test_delete_of_admin_group_policy_is_refused_as_lock_out(app: Any, table: Any) -> None:
    seed(app)
    before = table()
    r = call(app, "DELETE", policy_path("group", ADMIN_GROUP))
    assert r.status == 409
    assert r.error_code == "would_lock_out"
    assert "DELETE /policies/group/authz-admins" in r.body["error"]["message"]
    assert "force" in r.body["error"]["message"]
    assert table() == before
    assert call(app, "GET", policy_path("group", ADMIN_GROUP)).status == 200


def test_deny_everything_in_default_is_refused_as_lock_out(app: Any, table: Any) -> None:
    seed(app)
    before = table()
    r = put(app, "default", "default", DENY_ALL)
    assert (r.status, r.error_code) == (409, "would_lock_out")
    paths = {d["path"] for d in r.body["error"]["details"]}
    assert "PUT /policies/default/default" in paths
    assert "GET /openapi.json" in paths
    assert table() == before


def test_deny_of_one_admin_route_in_admin_group_policy_is_refused(app: Any) -> None:
    seed(app)
    narrowed = {
        "Version": "2012-10-17",
        "Statement": [
            *ADMIN_DOC["Statement"],
            {
                "Effect": "Deny",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:*:*:*/*/POST/simulate",
            },
        ],
    }
    r = put(app, "group", ADMIN_GROUP, narrowed)
    assert (r.status, r.error_code) == (409, "would_lock_out")
    assert [d["path"] for d in r.body["error"]["details"]] == ["POST /simulate"]


def test_forced_lock_out_delete_succeeds_and_history_records_it(app: Any, repository: Any) -> None:
    seed(app)
    r = call(app, "DELETE", policy_path("group", ADMIN_GROUP), query={"force": "true"})
    assert r.status == 200
    (entry, *_older) = repository.history(Selector.of("group", ADMIN_GROUP)).items
    assert (entry.action, entry.forced) == ("delete", True)
    h = call(app, "GET", policy_path("group", ADMIN_GROUP, "/history"))
    assert [(i["action"], i["forced"]) for i in h.body["items"]] == [
        ("delete", True),
        ("create", False),
    ]


def test_forced_deny_all_default_succeeds_and_history_records_it(app: Any) -> None:
    seed(app)
    r = put(app, "default", "default", DENY_ALL, query={"force": "true"})
    assert r.status == 200
    h = call(app, "GET", policy_path("default", "default", "/history"))
    assert [(i["version"], i["forced"]) for i in h.body["items"]] == [(2, True), (1, False)]


def test_non_locking_write_to_guarded_policy_is_not_forced(app: Any) -> None:
    seed(app)
    r = put(app, "default", "default", doc(LITERAL, "arn:aws:execute-api:*:*:abc/prod/GET/x"))
    assert r.status == 200
    h = call(app, "GET", policy_path("default", "default", "/history"))
    assert h.body["items"][0]["forced"] is False


def test_write_to_other_group_is_never_judged_by_the_guard(app: Any) -> None:
    seed(app)
    assert put(app, "group", "interns", DENY_ALL).status == 201
    assert call(app, "DELETE", policy_path("group", "interns")).status == 200


def test_fix_applies_while_admins_are_already_locked_out(app: Any) -> None:
    seed(app)
    assert put(app, "default", "default", DENY_ALL, query={"force": "true"}).status == 200
    # Still locked out afterwards, but no route is lost that was not already lost.
    assert put(app, "group", ADMIN_GROUP, doc(LITERAL)).status == 200
    r = put(app, "default", "default", doc(LITERAL))
    assert r.status == 200
    assert r.body["policy"]["document"]["Statement"][0]["Effect"] == "Allow"


def test_write_that_narrows_an_already_locked_out_admin_further_is_refused(app: Any) -> None:
    seed(app)
    no_simulate = doc(
        "arn:aws:execute-api:*:*:*/*/*/policies",
        "arn:aws:execute-api:*:*:*/*/*/policies/*",
        "arn:aws:execute-api:*:*:*/*/*/openapi.json",
    )
    assert put(app, "group", ADMIN_GROUP, no_simulate, query={"force": "true"}).status == 200
    r = put(app, "group", ADMIN_GROUP, doc("arn:aws:execute-api:*:*:*/*/*/policies/*"))
    assert (r.status, r.error_code) == (409, "would_lock_out")
    assert {d["path"] for d in r.body["error"]["details"]} == {"GET /policies", "GET /openapi.json"}


def test_put_response_warns_about_api_id_wildcard_crossing_into_the_verb(app: Any) -> None:
    r = put(app, "group", "readers", doc("arn:aws:execute-api:*:*:*/*/GET/orders/*"))
    assert r.status == 201
    (w,) = r.body["warnings"]
    assert w["path"] == "document.Statement[0].Resource[0]"
    assert w["request"] == "DELETE /GET/orders/1"
    assert "DELETE /GET/orders/1" in w["message"]


def test_put_response_has_empty_warnings_for_literal_heads(app: Any) -> None:
    r = put(app, "group", "readers", doc(LITERAL))
    assert (r.status, r.body["warnings"]) == (201, [])


def test_openapi_documents_warnings_and_force(app: Any) -> None:
    spec = call(app, "GET", "/openapi.json").body
    assert "warnings" in spec["components"]["schemas"]["WriteOut"]["properties"]
    assert "forced" in spec["components"]["schemas"]["HistoryItem"]["properties"]
    for verb in ("put", "delete"):
        params = spec["paths"]["/policies/{kind}/{name}"][verb]["parameters"]
        assert "force" in {p["name"] for p in params}
