"""``DynamoRepository``: the ``PolicyRepository`` on one DynamoDB table.

Item layout: see ``authz.store.models``. Requests per call:

- ``get_many``: one BatchGetItem per 100 distinct selectors (none for an
  empty list), eventually consistent; UnprocessedKeys are asked for again
  after 20, 40, 80, 160, 320 ms (jittered) and, if still unprocessed, the
  call raises ``StoreUnavailableError``: never a partial answer, which could
  drop a Deny.
- ``get_many_with_epoch`` (the authorizer's cold start): one TransactGetItems
  of up to 99 policy items and the epoch item, a consistent snapshot; see
  the method for when it falls back to ``epoch`` + ``get_many``.
- ``get``, ``epoch``: one consistent GetItem.
- ``list``: one Query on the sparse ``list`` index (eventually consistent: a
  policy written a moment ago may be missing for a moment).
- ``history``: one consistent Query, newest first.
- ``put``: one TransactWriteItems (policy item, history entry, epoch + 1),
  preceded by a consistent GetItem when neither ``create_only`` nor
  ``expected_version`` says what to expect, and followed by one GetItem of
  the epoch. ``delete``: GetItem (the history keeps the deleted document),
  TransactWriteItems, GetItem of the epoch.
- Racing writers: a write whose condition fails because the item moved on
  (unconditional put, create over a tombstone, delete) tries again with what
  the failure returned; a TransactionConflict pauses (jittered, at most
  0.1 s) first. After ``write_attempts`` (8) tries it raises
  ``StoreUnavailableError``; a caller-given version or create-only never
  retries past its own ConflictError/AlreadyExistsError/NotFoundError.

``WriteResult.epoch`` is the epoch read right after the commit: equal to
the epoch this write produced unless another write committed in between, in
which case it is that later value (TransactWriteItems returns no values).

Timeouts (for AWS; ``StoreTimeouts.for_endpoint`` gives DynamoDB Local a
longer read timeout): every HTTP attempt is bounded by ``connect`` + ``read``
seconds and botocore makes at most ``attempts`` of them (legacy retry mode:
50 ms, 100 ms, ... between them). With the defaults (1 s, 1 s, 2 attempts)
one request gives up after at most 2 * 2 s + 0.05 s = 4.05 s. ``get_many``
starts no UnprocessedKeys round after ``batch_deadline`` (2 s) has passed,
so per 100 selectors it ends within 2 s + one request (6.05 s) in the worst
case; a store that is down (connection refused) fails in milliseconds.
``StoreTimeouts.worst_case_seconds`` computes these bounds.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from authz.errors import (
    AlreadyExistsError,
    ConflictError,
    CursorError,
    ItemTooLargeError,
    NotFoundError,
    SelectorError,
    StoreError,
    StoreUnavailableError,
)
from authz.policy.document import PolicyDocument
from authz.policy.selector import KINDS, Selector
from authz.settings import Settings
from authz.store import cursor as cursors
from authz.store.models import (
    EPOCH_PK,
    EPOCH_SK,
    HISTORY_PREFIX,
    LIST_PK,
    POLICY_SK,
    BoundModels,
    HistoryItem,
    PolicyItem,
    bind,
    history_sk,
)
from authz.store.translate import (
    ITEM_LIMIT_BYTES,
    UNAVAILABLE_CODES,
    error_code,
    is_item_too_large,
    translate,
)
from authz.store.types import (
    Action,
    HistoryEntry,
    Page,
    PolicyRecord,
    SnapshotRead,
    WriteResult,
)

__all__ = [
    "BATCH_GET_MAX_KEYS",
    "MAX_PAGE",
    "TRANSACT_GET_MAX_ITEMS",
    "DynamoRepository",
    "StoreTimeouts",
]

BATCH_GET_MAX_KEYS = 100  # DynamoDB's BatchGetItem limit
TRANSACT_GET_MAX_ITEMS = 100  # DynamoDB's TransactGetItems limit
MAX_PAGE = 1000
_MAX_REVISION = 10**10 - 1  # what history_sk's ten digits can order


@dataclass(frozen=True, slots=True)
class StoreTimeouts:
    """How long a DynamoDB call may take before it fails closed."""

    connect: float = 1.0  # seconds to open a connection
    read: float = 1.0  # seconds to wait for (each part of) a response
    attempts: int = 2  # HTTP attempts per request (botocore legacy retries: 50 ms, 100 ms, ...)
    batch_retries: int = 5  # extra BatchGetItem rounds for UnprocessedKeys
    batch_backoff: float = 0.02  # first pause before such a round; doubles each round
    batch_deadline: float = 2.0  # no new UnprocessedKeys round after this many seconds
    write_attempts: int = 8  # transactions per put/delete when racing other writers
    write_backoff: float = 0.02  # first pause after a TransactionConflict; doubles ...
    write_backoff_cap: float = 0.1  # ... up to this (8 attempts pause 0.64 s at most)

    @classmethod
    def for_endpoint(cls, endpoint: str | None) -> StoreTimeouts:
        """The defaults for AWS; a longer read timeout for a loopback endpoint.

        DynamoDB Local is a JVM that pauses for JIT and GC, on machines shared
        with test runs; its first CreateTable alone can pass one second. It
        stays bounded: 2 attempts * (1 s + 5 s) + 0.05 s.
        """
        host = urlsplit(endpoint).hostname if endpoint else None
        if host in ("127.0.0.1", "localhost", "::1"):
            return cls(read=5.0)
        return cls()

    def request_seconds(self) -> float:
        """Worst case of one DynamoDB request, botocore retries included."""
        pauses = sum(0.05 * 2.0**i for i in range(self.attempts - 1))
        return self.attempts * (self.connect + self.read) + pauses

    def worst_case_seconds(self, selectors: int = BATCH_GET_MAX_KEYS) -> float:
        """Worst case of ``get_many`` for that many selectors."""
        chunks = max(1, -(-selectors // BATCH_GET_MAX_KEYS))
        pauses = sum(self.batch_backoff * 2.0**i for i in range(self.batch_retries))
        rounds = (1 + self.batch_retries) * self.request_seconds() + pauses
        return chunks * min(rounds, self.batch_deadline + self.request_seconds())


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _State:
    """What the policy item holds (or is assumed to hold) before a write."""

    kind: Literal["absent", "live", "tombstone"]
    version: int | None = None  # the stored version; None when absent
    item: PolicyItem | None = None  # known only after a read


_ABSENT = _State("absent")


class _Changed(Exception):
    """The policy item's condition failed: it is not in the state the write assumed."""

    def __init__(self, state: _State | None) -> None:
        super().__init__("policy item changed")
        self.state = state  # None when DynamoDB did not return the old item


