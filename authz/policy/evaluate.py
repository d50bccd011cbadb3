"""Decisions: explicit Deny wins, then Allow, else implicit deny (IAM's order).

A document compiles once into at most two regexes, one alternation per
effect with one capturing group per distinct pattern, so a decision is one or
two ``fullmatch`` calls and a tuple lookup by ``lastindex``; the Decision
objects themselves are built at compile time. Only the first matching pattern
of the deciding effect is reported (``explain`` lists every match).

The regexes are fast for ordinary requests but backtrack: a ``*`` followed
by diverging patterns that hold more ``*`` is retried at every place it may
stop. A request that gives such a ``*`` many places to stop (counted per
request, one ``str.count`` per character that can end it), a request longer
than ``LONG_ARN``, and every request to a policy whose regexes would retry
many scans under such a ``*`` (``UnionRegex.unbounded``, known at compile
time) are decided by ``globset.GlobSet`` (RE2) instead, whose cost is linear
in the request. Both decide identically; only the reported statement
may differ when several patterns match.

Many principals' effective policies differ only in the few patterns their
policy variables produced (``${sub}``). ``compile_shared`` compiles the
patterns they have in common once and shares them; the rest, a principal's
own, are matched one at a time by ``wildcard.star_match``, which needs no
regex (IAM's order still holds across both parts: any Deny, then any Allow).

Resources still holding policy variables are compiled as ``substitute`` with
no claims would leave them (Allow removed, Deny widened), so evaluating an
unsubstituted document fails closed instead of matching ``${sub}`` literally.

Shorthand resources (``execute-api:/{stage}/{VERB}/{path}``) are expanded
for the API and stage of each request, exactly as the authorizer expands
them before returning a policy, so a stored document decides here as its
expansion does there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from authz.cache import BoundedMap
from authz.policy.decision import IMPLICIT_DENY, Decision, Match
from authz.policy.document import Effect, PolicyDocument
from authz.policy.shorthand import ApiStage, api_stage, api_stage_key, expand_resource, is_shorthand
from authz.policy.substitute import resolve
from authz.policy.wildcard import build_union, normalize, star_match, to_regex

if TYPE_CHECKING:
    from authz.policy.globset import GlobSet

__all__ = [
    "LONG_ARN",
    "MAX_APIS",
    "MAX_OWN_PATTERNS",
    "MAX_SPLITS",
    "CommonParts",
    "CompiledPolicy",
    "compile_policy",
    "compile_shared",
    "evaluate",
]

_Matcher = Callable[[str], "re.Match[str] | None"]
_NO_CLAIMS: dict[str, object] = {}


# Above this length a request is decided by the linear matcher (``GlobSet``);
# API Gateway's own ARNs are far shorter.
LONG_ARN = 256

# How many places a backtracking ``*`` may try before the regexes are not
# trusted with a request: the regex then costs up to this many linear scans,
# which stays below the linear matcher's fixed cost per pattern. Ordinary
# paths hold a handful of ``/``; ``a/a/a/...`` holds one per two characters.
MAX_SPLITS = 12

# One union regex's fullmatch and the Decision for each of its groups.
_UnionMatcher = tuple[_Matcher, tuple[Decision, ...]]

# How one part of an ARN's head is written (see ``_head_form``).
_PartForm = Literal["star", "wildcard", "literal"]


def _part_form(part: str) -> _PartForm:
    if part == "*":
        return "star"
    return "wildcard" if "*" in part or "?" in part else "literal"


def _head_form(pattern: str) -> tuple[_PartForm, ...]:
    """How each part of the ARN's head (region, account, API id, stage) is written.

    Patterns whose heads have the same form share a regex. Mixing ``*`` and a
    literal at the same place under an earlier ``*`` would force the union
    regex to backtrack (or fall back to per-pattern scans); a few regexes,
    each with a uniform head, stay fast. This only partitions the work: each
    regex is exact for its own patterns. ``()`` for ``*`` and other patterns
    that are not a full ARN.
    """
    fields = pattern.split(":", 5)
    if len(fields) < 6:
        return ()
    api_id, *rest = fields[5].split("/", 2)
    stage = rest[:1]
    return tuple(_part_form(part) for part in (fields[3], fields[4], api_id, *stage))


class _EffectPatterns:
    """All patterns of one effect: a few union regexes, one prepared Decision per group,
    and, built on first use, the linear-time matcher and one regex per pattern."""

    __slots__ = (
        "_by_pattern",
        "_effect",
        "_linear",
        "_per_pattern",
        "regexes",
        "split_chars",
        "unbounded",
    )

    def __init__(self, effect: Effect, entries: list[Match]) -> None:
        by_pattern: dict[str, list[Match]] = {}
        for m in entries:
            by_pattern.setdefault(normalize(m.pattern), []).append(m)
        self._effect = effect
        self._by_pattern = by_pattern
        by_form: dict[tuple[_PartForm, ...], list[str]] = {}
        for key in by_pattern:
            by_form.setdefault(_head_form(key), []).append(key)
        self.split_chars: frozenset[str] = frozenset()
        self.unbounded = False
        self.regexes = tuple(self._union(keys) for keys in by_form.values())
        self._linear: tuple[GlobSet, tuple[Decision, ...]] | None = None
        self._per_pattern: tuple[tuple[_Matcher, tuple[Match, ...]], ...] | None = None

    def _decision(self, keys: Iterable[str]) -> Decision:
        matched = tuple(m for key in keys for m in self._by_pattern[key])
        return Decision(self._effect == "Allow", self._effect, matched)

    def _union(self, keys: list[str]) -> _UnionMatcher:
        built = build_union(keys)
        self.split_chars |= built.split_chars
        self.unbounded = self.unbounded or built.unbounded
        # Index 0 is unused: group numbers start at 1.
        decisions = (
            IMPLICIT_DENY,
            *(self._decision(keys[i] for i in ids) for ids in built.groups),
        )
        return re.compile(built.source, re.DOTALL).fullmatch, decisions

    def first(self, arn: str) -> Decision | None:
        """The Decision of the first pattern the regexes find matching ``arn``."""
        for fullmatch, decisions in self.regexes:
            m = fullmatch(arn)
            if m is not None:
                return decisions[m.lastindex or 0]
        return None

    def first_linear(self, arn: str) -> Decision | None:
        """``first`` by the linear-time matcher."""
        globs, decisions = self.linear()
        i = globs.first(arn)
        return None if i is None else decisions[i]

    def linear(self) -> tuple[GlobSet, tuple[Decision, ...]]:
        """The linear-time matcher and one Decision per pattern; built on first use."""
        if self._linear is None:
            # Imported on first use: most containers never see a request
            # that needs it, and it stays off the cold start.
            from authz.policy.globset import GlobSet  # noqa: PLC0415

            keys = list(self._by_pattern)
            self._linear = GlobSet(keys), tuple(self._decision((k,)) for k in keys)
        return self._linear

    def all_matches(self, arn: str) -> list[Match]:
        """Every Match whose pattern matches ``arn``."""
        # Explanations are rare: per-pattern regexes are built on first use only.
        if self._per_pattern is None:
            self._per_pattern = tuple(
                (re.compile(to_regex(key), re.DOTALL).fullmatch, tuple(group))
                for key, group in self._by_pattern.items()
            )
        out: list[Match] = []
        for fullmatch, group in self._per_pattern:
            if fullmatch(arn) is not None:
                out.extend(group)
        return out


class CompiledPolicy:
    """A document (or a union of documents) ready to decide requests quickly."""

    __slots__ = ("_allow", "_deny", "_regex_max_length", "_regexes", "_split_chars")

    def __init__(self, entries: Iterable[Match]) -> None:
        deny: list[Match] = []
        allow: list[Match] = []
        for m in entries:
            (deny if m.effect == "Deny" else allow).append(m)
        self._deny = _EffectPatterns("Deny", deny)
        self._allow = _EffectPatterns("Allow", allow)
        # Every Deny regex before any Allow one: an explicit Deny wins.
        self._regexes = self._deny.regexes + self._allow.regexes
        self._split_chars = tuple(sorted(self._deny.split_chars | self._allow.split_chars))
        # A policy whose regexes the split count cannot bound sends every
        # request to the linear matcher: no request is short enough.
        unbounded = self._deny.unbounded or self._allow.unbounded
        self._regex_max_length = -1 if unbounded else LONG_ARN

    def uses_linear(self, method_arn: str) -> bool:
        """Would ``decide`` hand this request to the linear matcher (see the module docstring)?"""
        if len(method_arn) > self._regex_max_length:
            return True
        splits = 0
        for c in self._split_chars:
            splits += method_arn.count(c)
        return splits > MAX_SPLITS

    def decide(self, method_arn: str) -> Decision:
        """Decision for one request; ``.statements`` are the first deciding pattern's."""
        if self.uses_linear(method_arn):
            return self.decide_linear(method_arn)
        for fullmatch, decisions in self._regexes:
            m = fullmatch(method_arn)
            if m is not None:
                return decisions[m.lastindex or 0]
        return IMPLICIT_DENY

    def decide_linear(self, method_arn: str) -> Decision:
        """``decide`` by the linear-time matcher alone, whatever the request."""
        for side in (self._deny, self._allow):
            found = side.first_linear(method_arn)
            if found is not None:
                return found
        return IMPLICIT_DENY

    def matches(self, method_arn: str) -> tuple[list[Match], list[Match]]:
        """Every matching (Deny, Allow) statement, for explanations."""
        return self._deny.all_matches(method_arn), self._allow.all_matches(method_arn)


