"""BoundedMap, TTLCache and EpochGuard against a fake clock."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.cache import MISSING, BoundedMap, EpochGuard, TTLCache


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class EpochSource:
    """Counts reads; ``value`` is what the next read returns (or raises)."""

    def __init__(self, value: int = 0) -> None:
        self.value = value
        self.reads = 0
        self.fail: Exception | None = None

    def __call__(self) -> int:
        self.reads += 1
        if self.fail is not None:
            raise self.fail
        return self.value


def make(ttl: float = 10.0, max_entries: int = 100) -> tuple[TTLCache[str, object], FakeClock]:
    clock = FakeClock()
    return TTLCache(ttl=ttl, max_entries=max_entries, clock=clock), clock


def test_value_is_fresh_until_ttl_then_missing() -> None:
    """A value is returned up to (not including) its expiry instant, then MISSING."""
    cache, clock = make(ttl=10)
    cache.put("k", "v")
    clock.advance(9.999)
    assert cache.get("k") == "v"
    clock.advance(0.001)
    assert cache.get("k") is MISSING


def test_per_entry_ttl_overrides_default() -> None:
    """put(ttl=...) sets that entry's lifetime instead of the cache's."""
    cache, clock = make(ttl=10)
    cache.put("short", 1, ttl=1)
    cache.put("long", 2, ttl=100)
    clock.advance(50)
    assert cache.get("short") is MISSING
    assert cache.get("long") == 2


def test_zero_ttl_never_serves_fresh() -> None:
    """With ttl 0 a value is never fresh (caching off) but still serves stale_get."""
    cache, _ = make(ttl=0)
    cache.put("k", "v")
    assert cache.get("k") is MISSING
    assert cache.stale_get("k", max_stale=60) == "v"


@pytest.mark.parametrize("value", [None, False, 0, "", {}, [], ()])
def test_falsy_values_are_hits(value: object) -> None:
    """An empty policy, a Deny (False), None or 0 is a real hit, told apart only by MISSING."""
    cache, _ = make()
    cache.put("k", value)
    got = cache.get("k")
    assert got is not MISSING
    assert got == value


def test_get_default_is_returned_on_miss() -> None:
    """get(key, default) returns the caller's default on a miss and the value on a hit."""
    cache, _ = make()
    marker = object()
    assert cache.get("absent", marker) is marker
    cache.put("k", None)
    assert cache.get("k", marker) is None


def test_lru_bound_evicts_least_recently_used() -> None:
    """Past max_entries the least recently *used* entry goes, not the oldest written."""
    cache, _ = make(max_entries=3)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.get("a") == 1  # a becomes most recently used
    cache.put("d", 4)
    assert len(cache) == 3
    assert cache.get("b") is MISSING
    assert [cache.get(k) for k in ("a", "c", "d")] == [1, 3, 4]


def test_overwrite_refreshes_value_and_ttl_without_growing() -> None:
    """Putting an existing key replaces value and expiry and keeps one entry."""
    cache, clock = make(ttl=10)
    cache.put("k", 1)
    clock.advance(8)
    cache.put("k", 2)
    clock.advance(8)
    assert cache.get("k") == 2
    assert len(cache) == 1


@given(st.lists(st.tuples(st.integers(0, 20), st.integers()), max_size=200), st.integers(1, 8))
def test_never_holds_more_than_max_entries(puts: list[tuple[int, int]], bound: int) -> None:
    """Any write sequence keeps at most max_entries; a held key has its last written value."""
    cache: TTLCache[int, int] = TTLCache(ttl=10, max_entries=bound, clock=FakeClock())
    last: dict[int, int] = {}
    for key, value in puts:
        cache.put(key, value)
        last[key] = value
        assert len(cache) <= bound
    for key, value in last.items():
        got = cache.get(key)
        assert got is MISSING or got == value


def test_stale_get_serves_within_window_only() -> None:
    """stale_get returns a value expired by at most max_stale seconds, then MISSING."""
    cache, clock = make(ttl=10)
    cache.put("k", "v")
    clock.advance(10 + 59.9)
    assert cache.get("k") is MISSING
    assert cache.stale_get("k", max_stale=60) == "v"
    clock.advance(0.1)
    assert cache.stale_get("k", max_stale=60) is MISSING


