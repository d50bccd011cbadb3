"""execute-api Resource patterns and methodArns: what is accepted, what is refused and why."""

from __future__ import annotations

import pytest
from hypothesis import given

from authz.errors import PolicyValidationError
from authz.policy import VERSION, MethodArn, PolicyDocument, method_arn, parse_method_arn
from authz.policy.arn import check_resource
from tests.strategies import method_arns, resource_patterns


def resource_problem(resource: str) -> tuple[str, str]:
    with pytest.raises(PolicyValidationError) as info:
        PolicyDocument.from_dict(
            {
                "Version": VERSION,
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": ["*", resource]}],
            }
        )
    [error] = info.value.errors
    return error["path"], error["message"]


@pytest.mark.parametrize(
    "resource",
    [
        "*",
        "arn:aws:execute-api:*:*:*",
        "arn:aws:execute-api:*",
        "arn:aws:execute-api:us-east-1:123456789012:abc123/*",
        "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*",
        "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/G*",
        "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/",
        "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/orders/*/items",
        "arn:aws:execute-api:us-*:12345678901?:abc*/pr?d/P*/orders",
        "arn:aws:execute-api:*:*:*/*/GET/a.b[c](d)+e^f$g|h",
        "arn:aws:execute-api:*:*:*/$default/GET/x",
        "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/prod/GET/x",
        "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abc/prod/GET/x",
        "arn:aws:execute-api:*:*:*/*/GET/v1/items:batchGet",
        "arn:aws:execute-api:*:*:*/*/GET/users/${sub}/orders/${claim:custom:tenant}",
        "arn:aws:execute-api:*:*:*/*/OPTIONS/*",
        "execute-api:/*",
        "execute-api:/prod/*",
        "execute-api:/*/GET/orders/*",
        "execute-api:/$default/P*/orders",
        "execute-api:/pr?d/GET/",
        "execute-api:/*/*/users/${sub}/orders/${claim:tenant}",
        "execute-api:/*/GET/a.b[c](d)+e^f$g|h",
    ],
)
def test_valid_resources(resource: str) -> None:
    """Wildcards inside any part, truncation after a '*', partitions and '*' alone are accepted."""
    assert check_resource(resource) == []


@pytest.mark.parametrize(
    ("resource", "fragment"),
    [
        ("", "empty Resource"),
        ("arn:aws:s3:::bucket/*", "service 's3' must be execute-api"),
        (
            "arn:aws-eu:execute-api:*:*:*",
            "partition 'aws-eu' must be one of aws, aws-cn, aws-us-gov",
        ),
        ("arn:*:execute-api:*:*:*", "partition '*'"),
        ("orders/*", "must be * or an execute-api ARN"),
        ("arn:aws:execute-api:US-EAST-1:*:*", "region 'US-EAST-1'"),
        ("arn:aws:execute-api:useast:*:*", "region 'useast'"),
        ("arn:aws:execute-api::*:*", "region is empty"),
        ("arn:aws:execute-api:*:1234:*", "account '1234' must be a 12-digit"),
        ("arn:aws:execute-api:*:12345678901x*:*", "account '12345678901x*' may hold only digits"),
        ("arn:aws:execute-api:*:*:my_api/*", "API id 'my_api'"),
        ("arn:aws:execute-api:*:*:*/pro d/*", "stage 'pro d'"),
        ("arn:aws:execute-api:*:*:*/*/get/x", "must be upper-case: GET"),
        ("arn:aws:execute-api:*:*:*/*/ANY/x", "use * for every method"),
        ("arn:aws:execute-api:*:*:*/*/FETCH/x", "HTTP method 'FETCH' must be one of"),
        ("arn:aws:execute-api:*:*:*/*/X*/x", "HTTP method 'X*' must be one of"),
        ("arn:aws:execute-api:*:*:*/*/GET", "missing path after the HTTP method"),
        ("arn:aws:execute-api:*:*:abc", "ends after the API id"),
        ("arn:aws:execute-api:*:*:*/prod", "ends after the stage"),
        ("arn:aws:execute-api:us-east-1", "ends after the region"),
        ("arn:aws:execute-api:*:*:*/*/GET/a b", "spaces or control characters"),
        ("arn:aws:execute-api:*:*:*/${sub}/GET/x", "only in the path"),
        ("arn:aws:execute-api:*:*:*/*/GET/" + "x" * 500, "the limit is 512"),
        ("execute-api:/", "the stage is missing"),
        ("execute-api:/prod", "ends after the stage"),
        ("execute-api:/pr*", "end it with /* for every verb and path"),
        ("execute-api:/prod/GET", "missing path after the HTTP method"),
        ("execute-api:/pro d/GET/x", "stage 'pro d'"),
        ("execute-api:/*/get/x", "must be upper-case: GET"),
        ("execute-api:/*/ANY/x", "use * for every method"),
        ("execute-api:/*/X*/x", "HTTP method 'X*' must be one of"),
        ("execute-api:/${sub}/GET/x", "only in the path"),
        ("execute-api:/*/${sub}/x", "only in the path"),
        ("execute-api:/*/GET/a b", "spaces or control characters"),
        ("execute-api:/*/GET/${usrname}", "unknown policy variable"),
        ("execute-api:/*/GET/" + "x" * 500, "the limit is 512"),
    ],
)
def test_invalid_resources(resource: str, fragment: str) -> None:
    """Each malformed part is reported at the Resource's list index with a precise message."""
    path, message = resource_problem(resource)
    assert path == "Statement[0].Resource[1]"
    assert fragment in message


