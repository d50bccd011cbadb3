"""Many IAM wildcard patterns matched in time linear in the input, whatever they hold.

A pattern ``head*p1*p2*...*tail`` matches exactly when the text starts with
``head``, ends with ``tail`` (without the two overlapping) and the pieces
``p1``, ``p2`` ... occur in that order in between. Taking each piece at its
leftmost occurrence is exact (it leaves the most room for the rest), so a
pattern is decided without backtracking: ``head`` and ``tail`` are checked
in place and each piece is searched once, from where the previous one ended.

Patterns that begin with the same pieces share them (a tree of pieces), so
``arn:aws:execute-api:`` and the ``:``/``/`` pieces after it are matched once
per request. A step with many children first checks, in one scan, whether
any of them can occur at all.

A search examines each position of the text at most piece-length times:
``str.find`` for pieces up to ``_FIND_MAX`` characters, the regex engine's
prefix search (linear, with an overlap table) for longer literals, and for a
piece holding ``?`` a skip to where all its literal runs occur before the
regex search. A decision therefore costs at most ``len(text) x total pattern
length`` character steps (``tests/unit/policy/test_globset.py`` counts them),
linear in the text. The union regexes stay the fast path for ordinary
requests; ``evaluate`` routes a request here whenever they could backtrack.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from authz.policy.wildcard import normalize, segment_regex

__all__ = ["GlobSet", "Probe"]

Probe = Callable[[str, int], int]
"""``probe(text, pos)``: where the piece ends when taken at (head, tail) or from
(middle) ``pos``, or -1 when it does not occur there."""


def _anchored(piece: str) -> Probe:
    if "?" not in piece:
        size = len(piece)

        def literal(text: str, pos: int) -> int:
            return pos + size if text.startswith(piece, pos) else -1

        return literal
    match = _compile(piece).match

    def pattern(text: str, pos: int) -> int:
        m = match(text, pos)
        return -1 if m is None else m.end()

    return pattern


# ``str.find`` is the fastest scan, but it may compare up to the needle's
# length at each position (``aa...abaa...a`` in ``aaa...``); past this length
# the regex engine's prefix search (an overlap table, as in Knuth-Morris-Pratt)
# is used instead, which stays linear.
_FIND_MAX = 16


def _finder(run: str) -> Callable[[str, int], int]:
    """``find(text, pos)``: where ``run`` next starts, or -1."""
    if len(run) <= _FIND_MAX:
        return lambda text, pos: text.find(run, pos)
    search = _compile(run).search

    def linear(text: str, pos: int) -> int:
        m = search(text, pos)
        return -1 if m is None else m.start()

    return linear


def _runs(piece: str) -> list[tuple[int, str]]:
    """The ``?``-free runs of ``piece`` with their offsets, longest (rarest) first."""
    out: list[tuple[int, str]] = []
    offset = 0
    for run in piece.split("?"):
        if run:
            out.append((offset, run))
        offset += len(run) + 1
    return sorted(out, key=lambda r: -len(r[1]))


def _searched(piece: str) -> Probe:
    size = len(piece)
    if "?" not in piece:
        find = _finder(piece)

        def literal(text: str, pos: int) -> int:
            i = find(text, pos)
            return -1 if i < 0 else i + size

        return literal
    search = _compile(piece).search
    runs = tuple((offset, _finder(run)) for offset, run in _runs(piece))

    def pattern(text: str, pos: int) -> int:
        # The leftmost match cannot start before any of its runs' next
        # occurrence allows: skip there first, and give up when a run is
        # missing, instead of trying every position of a near miss.
        start = pos
        for offset, find in runs:
            i = find(text, start + offset)
            if i < 0:
                return -1
            start = i - offset
        m = search(text, start)
        return -1 if m is None else m.end()

    return pattern


# A key is a window of at most this many characters of a run: any substring
# of a run occurs wherever the run does, and a short key keeps the filter's
# cost per position small.
_KEY_MAX = 8


def _window(run: str) -> str:
    """The window of ``run`` with the most distinct characters (the last on a tie):
    ``aaaaaaab`` rather than ``aaaaaaaa``, which a hostile text can repeat cheaply."""
    size = min(len(run), _KEY_MAX)
    windows = [run[i : i + size] for i in range(len(run) - size + 1)]
    return max(reversed(windows), key=lambda w: len(set(w)))


def key_run(piece: str, shared: dict[str, int]) -> str:
    """The run of ``piece`` fewest siblings share (``shared``: run -> how many), longest
    on a tie, cut to a ``_window``: likely to tell this piece's absence apart. "" if none."""
    runs = [run for _, run in _runs(piece)]
    best = min(runs, key=lambda r: (shared[r], -len(r)), default="")
    return _window(best) if best else ""


class _Leaf:
    """A pattern whose middles all matched: its tail must fit after them."""

    # A plain class: a dataclass costs about a millisecond of cold start.
    __slots__ = ("index", "tail", "tail_len")

    def __init__(self, index: int, tail: Probe | None, tail_len: int) -> None:
        self.index = index
        self.tail = tail
        self.tail_len = tail_len


class _Step:
    """One piece of one or more patterns: the head (anchored) or a middle (searched).

    Patterns that begin with the same pieces share the steps for them, so
    ``arn:aws:execute-api:`` and the ``:`` and ``/`` after it are matched once
    per request, not once per pattern.
    """

    __slots__ = ("children", "filter", "leaves", "probe")

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.children: dict[tuple[bool, str], _Step] = {}
        self.leaves: list[_Leaf] = []
        self.filter: _Filter | None = None


