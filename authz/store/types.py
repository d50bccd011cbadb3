"""What the store hands out, independent of pynamodb.

Everything above ``authz.store`` (service, handlers, CLI) sees only these
types and the ``PolicyRepository`` protocol, so tests can pass a fake and the
handlers never import pynamodb for a type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, Protocol, TypeVar, cast, runtime_checkable

from authz.errors import SelectorError
from authz.policy.document import PolicyDocument
from authz.policy.selector import KINDS, Selector
from authz.revocations import Revocation, RevocationEvent, RevocationSet, Target

__all__ = [
    "ITEM_LIMIT_BYTES",
    "MAX_PAGE",
    "MAX_REVISION",
    "ForcedWrites",
    "HistoryEntry",
    "Page",
    "PolicyRecord",
    "PolicyRepository",
    "RevocationRepository",
    "RevocationSource",
    "RevocationWrite",
    "SnapshotRead",
    "SnapshotRepository",
    "WriteResult",
    "check_kind",
    "check_limit",
    "forced_writer",
]

T = TypeVar("T")

Action = Literal["create", "update", "delete"]

# DynamoDB's hard item limit (names and values together), 400 KB. The memory
# repository enforces it too, so what the CLI accepts the table accepts.
ITEM_LIMIT_BYTES = 400 * 1024
# The largest page a listing or a history read may ask for, in every repository.
MAX_PAGE = 1000
# What the history's ten-digit sort keys (``models.history_sk``) can order.
MAX_REVISION = 10**10 - 1


def check_limit(limit: int) -> None:
    """ValueError unless ``limit`` is a page size every repository serves."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")


def check_kind(kind: str | None) -> None:
    """SelectorError unless ``kind`` (None: every kind) is one a listing can filter on."""
    if kind is not None and kind not in KINDS:
        raise SelectorError(f"invalid kind {kind!r}: expected group, scope or default")


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    selector: Selector
    document: PolicyDocument
    description: str
    version: int
    updated_at: datetime  # timezone-aware, UTC
    updated_by: str
    # Token settings for the pre token generation trigger (groups only):
    # {"scopes": [...], "claims": {...}}, validated by the caller before put.
    token: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    selector: Selector
    version: int  # the version this action produced (for delete: the version deleted)
    action: Action
    at: datetime
    by: str
    document: Mapping[str, Any]  # canonical document dict (for delete: the deleted one)
    description: str
    token: Mapping[str, Any] | None = None
    forced: bool = False  # written past the lock-out guard (``authz.lockout``)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    cursor: str | None  # opaque; None on the last page


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a put or delete did.

    ``version`` is the policy's version after a put (``record.version``) and,
    after a delete, the version of the policy it deleted: the delete's answer
    carries it so a caller needs no history read, which a later write could
    race. Repositories that predate the field leave it None.
    """

    record: PolicyRecord | None  # None after a delete
    action: Action
    epoch: int  # the epoch this write moved the table to
    version: int | None = None


class PolicyRepository(Protocol):
    """The only way the rest of authz reaches DynamoDB.

    Every method raises ``authz.errors.StoreError`` subclasses when the store
    fails and ``authz.errors.StoreAnswer`` subclasses (``NotFoundError``,
    ``ConflictError``, ``AlreadyExistsError``) when it answers "no".
    A repository that can also read the epoch with the policies in one
    request implements ``SnapshotRepository`` as well.
    """

    def get_many(self, selectors: Sequence[Selector]) -> dict[Selector, PolicyRecord]:
        """Current records for those selectors that exist; one BatchGetItem per 100 keys,
        UnprocessedKeys retried; never a partial answer (raises instead)."""
        ...

    def get(self, selector: Selector) -> PolicyRecord:
        """Raises NotFoundError."""
        ...

    def list(
        self, *, kind: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[PolicyRecord]: ...

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
        """Policy, history entry and epoch bump in one transaction.

        ``create_only`` -> AlreadyExistsError if present; ``expected_version`` ->
        ConflictError unless the stored version equals it (and NotFoundError if absent);
        neither -> unconditional upsert."""
        ...

    def delete(
        self, selector: Selector, *, actor: str, expected_version: int | None = None
    ) -> WriteResult:
        """NotFoundError if absent, ConflictError on a version mismatch."""
        ...

    def history(
        self, selector: Selector, *, limit: int = 50, cursor: str | None = None
    ) -> Page[HistoryEntry]:
        """Newest first."""
        ...

    def epoch(self) -> int:
        """The policy epoch: 0 before any write, +1 for every write."""
        ...


class ForcedWrites(PolicyRepository, Protocol):
    """A repository whose history can say that a write was forced past the lock-out guard.

    Separate from ``PolicyRepository`` so read-only and test repositories need
    not implement it; a forced write to one that does not is refused.
    """

    records_forced_writes: bool

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
    ) -> WriteResult: ...

    def delete(
        self,
        selector: Selector,
        *,
        actor: str,
        expected_version: int | None = None,
        forced: bool = False,
    ) -> WriteResult: ...


def forced_writer(repository: PolicyRepository) -> ForcedWrites | None:
    """``repository`` if it records forced writes in its history, else None."""
    if getattr(repository, "records_forced_writes", False) is True:
        return cast(ForcedWrites, repository)
    return None


SnapshotRead = tuple[dict[Selector, PolicyRecord], int]
"""What ``get_many_with_epoch`` returns: the records found and the policy epoch,
the records at least as new as that epoch (see ``DynamoRepository``)."""


@runtime_checkable
class SnapshotRepository(Protocol):
    """A repository that reads the epoch and some policies in one consistent request.

    The authorizer's cold start uses it when the repository offers it
    (``DynamoRepository`` does, with one TransactGetItems); any other
    ``PolicyRepository`` is read with ``epoch()`` and then ``get_many()``.
    """

    def get_many_with_epoch(self, selectors: Sequence[Selector]) -> SnapshotRead: ...


@dataclass(frozen=True, slots=True)
class RevocationWrite:
    """What a revocation write did: the revocation written (or deleted) and the epoch after it."""

    revocation: Revocation
    epoch: int


@runtime_checkable
class RevocationSource(Protocol):
    """What the authorizer needs: every live revocation in one strongly consistent read.

    Called only after the epoch was read (or observed), so the set it returns
    is at least as new as that epoch.
    """

    def live_revocations(self, *, max_entries: int) -> RevocationSet:
        """The revocations not yet expired (by the repository's clock). Past
        ``max_entries`` it stops reading and returns ``complete=False``."""
        ...


@runtime_checkable
class RevocationRepository(RevocationSource, Protocol):
    """Revocations in the policy table: each write also writes a history entry and bumps
    the policy epoch, in one transaction. Expired revocations are never returned,
    whether or not DynamoDB's TTL has removed them yet."""

    def revoke(self, revocation: Revocation) -> RevocationWrite:
        """Write ``revocation``, replacing any live one of the same target."""
        ...

    def get_revocation(self, target: Target) -> Revocation:
        """Raises NotFoundError when there is no live revocation of ``target``."""
        ...

    def delete_revocation(self, target: Target, *, actor: str) -> RevocationWrite:
        """Lift a live revocation; NotFoundError when there is none. The result
        carries the revocation deleted."""
        ...

    def list_revocations(self, *, limit: int = 50, cursor: str | None = None) -> Page[Revocation]:
        """Live revocations, ordered by kind and value."""
        ...

    def revocation_history(
        self, *, limit: int = 50, cursor: str | None = None
    ) -> Page[RevocationEvent]:
        """Every revoke and delete, newest first."""
        ...
