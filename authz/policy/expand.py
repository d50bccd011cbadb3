"""A document's shorthand resources expanded for one API and stage.

Expansion happens before merge and compact, so compaction only ever
compares full ARNs. The result decides every request of that API and stage
as the shorthand does (``authz.policy.shorthand``), and only those: it is
the policy returned for, and cached per, one API and stage.
"""

from __future__ import annotations

from authz.policy.document import PolicyDocument, Statement
from authz.policy.shorthand import ApiStage, expand_resource, is_shorthand

__all__ = ["expand"]


def _resources(resources: tuple[str, ...], api: ApiStage) -> tuple[str, ...]:
    out: list[str] = []
    for r in resources:
        out.extend(expand_resource(r, api) if is_shorthand(r) else (r,))
    return tuple(dict.fromkeys(out))


def expand(doc: PolicyDocument, api: ApiStage) -> PolicyDocument:
    """``doc`` with every shorthand resource replaced by the full ARNs it stands
    for at ``api``; a statement left without resources (its stages are all
    other ones) is dropped. A document without shorthand is returned as is."""
    if not doc.shorthand:
        return doc
    statements: list[Statement] = []
    for s in doc.statements:
        resources = _resources(s.resources, api)
        if resources == s.resources:
            statements.append(s)
        elif resources:
            statements.append(
                Statement(sid=s.sid, effect=s.effect, actions=s.actions, resources=resources)
            )
    return PolicyDocument(tuple(statements), doc.version)
