"""Where revocations and their history sit in the table: keys shared by every repository,
and the history entry a revocation writes.

No AWS import: ``MemoryRepository`` orders its history with the same
positions as the table, so both page it identically (``authz.store.cursor``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from authz.revocations import Revocation, RevocationEvent, Target

__all__ = [
    "REVOCATIONS_PK",
    "REVOCATION_HISTORY_PK",
    "revocation_position",
    "revocation_sk",
    "revoke_event",
    "target_of",
]

# No selector starts with "meta:", so neither partition can meet a policy.
REVOCATIONS_PK = "meta:revocations"
REVOCATION_HISTORY_PK = "meta:revocation-history"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def revocation_sk(target: Target) -> str:
    """``<kind>#<value>``: '#' sorts below every value character, so the table's key order
    is the order of ``Target`` (kind, then value), as ``MemoryRepository`` lists them."""
    return f"{target.kind}#{target.value}"


def target_of(sk: str) -> Target:
    """The target a revocation's sort key names; ValueError when it names none."""
    kind, sep, value = sk.partition("#")
    if not sep:
        raise ValueError(f"{sk!r} is not a revocation key")
    return Target(kind, value)  # type: ignore[arg-type]  # Target checks the kind


def revocation_position(event: RevocationEvent) -> str:
    """The history sort key of ``event``: microseconds since the epoch, then the target,
    so that newest first is descending order (``authz.store.cursor``)."""
    # Integer arithmetic: a float timestamp can land one microsecond off.
    micros = (event.at - _EPOCH) // _MICROSECOND
    return f"{micros:016d}#{event.target.id}"


def revoke_event(revocation: Revocation) -> RevocationEvent:
    """The history entry that writing ``revocation`` adds."""
    return RevocationEvent(
        target=revocation.target,
        action="revoke",
        at=revocation.revoked_at,
        by=revocation.revoked_by,
        reason=revocation.reason,
        until=revocation.until,
    )
