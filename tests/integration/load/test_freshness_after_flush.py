"""How soon an admin write reaches requests when the admin API flushes the gateway's cache.

The admin API reports ``freshness.max_staleness_seconds`` = the epoch check
interval when it flushes API Gateway's authorizer cache. Requests that arrive
while the write is in progress reach an authorizer that has not yet re-read
the epoch and get the old policy, which the gateway caches for its whole
result TTL; the flush must come late enough to drop those answers too.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from authz.dev.dynamodb import DynamoDBLocal
from authz.dev.stack import DevStack, start_stack
from bench.load import toggled

pytestmark = pytest.mark.integration

POLICIES = Path(__file__).resolve().parents[3] / "policies"
EPOCH_CHECK = 1.0
RESULT_TTL = 60  # far longer than the test: a re-cached old answer would outlive it


@pytest.fixture(scope="module")
def stack(dynamodb_local: DynamoDBLocal) -> Iterator[DevStack]:
    with start_stack(
        POLICIES,
        dynamodb_endpoint=dynamodb_local.endpoint,
        table=f"flush-{uuid.uuid4().hex[:8]}",
        epoch_check_seconds=EPOCH_CHECK,
        result_ttl_seconds=RESULT_TTL,
    ) as s:
        yield s


def test_write_is_visible_within_the_reported_staleness(stack: DevStack) -> None:
    """Requests racing an admin write cannot keep the old policy cached past the reported
    max_staleness_seconds: after it, the write decides every request."""
    admin = {"Authorization": f"Bearer {stack.tokens['admin']}"}
    reader = {"Authorization": f"Bearer {stack.tokens['reader']}"}
    patch = f"{stack.base_url}/orders/7"
    url = f"{stack.base_url}/policies/group/readers"
    assert requests.patch(patch, headers=reader, timeout=10).status_code == 403

    current = requests.get(url, headers=admin, timeout=10)
    answers: list[requests.Response] = []

    def write() -> None:
        answers.append(
            requests.put(
                url,
                json={"document": toggled(current.json()["document"], "flush1")},
                headers={**admin, "If-Match": current.headers["ETag"]},
                timeout=30,
            )
        )

    writer = threading.Thread(target=write)
    writer.start()
    racing = 0
    while writer.is_alive():  # the reader keeps asking while the write is in progress
        requests.patch(patch, headers=reader, timeout=10)
        racing += 1
        time.sleep(0.05)
    acked = time.monotonic()
    requests.patch(patch, headers=reader, timeout=10)  # and right after the answer
    (put,) = answers
    assert put.status_code == 200
    assert racing >= 1
    freshness = put.json()["freshness"]
    assert freshness["flushed"] == ["authzdev/dev"]
    assert freshness["max_staleness_seconds"] == EPOCH_CHECK

    time.sleep(max(0.0, acked + freshness["max_staleness_seconds"] + 0.2 - time.monotonic()))
    assert requests.patch(patch, headers=reader, timeout=10).status_code == 200
