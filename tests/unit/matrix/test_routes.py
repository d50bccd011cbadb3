"""Route sources: OpenAPI (JSON, YAML, API Gateway exports), serverless.yml events,
--route strings and the AUTHZ_ROUTES setting; unreadable sources name file and position."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authz.matrix import (
    Route,
    RouteSourceError,
    parse_route,
    routes_from_file,
    routes_from_serverless,
    routes_from_setting,
    routes_from_strings,
)

ROOT = Path(__file__).resolve().parents[3]

OPENAPI = {
    "openapi": "3.0.1",
    "servers": [{"url": "https://x.execute-api.us-east-1.amazonaws.com/{basePath}"}],
    "paths": {
        "/orders": {
            "get": {"responses": {}},
            "post": {"responses": {}},
            "parameters": [],
            "summary": "not a method",
        },
        "/orders/{id}": {
            "get": {"x-amazon-apigateway-integration": {"type": "mock"}},
            "delete": {},
        },
        "/files/{proxy+}": {"x-amazon-apigateway-any-method": {}},
    },
}
EXPECTED = [
    "GET /orders",
    "POST /orders",
    "GET /orders/{id}",
    "DELETE /orders/{id}",
    "ANY /files/{proxy+}",
]


def test_openapi_json_lists_each_operation_in_order(tmp_path: Path) -> None:
    """Methods become upper-case routes; path-item keys that are not methods are skipped."""
    file = tmp_path / "api.json"
    file.write_text(json.dumps(OPENAPI))
    assert [str(r) for r in routes_from_file(file)] == EXPECTED


def test_openapi_yaml_export_with_apigateway_extensions(tmp_path: Path) -> None:
    """An API Gateway YAML export reads like the JSON one; any-method becomes ANY."""
    file = tmp_path / "export.yaml"
    file.write_text(
        "openapi: 3.0.1\n"
        "x-amazon-apigateway-binary-media-types: ['*/*']\n"
        "paths:\n"
        "  /orders:\n"
        "    get: {}\n"
        "    post: {}\n"
        "  /orders/{id}:\n"
        "    get:\n"
        "      x-amazon-apigateway-integration: {type: mock}\n"
        "    delete: {}\n"
        "  /files/{proxy+}:\n"
        "    x-amazon-apigateway-any-method: {}\n"
    )
    assert [str(r) for r in routes_from_file(file)] == EXPECTED


def test_the_projects_serverless_yml() -> None:
    """The admin API's http events, CloudFormation tags and all, in file order."""
    routes = [str(r) for r in routes_from_file(ROOT / "serverless.yml")]
    assert routes[:2] == ["GET /policies", "GET /policies/{kind}/{name}"]
    assert "POST /simulate" in routes
    assert routes[-1] == "GET /whoami/{proxy+}"
    assert len(routes) == len(set(routes))


def test_serverless_string_and_dict_forms() -> None:
    """http and httpApi events, string and object form, * as ANY, duplicates once."""
    doc = {
        "functions": {
            "a": {
                "events": [
                    {"http": "GET orders"},
                    {"httpApi": "POST /orders"},
                    {"httpApi": {"method": "*", "path": "/any"}},
                    {"http": {"method": "get", "path": "orders"}},
                    {"sqs": "arn:aws:sqs:..."},
                ]
            },
            "b": {"events": [{"httpApi": "*"}]},
            "c": {"handler": "x.y"},
        }
    }
    assert [str(r) for r in routes_from_serverless(doc, "serverless.yml")] == [
        "GET /orders",
        "POST /orders",
        "ANY /any",
        "ANY /{proxy+}",
    ]


def test_route_strings_keep_the_path_as_written() -> None:
    assert routes_from_strings(["GET /orders/{id}", "get /orders/{id}", " PUT  /a "]) == [
        Route("GET", "/orders/{id}"),
        Route("PUT", "/a"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("GET", "VERB /path"),
        ("FETCH /a", "method 'FETCH'"),
        ("GET orders", "must start with /"),
        ("GET /a/{id", "unclosed"),
    ],
)
def test_bad_route_strings_say_why(text: str, message: str) -> None:
    with pytest.raises(RouteSourceError, match="--route") as info:
        parse_route(text)
    assert message in str(info.value)


def test_setting_inline_list_json_list_and_file(tmp_path: Path) -> None:
    """AUTHZ_ROUTES: comma or newline separated, a JSON list, or a file (relative to base)."""
    assert routes_from_setting("GET /a, POST /b\nANY /c") == [
        Route("GET", "/a"),
        Route("POST", "/b"),
        Route("ANY", "/c"),
    ]
    assert routes_from_setting('["GET /a", "GET /a"]') == [Route("GET", "/a")]
    (tmp_path / "routes.txt").write_text("# the demo API\nGET /x\n\nDELETE /x/{id}\n")
    assert routes_from_setting("routes.txt", base=tmp_path) == [
        Route("GET", "/x"),
        Route("DELETE", "/x/{id}"),
    ]


def test_json_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    file = tmp_path / "api.json"
    file.write_text('{\n  "paths": {\n    "/a": {"get": {}},\n  }\n}\n')
    with pytest.raises(RouteSourceError) as info:
        routes_from_file(file)
    err = info.value
    assert (err.source, err.line, err.column) == (str(file), 4, 3)
    assert str(err).startswith(f"{file}:4:3: ")


def test_yaml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    file = tmp_path / "serverless.yml"
    file.write_text("functions:\n  a:\n    events:\n      - http: {path: a, method: get\n")
    with pytest.raises(RouteSourceError) as info:
        routes_from_file(file)
    err = info.value
    assert err.source == str(file)
    assert err.line == 5
    assert err.column is not None
    assert str(err).startswith(f"{file}:5:")


def test_unreadable_and_unrecognised_sources(tmp_path: Path) -> None:
    with pytest.raises(RouteSourceError, match="cannot read the file"):
        routes_from_file(tmp_path / "missing.yaml")
    other = tmp_path / "other.yaml"
    other.write_text("just: a mapping\n")
    with pytest.raises(RouteSourceError, match="not a route source"):
        routes_from_file(other)
    with pytest.raises(RouteSourceError, match="AUTHZ_ROUTES"):
        routes_from_setting("   ")
