"""substitute(): policy variables resolve from claims and can only ever take access away."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.policy import VERSION, PolicyDocument, evaluate, method_arn, substitute
from authz.policy.substitute import resolve
from authz.policy.variables import usable_value
from tests.strategies import (
    CLAIM_NAMES,
    arn_requests,
    claims,
    documents,
    method_arns,
    unusable_values,
)
from tests.unit.policy.reference import fail_closed, pairs_effect, plain_replace

ANY = "arn:aws:execute-api:*:*:*"
DOT_SEGMENTS = (".", "..")


usable_claims = claims(usable_only=True)


def arn(verb: str, path: str) -> str:
    return method_arn("us-east-1", "123456789012", "a1b2c3", "prod", verb, path)


def policy(*statements: tuple[str, list[str]]) -> PolicyDocument:
    return PolicyDocument.from_dict(
        {
            "Version": VERSION,
            "Statement": [
                {"Effect": e, "Action": "execute-api:Invoke", "Resource": r} for e, r in statements
            ],
        }
    )


def resources(doc: PolicyDocument) -> list[tuple[str, str]]:
    return [(s.effect, r) for s in doc.statements for r in s.resources]


@given(
    documents(variables=True, max_statements=2),
    usable_claims,
    st.lists(method_arns(), max_size=3),
)
def test_usable_values_equal_plain_text_replacement(
    doc: PolicyDocument, values: dict[str, Any], extra: list[str]
) -> None:
    """With every value usable, substitution is plain text replacement, decisions included."""
    out = substitute(doc, values)
    expected = plain_replace(doc, values)
    assert resources(out) == expected
    assert out.variables == frozenset()
    for request in arn_requests([r for _, r in expected], extra):
        assert evaluate(out, request).effect == pairs_effect(expected, request), request


@given(documents(variables=True, max_statements=2), claims(), st.lists(method_arns(), max_size=3))
def test_any_values_decide_like_the_fail_closed_reference(
    doc: PolicyDocument, values: dict[str, Any], extra: list[str]
) -> None:
    """For any claims, decisions equal the reference that drops Allow / widens Deny."""
    out = substitute(doc, values)
    reference = fail_closed(doc, values)
    assert resources(out) == reference
    patterns = {r for _, r in reference} | {r for _, r in plain_replace(doc, values)}
    for request in arn_requests(sorted(patterns), extra):
        assert evaluate(out, request).effect == pairs_effect(reference, request), request


@given(
    documents(variables=True, max_statements=2),
    usable_claims,
    unusable_values,
    st.sampled_from(CLAIM_NAMES),
    st.lists(method_arns(), max_size=3),
)
def test_a_bad_value_never_allows_more_nor_denies_less_than_a_good_one(
    doc: PolicyDocument, good: dict[str, Any], bad: object, name: str, extra: list[str]
) -> None:
    """Swapping a usable claim for an unusable one only removes Allows and adds Denies."""
    with_good = substitute(doc, good)
    with_bad = substitute(doc, {**good, name: bad})
    assert with_bad == substitute(doc, {k: v for k, v in good.items() if k != name})
    patterns = {r for d in (with_good, with_bad) for s in d.statements for r in s.resources}
    for request in arn_requests(sorted(patterns), extra):
        if evaluate(with_bad, request).allowed:
            assert evaluate(with_good, request).allowed, request
        if evaluate(with_good, request).effect == "Deny":
            assert evaluate(with_bad, request).effect == "Deny", request


def test_sub_username_client_id_and_claim_examples() -> None:
    """Each variable form reads its claim; ints are accepted as text."""
    d = policy(
        (
            "Allow",
            [
                f"{ANY}/*/GET/users/${{sub}}",
                f"{ANY}/*/GET/names/${{username}}",
                f"{ANY}/*/GET/apps/${{client_id}}",
                f"{ANY}/*/GET/tenants/${{claim:custom:tenant}}/${{claim:level}}",
            ],
        )
    )
    out = substitute(
        d,
        {
            "sub": "u-1",
            "username": "alice@example.com",
            "client_id": "app1",
            "custom:tenant": "t.9",
            "level": 3,
        },
    )
    assert out.statements[0].resources == (
        f"{ANY}/*/GET/users/u-1",
        f"{ANY}/*/GET/names/alice@example.com",
        f"{ANY}/*/GET/apps/app1",
        f"{ANY}/*/GET/tenants/t.9/3",
    )
    assert evaluate(out, arn("GET", "/users/u-1")).allowed
    assert not evaluate(out, arn("GET", "/users/u-2")).allowed


@pytest.mark.parametrize(
    "value",
    [None, "", "a/b", "a*", "a?", "a b", "a:b", "${sub}", True, 1.5, ["a"], {"a": 1}, "é"],
)
def test_unusable_value_removes_allow_resource_only(value: object) -> None:
    """A missing or unusable value removes just the Allow resources that use it."""
    d = policy(("Allow", [f"{ANY}/*/GET/users/${{sub}}/*", f"{ANY}/*/GET/public"]))
    values = {} if value is None else {"sub": value}
    out = substitute(d, values)
    assert out.statements[0].resources == (f"{ANY}/*/GET/public",)
    assert not evaluate(out, arn("GET", "/users/x/y")).allowed


def test_allow_statement_dropped_when_no_resource_left() -> None:
    """An Allow statement whose every resource needed a bad value disappears."""
    d = policy(("Allow", [f"{ANY}/*/GET/users/${{sub}}"]), ("Allow", [f"{ANY}/*/GET/health"]))
    out = substitute(d, {"sub": "bad/value"})
    assert [s.resources for s in out.statements] == [(f"{ANY}/*/GET/health",)]


def test_unusable_value_widens_deny() -> None:
    """A Deny with an unusable value denies with '*' in its place: more, never less."""
    d = policy(
        ("Allow", [f"{ANY}/*/GET/*"]),
        ("Deny", [f"{ANY}/*/GET/tenants/${{claim:tenant}}/admin"]),
    )
    out = substitute(d, {"tenant": "a*b"})
    assert out.statements[1].resources == (f"{ANY}/*/GET/tenants/*/admin",)
    assert evaluate(out, arn("GET", "/tenants/other/admin")).effect == "Deny"
    assert evaluate(out, arn("GET", "/tenants/other/read")).allowed


def test_value_cannot_inject_wildcards() -> None:
    """A claim holding '*' is unusable, so it cannot turn a per-user Allow into everyone's."""
    d = policy(("Allow", [f"{ANY}/*/GET/users/${{sub}}"]))
    assert substitute(d, {"sub": "*"}).statements == ()


