"""The lock-out guard's pure decision, on the admin API's real routes and no network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from authz.handlers.admin.app import build_app
from authz.lockout import (
    arn_prefix,
    check_write,
    routes_from_openapi,
    unreachable_routes,
)
from authz.policy import PolicyDocument
from authz.policy.arn import (
    FALLBACK_ACCOUNT,
    FALLBACK_API,
    FALLBACK_ARN_PREFIX,
    FALLBACK_REGION,
    FALLBACK_STAGE,
)
from authz.policy.selector import DEFAULT, Selector
from authz.settings import Settings
from authz.store.files import read_tree

GROUP = "authz-admins"
ADMINS = Selector("group", GROUP)
PREFIX = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod"


def doc(*resources: str, effect: str = "Allow") -> PolicyDocument:
    statement: dict[str, Any] = {
        "Effect": effect,
        "Action": "execute-api:Invoke",
        "Resource": list(resources),
    }
    return PolicyDocument.from_dict({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture(scope="module")
def routes() -> tuple[tuple[str, str], ...]:
    app = build_app(Settings(), repository=None, flusher=lambda _a, _s: None)  # type: ignore[arg-type]
    return routes_from_openapi(app.openapi(), GROUP)


ADMIN_POLICY = doc(
    "arn:aws:execute-api:*:*:*/*/*/policies",
    "arn:aws:execute-api:*:*:*/*/*/policies/*",
    "arn:aws:execute-api:*:*:*/*/*/simulate",
    "arn:aws:execute-api:*:*:*/*/*/openapi.json",
    "arn:aws:execute-api:*:*:*/*/*/matrix",
    "arn:aws:execute-api:*:*:*/*/*/revocations",
    "arn:aws:execute-api:*:*:*/*/*/revocations/*",
    "arn:aws:execute-api:*:*:*/*/*/revocation-history",
)


def test_routes_come_from_the_openapi_document_with_every_kind(
    routes: tuple[tuple[str, str], ...],
) -> None:
    assert ("DELETE", f"/policies/group/{GROUP}") in routes
    assert ("PUT", "/policies/default/default") in routes
    assert ("POST", "/simulate") in routes
    assert ("GET", "/openapi.json") in routes
    assert all("{" not in path for _, path in routes)


def test_admin_policy_reaches_every_route(routes: tuple[tuple[str, str], ...]) -> None:
    assert unreachable_routes({ADMINS: ADMIN_POLICY}, GROUP, routes, PREFIX) == ()


def test_shorthand_admin_policy_is_expanded_for_the_judged_api(
    routes: tuple[tuple[str, str], ...],
) -> None:
    shorthand = PolicyDocument.from_dict(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "execute-api:Invoke",
                    "Resource": [
                        "execute-api:/*/*/policies",
                        "execute-api:/*/*/policies/*",
                        "execute-api:/*/*/simulate",
                        "execute-api:/*/*/openapi.json",
                        "execute-api:/*/*/matrix",
                        "execute-api:/*/*/revocations",
                        "execute-api:/*/*/revocations/*",
                        "execute-api:/*/*/revocation-history",
                    ],
                }
            ],
        }
    )
    assert unreachable_routes({ADMINS: shorthand}, GROUP, routes, PREFIX) == ()


def test_deleting_admin_group_policy_loses_every_route(
    routes: tuple[tuple[str, str], ...],
) -> None:
    lock = check_write(
        {ADMINS: ADMIN_POLICY}, ADMINS, None, admin_group=GROUP, routes=routes, prefix=PREFIX
    )
    assert lock is not None
    assert set(lock.lost) == set(routes)
    assert f"DELETE /policies/group/{GROUP}" in lock.message


def test_deny_all_in_default_locks_out(routes: tuple[tuple[str, str], ...]) -> None:
    lock = check_write(
        {ADMINS: ADMIN_POLICY},
        DEFAULT,
        doc("*", effect="Deny"),
        admin_group=GROUP,
        routes=routes,
        prefix=PREFIX,
    )
    assert lock is not None
    assert set(lock.lost) == set(routes)


def test_deny_on_another_api_does_not_lock_out(routes: tuple[tuple[str, str], ...]) -> None:
    other = doc("arn:aws:execute-api:*:*:other/*", effect="Deny")
    lock = check_write(
        {ADMINS: ADMIN_POLICY}, DEFAULT, other, admin_group=GROUP, routes=routes, prefix=PREFIX
    )
    assert lock is None


def test_admin_policy_over_the_byte_budget_locks_out(routes: tuple[tuple[str, str], ...]) -> None:
    lock = check_write(
        {},
        ADMINS,
        ADMIN_POLICY,
        admin_group=GROUP,
        routes=routes,
        prefix=PREFIX,
        max_bytes=10,
    )
    assert lock is None  # nothing was reachable before either
    assert set(unreachable_routes({ADMINS: ADMIN_POLICY}, GROUP, routes, PREFIX, 10)) == set(routes)


def test_write_that_repairs_nothing_while_already_locked_out_is_allowed(
    routes: tuple[tuple[str, str], ...],
) -> None:
    denied = {DEFAULT: doc("*", effect="Deny"), ADMINS: ADMIN_POLICY}
    lock = check_write(
        denied,
        ADMINS,
        doc("arn:aws:execute-api:*:*:abc123/prod/GET/x"),
        admin_group=GROUP,
        routes=routes,
        prefix=PREFIX,
    )
    assert lock is None


def test_other_selectors_never_count(routes: tuple[tuple[str, str], ...]) -> None:
    interns = Selector("group", "interns")
    lock = check_write(
        {ADMINS: ADMIN_POLICY},
        interns,
        doc("*", effect="Deny"),
        admin_group=GROUP,
        routes=routes,
        prefix=PREFIX,
    )
    assert lock is None


def test_invalid_api_identity_falls_back_to_the_simulate_placeholder() -> None:
    assert arn_prefix("us-east-1", "123456789012", "abc", "prod") == (
        "arn:aws:execute-api:us-east-1:123456789012:abc/prod"
    )
    assert arn_prefix("us-east-1", "not-an-account", "abc", "prod") == FALLBACK_ARN_PREFIX
    # The placeholder is itself a valid API: the prefix its parts build.
    fallback = arn_prefix(FALLBACK_REGION, FALLBACK_ACCOUNT, FALLBACK_API, FALLBACK_STAGE)
    assert fallback == FALLBACK_ARN_PREFIX


def test_the_shipped_admin_policy_reaches_every_admin_route(
    routes: tuple[tuple[str, str], ...],
) -> None:
    # A route added to the admin API without a grant in policies/ would answer
    # 403 from the gateway to every admin, on AWS and under `authz dev`.
    tree = read_tree(Path(__file__).resolve().parents[2] / "policies")
    assert tree.ok, tree.problems
    docs = {s: f.document for s, f in tree.policies.items()}
    assert unreachable_routes(docs, GROUP, routes, PREFIX) == ()
