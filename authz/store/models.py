"""The pynamodb item types of the one authz table, and how they are bound to it.

Item layout (table key: ``pk`` string, ``sk`` string; on-demand billing)::

    pk                 sk                      what
    <selector>         policy                  current policy (or a tombstone after a delete)
    <selector>         history#<rev:010d>      one audit entry per write, never overwritten
    meta:epoch         epoch                   the policy epoch counter

    GSI "list": list_pk = "policies", list_sk = <selector>   (live policies only)

``<selector>`` is ``default``, ``group:<name>`` or ``scope:<name>``
(``authz.policy.selector``); no selector starts with ``meta:``, and the
``sk`` of each item type is a fixed word or prefix, so no name can address
another item. The list index is sparse: a tombstone drops ``list_pk`` and
``list_sk`` and so leaves the index. Its sort key sorts ``default`` <
``group:*`` < ``scope:*``, which makes "all policies" one Query and "one
kind" one Query with ``begins_with``.

A delete writes a tombstone instead of removing the item so that versions
keep counting up across delete and re-create: an ``If-Match`` taken before
a delete can never match the re-created policy, and each history entry gets
its own revision (``rev`` = the policy item's version after the write).

The classes here have no ``Meta``: :func:`bind` makes subclasses whose
``Meta`` carries the table, endpoint, region and timeouts from ``Settings``,
so nothing reads the environment at import and two repositories (tests use
one table each) never share state.
"""

from __future__ import annotations

import importlib
import json
import threading
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
from pynamodb.connection import Connection, TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import MetaProtocol, Model

__all__ = [
    "EPOCH_PK",
    "EPOCH_SK",
    "HISTORY_PREFIX",
    "LIST_INDEX",
    "LIST_PK",
    "POLICY_SK",
    "BoundModels",
    "EpochItem",
    "HistoryItem",
    "PolicyItem",
    "bind",
    "history_sk",
]

POLICY_SK = "policy"
HISTORY_PREFIX = "history#"
EPOCH_PK = "meta:epoch"
EPOCH_SK = "epoch"
LIST_INDEX = "list"
LIST_PK = "policies"


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


class HistoryItem(Model):
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


_SESSION_LOCK = threading.RLock()
_session: Any = None


class SharedSessionConnection(Connection):
    """A pynamodb connection whose botocore client comes from one process-wide session.

    Building a client on a fresh session loads DynamoDB's service model
    (~0.25 s); on a session that already did it takes ~15 ms. A Lambda has one
    repository, but the CLI, the local stack and the tests build many. Client
    creation is serialized because botocore sessions are not thread-safe.
    """

    @property
    def session(self) -> Any:
        global _session  # noqa: PLW0603  # one lazily built session per process
        with _SESSION_LOCK:
            if _session is None:
                # importlib: botocore ships no type information for mypy to check.
                session = importlib.import_module("botocore.session").get_session()
                _only_dynamodb(session)
                _session = session
            return _session

    @property
    def client(self) -> Any:
        with _SESSION_LOCK:
            return super().client


def _only_dynamodb(session: Any) -> None:
    """Teach the session's model loader that it only ever serves DynamoDB.

    Before loading a service model, botocore asks its loader for the list of
    every service it knows, which walks all ~450 folders of its data
    directory (and AWS_DATA_PATH, ~/.aws/models) -- twice per client, ~30 ms
    of a cold start -- only to check that the name asked for is among them.
    This session builds nothing but DynamoDB clients (pynamodb's), so the
    list is answered from DynamoDB's own folders, with the loader's public
    ``list_api_versions`` over the same search path: the model files found
    and loaded are exactly those botocore would have used.
    """
    loader = session.get_component("data_loader")
    not_found = importlib.import_module("botocore.exceptions").DataNotFoundError

    def list_available_services(type_name: str) -> list[str]:
        try:
            loader.list_api_versions("dynamodb", type_name)
        except not_found:
            return []
        return ["dynamodb"]

    loader.list_available_services = list_available_services


@dataclass(frozen=True, slots=True)
class BoundModels:
    policy: type[PolicyItem]
    history: type[HistoryItem]
    epoch: type[EpochItem]
    connection: TableConnection


def bind(
    *,
    table: str,
    host: str | None,
    region: str,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
) -> BoundModels:
    """Subclasses of the three item types bound to one table and endpoint."""

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

    class BoundHistoryItem(HistoryItem):
        Meta = meta()

    class BoundEpochItem(EpochItem):
        Meta = meta()

    policy, history, epoch = BoundPolicyItem, BoundHistoryItem, BoundEpochItem

    # One botocore client for all three item types (they share the table), and
    # botocore's "legacy" retry mode: for DynamoDB it backs off 50 ms, 100 ms, ...
    # where the "standard" mode pynamodb picks would wait up to 1 s, 2 s, ...
    # pynamodb offers neither through Meta, hence the private ``_connection``.
    table_connection = policy._get_connection()
    meta_table = table_connection.get_meta_table()
    table_connection.connection = SharedSessionConnection(
        region=region,
        host=host,
        connect_timeout_seconds=connect_timeout,
        read_timeout_seconds=read_timeout,
        retry_configuration={"mode": "legacy", "total_max_attempts": max_attempts},
    )
    table_connection.connection.add_meta_table(meta_table)
    history._connection = table_connection
    epoch._connection = table_connection
    return BoundModels(policy=policy, history=history, epoch=epoch, connection=table_connection)
