"""The store's writes: policy item, history entry and epoch + 1 in one transaction.

Requests per call:

- ``put``: one TransactWriteItems, preceded by a consistent GetItem when
  neither ``create_only`` nor ``expected_version`` says what to expect, and
  followed by one GetItem of the epoch.
- ``delete``: GetItem (the history keeps the deleted document),
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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import CancellationReason, TransactWriteError
from pynamodb.expressions.condition import Condition

from authz.errors import (
    AlreadyExistsError,
    ConflictError,
    ItemTooLargeError,
    NotFoundError,
    StoreError,
    StoreUnavailableError,
)
from authz.policy.document import PolicyDocument
from authz.policy.selector import Selector
from authz.store import codec
from authz.store.codec import PolicyState
from authz.store.models import HistoryEntryItem, PolicyItem
from authz.store.transact import Contended, EpochWriter, codes_of, refused
from authz.store.translate import error_code, translate
from authz.store.types import ITEM_LIMIT_BYTES, MAX_REVISION, Action, PolicyRecord, WriteResult

__all__ = ["PutRequest", "Writes"]


class _Changed(Exception):
    """The policy item's condition failed: it is not in the state the write assumed."""

    def __init__(self, state: PolicyState | None) -> None:
        super().__init__("policy item changed")
        self.state = state  # None when DynamoDB did not return the old item


@dataclass(frozen=True, slots=True)
class PutRequest:
    """What a caller asked ``put`` to write, and under which expectation."""

    selector: Selector
    document: PolicyDocument
    actor: str
    description: str = ""
    expected_version: int | None = None
    create_only: bool = False
    token: Mapping[str, Any] | None = None
    forced: bool = False

    def assumed_state(self) -> PolicyState | None:
        """What the caller's expectation says is stored; None when it must be read."""
        if self.create_only:
            return codec.ABSENT  # confirmed (or corrected, over a tombstone) by the condition
        if self.expected_version is not None:
            return PolicyState("live", self.expected_version)
        return None

    def action(self, state: PolicyState) -> Action:
        """``create`` or ``update`` over ``state``, or the answer that refuses the write."""
        if state.kind == "live":
            if self.create_only:
                raise AlreadyExistsError(
                    f"{self.selector} already exists (version {state.version})",
                    actual=state.version,
                )
            if self.expected_version is not None and state.version != self.expected_version:
                raise ConflictError(
                    f"{self.selector} is at version {state.version}, not {self.expected_version}",
                    expected=self.expected_version,
                    actual=state.version,
                )
            return "update"
        if self.expected_version is not None:
            raise NotFoundError(f"no policy for {self.selector}")
        return "create"


