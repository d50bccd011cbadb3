"""GET /matrix, the impact of every write, and AUTHZ_ROUTES, on DynamoDB Local."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from authz.errors import ConfigError
from authz.handlers.admin.access import task_root
from authz.handlers.admin.app import AdminApp
from authz.settings import Settings
from tests.functional.admin.helpers import call, doc, event, policy_path, reply

ROUTES = "GET /orders, GET /orders/{id}, DELETE /orders/{id}"
READ = "execute-api:/prod/GET/orders/*"
DELETE = "execute-api:/prod/DELETE/orders/*"


@pytest.fixture
def routed(make_app: Callable[..., AdminApp], admin_settings: Settings) -> AdminApp:
    return make_app(settings=dataclasses.replace(admin_settings, routes=ROUTES))


def put(app: Any, kind: str, name: str, document: dict[str, Any], **kw: Any) -> Any:
    return call(app, "PUT", policy_path(kind, name), body={"document": document}, **kw)


def seed(app: AdminApp) -> None:
    assert put(app, "default", "default", doc("execute-api:/prod/GET/orders")).status == 201
    assert put(app, "group", "readers", doc(READ, sid="Read")).status == 201
    deny = doc(DELETE, effect="Deny", sid="NoDelete")
    assert put(app, "scope", "orders.read", deny).status == 201


# --- GET /matrix --------------------------------------------------------------------------


def test_the_matrix_of_the_stored_policies(routed: AdminApp) -> None:
    seed(routed)
    r = call(routed, "GET", "/matrix")
    assert r.status == 200
    assert r.body == {
        "routes": ["GET /orders", "GET /orders/{id}", "DELETE /orders/{id}"],
        "subjects": ["default", "group:readers", "scope:orders.read"],
        "cells": {
            "default": {
                "GET /orders": "allow",
                "GET /orders/{id}": "deny",
                "DELETE /orders/{id}": "deny",
            },
            "group:readers": {
                "GET /orders": "allow",
                "GET /orders/{id}": "allow",
                "DELETE /orders/{id}": "deny",
            },
            "scope:orders.read": {
                "GET /orders": "allow",
                "GET /orders/{id}": "deny",
                "DELETE /orders/{id}": "explicit-deny",
            },
        },
    }


def test_the_matrix_is_judged_for_this_api(routed: AdminApp) -> None:
    """An ARN naming this API's account, id and stage counts; one naming another API does not."""
    mine = "arn:aws:execute-api:us-east-1:123456789012:adm1n4p1/prod/DELETE/orders/*"
    other = "arn:aws:execute-api:us-east-1:123456789012:otherapi/prod/GET/orders/*"
    assert put(routed, "group", "ops", doc(mine, other)).status == 201
    row = call(routed, "GET", "/matrix").body["cells"]["group:ops"]
    assert row == {
        "GET /orders": "deny",
        "GET /orders/{id}": "deny",
        "DELETE /orders/{id}": "allow",
    }


def test_subjects_filter_the_rows(routed: AdminApp) -> None:
    seed(routed)
    one = call(routed, "GET", "/matrix", query={"subjects": "group:readers"}).body
    assert (one["subjects"], list(one["cells"])) == (["group:readers"], ["group:readers"])
    two = call(routed, "GET", "/matrix", query={"subjects": "scope:orders.read,default"}).body
    assert two["subjects"] == ["default", "scope:orders.read"]
    assert len(two["routes"]) == 3


def test_an_unknown_subject_is_a_400_naming_it(routed: AdminApp) -> None:
    seed(routed)
    r = call(routed, "GET", "/matrix", query={"subjects": "group:readers,group:reader"})
    assert (r.status, r.error_code) == (400, "unknown_subject")
    assert "group:reader" in r.body["error"]["message"]
    assert "group:readers," not in r.body["error"]["message"]
    bad = call(routed, "GET", "/matrix", query={"subjects": "team:x"})
    assert (bad.status, bad.error_code) == (400, "invalid_selector")
    assert bad.body["error"]["details"][0]["path"] == "query.subjects"


def test_explain_names_the_statements(routed: AdminApp) -> None:
    seed(routed)
    body = call(routed, "GET", "/matrix", query={"explain": "true"}).body
    cell = body["cells"]["scope:orders.read"]["DELETE /orders/{id}"]
    assert cell == {
        "value": "explicit-deny",
        "statements": [
            {"policy": "scope:orders.read", "statement": 0, "sid": "NoDelete", "effect": "Deny"}
        ],
    }
    assert body["cells"]["default"]["DELETE /orders/{id}"] == {"value": "deny", "statements": []}


