"""The authorizer context's ``groups``/``scopes`` encoding and the admin check that reads
it: one unambiguous spelling (a JSON array in a string), read back exactly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.handlers.admin.errors import ApiError
from authz.handlers.admin.http import authorize_caller
from authz.handlers.events import encode_names

ADMIN = "authz-admins"
# Group names as Cognito allows them: commas, spaces, quotes, brackets, any Unicode.
NAMES = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]) | st.sampled_from(',"[]\\ '),
    min_size=1,
    max_size=12,
)


def _event(groups: Any) -> dict[str, Any]:
    return {"requestContext": {"authorizer": {"principalId": "p", "groups": groups}}}


def _status(groups: Any, admin: str = ADMIN) -> int:
    try:
        authorize_caller(_event(groups), admin)
    except ApiError as exc:
        return exc.status
    return 200


def _is_admin(groups: Any, admin: str = ADMIN) -> bool:
    status = _status(groups, admin)
    assert status in (200, 403)
    return status == 200


@given(names=st.lists(NAMES, max_size=5), admin=NAMES)
def test_the_admin_check_reads_the_encoding_exactly(names: list[str], admin: str) -> None:
    """Whatever the names hold, the caller is admin iff the admin group is one of them."""
    assert _is_admin(encode_names(tuple(names)), admin) == (admin in names)


@given(names=st.lists(NAMES, max_size=5))
def test_groups_and_scopes_round_trip_through_json(names: list[str]) -> None:
    """A backend's json.loads gives back exactly the list, in order; the text is ASCII
    and compact, as API Gateway passes it on."""
    text = encode_names(tuple(names))
    assert json.loads(text) == names
    assert text.isascii()
    assert ", " not in text or any(", " in n for n in names)


def test_support_and_a_comma_named_group_are_not_the_admin_group() -> None:
    """`support` + `ops,authz-admins`: the case the comma-joined format got wrong."""
    groups = encode_names(("support", f"ops,{ADMIN}"))
    assert groups == f'["support","ops,{ADMIN}"]'
    assert not _is_admin(groups)


def test_a_comma_splitting_reader_never_sees_an_exact_group_name() -> None:
    """Backends still on the old format fail closed: no piece equals a group name."""
    groups = ("support", f"ops,{ADMIN}", ADMIN, "readers")
    pieces = {p.strip() for p in encode_names(groups).split(",")}
    assert not pieces & set(groups)
    assert not pieces & {"ops", ADMIN}


@pytest.mark.parametrize(
    "groups",
    [
        f"support,{ADMIN}",
        ADMIN,
        f'"{ADMIN}"',
        f'[["{ADMIN}"]]',
        f'["{ADMIN}",null]',
        f'{{"{ADMIN}":1}}',
        f'["{ADMIN}"',
        "[" * 5000 + "]" * 5000,
        7,
        None,
        [ADMIN, 1],
    ],
    ids=[
        "comma-joined",
        "bare",
        "json-string",
        "nested",
        "with-null",
        "object",
        "truncated",
        "deep",
        "number",
        "none",
        "list-not-all-strings",
    ],
)
def test_anything_but_a_json_array_of_strings_is_no_groups(groups: Any) -> None:
    """No fallback to comma splitting, no partial reading: 403."""
    assert _status(groups) == 403


def test_scopes_use_the_same_encoding() -> None:
    """Scopes (with Cognito's resource-server slashes) are a JSON array too."""
    assert json.loads(encode_names(("orders/read", "openid"))) == ["orders/read", "openid"]
    assert encode_names(()) == "[]"
