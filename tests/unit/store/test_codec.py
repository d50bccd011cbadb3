"""Records to items and back, without a table: what the store writes is what it reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from authz.errors import StoreError
from authz.policy.document import PolicyDocument
from authz.policy.selector import Selector
from authz.store import codec, models
from authz.store.types import PolicyRecord

AT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
ADMINS = Selector("group", "admins")
DOCUMENT = PolicyDocument.from_dict(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:*:*:*/*/GET/orders/*",
            }
        ],
    }
)


def test_declared_keys_match_the_item_types() -> None:
    """The key layout written out for CreateTable names the keys the item types declare."""
    keys = {
        name: (attr.is_hash_key, attr.is_range_key, attr.attr_type)
        for name, attr in models.PolicyItem.get_attributes().items()
        if attr.is_hash_key or attr.is_range_key
    }
    hash_key, range_key = models.TABLE_KEYS
    assert keys == {hash_key: (True, False, "S"), range_key: (False, True, "S")}
    index_hash, index_range = models.LIST_INDEX_KEYS
    assert getattr(models.ListIndex, index_hash).is_hash_key
    assert getattr(models.ListIndex, index_range).is_range_key
    assert models.ListIndex.Meta.index_name == models.LIST_INDEX


def test_a_policy_record_survives_the_item_round_trip() -> None:
    """A record written as an item (version 3 over stored 2) reads back equal, and live."""
    record = PolicyRecord(
        selector=ADMINS,
        document=DOCUMENT,
        description="admins",
        version=3,
        updated_at=AT,
        updated_by="alice",
        token={"scopes": ["orders/read"]},
    )
    item = codec.policy_item(models.PolicyItem, record, DOCUMENT.to_dict(), stored=2)
    raw = item.serialize()
    assert raw["version"] == {"N": "2"}  # pynamodb conditions on it and writes + 1
    raw["version"] = {"N": "3"}
    back = models.PolicyItem.from_raw_data(raw)
    assert codec.record(back) == record
    assert codec.state_of(back) == codec.PolicyState("live", 3, back)


def test_a_tombstone_is_a_tombstone_state_outside_the_list_index() -> None:
    """A deleted policy keeps its version and leaves the list index."""
    item = codec.tombstone(models.PolicyItem, ADMINS, 4, AT, "bob")
    raw = item.serialize()
    assert "list_pk" not in raw
    assert "document" not in raw
    state = codec.state_of(models.PolicyItem.from_raw_data(raw))
    assert (state.kind, state.version) == ("tombstone", 4)


def test_a_history_entry_survives_the_item_round_trip() -> None:
    """A history item reads back as the entry it records; ``forced`` is absent unless set."""
    item = codec.history_item(
        models.HistoryEntryItem,
        selector=ADMINS,
        revision=5,
        action="delete",
        version=4,
        at=AT,
        by="bob",
        document=DOCUMENT.to_dict(),
        description="gone",
        token=None,
        forced=False,
    )
    raw = item.serialize()
    assert raw["sk"] == {"S": models.history_sk(5)}
    assert "forced" not in raw
    entry = codec.history_entry(ADMINS, models.HistoryEntryItem.from_raw_data(raw))
    assert (entry.action, entry.version, entry.by, entry.forced) == ("delete", 4, "bob", False)
    assert entry.document == DOCUMENT.to_dict()


def test_an_unreadable_stored_policy_is_a_store_error() -> None:
    """A stored document that breaks today's grammar is refused, never half-used."""
    item = models.PolicyItem(
        pk=str(ADMINS), document={"Statement": "nonsense"}, updated_at=AT, updated_by="x"
    )
    item.version = 1
    with pytest.raises(StoreError, match="unreadable"):
        codec.record(item)


def test_item_size_counts_names_and_utf8_values() -> None:
    """Names and string values count in UTF-8 bytes; a number counts at its largest."""
    assert codec.item_size({"ab": {"S": "é"}, "n": {"N": "1"}, "b": {"BOOL": True}}) == (
        2 + 2 + 1 + 21 + 1 + 1
    )
