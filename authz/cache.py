"""In-process caches with an injected clock: a bounded LRU map, a TTL cache and the epoch guard.

Pure standard library, no AWS. ``BoundedMap`` is the one bounded map of the
package: every cache that must not grow without limit is a ``BoundedMap`` or
a ``TTLCache`` (which is a ``BoundedMap`` of expiring entries). The
authorizer builds its caches from these and one ``EpochGuard`` that empties
them all when an admin write moves the policy epoch.

Hits are told from misses by identity with ``MISSING``, never by
truthiness: an empty policy or a Deny decision is a real, cacheable value.

Staleness bound: an entry is served until its TTL runs out or until the
guard next reads a moved epoch (at most every ``interval`` seconds), so
after an admin write a warm authorizer stops using old policies within
``interval`` seconds (plus API Gateway's own result TTL, outside this
process). ``stale_get`` serves an expired entry for a bounded time more,
only when the caller could not reach the store (stale-if-error).

A lock guards each structure: free in Lambda (one request at a time) and
cheap for the threaded local gateway. A ``BoundedMap`` of built-in keys
reads without it (see ``BoundedMap._read``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Final, Generic, Protocol, TypeVar, overload

__all__ = ["MISSING", "BoundedMap", "Clearable", "EpochGuard", "TTLCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")

Clock = Callable[[], float]


class _Missing(Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing.MISSING

# Private, unlike MISSING: no caller can store it, so it tells "absent" from any value.
_ABSENT: Final = object()


class BoundedMap(Generic[K, V]):
    """A dict of at most ``max_entries`` items; the least recently inserted or read goes first.

    Reads through ``get`` and ``[]`` count as use; ``in`` and ``len`` do not.

    ``builtin_keys=True`` promises that every key is built from ``str``,
    ``bytes``, ``int`` and tuples of them, exactly (no subclasses); reads then
    take no lock (see ``_read``).
    """

    def __init__(self, max_entries: int, *, builtin_keys: bool = False) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        self.max_entries = max_entries
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self._builtin_keys = builtin_keys

    @overload
    def get(self, key: K) -> V | None: ...

    @overload
    def get(self, key: K, default: D) -> V | D: ...

    def get(self, key: K, default: object = None) -> object:
        if self._builtin_keys:
            return self._read(key, default)
        with self._lock:
            return self._read(key, default)

    def _read(self, key: K, default: object) -> object:
        # Unlocked when the keys are built-in (the memo asks on every request,
        # and the lock would cost more than the read). Hashing and comparing
        # such keys runs no Python code, so each OrderedDict call below is one
        # step the GIL keeps whole: a read sees the map before or after a
        # concurrent write, never half of one. Writers still lock each other
        # out. What a reader can meet between its two calls is the key evicted
        # or cleared by a writer (move_to_end raises KeyError); the value it
        # found is returned all the same, as a read just before that write
        # would have returned it, and callers that must not use what a
        # clear() dropped check a generation, not this map. A key whose
        # ``__eq__`` is Python code could let a writer run in the middle of
        # an OrderedDict lookup, which the OrderedDict does not survive
        # safely: such maps keep the lock.
        value = self._items.get(key, _ABSENT)
        if value is _ABSENT:
            return default
        try:  # noqa: SIM105  # contextlib.suppress would build an object per read
            self._items.move_to_end(key)
        except KeyError:
            pass  # evicted or cleared since the read: nothing left to reorder
        return value

    def __getitem__(self, key: K) -> V:
        value = self.get(key, _ABSENT)
        if value is _ABSENT:
            raise KeyError(key)
        return value  # type: ignore[return-value]  # not _ABSENT, so a V

    def __setitem__(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    @overload
    def peek(self, key: K) -> V | None: ...

    @overload
    def peek(self, key: K, default: D) -> V | D: ...

    def peek(self, key: K, default: object = None) -> object:
        """Like ``get``, but not a use: the item keeps its place in the eviction order."""
        if self._builtin_keys:
            return self._items.get(key, default)  # unlocked, as in ``_read``
        with self._lock:
            return self._items.get(key, default)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    @overload
    def pop(self, key: K) -> V | None: ...

    @overload
    def pop(self, key: K, default: D) -> V | D: ...

    def pop(self, key: K, default: object = None) -> object:
        with self._lock:
            return self._items.pop(key, default)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


@dataclass(slots=True, frozen=True)
class _Entry(Generic[V]):
    value: V
    expires_at: float


class TTLCache(Generic[K, V]):
    """At most ``max_entries`` values, each fresh for ``ttl`` seconds; least recently used go first.

    An expired entry stays (until evicted by newer ones) so that ``stale_get``
    can still serve it when the store is down; ``get`` never returns it.
    """

    def __init__(self, *, ttl: float, max_entries: int, clock: Clock = time.monotonic) -> None:
        if ttl < 0:
            raise ValueError(f"ttl must be >= 0, got {ttl}")
        self.ttl = ttl
        self._clock = clock
        self._entries: BoundedMap[K, _Entry[V]] = BoundedMap(max_entries)

    @property
    def max_entries(self) -> int:
        return self._entries.max_entries

    @overload
    def get(self, key: K) -> V | _Missing: ...

    @overload
    def get(self, key: K, default: D) -> V | D: ...

    def get(self, key: K, default: object = MISSING) -> object:
        """The fresh value for ``key``, else ``default`` (``MISSING`` unless given)."""
        now = self._clock()
        entry = self._entries.peek(key)
        if entry is None or now >= entry.expires_at:
            return default
        self._entries.get(key)  # a fresh hit is a use; an expired one is not
        return entry.value

    def stale_get(self, key: K, max_stale: float) -> V | _Missing:
        """The value for ``key`` if fresh or expired at most ``max_stale`` seconds ago.

        Not a use: a stale read does not protect the entry from eviction.
        """
        now = self._clock()
        entry = self._entries.peek(key)
        if entry is None or now >= entry.expires_at + max_stale:
            return MISSING
        return entry.value

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        """Store ``value``, fresh for ``ttl`` seconds (the cache's ``ttl`` unless given)."""
        lifetime = self.ttl if ttl is None else ttl
        if lifetime < 0:
            raise ValueError(f"ttl must be >= 0, got {lifetime}")
        self._entries[key] = _Entry(value, self._clock() + lifetime)

    def discard(self, key: K) -> None:
        self._entries.pop(key)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        """Entries held, expired ones included (they still serve ``stale_get``)."""
        return len(self._entries)


class Clearable(Protocol):
    def clear(self) -> None: ...


class EpochGuard:
    """Empties the registered caches when the policy epoch moves.

    ``check(read_epoch)`` calls ``read_epoch`` at most once every ``interval``
    seconds. The first successful read only sets the baseline, so call
    ``check`` before the first cache fill (the authorizer does so on every
    request). If ``read_epoch`` raises, the exception propagates and the
    next ``check`` reads again: a failed read never counts as "unchanged".
    """

    def __init__(
        self, *, interval: float, clock: Clock = time.monotonic, caches: Iterable[Clearable] = ()
    ) -> None:
        if interval < 0:
            raise ValueError(f"interval must be >= 0, got {interval}")
        self.interval = interval
        self._clock = clock
        self._caches: list[Clearable] = list(caches)
        self._epoch: int | None = None
        self._checked_at: float | None = None
        self._lock = threading.Lock()

    def register(self, cache: Clearable) -> None:
        with self._lock:
            self._caches.append(cache)

    @property
    def epoch(self) -> int | None:
        """The last epoch read, None before the first successful read."""
        return self._epoch

    @property
    def checked_at(self) -> float | None:
        """Clock time of the last epoch read (successful or in progress)."""
        return self._checked_at

    def due(self) -> bool:
        checked = self._checked_at
        return checked is None or self._clock() - checked >= self.interval

    def check(self, read_epoch: Callable[[], int]) -> bool:
        """Read the epoch if due; True when it moved and the caches were cleared."""
        now = self._clock()
        with self._lock:
            previous = self._checked_at
            if previous is not None and now - previous < self.interval:
                return False
            # Claim this interval before reading, so concurrent callers skip it.
            self._checked_at = now
        try:
            epoch = read_epoch()
        except BaseException:
            with self._lock:
                if self._checked_at == now:
                    self._checked_at = previous
            raise
        return self.observe(epoch, at=now)

    def observe(self, epoch: int, *, at: float | None = None) -> bool:
        """Record an epoch read at clock time ``at`` (default: now); the interval runs from it.

        ``check`` ends here; a caller that reads the epoch together with other
        data (the authorizer, on a cold start's snapshot read) calls it
        directly. True when the epoch moved and the caches were cleared.
        """
        now = self._clock() if at is None else at
        with self._lock:
            if self._checked_at is None or now >= self._checked_at:
                self._checked_at = now
            moved = self._epoch is not None and epoch != self._epoch
            self._epoch = epoch
            caches = list(self._caches) if moved else []
        for cache in caches:
            cache.clear()
        return moved

    def invalidate(self) -> None:
        """Clear every registered cache and force a read at the next ``check``."""
        with self._lock:
            self._checked_at = None
            caches = list(self._caches)
        for cache in caches:
            cache.clear()
