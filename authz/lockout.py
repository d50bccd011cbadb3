"""The lock-out guard: no write may cut the admin group off the admin API.

``DELETE /policies/group/authz-admins``, or a Deny added to ``default``, is
one request that denies every admin every admin route, including the
request that would undo it. Before such a write lands, the admin API and the
CLI ask this module which admin routes a principal whose only group is the
admin group could still reach, with the same effective-policy computation
the authorizer uses, before and after the write.

Only a write that makes things worse is refused: when admins are already
locked out of some routes, a write that loses no further route goes
through, so a fix can always be applied. Pure: no I/O; callers pass the
documents and the routes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from authz.errors import PolicyTooLargeError
from authz.policy.arn import FALLBACK_ARN_PREFIX, method_arn
from authz.policy.document import PolicyDocument
from authz.policy.evaluate import compile_policy
from authz.policy.selector import Selector, selectors_for
from authz.policy.shorthand import api_stage
from authz.service import effective_policy

__all__ = [
    "LockOut",
    "Route",
    "arn_prefix",
    "check_change",
    "check_write",
    "guarded_selectors",
    "routes_from_openapi",
    "unreachable_routes",
]

Route = tuple[str, str]
"""(VERB, a concrete path) of one admin route."""

# A principal needs some sub; these fill ``${sub}`` and ``${username}`` so a
# policy that scopes admin routes to the caller is judged as it would apply.
SAMPLE_SUB = "lockout-check"
SAMPLE_NAME = "sample"
_TEMPLATE = re.compile(r"\{([^}/]+)\}")


@dataclass(frozen=True, slots=True)
class LockOut:
    """A write refused because admins would lose these routes."""

    lost: tuple[Route, ...]

    @property
    def message(self) -> str:
        routes = ", ".join(f"{verb} {path}" for verb, path in self.lost)
        return (
            "this write would lock the admin group out of the admin API: a member of only "
            f"that group could no longer call {routes}; fix the policy, or force the write"
        )


def guarded_selectors(admin_group: str) -> tuple[Selector, ...]:
    """The selectors whose documents make up the admin principal's policy."""
    return selectors_for([admin_group], [])


def arn_prefix(region: str, account: str, api_id: str, stage: str) -> str:
    """``arn:aws:execute-api:{region}:{account}:{api}/{stage}``, or the fallback if invalid."""
    try:
        probe = method_arn(region, account, api_id, stage, "GET", "/")
    except ValueError:
        return FALLBACK_ARN_PREFIX
    return probe[: -len("/GET/")]


def routes_from_openapi(openapi: Mapping[str, Any], admin_group: str) -> tuple[Route, ...]:
    """Every operation of an OpenAPI document, its path templates filled with samples.

    ``{kind}`` takes every value its schema enumerates (so both the admin
    group's own policy and ``default`` are probed); other parameters take the
    admin group's name for a group, ``default`` for the default policy, and a
    sample otherwise.
    """
    out: list[Route] = []
    for template, operations in sorted(openapi.get("paths", {}).items()):
        for verb, operation in sorted(operations.items()):
            for values in _fillings(template, operation, admin_group):
                path = template
                for name, value in values.items():
                    path = path.replace("{" + name + "}", value)
                out.append((verb.upper(), path))
    return tuple(dict.fromkeys(out))


def _fillings(
    template: str, operation: Mapping[str, Any], admin_group: str
) -> list[dict[str, str]]:
    names = _TEMPLATE.findall(template)
    options: list[list[str]] = []
    for name in names:
        enum = _enum_of(operation, name)
        options.append(enum if enum else [SAMPLE_NAME])
    out: list[dict[str, str]] = []
    for combo in itertools.product(*options):
        values = dict(zip(names, combo, strict=True))
        if "name" in values:
            kind = values.get("kind")
            values["name"] = {"group": admin_group, "default": "default"}.get(kind or "", "sample")
        out.append(values)
    return out


def _enum_of(operation: Mapping[str, Any], name: str) -> list[str]:
    for param in operation.get("parameters", []):
        if param.get("in") == "path" and param.get("name") == name:
            enum = param.get("schema", {}).get("enum", [])
            return [str(v) for v in enum]
    return []


def unreachable_routes(
    docs: Mapping[Selector, PolicyDocument],
    admin_group: str,
    routes: Iterable[Route],
    prefix: str,
    max_bytes: int | None = None,
) -> tuple[Route, ...]:
    """The routes a member of only ``admin_group`` is not allowed to call.

    An effective policy over the authorizer's byte budget makes the
    authorizer fail closed, so then every route is unreachable.
    """
    wanted = {s: d for s, d in docs.items() if s in guarded_selectors(admin_group)}
    variables = {"sub": SAMPLE_SUB, "username": SAMPLE_SUB}
    routes = tuple(routes)
    try:
        # Expanded for the API and stage judged, as the authorizer expands
        # ``execute-api:/`` shorthand for the request it answers.
        policy = effective_policy(wanted, variables, max_bytes, api=api_stage(prefix))
        compiled = compile_policy(policy)
    except PolicyTooLargeError:
        return routes
    return tuple(r for r in routes if not compiled.decide(f"{prefix}/{r[0]}{r[1]}").allowed)


def check_write(
    before: Mapping[Selector, PolicyDocument],
    selector: Selector,
    after: PolicyDocument | None,
    *,
    admin_group: str,
    routes: Sequence[Route],
    prefix: str,
    max_bytes: int | None = None,
) -> LockOut | None:
    """A LockOut if writing ``after`` to ``selector`` (None: deleting it) loses admin routes."""
    changed = {s: d for s, d in before.items() if s != selector}
    if after is not None:
        changed[selector] = after
    return check_change(
        before, changed, admin_group=admin_group, routes=routes, prefix=prefix, max_bytes=max_bytes
    )


def check_change(
    before: Mapping[Selector, PolicyDocument],
    after: Mapping[Selector, PolicyDocument],
    *,
    admin_group: str,
    routes: Sequence[Route],
    prefix: str,
    max_bytes: int | None = None,
) -> LockOut | None:
    """A LockOut if the documents going from ``before`` to ``after`` lose admin routes.

    Routes already unreachable before do not count: a write that only fails
    to repair a lock-out is allowed, so the repair can come next.
    """
    lost_before = set(unreachable_routes(before, admin_group, routes, prefix, max_bytes))
    lost_after = unreachable_routes(after, admin_group, routes, prefix, max_bytes)
    newly = tuple(r for r in lost_after if r not in lost_before)
    return LockOut(newly) if newly else None