class Writes(EpochWriter):
    """Every policy write of one table, through its one connection."""

    def put(self, request: PutRequest) -> WriteResult:
        if request.create_only and request.expected_version is not None:
            raise ValueError("create_only and expected_version exclude each other")

        def attempt(known: PolicyState | None) -> WriteResult:
            try:
                return self._put_once(request, known)
            except _Changed as changed:
                raise self._recheck(request, changed) from None

        return self._retrying(request.selector, request.assumed_state(), attempt)

    def _recheck(self, request: PutRequest, changed: _Changed) -> _Changed:
        """Raise the caller's answer if the state DynamoDB returned refutes its expectation.

        It is given on the attempt that met the failed condition: left to the
        next attempt, a condition failing on the last one would read as
        exhaustion (503) instead of the conflict (409) it is.
        """
        state = changed.state if changed.state is not None else self._reads.state(request.selector)
        request.action(state)
        return _Changed(state)

    def delete(
        self, selector: Selector, *, actor: str, expected_version: int | None, forced: bool
    ) -> WriteResult:
        # Each attempt reads the item again: the history keeps the document deleted.
        def attempt(_: PolicyState | None) -> WriteResult:
            return self._delete_once(selector, actor, expected_version, forced)

        return self._retrying(selector, None, attempt)

    def _retrying(
        self,
        selector: Selector,
        known: PolicyState | None,
        attempt: Callable[[PolicyState | None], WriteResult],
    ) -> WriteResult:
        """Run ``attempt`` until it commits or answers, racing other writers.

        ``known`` is what the item is believed to hold (None: read it). A failed
        condition hands the next attempt the state DynamoDB returned; a
        TransactionConflict pauses and tries the same state again.
        """
        for number in range(self._timeouts.write_attempts):
            try:
                return attempt(known)
            except _Changed as changed:
                known = changed.state
            except Contended:
                self._pause(number)
        raise StoreUnavailableError(
            f"{selector} kept changing during {self._timeouts.write_attempts} attempts; try again"
        )

    def _put_once(self, request: PutRequest, known: PolicyState | None) -> WriteResult:
        state = known if known is not None else self._reads.state(request.selector)
        action = request.action(state)
        version = (state.version or 0) + 1
        if version > MAX_REVISION:
            raise StoreError(
                f"{request.selector} has reached the last version this store can order"
            )
        token = dict(request.token) if request.token is not None else None
        record = PolicyRecord(
            selector=request.selector,
            document=request.document,
            description=request.description,
            version=version,
            updated_at=self._clock(),
            updated_by=request.actor,
            token=token,
        )
        document = request.document.to_dict()
        entry = codec.history_item(
            self._table.history,
            selector=request.selector,
            revision=version,
            action=action,
            version=version,
            at=record.updated_at,
            by=request.actor,
            document=document,
            description=request.description,
            token=token,
            forced=request.forced,
        )
        item = codec.policy_item(self._table.policy, record, document, state.version)
        self._commit(item, state, entry)
        return WriteResult(record=record, action=action, epoch=self._reads.epoch(), version=version)

    def _delete_once(
        self, selector: Selector, actor: str, expected_version: int | None, forced: bool
    ) -> WriteResult:
        state = self._reads.state(selector)
        if state.kind != "live" or state.item is None or state.version is None:
            raise NotFoundError(f"no policy for {selector}")
        if expected_version is not None and state.version != expected_version:
            raise ConflictError(
                f"{selector} is at version {state.version}, not {expected_version}",
                expected=expected_version,
                actual=state.version,
            )
        old = state.item
        at = self._clock()
        tombstone = codec.tombstone(self._table.policy, selector, state.version, at, actor)
        entry = codec.history_item(
            self._table.history,
            selector=selector,
            revision=state.version + 1,
            action="delete",
            version=state.version,
            at=at,
            by=actor,
            document=old.document,
            description=old.description or "",
            token=old.token,
            forced=forced,
        )
        self._commit(tombstone, state, entry)
        return WriteResult(
            record=None, action="delete", epoch=self._reads.epoch(), version=state.version
        )

    def _commit(self, item: PolicyItem, state: PolicyState, entry: HistoryEntryItem) -> None:
        """Policy item, history entry and epoch + 1, all or nothing."""
        for what, candidate in (("policy item", item), ("history entry", entry)):
            size = codec.item_size(candidate.serialize())
            if size > ITEM_LIMIT_BYTES:
                raise ItemTooLargeError(
                    f"the {what} for {item.pk} would be {size} bytes; "
                    f"DynamoDB's item limit is {ITEM_LIMIT_BYTES} bytes"
                )
        policy = self._table.policy
        condition: Condition
        if state.kind == "absent":
            condition = policy.pk.does_not_exist()
        elif state.kind == "live":
            condition = policy.deleted.does_not_exist()
        else:
            condition = policy.deleted == True  # noqa: E712  # a pynamodb condition, not a test
        try:
            self._transact(
                lambda tx: tx.save(item, condition=condition, return_values="ALL_OLD"), entry
            )
        except TransactWriteError as exc:
            raise self._cancelled(exc, item) from exc

    def _cancelled(self, exc: TransactWriteError, item: PolicyItem) -> Exception:
        """What a failed transaction means for this write."""
        if error_code(exc)[0] != "TransactionCanceledException":
            return translate(exc, "TransactWriteItems", self._table.name)
        # One reason per transaction item, in pynamodb's order: puts (policy,
        # history), then updates (epoch).
        reasons = exc.cancellation_reasons
        first = reasons[0] if reasons else None
        if first is not None and first.code == "ConditionalCheckFailed":
            old = first.raw_item
            return _Changed(codec.state_of(self._table.policy.from_raw_data(old)) if old else None)
        return self._refused(reasons, item)

    def _refused(self, reasons: Sequence[CancellationReason | None], item: PolicyItem) -> Exception:
        """The error for a transaction cancelled for another reason than the policy's condition."""
        if codes_of(reasons)[1:2] == ["ConditionalCheckFailed"]:
            return StoreError(
                f"history of {item.pk} already has an entry for this version although the policy "
                "item does not; was the policy item removed outside authz?"
            )
        return refused(reasons, self._table.name)
