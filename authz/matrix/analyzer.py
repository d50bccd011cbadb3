"""Which patterns match which routes, for a whole matrix at once.

The routes are split into lanes (one per verb; ANY has them all) and indexed
by the literal text their methodArns start with, and arranged as a tree of
path pieces. A pattern is compared only with the lanes whose literal start
and end agree with its own, or, when wildcards come early, walked down the
tree so routes that share a beginning share the work. Each pattern's answer
for every route is computed once, then shared by every subject holding it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from authz.matrix.cells import NOTHING, Cell, Entry, StatementRef, value_of
from authz.matrix.language import Coverage, Glob, TooComplex
from authz.matrix.routes import Route
from authz.matrix.samples import SampleApi, Token, sample_path, template_tokens
from authz.policy.document import Effect, PolicyDocument
from authz.policy.expand import expand
from authz.policy.variables import scan

__all__ = ["Analyzer"]

_UNION_STATES = 100
# Up to this many candidate lanes a pattern is walked lane by lane.
_FEW_LANES = 16


@dataclass(frozen=True, slots=True)
class _Lane:
    """One verb of one route: the literal text its methodArns start and end with."""

    route: Route
    verb: str
    head: str
    tail: str


class _Node:
    """A node of the tree of route paths, keyed by pieces (``/orders``, SEGMENT)."""

    __slots__ = ("children", "routes")

    def __init__(self) -> None:
        self.children: dict[Token, _Node] = {}
        self.routes: list[Route] = []


def _chunks(tokens: Sequence[Token]) -> list[Token]:
    out: list[Token] = []
    for t in tokens:
        if isinstance(t, str):
            first, *rest = t.split("/")
            out.extend(p for p in (first, *("/" + r for r in rest)) if p)
        else:
            out.append(t)
    return out


class Analyzer:
    """Classifies patterns against a fixed list of routes for one sample API.

    A pattern's answers for every route are worked out once and remembered:
    the same pattern recurs in every subject that includes ``default``, and
    in both sides of an impact. Routes are indexed by the literal text their
    methodArns start with, so a pattern only meets the routes it may match.
    """

    def __init__(self, routes: Iterable[Route], api: SampleApi | None = None) -> None:
        self.api = api or SampleApi()
        self.routes = tuple(dict.fromkeys(routes))
        self._prefix = self.api.prefix
        self._tokens = {r: template_tokens(r.path) for r in self.routes}
        self._lanes: list[_Lane] = []
        for r in self.routes:
            tokens = self._tokens[r]
            literal = len(tokens) == 1
            for verb in r.verbs:
                head = self._prefix + verb + (tokens[0] if isinstance(tokens[0], str) else "")
                tail = head if literal else (tokens[-1] if isinstance(tokens[-1], str) else "")
                self._lanes.append(_Lane(r, verb, head, tail))
        self._heads = sorted((lane.head, i) for i, lane in enumerate(self._lanes))
        self._by_head: dict[str, list[int]] = {}
        for i, lane in enumerate(self._lanes):
            self._by_head.setdefault(lane.head, []).append(i)
        self._trie = _Node()
        for r in self.routes:
            node = self._trie
            for chunk in _chunks(self._tokens[r]):
                node = node.children.setdefault(chunk, _Node())
            node.routes.append(r)
        self._lane_of = {(lane.route, lane.verb): i for i, lane in enumerate(self._lanes)}
        self._verbs = tuple(dict.fromkeys(lane.verb for lane in self._lanes))
        self._globs: dict[tuple[tuple[str, ...], Effect], tuple[Glob, int]] = {}
        self._rows: dict[tuple[str, Effect], dict[Route, Coverage]] = {}
        self._full_verbs: dict[tuple[str, Effect], dict[Route, set[str]]] = {}
        self._unions: dict[tuple[tuple[str, ...], Effect, Route], Coverage] = {}

    def entries(self, policies: Iterable[tuple[str, PolicyDocument]]) -> tuple[Entry, ...]:
        """The Invoke patterns of named documents, shorthand expanded for the sample API."""
        out: list[Entry] = []
        stage = self.api.api_stage
        for label, doc in policies:
            for i, s in enumerate(doc.statements):
                if not s.invokes:
                    continue
                ref = StatementRef(label, i, s.sid, s.effect)
                # One statement at a time keeps its index in the document as written.
                for expanded in expand(PolicyDocument((s,)), stage).statements:
                    out.extend(Entry(r, ref) for r in expanded.resources)
        return tuple(out)

    def row(self, pattern: str, effect: Effect) -> Mapping[Route, Coverage]:
        """The routes ``pattern`` matches some or all of; absent routes it matches none of."""
        found = self._rows.get((pattern, effect))
        if found is None:
            try:
                found = self._row(pattern, effect)
            except TooComplex:
                found = dict.fromkeys(self.routes, Coverage.SOME)
            self._rows[(pattern, effect)] = found
        return found

    def _row(self, pattern: str, effect: Effect) -> dict[Route, Coverage]:
        # Not kept: a pattern's DFA is done with once its row is known, and
        # thousands of live DFAs would slow every garbage collection.
        glob = Glob((pattern,), effect)
        per_route: dict[Route, list[tuple[str, frozenset[int]]]] = {}
        for i, states in self._reach(glob).items():
            lane = self._lanes[i]
            per_route.setdefault(lane.route, []).append((lane.verb, states))
        found: dict[Route, Coverage] = {}
        # Per verb as well: ``execute-api:/*/*/x`` expands to one pattern per verb,
        # each covering one verb of an ANY route and together all of them.
        full: dict[Route, set[str]] = {}
        accepting = glob.accepting
        for route, lanes in per_route.items():
            ends = set().union(*(states for _, states in lanes))
            if len(lanes) < len(route.verbs):
                ends.add(glob.dead)
            coverage = glob.coverage(ends)
            if coverage is Coverage.NONE:
                continue
            found[route] = coverage
            if coverage is Coverage.SOME and route.verb == "ANY" and not glob.has_variables:
                full[route] = {v for v, states in lanes if all(accepting[x] for x in states)}
        self._full_verbs[(pattern, effect)] = full
        return found

    def _reach(self, glob: Glob) -> dict[int, frozenset[int]]:
        """For each lane the pattern may match: the states its requests end in."""
        start = frozenset((glob.after(self._prefix),))
        lanes = self._candidates(glob)
        reached: dict[int, frozenset[int]] = {}
        if len(lanes) <= _FEW_LANES:
            for i in lanes:
                lane = self._lanes[i]
                reached[i] = glob.ends(start, (lane.verb, *self._tokens[lane.route]))
            return reached
        # A pattern with wildcards early meets most routes: walk their paths
        # as a tree, so routes that share a beginning share its walk, and
        # verbs that leave the pattern in the same state share the whole tree.
        by_start: dict[frozenset[int], dict[Route, frozenset[int]]] = {}
        for verb in self._verbs:
            after = glob.move(start, verb)
            if after == glob.dead_only:
                continue
            if after not in by_start:
                by_start[after] = self._walk_paths(glob, after)
            for route, states in by_start[after].items():
                lane_id = self._lane_of.get((route, verb))
                if lane_id is not None:
                    reached[lane_id] = states
        return reached

    def _walk_paths(self, glob: Glob, start: frozenset[int]) -> dict[Route, frozenset[int]]:
        out: dict[Route, frozenset[int]] = {}
        todo = [(self._trie, start)]
        dead = glob.dead_only
        while todo:
            node, states = todo.pop()
            for route in node.routes:
                out[route] = states
            for chunk, child in node.children.items():
                after = glob.move(states, chunk)
                if after != dead:
                    todo.append((child, after))
        return out

    def _candidates(self, glob: Glob) -> list[int]:
        """Lanes whose literal start and end agree with the pattern's: no other can match."""
        start, end = glob.literal_ends()
        picked: set[int] = set()
        for i in range(bisect_left(self._heads, (start, -1)), len(self._heads)):
            head, lane = self._heads[i]
            if not head.startswith(start):
                break
            picked.add(lane)
        for n in range(len(start)):
            picked.update(self._by_head.get(start[:n], ()))
        return [
            i
            for i in sorted(picked)
            if self._lanes[i].tail.endswith(end) or end.endswith(self._lanes[i].tail)
        ]

    def union(self, patterns: tuple[str, ...], effect: Effect, route: Route) -> Coverage:
        """How much of ``route`` the union of ``patterns`` matches (no pattern alone may)."""
        key = (patterns, effect, route)
        found = self._unions.get(key)
        if found is None and not self._sample_covered(patterns, effect, route):
            found = Coverage.SOME
        if found is None:
            try:
                glob, after_prefix = self._glob(patterns, effect)
                ends: set[int] = set()
                for verb in route.verbs:
                    ends |= glob.ends((glob.walk(after_prefix, verb),), self._tokens[route])
                found = glob.coverage(ends)
            except TooComplex:
                found = Coverage.SOME
            self._unions[key] = found
        return found

    def _sample_covered(self, patterns: tuple[str, ...], effect: Effect, route: Route) -> bool:
        """Does some pattern match the route's sample, for every verb? When not, that
        sample is a request the union misses, and the union DFA need not be built."""
        path = sample_path(route.path)
        return all(
            any(_regex(p, effect).fullmatch(f"{self._prefix}{verb}{path}") for p in patterns)
            for verb in route.verbs
        )

    def _glob(self, patterns: tuple[str, ...], effect: Effect) -> tuple[Glob, int]:
        found = self._globs.get((patterns, effect))
        if found is None:
            # A union is an extra precision only: it gets a smaller budget.
            glob = Glob(patterns, effect, _UNION_STATES)
            found = (glob, glob.after(self._prefix))
            self._globs[(patterns, effect)] = found
        return found

    def cell(self, entries: Sequence[Entry], route: Route) -> Cell:
        """The cell of a subject (its ``entries``) for ``route`` (see the module docstring)."""
        hits = [(e, c) for e in entries if (c := self.row(e.pattern, e.ref.effect).get(route))]
        return self._decide(hits, route)

    def cells(self, entries: Sequence[Entry]) -> dict[Route, Cell]:
        """Every route's cell for one subject: each pattern's row is read once."""
        hits: dict[Route, list[tuple[Entry, Coverage]]] = {}
        for e in entries:
            for route, c in self.row(e.pattern, e.ref.effect).items():
                hits.setdefault(route, []).append((e, c))
        return {r: self._decide(hits[r], r) if r in hits else NOTHING for r in self.routes}

    def _verbs_covered(self, patterns: Sequence[str], effect: Effect, route: Route) -> bool:
        """Does every verb of an ANY route have a pattern that covers it all?"""
        covered: set[str] = set()
        for p in patterns:
            covered |= self._full_verbs.get((p, effect), {}).get(route, set())
        return route.verb == "ANY" and covered >= set(route.verbs)

    def _decide(self, hits: Sequence[tuple[Entry, Coverage]], route: Route) -> Cell:
        sides: dict[Effect, Coverage] = {}
        for effect in ("Deny", "Allow"):
            mine = [(e, c) for e, c in hits if e.ref.effect == effect]
            best = max((c for _, c in mine), key=lambda v: v.value, default=Coverage.NONE)
            partial = sorted({e.pattern for e, _ in mine if "${" not in e.pattern})
            if best is Coverage.SOME and self._verbs_covered(partial, effect, route):
                best = Coverage.ALL
            if best is Coverage.SOME and len(partial) > 1:
                best = max(best, self.union(tuple(partial), effect, route), key=lambda v: v.value)
            sides[effect] = best
        refs = tuple(dict.fromkeys(e.ref for e, _ in hits))
        matched = frozenset((e.ref.effect, e.pattern) for e, _ in hits)
        return Cell(value_of(sides["Deny"], sides["Allow"]), refs, matched)


@lru_cache(maxsize=4096)
def _regex(pattern: str, effect: Effect) -> re.Pattern[str]:
    """``pattern`` as a regex, a variable read as in ``authz.matrix.language``."""
    variable = "[^/]+" if effect == "Allow" else ".*"
    out: list[str] = []
    pos = 0
    for start, end, _name in [*scan(pattern)[0], (len(pattern), len(pattern), "")]:
        text = re.escape(pattern[pos:start]).replace(r"\*", ".*").replace(r"\?", ".")
        out.append(text)
        if end > start:
            out.append(variable)
        pos = end
    return re.compile("".join(out), re.DOTALL)
