"""The local stack under concurrent load while two admins edit a policy (bench/load.py, smaller)."""

from __future__ import annotations

import pytest

from authz.dev.dynamodb import DynamoDBLocal
from bench.load import simulate

pytestmark = pytest.mark.integration


def test_load_with_concurrent_policy_edits(dynamodb_local: DynamoDBLocal) -> None:
    """600 requests from 6 clients during If-Match edits: no 5xx, no wrong answer, no lost edit."""
    report = simulate(
        requests_total=600,
        clients=6,
        editors=2,
        max_seconds=40,
        dynamodb_endpoint=dynamodb_local.endpoint,
    )
    assert report.complete, f"only {len(report.samples)} of 600 requests within 40 s"
    assert report.server_errors == 0, report.statuses
    assert report.wrong == []
    assert report.editor_errors == []
    assert report.edits, "no edit was acknowledged while the clients ran"
    assert report.lost == []
    # Every kind of answer occurred, so the mix exercised allow, deny and refusal.
    assert {200, 401, 403} <= set(report.statuses)
