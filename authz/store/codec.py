"""Records to items and back: the one place that knows both ``store.types`` and the item types.

A stored item that does not parse, or that breaks today's rules, is a
``StoreError`` when read: it is refused, never half-used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from authz.errors import StoreError
from authz.policy.document import PolicyDocument
from authz.policy.selector import Selector
from authz.revocations import Revocation, RevocationEvent, Target
from authz.store.models import (
    LIST_PK,
    POLICY_SK,
    HistoryEntryItem,
    PolicyItem,
    RevocationEventItem,
    RevocationItem,
    history_sk,
)
from authz.store.revocation_keys import revocation_position, revocation_sk, target_of
from authz.store.types import Action, HistoryEntry, PolicyRecord

__all__ = [
    "ABSENT",
    "PolicyState",
    "history_entry",
    "history_item",
    "item_size",
    "list_key",
    "policy_item",
    "readable",
    "record",
    "revocation",
    "revocation_event",
    "revocation_event_item",
    "revocation_item",
    "state_of",
    "tombstone",
]


@dataclass(frozen=True, slots=True)
class PolicyState:
    """What the policy item holds (or is assumed to hold) before a write."""

    kind: Literal["absent", "live", "tombstone"]
    version: int | None = None  # the stored version; None when absent
    item: PolicyItem | None = None  # known only after a read


ABSENT = PolicyState("absent")


def state_of(item: PolicyItem) -> PolicyState:
    return PolicyState("tombstone" if item.deleted else "live", int(item.version), item)


@contextmanager
def readable(what: object) -> Iterator[None]:
    """A stored item that does not deserialize is a store failure, not a crash."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise StoreError(f"stored item {what!r} is unreadable: {exc}") from exc


def record(item: PolicyItem) -> PolicyRecord:
    """The record a live policy item holds."""
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
        # Includes PolicyValidationError/SelectorError.
        raise StoreError(f"stored policy item {item.pk!r} is unreadable: {exc}") from exc


def history_entry(selector: Selector, item: HistoryEntryItem) -> HistoryEntry:
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


def policy_item(
    model: type[PolicyItem], record: PolicyRecord, document: dict[str, Any], stored: int | None
) -> PolicyItem:
    """The live item for ``record``; ``stored`` is the version it replaces (None if none).

    pynamodb conditions the write on ``stored`` and writes ``stored + 1``,
    which is ``record.version``.
    """
    name = str(record.selector)
    item = model(
        pk=name,
        sk=POLICY_SK,
        list_pk=LIST_PK,
        list_sk=name,
        document=document,
        description=record.description,
        token=record.token,
        updated_at=record.updated_at,
        updated_by=record.updated_by,
    )
    if stored is not None:
        item.version = stored
    return item


def tombstone(
    model: type[PolicyItem], selector: Selector, stored: int, at: datetime, by: str
) -> PolicyItem:
    """What a delete leaves: no document, out of the list index, the version still counting."""
    item = model(pk=str(selector), sk=POLICY_SK, deleted=True, updated_at=at, updated_by=by)
    item.version = stored
    return item


def history_item(
    model: type[HistoryEntryItem],
    *,
    selector: Selector,
    revision: int,
    action: Action,
    version: int,
    at: datetime,
    by: str,
    document: Mapping[str, Any],
    description: str,
    token: Mapping[str, Any] | None,
    forced: bool,
) -> HistoryEntryItem:
    """One audit entry; ``revision`` orders it (the policy item's version after the write)."""
    return model(
        pk=str(selector),
        sk=history_sk(revision),
        action=action,
        version=version,
        at=at,
        by=by,
        document=document,
        description=description,
        token=token,
        forced=forced or None,  # absent unless forced
    )


def list_key(selector: str) -> dict[str, dict[str, str]]:
    """The list index's ExclusiveStartKey for the page after ``selector``."""
    return {
        "pk": {"S": selector},
        "sk": {"S": POLICY_SK},
        "list_pk": {"S": LIST_PK},
        "list_sk": {"S": selector},
    }


def item_size(raw: Mapping[str, Mapping[str, Any]]) -> int:
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


def revocation_item(model: type[RevocationItem], revocation: Revocation) -> RevocationItem:
    return model(
        sk=revocation_sk(revocation.target),
        reason=revocation.reason or None,
        revoked_by=revocation.revoked_by,
        revoked_at=revocation.revoked_at,
        until=revocation.until,
        cutoff=revocation.cutoff,
        expires_at=revocation.expires_at,
    )


def revocation(item: RevocationItem) -> Revocation:
    """The revocation a stored item holds; StoreError when it does not hold a valid one."""
    with readable(item.sk):
        expires = item.expires_at
        if isinstance(expires, float) and not expires.is_integer():
            raise ValueError(f"expires_at {expires!r} is not a whole second")
        return Revocation(
            target=target_of(item.sk),
            reason=item.reason or "",
            revoked_by=item.revoked_by,
            revoked_at=item.revoked_at,
            expires_at=int(expires),
            until=item.until,
        )


def revocation_event_item(
    model: type[RevocationEventItem], event: RevocationEvent
) -> RevocationEventItem:
    return model(
        sk=revocation_position(event),
        action=event.action,
        at=event.at,
        by=event.by,
        reason=event.reason or None,
        until=event.until,
    )


def revocation_event(item: RevocationEventItem) -> RevocationEvent:
    """The audit entry a stored history item holds; StoreError when it is not one."""
    action = item.action
    if action not in ("revoke", "delete"):
        raise StoreError(f"stored revocation history item {item.sk!r} is unreadable")
    with readable(item.sk):
        _, _, target = item.sk.partition("#")
        return RevocationEvent(
            target=Target.parse(target),
            action=action,  # type: ignore[arg-type]  # checked above
            at=item.at,
            by=item.by,
            reason=item.reason or "",
            until=item.until,
        )
