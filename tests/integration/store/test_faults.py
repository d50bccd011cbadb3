"""The store under failure: throttled batches, stalled or absent endpoints, a restart."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from authz.dev.dynamodb import DynamoDBLocal, free_port
from authz.errors import StoreUnavailableError
from authz.policy.selector import Selector
from authz.settings import Settings
from authz.store.repository import DynamoRepository, StoreTimeouts
from tests.fixtures.dynamodb import RequestCounter
from tests.integration.store.helpers import doc, groups, seed_policies

pytestmark = pytest.mark.integration

Counting = Callable[[DynamoRepository], RequestCounter]


class Withhold:
    """An ``after-call`` hook that moves half of a BatchGetItem's answers to UnprocessedKeys.

    DynamoDB does this when it throttles; here it happens on the first
    ``times`` responses (every response if ``times`` is None).
    """

    def __init__(self, table: str, times: int | None) -> None:
        self.table = table
        self.times = times
        self.calls = 0

    def __call__(self, parsed: dict[str, Any], **_: Any) -> None:
        if self.times is not None and self.calls >= self.times:
            return
        self.calls += 1
        items = parsed["Responses"][self.table]
        keep, withheld = items[: len(items) // 2], items[len(items) // 2 :]
        parsed["Responses"][self.table] = keep
        parsed["UnprocessedKeys"] = {
            self.table: {"Keys": [{"pk": i["pk"], "sk": i["sk"]} for i in withheld]}
        }


@pytest.fixture
def throttled(
    repository: DynamoRepository, store_settings: Settings, dynamodb_client: Any
) -> tuple[DynamoRepository, list[float], list[Selector]]:
    """A repository on a seeded table whose sleeps are recorded instead of slept."""
    selectors = groups(150)
    seed_policies(dynamodb_client, repository.table, selectors)
    sleeps: list[float] = []
    return DynamoRepository(store_settings, sleep=sleeps.append), sleeps, selectors


def test_unprocessed_keys_are_fetched_again(
    throttled: tuple[DynamoRepository, list[float], list[Selector]], count_requests: Counting
) -> None:
    """Keys DynamoDB leaves unprocessed are asked for again until every record is in."""
    repo, sleeps, selectors = throttled
    hook = Withhold(repo.table, times=3)
    repo.events.register("after-call.dynamodb.BatchGetItem", hook)
    counter = count_requests(repo)
    found = repo.get_many(selectors[:100])
    assert set(found) == set(selectors[:100])
    assert counter.by_operation == {"BatchGetItem": 4}
    assert len(sleeps) == 3
    # Jittered exponential back-off: the i-th pause lies in [base*2^i/2, base*2^i].
    base = repo.timeouts.batch_backoff
    for i, pause in enumerate(sleeps):
        assert base * 2**i / 2 <= pause <= base * 2**i


def test_persistent_unprocessed_keys_raise_instead_of_a_partial_answer(
    throttled: tuple[DynamoRepository, list[float], list[Selector]], count_requests: Counting
) -> None:
    """If keys stay unprocessed after the bounded retries, get_many raises and returns nothing."""
    repo, sleeps, selectors = throttled
    repo.events.register("after-call.dynamodb.BatchGetItem", Withhold(repo.table, times=None))
    counter = count_requests(repo)
    with pytest.raises(StoreUnavailableError, match="unprocessed after 5 retries"):
        repo.get_many(selectors[:100])
    assert counter.by_operation == {"BatchGetItem": 6}
    assert len(sleeps) == 5
    assert sum(sleeps) < 1.0


def test_retry_rounds_stop_at_the_deadline(
    repository: DynamoRepository, store_settings: Settings, dynamodb_client: Any
) -> None:
    """No new UnprocessedKeys round starts once batch_deadline has passed."""
    seed_policies(dynamodb_client, repository.table, groups(10))
    local = StoreTimeouts.for_endpoint(store_settings.dynamodb_endpoint)
    timeouts = replace(local, batch_deadline=0.0)
    repo = DynamoRepository(store_settings, timeouts=timeouts, sleep=lambda _: None)
    hook = Withhold(repo.table, times=None)
    repo.events.register("after-call.dynamodb.BatchGetItem", hook)
    with pytest.raises(StoreUnavailableError, match="after 0 retries"):
        repo.get_many(groups(10))
    assert hook.calls == 1


class StalledServer:
    """Accepts TCP connections on loopback and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


