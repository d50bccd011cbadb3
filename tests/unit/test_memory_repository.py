"""MemoryRepository keeps DynamoRepository's version, conflict, epoch and history contract."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from authz.errors import (
    AlreadyExistsError,
    ConflictError,
    CursorError,
    ItemTooLargeError,
    NotFoundError,
    SelectorError,
)
from authz.policy.document import VERSION, PolicyDocument
from authz.policy.selector import Selector
from authz.store.memory import MemoryRepository
from authz.store.types import ITEM_LIMIT_BYTES

AT = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
ORDERS = Selector.parse("group:orders")


def doc(resource: str = "arn:aws:execute-api:*:*:*/*/GET/orders") -> PolicyDocument:
    return PolicyDocument.from_dict(
        {
            "Version": VERSION,
            "Statement": [
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resource}
            ],
        }
    )


def repo(**seed: PolicyDocument) -> MemoryRepository:
    return MemoryRepository(seed, clock=lambda: AT)


def test_seed_is_one_write_each_and_stamped_by_the_clock() -> None:
    store = MemoryRepository({Selector.parse("default"): doc(), ORDERS: doc()}, clock=lambda: AT)
    assert store.epoch() == 2
    record = store.get(ORDERS)
    assert (record.version, record.updated_by, record.updated_at) == (1, "seed", AT)
    assert store.history(ORDERS).items[0].at == AT


def test_versions_keep_counting_across_delete_and_recreate() -> None:
    store = repo()
    assert store.put(ORDERS, doc(), actor="a").action == "create"
    assert store.put(ORDERS, doc(), actor="a").record.version == 2  # type: ignore[union-attr]
    deleted = store.delete(ORDERS, actor="b", expected_version=2)
    assert (deleted.record, deleted.action, deleted.epoch) == (None, "delete", 3)
    again = store.put(ORDERS, doc(), actor="c")
    assert again.action == "create"
    assert again.record is not None
    assert again.record.version == 3
    history = store.history(ORDERS).items
    assert [(h.action, h.version, h.by) for h in history] == [
        ("create", 3, "c"),
        ("delete", 2, "b"),
        ("update", 2, "a"),
        ("create", 1, "a"),
    ]


def test_conflicts_and_missing_policies_are_answers_that_change_nothing() -> None:
    store = repo()
    store.put(ORDERS, doc(), actor="a")
    before = store.snapshot()
    with pytest.raises(ConflictError) as conflict:
        store.put(ORDERS, doc("arn:aws:execute-api:*:*:*/*/PUT/x"), actor="a", expected_version=7)
    assert (conflict.value.expected, conflict.value.actual) == (7, 1)
    with pytest.raises(AlreadyExistsError):
        store.put(ORDERS, doc(), actor="a", create_only=True)
    with pytest.raises(ConflictError):
        store.delete(ORDERS, actor="a", expected_version=2)
    missing = Selector.parse("scope:none")
    with pytest.raises(NotFoundError):
        store.put(missing, doc(), actor="a", expected_version=1)
    with pytest.raises(NotFoundError):
        store.delete(missing, actor="a")
    with pytest.raises(NotFoundError):
        store.get(missing)
    assert store.snapshot() == before


def test_caller_bugs_are_value_errors() -> None:
    store = repo()
    with pytest.raises(ValueError, match="exclude"):
        store.put(ORDERS, doc(), actor="a", create_only=True, expected_version=1)
    with pytest.raises(ValueError, match="limit"):
        store.list(limit=0)
    with pytest.raises(ValueError, match="limit"):
        store.history(ORDERS, limit=1001)
    with pytest.raises(SelectorError):
        store.list(kind="user")


def test_item_limit_and_lone_surrogates_are_refused_like_dynamodb() -> None:
    store = repo()
    with pytest.raises(ItemTooLargeError):
        store.put(ORDERS, doc(), actor="a", description="x" * ITEM_LIMIT_BYTES)
    with pytest.raises(UnicodeEncodeError):
        store.put(ORDERS, doc(), actor="a", description="\ud800")
    assert store.epoch() == 0


def test_list_and_history_page_with_their_own_cursors_only() -> None:
    store = repo(default=doc())
    for name in "abc":
        store.put(Selector.of("group", name), doc(), actor="a")
    first = store.list(kind="group", limit=2)
    assert [str(r.selector) for r in first.items] == ["group:a", "group:b"]
    assert first.cursor is not None
    second = store.list(kind="group", limit=2, cursor=first.cursor)
    assert [str(r.selector) for r in second.items] == ["group:c"]
    assert second.cursor is None
    with pytest.raises(CursorError):
        store.list(kind="scope", cursor=first.cursor)
    for _ in range(2):
        store.put(ORDERS, doc(), actor="a")
    newest = store.history(ORDERS, limit=1)
    assert newest.items[0].version == 2
    assert newest.cursor is not None
    assert store.history(ORDERS, limit=1, cursor=newest.cursor).items[0].version == 1
    with pytest.raises(CursorError):
        store.history(Selector.parse("group:a"), cursor=newest.cursor)


def test_reset_restores_the_seeded_state() -> None:
    store = repo(default=doc())
    seeded = store.snapshot()
    store.put(ORDERS, doc(), actor="a")
    store.delete(Selector.parse("default"), actor="a")
    assert store.snapshot() != seeded
    store.reset()
    assert store.snapshot() == seeded
    assert store.epoch() == 1
    assert [h.action for h in store.history(Selector.parse("default")).items] == ["create"]
    assert store.history(ORDERS).items == ()
