"""The store's reads: policies, the epoch, the list index and the history.

Requests per call:

- ``get_many``: one BatchGetItem per 100 distinct selectors (none for an
  empty list); UnprocessedKeys are asked for again after 20, 40, 80, 160,
  320 ms (jittered) and, if still unprocessed, the call raises
  ``StoreUnavailableError``: never a partial answer, which could drop a Deny.
- ``get_many_with_epoch`` (the authorizer's cold start, ``SnapshotRepository``):
  one TransactGetItems of up to 99 policy items and the epoch item, a
  consistent snapshot; see the method for when it falls back to ``epoch`` +
  ``get_many``.
- ``get``, ``epoch``: one consistent GetItem.
- ``list``: one Query on the sparse ``list`` index (eventually consistent: a
  policy written a moment ago may be missing for a moment).
- ``history``: one consistent Query, newest first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pynamodb.exceptions import PynamoDBException
from pynamodb.expressions.condition import Condition
from pynamodb.pagination import ResultIterator

from authz.errors import NotFoundError, StoreError, StoreUnavailableError
from authz.policy.selector import Selector
from authz.store import codec
from authz.store import cursor as cursors
from authz.store.models import (
    EPOCH_PK,
    EPOCH_SK,
    HISTORY_PREFIX,
    LIST_INDEX,
    LIST_PK,
    POLICY_SK,
    BoundTable,
    HistoryEntryItem,
    PolicyItem,
    RevocationEventItem,
    RevocationItem,
    history_sk,
)
from authz.store.timeouts import BATCH_GET_MAX_KEYS, StoreTimeouts
from authz.store.translate import error_code, translate
from authz.store.types import (
    HistoryEntry,
    Page,
    PolicyRecord,
    SnapshotRead,
    check_kind,
    check_limit,
)

__all__ = ["TRANSACT_GET_MAX_ITEMS", "Reads", "page_of"]

TRANSACT_GET_MAX_ITEMS = 100  # DynamoDB's TransactGetItems limit

ItemT = TypeVar("ItemT", PolicyItem, HistoryEntryItem, RevocationItem, RevocationEventItem)
T = TypeVar("T")


class Reads:
    """Every read of one table, through its one connection."""

    def __init__(
        self,
        table: BoundTable,
        timeouts: StoreTimeouts,
        *,
        sleep: Callable[[float], None],
        jitter: random.Random,
    ) -> None:
        self._table = table
        self._timeouts = timeouts
        self._sleep = sleep
        self._jitter = jitter

    def get_many(self, selectors: Sequence[Selector]) -> dict[Selector, PolicyRecord]:
        wanted = sorted(set(selectors))
        found: dict[Selector, PolicyRecord] = {}
        for start in range(0, len(wanted), BATCH_GET_MAX_KEYS):
            chunk = wanted[start : start + BATCH_GET_MAX_KEYS]
            keys = [{"pk": str(s), "sk": POLICY_SK} for s in chunk]
            for raw in self._batch_get(keys):
                self._keep_live(raw.get("pk"), raw, found)
        return found

    def get_many_with_epoch(self, selectors: Sequence[Selector]) -> SnapshotRead:
        """``get_many`` and ``epoch`` together, the records at least as new as the epoch.

        One TransactGetItems of the policy items and the epoch item: a
        snapshot, serialized with the writes' transactions, so it holds all
        of a write (policy and epoch) or none of it. A BatchGetItem would not
        do: it reads each item on its own, and could pair an epoch read after
        a write with a policy read before it, which an authorizer would then
        cache as current until its TTL ran out.

        When the keys do not fit one transaction (100 items, 4 MB), or
        DynamoDB cancels it because a write holds an item right now, the
        epoch is read first and the records after it (two requests): then
        they can only be newer than the epoch, which costs at most one
        needless reload and never a stale policy.

        IAM: the Get actions of a TransactGetItems are governed by
        ``dynamodb:GetItem``, which the authorizer's role already holds.
        """
        wanted = sorted(set(selectors))
        if len(wanted) < TRANSACT_GET_MAX_ITEMS:
            snapshot = self._snapshot(wanted)
            if snapshot is not None:
                return snapshot
        epoch = self.epoch()
        return self.get_many(wanted), epoch

    def _snapshot(self, wanted: list[Selector]) -> SnapshotRead | None:
        """One TransactGetItems; None when the caller must fall back to two reads."""
        keys = [(str(s), POLICY_SK) for s in wanted]
        keys.append((EPOCH_PK, EPOCH_SK))
        name = self._table.name
        gets = [{"TableName": name, "Key": {"pk": {"S": pk}, "sk": {"S": sk}}} for pk, sk in keys]
        try:
            data = self._table.connection.transact_get_items(gets)
        except PynamoDBException as exc:
            # Cancelled: a write holds one of the items right now. Invalid: the
            # items exceed the 4 MB one transaction may read.
            if error_code(exc)[0] in ("TransactionCanceledException", "ValidationException"):
                return None
            raise translate(exc, "TransactGetItems", name) from exc
        responses = data.get("Responses")
        if not isinstance(responses, list) or len(responses) != len(keys):
            raise StoreError(f"TransactGetItems on table {name!r}: malformed response")
        found: dict[Selector, PolicyRecord] = {}
        for (pk, _), response in zip(keys[:-1], responses[:-1], strict=True):
            raw = response.get("Item")
            if raw:
                self._keep_live(pk, raw, found)
        raw_epoch = responses[-1].get("Item")
        if not raw_epoch:
            return found, 0
        with codec.readable(EPOCH_PK):
            epoch = int(self._table.epoch.from_raw_data(raw_epoch).epoch)
        return found, epoch

    def _keep_live(
        self, what: object, raw: dict[str, Any], found: dict[Selector, PolicyRecord]
    ) -> None:
        """Add the record a raw policy item holds to ``found``, unless it is a tombstone."""
        with codec.readable(what):
            item = self._table.policy.from_raw_data(raw)
        if not item.deleted:
            record = codec.record(item)
            found[record.selector] = record

    def _batch_get(self, keys: list[dict[str, str]]) -> list[dict[str, Any]]:
        name = self._table.name
        pending = keys
        items: list[dict[str, Any]] = []
        started = time.monotonic()
        retries = 0
        while True:
            try:
                # Strongly consistent: right after the epoch moved, an eventually
                # consistent read could hand back the old document, which the
                # authorizer would then cache for a whole TTL.
                # pynamodb annotates keys as strings; it takes {attribute: value} maps.
                data = self._table.connection.batch_get_item(
                    name,
                    pending,  # type: ignore[arg-type]
                    consistent_read=True,
                )
            except PynamoDBException as exc:
                raise translate(exc, "BatchGetItem", name) from exc
            items.extend(data.get("Responses", {}).get(name, []))
            unprocessed = data.get("UnprocessedKeys", {}).get(name, {}).get("Keys")
            if not unprocessed:
                return items
            pending = [{key: value["S"] for key, value in k.items()} for k in unprocessed]
            ceiling = self._timeouts.batch_backoff * 2**retries
            pause = self._jitter.uniform(ceiling / 2, ceiling)
            if (
                retries == self._timeouts.batch_retries
                or time.monotonic() - started + pause > self._timeouts.batch_deadline
            ):
                raise StoreUnavailableError(
                    f"BatchGetItem on table {name!r}: {len(pending)} of {len(keys)} keys "
                    f"still unprocessed after {retries} retries (throttled)"
                )
            self._sleep(pause)
            retries += 1

    def get(self, selector: Selector) -> PolicyRecord:
        state = self.state(selector)
        if state.kind != "live" or state.item is None:
            raise NotFoundError(f"no policy for {selector}")
        return codec.record(state.item)

    def state(self, selector: Selector) -> codec.PolicyState:
        """What the policy item holds now (one consistent GetItem)."""
        raw = self.get_item(str(selector), POLICY_SK)
        if raw is None:
            return codec.ABSENT
        with codec.readable(str(selector)):
            item = self._table.policy.from_raw_data(raw)
        return codec.state_of(item)

    def epoch(self) -> int:
        raw = self.get_item(EPOCH_PK, EPOCH_SK)
        if raw is None:
            return 0
        with codec.readable(EPOCH_PK):
            return int(self._table.epoch.from_raw_data(raw).epoch)

    def get_item(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            data = self._table.connection.get_item(
                self._table.name, pk, range_key=sk, consistent_read=True
            )
        except PynamoDBException as exc:
            raise translate(exc, "GetItem", self._table.name) from exc
        item: dict[str, Any] | None = data.get("Item")
        return item

    def list(
        self, *, kind: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[PolicyRecord]:
        check_limit(limit)
        check_kind(kind)
        policy = self._table.policy
        condition: Condition | None = None
        if kind == "default":
            condition = policy.list_sk == "default"
        elif kind is not None:
            condition = policy.list_sk.startswith(f"{kind}:")
        start = _list_start(cursor, kind) if cursor is not None else None
        items: Sequence[PolicyItem] = self.query(
            LIST_PK,
            policy,
            limit,
            "a listed policy",
            range_key_condition=condition,
            index_name=LIST_INDEX,
            exclusive_start_key=start,
        )
        return page_of(items, limit, codec.record, lambda last: cursors.encode({"after": last.pk}))

    def history(
        self, selector: Selector, *, limit: int = 50, cursor: str | None = None
    ) -> Page[HistoryEntry]:
        check_limit(limit)
        start = _history_start(cursor, selector) if cursor is not None else None
        history = self._table.history
        raws: Sequence[HistoryEntryItem] = self.query(
            str(selector),
            history,
            limit,
            str(selector),
            range_key_condition=history.sk.startswith(HISTORY_PREFIX),
            consistent_read=True,
            scan_index_forward=False,
            exclusive_start_key=start,
        )

        def after(last: HistoryEntryItem) -> str:
            revision = int(last.sk[len(HISTORY_PREFIX) :])
            return cursors.encode({"after": revision, "selector": str(selector)})

        return page_of(raws, limit, lambda i: codec.history_entry(selector, i), after)

    def query(
        self, hash_key: str, model: type[ItemT], limit: int, what: str, **query: Any
    ) -> Sequence[ItemT]:
        """Up to ``limit + 1`` items of one Query, over as many pages as DynamoDB splits it into.

        One item more than asked tells whether another page exists.
        """
        pages: ResultIterator[ItemT] = ResultIterator(
            self._table.connection.query,
            (self._table.name, hash_key),
            {**query, "limit": limit + 1},
            map_fn=model.from_raw_data,
            limit=limit + 1,
        )
        try:
            with codec.readable(what):
                return list(pages)
        except PynamoDBException as exc:
            raise translate(exc, "Query", self._table.name) from exc


def page_of(
    items: Sequence[ItemT],
    limit: int,
    convert: Callable[[ItemT], T],
    cursor_after: Callable[[ItemT], str],
) -> Page[T]:
    """The first ``limit`` of ``items`` read by ``Reads.query``, and the cursor past the last.

    One item more than asked tells whether another page exists, so the last
    page always ends with cursor None (never with an empty page).
    """
    page = items[:limit]
    next_cursor = cursor_after(page[-1]) if len(items) > limit else None
    return Page(items=tuple(convert(i) for i in page), cursor=next_cursor)


def _list_start(cursor: str, kind: str | None) -> dict[str, dict[str, str]]:
    return codec.list_key(cursors.list_after(cursor, kind))


def _history_start(cursor: str, selector: Selector) -> dict[str, dict[str, str]]:
    revision = cursors.history_after(cursor, selector)
    return {"pk": {"S": str(selector)}, "sk": {"S": history_sk(revision)}}
