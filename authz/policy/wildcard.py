"""IAM wildcard patterns: ``*`` any run of characters (``/`` and ``:`` too), ``?`` one.

Everything else is literal and case-sensitive, so regex metacharacters are
escaped (``fnmatch`` would treat ``[`` as a class, which IAM does not).

Patterns become regexes that cannot backtrack catastrophically: every
``*``-separated middle segment is matched at its leftmost occurrence inside an
atomic group. Leftmost is always the best choice for a fixed-length segment
(it leaves the most room for the rest), so this is exact, and a hostile
pattern such as ``*a*a*a*a*b`` costs linear time instead of polynomial.

``union`` merges many patterns into one regex over a trie of their text, so
the prefix they share is scanned once; that is what makes 50 patterns cost
about as much as a handful (``bench/policy.py``). Where patterns diverge
after a ``*`` the regex must backtrack; ``build_union`` reports where such a
``*`` may stop and whether that bounds its cost, so that ``evaluate`` can
hand hostile requests to the linear-time ``globset`` matcher instead.
"""

# Slightly over ~300 lines: the union builder and the matching it must agree with
# (``to_regex``, ``normalize``) are one algorithm and are read together.

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "Cover",
    "UnionRegex",
    "build_union",
    "matches",
    "normalize",
    "star_match",
    "subsumes",
    "to_regex",
    "union",
]

_ANY = "."
# In the symbolic test a pattern's ``?`` stands for one concrete character,
# which in the other pattern's text can be a literal or a ``?`` but never a
# ``*`` (that could be zero or many characters).
_ONE_SYMBOL = "[^*]"


def normalize(pattern: str) -> str:
    """Rewrite every run of wildcards as its ``?``s followed by at most one ``*``.

    ``**`` means ``*`` and ``*?`` means ``?*``; one spelling per language keeps
    dedupe and the subsumption test from missing equal patterns.
    """
    if "**" not in pattern and "*?" not in pattern:
        return pattern
    out: list[str] = []
    run_q = 0
    run_star = False
    for c in pattern:
        if c == "?":
            run_q += 1
        elif c == "*":
            run_star = True
        else:
            if run_q or run_star:
                out.append("?" * run_q + ("*" if run_star else ""))
                run_q, run_star = 0, False
            out.append(c)
    if run_q or run_star:
        out.append("?" * run_q + ("*" if run_star else ""))
    return "".join(out)


# re.escape's set of special characters, as translate tables (one per meaning of ``?``).
_SPECIAL = "()[]{}?*+-|^$\\.&~# \t\n\r\v\f"
_ESCAPE = {
    one: str.maketrans({c: one if c == "?" else "\\" + c for c in _SPECIAL})
    for one in (_ANY, _ONE_SYMBOL)
}


def _segment(text: str, one: str) -> str:
    return text.translate(_ESCAPE[one])


def to_regex(pattern: str, *, one: str = _ANY) -> str:
    """Regex source matching exactly what ``pattern`` matches; use with ``fullmatch``
    (or inside an alternation anchored by ``fullmatch``) and ``re.DOTALL``.

    It contains no capturing groups, so callers may wrap it in one to learn
    which pattern of a combined alternation matched.
    """
    parts = normalize(pattern).split("*")
    if len(parts) == 1:
        return _segment(parts[0], one)
    out = [_segment(parts[0], one)]
    for middle in parts[1:-1]:
        out.append(f"(?>.*?{_segment(middle, one)})")
    out.append(".*" + _segment(parts[-1], one))
    return "".join(out)


@lru_cache(maxsize=4096)
def _compiled(pattern: str, one: str) -> re.Pattern[str]:
    return re.compile(to_regex(pattern, one=one), re.DOTALL)


def matches(pattern: str, text: str) -> bool:
    """Does ``pattern`` match the whole of ``text``?"""
    return _compiled(pattern, _ANY).fullmatch(text) is not None


def star_match(pattern: str, text: str) -> bool:
    """``matches`` by string search instead of a regex: nothing to compile.

    For a pattern without ``?``, the text must start with the part before
    the first ``*``, end with the part after the last, and hold each part in
    between, in order, in what lies between. Taking the leftmost occurrence
    of each is exact (it leaves the most room for the rest), and each search
    is one scan of the text, so no input makes this backtrack. A pattern
    with ``?`` is matched by ``matches``.
    """
    if "?" in pattern:
        return matches(pattern, text)
    first = pattern.find("*")
    if first < 0:
        return text == pattern
    # Most patterns that do not match fail here, before anything is split.
    if not text.startswith(pattern[:first]):
        return False
    return first == len(pattern) - 1 or _after_head(pattern, text, first)


