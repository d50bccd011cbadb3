"""merge() and compact(): smaller or combined documents that decide exactly as the originals."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.errors import PolicyTooLargeError
from authz.policy import (
    VERSION,
    PolicyDocument,
    Statement,
    compact,
    evaluate,
    json_size,
    merge,
    method_arn,
)
from tests.strategies import (
    arn_requests,
    documents,
    glob_documents,
    glob_requests,
    method_arns,
)
from tests.unit.policy.reference import naive_effect

ANY = "arn:aws:execute-api:*:*:*"


def patterns_of(*docs: PolicyDocument) -> list[str]:
    return [r for d in docs for s in d.statements for r in s.resources]


def allow(*resources: str, sid: str | None = None) -> Statement:
    return Statement(sid=sid, effect="Allow", actions=("execute-api:Invoke",), resources=resources)


def deny(*resources: str, sid: str | None = None) -> Statement:
    return Statement(sid=sid, effect="Deny", actions=("execute-api:Invoke",), resources=resources)


@given(
    st.lists(glob_documents(max_statements=3), max_size=4),
    st.randoms(use_true_random=False),
    st.data(),
)
def test_merge_equals_the_list_and_ignores_order(
    docs: list[PolicyDocument], rnd: random.Random, data: st.DataObject
) -> None:
    """merge(docs) decides like evaluating the list, and any order gives an equal document."""
    merged = merge(docs)
    shuffled = list(docs)
    rnd.shuffle(shuffled)
    assert merge(shuffled) == merged
    assert merge([merged]) == merged
    for request in data.draw(glob_requests(patterns_of(*docs))):
        assert evaluate(merged, request).effect == naive_effect(docs, request), request


@given(glob_documents(), st.data())
def test_compact_decides_like_the_original_on_globs(
    doc: PolicyDocument, data: st.DataObject
) -> None:
    """compact(d) gives the same Allow/Deny/ImplicitDeny as d on every boundary request."""
    small = compact(doc)
    assert len(small.statements) <= 2
    assert set(patterns_of(small)) <= set(patterns_of(doc))
    for request in data.draw(glob_requests(patterns_of(doc))):
        assert evaluate(small, request).effect == naive_effect([doc], request), request


@given(
    st.lists(documents(max_statements=2), min_size=1, max_size=3),
    st.lists(method_arns(), max_size=3),
)
def test_compact_of_merge_decides_like_the_list(
    docs: list[PolicyDocument], extra: list[str]
) -> None:
    """The authorizer's pipeline (merge then compact) keeps every decision of the list."""
    small = compact(merge(docs))
    for request in arn_requests(patterns_of(*docs), extra):
        assert evaluate(small, request).effect == naive_effect(docs, request), request


@given(glob_documents())
def test_compact_is_idempotent_and_order_independent(doc: PolicyDocument) -> None:
    """Compacting twice changes nothing, and statement order does not change the result."""
    small = compact(doc)
    assert compact(small) == small
    assert compact(PolicyDocument(tuple(reversed(doc.statements)))) == small


def test_compact_groups_dedupes_and_drops_subsumed() -> None:
    """Duplicates and patterns covered by a broader one go; one statement per effect remains."""
    doc = PolicyDocument(
        (
            allow(f"{ANY}/*/GET/orders/*", f"{ANY}/*/GET/orders/1", sid="A"),
            allow(f"{ANY}/*/GET/orders/*", f"{ANY}/*/POST/orders", sid="B"),
            deny(f"{ANY}/*/DELETE/*", sid="C"),
            deny(f"{ANY}/*/DELETE/orders/*"),
            allow(f"{ANY}/*/DELETE/orders/9"),
        )
    )
    assert compact(doc).to_dict() == {
        "Version": VERSION,
        "Statement": [
            {"Effect": "Deny", "Action": ["execute-api:Invoke"], "Resource": [f"{ANY}/*/DELETE/*"]},
            {
                "Effect": "Allow",
                "Action": ["execute-api:Invoke"],
                "Resource": [f"{ANY}/*/GET/orders/*", f"{ANY}/*/POST/orders"],
            },
        ],
    }


def test_compact_keeps_a_deny_even_without_allows() -> None:
    """Compaction preserves an explicit Deny as Deny (not an implicit one)."""
    doc = PolicyDocument((deny(f"{ANY}/*/DELETE/*"),))
    arn = method_arn("us-east-1", "123456789012", "a", "prod", "DELETE", "/x")
    assert evaluate(compact(doc), arn).effect == "Deny"


def test_compact_keeps_equivalent_spellings_once() -> None:
    """Of two spellings of one language ('a**' and 'a*'), exactly one stays."""
    doc = PolicyDocument((allow(f"{ANY}/*/GET/a**", f"{ANY}/*/GET/a*"),))
    assert compact(doc).statements[0].resources == (f"{ANY}/*/GET/a*",)


def test_compact_never_uses_a_variable_pattern_to_cover_another() -> None:
    """A pattern holding a variable is kept unless a literal pattern covers all its values."""
    doc = PolicyDocument(
        (
            allow(f"{ANY}/*/GET/users/${{sub}}", f"{ANY}/*/GET/users/$?sub}}"),
            allow(f"{ANY}/*/GET/teams/*", f"{ANY}/*/GET/teams/${{sub}}"),
        )
    )
    assert compact(doc).statements[0].resources == (
        f"{ANY}/*/GET/teams/*",
        f"{ANY}/*/GET/users/$?sub}}",
        f"{ANY}/*/GET/users/${{sub}}",
    )


def test_max_bytes() -> None:
    """Over budget after compaction raises PolicyTooLargeError with both sizes; at budget passes."""
    doc = PolicyDocument(tuple(allow(f"{ANY}/*/GET/r{i}") for i in range(40)))
    size = json_size(compact(doc))
    assert size == len(json.dumps(compact(doc).to_dict(), separators=(",", ":")))
    assert compact(doc, max_bytes=size) == compact(doc)
    with pytest.raises(PolicyTooLargeError) as info:
        compact(doc, max_bytes=size - 1)
    assert (info.value.size, info.value.max_bytes) == (size, size - 1)


def test_merge_drops_colliding_sids_and_dedupes() -> None:
    """Identical statements merge once; a Sid used by different statements is dropped."""
    a = PolicyDocument((allow(f"{ANY}/*/GET/a", sid="Read"), deny(f"{ANY}/*/GET/x", sid="No")))
    b = PolicyDocument((allow(f"{ANY}/*/GET/b", sid="Read"), deny(f"{ANY}/*/GET/x", sid="No")))
    merged = merge([a, b])
    assert [(s.effect, s.sid, s.resources) for s in merged.statements] == [
        ("Deny", "No", (f"{ANY}/*/GET/x",)),
        ("Allow", None, (f"{ANY}/*/GET/a",)),
        ("Allow", None, (f"{ANY}/*/GET/b",)),
    ]
    assert PolicyDocument.from_dict(merged.to_dict()) == merged
    assert merge([]) == PolicyDocument(())
