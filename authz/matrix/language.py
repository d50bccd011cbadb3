"""Does an IAM resource pattern match all, some or none of a route's requests?

A route template stands for a set of methodArns (its language L): the sample
API's prefix, a verb (every verb for ANY), then the path with ``{x}`` read as
one or more characters other than ``/`` and ``{x+}`` as one or more such
segments joined by ``/``. A pattern P is an IAM glob (``*`` any run of
characters, ``/`` included; ``?`` exactly one). Samples cannot tell whether P
holds for every member of L, so this decides it on the patterns: P compiles
to a DFA built lazily over the characters P names plus one symbol for every
other character (they all behave alike in P and in L), L is walked through
that DFA, and the set of states L can end in answers the question: all of
them accepting means ALL, none accepting means NONE, otherwise SOME. Each
string of L ends in exactly one state, so the answer is exact.

A policy variable (``${sub}``) is read as what it can become: for an Allow
one or more characters other than ``/`` (a usable value never holds ``/``),
for a Deny ``*`` (an unusable value widens it to ``*``). Such a pattern
depends on the principal, so it answers at most SOME.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum

from authz.matrix.samples import SEGMENT, SEGMENTS, Token
from authz.policy.variables import scan

__all__ = ["MAX_STATES", "Coverage", "Glob", "TooComplex"]

# A union of patterns with many ``*`` can need many DFA states; beyond this
# many the answer is given up on and the caller assumes SOME, which can only
# make a cell ``conditional``, never wrong.
MAX_STATES = 400


class TooComplex(Exception):
    """The DFA would need more than MAX_STATES states."""


class Coverage(Enum):
    NONE = 0
    SOME = 1
    ALL = 2


# Pattern items. A variable is read as ONE_NOT_SLASH + MANY_NOT_SLASH (Allow)
# or MANY (Deny).
ONE = "\x01"  # ``?``
MANY = "\x02"  # ``*``
ONE_NOT_SLASH = "\x03"
MANY_NOT_SLASH = "\x04"
_SKIPPABLE = (MANY, MANY_NOT_SLASH)
# Stands for every character no pattern names; valid paths and ARNs never hold it.
OTHER = "\x00"

_State = frozenset[tuple[int, int]]


def _items(pattern: str, variable: Sequence[str]) -> tuple[str, ...]:
    spans, _ = scan(pattern)
    out: list[str] = []
    pos = 0
    for start, end, _name in [*spans, (len(pattern), len(pattern), "")]:
        out.extend({"*": MANY, "?": ONE}.get(c, c) for c in pattern[pos:start])
        if end > start:
            out.extend(variable)
        pos = end
    return tuple(out)


class Glob:
    """A lazily built DFA for the union of some IAM patterns."""

    def __init__(
        self, patterns: Iterable[str], effect: str = "Allow", max_states: int = MAX_STATES
    ) -> None:
        self.max_states = max_states
        variable = (ONE_NOT_SLASH, MANY_NOT_SLASH) if effect == "Allow" else (MANY,)
        self.items = tuple(_items(p, variable) for p in patterns)
        self.has_variables = any("${" in p for p in patterns)
        self._ids: dict[_State, int] = {}
        self._sets: list[_State] = []
        self._moves: list[dict[str, int]] = []
        self.accepting: list[bool] = []
        # Per state: the characters other than ``/`` that some position expects
        # next, and OTHER. Every other character moves as OTHER does.
        self._segment_chars: list[tuple[str, ...]] = []
        self._expected: list[frozenset[str]] = []
        self._walks: dict[tuple[int, str], int] = {}
        self._token_moves: dict[tuple[frozenset[int], Token], frozenset[int]] = {}
        self._closures: dict[tuple[int, int], frozenset[int]] = {}
        self.start = self._intern(self._close((k, 0) for k in range(len(self.items))))
        self.dead = self._intern(frozenset())
        self.dead_only = frozenset((self.dead,))

    def _close(self, states: Iterable[tuple[int, int]]) -> _State:
        """The positions reachable without reading, minus those a later ``*`` makes redundant.

        A run from position i passes every later position j of the same
        pattern, so when j holds ``*`` it can absorb what the run read before
        reaching j: whatever i accepts, j accepts. Keeping only positions from
        each pattern's last active ``*`` on keeps the DFA about as small as
        the pattern.
        """
        closed: set[tuple[int, int]] = set()
        floors: dict[int, int] = {}
        for k, first in states:
            items = self.items[k]
            pos = first
            closed.add((k, pos))
            while pos < len(items) and items[pos] in _SKIPPABLE:
                if items[pos] == MANY and pos > floors.get(k, -1):
                    floors[k] = pos
                pos += 1
                closed.add((k, pos))
        if floors:
            return frozenset((k, p) for k, p in closed if p >= floors.get(k, 0))
        return frozenset(closed)

    def _intern(self, state: _State) -> int:
        found = self._ids.get(state)
        if found is None:
            found = len(self._sets)
            if found >= self.max_states:
                raise TooComplex
            self._ids[state] = found
            self._sets.append(state)
            self._moves.append({})
            self.accepting.append(any(pos == len(self.items[k]) for k, pos in state))
            expected = {self.items[k][pos] for k, pos in state if pos < len(self.items[k])}
            expected -= {"/", ONE, MANY, ONE_NOT_SLASH, MANY_NOT_SLASH}
            self._expected.append(frozenset(expected))
            self._segment_chars.append((*sorted(expected), OTHER))
        return found

    def step(self, state: int, char: str) -> int:
        """The DFA state after reading ``char`` (any character, not only the alphabet)."""
        moves = self._moves[state]
        found = moves.get(char)
        if found is None:
            if char not in ("/", OTHER) and char not in self._expected[state]:
                found = self.step(state, OTHER)
            else:
                found = self._intern(self._close(self._next(self._sets[state], char)))
            moves[char] = found
        return found

    def _next(self, state: _State, char: str) -> Iterable[tuple[int, int]]:
        for k, pos in state:
            items = self.items[k]
            if pos == len(items):
                continue
            item = items[pos]
            if item in (char, ONE) or (item == ONE_NOT_SLASH and char != "/"):
                yield k, pos + 1
            elif item == MANY or (item == MANY_NOT_SLASH and char != "/"):
                yield k, pos

    def literal_ends(self) -> tuple[str, str]:
        """The literal text every match starts with and ends with (one pattern only)."""
        (items,) = self.items
        wild = [i for i, c in enumerate(items) if c <= MANY_NOT_SLASH]
        if not wild:
            text = "".join(items)
            return text, text
        return "".join(items[: wild[0]]), "".join(items[wild[-1] + 1 :])

    def after(self, text: str) -> int:
        """The state after reading ``text`` from the start. When every pattern starts
        with ``text`` literally, that is one position each, found without a walk."""
        n = len(text)
        if all(items[:n] == tuple(text) for items in self.items):
            return self._intern(self._close((k, n) for k in range(len(self.items))))
        return self.walk(self.start, text)

    def walk(self, state: int, text: str) -> int:
        """The state after reading ``text``; remembered, as routes repeat their pieces."""
        key = (state, text)
        found = self._walks.get(key)
        if found is None:
            found = state
            moves = self._moves
            for c in text:
                nxt = moves[found].get(c)
                found = self.step(found, c) if nxt is None else nxt
            self._walks[key] = found
        return found

    def _segment(self, state: int) -> frozenset[int]:
        """States after one or more characters other than ``/``."""
        key = (state, SEGMENT)
        found = self._closures.get(key)
        if found is None:
            seen: set[int] = set()
            todo = [state]
            while todo:
                s = todo.pop()
                for c in self._segment_chars[s]:
                    n = self.step(s, c)
                    if n not in seen:
                        seen.add(n)
                        todo.append(n)
            found = frozenset(seen)
            self._closures[key] = found
        return found

    def _segments(self, state: int) -> frozenset[int]:
        """States after one or more segments joined by ``/``."""
        key = (state, SEGMENTS)
        found = self._closures.get(key)
        if found is None:
            seen = set(self._segment(state))
            todo = list(seen)
            while todo:
                for n in self._segment(self.step(todo.pop(), "/")):
                    if n not in seen:
                        seen.add(n)
                        todo.append(n)
            found = frozenset(seen)
            self._closures[key] = found
        return found

    def ends(self, starts: Iterable[int], tokens: Sequence[Token]) -> frozenset[int]:
        """Every state some string of ``tokens``' language, read from ``starts``, ends in."""
        states = frozenset(starts)
        for token in tokens:
            states = self.move(states, token)
            if states == self.dead_only:
                break
        return states

    def move(self, states: frozenset[int], token: Token) -> frozenset[int]:
        """The states some string of ``token``'s language leads ``states`` to."""
        key = (states, token)
        found = self._token_moves.get(key)
        if found is None:
            found = frozenset(self._move(states, token))
            self._token_moves[key] = found
        return found

    def _move(self, states: frozenset[int], token: Token) -> Iterable[int]:
        if isinstance(token, str):
            return {self.walk(s, token) for s in states}
        if token == SEGMENT:
            return {n for s in states for n in self._segment(s)}
        return {n for s in states for n in self._segments(s)}

    def coverage(self, ends: Iterable[int]) -> Coverage:
        ends = set(ends)
        accepted = sum(1 for s in ends if self.accepting[s])
        if not accepted:
            return Coverage.NONE
        if accepted < len(ends) or self.has_variables:
            return Coverage.SOME
        return Coverage.ALL