# Below this many searched children, probing each is as cheap as the filter.
_FILTER_MIN = 4


def _prefix_tree(runs: set[str]) -> str:
    """A regex matching where any of ``runs`` starts, as a tree of their characters.

    A plain alternation tries every run at every position; the tree tries
    one character per level. A run that extends a shorter one is dropped:
    the shorter occurs wherever it does.
    """
    tree: dict[str, Any] = {}
    for run in sorted(runs, key=len):
        node = tree
        for c in run:
            if "" in node:
                break
            node = node.setdefault(c, {})
        else:
            node.clear()
            node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        if "" in node:
            return ""
        alts = [re.escape(c) + emit(child) for c, child in sorted(node.items())]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(tree)


# Occurrences the filter may enumerate before it gives up and every child is
# probed on its own (a text that repeats one key run would otherwise cost one
# Python iteration per repetition).
_FILTER_CAP = 64


class _Filter:
    """Which children of a step can occur at all, found in one scan of the text.

    Each child is represented by one of its runs (``key_run``); the runs form
    a prefix-free set (a run that extends another is represented by the
    shorter, which occurs wherever it does), so at each position at most one
    of them starts and a zero-width search visits every occurrence. A child
    whose run never occurs from ``pos`` on cannot match there and is skipped.
    """

    __slots__ = ("_finditer", "_runs", "_total")

    def __init__(self, children: list[tuple[_Step, str]]) -> None:
        kept: set[str] = set()
        for run in sorted({r for _, r in children}, key=len):
            if not any(run.startswith(k) for k in kept):
                kept.add(run)
        self._runs = [(step, next(k for k in kept if run.startswith(k))) for step, run in children]
        self._total = len(kept)
        self._finditer = re.compile(f"(?=({_prefix_tree(kept)}))", re.DOTALL).finditer

    def candidates(self, text: str, pos: int) -> list[_Step] | None:
        """The children that may occur from ``pos``; None when the scan gave up."""
        seen: set[str] = set()
        for count, m in enumerate(self._finditer(text, pos)):
            seen.add(m.group(1))
            if len(seen) == self._total:
                break
            if count >= _FILTER_CAP:
                return None
        return [step for step, run in self._runs if run in seen]


def _compile(segment: str) -> re.Pattern[str]:
    return re.compile(segment_regex(segment), re.DOTALL)


def _start(text: str, pos: int) -> int:
    return pos


class GlobSet:
    """Patterns in order; :meth:`first` names a pattern that matches a text.

    ``wrap`` instruments every probe (the tests count the characters scanned).
    """

    __slots__ = ("_exact", "_literal", "_root")

    def __init__(
        self, patterns: Sequence[str], wrap: Callable[[Probe, str], Probe] | None = None
    ) -> None:
        def probe(fn: Probe, piece: str) -> Probe:
            return fn if wrap is None else wrap(fn, piece)

        self._literal: dict[str, int] = {}
        exact: list[tuple[re.Pattern[str], int]] = []
        self._root = _Step(_start)
        for i, pattern in enumerate(patterns):
            parts = normalize(pattern).split("*")
            if len(parts) == 1:
                if "?" not in parts[0]:
                    self._literal.setdefault(parts[0], i)
                else:
                    exact.append((_compile(parts[0]), i))
                continue
            head, *middles, tail = parts
            node = self._root
            pieces = [(True, head)] if head else []
            pieces += [(False, m) for m in middles]
            for anchored, piece in pieces:
                child = node.children.get((anchored, piece))
                if child is None:
                    make = _anchored if anchored else _searched
                    child = node.children[(anchored, piece)] = _Step(probe(make(piece), piece))
                node = child
            tail_probe = probe(_anchored(tail), tail) if tail else None
            node.leaves.append(_Leaf(i, tail_probe, len(tail)))
        self._exact = tuple(exact)
        stack = [self._root]
        while stack:
            step = stack.pop()
            stack.extend(step.children.values())
            if len(step.children) < _FILTER_MIN or any(a for a, _ in step.children):
                continue
            shared: dict[str, int] = {}
            for _, piece in step.children:
                for run in {r for _, r in _runs(piece)}:
                    shared[run] = shared.get(run, 0) + 1
            keyed = [(child, key_run(piece, shared)) for (_, piece), child in step.children.items()]
            if all(run for _, run in keyed):
                step.filter = _Filter(keyed)

    def first(self, text: str) -> int | None:
        """Index of a matching pattern, or None. Patterns without ``*`` are tried
        first; among the others the first found in a walk of shared pieces wins."""
        found = self._literal.get(text)
        if found is not None:
            return found
        for rx, i in self._exact:
            if rx.fullmatch(text) is not None:
                return i
        return _walk(self._root, text)


def _walk(root: _Step, text: str) -> int | None:
    # Each step is reached at one position (its pieces' leftmost end), so
    # every probe runs at most once per request. A middle is searched without
    # the tail's bound: its leftmost occurrence fits before the tail exactly
    # when any occurrence does (all occurrences have the same length).
    n = len(text)
    stack = [(root, 0)]
    while stack:
        step, pos = stack.pop()
        for leaf in step.leaves:
            end = n - leaf.tail_len
            if pos <= end and (leaf.tail is None or leaf.tail(text, end) >= 0):
                return leaf.index
        children = step.filter.candidates(text, pos) if step.filter is not None else None
        for child in step.children.values() if children is None else children:
            after = child.probe(text, pos)
            if after >= 0:
                stack.append((child, after))
    return None
