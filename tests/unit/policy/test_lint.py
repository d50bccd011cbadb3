"""Cross-segment warnings: every warned request is real, and literal heads are never warned."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.policy import VERSION, PolicyDocument, Statement, evaluate, parse_method_arn
from authz.policy.lint import resource_warnings, segment_reading_allows

ARN = "arn:aws:execute-api:*:*:"


def doc(*resources: str, effect: str = "Allow") -> PolicyDocument:
    statement: dict[str, Any] = {
        "Effect": effect,
        "Action": "execute-api:Invoke",
        "Resource": list(resources),
    }
    return PolicyDocument.from_dict({"Version": VERSION, "Statement": [statement]})


def test_wildcard_api_id_crosses_into_verb_position() -> None:
    (w,) = resource_warnings(doc(ARN + "*/*/GET/orders/*"))
    assert w.path == "Statement[0].Resource[0]"
    assert w.request == "DELETE /GET/orders/1"
    assert "API id" in w.message
    assert w.request in w.message
    assert w.to_dict() == {"path": w.path, "message": w.message, "request": w.request}


def test_wildcard_stage_crosses_into_verb_position() -> None:
    (w,) = resource_warnings(doc(ARN + "abc/*/GET/orders/*"))
    arn = parse_method_arn(w.method_arn)
    assert (arn.api_id, arn.method) == ("abc", "DELETE")
    assert arn.path == "/GET/orders/1"
    assert "stage" in w.message


def test_wildcard_verb_pushes_a_prefix_into_the_path() -> None:
    (w,) = resource_warnings(doc(ARN + "abc/prod/*/orders"))
    arn = parse_method_arn(w.method_arn)
    assert arn.path != "/orders"
    assert arn.path.endswith("/orders")
    assert "HTTP method" in w.message


def test_wildcard_api_id_with_literal_stage_reaches_another_stage() -> None:
    (w,) = resource_warnings(doc(ARN + "*/prod/GET/*"))
    arn = parse_method_arn(w.method_arn)
    assert not (arn.stage == "prod" and arn.method == "GET")


def test_policy_variable_in_path_is_sampled_not_matched_literally() -> None:
    (w,) = resource_warnings(doc(ARN + "*/*/GET/users/${sub}"))
    assert "${" not in w.method_arn
    assert w.request.startswith("DELETE /GET/users/")


@pytest.mark.parametrize(
    "resource",
    [
        "*",
        ARN + "*",
        ARN + "*/*",
        ARN + "abc/prod/*",
        ARN + "abc/prod/GET/*",
        ARN + "abc/prod/GET/orders/*/items/*",
        ARN + "*/*/*/*",
        "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/users/${sub}",
    ],
)
def test_trailing_or_path_wildcards_and_literal_heads_get_no_warning(resource: str) -> None:
    assert resource_warnings(doc(resource)) == []


def test_deny_with_crossing_wildcard_gets_no_warning() -> None:
    assert resource_warnings(doc(ARN + "*/*/DELETE/*", effect="Deny")) == []


def test_shorthand_resource_gets_no_warning() -> None:
    # Built directly: the shorthand is expanded per segment by the authorizer,
    # so whatever the validator of the day says, lint must leave it alone.
    shorthand = Statement(
        effect="Allow", actions=("execute-api:Invoke",), resources=("execute-api:/*/GET/*",)
    )
    assert resource_warnings(PolicyDocument((shorthand,))) == []


def test_warning_path_names_the_right_statement_and_resource() -> None:
    document = PolicyDocument.from_dict(
        {
            "Version": VERSION,
            "Statement": [
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN + "a/b/*"},
                {
                    "Effect": "Allow",
                    "Action": "execute-api:Invoke",
                    "Resource": [ARN + "a/b/GET/x", ARN + "*/*/GET/x"],
                },
            ],
        }
    )
    assert [w.path for w in resource_warnings(document)] == ["Statement[1].Resource[1]"]


def test_hostile_pattern_with_many_stars_stays_bounded() -> None:
    resource = ARN + "a" + "*a" * 60 + "/prod/GET/x"
    for w in resource_warnings(doc(resource)):
        assert evaluate(doc(resource), w.method_arn).allowed


_API = st.sampled_from(["abc", "*", "a*", "*c", "a*c", "ab?"])
_STAGE = st.sampled_from(["prod", "*", "p*", "*d", "$default"])
_VERB = st.sampled_from(["GET", "*", "G*", "*T", "DELETE"])
_PATH = st.sampled_from(["orders/*", "*", "orders/1", "users/${sub}", "", "GET/x"])
_SHORT = st.sampled_from(["*", "abc/*", "abc/p*", "*/p*", "a*c/prod*", "abc/*/GET*"])


@st.composite
def resources(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return ARN + draw(_SHORT)
    return ARN + "/".join([draw(_API), draw(_STAGE), draw(_VERB), draw(_PATH)])


def _parts(resource: str) -> list[str]:
    return resource.split(":", 5)[5].replace("${sub}", "sample").split("/", 3)


@given(resources())
def test_every_warned_request_is_allowed_and_outside_the_segment_reading(resource: str) -> None:
    document = doc(resource)
    for w in resource_warnings(document):
        arn = parse_method_arn(w.method_arn)
        assert w.request == arn.request
        sampled = doc(resource.replace("${sub}", "sample"))
        assert evaluate(sampled, w.method_arn).allowed
        assert not segment_reading_allows(_parts(resource), arn)


@given(
    st.sampled_from(["abc", "a1b2"]),
    st.sampled_from(["prod", "dev", "$default"]),
    st.sampled_from(["GET", "POST", "DELETE"]),
    _PATH,
)
def test_pattern_with_literal_api_stage_and_verb_gets_no_warning(
    api: str, stage: str, verb: str, path: str
) -> None:
    assert resource_warnings(doc(ARN + f"{api}/{stage}/{verb}/{path}")) == []


def test_segment_reading_is_what_the_text_says() -> None:
    arn = parse_method_arn("arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/orders/1")
    assert segment_reading_allows(["*", "*", "GET", "orders/*"], arn)
    assert not segment_reading_allows(["*", "*", "POST", "orders/*"], arn)
    assert segment_reading_allows(["abc", "pr*"], arn)
    assert not segment_reading_allows(["abc", "dev*"], arn)
