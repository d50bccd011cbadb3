"""``PolicyRepository`` in memory, for the authorizer and admin fuzz targets.

It follows ``DynamoRepository``'s contract at the edges the handlers reach:
versions that keep counting across delete and re-create, history newest
first, one epoch bump per write, ``CursorError`` for cursors it did not
issue, ``SelectorError`` for an unknown kind, ``ValueError`` for a page
limit outside 1..1000 or ``create_only`` with ``expected_version`` (both
are the caller's bugs, as in the real store), ``ItemTooLargeError`` over
DynamoDB's 400 KB item limit, and ``UnicodeEncodeError`` for a string that
is not valid UTF-8 (a lone surrogate), as ``DynamoRepository.put`` raises.
No I/O, so a fuzzer can call it hundreds of thousands of times; ``reset``
restores the seeded state so
every input starts from the same store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from authz.errors import (
    AlreadyExistsError,
    ConflictError,
    CursorError,
    ItemTooLargeError,
    NotFoundError,
    SelectorError,
)
from authz.policy import PolicyDocument, Selector
from authz.policy.selector import KINDS
from authz.store import cursor as cursors
from authz.store.types import HistoryEntry, Page, PolicyRecord, WriteResult

__all__ = ["ITEM_LIMIT_BYTES", "InMemoryRepository"]

ITEM_LIMIT_BYTES = 400 * 1024
_MAX_PAGE = 1000
_AT = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= _MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {_MAX_PAGE}, got {limit}")


class InMemoryRepository:
    """A dict-backed PolicyRepository; ``seed`` maps selector strings to documents."""

    def __init__(self, seed: Mapping[str, PolicyDocument] | None = None) -> None:
        self.records: dict[Selector, PolicyRecord] = {}
        self.versions: dict[Selector, int] = {}
        self.histories: dict[Selector, list[HistoryEntry]] = {}
        self._epoch = 0
        for selector, document in (seed or {}).items():
            self.put(Selector.parse(selector), document, actor="seed")
        # Records and entries are immutable: restoring means copying the containers.
        self._seeded = (dict(self.records), dict(self.versions), dict(self.histories))
        self._seeded_epoch = self._epoch

    def reset(self) -> None:
        """Forget every write since construction (the seed stays, one write each)."""
        records, versions, histories = self._seeded
        self.records, self.versions = dict(records), dict(versions)
        self.histories = {s: list(h) for s, h in histories.items()}
        self._epoch = self._seeded_epoch

    def snapshot(self) -> tuple[int, tuple[tuple[str, int, str], ...]]:
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
        _check_limit(limit)
        if kind is not None and kind not in KINDS:
            raise SelectorError(f"invalid kind {kind!r}: expected group, scope or default")
        after = ""
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
        _check_limit(limit)
        written = self.histories.get(selector, [])
        # Revision k is the k-th write of this selector; newest first.
        revisions = list(range(len(written), 0, -1))
        if cursor is not None:
            data = cursors.decode(cursor, required={"after": int, "selector": str})
            after = data["after"]
            if data["selector"] != str(selector) or not 0 < after <= 10**10 - 1:
                raise CursorError(f"invalid cursor: it does not page the history of {selector}")
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
            if current.version != expected_version:
                raise ConflictError(
                    f"{selector} is at version {current.version}, not {expected_version}",
                    expected=expected_version,
                    actual=current.version,
                )
        doc = document.to_dict()
        # Encoded strictly like DynamoRepository's item-size check (and DynamoDB
        # itself): a lone surrogate raises UnicodeEncodeError there too.
        item = json.dumps([str(selector), doc, description, actor, token], ensure_ascii=False)
        size = len(item.encode("utf-8"))
        if size > ITEM_LIMIT_BYTES:
            raise ItemTooLargeError(f"the policy item for {selector} would be {size} bytes")
        version = self.versions.get(selector, 0) + 1
        record = PolicyRecord(
            selector=selector,
            document=PolicyDocument.from_dict(doc),
            description=description,
            version=version,
            updated_at=_AT,
            updated_by=actor,
            token=dict(token) if token is not None else None,
        )
        action: Literal["create", "update"] = "create" if current is None else "update"
        self._commit(record, action, doc)
        return WriteResult(record=record, action=action, epoch=self._epoch)

    def delete(
        self, selector: Selector, *, actor: str, expected_version: int | None = None
    ) -> WriteResult:
        current = self.records.get(selector)
        if current is None:
            raise NotFoundError(f"no policy for {selector}")
        if expected_version is not None and current.version != expected_version:
            raise ConflictError(
                f"{selector} is at version {current.version}, not {expected_version}",
                expected=expected_version,
                actual=current.version,
            )
        del self.records[selector]
        self._epoch += 1
        self.histories.setdefault(selector, []).append(
            HistoryEntry(
                selector=selector,
                version=current.version,
                action="delete",
                at=_AT,
                by=actor,
                document=current.document.to_dict(),
                description=current.description,
                token=current.token,
            )
        )
        return WriteResult(record=None, action="delete", epoch=self._epoch)

    def _commit(self, record: PolicyRecord, action: Any, doc: dict[str, Any]) -> None:
        selector = record.selector
        self.records[selector] = record
        self.versions[selector] = record.version
        self._epoch += 1
        self.histories.setdefault(selector, []).append(
            HistoryEntry(
                selector=selector,
                version=record.version,
                action=action,
                at=_AT,
                by=record.updated_by,
                document=doc,
                description=record.description,
                token=record.token,
            )
        )
