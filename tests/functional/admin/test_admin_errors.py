"""Every error status of the admin API in its JSON shape; a rejected request writes nothing."""

from __future__ import annotations

import dataclasses
import socket
from typing import Any

import pytest

from authz.handlers.admin.app import build_app
from authz.handlers.admin.http import MAX_BODY_BYTES
from tests.functional.admin.helpers import call, doc, policy_path

ORDERS = "arn:aws:execute-api:*:*:*/*/GET/orders/*"


@pytest.fixture
def seeded(app: Any) -> Any:
    """The app with group:readers at version 1."""
    r = call(app, "PUT", policy_path("group", "readers"), body={"document": doc(ORDERS)})
    assert r.status == 201
    return app


BAD_WRITES: list[tuple[str, dict[str, Any], int, str]] = [
    ("invalid JSON", {"raw_body": '{"document": '}, 400, "invalid_json"),
    ("no body", {}, 400, "invalid_request"),
    ("JSON array body", {"raw_body": "[]"}, 400, "invalid_request"),
    (
        "unknown field",
        {"body": {"document": doc(ORDERS), "descripton": "x"}},
        400,
        "invalid_request",
    ),
    ("wrong type", {"body": {"document": doc(ORDERS), "description": 5}}, 400, "invalid_request"),
    ("document not an object", {"body": {"document": "allow all"}}, 400, "invalid_request"),
    (
        "invalid document",
        {"body": {"document": {"Version": "2012-10-17", "Statement": [{"Effect": "Permit"}]}}},
        400,
        "invalid_document",
    ),
    (
        "token settings on a scope policy",
        {"path": policy_path("scope", "orders/read"), "body": {"document": doc(), "token": {}}},
        400,
        "invalid_token_settings",
    ),
    (
        "reserved claim in token settings",
        {"body": {"document": doc(), "token": {"claims": {"sub": "root"}}}},
        400,
        "invalid_token_settings",
    ),
    ("invalid kind", {"path": "/policies/role/readers", "body": {"document": doc()}}, 400, ""),
    (
        "invalid group name",
        {"path": policy_path("group", "two words"), "body": {"document": doc()}},
        400,
        "invalid_selector",
    ),
    (
        "both preconditions",
        {"body": {"document": doc()}, "headers": {"If-Match": '"1"', "If-None-Match": "*"}},
        400,
        "invalid_precondition",
    ),
    (
        "malformed If-Match",
        {"body": {"document": doc()}, "headers": {"If-Match": "version-one"}},
        400,
        "invalid_precondition",
    ),
    (
        "If-None-Match other than *",
        {"body": {"document": doc()}, "headers": {"If-None-Match": '"1"'}},
        400,
        "invalid_precondition",
    ),
    ("stale If-Match", {"body": {"document": doc()}, "headers": {"If-Match": '"9"'}}, 412, ""),
    (
        "create-only on existing",
        {"body": {"document": doc()}, "headers": {"If-None-Match": "*"}},
        409,
        "",
    ),
    (
        "not JSON content",
        {"raw_body": "document=x", "headers": {"Content-Type": "text/plain"}},
        415,
        "unsupported_media_type",
    ),
    (
        "body over the limit",
        {"body": {"document": doc(), "description": "x" * MAX_BODY_BYTES}},
        413,
        "payload_too_large",
    ),
]


@pytest.mark.parametrize("case", BAD_WRITES, ids=[c[0] for c in BAD_WRITES])
def test_rejected_writes_answer_their_status_and_change_nothing(
    seeded: Any, table: Any, case: tuple[str, dict[str, Any], int, str]
) -> None:
    """Each bad PUT gets its status in the error shape, and the table is byte-for-byte unchanged."""
    _, request_kwargs, status, code = case
    kwargs = dict(request_kwargs)
    path = kwargs.pop("path", policy_path("group", "readers"))
    before = table()
    r = call(seeded, "PUT", path, **kwargs)
    assert r.status == status, r.body
    assert set(r.body) == {"error"}
    assert set(r.body["error"]) == {"code", "message", "details"}
    assert r.body["error"]["message"]
    if code:
        assert r.error_code == code
    assert table() == before


def test_invalid_document_reports_every_problem_with_its_json_path(seeded: Any) -> None:
    """Document problems come straight from PolicyDocument.from_dict, rooted at 'document'."""
    bad = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Permit", "Action": "execute-api:Invoke", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {}},
        ],
    }
    r = call(seeded, "PUT", policy_path("group", "readers"), body={"document": bad})
    paths = [d["path"] for d in r.body["error"]["details"]]
    assert "document.Statement[0].Effect" in paths
    assert "document.Statement[1].Action" in paths
    assert "document.Statement[1].Condition" in paths
    assert all(d["message"] for d in r.body["error"]["details"])


def test_pydantic_errors_name_the_field_and_never_echo_input(seeded: Any) -> None:
    """A wrong type is reported at its path, without the submitted value."""
    secret = "s3cr3t-value-that-must-not-echo"
    r = call(
        seeded,
        "PUT",
        policy_path("group", "readers"),
        body={"document": doc(), "description": [secret]},
    )
    assert r.status == 400
    assert r.body["error"]["details"][0]["path"] == "description"
    assert secret not in str(r.body)


def test_unknown_route_is_404_in_the_error_shape(bare_app: Any) -> None:
    """A path the API does not have answers 404 with code not_found."""
    r = call(bare_app, "GET", "/nothing/here")
    assert (r.status, r.error_code) == (404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", policy_path("group", "readers"), "DELETE, GET, PUT"),
        ("POST", "/policies", "GET"),
        ("DELETE", policy_path("group", "readers", "/history"), "GET"),
        ("GET", "/simulate", "POST"),
    ],
)
def test_known_path_with_another_method_is_405_with_allow(
    bare_app: Any, method: str, path: str, allow: str
) -> None:
    """A known path with an unsupported method answers 405 and lists the allowed ones."""
    r = call(bare_app, method, path)
    assert (r.status, r.error_code) == (405, "method_not_allowed")
    assert r.headers["allow"] == allow


def test_get_of_a_missing_policy_is_404(app: Any) -> None:
    """GET of a policy that does not exist answers 404."""
    r = call(app, "GET", policy_path("group", "nobody"))
    assert (r.status, r.error_code) == (404, "not_found")


def test_item_over_dynamodbs_400kb_is_413_and_writes_nothing(make_app: Any, table: Any) -> None:
    """A document whose item would exceed 400 KB is refused with 413 before any write."""
    app = make_app(max_body_bytes=2_000_000)
    resources = [f"arn:aws:execute-api:*:*:*/*/GET/reports/{i:06d}/*" for i in range(9000)]
    before = table()
    r = call(app, "PUT", policy_path("group", "huge"), body={"document": doc(*resources)})
    assert (r.status, r.error_code) == (413, "item_too_large")
    assert table() == before


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_unreachable_store_is_503_with_a_generic_message(admin_settings: Any, flusher: Any) -> None:
    """When DynamoDB cannot be reached the API answers 503 without leaking the cause."""
    from authz.store.repository import DynamoRepository

    down = dataclasses.replace(
        admin_settings, dynamodb_endpoint=f"http://127.0.0.1:{_closed_port()}"
    )
    app = build_app(down, DynamoRepository(down), flusher=flusher)
    for method, kwargs in (("GET", {}), ("PUT", {"body": {"document": doc()}})):
        r = call(app, method, policy_path("group", "readers"), **kwargs)
        assert (r.status, r.error_code) == (503, "store_unavailable")
        assert "127.0.0.1" not in r.body["error"]["message"]
    assert flusher.calls == []
