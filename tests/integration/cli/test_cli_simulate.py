"""``authz simulate``: decisions of the example policies, from the table and from files."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from authz.store.repository import DynamoRepository
from tests.integration.cli.conftest import POLICIES, Runner

pytestmark = pytest.mark.integration

# (arguments, allowed?) — what the example policies in policies/ are meant to decide.
INTENDED = [
    (["--group", "readers", "-X", "GET", "-p", "/orders/42"], True),
    (["-X", "GET", "-p", "/orders/42"], False),  # no group: only default applies
    (["--group", "readers", "-X", "POST", "-p", "/orders"], False),
    (["--group", "writers", "--group", "interns", "-X", "DELETE", "-p", "/orders/42"], False),
    (["--sub", "alice-sub", "-X", "GET", "-p", "/users/alice-sub"], True),
    (["--sub", "alice-sub", "-X", "GET", "-p", "/users/bob-sub"], False),
    (["--scope", "orders/read", "-X", "GET", "-p", "/orders"], True),
    (["--group", "authz-admins", "-X", "PUT", "-p", "/policies/group/readers"], True),
]


def test_sync_then_simulate_gives_the_intended_decisions(
    authz: Runner, repository: DynamoRepository
) -> None:
    """After `sync policies/ --apply`, simulate decides (exit 0/1) as the examples intend."""
    synced = authz("policies", "sync", str(POLICIES), "--apply")
    assert synced.code == 0, synced.output
    # Independent read-only invocations: run them side by side to keep the suite quick.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda case: authz("simulate", *case[0]), INTENDED))
    for (args, allowed), result in zip(INTENDED, results, strict=True):
        assert result.code == (0 if allowed else 1), (args, result.output)
        assert result.stdout.startswith("ALLOW " if allowed else "DENY "), (args, result.output)

    explained = authz(
        "simulate",
        "-g",
        "writers",
        "-g",
        "interns",
        "-X",
        "DELETE",
        "-p",
        "/orders/42",
        "--explain",
    )
    assert explained.code == 1
    assert "explicit Deny by group:interns Sid=NoDelete" in explained.stdout
    assert "overridden: Allow by group:writers Sid=WriteOrders" in explained.stdout
    assert "selectors: default, group:interns, group:writers" in explained.stdout

    as_json = authz(
        "simulate",
        "-g",
        "readers",
        "--arn",
        "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders/7",
        "--json",
    )
    assert as_json.code == 0, as_json.output
    body = json.loads(as_json.stdout)
    assert body["allowed"] is True
    assert (
        body["methodArn"] == "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders/7"
    )
    assert body["found"] == ["default", "group:readers"]
    assert [m["sid"] for m in body["explanation"]] == ["ReadOrders"]
    # One key style with the admin API's POST /simulate (SimulateOut).
    from authz.handlers.admin.models import SimulateOut

    admin_keys = set(SimulateOut.model_fields)
    assert {"effective_policy", "policy_bytes", "over_budget"} <= set(body) & admin_keys
    assert [k for k in body if k != k.lower() and k not in admin_keys] == []


def test_simulate_from_files_reads_no_table(authz: Runner) -> None:
    """With --policies the decision comes from the files; the (absent) table is never needed."""
    denied = authz(
        "simulate",
        "--policies",
        str(POLICIES),
        "-g",
        "interns",
        "-g",
        "writers",
        "-X",
        "DELETE",
        "-p",
        "/orders/1",
        "--explain",
    )
    assert denied.code == 1, denied.output
    assert "explicit Deny by group:interns Sid=NoDelete" in denied.stdout
    allowed = authz(
        "simulate", "--policies", str(POLICIES), "-g", "writers", "-X", "POST", "-p", "/orders"
    )
    assert allowed.code == 0, allowed.output
    assert allowed.stdout.strip() == "ALLOW POST /orders"