def test_stalled_store_fails_within_the_timeout_bound(dynamodb_local: DynamoDBLocal) -> None:
    """A store that accepts but never answers fails as StoreUnavailableError within the bound."""
    server = StalledServer()
    timeouts = StoreTimeouts(connect=0.2, read=0.3, attempts=2)
    try:
        repo = DynamoRepository(
            Settings(table="stalled", dynamodb_endpoint=f"http://127.0.0.1:{server.port}"),
            timeouts=timeouts,
        )
        for call in (lambda: repo.get_many([Selector("group", "a")]), repo.epoch):
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError, match="ReadTimeout"):
                call()
            elapsed = time.monotonic() - started
            assert 2 * 0.3 <= elapsed <= timeouts.request_seconds() + 0.5
        assert len(server.conns) >= 2  # botocore's one retry did happen
    finally:
        server.close()


def test_absent_store_fails_fast(dynamodb_local: DynamoDBLocal) -> None:
    """With nothing listening, every call raises StoreUnavailableError in well under a second."""
    repo = DynamoRepository(
        Settings(table="absent", dynamodb_endpoint=f"http://127.0.0.1:{free_port()}")
    )
    calls: list[Callable[[], object]] = [
        lambda: repo.get_many([Selector("group", "a")]),
        lambda: repo.get(Selector("group", "a")),
        repo.epoch,
        repo.list,
        lambda: repo.history(Selector("group", "a")),
        lambda: repo.put(Selector("group", "a"), doc(), actor="x", create_only=True),
        lambda: repo.delete(Selector("group", "a"), actor="x"),
    ]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            call()
        assert time.monotonic() - started < 1.0


def test_timeout_arithmetic_is_documented_worst_case() -> None:
    """The default bounds: 4.05 s per request, get_many of 100 within deadline + one request."""
    t = StoreTimeouts()
    assert t.request_seconds() == pytest.approx(4.05)
    assert t.worst_case_seconds(100) == pytest.approx(2.0 + 4.05)
    assert t.worst_case_seconds(250) == pytest.approx(3 * (2.0 + 4.05))
    local = StoreTimeouts.for_endpoint("http://127.0.0.1:8000")
    assert local.request_seconds() == pytest.approx(2 * 6 + 0.05)
    assert StoreTimeouts.for_endpoint(None) == t


@pytest.mark.slow
def test_store_restart_is_survived(fake_aws_env: None, tmp_path: Path) -> None:
    """Calls fail as StoreUnavailableError while DynamoDB is down; the same repository recovers."""
    # Its own on-disk instance: restarting the session's in-memory one would
    # wipe the tables of every other test's fixtures.
    with DynamoDBLocal(db_path=tmp_path / "db") as ddb:
        repo = DynamoRepository(Settings(table="restart", dynamodb_endpoint=ddb.endpoint))
        repo.create_table()
        admins = Selector("group", "admins")
        repo.put(admins, doc(), actor="x")
        ddb.stop()
        with pytest.raises(StoreUnavailableError):
            repo.get_many([admins])
        with pytest.raises(StoreUnavailableError):
            repo.put(admins, doc("2"), actor="x")
        ddb.start()
        assert repo.get_many([admins])[admins].version == 1
        assert repo.put(admins, doc("2"), actor="x").epoch == 2
        assert [e.version for e in repo.history(admins).items] == [2, 1]
