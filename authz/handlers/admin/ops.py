"""Policy reads and conditional writes of the admin API, on the repository protocol.

The HTTP preconditions map onto the repository's optimistic concurrency:

- no header: unconditional upsert (or plain delete: 404 when absent);
- ``If-None-Match: *``: create only (409 when the policy exists);
- ``If-Match: "3"``: only that version (412 on a mismatch, and 412 when the
  policy does not exist, per RFC 9110 section 13.1.1);
- ``If-Match: *`` or a list of tags: read the current version, check it, then
  write conditionally on exactly that version, so a concurrent writer still
  loses with 412 (``*`` retries a few times: it accepts any version).

Every check happens in one conditional DynamoDB transaction, so a rejected
request never leaves a partial write behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from authz.errors import ConflictError, NotFoundError
from authz.handlers.admin.errors import ApiError
from authz.handlers.admin.http import Preconditions, etag
from authz.handlers.admin.models import HistoryItem, PolicyOut, PolicySummary
from authz.policy.document import PolicyDocument
from authz.policy.selector import Selector
from authz.store.types import (
    HistoryEntry,
    PolicyRecord,
    PolicyRepository,
    WriteResult,
    forced_writer,
)

__all__ = ["conditional_delete", "conditional_put", "history_item", "policy_out", "summary"]

_ANY_VERSION_ATTEMPTS = 3


def _plain(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # Records may hold read-only mappings; a JSON round trip gives plain dicts.
    if value is None:
        return None
    out: dict[str, Any] = json.loads(json.dumps(dict(value)))
    return out


def policy_out(record: PolicyRecord) -> PolicyOut:
    return PolicyOut(
        kind=record.selector.kind,
        name=record.selector.name,
        selector=str(record.selector),
        version=record.version,
        etag=etag(record.version),
        description=record.description,
        updated_at=record.updated_at,
        updated_by=record.updated_by,
        document=record.document.to_dict(),
        token=_plain(record.token) or None,
    )


def summary(record: PolicyRecord) -> PolicySummary:
    return PolicySummary(
        kind=record.selector.kind,
        name=record.selector.name,
        selector=str(record.selector),
        version=record.version,
        description=record.description,
        updated_at=record.updated_at,
        updated_by=record.updated_by,
        has_token_settings=bool(record.token),
    )


def history_item(entry: HistoryEntry) -> HistoryItem:
    return HistoryItem(
        version=entry.version,
        action=entry.action,
        at=entry.at,
        by=entry.by,
        description=entry.description,
        document=_plain(entry.document) or {},
        token=_plain(entry.token) or None,
        forced=entry.forced,
    )


def _writers(
    repository: PolicyRepository, forced: bool
) -> tuple[Callable[..., WriteResult], Callable[..., WriteResult]]:
    """``put`` and ``delete``, marking history entries as forced when ``forced``.

    A store that cannot record the override refuses it: a forced write that
    leaves no trace is exactly what the history is there to prevent.
    """
    if not forced:
        return repository.put, repository.delete
    writer = forced_writer(repository)
    if writer is None:
        raise ApiError(
            409,
            "would_lock_out",
            "this write would lock the admin group out, and this store cannot record "
            "a forced write",
        )
    return partial(writer.put, forced=True), partial(writer.delete, forced=True)


def _missing(selector: Selector) -> ApiError:
    return ApiError(
        412,
        "precondition_failed",
        f"If-Match was given but {selector} does not exist",
        [{"path": "If-Match", "message": "no current version to match"}],
    )


def _current_matching(
    repository: PolicyRepository, selector: Selector, versions: frozenset[int]
) -> int:
    try:
        current = repository.get(selector)
    except NotFoundError:
        raise _missing(selector) from None
    if versions and current.version not in versions:
        wanted = ", ".join(etag(v) for v in sorted(versions))
        raise ConflictError(
            f"{selector} is at version {current.version}, If-Match wants {wanted}",
            actual=current.version,
        )
    return current.version


def _expecting(
    selector: Selector, write: Callable[[int], WriteResult], version: int
) -> WriteResult:
    try:
        return write(version)
    except NotFoundError:
        raise _missing(selector) from None


def _if_match(
    repository: PolicyRepository,
    selector: Selector,
    versions: frozenset[int],
    write: Callable[[int], WriteResult],
) -> WriteResult:
    """``write(expected_version)`` under If-Match: one tag, several, or ``*`` (empty)."""
    if len(versions) == 1:
        (version,) = versions
        return _expecting(selector, write, version)
    attempts = _ANY_VERSION_ATTEMPTS if not versions else 1
    for attempt in range(attempts):
        current = _current_matching(repository, selector, versions)
        try:
            return _expecting(selector, write, current)
        except ConflictError:
            # Another writer got in between; for "*" any newer version still
            # satisfies the condition, so read it and try again.
            if attempt + 1 == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def conditional_put(
    repository: PolicyRepository,
    selector: Selector,
    document: PolicyDocument,
    *,
    actor: str,
    description: str,
    token: Mapping[str, Any] | None,
    pre: Preconditions,
    forced: bool = False,
) -> WriteResult:
    """``forced``: the lock-out guard was overridden; the history entry says so."""
    write, _ = _writers(repository, forced)

    def put(expected: int | None = None, create_only: bool = False) -> WriteResult:
        return write(
            selector,
            document,
            actor=actor,
            description=description,
            expected_version=expected,
            create_only=create_only,
            token=token,
        )

    if pre.create_only:
        return put(create_only=True)
    if pre.versions is None:
        return put()
    return _if_match(repository, selector, pre.versions, put)


def conditional_delete(
    repository: PolicyRepository,
    selector: Selector,
    *,
    actor: str,
    pre: Preconditions,
    forced: bool = False,
) -> WriteResult:
    _, delete = _writers(repository, forced)

    def remove(expected: int | None = None) -> WriteResult:
        return delete(selector, actor=actor, expected_version=expected)

    if pre.versions is None:
        return remove()
    return _if_match(repository, selector, pre.versions, remove)
