"""GET /openapi.json is a valid OpenAPI 3 document describing every route in our error format."""

from __future__ import annotations

import json
from typing import Any

from openapi_spec_validator import validate

from tests.functional.admin.helpers import call

EXPECTED = {
    "/policies": {"get"},
    "/policies/{kind}/{name}": {"get", "put", "delete"},
    "/policies/{kind}/{name}/history": {"get"},
    "/simulate": {"post"},
    "/matrix": {"get"},
    "/openapi.json": {"get"},
    "/revocations": {"get", "post"},
    "/revocations/{id}": {"get", "delete"},
    "/revocation-history": {"get"},
}


def test_openapi_document_is_valid_and_lists_every_route(bare_app: Any) -> None:
    """The served document passes openapi-spec-validator and names each route and method."""
    r = call(bare_app, "GET", "/openapi.json")
    assert r.status == 200
    validate(r.body)
    assert r.body["openapi"].startswith("3.")
    assert {path: set(ops) for path, ops in r.body["paths"].items()} == EXPECTED


def test_openapi_documents_bodies_and_errors_as_they_are_answered(bare_app: Any) -> None:
    """Request/response schemas are ours; errors use ErrorBody; Powertools' 422 is gone."""
    doc = call(bare_app, "GET", "/openapi.json").body
    schemas = doc["components"]["schemas"]
    for name in (
        "PutPolicyBody",
        "PolicyOut",
        "WriteOut",
        "SimulateBody",
        "SimulateOut",
        "ErrorBody",
    ):
        assert name in schemas
    assert schemas["PutPolicyBody"]["additionalProperties"] is False
    put = doc["paths"]["/policies/{kind}/{name}"]["put"]
    assert {"200", "201", "400", "403", "409", "412", "413", "500"} <= set(put["responses"])
    assert put["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PutPolicyBody"
    )
    text = json.dumps(doc)
    assert '"422"' not in text
    assert "HTTPValidationError" not in text
    for ops in doc["paths"].values():
        for op in ops.values():
            assert op["responses"]["500"]["content"]["application/json"]["schema"]["$ref"] == (
                "#/components/schemas/ErrorBody"
            )
    kinds = {p["name"]: p for p in put["parameters"]}["kind"]["schema"]["enum"]
    assert sorted(kinds) == ["default", "group", "scope"]


def test_openapi_document_is_stable_and_exportable_without_a_request(bare_app: Any) -> None:
    """Every call serves the same document, and AdminApp.openapi() exports it directly."""
    first = call(bare_app, "GET", "/openapi.json").body
    assert call(bare_app, "GET", "/openapi.json").body == first
    assert bare_app.openapi()["paths"].keys() == first["paths"].keys()


def test_openapi_descriptions_are_markdown_without_rest_double_backticks(bare_app: Any) -> None:
    """Swagger UI renders CommonMark: reST ``literals`` showed up with their backticks."""
    doc = bare_app.openapi()
    assert doc["info"]["description"].startswith("Edit authz policies at run time")
    assert "``" not in json.dumps(doc)