class _Contended(Exception):
    """Another transaction held the item; the write may simply be tried again."""


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
        self._clock = clock
        self._sleep = sleep
        self._random = random.Random()  # noqa: S311  # jitter, not secrets
        self._m: BoundModels = bind(
            table=settings.table,
            host=settings.dynamodb_endpoint,
            region=settings.region,
            connect_timeout=self.timeouts.connect,
            read_timeout=self.timeouts.read,
            max_attempts=self.timeouts.attempts,
        )
        try:
            # Built now, on one thread, so request threads never race to build it.
            self._m.connection.connection.client  # noqa: B018  # the property builds it
        except Exception as exc:  # botocore raises many unrelated types for a bad config
            raise StoreError(f"cannot configure the DynamoDB client: {exc}") from exc

    @classmethod
    def from_settings(cls, settings: Settings) -> DynamoRepository:
        return cls(settings)

    @property
    def events(self) -> Any:
        """The botocore event emitter of this repository's client.

        A seam for tests and metrics (``before-send.dynamodb``, ``after-call...``);
        nothing in authz registers handlers on it.
        """
        return self._m.connection.connection.client.meta.events

    # -- table ------------------------------------------------------------

    def create_table(self, wait: bool = True) -> bool:
        """Create the table (and its list index) unless it exists; True if created."""
        try:
            if self._m.policy.exists():
                return False
            self._m.policy.create_table(wait=wait)
        except PynamoDBException as exc:
            if error_code(exc)[0] == "ResourceInUseException":
                return False  # created concurrently
            raise translate(exc, "CreateTable", self.table) from exc
        return True

    def delete_table(self) -> bool:
        """Delete the table if it exists; True if it did."""
        try:
            if not self._m.policy.exists():
                return False
            self._m.policy.delete_table()
        except PynamoDBException as exc:
            if error_code(exc)[0] == "ResourceNotFoundException":
                return False
            raise translate(exc, "DeleteTable", self.table) from exc
        return True

    # -- reads ------------------------------------------------------------

    def get_many(self, selectors: Sequence[Selector]) -> dict[Selector, PolicyRecord]:
        wanted = sorted(set(selectors))
        found: dict[Selector, PolicyRecord] = {}
        for start in range(0, len(wanted), BATCH_GET_MAX_KEYS):
            chunk = wanted[start : start + BATCH_GET_MAX_KEYS]
            keys = [{"pk": str(s), "sk": POLICY_SK} for s in chunk]
            for raw in self._batch_get(keys):
                with _readable(raw.get("pk")):
                    item = self._m.policy.from_raw_data(raw)
                if not item.deleted:
                    record = self._record(item)
                    found[record.selector] = record
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
            try:
                return self._snapshot(wanted)
            except _Contended:
                pass
        epoch = self.epoch()
        return self.get_many(wanted), epoch

    def _snapshot(self, wanted: list[Selector]) -> SnapshotRead:
        keys = [(str(s), POLICY_SK) for s in wanted]
        keys.append((EPOCH_PK, EPOCH_SK))
        gets = [
            {"TableName": self.table, "Key": {"pk": {"S": pk}, "sk": {"S": sk}}} for pk, sk in keys
        ]
        try:
            data = self._m.connection.connection.transact_get_items(gets)
        except PynamoDBException as exc:
            # Cancelled: a write holds one of the items right now. Invalid: the
            # items exceed the 4 MB one transaction may read. Both: read the
            # epoch first and the records after it (the caller's fallback).
            if error_code(exc)[0] in ("TransactionCanceledException", "ValidationException"):
                raise _Contended() from exc
            raise translate(exc, "TransactGetItems", self.table) from exc
        responses = data.get("Responses")
        if not isinstance(responses, list) or len(responses) != len(keys):
            raise StoreError(f"TransactGetItems on table {self.table!r}: malformed response")
        found: dict[Selector, PolicyRecord] = {}
        for (pk, _), response in zip(keys[:-1], responses[:-1], strict=True):
            raw = response.get("Item")
            if raw:
                with _readable(pk):
                    item = self._m.policy.from_raw_data(raw)
                if not item.deleted:
                    record = self._record(item)
                    found[record.selector] = record
        raw_epoch = responses[-1].get("Item")
        if not raw_epoch:
            return found, 0
        with _readable(EPOCH_PK):
            epoch = int(self._m.epoch.from_raw_data(raw_epoch).epoch)
        return found, epoch

    def _batch_get(self, keys: list[dict[str, str]]) -> Iterator[dict[str, Any]]:
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
                data = self._m.connection.batch_get_item(
                    pending,  # type: ignore[arg-type]
                    consistent_read=True,
                )
            except PynamoDBException as exc:
                raise translate(exc, "BatchGetItem", self.table) from exc
            items.extend(data.get("Responses", {}).get(self.table, []))
            unprocessed = data.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys")
            if not unprocessed:
                return iter(items)
            pending = [{name: value["S"] for name, value in key.items()} for key in unprocessed]
            ceiling = self.timeouts.batch_backoff * 2**retries
            pause = self._random.uniform(ceiling / 2, ceiling)
            if (
                retries == self.timeouts.batch_retries
                or time.monotonic() - started + pause > self.timeouts.batch_deadline
            ):
                raise StoreUnavailableError(
                    f"BatchGetItem on table {self.table!r}: {len(pending)} of {len(keys)} keys "
                    f"still unprocessed after {retries} retries (throttled)"
                )
            self._sleep(pause)
            retries += 1

    def get(self, selector: Selector) -> PolicyRecord:
        state = self._read(selector)
        if state.kind != "live" or state.item is None:
            raise NotFoundError(f"no policy for {selector}")
        return self._record(state.item)

    def _read(self, selector: Selector) -> _State:
        try:
            with _readable(str(selector)):
                item = self._m.policy.get(str(selector), POLICY_SK, consistent_read=True)
        except DoesNotExist:
            return _ABSENT
        except PynamoDBException as exc:
            raise translate(exc, "GetItem", self.table) from exc
        return _state_of(item)

    def epoch(self) -> int:
        try:
            item = self._m.epoch.get(EPOCH_PK, EPOCH_SK, consistent_read=True)
        except DoesNotExist:
            return 0
        except PynamoDBException as exc:
            raise translate(exc, "GetItem", self.table) from exc
        return int(item.epoch)

    def list(
        self, *, kind: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[PolicyRecord]:
        _check_limit(limit)
        if kind is not None and kind not in KINDS:
            raise SelectorError(f"invalid kind {kind!r}: expected group, scope or default")
        index = self._m.policy.list_index
        condition: Condition | None = None
        if kind == "default":
            condition = self._m.policy.list_sk == "default"
        elif kind is not None:
            condition = self._m.policy.list_sk.startswith(f"{kind}:")
        start = None
        if cursor is not None:
            after = cursors.decode(cursor, required={"after": str})["after"]
            try:
                last = Selector.parse(after)
            except SelectorError:
                raise CursorError("invalid cursor: not one this API issued") from None
            if kind is not None and last.kind != kind:
                raise CursorError(
                    f"invalid cursor: it pages a listing of another kind than {kind!r}"
                )
            start = _list_key(str(last))
        try:
            with _readable("a listed policy"):
                items = list(
                    index.query(
                        LIST_PK,
                        condition,
                        limit=limit + 1,
                        page_size=limit + 1,
                        last_evaluated_key=start,
                    )
                )
        except PynamoDBException as exc:
            raise translate(exc, "Query", self.table) from exc
        # One item more than asked tells whether another page exists, so the
        # last page always ends with cursor None (never with an empty page).
        page, more = items[:limit], len(items) > limit
        records = tuple(self._record(i) for i in page)
        next_cursor = cursors.encode({"after": page[-1].pk}) if more else None
        return Page(items=records, cursor=next_cursor)

    def history(
        self, selector: Selector, *, limit: int = 50, cursor: str | None = None
    ) -> Page[HistoryEntry]:
        _check_limit(limit)
        start = None
        if cursor is not None:
            data = cursors.decode(cursor, required={"after": int, "selector": str})
            revision = data["after"]
            if data["selector"] != str(selector) or not 0 < revision <= _MAX_REVISION:
                raise CursorError(f"invalid cursor: it does not page the history of {selector}")
            start = {"pk": {"S": str(selector)}, "sk": {"S": history_sk(revision)}}
        model = self._m.history
        try:
            with _readable(str(selector)):
                items = list(
                    model.query(
                        str(selector),
                        model.sk.startswith(HISTORY_PREFIX),
                        consistent_read=True,
                        scan_index_forward=False,
                        limit=limit + 1,
                        page_size=limit + 1,
                        last_evaluated_key=start,
                    )
                )
        except PynamoDBException as exc:
            raise translate(exc, "Query", self.table) from exc
        page, more = items[:limit], len(items) > limit
        entries = tuple(self._entry(selector, i) for i in page)
        next_cursor = None
        if more:
            revision = int(page[-1].sk[len(HISTORY_PREFIX) :])
            next_cursor = cursors.encode({"after": revision, "selector": str(selector)})
        return Page(items=entries, cursor=next_cursor)

    # -- writes -----------------------------------------------------------

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
        if create_only and expected_version is not None:
            raise ValueError("create_only and expected_version exclude each other")
        token_dict = dict(token) if token is not None else None
        if create_only:
            state = _ABSENT  # confirmed (or corrected, over a tombstone) by the condition
        elif expected_version is not None:
            state = _State("live", expected_version)
        else:
            state = self._read(selector)
        for attempt in range(self.timeouts.write_attempts):
            if state.kind == "live":
                if create_only:
                    raise AlreadyExistsError(
                        f"{selector} already exists (version {state.version})", actual=state.version
                    )
                action: Action = "update"
            else:
                if expected_version is not None:
                    raise NotFoundError(f"no policy for {selector}")
                action = "create"
            try:
                record = self._write_put(
                    selector,
                    state,
                    action=action,
                    document=document,
                    description=description,
                    actor=actor,
                    token=token_dict,
                    forced=forced,
                )
            except _Changed as changed:
                now = changed.state if changed.state is not None else self._read(selector)
                if expected_version is not None and not (
                    now.kind == "live" and now.version == expected_version
                ):
                    if now.kind != "live":
                        raise NotFoundError(f"no policy for {selector}") from None
                    raise ConflictError(
                        f"{selector} is at version {now.version}, not {expected_version}",
                        expected=expected_version,
                        actual=now.version,
                    ) from None
                state = now
                continue
            except _Contended:
                self._pause(attempt)
                continue
            return WriteResult(record=record, action=action, epoch=self.epoch())
        raise StoreUnavailableError(
            f"{selector} kept changing during {self.timeouts.write_attempts} attempts; try again"
        )

    def delete(
        self,
        selector: Selector,
        *,
        actor: str,
        expected_version: int | None = None,
        forced: bool = False,
    ) -> WriteResult:
        for attempt in range(self.timeouts.write_attempts):
            state = self._read(selector)
            if state.kind != "live" or state.item is None or state.version is None:
                raise NotFoundError(f"no policy for {selector}")
            if expected_version is not None and state.version != expected_version:
                raise ConflictError(
                    f"{selector} is at version {state.version}, not {expected_version}",
                    expected=expected_version,
                    actual=state.version,
                )
            old = state.item
            tombstone = self._m.policy(
                pk=str(selector),
                sk=POLICY_SK,
                deleted=True,
                updated_at=self._clock(),
                updated_by=actor,
            )
            tombstone.version = state.version
            entry = self._m.history(
                pk=str(selector),
                sk=history_sk(state.version + 1),
                action="delete",
                version=state.version,
                at=tombstone.updated_at,
                by=actor,
                document=old.document,
                description=old.description or "",
                token=old.token,
                forced=forced or None,
            )
            try:
                self._commit(tombstone, state, entry)
            except _Changed:
                continue  # read again: a newer version or already gone
            except _Contended:
                self._pause(attempt)
                continue
            return WriteResult(record=None, action="delete", epoch=self.epoch())
        raise StoreUnavailableError(
            f"{selector} kept changing during {self.timeouts.write_attempts} attempts; try again"
        )

    def _write_put(
        self,
        selector: Selector,
        state: _State,
        *,
        action: Action,
        document: PolicyDocument,
        description: str,
        actor: str,
        token: dict[str, Any] | None,
        forced: bool = False,
    ) -> PolicyRecord:
        name = str(selector)
        doc = document.to_dict()
        new_version = (state.version or 0) + 1
        if new_version > _MAX_REVISION:
            raise StoreError(f"{selector} has reached the last version this store can order")
        now = self._clock()
        item = self._m.policy(
            pk=name,
            sk=POLICY_SK,
            list_pk=LIST_PK,
            list_sk=name,
            document=doc,
            description=description,
            token=token,
            updated_at=now,
            updated_by=actor,
        )
        if state.version is not None:
            item.version = state.version  # pynamodb conditions on it and writes +1
        entry = self._m.history(
            pk=name,
            sk=history_sk(new_version),
            action=action,
            version=new_version,
            at=now,
            by=actor,
            document=doc,
            description=description,
            token=token,
            forced=forced or None,
        )
        self._commit(item, state, entry)
        return PolicyRecord(
            selector=selector,
            document=document,
            description=description,
            version=new_version,
            updated_at=now,
            updated_by=actor,
            token=token,
        )

    def _commit(self, item: PolicyItem, state: _State, entry: HistoryItem) -> None:
        """Policy item, history entry and epoch + 1, all or nothing."""
        for what, candidate in (("policy item", item), ("history entry", entry)):
            size = _item_size(candidate.serialize())
            if size > ITEM_LIMIT_BYTES:
                raise ItemTooLargeError(
                    f"the {what} for {item.pk} would be {size} bytes; "
                    f"DynamoDB's item limit is {ITEM_LIMIT_BYTES} bytes"
                )
        policy, history, epoch = self._m.policy, self._m.history, self._m.epoch
        condition: Condition
        if state.kind == "absent":
            condition = policy.pk.does_not_exist()
        elif state.kind == "live":
            condition = policy.deleted.does_not_exist()
        else:
            condition = policy.deleted == True  # noqa: E712  # a pynamodb condition, not a test
        try:
            # The token makes a botocore retry after a lost response idempotent
            # instead of failing on the condition the first attempt satisfied.
            with TransactWrite(
                connection=self._m.connection.connection, client_request_token=str(uuid.uuid4())
            ) as tx:
                tx.save(item, condition=condition, return_values="ALL_OLD")
                tx.save(entry, condition=history.sk.does_not_exist())
                tx.update(epoch(), actions=[epoch.epoch.add(1)])
        except TransactWriteError as exc:
            raise self._cancelled(exc, item) from exc

    def _cancelled(self, exc: TransactWriteError, item: PolicyItem) -> Exception:
        if error_code(exc)[0] != "TransactionCanceledException":
            return translate(exc, "TransactWriteItems", self.table)
        # One reason per transaction item, in pynamodb's order: puts (policy,
        # history), then updates (epoch).
        reasons = exc.cancellation_reasons
        codes = [r.code if r is not None else None for r in reasons]
        first = reasons[0] if reasons else None
        if first is not None and first.code == "ConditionalCheckFailed":
            old = first.raw_item
            return _Changed(_state_of(self._m.policy.from_raw_data(old)) if old else None)
        if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
            return StoreError(
                f"history of {item.pk} already has an entry for this version although the policy "
                "item does not; was the policy item removed outside authz?"
            )
        if "TransactionConflict" in codes:
            return _Contended()
        for r in reasons:
            if r is not None and is_item_too_large(r.code, r.message):
                return ItemTooLargeError(f"TransactWriteItems on {self.table!r}: {r.message}")
        if any(c in UNAVAILABLE_CODES for c in codes):
            return StoreUnavailableError(f"TransactWriteItems on {self.table!r} throttled: {codes}")
        return StoreError(f"TransactWriteItems on {self.table!r} cancelled: {codes}")

    def _pause(self, attempt: int) -> None:
        ceiling = min(self.timeouts.write_backoff * 2**attempt, self.timeouts.write_backoff_cap)
        self._sleep(self._random.uniform(0, ceiling))

    # -- conversions ------------------------------------------------------

    def _record(self, item: PolicyItem) -> PolicyRecord:
        try:
            return PolicyRecord(
                selector=Selector.parse(item.pk),
                document=PolicyDocument.from_dict(item.document),
                description=item.description or "",
                version=int(item.version),
                updated_at=item.updated_at,
                updated_by=item.updated_by,
                token=item.token,
            )
        except (ValueError, TypeError) as exc:
            # Includes PolicyValidationError/SelectorError: a stored item that
            # fails today's rules is refused, never half-used.
            raise StoreError(f"stored policy item {item.pk!r} is unreadable: {exc}") from exc

    def _entry(self, selector: Selector, item: HistoryItem) -> HistoryEntry:
        action = item.action
        if action not in ("create", "update", "delete") or not isinstance(item.document, dict):
            raise StoreError(f"stored history item {item.pk!r}/{item.sk!r} is unreadable")
        return HistoryEntry(
            selector=selector,
            version=int(item.version),
            action=action,  # type: ignore[arg-type]  # checked above
            at=item.at,
            by=item.by,
            document=item.document,
            description=item.description or "",
            token=item.token,
            forced=item.forced is True,
        )


@contextmanager
def _readable(what: object) -> Iterator[None]:
    """A stored item that does not deserialize is a store failure, not a crash."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise StoreError(f"stored item {what!r} is unreadable: {exc}") from exc


def _state_of(item: PolicyItem) -> _State:
    return _State("tombstone" if item.deleted else "live", int(item.version), item)


def _list_key(selector: str) -> dict[str, dict[str, str]]:
    return {
        "pk": {"S": selector},
        "sk": {"S": POLICY_SK},
        "list_pk": {"S": LIST_PK},
        "list_sk": {"S": selector},
    }


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")


def _item_size(raw: Mapping[str, Mapping[str, Any]]) -> int:
    """DynamoDB's item size: attribute names plus values (strings as UTF-8)."""
    size = 0
    for name, typed in raw.items():
        size += len(name.encode())
        for kind, value in typed.items():
            if kind == "S":
                size += len(value.encode())
            elif kind == "N":
                size += 21  # the most a number can take
            else:
                size += 1
    return size