def test_principals_add_combined_rows(routed: AdminApp) -> None:
    seed(routed)
    r = call(
        routed,
        "GET",
        "/matrix",
        query={"principal": "group:readers,scope:orders.read", "subjects": "default"},
    )
    assert r.status == 200
    assert r.body["subjects"] == ["default", "group:readers,scope:orders.read"]
    assert r.body["cells"]["group:readers,scope:orders.read"] == {
        "GET /orders": "allow",
        "GET /orders/{id}": "allow",
        "DELETE /orders/{id}": "explicit-deny",
    }


@pytest.mark.parametrize(
    "query",
    [{"explain": "maybe"}, {"principal": "team:x"}, {"principal": ","}, {"explain": ""}],
)
def test_bad_query_values_are_400(routed: AdminApp, query: dict[str, str]) -> None:
    r = call(routed, "GET", "/matrix", query=query)
    assert r.status == 400
    assert r.body["error"]["details"]


def test_without_routes_the_matrix_is_a_409_naming_the_setting(app: AdminApp) -> None:
    r = call(app, "GET", "/matrix")
    assert (r.status, r.error_code) == (409, "routes_not_configured")
    assert "AUTHZ_ROUTES" in r.body["error"]["message"]


def test_a_non_admin_gets_403(routed: AdminApp) -> None:
    r = call(routed, "GET", "/matrix", groups='["support"]')
    assert r.status == 403


def test_other_methods_are_405(routed: AdminApp) -> None:
    r = call(routed, "POST", "/matrix", body={})
    assert r.status == 405
    assert r.headers["allow"] == "GET"


# --- impact of writes ---------------------------------------------------------------------


def test_a_put_answers_with_the_cells_it_changed(routed: AdminApp) -> None:
    seed(routed)
    r = put(routed, "group", "readers", doc(READ, DELETE))
    assert r.status == 200
    assert r.body["impact"] == [
        {
            "subject": "group:readers",
            "route": "DELETE /orders/{id}",
            "before": "deny",
            "after": "allow",
        }
    ]
    assert r.body["impact_notice"] is None
    assert call(routed, "GET", "/matrix").body["cells"]["group:readers"]["DELETE /orders/{id}"] == (
        "allow"
    )
    same = put(routed, "group", "readers", doc(READ, DELETE))
    assert (same.status, same.body["impact"]) == (200, [])


def test_widenings_come_first(routed: AdminApp) -> None:
    seed(routed)
    r = put(routed, "group", "readers", doc(DELETE))
    assert [(c["route"], c["before"], c["after"]) for c in r.body["impact"]] == [
        ("DELETE /orders/{id}", "deny", "allow"),
        ("GET /orders/{id}", "allow", "deny"),
    ]


def test_a_write_to_default_reports_every_row(routed: AdminApp) -> None:
    seed(routed)
    r = put(routed, "default", "default", doc("execute-api:/prod/GET/*"))
    assert r.status == 200
    changed = {(c["subject"], c["route"]) for c in r.body["impact"]}
    assert changed == {("default", "GET /orders/{id}"), ("scope:orders.read", "GET /orders/{id}")}


def test_a_delete_answers_with_the_cells_it_changed(routed: AdminApp) -> None:
    seed(routed)
    r = call(routed, "DELETE", policy_path("scope", "orders.read"))
    assert r.status == 200
    assert r.body["impact"] == [
        {
            "subject": "scope:orders.read",
            "route": "DELETE /orders/{id}",
            "before": "explicit-deny",
            "after": "deny",
        }
    ]


def test_without_routes_writes_say_the_impact_was_not_computed(app: AdminApp) -> None:
    r = put(app, "group", "readers", doc(READ))
    assert (r.status, r.body["impact"]) == (201, [])
    assert "AUTHZ_ROUTES is not set" in r.body["impact_notice"]
    d = call(app, "DELETE", policy_path("group", "readers"))
    assert (d.status, d.body["impact"]) == (200, [])
    assert "AUTHZ_ROUTES is not set" in d.body["impact_notice"]


def test_a_refused_write_computes_nothing_and_writes_nothing(routed: AdminApp, table: Any) -> None:
    seed(routed)
    before = table()
    r = put(routed, "group", "readers", doc(DELETE), headers={"If-Match": '"9"'})
    assert r.status == 412
    assert table() == before


# --- AUTHZ_ROUTES ---------------------------------------------------------------------------


def _build(make_app: Callable[..., AdminApp], settings: Settings, value: str, **kw: Any) -> Any:
    return make_app(settings=dataclasses.replace(settings, routes=value), **kw)