# Distinct APIs and stages one document remembers its expansion (and compiled
# form) for; beyond that the least recently used is dropped (only recomputed).
MAX_APIS = 64


def _expanded(shorthand: list[Match], api: ApiStage | None) -> list[Match]:
    """The full-ARN entries the shorthand ones stand for at ``api``.

    A request that names no API and stage gets no shorthand Allow and every
    shorthand Deny as ``*``: like an unusable policy variable, what cannot
    be read can only take access away.
    """
    out: list[Match] = []
    for m in shorthand:
        if api is None:
            if m.effect == "Deny":
                out.append(Match(m.effect, "*", m.sid, m.statement, m.document, m.label))
            continue
        out.extend(
            Match(m.effect, p, m.sid, m.statement, m.document, m.label)
            for p in expand_resource(m.pattern, api)
        )
    return out


class _PerApiPolicy(CompiledPolicy):
    """A policy with shorthand resources: expanded for the API and stage of each
    request, and compiled once per API and stage (as the authorizer does)."""

    __slots__ = ("_by_api", "_full", "_shorthand")

    def __init__(self, full: list[Match], shorthand: list[Match]) -> None:
        self._full = full
        self._shorthand = shorthand
        self._by_api: BoundedMap[str, CompiledPolicy] = BoundedMap(MAX_APIS)

    def _at(self, method_arn: str) -> CompiledPolicy:
        key = api_stage_key(method_arn)
        found = self._by_api.get(key)
        if found is None:
            found = CompiledPolicy([*self._full, *_expanded(self._shorthand, api_stage(key))])
            self._by_api[key] = found
        return found

    def decide(self, method_arn: str) -> Decision:
        return self._at(method_arn).decide(method_arn)

    def uses_linear(self, method_arn: str) -> bool:
        return self._at(method_arn).uses_linear(method_arn)

    def decide_linear(self, method_arn: str) -> Decision:
        return self._at(method_arn).decide_linear(method_arn)

    def matches(self, method_arn: str) -> tuple[list[Match], list[Match]]:
        return self._at(method_arn).matches(method_arn)


