"""Pure helpers: a principal's effective policy and the ``policyDocument`` API Gateway gets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from authz.cache import BoundedMap
from authz.policy import (
    ApiStage,
    PolicyDocument,
    Selector,
    api_stage,
    compact,
    expand,
    merge,
    substitute,
)
from authz.policy.document import VERSION
from authz.policy.evaluate import MAX_APIS
from authz.policy.variables import claim_key, usable_value

__all__ = [
    "DENY_ALL_RESOURCE",
    "api_of",
    "deny_all_policy",
    "effective_policy",
    "fixed_patterns",
    "response_policy",
    "values_of",
    "variables_read",
]

DENY_ALL_RESOURCE = "arn:aws:execute-api:*:*:*"


def deny_all_policy() -> dict[str, Any]:
    """An explicit Deny of every execute-api route: what a principal that no
    statement allows gets, so API Gateway caches a 403 for every route."""
    return {
        "Version": VERSION,
        "Statement": [
            {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": DENY_ALL_RESOURCE}
        ],
    }


def response_policy(document: PolicyDocument) -> dict[str, Any]:
    """The ``policyDocument`` for API Gateway: ``document`` itself, or the
    explicit deny-all when it allows nothing (an empty Statement is invalid)."""
    if any(s.effect == "Allow" and s.invokes for s in document.statements):
        return document.to_dict()
    return deny_all_policy()


def effective_policy(
    docs: Mapping[Selector, PolicyDocument],
    variables: Mapping[str, Any],
    max_bytes: int | None = None,
    api: ApiStage | None = None,
) -> PolicyDocument:
    """The one document a principal gets at ``api``: each selector's document
    with its shorthand resources expanded for ``api`` and the principal's
    variables substituted, merged, then compacted.

    ``variables`` is what ``Principal.variables()`` returns (claims plus
    ``sub``, ``username``, ``client_id``). Decisions equal those of the
    substituted documents together for every request of ``api`` (the API and
    stage the returned policy is for). Without ``api`` shorthand resources
    are kept as written (``evaluate`` expands them per request). Raises
    PolicyTooLargeError when the compacted document's JSON exceeds ``max_bytes``.
    """
    sources = _sources([docs[s] for s in sorted(docs)], api)
    substituted = [substitute(d, variables) for d in sources]
    return compact(merge(substituted), max_bytes=max_bytes)


def fixed_patterns(docs: Iterable[PolicyDocument], api: ApiStage | None) -> frozenset[str]:
    """The resources of ``docs`` at ``api`` that hold no policy variable: the
    same in every principal's effective policy built from them, so
    ``compile_shared`` compiles them once for all of those policies."""
    return frozenset(
        r for d in _sources(docs, api) for s in d.statements for r in s.resources if "${" not in r
    )


def _sources(docs: Iterable[PolicyDocument], api: ApiStage | None) -> list[PolicyDocument]:
    """``docs`` expanded for ``api`` (as they are without one).

    Expanded before substitution, so that compaction only compares full ARNs
    and each stored document is expanded once per API and stage, its patterns
    then being one set of strings for every principal. The order changes
    nothing: a variable may appear only in the path, which expansion copies
    as written.
    """
    if api is None:
        return list(docs)
    return [_expanded(d, api) for d in docs]


def _expanded(doc: PolicyDocument, api: ApiStage) -> PolicyDocument:
    if not doc.shorthand:
        return doc
    done: BoundedMap[ApiStage, PolicyDocument] = doc.memo("expanded", lambda: BoundedMap(MAX_APIS))
    found = done.get(api)
    if found is None:
        found = done[api] = expand(doc, api)
    return found


def api_of(key: str, docs: Iterable[PolicyDocument]) -> ApiStage | None:
    """The API and stage to expand for; ValueError when shorthand needs one
    and the methodArn names none (no policy is built, the handler answers 500)."""
    api = api_stage(key)
    if api is None and any(d.shorthand for d in docs):
        raise ValueError(
            f"methodArn {key!r} names no API and stage to expand execute-api:/ resources for"
        )
    return api


def variables_read(docs: Iterable[PolicyDocument]) -> tuple[str, ...]:
    """The policy variables ``docs`` read, sorted: part of the effective cache key."""
    return tuple(sorted({name for d in docs for name in d.variables}))


def values_of(names: tuple[str, ...], variables: Mapping[str, Any]) -> tuple[str | None, ...]:
    """Exactly what substitution will see for ``names``: the usable text or None
    (fail closed), so two principals with equal values get equal effective policies."""
    return tuple(usable_value(variables.get(claim_key(n))) for n in names)