TEMPLATE_HINT = "route templates such as {id} or {proxy+} never match"


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:execute-api:*:*:*/*/GET/orders/{id}",
        "arn:aws:execute-api:*:*:*/*/GET/admin/{proxy+}",
        "arn:aws:execute-api:us-east-1:123456789012:abc/prod/DELETE/users/{userId}/x",
        "execute-api:/*/GET/admin/{proxy+}",
        "execute-api:/prod/PUT/orders/{id}",
        "execute-api:/*/GET/users/${sub}/{proxy+}",
        "execute-api:/*/GET/orders/id}",
    ],
)
def test_route_template_in_path_is_refused_with_hint_to_write_star(resource: str) -> None:
    """A methodArn carries the concrete path, so ``{id}``/``{proxy+}`` never match anything:
    an Allow written that way grants nothing and a Deny protects nothing. Refused, with a
    hint to write ``*``, in full ARNs and in the shorthand alike."""
    path, message = resource_problem(resource)
    assert path == "Statement[0].Resource[1]"
    assert TEMPLATE_HINT in message
    assert "write *" in message


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:execute-api:*:*:*/*/GET/users/${sub}",
        "execute-api:/*/GET/users/${username}/files/${claim:tenant}",
        "execute-api:/*/GET/price$x/${client_id}",
    ],
)
def test_policy_variables_are_not_route_templates(resource: str) -> None:
    """``${sub}``-style variables use braces too but are substituted, so they stay valid."""
    assert check_resource(resource) == []


def test_unknown_variable_is_reported_once_not_as_template_too() -> None:
    """A mistyped variable gets the variable message, not a second, confusing template one."""
    problems = check_resource("execute-api:/*/GET/users/${usrname}")
    assert len(problems) == 1
    assert "unknown policy variable" in problems[0]


def test_resource_limit_is_512_characters() -> None:
    """A pattern of exactly 512 characters is accepted, 513 is not."""
    head = "arn:aws:execute-api:*:*:*/*/GET/"
    assert check_resource(head + "x" * (512 - len(head))) == []
    assert check_resource(head + "x" * (513 - len(head)))


@given(resource_patterns(variables=True))
def test_generated_patterns_are_valid(resource: str) -> None:
    """Every pattern the shared strategy generates passes validation (keeps strategies honest)."""
    assert check_resource(resource) == []


def test_method_arn_builds_what_api_gateway_sends() -> None:
    """method_arn joins the parts and accepts the path with or without its leading '/'."""
    expected = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/orders/1"
    assert method_arn("us-east-1", "123456789012", "a1b2c3", "prod", "GET", "/orders/1") == expected
    assert method_arn("us-east-1", "123456789012", "a1b2c3", "prod", "GET", "orders/1") == expected


def test_method_arn_root_path() -> None:
    """The root resource ends the ARN with the verb and a '/'."""
    assert method_arn("eu-west-1", "123456789012", "a", "$default", "GET", "/").endswith(
        "a/$default/GET/"
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("us-east-1", "123", "a", "prod", "GET", "/"), "12-digit"),
        (("us-east-1", "123456789012", "a", "prod", "get", "/"), "HTTP method 'get'"),
        (("us-east-1", "123456789012", "a*", "prod", "GET", "/"), "wildcards"),
        (("nowhere", "123456789012", "a", "prod", "GET", "/"), "region 'nowhere'"),
        (("us-east-1", "123456789012", "a", "prod", "GET", "/a b"), "spaces"),
    ],
)
def test_method_arn_rejects_bad_parts(args: tuple[str, ...], fragment: str) -> None:
    """method_arn refuses parts API Gateway could never send."""
    with pytest.raises(ValueError, match="invalid method ARN") as info:
        method_arn(*args)
    assert fragment in str(info.value)


def test_parse_method_arn() -> None:
    """parse_method_arn splits every part and keeps the path's leading '/'."""
    parsed = parse_method_arn(
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/POST/v1/items:batch"
    )
    assert parsed == MethodArn(
        "aws", "us-east-1", "123456789012", "a1b2c3", "prod", "POST", "/v1/items:batch"
    )
    assert parsed.request == "POST /v1/items:batch"


@given(method_arns())
def test_parse_method_arn_round_trips(arn: str) -> None:
    """str(parse_method_arn(a)) == a for every well-formed methodArn."""
    assert str(parse_method_arn(arn)) == arn


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET",
        "arn:aws:s3:us-east-1:123456789012:a1b2c3/prod/GET/x",
        "arn:aws:execute-api:us-east-1:123456789012",
        "arn:aws:execute-api:*:123456789012:a1b2c3/prod/GET/x",
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/ANY/x",
        "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/pr od/GET/x",
    ],
)
def test_parse_method_arn_rejects_malformed(arn: str) -> None:
    """Malformed methodArns raise ValueError naming the ARN."""
    with pytest.raises(ValueError, match="invalid method ARN"):
        parse_method_arn(arn)
