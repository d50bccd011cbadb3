"""The example policies in policies/ are valid and grant what their names promise, no more.

Each example lists requests it must allow and requests it must deny, among
them the cross-segment ones a full-ARN ``*`` would let through (``DELETE
/GET/orders/1`` for a reader, ``PUT /users/<victim>/PUT/users/<me>/profile``
for anyone). They are decided three ways: with the policy the authorizer
returns for the API and stage (expanded, merged, compacted), with the stored
documents as ``evaluate`` reads them, and by the naive reference over the
expanded policy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authz.policy import (
    ApiStage,
    PolicyDocument,
    Selector,
    api_stage,
    evaluate,
    is_shorthand,
    substitute,
)
from authz.policy.arn import VERBS
from authz.service import effective_policy
from tests.unit.policy.reference import naive_effect

ROOT = Path(__file__).resolve().parents[3] / "policies"
ME = "user-1"
VICTIM = "user-2"
PREFIXES = (
    "arn:aws:execute-api:eu-west-1:210987654321:q1w2e3r4t5/dev",
    "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/$default",
)

# Per example (added to default.json, as every principal has it): requests
# (VERB, path) it must allow and requests it must deny.
EXAMPLES: dict[tuple[str, ...], tuple[list[str], list[str]]] = {
    ("default.json",): (
        ["GET /health", f"GET /users/{ME}", f"GET /users/{ME}/orders", f"PUT /users/{ME}/profile"],
        [
            f"PUT /users/{VICTIM}/PUT/users/{ME}/profile",
            f"GET /users/{VICTIM}/GET/users/{ME}",
            f"PUT /users/{VICTIM}/profile",
            f"GET /users/{VICTIM}",
            f"DELETE /users/{ME}",
            f"POST /GET/users/{ME}",
            "DELETE /GET/health",
            "POST /x/GET/health",
            "GET /orders",
            "GET /health/x",
        ],
    ),
    ("group/readers.json",): (
        ["GET /orders", "GET /orders/7", "GET /orders/7/items"],
        [
            "DELETE /GET/orders/1",
            "POST /admin/GET/orders/x",
            "PUT /x/GET/orders",
            "POST /orders",
            "PUT /orders/7",
            "DELETE /orders/7",
            "GET /policies",
        ],
    ),
    ("scope/orders%2Fread.json",): (
        ["GET /orders", "GET /orders/7"],
        ["DELETE /GET/orders/1", "POST /admin/GET/orders/x", "POST /orders", "GET /policies"],
    ),
    ("group/writers.json",): (
        ["POST /orders", "PUT /orders/7", "PATCH /orders/7", "DELETE /orders/7"],
        [
            "GET /orders",
            "DELETE /POST/orders",
            "GET /x/PUT/orders/1",
            f"DELETE /users/{VICTIM}/DELETE/orders/1",
            "POST /orders/7",
            "PUT /orders",
            "HEAD /orders/7",
        ],
    ),
    ("group/writers.json", "group/interns.json"): (
        ["POST /orders", "PUT /orders/7", "PATCH /orders/7"],
        ["DELETE /orders/7", f"DELETE /users/{ME}", "DELETE /GET/orders/1", "DELETE /"],
    ),
    ("group/interns.json",): (
        ["GET /health"],
        ["DELETE /orders/7", "POST /orders", "GET /orders"],
    ),
    ("group/authz-admins.json",): (
        [
            f"{verb} {path}"
            for verb in VERBS
            for path in ("/policies", "/policies/group/readers", "/simulate", "/openapi.json")
        ],
        [
            "GET /orders",
            "GET /orders/policies",
            "DELETE /GET/policies",
            "POST /x/simulate",
            "GET /openapi.json/x",
            "PUT /simulate/x",
        ],
    ),
}


def load(name: str) -> PolicyDocument:
    return PolicyDocument.from_dict(json.loads((ROOT / name).read_text()))


def arn(prefix: str, request: str) -> str:
    verb, path = request.split(" ", 1)
    return f"{prefix}/{verb}{path}"


def docs_of(names: tuple[str, ...]) -> dict[Selector, PolicyDocument]:
    selectors = {"default.json": "default"}
    return {
        Selector.parse(selectors.get(n, n.removesuffix(".json").replace("/", ":"))): load(n)
        for n in dict.fromkeys(("default.json", *names))
    }


def returned(names: tuple[str, ...], api: ApiStage) -> PolicyDocument:
    """The policy the authorizer returns for a principal with these policies at ``api``."""
    return effective_policy(docs_of(names), {"sub": ME}, api=api)


def decisions(names: tuple[str, ...], prefix: str, request: str) -> set[str]:
    api = api_stage(prefix)
    assert api is not None
    target = arn(prefix, request)
    policy = returned(names, api)
    stored = [substitute(d, {"sub": ME}) for d in docs_of(names).values()]
    return {
        evaluate(policy, target).effect,
        evaluate(stored, target).effect,
        naive_effect([policy], target),
    }


CASES = [
    (names, request, allowed)
    for names, (allow, deny) in EXAMPLES.items()
    for allowed, requests in ((True, allow), (False, deny))
    for request in requests
]


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.json"))
)
def test_every_example_policy_is_valid(path: str) -> None:
    """Each JSON file under policies/ passes validation and round-trips."""
    doc = load(path)
    assert PolicyDocument.from_dict(doc.to_dict()) == doc


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.json"))
)
def test_every_example_has_must_deny_requests(path: str) -> None:
    """A new example cannot ship without a list of requests it must deny."""
    assert any(path in names and deny for names, (_, deny) in EXAMPLES.items())


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.json"))
)
def test_every_example_uses_the_shorthand(path: str) -> None:
    """The shipped examples teach the safe form: no full ARNs whose ``*`` crosses ``/``."""
    doc = load(path)
    assert all(is_shorthand(r) for s in doc.statements for r in s.resources)


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(("names", "request_", "allowed"), CASES)
def test_example_allows_and_denies_what_it_lists(
    names: tuple[str, ...], request_: str, allowed: bool, prefix: str
) -> None:
    """Returned policy, stored documents and the naive reference agree on each listed request."""
    found = decisions(names, prefix, request_)
    assert len(found) == 1, found
    assert (found == {"Allow"}) is allowed


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("names", list(EXAMPLES))
def test_returned_policy_names_only_the_calling_api_stage_and_real_verbs(
    names: tuple[str, ...], prefix: str
) -> None:
    """Every resource returned is ``{prefix}/{VERB}/...`` or ``{prefix}/*``: no wildcard is
    left in the API id, stage or verb for IAM to stretch across ``/``."""
    api = api_stage(prefix)
    assert api is not None
    for statement in returned(names, api).statements:
        for resource in statement.resources:
            rest = resource.removeprefix(prefix + "/")
            assert rest != resource, resource
            assert rest == "*" or rest.split("/", 1)[0] in VERBS, resource


def test_examples_on_another_stage_are_the_same_policy_for_that_stage() -> None:
    """The shorthand's stage ``*`` takes the calling stage: prod gets prod's resources."""
    dev = api_stage("arn:aws:execute-api:eu-west-1:210987654321:q1w2e3r4t5/dev")
    prod = api_stage("arn:aws:execute-api:eu-west-1:210987654321:q1w2e3r4t5/prod")
    assert dev is not None
    assert prod is not None
    names = ("group/readers.json",)
    dev_text = json.dumps(returned(names, dev).to_dict())
    assert json.dumps(returned(names, prod).to_dict()) == dev_text.replace("/dev/", "/prod/")
