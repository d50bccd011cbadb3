"""Independent, deliberately naive reference implementations the engine is checked against.

Nothing here shares code with ``authz.policy``: wildcard matching is a
memoised recursion over the IAM definition, substitution is plain text
replacement, and evaluation walks every statement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from authz.policy import PolicyDocument

_VARIABLE = re.compile(r"\$\{(sub|username|client_id|claim:[A-Za-z0-9_:.-]+)\}")
_OK_VALUE = re.compile(r"^[A-Za-z0-9._@+=,-]+$")


def naive_match(pattern: str, text: str) -> bool:
    """``*`` any run (possibly empty), ``?`` exactly one character, the rest literal."""

    @cache
    def m(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(text)
        if pattern[i] == "*":
            return m(i + 1, j) or (j < len(text) and m(i, j + 1))
        if j == len(text):
            return False
        return (pattern[i] == "?" or pattern[i] == text[j]) and m(i + 1, j + 1)

    return m(0, 0)


def scan_match(pattern: str, text: str) -> bool:
    """The standard library's glob matcher, with ``[`` made literal as IAM has no classes.

    Fast enough for ARN-sized inputs in bulk; the suite checks it against
    ``naive_match`` so the two oracles vouch for each other.
    """
    return fnmatchcase(text, pattern.replace("[", "[[]"))


def naive_effect(docs: Sequence[PolicyDocument], arn: str) -> str:
    """IAM's order by brute force: any Deny match, else any Allow match, else implicit."""
    effects = {
        s.effect for d in docs for s in d.statements for r in s.resources if scan_match(r, arn)
    }
    if "Deny" in effects:
        return "Deny"
    return "Allow" if "Allow" in effects else "ImplicitDeny"


def _value(claims: Mapping[str, Any], name: str) -> str | None:
    key = name.split(":", 1)[1] if name.startswith("claim:") else name
    v = claims.get(key)
    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)
    return v if isinstance(v, str) and _OK_VALUE.match(v) else None


def plain_replace(doc: PolicyDocument, claims: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(effect, resource) pairs with every variable replaced as text (claims must be usable)."""
    out = []
    for s in doc.statements:
        for r in s.resources:
            text = r
            for name in set(_VARIABLE.findall(r)):
                text = text.replace("${" + name + "}", str(_value(claims, name)))
            out.append((s.effect, text))
    return out


def fail_closed(doc: PolicyDocument, claims: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(effect, resource) pairs: unusable variables drop Allow resources and widen Deny ones."""
    out = []
    for s in doc.statements:
        for r in s.resources:
            names = set(_VARIABLE.findall(r))
            bad = {n for n in names if _value(claims, n) is None}
            if bad and s.effect == "Allow":
                continue
            text = r
            for name in names:
                value = _value(claims, name)
                text = text.replace("${" + name + "}", "*" if value is None else value)
            out.append((s.effect, text))
    return out


def pairs_effect(pairs: Sequence[tuple[str, str]], arn: str) -> str:
    effects = {e for e, r in pairs if scan_match(r, arn)}
    if "Deny" in effects:
        return "Deny"
    return "Allow" if "Allow" in effects else "ImplicitDeny"
