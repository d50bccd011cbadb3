"""Revocations in DynamoDB Local: round trips, history, expiry, the authorizer's read, errors.

The scenario tests run the same writes against ``MemoryRepository`` as well,
so the reference implementation and the table are held to one contract.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from authz.dev.dynamodb import DynamoDBLocal, free_port
from authz.errors import (
    ConflictError,
    CursorError,
    NotFoundError,
    StoreError,
    StoreUnavailableError,
)
from authz.revocations import Revocation, Target
from authz.settings import Settings
from authz.store import cursor as cursors
from authz.store.memory import MemoryRepository
from authz.store.repository import DynamoRepository
from authz.store.types import RevocationRepository, RevocationSource
from tests.fixtures.dynamodb import RequestCounter, scan_all

pytestmark = pytest.mark.integration

Counting = Callable[[DynamoRepository], RequestCounter]
DAY = 86_400
ALICE = Target("sub", "alice")


def now() -> datetime:
    return datetime.now(UTC)


def revocation(
    target: Target,
    *,
    at: datetime | None = None,
    until: datetime | None = None,
    reason: str = "left the company",
    by: str = "admin",
) -> Revocation:
    return Revocation.new(
        target,
        reason=reason,
        revoked_by=by,
        revoked_at=at if at is not None else now(),
        until=until,
        max_token_lifetime=DAY,
        leeway=30,
    )


def every_page(read: Callable[..., Any], limit: int) -> list[list[Any]]:
    """Each page's items, following cursors until the last page."""
    pages: list[list[Any]] = []
    cursor = None
    while True:
        page = read(limit=limit, cursor=cursor)
        pages.append(list(page.items))
        cursor = page.cursor
        if cursor is None:
            return pages


@pytest.fixture
def fixed(
    store_settings: Settings, repository: DynamoRepository
) -> Callable[[datetime], DynamoRepository]:
    """``fixed(at)``: a DynamoRepository on the test's table whose clock reads ``at``."""
    del repository  # only here to create the table first

    def make(at: datetime) -> DynamoRepository:
        return DynamoRepository(store_settings, clock=lambda: at)

    return make


# -- round trips -----------------------------------------------------------------------


def test_is_a_revocation_repository(repository: DynamoRepository) -> None:
    """The authorizer sees a RevocationSource (so it holds revocations), the admin API a
    RevocationRepository."""
    assert isinstance(repository, RevocationSource)
    repo: RevocationRepository = repository
    assert repo.list_revocations().items == ()
    assert repo.revocation_history().items == ()


def test_revoke_get_round_trip_bumps_the_epoch_and_writes_history(
    repository: DynamoRepository,
) -> None:
    """Every field reads back as written; the write moved the epoch by one and logged one entry."""
    at = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    written = revocation(ALICE, at=at, until=at + timedelta(hours=2), reason="stolen laptop")
    result = repository.revoke(written)
    assert result.revocation == written
    assert result.epoch == 1 == repository.epoch()
    got = repository.get_revocation(ALICE)
    assert got == written
    assert got.revoked_at == at
    assert got.until == at + timedelta(hours=2)
    assert got.expires_at == written.expires_at
    [entry] = repository.revocation_history().items
    assert entry.to_dict() == {
        "id": "sub:alice",
        "action": "revoke",
        "at": "2030-01-02T03:04:05.678901Z",
        "by": "admin",
        "reason": "stolen laptop",
        "until": "2030-01-02T05:04:05.678901Z",
    }


def test_item_layout_and_ttl_attribute(repository: DynamoRepository, dynamodb_client: Any) -> None:
    """The item sits in its own partition with the TTL and cutoff as numbers, outside the list
    index; the history entry in another partition."""
    written = repository.revoke(revocation(Target("jti", "t-1"), reason="")).revocation
    items = {(i["pk"]["S"], i["sk"]["S"]): i for i in scan_all(dynamodb_client, repository.table)}
    item = items[("meta:revocations", "jti#t-1")]
    assert item["expires_at"] == {"N": str(written.expires_at)}
    assert item["cutoff"] == {"N": str(written.cutoff)}
    assert "list_pk" not in item
    assert "reason" not in item  # an empty reason is stored as no attribute
    [history] = [i for (pk, _), i in items.items() if pk == "meta:revocation-history"]
    assert history["sk"]["S"].endswith("#jti:t-1")
    assert history["action"] == {"S": "revoke"}
    assert repository.get_revocation(Target("jti", "t-1")).reason == ""