def test_document_without_variables_is_returned_unchanged() -> None:
    """Substituting a document with no variables returns the same object (compiled cache kept)."""
    d = policy(("Allow", [f"{ANY}/*/GET/x"]))
    assert substitute(d, {"sub": "u"}) is d


def test_bool_is_not_an_int_value() -> None:
    """True is not substituted as '1' or 'True'."""
    d = policy(("Allow", [f"{ANY}/*/GET/flags/${{claim:admin}}"]))
    assert substitute(d, {"admin": True}).statements == ()


@pytest.mark.parametrize("value", DOT_SEGMENTS)
def test_dot_dot_username_cannot_climb_out_of_its_folder(value: str) -> None:
    """``files/${username}/*`` with a username of ``..`` must not become ``files/../*``."""
    d = policy(("Allow", [f"{ANY}/*/GET/files/${{username}}/*", f"{ANY}/*/GET/public"]))
    out = substitute(d, {"username": value})
    assert out.statements[0].resources == (f"{ANY}/*/GET/public",)
    assert not evaluate(out, arn("GET", f"/files/{value}/secret")).allowed


@pytest.mark.parametrize("value", DOT_SEGMENTS)
def test_dot_segment_value_widens_deny_to_every_folder(value: str) -> None:
    """A Deny on ``files/${username}/private`` with ``..`` denies every user's private folder."""
    d = policy(
        ("Allow", [f"{ANY}/*/GET/files/*"]),
        ("Deny", [f"{ANY}/*/GET/files/${{username}}/private"]),
    )
    out = substitute(d, {"username": value})
    assert out.statements[1].resources == (f"{ANY}/*/GET/files/*/private",)
    assert evaluate(out, arn("GET", "/files/bob/private")).effect == "Deny"
    assert evaluate(out, arn("GET", "/files/bob/notes")).allowed


@pytest.mark.parametrize("value", ["...", ".a", "a.", "a..b", "..a"])
def test_dotted_values_that_are_not_dot_segments_stay_usable(value: str) -> None:
    """Only the two climbing segments are refused; dotted identifiers still work."""
    assert usable_value(value) == value


@given(
    st.lists(
        st.one_of(
            st.sampled_from(["${username}", "${sub}", "${claim:a}", "/", ".", "x"]),
            st.text(alphabet="ab./", max_size=3),
        ),
        max_size=8,
    ),
    st.dictionaries(
        st.sampled_from(["username", "sub", "a"]),
        st.text(alphabet="a.", min_size=1, max_size=3),
    ),
    st.sampled_from(["Allow", "Deny"]),
)
def test_substitution_never_creates_a_dot_segment(
    parts: list[str], values: dict[str, str], effect: Any
) -> None:
    """Every ``/`` segment holding a variable resolves to something other than ``.``/``..``."""
    template = "".join(parts)
    resolved = resolve(template, effect, values)
    if resolved is None:
        return
    # Values contain no "/", so segment i of the result comes from segment i of the template.
    before, after = template.split("/"), resolved.split("/")
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        if "${" in old:
            assert new not in DOT_SEGMENTS, (template, values, resolved)
