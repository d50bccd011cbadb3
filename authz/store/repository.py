"""``DynamoRepository``: the ``PolicyRepository`` on one DynamoDB table.

It composes the table's reads (``authz.store.reads``), its writes
(``authz.store.writes``) and the item codec (``authz.store.codec``) over one
connection (``authz.store.connection``); the item layout is described in
``authz.store.models``, the time bounds in ``authz.store.timeouts``. Besides
``PolicyRepository`` it implements ``SnapshotRepository`` (one consistent
read of policies and epoch), ``ForcedWrites`` (history says when a write
was forced past the lock-out guard) and ``RevocationRepository``
(``authz.store.revocations``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
from pynamodb.exceptions import PynamoDBException, TableDoesNotExist, TableError

from authz.errors import StoreError
from authz.policy.document import PolicyDocument
from authz.policy.selector import Selector
from authz.revocations import Revocation, RevocationEvent, RevocationSet, Target
from authz.settings import Settings
from authz.store.connection import connect
from authz.store.models import EXPIRES_AT, BoundTable, bind, create_table_arguments
from authz.store.reads import Reads
from authz.store.revocations import Revocations
from authz.store.timeouts import StoreTimeouts
from authz.store.translate import error_code, translate
from authz.store.types import (
    HistoryEntry,
    Page,
    PolicyRecord,
    RevocationWrite,
    SnapshotRead,
    WriteResult,
)
from authz.store.writes import PutRequest, Writes

__all__ = ["DynamoRepository", "StoreTimeouts"]

_TABLE_POLL_SECONDS = 2.0  # between DescribeTable calls while a new table is being created


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DynamoRepository:
    """Policies, their history and the epoch in one DynamoDB table.

    Table name, endpoint and region come from ``settings`` at construction
    (never from the environment at import); ``clock`` stamps writes and
    ``sleep`` paces retries, both injectable for tests.
    """

    # History entries carry ``forced`` (see ``store.types.ForcedWrites``).
    records_forced_writes = True

    def __init__(
        self,
        settings: Settings,
        *,
        timeouts: StoreTimeouts | None = None,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table = settings.table
        self.timeouts = (
            timeouts
            if timeouts is not None
            else StoreTimeouts.for_endpoint(settings.dynamodb_endpoint)
        )
        connection = connect(
            region=settings.region,
            host=settings.dynamodb_endpoint,
            connect_timeout=self.timeouts.connect,
            read_timeout=self.timeouts.read,
            attempts=self.timeouts.attempts,
        )
        self._bound_table: BoundTable = bind(
            table=settings.table,
            host=settings.dynamodb_endpoint,
            region=settings.region,
            connect_timeout=self.timeouts.connect,
            read_timeout=self.timeouts.read,
            connection=connection,
        )
        try:
            # Built now, on one thread, so request threads never race to build it.
            connection.client  # noqa: B018  # the property builds it
        except Exception as exc:  # botocore raises many unrelated types for a bad config
            raise StoreError(f"cannot configure the DynamoDB client: {exc}") from exc
        jitter = random.Random()  # noqa: S311  # jitter, not secrets
        self._reads = Reads(self._bound_table, self.timeouts, sleep=sleep, jitter=jitter)
        self._writes = Writes(
            self._bound_table, self.timeouts, self._reads, clock=clock, sleep=sleep, jitter=jitter
        )
        self._revocations = Revocations(
            self._bound_table, self.timeouts, self._reads, clock=clock, sleep=sleep, jitter=jitter
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> DynamoRepository:
        return cls(settings)

    @property
    def events(self) -> Any:
        """The botocore event emitter of this repository's client.

        A seam for tests and metrics (``before-send.dynamodb``, ``after-call...``);
        nothing in authz registers handlers on it.
        """
        return self._bound_table.connection.client.meta.events

    # -- table ------------------------------------------------------------

    def create_table(self, wait: bool = True) -> bool:
        """Create the table (and its list index) unless it exists; True if created.

        Then make sure its TTL is on (``expires_at``): on an existing table
        too, so running this again upgrades a table made before revocations.
        DynamoDB takes TTL settings only for an active table, so with
        ``wait=False`` a new table gets its TTL from the next call.
        """
        connection = self._bound_table.connection
        try:
            created = not self._table_exists()
            if created:
                connection.create_table(self.table, **create_table_arguments())
                while wait and self._status() != "ACTIVE":
                    time.sleep(_TABLE_POLL_SECONDS)
        except PynamoDBException as exc:
            if error_code(exc)[0] == "ResourceInUseException":
                return False  # created concurrently
            raise translate(exc, "CreateTable", self.table) from exc
        if wait or not created:
            self._enable_ttl()
        return created

    def _status(self) -> str | None:
        status: str | None = self._bound_table.connection.describe_table(self.table).get(
            "TableStatus"
        )
        return status

    def time_to_live(self) -> dict[str, Any]:
        """The table's ``TimeToLiveDescription`` (DescribeTimeToLive)."""
        try:
            data = self._bound_table.connection.client.describe_time_to_live(TableName=self.table)
        except BOTOCORE_EXCEPTIONS as exc:
            # pynamodb has no call of its own for it, so nothing wrapped the error yet.
            raise translate(TableError(str(exc), exc), "DescribeTimeToLive", self.table) from exc
        description: dict[str, Any] = data.get("TimeToLiveDescription", {})
        return description

    def _enable_ttl(self) -> None:
        """TTL on ``expires_at`` unless it is on already (enabling it twice is an error)."""
        if self.time_to_live().get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return
        try:
            self._bound_table.connection.update_time_to_live(self.table, EXPIRES_AT)
        except PynamoDBException as exc:
            raise translate(exc, "UpdateTimeToLive", self.table) from exc

    def delete_table(self) -> bool:
        """Delete the table if it exists; True if it did."""
        try:
            if not self._table_exists():
                return False
            self._bound_table.connection.delete_table(self.table)
        except PynamoDBException as exc:
            if error_code(exc)[0] == "ResourceNotFoundException":
                return False
            raise translate(exc, "DeleteTable", self.table) from exc
        return True

    def _table_exists(self) -> bool:
        try:
            self._bound_table.connection.describe_table(self.table)
        except TableDoesNotExist:
            return False
        return True

    # -- reads (``authz.store.reads``) -------------------------------------

    def get_many(self, selectors: Sequence[Selector]) -> dict[Selector, PolicyRecord]:
        return self._reads.get_many(selectors)

    def get_many_with_epoch(self, selectors: Sequence[Selector]) -> SnapshotRead:
        """``get_many`` and ``epoch`` in one consistent read (``SnapshotRepository``)."""
        return self._reads.get_many_with_epoch(selectors)

    def get(self, selector: Selector) -> PolicyRecord:
        return self._reads.get(selector)

    def epoch(self) -> int:
        return self._reads.epoch()

    def list(
        self, *, kind: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[PolicyRecord]:
        return self._reads.list(kind=kind, limit=limit, cursor=cursor)

    def history(
        self, selector: Selector, *, limit: int = 50, cursor: str | None = None
    ) -> Page[HistoryEntry]:
        return self._reads.history(selector, limit=limit, cursor=cursor)

    # -- writes (``authz.store.writes``) -----------------------------------

    def put(
        self,
        selector: Selector,
        document: PolicyDocument,
        *,
        actor: str,
        description: str = "",
        expected_version: int | None = None,
        create_only: bool = False,
        token: Mapping[str, Any] | None = None,
        forced: bool = False,
    ) -> WriteResult:
        return self._writes.put(
            PutRequest(
                selector=selector,
                document=document,
                actor=actor,
                description=description,
                expected_version=expected_version,
                create_only=create_only,
                token=token,
                forced=forced,
            )
        )

    def delete(
        self,
        selector: Selector,
        *,
        actor: str,
        expected_version: int | None = None,
        forced: bool = False,
    ) -> WriteResult:
        return self._writes.delete(
            selector, actor=actor, expected_version=expected_version, forced=forced
        )

    # -- revocations (``authz.store.revocations``) ---------------------------

    def live_revocations(self, *, max_entries: int) -> RevocationSet:
        """Every live revocation in one consistent Query (``RevocationSource``)."""
        return self._revocations.live(max_entries=max_entries)

    def revoke(self, revocation: Revocation) -> RevocationWrite:
        return self._revocations.revoke(revocation)

    def get_revocation(self, target: Target) -> Revocation:
        return self._revocations.get(target)

    def delete_revocation(self, target: Target, *, actor: str) -> RevocationWrite:
        return self._revocations.delete(target, actor=actor)

    def list_revocations(self, *, limit: int = 50, cursor: str | None = None) -> Page[Revocation]:
        return self._revocations.listing(limit=limit, cursor=cursor)

    def revocation_history(
        self, *, limit: int = 50, cursor: str | None = None
    ) -> Page[RevocationEvent]:
        return self._revocations.history(limit=limit, cursor=cursor)
