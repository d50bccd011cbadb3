"""The policy store: DynamoDB behind the ``PolicyRepository`` protocol.

``authz.store.types`` (records, pages, the ``PolicyRepository`` and
``SnapshotRepository`` protocols) imports no AWS code, so code that only
needs the types stays cheap to import. ``DynamoRepository`` (which satisfies
both protocols) pulls in pynamodb and botocore, slow to import, so it is
loaded on first access.

``DynamoRepository`` is composed of ``reads``, ``writes`` and the item
``codec`` over the item types of ``models`` and the one connection of
``connection``; ``translate`` maps pynamodb errors to ``authz.errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authz.store.types import HistoryEntry, Page, PolicyRecord, PolicyRepository, WriteResult

if TYPE_CHECKING:
    from authz.store.repository import DynamoRepository, StoreTimeouts

__all__ = [
    "DynamoRepository",
    "HistoryEntry",
    "Page",
    "PolicyRecord",
    "PolicyRepository",
    "StoreTimeouts",
    "WriteResult",
]


def __getattr__(name: str) -> Any:
    if name in ("DynamoRepository", "StoreTimeouts"):
        from authz.store import repository  # noqa: PLC0415  # deferred: pynamodb is slow to import

        return getattr(repository, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
