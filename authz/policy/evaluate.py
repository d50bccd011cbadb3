"""Decisions: explicit Deny wins, then Allow, else implicit deny (IAM's order).

A document compiles once into at most two regexes, one alternation per
effect with one capturing group per distinct pattern, so a decision is one or
two ``fullmatch`` calls and a tuple lookup by ``lastindex``; the Decision
objects themselves are built at compile time. Only the first matching pattern
of the deciding effect is reported (``explain`` lists every match).

Resources still holding policy variables are compiled as ``substitute`` with
no claims would leave them (Allow removed, Deny widened), so evaluating an
unsubstituted document fails closed instead of matching ``${sub}`` literally.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from authz.policy.document import Effect, PolicyDocument
from authz.policy.substitute import resolve
from authz.policy.wildcard import normalize, to_regex, union

__all__ = [
    "IMPLICIT_DENY",
    "CompiledPolicy",
    "Decision",
    "Match",
    "compile_policy",
    "evaluate",
]

DecisionEffect = Literal["Allow", "Deny", "ImplicitDeny"]
_Matcher = Callable[[str], "re.Match[str] | None"]
_NO_CLAIMS: dict[str, object] = {}


@dataclass(frozen=True, slots=True)
class Match:
    """A statement whose Resource pattern matched the request."""

    effect: Effect
    pattern: str
    sid: str | None
    statement: int
    """Index of the statement in its document."""
    document: int | None = None
    """Index of the document in the list evaluated, when a list was evaluated."""
    label: str | None = None
    """Selector of the document (``group:admins``), when known."""

    def to_dict(self) -> dict[str, object]:
        return {
            "selector": self.label,
            "document": self.document,
            "statement": self.statement,
            "sid": self.sid,
            "effect": self.effect,
            "pattern": self.pattern,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one request and the statements that decided it."""

    allowed: bool
    effect: DecisionEffect
    statements: tuple[Match, ...] = ()


IMPLICIT_DENY = Decision(False, "ImplicitDeny", ())


def _never(_: str) -> None:
    return None


# Above this length a request is decided by regexes whose cost is linear in it
# (see ``wildcard.union``); API Gateway's own ARNs are far shorter.
LONG_ARN = 256

_Compiled = tuple[_Matcher, tuple[Decision, ...]]


def _shape(pattern: str) -> str:
    """Which wildcards the ARN's head (region, account, api id, stage) holds.

    Patterns of one shape share a regex. Mixing ``*`` and a literal at the
    same place under an earlier ``*`` would force the union regex to
    backtrack (or fall back to per-pattern scans); a few regexes, each with
    a uniform head, stay fast. This only partitions the work: each regex is
    exact for its own patterns.
    """
    fields = pattern.split(":", 5)
    if len(fields) < 6:
        return ""
    stage = fields[5].split("/", 2)[1:2]
    return "".join(
        "*" if part == "*" else ("w" if "*" in part or "?" in part else "l")
        for part in (fields[3], fields[4], fields[5].split("/", 1)[0], *stage)
    )


class _Side:
    """All patterns of one effect: a few regexes, one prepared Decision per group."""

    __slots__ = ("_by_pattern", "_effect", "_linear", "_singles", "regexes")

    def __init__(self, effect: Effect, entries: list[Match]) -> None:
        by_pattern: dict[str, list[Match]] = {}
        for m in entries:
            by_pattern.setdefault(normalize(m.pattern), []).append(m)
        self._effect = effect
        self._by_pattern = by_pattern
        shapes: dict[str, list[str]] = {}
        for key in by_pattern:
            shapes.setdefault(_shape(key), []).append(key)
        self.regexes = tuple(self._build(keys, None) for keys in shapes.values())
        self._linear: _Compiled | None = None
        self._singles: tuple[tuple[_Matcher, tuple[Match, ...]], ...] | None = None

    def _build(self, keys: list[str], backtracking: int | None) -> _Compiled:
        if not keys:
            return _never, (IMPLICIT_DENY,)
        source, groups = union(keys) if backtracking is None else union(keys, backtracking)
        allowed = self._effect == "Allow"
        # Index 0 is unused: group numbers start at 1.
        decisions = (
            IMPLICIT_DENY,
            *(
                Decision(
                    allowed,
                    self._effect,
                    tuple(m for i in ids for m in self._by_pattern[keys[i]]),
                )
                for ids in groups
            ),
        )
        return re.compile(source, re.DOTALL).fullmatch, decisions

    def linear(self) -> _Compiled:
        """One regex for very long inputs, linear in their length; built on first use."""
        if self._linear is None:
            self._linear = self._build(list(self._by_pattern), 0)
        return self._linear

    def every(self, arn: str) -> list[Match]:
        # Explanations are rare: per-pattern regexes are built on first use only.
        if self._singles is None:
            self._singles = tuple(
                (re.compile(to_regex(key), re.DOTALL).fullmatch, tuple(group))
                for key, group in self._by_pattern.items()
            )
        out: list[Match] = []
        for fullmatch, group in self._singles:
            if fullmatch(arn) is not None:
                out.extend(group)
        return out


