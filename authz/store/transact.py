"""What the policy and the revocation writes share.

Each write is one transaction: the item written, its history entry (put only
where no entry is) and epoch + 1. Each races other writers the same way: a
TransactionConflict pauses, jittered and doubling, before the next attempt.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from pynamodb.exceptions import CancellationReason
from pynamodb.transactions import TransactWrite

from authz.errors import ItemTooLargeError, StoreError, StoreUnavailableError
from authz.store.models import BoundTable, HistoryEntryItem, RevocationEventItem
from authz.store.reads import Reads
from authz.store.timeouts import StoreTimeouts
from authz.store.translate import UNAVAILABLE_CODES, is_item_too_large

__all__ = ["Contended", "EpochWriter", "codes_of", "refused"]


class Contended(Exception):
    """Another transaction held an item; the write may simply be tried again."""


class EpochWriter:
    """The writes of one table, through its one connection, each moving the epoch."""

    def __init__(
        self,
        table: BoundTable,
        timeouts: StoreTimeouts,
        reads: Reads,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
        jitter: random.Random,
    ) -> None:
        self._table = table
        self._timeouts = timeouts
        self._reads = reads
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter

    def _pause(self, number: int) -> None:
        """Wait, jittered, before the attempt after ``number`` met a TransactionConflict."""
        ceiling = min(self._timeouts.write_backoff * 2**number, self._timeouts.write_backoff_cap)
        self._sleep(self._jitter.uniform(0, ceiling))

    def _transact(
        self,
        write: Callable[[TransactWrite], None],
        entry: HistoryEntryItem | RevocationEventItem,
    ) -> None:
        """``write``, the history ``entry`` and epoch + 1, all or nothing.

        The transaction's items, in pynamodb's order: what ``write`` adds, the
        entry, the epoch; a caller reads the cancellation reasons by it.
        Raises pynamodb's ``TransactWriteError``: only the caller knows what
        its conditions failing means.
        """
        history, epoch = type(entry), self._table.epoch
        # The token makes a botocore retry after a lost response idempotent
        # instead of failing on the condition the first attempt satisfied.
        with TransactWrite(
            connection=self._table.connection, client_request_token=str(uuid.uuid4())
        ) as tx:
            write(tx)
            tx.save(entry, condition=history.sk.does_not_exist())
            tx.update(epoch(), actions=[epoch.epoch.add(1)])


def codes_of(reasons: Sequence[CancellationReason | None]) -> list[str | None]:
    """One cancellation code per transaction item (None where DynamoDB gave no reason)."""
    return [r.code if r is not None else None for r in reasons]


def refused(reasons: Sequence[CancellationReason | None], table: str) -> Exception:
    """The error for a cancelled transaction that no condition of the write explains."""
    codes = codes_of(reasons)
    if "TransactionConflict" in codes:
        return Contended()
    for r in reasons:
        if r is not None and is_item_too_large(r.code, r.message):
            return ItemTooLargeError(f"TransactWriteItems on {table!r}: {r.message}")
    if any(c in UNAVAILABLE_CODES for c in codes):
        return StoreUnavailableError(f"TransactWriteItems on {table!r} throttled: {codes}")
    return StoreError(f"TransactWriteItems on {table!r} cancelled: {codes}")
