"""MemoryRepository's revocations and the table keys it shares with DynamoRepository.

The same contract runs against DynamoDB Local in
tests/integration/store/test_revocations.py (which also compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from authz.errors import CursorError, NotFoundError
from authz.revocations import KINDS, Revocation, RevocationEvent, Target
from authz.store import cursor as cursors
from authz.store.memory import MemoryRepository
from authz.store.revocation_keys import revocation_position, revocation_sk, target_of
from authz.store.types import RevocationRepository, RevocationSource

AT = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
ALICE = Target("sub", "alice")


def revocation(target: Target, *, at: datetime = AT, reason: str = "why") -> Revocation:
    return Revocation.new(
        target, reason=reason, revoked_by="admin", revoked_at=at, max_token_lifetime=86_400
    )


def store(at: datetime = AT) -> MemoryRepository:
    return MemoryRepository(clock=lambda: at)


def test_memory_repository_is_a_revocation_repository() -> None:
    repo: RevocationRepository = store()
    assert isinstance(repo, RevocationSource)


def test_revoke_delete_round_trip_with_epoch_and_history() -> None:
    """Each write bumps the epoch once and logs one entry; the delete answers what it lifted."""
    repo = store()
    written = revocation(ALICE)
    assert repo.revoke(written).epoch == 1
    assert repo.get_revocation(ALICE) == written
    lifted = repo.delete_revocation(ALICE, actor="boss")
    assert (lifted.revocation, lifted.epoch) == (written, 2)
    with pytest.raises(NotFoundError):
        repo.get_revocation(ALICE)
    with pytest.raises(NotFoundError):
        repo.delete_revocation(ALICE, actor="boss")
    assert repo.epoch() == 2
    assert [(e.action, e.by, e.reason) for e in repo.revocation_history().items] == [
        ("delete", "boss", "why"),
        ("revoke", "admin", "why"),
    ]


def test_expired_revocation_is_not_found_nor_listed_nor_held() -> None:
    """By the repository's clock, past expires_at a revocation is gone everywhere."""
    written = revocation(ALICE)
    repo = store(datetime.fromtimestamp(written.expires_at, UTC))
    repo.revoke(written)
    with pytest.raises(NotFoundError):
        repo.get_revocation(ALICE)
    assert repo.list_revocations().items == ()
    assert len(repo.live_revocations(max_entries=5)) == 0
    just_before = store(datetime.fromtimestamp(written.expires_at - 1, UTC))
    just_before.revoke(written)
    assert just_before.get_revocation(ALICE) == written


def test_listing_is_in_target_order_and_pages_by_cursor() -> None:
    repo = store()
    targets = [
        Target("sub", "b"),
        Target("jti", "z"),
        Target("sub", "a"),
        Target("origin_jti", "o"),
    ]
    for target in targets:
        repo.revoke(revocation(target))
    first = repo.list_revocations(limit=3)
    assert first.cursor is not None
    rest = repo.list_revocations(limit=3, cursor=first.cursor)
    assert rest.cursor is None
    assert [r.target for r in first.items + rest.items] == sorted(targets)


def test_live_revocations_past_max_entries_is_incomplete() -> None:
    repo = store()
    for n in range(3):
        repo.revoke(revocation(Target("jti", f"j{n}")))
    assert repo.live_revocations(max_entries=3).complete
    partial = repo.live_revocations(max_entries=2)
    assert (partial.jtis, partial.complete) == (frozenset({"j0", "j1"}), False)


def test_same_microsecond_writes_get_distinct_history_positions() -> None:
    """Writes of one target at one frozen instant each keep their entry, a microsecond apart,
    and page without loss."""
    repo = store()
    for reason in ("one", "two", "three"):
        repo.revoke(revocation(ALICE, reason=reason))
    first = repo.revocation_history(limit=2)
    assert first.cursor is not None
    second = repo.revocation_history(limit=2, cursor=first.cursor)
    entries = first.items + second.items
    assert [(e.reason, e.at - AT) for e in entries] == [
        ("three", timedelta(microseconds=2)),
        ("two", timedelta(microseconds=1)),
        ("one", timedelta(0)),
    ]


def test_foreign_cursors_are_refused() -> None:
    repo = store()
    with pytest.raises(CursorError):
        repo.list_revocations(cursor=cursors.encode({"revocation_event": "x"}))
    with pytest.raises(CursorError):
        repo.revocation_history(cursor=cursors.encode({"revocation": "sub:alice"}))


def test_reset_forgets_revocations() -> None:
    repo = store()
    repo.revoke(revocation(ALICE))
    repo.reset()
    assert repo.list_revocations().items == ()
    assert repo.revocation_history().items == ()
    assert repo.epoch() == 0


# -- keys shared with the table --------------------------------------------------------

TRICKY = ["a", "a-", "a.", "a0", "aA", "a~", "a:b", "a@", "A", "-", "~", "a+b", "a=b", "ab"]


def test_sort_keys_order_like_targets() -> None:
    """The table lists by sort key, memory by Target: both orders agree for any values."""
    targets = [Target(kind, value) for kind in KINDS for value in TRICKY]
    assert sorted(targets, key=revocation_sk) == sorted(targets)
    for target in targets:
        assert target_of(revocation_sk(target)) == target


@pytest.mark.parametrize("sk", ["sub", "nope#x", "sub#", "sub#a b", "sub#a/b"])
def test_target_of_refuses_what_no_revocation_key_is(sk: str) -> None:
    with pytest.raises(ValueError, match=r"revocation|invalid"):
        target_of(sk)


def test_history_position_is_exact_to_the_microsecond() -> None:
    """Integer arithmetic: a float timestamp would put some instants a microsecond early."""
    base = datetime(2030, 1, 1, tzinfo=UTC)
    for micros in (0, 1, 123_457, 999_999, 555_555):
        at = base + timedelta(seconds=1_234_567, microseconds=micros)
        position = revocation_position(RevocationEvent(ALICE, "revoke", at, "a", ""))
        expected = int((base - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) + 1_234_567
        assert position == f"{expected * 1_000_000 + micros:016d}#sub:alice"
    assert cursors.revocation_history_after(cursors.encode({"revocation_event": position}))
