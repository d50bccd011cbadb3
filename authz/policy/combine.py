"""merge (union of documents) and compact (same decisions, fewer bytes).

Both keep every decision exactly, including whether a refusal is an explicit
Deny or an implicit one: ``compact`` only drops a pattern when another
pattern that is kept provably matches everything it matches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from authz.errors import PolicyTooLargeError
from authz.policy.document import INVOKE, Effect, PolicyDocument, Statement
from authz.policy.shorthand import is_shorthand
from authz.policy.variables import scan
from authz.policy.wildcard import Cover, normalize

__all__ = ["compact", "json_size", "merge"]

_EFFECT_ORDER = {"Deny": 0, "Allow": 1}


def _key(s: Statement) -> tuple[int, str, tuple[str, ...], tuple[str, ...]]:
    return (_EFFECT_ORDER[s.effect], s.sid or "", s.actions, s.resources)


def merge(docs: Iterable[PolicyDocument]) -> PolicyDocument:
    """One document deciding every request as the list of ``docs`` together does.

    The output is canonical (sorted, identical statements once), so the same
    set of documents in any order gives an equal document. A Sid used by
    different statements of different documents is dropped from them, keeping
    Sids unique as ``from_dict`` requires.
    """
    unique = {s for d in docs for s in d.statements}
    owners: dict[str, int] = {}
    for s in unique:
        if s.sid is not None:
            owners[s.sid] = owners.get(s.sid, 0) + 1
    cleaned = {
        s
        if s.sid is None or owners[s.sid] == 1
        else Statement(effect=s.effect, actions=s.actions, resources=s.resources)
        for s in unique
    }
    return PolicyDocument(tuple(sorted(cleaned, key=_key)))


def _general(pattern: str) -> str:
    """The pattern with each variable read as ``*``: it matches whatever any
    substitution of the original (including a Deny widened by one) can match."""
    spans, _ = scan(pattern)
    if not spans:
        return pattern
    out: list[str] = []
    pos = 0
    for start, end, _name in spans:
        out.append(pattern[pos:start])
        out.append("*")
        pos = end
    out.append(pattern[pos:])
    return "".join(out)


def _comparable(pattern: str) -> bool:
    # A shorthand's text is not what it matches (its stage and verb are one
    # segment each, expanded per API), so textual coverage says nothing about
    # it: shorthand resources are kept and cover nothing. Expanding first
    # (``authz.policy.expand``) leaves only full ARNs to compare.
    return "${" not in pattern and not is_shorthand(pattern)


def _prune(candidates: list[str], covers: list[str]) -> list[str]:
    """Drop every candidate that a remaining candidate, or one of ``covers``, subsumes.

    Removal is one at a time against the patterns still present, so every
    dropped pattern is covered by a chain ending in a kept one; mutual
    coverage (equal languages) can therefore never remove both. The longest
    patterns go first, so of two equivalent spellings the shorter stays, and
    the sorted input makes the result independent of input order. Patterns
    with variables never cover others (their values are unknown here) but are
    themselves covered through their most general reading. Shorthand
    resources are neither covered nor cover (see ``_comparable``).
    """
    present = sorted(set(candidates), key=lambda p: (len(p), p), reverse=True)
    fixed = [Cover(c) for c in set(covers) if _comparable(c)]
    # Candidates still present that may cover others, by pattern.
    coverers = {p: Cover(p) for p in present if _comparable(p)}
    remaining = set(present)
    for p in present:
        if is_shorthand(p):
            continue
        general = normalize(_general(p))
        if any(c.covers(general) for c in fixed) or any(
            k != p and c.covers(general) for k, c in coverers.items()
        ):
            remaining.discard(p)
            coverers.pop(p, None)
    return sorted(remaining)


def compact(doc: PolicyDocument, max_bytes: int | None = None) -> PolicyDocument:
    """At most one Deny and one Allow statement, redundant patterns removed.

    Decisions (Allow, Deny, ImplicitDeny) are identical for every request.
    Sids are dropped; explain works from the uncompacted documents. Raises
    PolicyTooLargeError when ``max_bytes`` is given and the compact JSON of the
    result is still larger.
    """
    by_effect: dict[Effect, list[str]] = {"Deny": [], "Allow": []}
    for s in doc.statements:
        if s.invokes:
            by_effect[s.effect].extend(s.resources)
    deny = _prune(by_effect["Deny"], [])
    allow = _prune(by_effect["Allow"], deny)
    sides: tuple[tuple[Effect, list[str]], ...] = (("Deny", deny), ("Allow", allow))
    statements = tuple(
        Statement(effect=effect, actions=(INVOKE,), resources=tuple(resources))
        for effect, resources in sides
        if resources
    )
    out = PolicyDocument(statements)
    if max_bytes is not None:
        size = json_size(out)
        if size > max_bytes:
            raise PolicyTooLargeError(size, max_bytes)
    return out


def json_size(doc: PolicyDocument) -> int:
    """Bytes of the document as compact JSON, the form an authorizer returns."""
    return len(json.dumps(doc.to_dict(), separators=(",", ":")).encode())