# A principal's own patterns are matched one at a time by ``star_match`` up to
# this many; a policy with more, or with a ``?`` among them, is compiled whole
# by ``compile_policy`` instead, its union regex being faster then.
MAX_OWN_PATTERNS = 8


class CommonParts:
    """The common parts ``compile_shared`` compiled, kept for the next policy
    that has the same entries: at most ``max_entries``, the least recently
    used dropped first (then only its sharing is lost). Keyed by content, so
    an entry is never stale."""

    def __init__(self, max_entries: int) -> None:
        self._parts: BoundedMap[tuple[Match, ...], CompiledPolicy] = BoundedMap(max_entries)

    def get(self, entries: tuple[Match, ...]) -> CompiledPolicy:
        """The compiled policy of exactly ``entries``, compiled on first use."""
        part = self._parts.get(entries)
        if part is None:
            part = self._parts[entries] = CompiledPolicy(entries)
        return part

    def clear(self) -> None:
        self._parts.clear()

    def __len__(self) -> int:
        return len(self._parts)


class _OwnPatterns:
    """A few patterns of one effect, each with its prepared Decision, matched
    without a regex: those without ``*`` by one dict lookup, the others one
    at a time by ``star_match``."""

    __slots__ = ("_exact", "_starred")

    def __init__(self, effect: Effect, entries: Iterable[Match]) -> None:
        """``entries`` are all of ``effect``."""
        by_pattern: dict[str, list[Match]] = {}
        for m in entries:
            by_pattern.setdefault(normalize(m.pattern), []).append(m)
        decisions = {
            key: Decision(effect == "Allow", effect, tuple(group))
            for key, group in by_pattern.items()
        }
        self._exact = {k: d for k, d in decisions.items() if "*" not in k}
        # With the length of the literal head: most requests fail on it, cheaply.
        self._starred = tuple((k, k.find("*"), d) for k, d in decisions.items() if "*" in k)

    def first(self, arn: str) -> Decision | None:
        found = self._exact.get(arn)
        if found is not None:
            return found
        for pattern, head, decision in self._starred:
            if arn.startswith(pattern[:head]) and star_match(pattern, arn):
                return decision
        return None

    def all_matches(self, arn: str) -> list[Match]:
        found = self._exact.get(arn)
        out = list(found.statements) if found is not None else []
        for pattern, _, decision in self._starred:
            if star_match(pattern, arn):
                out.extend(decision.statements)
        return out