def test_table_has_ttl_on_expires_at(repository: DynamoRepository, dynamodb_client: Any) -> None:
    """create_table turns TTL on, on the attribute the items carry."""
    described = dynamodb_client.describe_time_to_live(TableName=repository.table)
    assert described["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }
    assert repository.time_to_live()["AttributeName"] == "expires_at"


def test_create_table_turns_ttl_on_for_an_existing_table(
    store_settings: Settings, dynamodb_client: Any
) -> None:
    """A table made before revocations (no TTL) gets it from running create_table again."""
    from authz.store.models import create_table_arguments

    repo = DynamoRepository(store_settings)
    arguments = create_table_arguments()
    dynamodb_client.create_table(
        TableName=repo.table,
        AttributeDefinitions=[
            d for d in arguments["attribute_definitions"] if d["AttributeName"] in ("pk", "sk")
        ],
        KeySchema=arguments["key_schema"],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        before = dynamodb_client.describe_time_to_live(TableName=repo.table)
        assert before["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
        assert repo.create_table() is False
        assert repo.time_to_live()["TimeToLiveStatus"] == "ENABLED"
        assert repo.create_table() is False  # enabling twice would be an error: not attempted
    finally:
        repo.delete_table()


def test_re_revoking_replaces_and_history_keeps_both(repository: DynamoRepository) -> None:
    """A second revocation of the same target replaces the first; both are in the history."""
    first = repository.revoke(revocation(ALICE, reason="first")).revocation
    second = repository.revoke(revocation(ALICE, reason="second", by="other")).revocation
    assert repository.get_revocation(ALICE) == second
    assert [r.reason for r in repository.list_revocations().items] == ["second"]
    history = repository.revocation_history().items
    assert [(e.reason, e.by) for e in history] == [("second", "other"), ("first", "admin")]
    assert first != second
    assert repository.epoch() == 2


def test_delete_lifts_the_revocation(repository: DynamoRepository) -> None:
    """Delete answers the revocation deleted, bumps the epoch, logs who lifted it and why
    it had been written; afterwards the target is not found."""
    written = repository.revoke(revocation(ALICE, reason="on leave")).revocation
    result = repository.delete_revocation(ALICE, actor="boss")
    assert result.revocation == written
    assert result.epoch == 2 == repository.epoch()
    with pytest.raises(NotFoundError):
        repository.get_revocation(ALICE)
    latest = repository.revocation_history().items[0]
    assert (latest.action, latest.by, latest.reason, latest.target) == (
        "delete",
        "boss",
        "on leave",
        ALICE,
    )
    assert repository.list_revocations().items == ()


def test_absent_target_is_not_found_and_changes_nothing(
    repository: DynamoRepository, dynamodb_client: Any
) -> None:
    """get and delete of a target never revoked, or deleted already, raise NotFoundError and
    write nothing."""
    with pytest.raises(NotFoundError):
        repository.get_revocation(ALICE)
    with pytest.raises(NotFoundError):
        repository.delete_revocation(ALICE, actor="a")
    assert scan_all(dynamodb_client, repository.table) == []
    repository.revoke(revocation(ALICE))
    repository.delete_revocation(ALICE, actor="a")
    before = scan_all(dynamodb_client, repository.table)
    with pytest.raises(NotFoundError):
        repository.delete_revocation(ALICE, actor="a")
    assert scan_all(dynamodb_client, repository.table) == before


def test_expired_revocations_are_invisible_before_ttl_removes_them(
    repository: DynamoRepository,
    fixed: Callable[[datetime], DynamoRepository],
    dynamodb_client: Any,
) -> None:
    """Past expires_at by the repository's clock, a revocation still in the table is not
    found, not listed, not held by the authorizer and cannot be deleted."""
    repository.revoke(revocation(ALICE))
    repository.revoke(revocation(Target("jti", "j")))
    later = fixed(now() + timedelta(days=2))
    with pytest.raises(NotFoundError):
        later.get_revocation(ALICE)
    with pytest.raises(NotFoundError):
        later.delete_revocation(ALICE, actor="a")
    assert later.list_revocations().items == ()
    live = later.live_revocations(max_entries=10)
    assert (len(live), live.complete) == (0, True)
    stored = [
        i for i in scan_all(dynamodb_client, repository.table) if i["pk"]["S"] == "meta:revocations"
    ]
    assert len(stored) == 2  # still in the table: the readers filtered them
    assert len(repository.live_revocations(max_entries=10)) == 2  # and live for today's clock


def test_revocation_written_already_expired_is_not_found(repository: DynamoRepository) -> None:
    """A revocation whose expiry lies in the past (revoked three days ago) is never served."""
    repository.revoke(revocation(ALICE, at=now() - timedelta(days=3)))
    with pytest.raises(NotFoundError):
        repository.get_revocation(ALICE)
    assert len(repository.live_revocations(max_entries=10)) == 0


# -- the same contract as MemoryRepository -------------------------------------------


TARGETS = [
    Target("sub", "zed"),
    Target("jti", "b"),
    Target("origin_jti", "o-1"),
    Target("sub", "alice"),
    Target("jti", "a"),
    Target("sub", "al"),
    Target("origin_jti", "o-0"),
]


def scenario(repo: Any, start: datetime) -> None:
    """Revoke seven targets a second apart, re-revoke one, lift two."""
    for n, target in enumerate(TARGETS):
        repo.revoke(revocation(target, at=start + timedelta(seconds=n), reason=f"r{n}"))
    repo.revoke(
        revocation(Target("sub", "alice"), at=start + timedelta(seconds=10), reason="again")
    )
    repo.delete_revocation(Target("jti", "b"), actor="d1")
    repo.delete_revocation(Target("sub", "zed"), actor="d2")


def test_listing_and_history_pages_match_the_memory_repository(
    fixed: Callable[[datetime], DynamoRepository],
) -> None:
    """Same writes, same clock: the same pages (limit 2 and 1000), the same cursors' contents,
    the same live set and epoch in both repositories."""
    start = now().replace(microsecond=0)
    clock_at = start + timedelta(seconds=30)
    table = fixed(clock_at)
    memory = MemoryRepository(clock=lambda: clock_at)
    for repo in (table, memory):
        scenario(repo, start)
    for limit in (2, 1000):
        assert every_page(table.list_revocations, limit) == every_page(
            memory.list_revocations, limit
        )
        assert every_page(table.revocation_history, limit) == every_page(
            memory.revocation_history, limit
        )
    listed = [r.target for page in every_page(table.list_revocations, 2) for r in page]
    assert listed == sorted(set(TARGETS) - {Target("jti", "b"), Target("sub", "zed")})
    history = [e for page in every_page(table.revocation_history, 3) for e in page]
    assert [e.at for e in history] == sorted((e.at for e in history), reverse=True)
    assert len(history) == 10
    assert table.live_revocations(max_entries=100) == memory.live_revocations(max_entries=100)
    assert table.epoch() == memory.epoch() == 10


def test_writes_in_one_microsecond_each_get_a_history_entry(
    fixed: Callable[[datetime], DynamoRepository],
) -> None:
    """Revoke, re-revoke and delete of one target at one frozen instant: three entries, each
    at its own microsecond (the later ones moved on), none overwritten; memory agrees."""
    at = now().replace(microsecond=0)
    table = fixed(at)
    memory = MemoryRepository(clock=lambda: at)
    for repo in (table, memory):
        repo.revoke(revocation(ALICE, at=at, reason="one"))
        repo.revoke(revocation(ALICE, at=at, reason="two"))
        repo.delete_revocation(ALICE, actor="x")
    entries = table.revocation_history().items
    assert [(e.action, e.reason, e.at) for e in entries] == [
        ("delete", "two", at + timedelta(microseconds=2)),
        ("revoke", "two", at + timedelta(microseconds=1)),
        ("revoke", "one", at),
    ]
    assert memory.revocation_history().items == entries
    assert table.epoch() == 3


# -- the authorizer's read -------------------------------------------------------------


def test_live_revocations_is_one_consistent_query_of_the_whole_set(
    repository: DynamoRepository, count_requests: Counting
) -> None:
    """The set holds each kind; a sub's cutoff is the later of revoked_at and until; reading
    it costs one Query."""
    at = now().replace(microsecond=500_000)
    repository.revoke(revocation(ALICE, at=at))
    repository.revoke(revocation(Target("sub", "bob"), at=at, until=at + timedelta(hours=1)))
    repository.revoke(revocation(Target("origin_jti", "session")))
    repository.revoke(revocation(Target("jti", "token")))
    counter = count_requests(repository)
    live = repository.live_revocations(max_entries=10)
    assert dict(counter.by_operation) == {"Query": 1}
    cutoff = int(at.timestamp()) + 1  # rounded up to the next whole second
    assert dict(live.subs) == {"alice": cutoff, "bob": cutoff + 3600}
    assert live.origin_jtis == frozenset({"session"})
    assert live.jtis == frozenset({"token"})
    assert live.complete
    assert live.match({"sub": "bob", "iat": cutoff + 3600}) == Target("sub", "bob")
    assert live.match({"sub": "bob", "iat": cutoff + 3601, "auth_time": cutoff + 3601}) is None


def test_live_revocations_past_max_entries_is_incomplete(repository: DynamoRepository) -> None:
    """More live revocations than max_entries: the first max_entries (key order) and
    complete=False; exactly max_entries is complete."""
    for n in range(5):
        repository.revoke(revocation(Target("jti", f"j{n}")))
    repository.revoke(revocation(Target("jti", "expired"), at=now() - timedelta(days=3)))
    partial = repository.live_revocations(max_entries=3)
    assert (partial.jtis, partial.complete) == (frozenset({"j0", "j1", "j2"}), False)
    whole = repository.live_revocations(max_entries=5)  # the expired sixth does not count
    assert (len(whole), whole.complete) == (5, True)


def test_live_revocations_follows_pages(
    repository: DynamoRepository, dynamodb_client: Any, count_requests: Counting
) -> None:
    """A set larger than one 1 MB page is read whole, page after page."""
    # Padding makes each item about 4 KB, so 400 of them fill two pages; the
    # projection still asks only for the key and the cutoff.
    revoked = revocation(ALICE)
    requests = []
    for n in range(400):
        item = {
            "pk": {"S": "meta:revocations"},
            "sk": {"S": f"jti#j{n:04d}"},
            "revoked_by": {"S": "seed"},
            "revoked_at": {"S": revoked.revoked_at.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},
            "reason": {"S": "x" * 4000},
            "cutoff": {"N": str(revoked.cutoff)},
            "expires_at": {"N": str(revoked.expires_at)},
        }
        requests.append({"PutRequest": {"Item": item}})
    for start in range(0, len(requests), 25):
        dynamodb_client.batch_write_item(
            RequestItems={repository.table: requests[start : start + 25]}
        )
    counter = count_requests(repository)
    live = repository.live_revocations(max_entries=1000)
    assert (len(live.jtis), live.complete) == (400, True)
    assert counter.by_operation["Query"] >= 2


# -- bad input and failures ----------------------------------------------------------


def test_foreign_cursors_are_cursor_errors(repository: DynamoRepository) -> None:
    """A cursor not issued by the same listing is a CursorError (400), never a store error."""
    history_cursor = cursors.encode({"revocation_event": f"{1:016d}#sub:alice"})
    list_cursor = cursors.encode({"revocation": "sub:alice"})
    for bad in ("garbage", history_cursor, cursors.encode({"revocation": "nope:x"})):
        with pytest.raises(CursorError):
            repository.list_revocations(cursor=bad)
    for bad in ("garbage", list_cursor, cursors.encode({"revocation_event": "12#sub:alice"})):
        with pytest.raises(CursorError):
            repository.revocation_history(cursor=bad)
    with pytest.raises(ValueError, match="limit"):
        repository.list_revocations(limit=0)


def test_unreadable_items_are_store_errors(
    repository: DynamoRepository, dynamodb_client: Any
) -> None:
    """A revocation item written outside authz that does not parse fails the read closed."""
    repository.revoke(revocation(ALICE))
    far = str(int(now().timestamp()) + DAY)
    dynamodb_client.put_item(
        TableName=repository.table,
        Item={"pk": {"S": "meta:revocations"}, "sk": {"S": "bogus"}, "expires_at": {"N": far}},
    )
    with pytest.raises(StoreError):
        repository.live_revocations(max_entries=10)
    with pytest.raises(StoreError):
        repository.list_revocations()


def test_store_down_is_a_store_error(dynamodb_local: DynamoDBLocal) -> None:
    """With nothing listening, every revocation call raises StoreUnavailableError."""
    down = DynamoRepository(
        Settings(table="absent", dynamodb_endpoint=f"http://127.0.0.1:{free_port()}")
    )
    calls: list[Callable[[], Any]] = [
        lambda: down.live_revocations(max_entries=10),
        lambda: down.revoke(revocation(ALICE)),
        lambda: down.get_revocation(ALICE),
        lambda: down.delete_revocation(ALICE, actor="a"),
        down.list_revocations,
        down.revocation_history,
    ]
    for call in calls:
        with pytest.raises(StoreUnavailableError):
            call()


def test_a_delete_racing_a_re_revoke_lifts_nothing(
    repository: DynamoRepository, store_settings: Settings
) -> None:
    """A re-revoke landing between the delete's read and its write fails the delete's
    condition: the delete answers ConflictError and the newer revocation stands, since
    the caller never saw it."""
    repository.revoke(revocation(ALICE, reason="old"))
    other = DynamoRepository(store_settings)
    newer: list[Revocation] = []

    def race(**_: Any) -> None:
        if not newer:
            newer.append(other.revoke(revocation(ALICE, reason="new")).revocation)

    repository.events.register("before-send.dynamodb.TransactWriteItems", race)
    try:
        with pytest.raises(ConflictError, match="changed while it was being lifted"):
            repository.delete_revocation(ALICE, actor="a")
    finally:
        repository.events.unregister("before-send.dynamodb.TransactWriteItems", race)
    assert repository.get_revocation(ALICE) == newer[0]
    actions = [(e.action, e.reason) for e in repository.revocation_history().items]
    assert actions == [("revoke", "new"), ("revoke", "old")]
    assert repository.epoch() == 2