class CompiledPolicy:
    """A document (or a union of documents) ready to decide requests quickly."""

    __slots__ = ("_allow", "_allows", "_denies", "_deny")

    def __init__(self, entries: Iterable[Match]) -> None:
        deny: list[Match] = []
        allow: list[Match] = []
        for m in entries:
            (deny if m.effect == "Deny" else allow).append(m)
        self._deny = _Side("Deny", deny)
        self._allow = _Side("Allow", allow)
        # Flattened for decide(), the hot path: no attribute chains there.
        self._denies = self._deny.regexes
        self._allows = self._allow.regexes

    def decide(self, method_arn: str) -> Decision:
        """Decision for one request; ``.statements`` are the first deciding pattern's."""
        if len(method_arn) > LONG_ARN:
            return self._decide_long(method_arn)
        for match, decisions in self._denies:
            m = match(method_arn)
            if m is not None:
                return decisions[m.lastindex or 0]
        for match, decisions in self._allows:
            m = match(method_arn)
            if m is not None:
                return decisions[m.lastindex or 0]
        return IMPLICIT_DENY

    def _decide_long(self, method_arn: str) -> Decision:
        for side in (self._deny, self._allow):
            match, decisions = side.linear()
            m = match(method_arn)
            if m is not None:
                return decisions[m.lastindex or 0]
        return IMPLICIT_DENY

    def matches(self, method_arn: str) -> tuple[list[Match], list[Match]]:
        """Every matching (Deny, Allow) statement, for explanations."""
        return self._deny.every(method_arn), self._allow.every(method_arn)


def entries(
    doc: PolicyDocument, *, document: int | None = None, label: str | None = None
) -> list[Match]:
    """One Match per (statement, effective resource) of ``doc`` that governs Invoke."""
    out: list[Match] = []
    for i, s in enumerate(doc.statements):
        if not s.invokes:
            continue
        for r in s.resources:
            pattern = resolve(r, s.effect, _NO_CLAIMS)
            if pattern is not None:
                out.append(Match(s.effect, pattern, s.sid, i, document, label))
    return out


def compile_policy(doc: PolicyDocument | Sequence[PolicyDocument]) -> CompiledPolicy:
    """Compile a document (cached on it) or the union of several (not cached)."""
    if isinstance(doc, PolicyDocument):
        compiled = doc._cache.get("compiled")
        if compiled is None:
            compiled = CompiledPolicy(entries(doc))
            doc._cache["compiled"] = compiled
        return compiled
    return CompiledPolicy(m for i, d in enumerate(doc) for m in entries(d, document=i))


def evaluate(
    doc_or_docs: PolicyDocument | CompiledPolicy | Sequence[PolicyDocument], method_arn: str
) -> Decision:
    """Decide ``method_arn`` against one document, a compiled policy, or the union of a list.

    For a list, Deny in any document wins over Allow in any other; the
    reported statements carry the index of their document.
    """
    if isinstance(doc_or_docs, CompiledPolicy):
        return doc_or_docs.decide(method_arn)
    if isinstance(doc_or_docs, PolicyDocument):
        return compile_policy(doc_or_docs).decide(method_arn)
    decisions = [compile_policy(d).decide(method_arn) for d in doc_or_docs]
    for wanted in ("Deny", "Allow"):
        for i, d in enumerate(decisions):
            if d.effect == wanted:
                return replace(d, statements=tuple(replace(m, document=i) for m in d.statements))
    return IMPLICIT_DENY