_NO_OWN_PATTERNS = _OwnPatterns("Deny", ())


def _own_patterns(effect: Effect, own: list[Match]) -> _OwnPatterns:
    mine = [m for m in own if m.effect == effect]
    return _OwnPatterns(effect, mine) if mine else _NO_OWN_PATTERNS


class _SharedPolicy(CompiledPolicy):
    """A common part, compiled once and shared by every policy that has exactly
    its entries, and this policy's own patterns (see ``compile_shared``).

    A Deny of either part wins over an Allow of either. The own patterns never
    backtrack, so only the common part's regexes decide whether a request
    takes the linear-time matcher.
    """

    __slots__ = ("_common", "_own_allow", "_own_deny")

    def __init__(self, common: CompiledPolicy, own: list[Match]) -> None:
        self._common = common
        self._own_deny = _own_patterns("Deny", own)
        self._own_allow = _own_patterns("Allow", own)

    # A Decision is always true, so ``or`` goes on to the next part only on None.

    def decide(self, method_arn: str) -> Decision:
        common = self._common
        if common.uses_linear(method_arn):
            return self.decide_linear(method_arn)
        return (
            common._deny.first(method_arn)
            or self._own_deny.first(method_arn)
            or common._allow.first(method_arn)
            or self._own_allow.first(method_arn)
            or IMPLICIT_DENY
        )

    def uses_linear(self, method_arn: str) -> bool:
        return self._common.uses_linear(method_arn)

    def decide_linear(self, method_arn: str) -> Decision:
        common = self._common
        return (
            common._deny.first_linear(method_arn)
            or self._own_deny.first(method_arn)
            or common._allow.first_linear(method_arn)
            or self._own_allow.first(method_arn)
            or IMPLICIT_DENY
        )

    def matches(self, method_arn: str) -> tuple[list[Match], list[Match]]:
        deny, allow = self._common.matches(method_arn)
        deny += self._own_deny.all_matches(method_arn)
        allow += self._own_allow.all_matches(method_arn)
        return deny, allow


def _compiled(found: Iterable[Match]) -> CompiledPolicy:
    full: list[Match] = []
    shorthand: list[Match] = []
    for m in found:
        (shorthand if is_shorthand(m.pattern) else full).append(m)
    return _PerApiPolicy(full, shorthand) if shorthand else CompiledPolicy(full)


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
        return doc.memo("compiled", lambda: _compiled(entries(doc)))
    return _compiled(m for i, d in enumerate(doc) for m in entries(d, document=i))


def compile_shared(
    doc: PolicyDocument, common: Container[str], parts: CommonParts
) -> CompiledPolicy:
    """``compile_policy(doc)`` for one of many documents that share most patterns.

    The entries whose pattern is in ``common`` (the resources without policy
    variables of the documents ``doc`` was built from) are compiled once per
    distinct set of entries, kept in ``parts``, and shared by every document
    that has that set; the others, the patterns a principal's variables
    produced, are matched on their own without a regex, so a new principal
    compiles nothing and keeps no regex of its own. Decides exactly as
    ``compile_policy(doc)``; the result is not remembered on ``doc``.
    """
    found = entries(doc)
    own = [m for m in found if m.pattern not in common]
    if (
        len(own) > MAX_OWN_PATTERNS
        or any("?" in m.pattern for m in own)
        or any(is_shorthand(m.pattern) for m in found)
    ):
        return _compiled(found)
    part = parts.get(tuple(m for m in found if m.pattern in common))
    return _SharedPolicy(part, own) if own else part


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
