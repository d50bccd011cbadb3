"""RevocationHolder: when it reads the store, what it serves when the store fails, overflow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from authz.errors import (
    RevocationsOverflowError,
    RevokedTokenError,
    StoreError,
    StoreUnavailableError,
)
from authz.revocations import Revocation, RevocationSet, Target
from authz.service.revocations import RevocationHolder
from authz.store.memory import MemoryRepository
from authz.store.types import RevocationSource

WALL = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
STALE = 60.0
REFRESH = 5.0
ALICE_OLD = {"sub": "alice", "iat": int(WALL.timestamp()) - 10, "jti": "j1", "origin_jti": "o1"}
BOB = {"sub": "bob", "iat": int(WALL.timestamp()) - 10, "jti": "j2", "origin_jti": "o2"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Switched:
    """The repository as the holder sees it: reads counted, ``down`` makes them fail,
    ``during`` runs after a read took its snapshot, before the holder gets it."""

    def __init__(self, inner: MemoryRepository) -> None:
        self.inner = inner
        self.down = False
        self.reads = 0
        self.during: Callable[[], None] | None = None

    def live_revocations(self, *, max_entries: int) -> RevocationSet:
        self.reads += 1
        if self.down:
            raise StoreUnavailableError("injected: store down")
        found = self.inner.live_revocations(max_entries=max_entries)
        if self.during is not None:
            self.during()
        return found


def revoke(repo: MemoryRepository, target: str) -> None:
    repo.revoke(
        Revocation.new(
            Target.parse(target),
            reason="test",
            revoked_by="admin",
            revoked_at=WALL,
            max_token_lifetime=86_400,
        )
    )


def make(max_entries: int = 100) -> tuple[RevocationHolder, Switched, MemoryRepository, Clock]:
    repo = MemoryRepository(clock=lambda: WALL + timedelta(seconds=1))
    store = Switched(repo)
    assert isinstance(store, RevocationSource)
    clock = Clock()
    holder = RevocationHolder(
        store,
        max_entries=max_entries,
        stale_if_error_seconds=STALE,
        refresh_seconds=REFRESH,
        clock=clock,
        wall_clock=lambda: WALL.timestamp() + clock.now - 1000.0,
    )
    return holder, store, repo, clock


def test_no_read_until_the_first_check() -> None:
    holder, store, repo, _ = make()
    revoke(repo, "sub:alice")
    holder.clear()
    assert store.reads == 0
    with pytest.raises(RevokedTokenError) as caught:
        holder.check(ALICE_OLD)
    assert caught.value.actual == "sub:alice"
    assert store.reads == 1


def test_no_read_while_the_epoch_stands_still() -> None:
    holder, store, repo, _ = make()
    assert holder.check(BOB) is True
    revoke(repo, "sub:bob")  # not announced by clear(): the holder cannot know yet
    for _ in range(5):
        assert holder.check(BOB) is True
    assert store.reads == 1


def test_one_read_after_each_clear() -> None:
    holder, store, repo, _ = make()
    holder.check(BOB)
    revoke(repo, "sub:bob")
    holder.clear()
    holder.clear()  # two moves before the next check still need only one read
    with pytest.raises(RevokedTokenError):
        holder.check(BOB)
    with pytest.raises(RevokedTokenError):
        holder.check(BOB)
    assert store.reads == 2
    repo.delete_revocation(Target.parse("sub:bob"), actor="admin")
    holder.clear()
    assert holder.check(BOB) is True
    assert holder.check(BOB) is True
    assert store.reads == 3


@pytest.mark.parametrize("target", ["jti:j1", "origin_jti:o1", "sub:alice"])
def test_each_kind_refuses_only_its_token(target: str) -> None:
    holder, _, repo, _ = make()
    revoke(repo, target)
    with pytest.raises(RevokedTokenError) as caught:
        holder.check(ALICE_OLD)
    assert caught.value.actual == target
    assert holder.check(BOB) is True


def test_stale_if_error_then_store_error() -> None:
    holder, store, repo, clock = make()
    revoke(repo, "sub:alice")
    holder.check(BOB)
    revoke(repo, "sub:bob")
    store.down = True
    holder.clear()  # the move is seen at 1000
    clock.now += STALE - 0.5
    # The set held keeps refusing what it names, reported stale for the others.
    with pytest.raises(RevokedTokenError):
        holder.check(ALICE_OLD)
    assert holder.check(BOB) is False
    reads = store.reads
    assert holder.check(BOB) is False
    assert store.reads == reads + 1  # the store is tried again on every check
    clock.now += 0.5
    with pytest.raises(StoreUnavailableError):
        holder.check(BOB)
    store.down = False
    with pytest.raises(RevokedTokenError):
        holder.check(BOB)


def test_the_stale_window_runs_from_the_first_unresolved_move() -> None:
    holder, store, _, clock = make()
    holder.check(BOB)
    store.down = True
    holder.clear()
    clock.now += STALE - 1
    holder.clear()  # a later move does not extend the window
    assert holder.check(BOB) is False
    clock.now += 1
    with pytest.raises(StoreError):
        holder.check(BOB)


def test_no_set_ever_loaded_is_a_store_error() -> None:
    holder, store, _, clock = make()
    store.down = True
    with pytest.raises(StoreError):
        holder.check(BOB)
    clock.now += 1
    with pytest.raises(StoreError):
        holder.check(BOB)
    store.down = False
    assert holder.check(BOB) is True


def test_overflow_refuses_the_named_and_fails_closed_for_others() -> None:
    holder, _, repo, _ = make(max_entries=2)
    for target in ("jti:a", "jti:b", "sub:bob"):
        revoke(repo, target)
    # Sorted by target, the first two are kept: jti:a and jti:b.
    with pytest.raises(RevokedTokenError):
        holder.check({**BOB, "jti": "a"})
    with pytest.raises(RevocationsOverflowError, match="AUTHZ_REVOCATIONS_MAX_ENTRIES"):
        holder.check(BOB)
    with pytest.raises(RevocationsOverflowError):
        holder.check(ALICE_OLD)
    assert not holder.revocations.complete


def test_overflow_ends_when_the_table_shrinks() -> None:
    holder, _, repo, _ = make(max_entries=1)
    revoke(repo, "jti:a")
    revoke(repo, "jti:b")
    with pytest.raises(RevocationsOverflowError):
        holder.check(BOB)
    repo.delete_revocation(Target.parse("jti:b"), actor="admin")
    holder.clear()
    assert holder.check(BOB) is True


def test_a_clear_during_a_load_keeps_the_set_outdated() -> None:
    holder, store, repo, _ = make()
    holder.check(BOB)

    def land_during_the_read() -> None:
        # A revocation the snapshot missed lands, and its epoch move is seen.
        store.during = None
        revoke(repo, "sub:bob")
        holder.clear()

    holder.clear()
    store.during = land_during_the_read
    assert holder.check(BOB) is True  # decided with the snapshot, which was current
    with pytest.raises(RevokedTokenError):
        holder.check(BOB)
    assert store.reads == 3
    assert holder.check(ALICE_OLD) is True
    assert store.reads == 3


def test_without_a_source_there_is_nothing_to_read_or_refuse() -> None:
    holder = RevocationHolder(
        None,
        max_entries=1,
        stale_if_error_seconds=0,
        refresh_seconds=REFRESH,
        clock=Clock(),
        wall_clock=WALL.timestamp,
    )
    holder.clear()
    assert holder.check(ALICE_OLD) is True
    assert holder.check({}) is True
    assert len(holder.revocations) == 0
