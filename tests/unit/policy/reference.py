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
    # "." and ".." would be path segments that climb: never usable.
    return v if isinstance(v, str) and _OK_VALUE.match(v) and v not in (".", "..") else None


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


# --- the execute-api:/ shorthand, segment by segment --------------------------------

SHORTHAND = "execute-api:/"
REQUEST_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_REQUEST = re.compile(
    r"arn:(?:aws|aws-cn|aws-us-gov):execute-api:[a-z]{2}(?:-[a-z]+)+-[0-9]+:[0-9]{12}:"
    r"[A-Za-z0-9]+/(\$?[A-Za-z0-9_-]+)((?:/.*)?)",
    re.DOTALL,
)


def segment_match(resource: str, arn: str) -> bool | None:
    """Does the shorthand ``resource`` match ``arn``, read one segment at a time: its
    stage against the request's stage, its verb against the request's verb (a real
    HTTP verb), its path against the rest with IAM glob semantics? None when ``arn``
    names no concrete API and stage."""
    m = _REQUEST.fullmatch(arn)
    if m is None:
        return None
    stage, after = m.group(1), m.group(2)
    rest = resource[len(SHORTHAND) :]
    if rest == "*":
        return after.startswith("/")
    parts = rest.split("/", 2)
    if not naive_match(parts[0], stage):
        return False
    if len(parts) == 2:
        return after.startswith("/")
    pieces = after[1:].split("/", 1)
    if not after.startswith("/") or len(pieces) != 2:
        return False
    verb, path = pieces
    return verb in REQUEST_VERBS and naive_match(parts[1], verb) and scan_match(parts[2], path)


def resource_matches(effect: str, resource: str, arn: str) -> bool:
    """A full ARN by IAM glob; a shorthand segment-wise, failing closed when the
    request names no API and stage (a Deny matches, an Allow does not)."""
    if not resource.startswith(SHORTHAND):
        return scan_match(resource, arn)
    found = segment_match(resource, arn)
    return effect == "Deny" if found is None else found


def segment_effect(docs: Sequence[PolicyDocument], arn: str) -> str:
    """``naive_effect`` for documents that may hold shorthand resources."""
    effects = {
        s.effect
        for d in docs
        for s in d.statements
        for r in s.resources
        if resource_matches(s.effect, r, arn)
    }
    if "Deny" in effects:
        return "Deny"
    return "Allow" if "Allow" in effects else "ImplicitDeny"
