"""Revocations in the policy table: the DynamoDB side of ``RevocationRepository``.

Requests per call:

- ``revoke``: one TransactWriteItems (the revocation, put unconditionally so
  that it replaces an earlier one of the same target; its history entry,
  put only where no entry is; epoch + 1), then one GetItem of the epoch.
- ``delete``: one consistent GetItem (the history keeps the reason and the
  answer carries the revocation), one TransactWriteItems (delete on the
  condition that the item read is still there and live; history entry;
  epoch + 1), one GetItem of the epoch.
- ``get``: one consistent GetItem. ``list``, ``history``: one consistent
  Query each, over as many pages as DynamoDB splits it into.
- ``live``: the authorizer's read of every live revocation, one consistent
  Query projecting only the key and the cutoff, pages followed until more
  than ``max_entries`` were read.

Expired items stay in the table until DynamoDB's TTL removes them, which can
take days; every read here drops them itself, by the repository's clock.

Racing writers: a history entry that already exists (two writes of one
target in the same microsecond) moves the entry on by a microsecond; a
delete whose item changed under it reads it again; a TransactionConflict
pauses (jittered) first. After ``write_attempts`` tries the write raises
``StoreUnavailableError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import CancellationReason, PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from authz.errors import ConflictError, NotFoundError, StoreUnavailableError
from authz.revocations import (
    Revocation,
    RevocationEvent,
    RevocationSet,
    Target,
)
from authz.store import codec
from authz.store import cursor as cursors
from authz.store.models import EXPIRES_AT, RevocationEventItem, RevocationItem
from authz.store.reads import page_of
from authz.store.revocation_keys import (
    REVOCATION_HISTORY_PK,
    REVOCATIONS_PK,
    revocation_sk,
    revoke_event,
    target_of,
)
from authz.store.transact import Contended, EpochWriter, codes_of, refused
from authz.store.translate import error_code, translate
from authz.store.types import Page, RevocationWrite, check_limit

__all__ = ["Revocations"]

_MICROSECOND = timedelta(microseconds=1)
# What the authorizer's set needs of each item: the target (in the key) and the cutoff.
_LIVE_ATTRIBUTES = ("sk", "cutoff", EXPIRES_AT)


class _HistoryTaken(Exception):
    """The history already holds an entry at this position: move on a microsecond."""


class _Changed(Exception):
    """The revocation a delete read was replaced or removed before the delete landed."""


class Revocations(EpochWriter):
    """Every revocation read and write of one table, through its one connection."""

    def _now(self) -> float:
        return self._clock().timestamp()

    def _live_condition(self, now: float) -> Condition:
        return self._table.revocation.expires_at > now

    # -- reads ------------------------------------------------------------------

    def get(self, target: Target) -> Revocation:
        raw = self._reads.get_item(REVOCATIONS_PK, revocation_sk(target))
        if raw is not None:
            with codec.readable(target.id):
                item = self._table.revocation.from_raw_data(raw)
            found = codec.revocation(item)
            if found.live(self._now()):
                return found
        raise NotFoundError(f"no live revocation {target}")

    def listing(self, *, limit: int, cursor: str | None) -> Page[Revocation]:
        check_limit(limit)
        start = None
        if cursor is not None:
            after = cursors.revocations_after(cursor)
            start = {"pk": {"S": REVOCATIONS_PK}, "sk": {"S": revocation_sk(after)}}
        items: Sequence[RevocationItem] = self._reads.query(
            REVOCATIONS_PK,
            self._table.revocation,
            limit,
            "a revocation",
            filter_condition=self._live_condition(self._now()),
            consistent_read=True,
            exclusive_start_key=start,
        )
        return page_of(
            items,
            limit,
            codec.revocation,
            lambda last: cursors.encode({"revocation": target_of(last.sk).id}),
        )

    def history(self, *, limit: int, cursor: str | None) -> Page[RevocationEvent]:
        check_limit(limit)
        start = None
        if cursor is not None:
            position = cursors.revocation_history_after(cursor)
            start = {"pk": {"S": REVOCATION_HISTORY_PK}, "sk": {"S": position}}
        items: Sequence[RevocationEventItem] = self._reads.query(
            REVOCATION_HISTORY_PK,
            self._table.revocation_event,
            limit,
            "a revocation history entry",
            consistent_read=True,
            scan_index_forward=False,
            exclusive_start_key=start,
        )
        return page_of(
            items,
            limit,
            codec.revocation_event,
            lambda last: cursors.encode({"revocation_event": last.sk}),
        )

    def live(self, *, max_entries: int) -> RevocationSet:
        """Every live revocation; past ``max_entries`` the first ones and ``complete=False``.

        Rows become the set directly, without an item object and a
        ``Revocation`` per row: the read projects only the key and the cutoff,
        all the set keeps.
        """
        rows = self._live_rows(max_entries + 1)
        return RevocationSet.from_rows(
            map(_live_row, rows[:max_entries]), complete=len(rows) <= max_entries
        )

    def _live_rows(self, wanted: int) -> list[dict[str, Any]]:
        """Up to ``wanted`` raw live rows, in key order, over as many pages as it takes."""
        name = self._table.name
        condition = self._live_condition(self._now())
        rows: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while len(rows) < wanted:
            try:
                data = self._table.connection.query(
                    name,
                    REVOCATIONS_PK,
                    filter_condition=condition,
                    attributes_to_get=list(_LIVE_ATTRIBUTES),
                    # Right after the epoch moved an eventually consistent read
                    # could miss the revocation that moved it.
                    consistent_read=True,
                    exclusive_start_key=start,
                    limit=wanted - len(rows),
                )
            except PynamoDBException as exc:
                raise translate(exc, "Query", name) from exc
            rows.extend(data.get("Items", ()))
            start = data.get("LastEvaluatedKey")
            if not start:
                break
        return rows

    # -- writes -----------------------------------------------------------------

    def revoke(self, revocation: Revocation) -> RevocationWrite:
        item = codec.revocation_item(self._table.revocation, revocation)
        event = revoke_event(revocation)

        def attempt(shift: int) -> RevocationWrite:
            shifted = replace(event, at=event.at + shift * _MICROSECOND)
            # Unconditional: it replaces a revocation of the same target.
            self._commit(lambda tx: tx.save(item), shifted)
            return RevocationWrite(revocation=revocation, epoch=self._reads.epoch())

        return self._retrying(revocation.target, attempt)

    def delete(self, target: Target, *, actor: str) -> RevocationWrite:
        def attempt(shift: int) -> RevocationWrite:
            current = self.get(target)  # NotFoundError when absent or expired
            model = self._table.revocation
            at = self._clock()
            # The item read, still live: one written since is not lifted unseen (ConflictError).
            condition = (
                model.sk.exists()
                & (model.revoked_at == current.revoked_at)
                & self._live_condition(at.timestamp())
            )
            event = RevocationEvent(
                target=target,
                action="delete",
                at=at + shift * _MICROSECOND,
                by=actor,
                reason=current.reason,
            )
            stored = codec.revocation_item(model, current)
            try:
                self._commit(lambda tx: tx.delete(stored, condition=condition), event)
            except _Changed:
                # Lifting whatever is there now could lift a revocation the caller never saw.
                raise ConflictError(
                    f"revocation {target} changed while it was being lifted; "
                    "read it again and delete it if it should still go"
                ) from None
            return RevocationWrite(revocation=current, epoch=self._reads.epoch())

        return self._retrying(target, attempt)

    def _commit(self, write: Callable[[TransactWrite], None], event: RevocationEvent) -> None:
        """The revocation's ``write``, its history entry and epoch + 1, all or nothing.

        The transaction's items, in pynamodb's order: the revocation (a delete
        or a put), the history entry, the epoch; ``_cancelled`` relies on it.
        """
        entry = codec.revocation_event_item(self._table.revocation_event, event)
        try:
            self._transact(write, entry)
        except TransactWriteError as exc:
            raise _cancelled(exc, self._table.name) from exc

    def _retrying(
        self, target: Target, attempt: Callable[[int], RevocationWrite]
    ) -> RevocationWrite:
        """Run ``attempt`` until it commits or answers; its argument shifts the history entry."""
        shift = 0
        for number in range(self._timeouts.write_attempts):
            try:
                return attempt(shift)
            except _HistoryTaken:
                shift += 1
            except _Changed:
                continue
            except Contended:
                self._pause(number)
        raise StoreUnavailableError(
            f"revocation {target} kept changing during {self._timeouts.write_attempts} "
            "attempts; try again"
        )


def _cancelled(exc: TransactWriteError, table: str) -> Exception:
    """What a failed revocation transaction means for the write."""
    if error_code(exc)[0] != "TransactionCanceledException":
        return translate(exc, "TransactWriteItems", table)
    reasons: Sequence[CancellationReason | None] = exc.cancellation_reasons
    codes = codes_of(reasons)
    if codes[:1] == ["ConditionalCheckFailed"]:
        return _Changed()
    if codes[1:2] == ["ConditionalCheckFailed"]:
        return _HistoryTaken()
    return refused(reasons, table)


def _live_row(row: dict[str, Any]) -> tuple[Target, int, int]:
    """The target, cutoff and expiry of one projected row; StoreError when it lacks one."""
    sk = row.get("sk", {}).get("S")
    with codec.readable(sk):
        if not isinstance(sk, str):
            raise ValueError("no sort key")
        cutoff = row.get("cutoff", {}).get("N")
        expires = row.get(EXPIRES_AT, {}).get("N")
        if not isinstance(cutoff, str) or not isinstance(expires, str):
            raise ValueError("no cutoff or expiry")
        return target_of(sk), int(cutoff), int(expires)
