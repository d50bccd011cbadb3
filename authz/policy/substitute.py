"""Policy variables -> concrete resources, failing closed.

A value that cannot be used (missing, empty, wrong type, ``.`` or ``..``, or
a character outside ``[A-Za-z0-9._@+=,-]``) removes the Allow resources that need it and
widens the Deny resources that need it to ``*`` in its place. Either way the
variable can only take access away. Usable values contain no wildcard, so a
claim can never inject a pattern.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authz.policy.document import Effect, PolicyDocument, Statement
from authz.policy.variables import claim_key, scan, usable_value

__all__ = ["resolve", "substitute"]

_NO_CLAIMS: Mapping[str, Any] = {}


def resolve(resource: str, effect: Effect, claims: Mapping[str, Any]) -> str | None:
    """One resource with its variables replaced; None when an Allow resource must go."""
    if "${" not in resource:
        return resource
    spans, _ = scan(resource)
    out: list[str] = []
    pos = 0
    for start, end, name in spans:
        out.append(resource[pos:start])
        value = usable_value(claims.get(claim_key(name)))
        if value is None:
            if effect == "Allow":
                return None
            value = "*"
        out.append(value)
        pos = end
    out.append(resource[pos:])
    return "".join(out)


def substitute(doc: PolicyDocument, claims: Mapping[str, Any] = _NO_CLAIMS) -> PolicyDocument:
    """``doc`` with every policy variable resolved from ``claims`` (see module docstring).

    Allow statements left without resources are dropped; a document without
    variables is returned as is (keeping its compiled matcher).
    """
    if not doc.variables:
        return doc
    statements: list[Statement] = []
    for s in doc.statements:
        resources = tuple(
            r for r in (resolve(r, s.effect, claims) for r in s.resources) if r is not None
        )
        if not resources:
            continue
        if resources == s.resources:
            statements.append(s)
        else:
            statements.append(
                Statement(sid=s.sid, effect=s.effect, actions=s.actions, resources=resources)
            )
    return PolicyDocument(tuple(statements), doc.version)
