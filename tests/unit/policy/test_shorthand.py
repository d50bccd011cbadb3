"""The ``execute-api:/{stage}/{VERB}/{path}`` shorthand: expansion per API and stage,
checked against a segment-wise oracle that shares no code with the engine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.policy import (
    VERSION,
    PolicyDocument,
    Selector,
    api_stage,
    api_stage_key,
    compact,
    evaluate,
    expand,
    is_shorthand,
    merge,
)
from authz.policy.arn import VERBS
from authz.policy.shorthand import ApiStage, expand_resource
from authz.service import effective_policy
from tests.strategies import (
    api_stage_prefixes,
    method_arns,
    mixed_documents,
    shorthand_patterns,
    shorthand_requests,
)
from tests.unit.policy.reference import segment_effect, segment_match

HEAD = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3"
DEV = ApiStage(HEAD, "dev")


def doc(*statements: tuple[str, str]) -> PolicyDocument:
    return PolicyDocument.from_dict(
        {
            "Version": VERSION,
            "Statement": [
                {"Effect": e, "Action": "execute-api:Invoke", "Resource": r} for e, r in statements
            ],
        }
    )


def requests_for(document: PolicyDocument, prefixes: list[str]) -> list[str]:
    patterns = [r for s in document.statements for r in s.resources]
    return shorthand_requests(patterns, prefixes)


# -- expansion, case by case ----------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("execute-api:/*", (f"{HEAD}/dev/*",)),
        ("execute-api:/*/*", (f"{HEAD}/dev/*",)),
        ("execute-api:/d?v/*", (f"{HEAD}/dev/*",)),
        ("execute-api:/prod/*", ()),
        ("execute-api:/dev/GET/orders/*", (f"{HEAD}/dev/GET/orders/*",)),
        ("execute-api:/*/P*/x", tuple(f"{HEAD}/dev/{v}/x" for v in ("POST", "PUT", "PATCH"))),
        ("execute-api:/*/*/", tuple(f"{HEAD}/dev/{v}/" for v in VERBS)),
        ("execute-api:/*/GET/users/${sub}", (f"{HEAD}/dev/GET/users/${{sub}}",)),
        ("execute-api:/prod/GET/orders", ()),
        ("execute-api:/dev*/GET/a", (f"{HEAD}/dev/GET/a",)),
    ],
)
def test_expand_resource(resource: str, expected: tuple[str, ...]) -> None:
    """Stage becomes the calling stage (or the resource goes), verbs are enumerated, the
    path is kept as written (variables included, substituted later or earlier alike)."""
    assert expand_resource(resource, DEV) == expected


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (f"{HEAD}/dev/GET/x", DEV),
        (f"{HEAD}/dev", DEV),
        (f"{HEAD}/$default/GET/", ApiStage(HEAD, "$default")),
        (
            "arn:aws:execute-api:us-east-1:123456789012:wsapi12345/production/$connect",
            ApiStage("arn:aws:execute-api:us-east-1:123456789012:wsapi12345", "production"),
        ),
        (f"{HEAD}/*/GET/x", None),
        (f"{HEAD}/d?v/GET/x", None),
        ("arn:aws:execute-api:eu-west-1:123456789012:a1*/dev/GET/x", None),
        ("arn:aws:execute-api:*:123456789012:a1b2c3/dev/GET/x", None),
        ("arn:aws:execute-api:eu-west-1:1234:a1b2c3/dev/GET/x", None),
        ("arn:aws-eu:execute-api:eu-west-1:123456789012:a1b2c3/dev/GET/x", None),
        ("arn:aws:s3:eu-west-1:123456789012:a1b2c3/dev/GET/x", None),
        ("not an arn", None),
        ("", None),
    ],
)
def test_api_stage_takes_only_concrete_values(arn: str, expected: ApiStage | None) -> None:
    """Nothing with a wildcard, or that is no execute-api ARN, is ever copied into a pattern."""
    assert api_stage(arn) == expected


def test_api_stage_key_is_the_head_and_stage() -> None:
    """The cache key is exactly what the expansion reads: head and stage, not the route."""
    assert api_stage_key(f"{HEAD}/dev/GET/orders/1") == f"{HEAD}/dev"
    assert api_stage_key(f"{HEAD}/dev/POST/") == f"{HEAD}/dev"
    assert api_stage_key("no-slash") == "no-slash"
    assert api_stage_key(f"{HEAD}/dev") == f"{HEAD}/dev"


def test_is_shorthand() -> None:
    """Only the ``execute-api:/`` prefix marks the shorthand (lint and compaction rely on it)."""
    assert is_shorthand("execute-api:/*")
    assert not is_shorthand("arn:aws:execute-api:*:*:*/*/GET/x")
    assert not is_shorthand("*")


@pytest.mark.parametrize(
    ("resource", "request_"),
    [
        ("execute-api:/*/GET/orders/*", "DELETE/GET/orders/1"),
        ("execute-api:/*/GET/orders/*", "POST/admin/GET/orders/x"),
        ("execute-api:/*/PUT/users/me/profile", "PUT/users/victim/PUT/users/me/profile"),
        ("execute-api:/*/G*/health", "GET/x/GET/health"),
        ("execute-api:/*/*/health", "POST/a/GET/health"),
    ],
)
def test_wildcard_stage_or_verb_never_crosses_into_the_next_segment(
    resource: str, request_: str
) -> None:
    """The cross-segment attacks the full-ARN idiom lets through are refused, by the stored
    document and by the expanded one."""
    stored = doc(("Allow", resource))
    arn = f"{HEAD}/dev/{request_}"
    assert not evaluate(stored, arn).allowed
    assert not evaluate(expand(stored, DEV), arn).allowed
    full = resource.replace("execute-api:/", "arn:aws:execute-api:*:*:*/")
    assert evaluate(doc(("Allow", full)), arn).allowed  # what the shorthand fixes


def test_deny_shorthand_on_request_without_api_and_stage_fails_closed() -> None:
    """A request ARN that names no concrete API and stage gets no shorthand Allow and
    every shorthand Deny, as an unusable policy variable would."""
    stored = doc(("Allow", "*"), ("Deny", "execute-api:/prod/DELETE/x"))
    assert evaluate(stored, f"{HEAD}/*/GET/x").effect == "Deny"
    assert evaluate(stored, f"{HEAD}/dev/GET/x").effect == "Allow"
    allow_only = doc(("Allow", "execute-api:/*"))
    assert evaluate(allow_only, f"{HEAD}/*/GET/x").effect == "ImplicitDeny"


def test_expand_drops_statements_of_other_stages_and_keeps_full_arns() -> None:
    stored = doc(
        ("Deny", "execute-api:/prod/DELETE/*"),
        ("Allow", "arn:aws:execute-api:*:*:*/*/GET/legacy"),
        ("Allow", "execute-api:/prod/GET/x"),
    )
    expanded = expand(stored, DEV)
    assert expanded.to_dict()["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["execute-api:Invoke"],
            "Resource": ["arn:aws:execute-api:*:*:*/*/GET/legacy"],
        }
    ]
    plain = doc(("Allow", "arn:aws:execute-api:*:*:*/*/GET/x"))
    assert expand(plain, DEV) is plain


def test_compact_never_lets_shorthand_text_cover_another_pattern() -> None:
    """Textually ``execute-api:/*/*/orders`` covers ``execute-api:/prod/GET/x/orders``, but
    not semantically: compaction of unexpanded documents keeps both."""
    stored = doc(("Allow", "execute-api:/*/*/orders"), ("Allow", "execute-api:/prod/GET/x/orders"))
    arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/GET/x/orders"
    assert evaluate(stored, arn).allowed
    assert evaluate(compact(stored), arn).allowed


# -- properties ---------------------------------------------------------------------


@given(mixed_documents(), st.lists(api_stage_prefixes, min_size=1, max_size=2), st.data())
def test_expanded_policy_decides_like_the_segment_wise_oracle(
    document: PolicyDocument, prefixes: list[str], data: st.DataObject
) -> None:
    """For requests aimed at every pattern boundary (cross-segment fillers included),
    the stored document, its expansion and the expanded, compacted policy all decide as
    the oracle reading stage and verb as one segment each."""
    extra = data.draw(st.lists(method_arns(), max_size=3))
    per_api: dict[ApiStage, tuple[PolicyDocument, PolicyDocument]] = {}
    for arn in [*requests_for(document, prefixes), *extra]:
        want = segment_effect([document], arn)
        assert evaluate(document, arn).effect == want, arn
        api = api_stage(arn)
        if api is not None:
            if api not in per_api:
                expanded = expand(document, api)
                per_api[api] = (expanded, compact(merge([expanded])))
            for policy in per_api[api]:
                assert evaluate(policy, arn).effect == want, arn


@given(mixed_documents(), mixed_documents(), api_stage_prefixes)
def test_one_returned_policy_decides_every_route_of_its_api_and_stage(
    first: PolicyDocument, second: PolicyDocument, prefix: str
) -> None:
    """The whole-policy contract: the policy built for one request of an API and stage
    gives every other route of that API and stage the decision a fresh request gets."""
    docs = {Selector.parse("default"): first, Selector.parse("group:g"): second}
    api = api_stage(prefix)
    assert api is not None
    returned = effective_policy(docs, {}, api=api)
    for arn in requests_for(merge([first, second]), [prefix]):
        if api_stage_key(arn) != prefix:
            continue
        assert evaluate(returned, arn).effect == segment_effect([first, second], arn), arn


@given(shorthand_patterns(), api_stage_prefixes)
def test_expansion_leaves_no_wildcard_in_stage_or_verb(resource: str, prefix: str) -> None:
    """Each expanded resource is ``{prefix}/*`` or ``{prefix}/{VERB}/{path}``: nothing for
    IAM's ``*`` to stretch across ``/`` before the path."""
    api = api_stage(prefix)
    assert api is not None
    for pattern in expand_resource(resource, api):
        rest = pattern.removeprefix(prefix + "/")
        assert rest != pattern
        assert rest == "*" or rest.split("/", 1)[0] in VERBS


@given(shorthand_patterns(), method_arns())
def test_oracle_agrees_with_the_stored_document_on_random_requests(resource: str, arn: str) -> None:
    """Single resources against random requests: Allow exactly when the oracle matches."""
    expected = segment_match(resource, arn)
    assert expected is not None
    assert evaluate(doc(("Allow", resource)), arn).allowed is expected
