"""BoundedMap with ``builtin_keys=True``: the same map, read without the lock."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.cache import BoundedMap


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads as often as the interpreter allows, so that races show."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_unlocked_reads_keep_the_eviction_order() -> None:
    """get and [] count as use, peek and in do not, exactly as in a locked map."""
    m: BoundedMap[str, int] = BoundedMap(3, builtin_keys=True)
    m["a"], m["b"], m["c"] = 1, 2, 3
    assert m.get("a") == 1  # a is now the most recent: b goes first
    assert m.peek("b") == 2  # not a use
    assert "b" in m  # not a use
    m["d"] = 4
    assert "b" not in m
    assert m["c"] == 3  # c is now the most recent: a goes next
    m["e"] = 5
    assert "a" not in m
    assert [k for k in ("c", "d", "e") if k in m] == ["c", "d", "e"]


def test_unlocked_reads_answer_misses_with_the_default() -> None:
    m: BoundedMap[bytes, int] = BoundedMap(2, builtin_keys=True)
    sentinel = object()
    assert m.get(b"x") is None
    assert m.get(b"x", sentinel) is sentinel
    assert m.peek(b"x", sentinel) is sentinel
    with pytest.raises(KeyError):
        _ = m[b"x"]


OPS = st.tuples(st.sampled_from(["get", "put", "peek"]), st.integers(0, 7))


@given(ops=st.lists(OPS, max_size=60), bound=st.integers(1, 5))
def test_unlocked_reads_answer_as_a_locked_map_does(ops: list[tuple[str, int]], bound: int) -> None:
    """One thread sees no difference at all: same answers, same contents."""
    locked: BoundedMap[int, int] = BoundedMap(bound)
    unlocked: BoundedMap[int, int] = BoundedMap(bound, builtin_keys=True)
    for op, key in ops:
        if op == "put":
            locked[key] = unlocked[key] = key * 10
        elif op == "get":
            assert locked.get(key) == unlocked.get(key)
        else:
            assert locked.peek(key) == unlocked.peek(key)
    assert [locked.peek(k) for k in range(8)] == [unlocked.peek(k) for k in range(8)]


KEYS = [(bytes([i]), "api/stage") for i in range(8)]


def _read_until(stop: threading.Event, m: BoundedMap[tuple[bytes, str], int]) -> list[object]:
    """Read every key until ``stop``; the values that are not the one stored for the key."""
    wrong: list[object] = []
    while not stop.is_set():
        for i, key in enumerate(KEYS):
            found = m.get(key)
            if found is not None and found != i:
                wrong.append(found)
    return wrong


def _write(m: BoundedMap[tuple[bytes, str], int], bound: int) -> list[int]:
    """Insert every key over and over, clearing now and then; the sizes seen over ``bound``."""
    oversized: list[int] = []
    for round_ in range(3000):
        for i, key in enumerate(KEYS):
            m[key] = i
        if round_ % 7 == 0:
            m.clear()
        if len(m) > bound:
            oversized.append(len(m))
    return oversized


@pytest.mark.usefixtures("fast_switching")
def test_reads_racing_evictions_and_clears_never_fail_and_stay_bounded() -> None:
    """A key evicted or cleared while a reader reorders it: the reader gets the value
    it found or a miss, never an exception, and the map never outgrows its bound."""
    m: BoundedMap[tuple[bytes, str], int] = BoundedMap(4, builtin_keys=True)
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=5) as pool:
        readers = [pool.submit(_read_until, stop, m) for _ in range(3)]
        writers = [pool.submit(_write, m, 4) for _ in range(2)]
        # result() re-raises whatever a thread raised, a KeyError from a read included.
        try:
            oversized = [size for w in writers for size in w.result()]
        finally:
            stop.set()  # the readers end even when a writer failed
        wrong = [value for r in readers for value in r.result()]
    assert oversized == []
    assert wrong == []
    assert len(m) <= 4