def test_stale_get_serves_fresh_values_and_misses_unknown_keys() -> None:
    """A fresh value is also within any stale window; an unknown key is MISSING."""
    cache, _ = make()
    cache.put("k", "v")
    assert cache.stale_get("k", max_stale=0) == "v"
    assert cache.stale_get("other", max_stale=60) is MISSING


def test_clear_and_discard_drop_entries() -> None:
    """clear() empties the cache (stale values too); discard() drops one key."""
    cache, _ = make()
    cache.put("a", 1)
    cache.put("b", 2)
    cache.discard("a")
    assert cache.get("a") is MISSING
    assert len(cache) == 1
    cache.clear()
    assert len(cache) == 0
    assert cache.stale_get("b", max_stale=1e9) is MISSING


def test_invalid_parameters_are_rejected() -> None:
    """A negative TTL or a bound below one is a programming error, raised at once."""
    with pytest.raises(ValueError, match="ttl"):
        TTLCache(ttl=-1, max_entries=1)
    with pytest.raises(ValueError, match="max_entries"):
        TTLCache(ttl=1, max_entries=0)
    cache, _ = make()
    with pytest.raises(ValueError, match="ttl"):
        cache.put("k", 1, ttl=-5)
    with pytest.raises(ValueError, match="interval"):
        EpochGuard(interval=-1)


def guarded(interval: float = 5.0) -> tuple[EpochGuard, TTLCache[str, object], FakeClock]:
    clock = FakeClock()
    cache: TTLCache[str, object] = TTLCache(ttl=300, max_entries=10, clock=clock)
    guard = EpochGuard(interval=interval, clock=clock, caches=[cache])
    return guard, cache, clock


def test_first_check_sets_baseline_without_clearing() -> None:
    """The first epoch read is a baseline: nothing moved, nothing cleared."""
    guard, cache, _ = guarded()
    cache.put("k", 1)
    source = EpochSource(7)
    assert guard.check(source) is False
    assert guard.epoch == 7
    assert cache.get("k") == 1


def test_moved_epoch_clears_registered_caches() -> None:
    """A due read of another epoch returns True and empties every registered cache."""
    guard, cache, clock = guarded()
    other: TTLCache[str, object] = TTLCache(ttl=300, max_entries=10, clock=clock)
    guard.register(other)
    source = EpochSource(1)
    guard.check(source)
    cache.put("k", 1)
    other.put("k", 2)
    source.value = 2
    clock.advance(5)
    assert guard.check(source) is True
    assert guard.epoch == 2
    assert cache.get("k") is MISSING
    assert len(other) == 0


def test_unchanged_epoch_keeps_caches() -> None:
    """A due read of the same epoch keeps every entry."""
    guard, cache, clock = guarded()
    source = EpochSource(3)
    guard.check(source)
    cache.put("k", 1)
    clock.advance(60)
    assert guard.check(source) is False
    assert cache.get("k") == 1


def test_epoch_going_backwards_counts_as_moved() -> None:
    """A smaller epoch (table recreated) also invalidates."""
    guard, cache, clock = guarded()
    source = EpochSource(10)
    guard.check(source)
    cache.put("k", 1)
    source.value = 0
    clock.advance(5)
    assert guard.check(source) is True
    assert cache.get("k") is MISSING


def test_at_most_one_epoch_read_per_interval() -> None:
    """However often check() is called, the epoch is read at most once per interval."""
    guard, _, clock = guarded(interval=5)
    source = EpochSource(1)
    for _ in range(40):  # 40 calls over 10 s (quarter seconds add up exactly)
        guard.check(source)
        clock.advance(0.25)
    assert source.reads == 2
    assert guard.checked_at == 1005.0


