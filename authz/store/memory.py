"""``PolicyRepository`` in memory: ``authz simulate --policies``, fuzzing and tests.

It is a ``RevocationRepository`` too, with the same history positions and
expiry filter as the table (``authz.store.revocations``).

It follows ``DynamoRepository``'s contract at every edge the service and the
handlers reach: versions that keep counting across delete and re-create,
history newest first, one epoch bump per write, ``CursorError`` for cursors
it did not issue, ``SelectorError`` for an unknown kind, ``ValueError`` for a
page limit outside 1..1000 or ``create_only`` with ``expected_version`` (both
are the caller's bugs, as in the real store), ``ItemTooLargeError`` over
DynamoDB's item limit, and ``UnicodeEncodeError`` for a string that is not
valid UTF-8 (a lone surrogate), as ``DynamoRepository.put`` raises.

No I/O and no AWS code, so a fuzzer can call it hundreds of thousands of
times and the CLI can simulate against files without boto3; ``reset``
restores the state it was constructed with, so every fuzz input starts from
the same store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from authz.errors import AlreadyExistsError, ConflictError, ItemTooLargeError, NotFoundError
from authz.policy.document import PolicyDocument
from authz.policy.selector import Selector
from authz.revocations import Revocation, RevocationEvent, RevocationSet, Target
from authz.store import cursor as cursors
from authz.store.revocation_keys import revocation_position, revoke_event
from authz.store.types import (
    ITEM_LIMIT_BYTES,
    HistoryEntry,
    Page,
    PolicyRecord,
    RevocationWrite,
    WriteResult,
    check_kind,
    check_limit,
)

__all__ = ["MemoryRepository"]

Snapshot = tuple[int, tuple[tuple[str, int, str], ...]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _check_version(selector: Selector, current: PolicyRecord, expected: int | None) -> None:
    if expected is not None and current.version != expected:
        raise ConflictError(
            f"{selector} is at version {current.version}, not {expected}",
            expected=expected,
            actual=current.version,
        )


class MemoryRepository:
    """A dict-backed ``PolicyRepository``.

    ``seed`` maps selectors (or their text) to documents, each written once by
    actor ``seed``. ``clock`` stamps ``updated_at`` and history entries
    (timezone-aware UTC; a fixed one keeps fuzz runs reproducible).
    """

    def __init__(
        self,
        seed: Mapping[str, PolicyDocument] | Mapping[Selector, PolicyDocument] | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._clock = clock
        self.records: dict[Selector, PolicyRecord] = {}
        self.versions: dict[Selector, int] = {}
        self.histories: dict[Selector, list[HistoryEntry]] = {}
        self._epoch = 0
        self.revocations: dict[Target, Revocation] = {}
        # (position, event), oldest first; the position is the table's history sort key.
        self.revocation_events: list[tuple[str, RevocationEvent]] = []
        for selector, document in (seed or {}).items():
            parsed = selector if isinstance(selector, Selector) else Selector.parse(selector)
            self.put(parsed, document, actor="seed")
        # Records and entries are immutable: restoring means copying the containers
        # (the history lists too, or later writes would append to the seeded ones).
        self._seeded = (
            dict(self.records),
            dict(self.versions),
            {s: list(h) for s, h in self.histories.items()},
        )
        self._seeded_epoch = self._epoch

    def reset(self) -> None:
        """Forget every write since construction (the seed stays, one write each)."""
        records, versions, histories = self._seeded
        self.records, self.versions = dict(records), dict(versions)
        self.histories = {s: list(h) for s, h in histories.items()}
        self._epoch = self._seeded_epoch
        self.revocations = {}
        self.revocation_events = []

    def snapshot(self) -> Snapshot:
        """The epoch and every record's (selector, version, document JSON), to compare states."""
        return self._epoch, tuple(
            sorted(
                (str(s), r.version, json.dumps(r.document.to_dict(), sort_keys=True))
                for s, r in self.records.items()
            )
        )

    # -- reads ------------------------------------------------------------------

    def get_many(self, selectors: Sequence[Selector]) -> dict[Selector, PolicyRecord]:
        return {s: self.records[s] for s in selectors if s in self.records}

    def get(self, selector: Selector) -> PolicyRecord:
        record = self.records.get(selector)
        if record is None:
            raise NotFoundError(f"no policy for {selector}")
        return record

    def epoch(self) -> int:
        return self._epoch

    def list(
        self, *, kind: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[PolicyRecord]:
        check_limit(limit)
        check_kind(kind)
        after = "" if cursor is None else cursors.list_after(cursor, kind)
        found = sorted(
            (r for s, r in self.records.items() if kind is None or s.kind == kind),
            key=lambda r: str(r.selector),
        )
        found = [r for r in found if str(r.selector) > after]
        page, more = found[:limit], len(found) > limit
        next_cursor = cursors.encode({"after": str(page[-1].selector)}) if more else None
        return Page(items=tuple(page), cursor=next_cursor)

    def history(
        self, selector: Selector, *, limit: int = 50, cursor: str | None = None
    ) -> Page[HistoryEntry]:
        check_limit(limit)
        written = self.histories.get(selector, [])
        # Revision k is the k-th write of this selector; newest first.
        revisions = list(range(len(written), 0, -1))
        if cursor is not None:
            after = cursors.history_after(cursor, selector)
            revisions = [r for r in revisions if r < after]
        page, more = revisions[:limit], len(revisions) > limit
        next_cursor = (
            cursors.encode({"after": page[-1], "selector": str(selector)}) if more else None
        )
        return Page(items=tuple(written[r - 1] for r in page), cursor=next_cursor)

    # -- writes -----------------------------------------------------------------

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
    ) -> WriteResult:
        if create_only and expected_version is not None:
            raise ValueError("create_only and expected_version exclude each other")
        current = self.records.get(selector)
        if create_only and current is not None:
            raise AlreadyExistsError(
                f"{selector} already exists (version {current.version})", actual=current.version
            )
        if expected_version is not None:
            if current is None:
                raise NotFoundError(f"no policy for {selector}")
            _check_version(selector, current, expected_version)
        doc = document.to_dict()
        _check_size(selector, doc, description, actor, token)
        record = PolicyRecord(
            selector=selector,
            document=PolicyDocument.from_dict(doc),
            description=description,
            version=self.versions.get(selector, 0) + 1,
            updated_at=self._clock(),
            updated_by=actor,
            token=dict(token) if token is not None else None,
        )
        self.records[selector] = record
        self.versions[selector] = record.version
        action: Literal["create", "update"] = "create" if current is None else "update"
        self._log(record, action, actor, doc, record.updated_at)
        return WriteResult(record=record, action=action, epoch=self._epoch)

    def delete(
        self, selector: Selector, *, actor: str, expected_version: int | None = None
    ) -> WriteResult:
        current = self.records.get(selector)
        if current is None:
            raise NotFoundError(f"no policy for {selector}")
        _check_version(selector, current, expected_version)
        del self.records[selector]
        self._log(current, "delete", actor, current.document.to_dict(), self._clock())
        return WriteResult(record=None, action="delete", epoch=self._epoch)

    # -- revocations ------------------------------------------------------------

    def _live(self) -> tuple[Revocation, ...]:
        now = self._clock().timestamp()
        return tuple(
            sorted((r for r in self.revocations.values() if r.live(now)), key=lambda r: r.target)
        )

    def live_revocations(self, *, max_entries: int) -> RevocationSet:
        live = self._live()
        return RevocationSet.of(live[:max_entries], complete=len(live) <= max_entries)

    def revoke(self, revocation: Revocation) -> RevocationWrite:
        self.revocations[revocation.target] = revocation
        self._log_revocation(revoke_event(revocation))
        return RevocationWrite(revocation=revocation, epoch=self._epoch)

    def get_revocation(self, target: Target) -> Revocation:
        found = self.revocations.get(target)
        if found is None or not found.live(self._clock().timestamp()):
            raise NotFoundError(f"no live revocation {target}")
        return found

    def delete_revocation(self, target: Target, *, actor: str) -> RevocationWrite:
        found = self.get_revocation(target)
        del self.revocations[target]
        self._log_revocation(
            RevocationEvent(
                target=target, action="delete", at=self._clock(), by=actor, reason=found.reason
            )
        )
        return RevocationWrite(revocation=found, epoch=self._epoch)

    def list_revocations(self, *, limit: int = 50, cursor: str | None = None) -> Page[Revocation]:
        check_limit(limit)
        found = self._live()
        if cursor is not None:
            after = cursors.revocations_after(cursor)
            found = tuple(r for r in found if r.target > after)
        page, more = found[:limit], len(found) > limit
        next_cursor = cursors.encode({"revocation": page[-1].target.id}) if more else None
        return Page(items=tuple(page), cursor=next_cursor)

    def revocation_history(
        self, *, limit: int = 50, cursor: str | None = None
    ) -> Page[RevocationEvent]:
        check_limit(limit)
        events = sorted(self.revocation_events, key=lambda e: e[0], reverse=True)
        if cursor is not None:
            after = cursors.revocation_history_after(cursor)
            events = [e for e in events if e[0] < after]
        page, more = events[:limit], len(events) > limit
        next_cursor = cursors.encode({"revocation_event": page[-1][0]}) if more else None
        return Page(items=tuple(e for _, e in page), cursor=next_cursor)

    def _log_revocation(self, event: RevocationEvent) -> None:
        self._epoch += 1
        taken = {position for position, _ in self.revocation_events}
        position = revocation_position(event)
        # Two writes of one target in the same microsecond: the later one moves
        # on by a microsecond, as the table's conditional history put does.
        while position in taken:
            event = replace(event, at=event.at + timedelta(microseconds=1))
            position = revocation_position(event)
        self.revocation_events.append((position, event))

    def _log(
        self,
        record: PolicyRecord,
        action: Literal["create", "update", "delete"],
        actor: str,
        doc: Mapping[str, Any],
        at: datetime,
    ) -> None:
        """Bump the epoch and append the history entry of one write."""
        self._epoch += 1
        self.histories.setdefault(record.selector, []).append(
            HistoryEntry(
                selector=record.selector,
                version=record.version,
                action=action,
                at=at,
                by=actor,
                document=doc,
                description=record.description,
                token=record.token,
            )
        )


def _check_size(
    selector: Selector,
    doc: Mapping[str, Any],
    description: str,
    actor: str,
    token: Mapping[str, Any] | None,
) -> None:
    # Encoded strictly like DynamoRepository's item-size check (and DynamoDB
    # itself): a lone surrogate raises UnicodeEncodeError there too.
    item = json.dumps([str(selector), doc, description, actor, token], ensure_ascii=False)
    size = len(item.encode("utf-8"))
    if size > ITEM_LIMIT_BYTES:
        raise ItemTooLargeError(f"the policy item for {selector} would be {size} bytes")
