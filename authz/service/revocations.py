"""The authorizer's copy of the live revocations, refreshed with the policy epoch.

Every revocation write bumps the policy epoch, so the set can only change
when the epoch moves. The holder is told of each move (``clear()``, through
the same ``EpochGuard`` that empties the policy caches) and reloads the whole
set with one strongly consistent read the next time a new token is checked.
That read comes after the epoch read that saw the move, or, on a cold start,
after the snapshot that read the epoch with the first documents; so the set
is never older than the epoch the caches hold. No request pays a read while
the epoch stands still.

The token memo needs no check of its own: its entries were checked when they
were made, and the epoch move that brings a new revocation empties it.

Two things change what the set should hold without moving the epoch, and
each also makes the next check reload it, at most once per
``refresh_seconds`` (the epoch check interval):

- time: a held revocation expires (DynamoDB's TTL deletion writes no epoch),
  and a set that is not ``complete`` may have room again;
- an epoch that cannot be read: ``Authorizer`` calls ``expire(older_than)``
  when its epoch read fails, so a revocation written meanwhile is loaded
  within the documents' cache TTL, as a policy edit would be.

If the reload fails, the set held keeps serving for
``stale_if_error_seconds`` after the move was seen (as stale policy
documents do), reported as stale so nothing decided with it is remembered;
after that, and before the first successful load, the ``StoreError``
propagates (500). A set that is not ``complete`` (more live revocations than
``revocations_max_entries``) refuses the tokens it matches and raises
``RevocationsOverflowError`` for every other one.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from typing import Any

from authz.errors import RevocationsOverflowError, RevokedTokenError, StoreError
from authz.revocations import EMPTY, RevocationSet
from authz.store.types import RevocationSource

__all__ = ["RevocationHolder"]


class RevocationHolder:
    """The live revocations of one container; ``check`` is called once per new token."""

    def __init__(
        self,
        source: RevocationSource | None,
        *,
        max_entries: int,
        stale_if_error_seconds: float,
        refresh_seconds: float,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        self._source = source
        self._max_entries = max_entries
        self._stale_if_error = stale_if_error_seconds
        self._refresh = refresh_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        self._set = EMPTY
        # Monotonic time of the last successful load; -inf before the first.
        self._loaded_at = -math.inf
        # A repository that cannot hold revocations has none to load.
        self._outdated_since: float | None = None if source is None else clock()
        self._moves = 0  # clear() calls: a load begun before the latest one is not current
        self._lock = threading.Lock()

    @property
    def revocations(self) -> RevocationSet:
        return self._set

    def clear(self) -> None:
        """The epoch moved: the set may be outdated; reload it before the next check."""
        if self._source is None:
            return
        with self._lock:
            self._moves += 1
            if self._outdated_since is None:
                self._outdated_since = self._clock()

    def expire(self, older_than: float) -> None:
        """Reload before the next check if the set was loaded more than ``older_than`` s ago."""
        if self._clock() - self._loaded_at >= older_than:
            self.clear()

    def check(self, claims: Mapping[str, Any]) -> bool:
        """Raise RevokedTokenError if a live revocation refuses these verified claims.

        Returns True when the answer came from a current set, False when from one
        held past a failed reload (the decision must then not be remembered).
        """
        held = self._set
        if (
            held.first_expiry <= self._wall_clock() or not held.complete
        ) and self._clock() - self._loaded_at >= self._refresh:
            self.clear()
        current = self._current()
        held = self._set
        target = held.match(claims)
        if target is not None:
            raise RevokedTokenError(
                f"the token is revoked ({target.kind})", claim=target.kind, actual=target.id
            )
        if not held.complete:
            raise RevocationsOverflowError(
                f"the table holds more than {self._max_entries} live revocations "
                "(AUTHZ_REVOCATIONS_MAX_ENTRIES); refusing to decide for any token they do not name"
            )
        return current

    def _current(self) -> bool:
        since, source = self._outdated_since, self._source
        if since is None or source is None:
            return True
        moves = self._moves
        try:
            loaded = source.live_revocations(max_entries=self._max_entries)
        except StoreError:
            if math.isfinite(self._loaded_at) and self._clock() - since < self._stale_if_error:
                return False
            raise
        self._install(loaded, moves)
        return True

    def _install(self, loaded: RevocationSet, moves: int) -> None:
        with self._lock:
            self._set = loaded
            self._loaded_at = self._clock()
            # A move seen while this load ran may have written a revocation it missed.
            if self._moves == moves:
                self._outdated_since = None