def _after_head(pattern: str, text: str, first: int) -> bool:
    """``star_match`` once the text starts with the pattern's head (up to ``first``)."""
    last = pattern.rfind("*")
    end = len(text) - (len(pattern) - last - 1)
    if end < first or not text.endswith(pattern[last + 1 :]):
        return False
    pos = first
    for middle in pattern[first + 1 : last].split("*") if last > first else ():
        found = text.find(middle, pos, end)
        if found < 0:
            return False
        pos = found + len(middle)
    return True


def subsumes(general: str, specific: str) -> bool:
    """True only if every string ``specific`` matches, ``general`` matches too.

    Sound, and complete for the patterns policies use: ``general`` must match
    the text of ``specific`` read as symbols, where a ``*`` of ``general`` may
    absorb anything, its ``?`` one literal or ``?`` of ``specific``, and its
    literals only the same literal. A ``*`` of ``specific`` can therefore only
    be covered by a ``*`` of ``general``. When in doubt the answer is False,
    which at worst keeps a redundant pattern.
    """
    return _cover(general).covers(normalize(specific))


class Cover:
    """A pattern prepared to answer ``subsumes(pattern, x)`` for many ``x``."""

    __slots__ = ("_match", "_runs", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        normal = normalize(pattern)
        # Every wildcard-free run must appear literally in what this covers: a
        # substring test settles most pairs before any regex runs.
        runs = {r for r in normal.replace("?", "*").split("*") if len(r) > 1}
        self._runs = tuple(sorted(runs, key=len, reverse=True))
        self._match = re.compile(to_regex(normal, one=_ONE_SYMBOL), re.DOTALL).fullmatch

    def covers(self, specific: str) -> bool:
        """``specific`` must already be normalized."""
        for run in self._runs:
            if run not in specific:
                return False
        return self._match(specific) is not None


@lru_cache(maxsize=4096)
def _cover(pattern: str) -> Cover:
    return Cover(pattern)


class _Node:
    __slots__ = ("children", "ends", "star_below")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.ends: list[int] = []
        # Some pattern continues past this node with a ``*``: a backtracking
        # ``*`` above it would retry that ``*`` for every split it tries.
        self.star_below = False


# How many backtracking ``*`` may nest on one path of the union regex by
# default. Each multiplies the worst case by the input's length (two made a
# 500-character methodArn of slashes take seconds); deeper sharing falls back
# to one linear alternative per pattern. Callers keep heads uniform per regex
# (see ``evaluate._head_form``) so the one level is spent where patterns diverge.
MAX_BACKTRACKING_STARS = 1

# How many per-pattern scans (``_Union.linear``) a union regex may retry under
# a backtracking ``*`` before it is flagged ``unbounded``.
MAX_RETRIED_SCANS = 8


class _Union:
    """Builds one regex for many patterns from a trie of their normalized text.

    Shared prefixes (``arn:aws:execute-api:*:*:*/*/``) are scanned once instead
    of once per pattern, which is what keeps 50 patterns about as cheap as a few. A
    ``*`` whose following segment is shared by every pattern below it up to
    their next ``*`` is matched atomically at the segment's leftmost occurrence
    (exact, see the module docstring); a ``*`` followed by diverging patterns
    must backtrack over every split, so those are limited in depth.
    """

    def __init__(self, backtracking: int) -> None:
        self.groups: list[tuple[int, ...]] = []
        self.backtracking = backtracking
        self.split_chars: set[str] = set()
        self.unbounded = False
        self.scans = 0

    def note_split(self, first: str | None, node: _Node) -> None:
        """Record where a backtracking ``*`` with more ``*`` below may stop.

        The regex costs about (stops in the input) x (one linear scan), so the
        caller counts these characters in a request before trusting the regex.
        """
        starts = [first] if first is not None else list(node.children)
        # ``normalize`` moves every ``?`` before its ``*``, so this cannot
        # happen today; should that change, the policy fails safe (linear).
        if "?" in starts:
            self.unbounded = True
        self.split_chars.update(starts)

    def end(self, node: _Node) -> str:
        self.groups.append(tuple(node.ends))
        return r"\Z()"

    def emit(self, node: _Node, depth: int) -> str:
        parts: list[str] = []
        while not node.ends and len(node.children) == 1:
            ((tok, child),) = node.children.items()
            if tok == "*":
                parts.append(self.star(child, depth))
                return "".join(parts)
            parts.append(_segment(tok, _ANY))
            node = child
        alts: list[str] = []
        if node.ends:
            alts.append(self.end(node))
        for tok, child in node.children.items():
            if tok == "*":
                alts.append(self.star(child, depth))
            else:
                alts.append(_segment(tok, _ANY) + self.emit(child, depth))
        if len(alts) == 1:
            return "".join(parts) + alts[0]
        return "".join(parts) + "(?:" + "|".join(alts) + ")"

    def star(self, node: _Node, depth: int) -> str:
        """Regex for ``*`` followed by everything below ``node``."""
        segment: list[str] = []
        first: str | None = None
        n = node
        while not n.ends and len(n.children) == 1:
            ((tok, child),) = n.children.items()
            if tok == "*":
                return f"(?>.*?{''.join(segment)})" + self.star(child, depth)
            if first is None:
                first = tok
            segment.append(_segment(tok, _ANY))
            n = child
        if not n.children:
            # The last segment: anchored at the end, so search back from it.
            return ".*" + "".join(segment) + self.end(n)
        if depth >= self.backtracking:
            return self.linear(node)
        if n.star_below:
            self.note_split(first, n)
        return ".*?" + "".join(segment) + self.emit(n, depth + 1)

    def linear(self, node: _Node) -> str:
        """``*`` then each pattern below ``node`` as its own linear-time alternative."""
        alts: list[str] = []
        stack: list[tuple[_Node, str]] = [(node, "*")]
        while stack:
            n, text = stack.pop()
            if n.ends:
                alts.append(to_regex(text) + self.end(n))
            stack.extend((child, text + tok) for tok, child in reversed(n.children.items()))
        # Each alternative scans the input once per split of the backtracking
        # ``*`` above; past a few, the split count no longer bounds the cost.
        self.scans += len(alts)
        if self.scans > MAX_RETRIED_SCANS:
            self.unbounded = True
        return "(?:" + "|".join(alts) + ")"


class UnionRegex:
    """A union regex and what bounds its cost (see ``_Union.note_split``).

    ``split_chars``: where a backtracking ``*`` that retries further ``*``
    may stop; the regex costs up to (occurrences of these in the input + 1)
    linear scans. ``unbounded``: such a ``*`` may stop anywhere, or retries
    more than ``MAX_RETRIED_SCANS`` scans, so the split count bounds nothing.
    """

    # A plain class: a dataclass or NamedTuple costs a share of cold start.
    __slots__ = ("groups", "source", "split_chars", "unbounded")

    def __init__(
        self,
        source: str,
        groups: tuple[tuple[int, ...], ...],
        split_chars: frozenset[str],
        unbounded: bool,
    ) -> None:
        self.source = source
        self.groups = groups
        self.split_chars = split_chars
        self.unbounded = unbounded


def build_union(patterns: list[str], backtracking: int = MAX_BACKTRACKING_STARS) -> UnionRegex:
    """``union`` with the cost bound of the regex (see :class:`UnionRegex`)."""
    root = _Node()
    for i, p in enumerate(patterns):
        normal = normalize(p)
        last_star = normal.rfind("*")
        n = root
        for j, c in enumerate(normal):
            n = n.children.setdefault(c, _Node())
            n.star_below = n.star_below or j < last_star
        n.ends.append(i)
    builder = _Union(backtracking)
    source = builder.emit(root, 0)
    return UnionRegex(
        source, tuple(builder.groups), frozenset(builder.split_chars), builder.unbounded
    )


def union(
    patterns: list[str], backtracking: int = MAX_BACKTRACKING_STARS
) -> tuple[str, tuple[tuple[int, ...], ...]]:
    """One regex source matching any of ``patterns`` (use ``fullmatch``, ``re.DOTALL``).

    Group ``k`` (1-based) of a match is empty and set only for the patterns
    listed in the returned ``groups[k - 1]`` (indices into ``patterns``;
    patterns with equal normalized text share one group), so ``m.lastindex``
    names a pattern that matched. ``backtracking=0`` gives a regex whose cost
    is linear in the input for every pattern, for inputs of unbounded length.
    """
    built = build_union(patterns, backtracking)
    return built.source, built.groups
