"""The policy routes of the admin API on DynamoDB Local: CRUD, preconditions, paging, names."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.functional.admin.helpers import call, doc, event, policy_path, reply

ORDERS = "arn:aws:execute-api:*:*:*/*/GET/orders/*"
INVOICES = "arn:aws:execute-api:*:*:*/*/GET/invoices/*"


def put(app: Any, kind: str, name: str, document: dict[str, Any] | None = None, **kw: Any) -> Any:
    body = kw.pop("body", None) or {"document": document or doc(ORDERS), "description": "d"}
    return call(app, "PUT", policy_path(kind, name), body=body, **kw)


def test_put_creates_then_get_returns_it_with_etag(app: Any) -> None:
    """A first PUT answers 201 created with ETag "1" and Location; GET returns the same policy."""
    r = put(app, "group", "readers", doc(ORDERS, sid="Read"))
    assert r.status == 201
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"] == "/policies/group/readers"
    assert r.body["action"] == "created"
    assert r.body["version"] == 1
    assert r.body["epoch"] == 1
    assert r.body["policy"]["updated_by"] == "alice"
    assert r.body["policy"]["document"]["Statement"][0]["Sid"] == "Read"

    g = call(app, "GET", policy_path("group", "readers"))
    assert g.status == 200
    assert g.headers["etag"] == '"1"'
    assert g.body["selector"] == "group:readers"
    assert g.body["description"] == "d"
    assert g.body["document"] == r.body["policy"]["document"]


def test_unconditional_put_on_existing_policy_updates(app: Any) -> None:
    """Without preconditions a PUT on an existing policy is an update: 200, version 2."""
    put(app, "group", "readers")
    r = put(app, "group", "readers", doc(INVOICES))
    assert (r.status, r.body["action"], r.body["version"]) == (200, "updated", 2)
    assert "location" not in r.headers
    assert call(app, "GET", policy_path("group", "readers")).body["document"]["Statement"][0][
        "Resource"
    ] == [INVOICES]


@pytest.mark.parametrize("tag", ['"1"', "1", ' "1" ', '"7", "1"'])
def test_if_match_accepts_quoted_bare_and_listed_versions(app: Any, tag: str) -> None:
    """If-Match matches the current version whether quoted, bare or in a list."""
    put(app, "scope", "orders/read")
    r = put(app, "scope", "orders/read", doc(INVOICES), headers={"If-Match": tag})
    assert r.status == 200
    assert r.headers["etag"] == '"2"'


def test_if_match_with_a_stale_version_is_412_and_writes_nothing(app: Any, table: Any) -> None:
    """If-Match naming an older version answers 412 and leaves the table as it was."""
    put(app, "group", "readers")
    put(app, "group", "readers")
    before = table()
    r = put(app, "group", "readers", doc(INVOICES), headers={"If-Match": '"1"'})
    assert r.status == 412
    assert r.error_code == "precondition_failed"
    assert table() == before


def test_if_match_on_a_missing_policy_is_412_and_creates_nothing(app: Any, table: Any) -> None:
    """RFC 9110: If-Match fails when there is no current representation; nothing is created."""
    before = table()
    for tag in ('"1"', "*", '"1", "2"'):
        r = put(app, "group", "ghost", headers={"If-Match": tag})
        assert r.status == 412, tag
    assert table() == before
    assert call(app, "GET", policy_path("group", "ghost")).status == 404


def test_if_match_star_updates_whatever_version_exists(app: Any) -> None:
    """If-Match: * replaces the existing policy at any version."""
    put(app, "group", "readers")
    put(app, "group", "readers")
    r = put(app, "group", "readers", doc(INVOICES), headers={"If-Match": "*"})
    assert (r.status, r.body["version"]) == (200, 3)


def test_if_none_match_star_creates_only(app: Any, table: Any) -> None:
    """If-None-Match: * creates an absent policy (201) and refuses an existing one (409)."""
    assert put(app, "group", "new", headers={"If-None-Match": "*"}).status == 201
    before = table()
    r = put(app, "group", "new", doc(INVOICES), headers={"If-None-Match": "*"})
    assert r.status == 409
    assert r.error_code == "already_exists"
    assert table() == before


def test_delete_reports_epoch_and_then_the_policy_is_gone(app: Any) -> None:
    """DELETE answers 200 with the deleted version and the new epoch; then GET is 404."""
    put(app, "group", "readers")
    put(app, "group", "readers")
    r = call(app, "DELETE", policy_path("group", "readers"))
    assert r.status == 200
    assert r.body["action"] == "deleted"
    assert r.body["version"] == 2
    assert r.body["epoch"] == 3
    assert r.body["freshness"]["epoch"] == 3
    assert call(app, "GET", policy_path("group", "readers")).status == 404
    again = call(app, "DELETE", policy_path("group", "readers"))
    assert (again.status, again.error_code) == (404, "not_found")


def test_delete_honours_if_match(app: Any, table: Any) -> None:
    """DELETE with a stale If-Match is 412 and keeps the policy; the current one deletes."""
    put(app, "group", "readers")
    put(app, "group", "readers")
    before = table()
    stale = call(app, "DELETE", policy_path("group", "readers"), headers={"If-Match": '"1"'})
    assert stale.status == 412
    assert table() == before
    ok = call(app, "DELETE", policy_path("group", "readers"), headers={"If-Match": '"2"'})
    assert ok.status == 200
    missing = call(app, "DELETE", policy_path("group", "readers"), headers={"If-Match": '"2"'})
    assert missing.status == 412


def test_recreate_after_delete_is_created_with_a_newer_version(app: Any) -> None:
    """A policy created again after a delete is 'created' and never reuses an old ETag."""
    put(app, "group", "readers")
    call(app, "DELETE", policy_path("group", "readers"))
    r = put(app, "group", "readers", headers={"If-None-Match": "*"})
    assert r.status == 201
    assert r.body["version"] > 1


def test_history_is_newest_first_paginated_and_records_the_caller(app: Any) -> None:
    """History lists every action newest first, one page at a time, with who did it."""
    put(app, "scope", "orders/read")
    put(app, "scope", "orders/read", username="bob")
    call(app, "DELETE", policy_path("scope", "orders/read"), username="carol")
    entries: list[dict[str, Any]] = []
    cursor = None
    for _ in range(5):
        query = {"limit": "1", **({"next": cursor} if cursor else {})}
        r = call(app, "GET", policy_path("scope", "orders/read", "/history"), query=query)
        assert r.status == 200
        assert len(r.body["items"]) <= 1
        entries += r.body["items"]
        cursor = r.body["next"]
        if cursor is None:
            break
    assert [(e["action"], e["version"], e["by"]) for e in entries] == [
        ("delete", 2, "carol"),
        ("update", 2, "bob"),
        ("create", 1, "alice"),
    ]


def test_history_of_a_policy_never_written_is_404(app: Any) -> None:
    """A selector with no history at all answers 404."""
    r = call(app, "GET", policy_path("group", "nobody", "/history"))
    assert (r.status, r.error_code) == (404, "not_found")


def test_list_filters_by_kind_and_pages_with_an_opaque_cursor(app: Any) -> None:
    """GET /policies?kind=group&limit=2 pages through the groups only, ending with next=null."""
    for name in ("a", "b", "c"):
        put(app, "group", name)
    put(app, "scope", "orders/read")
    put(app, "default", "default")
    first = call(app, "GET", "/policies", query={"kind": "group", "limit": "2"})
    assert first.status == 200
    assert [i["name"] for i in first.body["items"]] == ["a", "b"]
    assert first.body["next"]
    second = call(
        app, "GET", "/policies", query={"kind": "group", "limit": "2", "next": first.body["next"]}
    )
    assert [i["name"] for i in second.body["items"]] == ["c"]
    assert second.body["next"] is None
    everything = call(app, "GET", "/policies")
    assert sorted(i["selector"] for i in everything.body["items"]) == [
        "default",
        "group:a",
        "group:b",
        "group:c",
        "scope:orders/read",
    ]
    assert call(app, "GET", "/policies", query={"kind": "scope"}).body["items"][0]["name"] == (
        "orders/read"
    )


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_list_limit_outside_1_to_100_is_400(app: Any, limit: str) -> None:
    """limit must be a whole number from 1 to 100."""
    r = call(app, "GET", "/policies", query={"limit": limit})
    assert (r.status, r.error_code) == (400, "invalid_request")
    assert r.body["error"]["details"][0]["path"] == "query.limit"


def test_a_tampered_cursor_is_400(app: Any) -> None:
    """A cursor the API did not issue is a 400, not a store failure."""
    put(app, "group", "a")
    r = call(app, "GET", "/policies", query={"next": "bm90LWEtY3Vyc29y"})
    assert (r.status, r.error_code) == (400, "invalid_cursor")


@pytest.mark.parametrize("name", ["orders/read", "https://api.example.com/orders.write", "a%b"])
def test_scope_names_with_slashes_work_when_percent_encoded(app: Any, name: str) -> None:
    """GET, PUT, DELETE and history address a scope containing '/' (sent as %2F)."""
    assert "/" not in quote(name, safe="")
    assert put(app, "scope", name).status == 201
    got = call(app, "GET", policy_path("scope", name))
    assert (got.status, got.body["name"]) == (200, name)
    assert call(app, "GET", policy_path("scope", name, "/history")).status == 200
    assert call(app, "DELETE", policy_path("scope", name)).status == 200
    assert call(app, "GET", policy_path("scope", name)).status == 404


def test_explicit_resource_routes_use_api_gateways_decoded_path_parameters(app: Any) -> None:
    """Behind a /policies/{kind}/{name} resource, the decoded pathParameters name the policy."""
    ev = event(
        "PUT",
        "/policies/scope/orders/read",  # as if the path had arrived decoded
        body={"document": doc(ORDERS)},
        resource="/policies/{kind}/{name}",
        path_parameters={"kind": "scope", "name": "orders/read"},
    )
    assert reply(app(ev, None)).status == 201
    history = event(
        "GET",
        "/policies/scope/orders%2Fread/history",
        resource="/policies/{kind}/{name}/history",
        path_parameters={"kind": "scope", "name": "orders/read"},
    )
    r = reply(app(history, None))
    assert (r.status, r.body["selector"]) == (200, "scope:orders/read")


def test_unicode_group_names_round_trip(app: Any) -> None:
    """Cognito group names may hold any letters; they travel UTF-8 percent-encoded."""
    assert put(app, "group", "Vertrieb-Süd").status == 201
    assert call(app, "GET", policy_path("group", "Vertrieb-Süd")).body["name"] == "Vertrieb-Süd"


def test_default_policy_lives_only_under_the_name_default(app: Any, table: Any) -> None:
    """PUT /policies/default/default works; any other name of kind default is a 400."""
    assert put(app, "default", "default").status == 201
    before = table()
    r = put(app, "default", "other")
    assert (r.status, r.error_code) == (400, "invalid_selector")
    assert table() == before


def test_group_token_settings_are_validated_stored_and_returned(app: Any) -> None:
    """A group's token settings are stored with its policy and come back in GET and history."""
    token = {"scopes": ["orders/read"], "claims": {"tenant": "acme"}}
    r = put(app, "group", "acme", body={"document": doc(ORDERS), "token": token})
    assert r.status == 201
    assert r.body["policy"]["token"] == token
    assert call(app, "GET", policy_path("group", "acme")).body["token"] == token
    history = call(app, "GET", policy_path("group", "acme", "/history"))
    assert history.body["items"][0]["token"] == token
    listed = call(app, "GET", "/policies", query={"kind": "group"}).body["items"]
    assert listed[0]["has_token_settings"] is True
