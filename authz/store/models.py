"""The pynamodb item types of the one authz table, and how they are bound to it.

Item layout (table key: ``pk`` string, ``sk`` string; on-demand billing)::

    pk                 sk                      what
    <selector>         policy                  current policy (or a tombstone after a delete)
    <selector>         history#<rev:010d>      one audit entry per write, never overwritten
    meta:epoch         epoch                   the policy epoch counter
    meta:revocations   <kind>#<value>          one revocation (kind: sub, origin_jti, jti)
    meta:revocation-history
                       <at_us:016d>#<id>       one audit entry per revoke or delete, kept

    GSI "list": list_pk = "policies", list_sk = <selector>   (live policies only)
    TTL attribute: expires_at (revocations only)

``<selector>`` is ``default``, ``group:<name>`` or ``scope:<name>``
(``authz.policy.selector``); no selector starts with ``meta:``, and the
``sk`` of each item type is a fixed word or prefix, so no name can address
another item. The list index is sparse: a tombstone drops ``list_pk`` and
``list_sk`` and so leaves the index. Its sort key sorts ``default`` <
``group:*`` < ``scope:*``, which makes "all policies" one Query and "one
kind" one Query with ``begins_with``.

A revocation item holds ``reason``, ``revoked_by``, ``revoked_at``,
``until`` (absent unless set), ``cutoff`` and ``expires_at`` (numbers,
seconds since the epoch); ``expires_at`` is the table's TTL attribute.
DynamoDB deletes an expired item up to days late, so every reader filters
on ``expires_at`` itself. Re-revoking a target overwrites its item; a
delete removes it. A history entry (``action``, ``at``, ``by``, ``reason``,
``until``) is keyed by the time in microseconds and the revocation id
(``authz.store.revocation_keys``), so a Query backwards is newest first;
it is never overwritten (a write that meets an entry of the same
microsecond and target takes the next microsecond). Neither item has a
``list_pk``, so the list index never sees them.

A delete writes a tombstone instead of removing the item so that versions
keep counting up across delete and re-create: an ``If-Match`` taken before
a delete can never match the re-created policy, and each history entry gets
its own revision (``rev`` = the policy item's version after the write).

The classes here have no ``Meta``: :func:`bind` makes subclasses whose
``Meta`` carries the table, endpoint, region and timeouts from ``Settings``,
so nothing reads the environment at import and two repositories (tests use
one table each) never share state. The item classes only serialize and
parse items and build conditions; every request goes through the one
``Connection`` that ``bind`` hands back (``authz.store.connection``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.connection.base import MetaTable
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import MetaProtocol, Model

from authz.store.revocation_keys import REVOCATION_HISTORY_PK, REVOCATIONS_PK

__all__ = [
    "EPOCH_PK",
    "EPOCH_SK",
    "EXPIRES_AT",
    "HISTORY_PREFIX",
    "LIST_INDEX",
    "LIST_INDEX_KEYS",
    "LIST_PK",
    "POLICY_SK",
    "TABLE_KEYS",
    "BoundTable",
    "EpochItem",
    "HistoryEntryItem",
    "PolicyItem",
    "RevocationEventItem",
    "RevocationItem",
    "bind",
    "create_table_arguments",
    "history_sk",
    "meta_table",
]

POLICY_SK = "policy"
HISTORY_PREFIX = "history#"
EPOCH_PK = "meta:epoch"
EPOCH_SK = "epoch"
LIST_INDEX = "list"
LIST_PK = "policies"

# The table's TTL attribute (seconds since the epoch); only revocations carry it.
EXPIRES_AT = "expires_at"

# The key attributes of the table and of its list index, all strings. Written
# out because DynamoDB needs them to create the table and pynamodb's request
# builder to name the keys; the item classes below declare the same keys.
TABLE_KEYS = ("pk", "sk")
LIST_INDEX_KEYS = ("list_pk", "list_sk")


def history_sk(revision: int) -> str:
    # Ten digits keep lexical order equal to numeric order for 10^10 writes.
    return f"{HISTORY_PREFIX}{revision:010d}"


class CompactJSONAttribute(JSONAttribute):
    """JSON without padding or ASCII escapes: item size counts against the 400 KB limit."""

    def serialize(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


# pynamodb's Index.__init_subclass__ carries no annotations.
class ListIndex(GlobalSecondaryIndex["PolicyItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = LIST_INDEX
        projection = AllProjection()

    list_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


class PolicyItem(Model):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=POLICY_SK)
    list_pk = UnicodeAttribute(null=True)
    list_sk = UnicodeAttribute(null=True)
    document = CompactJSONAttribute(null=True)  # None on a tombstone
    description = UnicodeAttribute(null=True)
    token = CompactJSONAttribute(null=True)
    version = VersionAttribute()
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute()
    deleted = BooleanAttribute(null=True)
    list_index = ListIndex()


class HistoryEntryItem(Model):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    action = UnicodeAttribute()
    version = NumberAttribute()
    at = UTCDateTimeAttribute()
    by = UnicodeAttribute()
    document = CompactJSONAttribute()
    description = UnicodeAttribute(null=True)
    token = CompactJSONAttribute(null=True)
    forced = BooleanAttribute(null=True)  # absent unless forced past the lock-out guard


class EpochItem(Model):
    pk = UnicodeAttribute(hash_key=True, default=EPOCH_PK)
    sk = UnicodeAttribute(range_key=True, default=EPOCH_SK)
    epoch = NumberAttribute(default=0)


class RevocationItem(Model):
    pk = UnicodeAttribute(hash_key=True, default=REVOCATIONS_PK)
    sk = UnicodeAttribute(range_key=True)  # revocation_keys.revocation_sk
    reason = UnicodeAttribute(null=True)
    revoked_by = UnicodeAttribute()
    revoked_at = UTCDateTimeAttribute()
    until = UTCDateTimeAttribute(null=True)
    cutoff = NumberAttribute()  # what the authorizer compares iat and auth_time with
    expires_at = NumberAttribute()  # EXPIRES_AT, the TTL


class RevocationEventItem(Model):
    pk = UnicodeAttribute(hash_key=True, default=REVOCATION_HISTORY_PK)
    sk = UnicodeAttribute(range_key=True)  # revocation_keys.revocation_position
    action = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    by = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    until = UTCDateTimeAttribute(null=True)


@dataclass(frozen=True, slots=True)
class BoundTable:
    """The item types bound to one table, and the connection every request goes through."""

    name: str
    policy: type[PolicyItem]
    history: type[HistoryEntryItem]
    epoch: type[EpochItem]
    revocation: type[RevocationItem]
    revocation_event: type[RevocationEventItem]
    connection: Connection


def _key_schema(keys: tuple[str, str]) -> list[dict[str, str]]:
    hash_key, range_key = keys
    return [
        {"AttributeName": hash_key, "KeyType": "HASH"},
        {"AttributeName": range_key, "KeyType": "RANGE"},
    ]


def _attribute_definitions() -> list[dict[str, str]]:
    return [{"AttributeName": n, "AttributeType": "S"} for n in TABLE_KEYS + LIST_INDEX_KEYS]


def meta_table(table: str) -> MetaTable:
    """The table's key layout as pynamodb's request builder needs it (no DescribeTable)."""
    return MetaTable(
        {
            "TableName": table,
            "KeySchema": _key_schema(TABLE_KEYS),
            "AttributeDefinitions": _attribute_definitions(),
            "GlobalSecondaryIndexes": [
                {"IndexName": LIST_INDEX, "KeySchema": _key_schema(LIST_INDEX_KEYS)}
            ],
        }
    )


def create_table_arguments() -> dict[str, Any]:
    """Keyword arguments of ``Connection.create_table`` for the one authz table."""
    return {
        "attribute_definitions": _attribute_definitions(),
        "key_schema": _key_schema(TABLE_KEYS),
        "global_secondary_indexes": [
            {
                "index_name": LIST_INDEX,
                "key_schema": _key_schema(LIST_INDEX_KEYS),
                "projection": {"ProjectionType": "ALL"},
            }
        ],
        "billing_mode": "PAY_PER_REQUEST",
    }


def bind(
    *,
    table: str,
    host: str | None,
    region: str,
    connect_timeout: float,
    read_timeout: float,
    connection: Connection,
) -> BoundTable:
    """Subclasses of the item types bound to ``table``, sharing ``connection``.

    ``connection`` must serve ``table``: it gets the table's key layout here.
    The subclasses' ``Meta`` names the same table and endpoint, because
    pynamodb's transaction builder reads it to shape each item's request.
    """

    def meta() -> MetaProtocol:
        # A class used as a settings record, as pynamodb expects.
        return type(  # type: ignore[return-value]
            "Meta",
            (),
            {
                "table_name": table,
                "host": host,
                "region": region,
                "billing_mode": "PAY_PER_REQUEST",
                "connect_timeout_seconds": connect_timeout,
                "read_timeout_seconds": read_timeout,
            },
        )

    class BoundPolicyItem(PolicyItem):
        Meta = meta()

    class BoundHistoryEntryItem(HistoryEntryItem):
        Meta = meta()

    class BoundEpochItem(EpochItem):
        Meta = meta()

    class BoundRevocationItem(RevocationItem):
        Meta = meta()

    class BoundRevocationEventItem(RevocationEventItem):
        Meta = meta()

    connection.add_meta_table(meta_table(table))
    return BoundTable(
        name=table,
        policy=BoundPolicyItem,
        history=BoundHistoryEntryItem,
        epoch=BoundEpochItem,
        revocation=BoundRevocationItem,
        revocation_event=BoundRevocationEventItem,
        connection=connection,
    )
