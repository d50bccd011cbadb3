"""Racing writers on one policy: optimistic concurrency holds under real threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest

from authz.errors import AlreadyExistsError, ConflictError, NotFoundError
from authz.policy.selector import Selector
from authz.settings import Settings
from authz.store.repository import DynamoRepository, StoreTimeouts
from authz.store.types import WriteResult
from tests.integration.store.helpers import doc

pytestmark = pytest.mark.integration

T = TypeVar("T")
THREADS = 6
TARGET = Selector("group", "contended")


def race(
    store_settings: Settings,
    write: Callable[[DynamoRepository, int], T],
    timeouts: StoreTimeouts | None = None,
) -> list[object]:
    """Run ``write(repo, i)`` on THREADS threads released together; results or exceptions."""
    # One repository per thread, as separate Lambda instances would be.
    repos = [DynamoRepository(store_settings, timeouts=timeouts) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    outcomes: list[object] = [None] * THREADS

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = write(repos[i], i)
        except Exception as exc:  # collected and asserted on by the caller
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def test_same_expected_version_exactly_one_wins(
    repository: DynamoRepository, store_settings: Settings
) -> None:
    """Writers racing with the same expected version: one succeeds, all others get ConflictError."""
    repository.put(TARGET, doc("v1"), actor="setup")
    for round_ in range(1, 3):

        def write(repo: DynamoRepository, i: int, expected: int = round_) -> WriteResult:
            return repo.put(
                TARGET, doc(f"r{expected}w{i}"), actor=f"w{i}", expected_version=expected
            )

        outcomes = race(store_settings, write)
        winners = [o for o in outcomes if isinstance(o, WriteResult)]
        losers = [o for o in outcomes if not isinstance(o, WriteResult)]
        assert len(winners) == 1, outcomes
        assert all(type(o) is ConflictError for o in losers), outcomes
        assert all(o.actual == round_ + 1 for o in losers if isinstance(o, ConflictError))
        record = winners[0].record
        assert record is not None
        assert repository.get(TARGET) == record
    history = repository.history(TARGET).items
    assert [e.version for e in history] == [3, 2, 1]
    assert history[0].by == repository.get(TARGET).updated_by
    assert repository.epoch() == 3


def test_create_only_race_has_one_creator(
    repository: DynamoRepository, store_settings: Settings
) -> None:
    """Create-only writers racing on a new policy: one creates it, others get AlreadyExistsError."""
    outcomes = race(
        store_settings,
        lambda repo, i: repo.put(TARGET, doc(f"{i}"), actor=f"w{i}", create_only=True),
    )
    winners = [o for o in outcomes if isinstance(o, WriteResult)]
    assert len(winners) == 1, outcomes
    assert all(type(o) is AlreadyExistsError for o in outcomes if o not in winners), outcomes
    assert [e.action for e in repository.history(TARGET).items] == ["create"]
    assert repository.epoch() == 1


def test_unconditional_writers_all_land_in_order(
    repository: DynamoRepository, store_settings: Settings
) -> None:
    """Unconditional writers all succeed, each with its own version and history entry."""
    # Each round of the race has one winner, so the last writer may need one
    # attempt per rival (and a few more for TransactionConflicts); with fewer
    # it gives up with StoreUnavailableError, which is the documented limit.
    local = StoreTimeouts.for_endpoint(store_settings.dynamodb_endpoint)
    timeouts = replace(local, write_attempts=3 * THREADS)
    outcomes = race(
        store_settings, lambda repo, i: repo.put(TARGET, doc(f"{i}"), actor=f"w{i}"), timeouts
    )
    assert all(isinstance(o, WriteResult) for o in outcomes), outcomes
    versions = sorted(
        o.record.version for o in outcomes if isinstance(o, WriteResult) and o.record is not None
    )
    assert versions == list(range(1, THREADS + 1))
    history = repository.history(TARGET).items
    assert [e.version for e in history] == list(range(THREADS, 0, -1))
    assert [e.action for e in history] == ["update"] * (THREADS - 1) + ["create"]
    assert repository.epoch() == THREADS


def test_delete_race_has_one_deleter(
    repository: DynamoRepository, store_settings: Settings
) -> None:
    """Deleters racing on one version: one deletes, the others find it gone (NotFoundError)."""
    repository.put(TARGET, doc(), actor="setup")
    outcomes = race(
        store_settings, lambda repo, i: repo.delete(TARGET, actor=f"w{i}", expected_version=1)
    )
    winners = [o for o in outcomes if isinstance(o, WriteResult)]
    assert len(winners) == 1, outcomes
    assert all(type(o) is NotFoundError for o in outcomes if o not in winners), outcomes
    assert [e.action for e in repository.history(TARGET).items] == ["delete", "create"]
    assert repository.epoch() == 2


def test_delete_racing_an_update_never_loses_either(
    repository: DynamoRepository, store_settings: Settings
) -> None:
    """A delete and updates racing on version 1: exactly one wins and history records only it."""
    repository.put(TARGET, doc(), actor="setup")

    def write(repo: DynamoRepository, i: int) -> WriteResult:
        if i == 0:
            return repo.delete(TARGET, actor="deleter", expected_version=1)
        return repo.put(TARGET, doc(f"{i}"), actor=f"w{i}", expected_version=1)

    outcomes = race(store_settings, write)
    winners = [o for o in outcomes if isinstance(o, WriteResult)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, ConflictError | NotFoundError) for o in outcomes if o not in winners)
    history = repository.history(TARGET).items
    assert len(history) == 2
    assert history[0].action == winners[0].action
    assert repository.epoch() == 2


class ConflictUntilLast:
    """A before-call hook: TransactionConflict on every write attempt but the last,
    which reaches DynamoDB Local and meets the real condition."""

    def __init__(self, contended: int) -> None:
        self.contended = contended
        self.calls = 0

    def __call__(self, **_: object) -> tuple[object, dict[str, object]] | None:
        self.calls += 1
        if self.calls > self.contended:
            return None
        reasons = [{"Code": "TransactionConflict"}, {"Code": "None"}, {"Code": "None"}]
        error = {"Code": "TransactionCanceledException", "Message": "TransactionConflict"}
        parsed = {
            "Error": error,
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}},
        }
        return SimpleNamespace(status_code=400, headers={}), parsed


@pytest.mark.parametrize(
    ("moved_on", "expectation", "answer"),
    [
        ("updated", {"expected_version": 1}, ConflictError),
        ("deleted", {"expected_version": 1}, NotFoundError),
        ("updated", {"create_only": True}, AlreadyExistsError),
    ],
)
def test_put_refused_on_its_last_contended_attempt_keeps_its_answer(
    repository: DynamoRepository,
    moved_on: str,
    expectation: dict[str, Any],
    answer: type[Exception],
) -> None:
    """A versioned or create-only put whose last attempt finds the policy moved on (or gone)
    gives its own answer, not StoreUnavailableError: the failed condition settled it, so
    running out of attempts is not why it failed."""
    repository.put(TARGET, doc("v1"), actor="setup")
    if moved_on == "deleted":
        repository.delete(TARGET, actor="setup")
    else:
        repository.put(TARGET, doc("v2"), actor="setup")
    attempts = repository.timeouts.write_attempts
    hook = ConflictUntilLast(attempts - 1)
    repository.events.register("before-call.dynamodb.TransactWriteItems", hook)
    try:
        with pytest.raises(answer) as info:
            repository.put(TARGET, doc("v3"), actor="late", **expectation)
    finally:
        repository.events.unregister("before-call.dynamodb.TransactWriteItems", hook)
    assert type(info.value) is answer
    assert hook.calls == attempts
    if type(info.value) is ConflictError:
        assert (info.value.expected, info.value.actual) == (1, 2)
    assert [e.by for e in repository.history(TARGET).items] == ["setup", "setup"]
    assert repository.epoch() == 2