def test_change_is_missed_until_the_interval_elapses() -> None:
    """Within the interval a moved epoch is not seen (the documented staleness bound)."""
    guard, cache, clock = guarded(interval=5)
    source = EpochSource(1)
    guard.check(source)
    cache.put("k", 1)
    source.value = 2
    clock.advance(4.999)
    assert guard.check(source) is False
    assert cache.get("k") == 1
    clock.advance(0.001)
    assert guard.check(source) is True


def test_zero_interval_reads_every_time() -> None:
    """interval=0 reads the epoch on every check."""
    guard, _, _ = guarded(interval=0)
    source = EpochSource(1)
    for _ in range(5):
        guard.check(source)
    assert source.reads == 5


def test_failed_read_propagates_and_is_retried_next_check() -> None:
    """A failing epoch read raises, changes nothing, and the next check reads again."""
    guard, cache, clock = guarded()
    source = EpochSource(1)
    guard.check(source)
    cache.put("k", 1)
    clock.advance(5)
    source.fail = RuntimeError("store down")
    with pytest.raises(RuntimeError, match="store down"):
        guard.check(source)
    assert guard.checked_at == 1000.0
    assert cache.get("k") == 1
    source.fail = None
    source.value = 2
    assert guard.check(source) is True
    assert source.reads == 3


def test_invalidate_clears_and_forces_a_read() -> None:
    """invalidate() empties the caches and makes the next check read at once."""
    guard, cache, _ = guarded()
    source = EpochSource(1)
    guard.check(source)
    cache.put("k", 1)
    guard.invalidate()
    assert len(cache) == 0
    assert guard.due()
    guard.check(source)
    assert source.reads == 2


def test_concurrent_checks_read_once_per_interval() -> None:
    """Threads racing on a due check trigger a single epoch read."""
    guard, _, _ = guarded(interval=5)
    started = threading.Barrier(8)
    release = threading.Event()
    source = EpochSource(1)

    def slow_read() -> int:
        release.wait(5)
        return source()

    def worker() -> None:
        started.wait()
        guard.check(slow_read)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join()
    assert source.reads == 1


def test_observed_epoch_counts_as_a_check_from_when_it_was_read() -> None:
    """An epoch read elsewhere sets the baseline like a first check, clears the caches when it
    moved, and starts the interval at the time the read began."""
    guard, cache, clock = guarded(interval=5)
    cache.put("k", 1)
    assert guard.observe(3) is False
    assert (guard.epoch, cache.get("k")) == (3, 1)
    assert not guard.due()
    clock.advance(5)
    read_at = clock()
    clock.advance(2)  # a slow read: the interval runs from when it started
    assert guard.observe(4, at=read_at) is True
    assert guard.epoch == 4
    assert len(cache) == 0
    clock.advance(3)
    assert guard.due()
    source = EpochSource(4)
    assert guard.check(source) is False
    assert source.reads == 1


def test_bounded_map_rejects_a_size_below_one() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        BoundedMap[str, int](0)


def test_bounded_map_evicts_the_least_recently_inserted_or_read() -> None:
    items: BoundedMap[str, int] = BoundedMap(2)
    items["a"] = 1
    items["b"] = 2
    assert items["a"] == 1  # a read is a use: "b" is now the oldest
    items["c"] = 3
    assert "b" not in items
    assert items.get("a") == 1
    assert items.get("c") == 3
    assert len(items) == 2


def test_bounded_map_peek_and_contains_do_not_count_as_use() -> None:
    items: BoundedMap[str, int] = BoundedMap(2)
    items["a"] = 1
    items["b"] = 2
    assert items.peek("a") == 1
    assert "a" in items
    items["c"] = 3
    assert "a" not in items
    assert items.peek("a", -1) == -1


def test_bounded_map_pop_clear_and_defaults() -> None:
    items: BoundedMap[str, int] = BoundedMap(3)
    items["a"] = 1
    assert items.get("missing") is None
    assert items.get("missing", 0) == 0
    assert items.pop("a", 0) == 1
    assert items.pop("a", 0) == 0
    items["b"] = 2
    items.clear()
    assert len(items) == 0
    with pytest.raises(KeyError):
        items["b"]