def test_routes_from_an_absolute_openapi_file(
    make_app: Callable[..., AdminApp], admin_settings: Settings, tmp_path: Path
) -> None:
    """The path `authz dev` gives: absolute, whatever the task root."""
    spec = {"openapi": "3.0.0", "paths": {"/orders/{id}": {"get": {}, "delete": {}}}}
    file = tmp_path / "api.json"
    file.write_text(json.dumps(spec))
    app = _build(make_app, admin_settings, str(file), routes_base=tmp_path / "elsewhere")
    assert call(app, "GET", "/matrix").body["routes"] == ["GET /orders/{id}", "DELETE /orders/{id}"]


def test_a_relative_route_file_resolves_against_the_task_root(
    make_app: Callable[..., AdminApp],
    admin_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "routes.txt").write_text("# the API\nGET /a\nPOST /b\n")
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))
    assert task_root() == tmp_path
    app = _build(make_app, admin_settings, "routes.txt")
    assert call(app, "GET", "/matrix").body["routes"] == ["GET /a", "POST /b"]


def test_without_a_task_root_relative_paths_start_at_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert task_root() == tmp_path
    assert task_root({"LAMBDA_TASK_ROOT": " "}) == tmp_path


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("GET /a, FETCH /b", "FETCH"),
        ('["GET /a",', "line 1"),
        ("missing-routes.json", "missing-routes.json"),
        ("GET orders", "must start with /"),
    ],
)
def test_an_unreadable_setting_fails_the_start_naming_the_variable(
    make_app: Callable[..., AdminApp],
    admin_settings: Settings,
    tmp_path: Path,
    value: str,
    says: str,
) -> None:
    with pytest.raises(ConfigError) as info:
        _build(make_app, admin_settings, value, routes_base=tmp_path)
    assert info.value.variable == "AUTHZ_ROUTES"
    assert says in str(info.value)


def test_a_route_file_without_routes_fails_the_start(
    make_app: Callable[..., AdminApp], admin_settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "empty.json").write_text('{"openapi": "3.0.0", "paths": {}}')
    with pytest.raises(ConfigError, match="names no routes"):
        _build(make_app, admin_settings, "empty.json", routes_base=tmp_path)


def test_principal_and_subjects_repeat(routed: AdminApp) -> None:
    """Each principal value is one row (its commas combine selectors); subjects add up."""
    seed(routed)
    ev = event("GET", "/matrix", query={"principal": "x"})
    ev["multiValueQueryStringParameters"] = {
        "principal": ["group:readers,scope:orders.read", "scope:orders.read,group:ops"],
        "subjects": ["default", "group:readers"],
    }
    ev["queryStringParameters"] = {"principal": "scope:orders.read,group:ops"}
    r = reply(routed(ev, None))
    assert r.status == 200, r.body
    assert r.body["subjects"] == [
        "default",
        "group:readers",
        "group:readers,scope:orders.read",
        "scope:orders.read,group:ops",
    ]


def test_a_matrix_too_large_to_answer_is_a_413_pointing_at_the_filter(
    routed: AdminApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from authz.handlers.admin import routes_matrix

    seed(routed)
    whole = call(routed, "GET", "/matrix").body
    size = len(json.dumps(whole, separators=(",", ":")))
    monkeypatch.setattr(routes_matrix, "MAX_MATRIX_BYTES", size - 1)
    r = call(routed, "GET", "/matrix")
    assert (r.status, r.error_code) == (413, "matrix_too_large")
    assert "?subjects=" in r.body["error"]["message"]
    one = call(routed, "GET", "/matrix", query={"subjects": "default"})
    assert one.status == 200


def test_a_yaml_route_file_works_where_pyyaml_is_installed(
    make_app: Callable[..., AdminApp], admin_settings: Settings, tmp_path: Path
) -> None:
    """`authz dev` hands the admin API an absolute path to a YAML OpenAPI document."""
    file = tmp_path / "orders-api.yaml"
    file.write_text("openapi: 3.0.0\npaths:\n  /orders:\n    get: {}\n    post: {}\n")
    app = _build(make_app, admin_settings, str(file))
    assert call(app, "GET", "/matrix").body["routes"] == ["GET /orders", "POST /orders"]


def test_a_principal_equal_to_a_filtered_out_row_still_gets_its_row(routed: AdminApp) -> None:
    seed(routed)
    q = {"subjects": "default", "principal": "group:readers"}
    body = call(routed, "GET", "/matrix", query=q).body
    assert body["subjects"] == ["default", "group:readers"]
    assert body["cells"]["group:readers"]["GET /orders/{id}"] == "allow"
    both = call(routed, "GET", "/matrix", query={"principal": "group:readers"}).body
    assert both["subjects"] == ["default", "group:readers", "scope:orders.read"]
