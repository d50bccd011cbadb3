"""Hostile JSON at the admin API: nesting that would exhaust the stack, in bodies and in
pagination cursors, and the comma-in-a-group-name confusion of the caller's context.

Every such request is a 400 (or 403 for the context) with the API's error shape,
never a 500 or an exception out of the handler, and it writes nothing.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from authz.handlers.events import encode_names
from authz.json_depth import MAX_JSON_DEPTH
from tests.functional.admin.helpers import (
    ADMIN_GROUP,
    Reply,
    call,
    doc,
    event,
    policy_path,
    reply,
)

DEEP = 2000


def _error_shape(r: Reply) -> None:
    error = r.body["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert isinstance(error.get("details", []), list)


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode("ascii")


HOSTILE_BODIES = {
    "deep arrays": "[" * DEEP + "]" * DEEP,
    "deep arrays around a lone surrogate": "[" * DEEP + '"\\ud800"' + "]" * DEEP,
    "deep objects": '{"a":' * DEEP + "1" + "}" * DEEP,
    "deep document": '{"document":' + '{"Statement":[' * (DEEP // 2) + "]}" * (DEEP // 2) + "}",
    "deep and unbalanced": "[" * DEEP,
    "one level over the limit": "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
    "deep token claims": json.dumps({"document": doc(), "token": {"claims": {"t": "X"}}}).replace(
        '"X"', "[" * DEEP + "]" * DEEP
    ),
}


@pytest.mark.parametrize("body", list(HOSTILE_BODIES.values()), ids=list(HOSTILE_BODIES))
@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", policy_path("group", "readers")), ("POST", "/simulate")],
    ids=["put", "simulate"],
)
def test_deeply_nested_body_is_400_and_writes_nothing(
    app: Any, table: Callable[[], list[dict[str, Any]]], method: str, path: str, body: str
) -> None:
    """A body nested past the limit is refused before any parse: 400, nothing stored."""
    before = table()
    r = call(app, method, path, raw_body=body)
    assert r.status == 400
    _error_shape(r)
    assert r.error_code == "invalid_body"
    assert f"deeper than {MAX_JSON_DEPTH}" in r.body["error"]["message"]
    assert table() == before


def test_deep_body_sent_base64_encoded_is_400(
    app: Any, table: Callable[[], list[dict[str, Any]]]
) -> None:
    """A binary-flagged body is measured after decoding, like a text one."""
    raw = base64.b64encode(("[" * DEEP + "]" * DEEP).encode()).decode()
    ev = event("PUT", policy_path("group", "readers"), raw_body=raw)
    ev["isBase64Encoded"] = True
    before = table()
    r = reply(app(ev, None))
    assert (r.status, r.error_code) == (400, "invalid_body")
    assert table() == before


def test_brackets_inside_strings_do_not_count_as_nesting(app: Any) -> None:
    """A description full of brackets is text, not depth: the PUT succeeds."""
    body = {"document": doc(), "description": "[{" * 500 + '\\"]' * 3}
    r = call(app, "PUT", policy_path("group", "readers"), body=body)
    assert r.status == 201


def test_nesting_at_the_limit_is_not_refused_for_depth(app: Any) -> None:
    """Exactly MAX_JSON_DEPTH levels pass the depth check (and fail validation as a 400)."""
    body = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    r = call(app, "PUT", policy_path("group", "readers"), raw_body=body)
    assert r.status == 400
    assert "deeper than" not in r.body["error"]["message"]


DEEP_CURSORS = {
    "deep arrays": "[" * 1500 + "]" * 1500,
    "deep objects": '{"":' * 600 + "1" + "}" * 600,
    "nested one level": '{"after":{"x":"group:readers"}}',
    "deep after a valid prefix": '{"after":"group:readers","x":' + "[" * 1400 + "]" * 1400 + "}",
}


@pytest.mark.parametrize("text", list(DEEP_CURSORS.values()), ids=list(DEEP_CURSORS))
@pytest.mark.parametrize(
    "path", ["/policies", policy_path("group", "readers", "/history")], ids=["list", "history"]
)
def test_deeply_nested_cursor_is_400(app: Any, path: str, text: str) -> None:
    """A `next` cursor nesting JSON is not one this API issued: 400, never a 500."""
    assert call(app, "PUT", policy_path("group", "readers"), body={"document": doc()}).status == 201
    cursor = _cursor(text)
    assert len(cursor) <= 4096  # within the query limit, so the cursor decoder sees it
    r = call(app, "GET", path, query={"next": cursor})
    assert r.status == 400
    _error_shape(r)
    assert r.error_code == "invalid_cursor"


# -- the caller's groups --------------------------------------------------------------


def test_member_of_support_and_a_comma_named_group_is_not_admin(
    app: Any, table: Callable[[], list[dict[str, Any]]]
) -> None:
    """Groups `support` and `ops,authz-admins` do not add up to the admin group: 403."""
    groups = encode_names(("support", f"ops,{ADMIN_GROUP}"))
    before = table()
    for method in ("GET", "PUT"):
        r = call(
            app,
            method,
            policy_path("group", "readers"),
            body={"document": doc("*")} if method == "PUT" else None,
            groups=groups,
        )
        assert (r.status, r.error_code) == (403, "forbidden")
    assert table() == before


@pytest.mark.parametrize(
    "groups",
    [
        f"support,{ADMIN_GROUP}",  # the old comma-joined format
        f'["support","ops,{ADMIN_GROUP}"',  # truncated JSON
        f'"{ADMIN_GROUP}"',  # a JSON string, not an array
        f'[["{ADMIN_GROUP}"]]',  # nested
        f'["{ADMIN_GROUP}",1]',  # not all strings
        f'{{"{ADMIN_GROUP}":true}}',  # an object
        "[" * DEEP + "]" * DEEP,  # would exhaust the stack
    ],
    ids=["comma-joined", "truncated", "string", "nested", "mixed", "object", "deep"],
)
def test_groups_not_in_the_json_array_encoding_are_no_groups(app: Any, groups: str) -> None:
    """Anything but a JSON array of strings means no groups: 403, never a guess."""
    r = call(app, "GET", "/policies", groups=groups)
    assert (r.status, r.error_code) == (403, "forbidden")


@pytest.mark.parametrize(
    "name",
    ["ops,authz", 'quo"te', "back\\slash", "ünïcødé ✓", "  spaced  ", "[x]"],
    ids=["comma", "quote", "backslash", "unicode", "spaces", "brackets"],
)
def test_an_odd_admin_group_name_round_trips_through_the_context(
    make_app: Any, admin_settings: Any, name: str
) -> None:
    """The authorizer's encoding of a name with commas, quotes or Unicode is read back
    exactly by the admin check: that name is admin, its neighbours are not."""
    app = make_app(settings=dataclasses.replace(admin_settings, admin_group=name))
    assert call(app, "GET", "/policies", groups=encode_names(("support", name))).status == 200
    assert call(app, "GET", "/policies", groups=encode_names((name.strip() + "x",))).status == 403
