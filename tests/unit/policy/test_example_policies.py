"""The example policies in policies/ are valid and grant what their names promise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authz.policy import PolicyDocument, compact, evaluate, merge, method_arn, substitute

ROOT = Path(__file__).resolve().parents[3] / "policies"


def load(name: str) -> PolicyDocument:
    return PolicyDocument.from_dict(json.loads((ROOT / name).read_text()))


def arn(verb: str, path: str) -> str:
    return method_arn("eu-west-1", "210987654321", "q1w2e3r4t5", "dev", verb, path)


def effective(*names: str, sub: str = "user-1") -> PolicyDocument:
    return compact(merge(substitute(load(n), {"sub": sub}) for n in ("default.json", *names)))


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.json"))
)
def test_every_example_policy_is_valid(path: str) -> None:
    """Each JSON file under policies/ passes validation and round-trips."""
    doc = load(path)
    assert PolicyDocument.from_dict(doc.to_dict()) == doc


def test_everyone_gets_health_and_own_profile_only() -> None:
    """default allows GET /health and the caller's own /users/{sub} tree, nobody else's."""
    doc = effective()
    assert evaluate(doc, arn("GET", "/health")).allowed
    assert evaluate(doc, arn("GET", "/users/user-1/orders")).allowed
    assert not evaluate(doc, arn("GET", "/users/user-2/orders")).allowed
    assert not evaluate(doc, arn("GET", "/orders")).allowed


@pytest.mark.parametrize(
    ("names", "verb", "path", "allowed"),
    [
        (("group/readers.json",), "GET", "/orders", True),
        (("group/readers.json",), "GET", "/orders/7", True),
        (("group/readers.json",), "POST", "/orders", False),
        (("scope/orders.read.json",), "GET", "/orders/7", True),
        (("group/writers.json",), "POST", "/orders", True),
        (("group/writers.json",), "DELETE", "/orders/7", True),
        (("group/writers.json", "group/interns.json"), "DELETE", "/orders/7", False),
        (("group/writers.json", "group/interns.json"), "PUT", "/orders/7", True),
        (("group/authz-admins.json",), "PUT", "/policies/group/readers", True),
        (("group/authz-admins.json",), "POST", "/simulate", True),
        (("group/authz-admins.json",), "GET", "/openapi.json", True),
        (("group/readers.json",), "GET", "/policies", False),
    ],
)
def test_group_and_scope_policies(
    names: tuple[str, ...], verb: str, path: str, allowed: bool
) -> None:
    """Readers read, writers write, interns never delete, admins reach the admin API."""
    assert evaluate(effective(*names), arn(verb, path)).allowed is allowed
