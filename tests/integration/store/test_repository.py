"""DynamoRepository against DynamoDB Local: round trips, request counts, errors, epoch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from authz.errors import (
    AlreadyExistsError,
    ConflictError,
    CursorError,
    ItemTooLargeError,
    NotFoundError,
    SelectorError,
    StoreAnswer,
    StoreError,
)
from authz.policy.selector import DEFAULT, Selector
from authz.settings import Settings
from authz.store.repository import DynamoRepository
from authz.store.types import PolicyRepository, SnapshotRepository
from tests.fixtures.dynamodb import RequestCounter, scan_all
from tests.integration.store.helpers import doc, groups, seed_policies

pytestmark = pytest.mark.integration

Counting = Callable[[DynamoRepository], RequestCounter]
ADMINS = Selector("group", "admins")


def test_satisfies_the_protocol(repository: DynamoRepository) -> None:
    """DynamoRepository is a PolicyRepository (what the service and handlers accept) and a
    SnapshotRepository (the authorizer's one-request cold start)."""
    repo: PolicyRepository = repository
    assert repo.epoch() == 0
    assert isinstance(repository, SnapshotRepository)


def test_put_get_round_trip(repository: DynamoRepository, store_settings: Settings) -> None:
    """A created policy reads back with its document, description, token, actor and time."""
    at = datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    repo = DynamoRepository(store_settings, clock=lambda: at)
    token = {"scopes": ["orders/read"], "claims": {"tier": "gold"}}
    result = repo.put(ADMINS, doc(), actor="alice", description="admins", token=token)
    assert result.action == "create"
    assert result.epoch == 1
    assert result.record is not None
    assert result.record.version == 1
    got = repository.get(ADMINS)
    assert got == result.record
    assert got.document == doc()
    assert got.description == "admins"
    assert got.token == token
    assert got.updated_by == "alice"
    assert got.updated_at == at


def test_get_missing_raises_not_found(repository: DynamoRepository) -> None:
    """get of a policy never written raises NotFoundError."""
    with pytest.raises(NotFoundError):
        repository.get(ADMINS)


def test_update_with_expected_version_bumps_version(repository: DynamoRepository) -> None:
    """expected_version equal to the stored one updates and returns version + 1."""
    repository.put(ADMINS, doc("a"), actor="a")
    result = repository.put(ADMINS, doc("b"), actor="b", expected_version=1)
    assert result.action == "update"
    assert result.record is not None
    assert result.record.version == 2
    assert repository.get(ADMINS).document == doc("b")


def test_unconditional_put_still_bumps_version(repository: DynamoRepository) -> None:
    """A put without conditions upserts and still counts the version up."""
    versions = []
    for i in range(3):
        record = repository.put(ADMINS, doc(str(i)), actor="x").record
        assert record is not None
        versions.append(record.version)
    assert versions == [1, 2, 3]
    assert repository.get(ADMINS).version == 3


def test_expected_version_mismatch_is_conflict(repository: DynamoRepository) -> None:
    """A wrong expected_version raises ConflictError carrying expected and actual."""
    repository.put(ADMINS, doc(), actor="a")
    with pytest.raises(ConflictError) as info:
        repository.put(ADMINS, doc("x"), actor="b", expected_version=5)
    assert type(info.value) is ConflictError
    assert (info.value.expected, info.value.actual) == (5, 1)


def test_expected_version_on_missing_policy_is_not_found(repository: DynamoRepository) -> None:
    """An update (expected_version) of a policy that does not exist raises NotFoundError."""
    with pytest.raises(NotFoundError):
        repository.put(ADMINS, doc(), actor="a", expected_version=1)


def test_create_only_on_existing_is_already_exists(repository: DynamoRepository) -> None:
    """create_only over an existing policy raises AlreadyExistsError with its version."""
    repository.put(ADMINS, doc(), actor="a", create_only=True)
    with pytest.raises(AlreadyExistsError) as info:
        repository.put(ADMINS, doc("x"), actor="b", create_only=True)
    assert info.value.actual == 1


def test_create_only_and_expected_version_exclude_each_other(repository: DynamoRepository) -> None:
    """Asking for both create-only and a version is a caller bug, refused before any request."""
    with pytest.raises(ValueError, match="exclude"):
        repository.put(ADMINS, doc(), actor="a", create_only=True, expected_version=1)


def test_delete_then_get_and_recreate(repository: DynamoRepository) -> None:
    """A deleted policy is gone; re-creating continues the version count (old ETags never match)."""
    repository.put(ADMINS, doc(), actor="a")
    repository.put(ADMINS, doc("2"), actor="a")
    result = repository.delete(ADMINS, actor="b", expected_version=2)
    assert (result.action, result.record, result.version) == ("delete", None, 2)
    with pytest.raises(NotFoundError):
        repository.get(ADMINS)
    assert repository.get_many([ADMINS]) == {}
    assert repository.list().items == ()
    with pytest.raises(NotFoundError):
        repository.put(ADMINS, doc(), actor="a", expected_version=2)
    recreated = repository.put(ADMINS, doc("3"), actor="c", create_only=True)
    assert recreated.action == "create"
    assert recreated.record is not None
    assert recreated.record.version > 2
    assert recreated.version == recreated.record.version
    assert repository.get(ADMINS).version == recreated.record.version


def test_delete_missing_is_not_found(repository: DynamoRepository) -> None:
    """Deleting a policy that does not exist (or no longer) raises NotFoundError."""
    with pytest.raises(NotFoundError):
        repository.delete(ADMINS, actor="a")
    repository.put(ADMINS, doc(), actor="a")
    repository.delete(ADMINS, actor="a")
    with pytest.raises(NotFoundError):
        repository.delete(ADMINS, actor="a")


def test_delete_with_wrong_version_is_conflict(repository: DynamoRepository) -> None:
    """delete with a stale expected_version raises ConflictError and keeps the policy."""
    repository.put(ADMINS, doc(), actor="a")
    repository.put(ADMINS, doc("2"), actor="a")
    with pytest.raises(ConflictError) as info:
        repository.delete(ADMINS, actor="a", expected_version=1)
    assert (info.value.expected, info.value.actual) == (1, 2)
    assert repository.get(ADMINS).version == 2


def test_rejected_writes_leave_the_table_unchanged(
    repository: DynamoRepository, dynamodb_client: Any
) -> None:
    """Every refused write (conflict, exists, missing, too large) changes no item at all."""
    repository.put(ADMINS, doc(), actor="a")
    before = scan_all(dynamodb_client, repository.table)
    huge = "x" * (400 * 1024)
    attempts: list[tuple[type[Exception], Callable[[], object]]] = [
        (ConflictError, lambda: repository.put(ADMINS, doc("b"), actor="z", expected_version=9)),
        (AlreadyExistsError, lambda: repository.put(ADMINS, doc("b"), actor="z", create_only=True)),
        (NotFoundError, lambda: repository.put(DEFAULT, doc(), actor="z", expected_version=1)),
        (NotFoundError, lambda: repository.delete(DEFAULT, actor="z")),
        (ConflictError, lambda: repository.delete(ADMINS, actor="z", expected_version=3)),
        (ItemTooLargeError, lambda: repository.put(ADMINS, doc(), actor="z", description=huge)),
        (ItemTooLargeError, lambda: repository.put(DEFAULT, doc(), actor="z", description=huge)),
        (
            ValueError,
            lambda: repository.put(ADMINS, doc(), actor="z", create_only=True, expected_version=1),
        ),
    ]
    for error, attempt in attempts:
        with pytest.raises(error):
            attempt()
        assert scan_all(dynamodb_client, repository.table) == before
    assert repository.epoch() == 1


def test_item_too_large_is_refused_before_any_request(
    repository: DynamoRepository, count_requests: Counting
) -> None:
    """A create whose item would pass 400 KB raises ItemTooLargeError without calling DynamoDB."""
    counter = count_requests(repository)
    with pytest.raises(ItemTooLargeError, match="409600"):
        repository.put(ADMINS, doc(), actor="a", create_only=True, description="é" * 205_000)
    assert counter.total == 0


def test_epoch_moves_on_every_write_and_only_then(repository: DynamoRepository) -> None:
    """Each successful put/delete adds exactly one to the epoch; reads and failures add nothing."""
    assert repository.epoch() == 0
    assert repository.put(ADMINS, doc(), actor="a").epoch == 1
    repository.get(ADMINS)
    repository.get_many([ADMINS, DEFAULT])
    repository.list()
    repository.history(ADMINS)
    assert repository.epoch() == 1
    for failing in (
        lambda: repository.put(ADMINS, doc(), actor="a", create_only=True),
        lambda: repository.put(ADMINS, doc(), actor="a", expected_version=7),
        lambda: repository.delete(DEFAULT, actor="a"),
    ):
        with pytest.raises(StoreAnswer):
            failing()
    assert repository.epoch() == 1
    assert repository.put(ADMINS, doc("2"), actor="a", expected_version=1).epoch == 2
    assert repository.put(DEFAULT, doc(), actor="a").epoch == 3
    assert repository.delete(ADMINS, actor="a").epoch == 4
    assert repository.epoch() == 4


@pytest.mark.parametrize(
    ("count", "requests"), [(0, 0), (1, 1), (37, 1), (100, 1), (101, 2), (250, 3)]
)
def test_get_many_costs_one_batch_per_100_selectors(
    repository: DynamoRepository,
    dynamodb_client: Any,
    count_requests: Counting,
    count: int,
    requests: int,
) -> None:
    """get_many of n selectors sends ceil(n/100) BatchGetItem requests (none for n = 0)."""
    selectors = groups(count)
    seed_policies(dynamodb_client, repository.table, selectors[::2])
    counter = count_requests(repository)
    found = repository.get_many(selectors)
    assert counter.total == requests
    assert counter.by_operation == ({"BatchGetItem": requests} if requests else {})
    assert set(found) == set(selectors[::2])
    for selector, record in found.items():
        assert record.selector == selector
        assert record.description == f"seeded {selector}"


def test_cache_miss_sized_get_many_is_one_request(
    repository: DynamoRepository, dynamodb_client: Any, count_requests: Counting
) -> None:
    """A principal's selectors (default + 99 groups/scopes, with duplicates) cost one request."""
    wanted = [DEFAULT, *groups(60), *[Selector("scope", f"s/{i}") for i in range(39)]]
    seed_policies(dynamodb_client, repository.table, wanted)
    counter = count_requests(repository)
    found = repository.get_many(wanted + wanted[:10])
    assert counter.by_operation == {"BatchGetItem": 1}
    assert set(found) == set(wanted)


def test_get_many_with_epoch_is_one_snapshot_request(
    repository: DynamoRepository, count_requests: Counting
) -> None:
    """get_many_with_epoch answers what get_many and epoch answer, in one TransactGetItems,
    without tombstones and with epoch 0 before any write."""
    assert repository.get_many_with_epoch([DEFAULT, ADMINS]) == ({}, 0)
    readers, gone = Selector("group", "readers"), Selector("group", "gone")
    for s in (DEFAULT, ADMINS, readers, gone):
        repository.put(s, doc(str(s)), actor="a")
    repository.delete(gone, actor="a")
    wanted = [DEFAULT, ADMINS, readers, gone, Selector("scope", "none"), ADMINS]
    counter = count_requests(repository)
    found, epoch = repository.get_many_with_epoch(wanted)
    assert counter.by_operation == {"TransactGetItems": 1}
    assert (found, epoch) == (repository.get_many(wanted), repository.epoch())
    assert set(found) == {DEFAULT, ADMINS, readers}
    assert epoch == 5


def test_get_many_with_epoch_reads_the_epoch_first_beyond_one_transaction(
    repository: DynamoRepository, dynamodb_client: Any, count_requests: Counting
) -> None:
    """99 selectors fit one TransactGetItems with the epoch item; 100 take GetItem then
    BatchGetItem, and answer the same."""
    selectors = groups(100)
    seed_policies(dynamodb_client, repository.table, selectors[::3])
    counter = count_requests(repository)
    fits, _ = repository.get_many_with_epoch(selectors[:99])
    assert counter.by_operation == {"TransactGetItems": 1}
    counter.reset()
    found, epoch = repository.get_many_with_epoch(selectors)
    assert counter.by_operation == {"GetItem": 1, "BatchGetItem": 1}
    assert set(found) == set(selectors[::3])
    assert set(fits) == set(selectors[:99:3])
    assert epoch == 0


def test_get_many_with_epoch_falls_back_when_a_write_holds_an_item(
    repository: DynamoRepository, count_requests: Counting
) -> None:
    """A TransactGetItems that DynamoDB cancels for a write in flight is answered by reading
    the epoch first and the policies after it."""
    repository.put(ADMINS, doc(), actor="a")

    class Response:
        status_code = 400

    def cancel(**_: Any) -> tuple[Response, dict[str, Any]]:
        error = {"Code": "TransactionCanceledException", "Message": "TransactionConflict"}
        return Response(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    repository.events.register("before-call.dynamodb.TransactGetItems", cancel)
    try:
        counter = count_requests(repository)
        found, epoch = repository.get_many_with_epoch([ADMINS])
    finally:
        repository.events.unregister("before-call.dynamodb.TransactGetItems", cancel)
    assert counter.by_operation == {"GetItem": 1, "BatchGetItem": 1}
    assert set(found) == {ADMINS}
    assert epoch == 1


def test_client_loads_dynamodb_models_like_a_default_session(repository: DynamoRepository) -> None:
    """The shared session (the repository's) knows only DynamoDB, and a client it builds has
    the same service model as one from a default botocore session."""
    import botocore.session

    from authz.store.connection import connect, shared_session

    client = connect(
        region="us-east-1",
        host="http://127.0.0.1:9",
        connect_timeout=1,
        read_timeout=1,
        attempts=1,
    ).client
    loader = shared_session().get_component("data_loader")
    for kind in ("service-2", "endpoint-rule-set-1"):
        assert loader.list_available_services(kind) == ["dynamodb"]
    reference = botocore.session.get_session().create_client(
        "dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9"
    )
    ours, theirs = client.meta.service_model, reference.meta.service_model
    assert (ours.api_version, ours.operation_names) == (theirs.api_version, theirs.operation_names)
    assert ours.operation_model("TransactGetItems").input_shape.members.keys() == (
        theirs.operation_model("TransactGetItems").input_shape.members.keys()
    )


def test_selectors_that_look_like_separators_never_collide(repository: DynamoRepository) -> None:
    """Names holding ':', '#', 'policy' or 'meta:epoch' address only their own item."""
    names = ["meta:epoch", "policy", "history#0000000001", "a:b", "default", "x#policy"]
    selectors = [Selector("group", n) for n in names] + [
        Selector("scope", n) for n in names if n != "x#policy"
    ]
    selectors.append(DEFAULT)
    for i, s in enumerate(selectors):
        repository.put(s, doc(f"p{i}"), actor="a", description=str(s))
    assert repository.epoch() == len(selectors)
    got = repository.get_many(selectors)
    assert len(got) == len(selectors)
    for i, s in enumerate(selectors):
        assert got[s].description == str(s)
        assert got[s].document == doc(f"p{i}")
        assert [e.version for e in repository.history(s).items] == [1]
    listed = []
    cursor = None
    while True:
        page = repository.list(limit=4, cursor=cursor)
        listed.extend(r.selector for r in page.items)
        cursor = page.cursor
        if cursor is None:
            break
    assert listed == sorted(selectors, key=str)


def test_invalid_names_cannot_reach_the_store(repository: DynamoRepository) -> None:
    """Invalid kinds and names fail as SelectorError before any request; list refuses bad kinds."""
    for kind, name in [("group", "has space"), ("group", ""), ("scope", 'q"'), ("user", "x")]:
        with pytest.raises(SelectorError):
            Selector.of(kind, name)
    with pytest.raises(SelectorError):
        repository.list(kind="user")
    assert repository.epoch() == 0


def test_history_newest_first_with_pagination(repository: DynamoRepository) -> None:
    """History lists every action newest first, paged without gaps, last page with cursor None."""
    repository.put(ADMINS, doc("1"), actor="u1", description="one")
    for i in range(2, 6):
        repository.put(ADMINS, doc(str(i)), actor=f"u{i}", expected_version=i - 1)
    repository.delete(ADMINS, actor="u6")
    repository.put(ADMINS, doc("7"), actor="u7", create_only=True)
    repository.put(DEFAULT, doc(), actor="other")  # another selector's history stays apart
    entries = []
    cursor = None
    pages = 0
    while True:
        page = repository.history(ADMINS, limit=3, cursor=cursor)
        pages += 1
        entries.extend(page.items)
        cursor = page.cursor
        if cursor is None:
            break
    assert pages == 3
    assert [(e.action, e.by) for e in entries] == [
        ("create", "u7"),
        ("delete", "u6"),
        ("update", "u5"),
        ("update", "u4"),
        ("update", "u3"),
        ("update", "u2"),
        ("create", "u1"),
    ]
    assert [e.version for e in entries][1:] == [5, 5, 4, 3, 2, 1]
    assert entries[0].version > 5
    assert entries[1].document == doc("5").to_dict()  # a delete keeps what it deleted
    assert entries[-1].description == "one"
    assert all(e.selector == ADMINS for e in entries)
    assert entries[0].at >= entries[-1].at


def test_history_of_unknown_policy_is_empty(repository: DynamoRepository) -> None:
    """A selector never written has an empty history and no cursor."""
    page = repository.history(ADMINS)
    assert (page.items, page.cursor) == ((), None)


def test_bad_cursors_are_cursor_errors(repository: DynamoRepository) -> None:
    """Garbage, tampered or foreign cursors raise CursorError (a 400), never a store error."""
    for s in groups(3):
        repository.put(s, doc(), actor="a")
        repository.put(s, doc("2"), actor="a")
    list_cursor = repository.list(limit=1).cursor
    history_cursor = repository.history(groups(1)[0], limit=1).cursor
    assert list_cursor is not None
    assert history_cursor is not None
    for bad in ["", "!!!", "e30", "bm90IGpzb24", "x" * 5000, history_cursor]:
        with pytest.raises(CursorError):
            repository.list(cursor=bad)
    with pytest.raises(CursorError):
        repository.list(kind="scope", cursor=list_cursor)
    for bad in ["e30", list_cursor]:
        with pytest.raises(CursorError):
            repository.history(groups(1)[0], cursor=bad)
    with pytest.raises(CursorError):
        repository.history(groups(3)[2], cursor=history_cursor)


def test_list_pages_1000_policies_without_duplicates_or_gaps(
    repository: DynamoRepository, dynamodb_client: Any, count_requests: Counting
) -> None:
    """Paging 1,000 policies yields each exactly once, in selector order, one Query per page."""
    selectors = [DEFAULT, *groups(600), *[Selector("scope", f"api/{i:03d}") for i in range(399)]]
    seed_policies(dynamodb_client, repository.table, selectors)
    counter = count_requests(repository)
    seen: list[Selector] = []
    cursor = None
    pages = 0
    while True:
        page = repository.list(limit=97, cursor=cursor)
        pages += 1
        assert len(page.items) == 97 or page.cursor is None
        seen.extend(r.selector for r in page.items)
        cursor = page.cursor
        if cursor is None:
            break
    assert pages == 11
    assert counter.by_operation == {"Query": pages}
    assert len(seen) == len(set(seen)) == 1000
    assert seen == sorted(selectors, key=str)
    for kind, expected in [("group", 600), ("scope", 399), ("default", 1)]:
        listed: list[Selector] = []
        cursor = None
        while True:
            page = repository.list(kind=kind, limit=250, cursor=cursor)
            listed.extend(r.selector for r in page.items)
            cursor = page.cursor
            if cursor is None:
                break
        assert len(listed) == len(set(listed)) == expected
        assert {s.kind for s in listed} == {kind}


def test_list_cursor_survives_writes_between_pages(repository: DynamoRepository) -> None:
    """Deleting the cursor's item or adding earlier ones neither repeats nor skips the rest."""
    for s in groups(6):
        repository.put(s, doc(), actor="a")
    first = repository.list(limit=3)
    assert [str(r.selector) for r in first.items] == ["group:g0000", "group:g0001", "group:g0002"]
    repository.delete(Selector("group", "g0002"), actor="a")
    repository.put(Selector("group", "a-first"), doc(), actor="a")
    second = repository.list(limit=3, cursor=first.cursor)
    assert [str(r.selector) for r in second.items] == ["group:g0003", "group:g0004", "group:g0005"]
    assert second.cursor is None


def test_limits_out_of_range_are_refused(repository: DynamoRepository) -> None:
    """A page size below 1 or above 1000 is a caller bug."""
    for bad in (0, 1001):
        with pytest.raises(ValueError, match="limit"):
            repository.list(limit=bad)
        with pytest.raises(ValueError, match="limit"):
            repository.history(ADMINS, limit=bad)


def test_create_table_is_idempotent_and_missing_table_is_a_store_error(
    store_settings: Settings,
) -> None:
    """create_table creates once, then reports it exists; a missing table is a StoreError."""
    repo = DynamoRepository(store_settings)
    with pytest.raises(StoreError, match="does not exist"):
        repo.get(ADMINS)
    with pytest.raises(StoreError, match="does not exist"):
        repo.get_many([ADMINS])
    assert repo.create_table() is True
    try:
        assert repo.create_table() is False
        assert repo.epoch() == 0
    finally:
        assert repo.delete_table() is True
    assert repo.delete_table() is False
