"""The access matrix in the admin API: the routes of ``AUTHZ_ROUTES``, the stored
policies, and what a write does to the matrix (its ``impact``).

``AUTHZ_ROUTES`` is parsed when the admin app is built (the admin Lambda's
first invocation), so a typo fails that start with a ``ConfigError`` naming
the variable, like every other setting. Only the admin Lambda reads it: the
authorizer's cold path never imports the route readers (or PyYAML). A
relative file path resolves against the Lambda task root (``LAMBDA_TASK_ROOT``,
else the working directory). The Lambda package holds no PyYAML, so a bundled
route file there is ``.json`` (an OpenAPI export works) or ``.txt``.

The impact of a write is computed from reads made just before it: the written
policy and ``default`` read consistently, and for a write to ``default`` (which
is in every row) every stored policy. A write to a group or scope changes only
its own row, which needs nothing else. Those reads and the computation happen
before the write, so a failure in either leaves nothing written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from authz.errors import ConfigError
from authz.handlers.admin.models import ImpactOut
from authz.matrix import Route, RouteSourceError, SampleApi, impact, routes_from_setting
from authz.policy.document import PolicyDocument
from authz.policy.selector import DEFAULT, Selector
from authz.store.types import PolicyRecord, PolicyRepository

__all__ = [
    "ROUTES_NOT_SET",
    "Impact",
    "WriteView",
    "load_routes",
    "read_for_write",
    "stored_policies",
    "task_root",
    "write_impact",
]

_VARIABLE = "AUTHZ_ROUTES"
ROUTES_NOT_SET = (
    "AUTHZ_ROUTES is not set, so the admin API knows no routes to judge; the impact is not computed"
)
_PAGE = 100


def task_root(environ: Mapping[str, str] | None = None) -> Path:
    """Where a relative ``AUTHZ_ROUTES`` path starts: the Lambda task root, else the cwd."""
    env = os.environ if environ is None else environ
    root = (env.get("LAMBDA_TASK_ROOT") or "").strip()
    return Path(root) if root else Path.cwd()


def load_routes(value: str | None, base: Path) -> tuple[Route, ...] | None:
    """The routes ``AUTHZ_ROUTES`` names (None when unset); ConfigError when unreadable."""
    if value is None:
        return None
    try:
        routes = routes_from_setting(value, base)
    except RouteSourceError as exc:
        raise ConfigError(_VARIABLE, _where(exc)) from exc
    if not routes:
        # An OpenAPI document without operations: a matrix of nothing hides the mistake.
        raise ConfigError(_VARIABLE, f"{value.strip()!r} names no routes")
    return tuple(routes)


def _where(exc: RouteSourceError) -> str:
    if exc.source != _VARIABLE:
        return str(exc)  # the file, line and column already lead the message
    if exc.line is None:
        return exc.message
    return f"line {exc.line}, column {exc.column}: {exc.message}"


def stored_policies(repository: PolicyRepository) -> dict[str, PolicyDocument]:
    """Every live policy's document by selector text, all pages of the listing."""
    out: dict[str, PolicyDocument] = {}
    cursor: str | None = None
    while True:
        page = repository.list(limit=_PAGE, cursor=cursor)
        out.update((str(r.selector), r.document) for r in page.items)
        if page.cursor is None:
            return out
        cursor = page.cursor


@dataclass(frozen=True, slots=True)
class WriteView:
    """What a write to ``selector`` is judged against."""

    current: PolicyRecord | None
    """The written policy as stored now (a consistent read), None when absent."""
    policies: dict[str, PolicyDocument]
    """Every policy whose row the write can change, by selector text."""


def read_for_write(repository: PolicyRepository, selector: Selector) -> WriteView:
    wanted = list(dict.fromkeys((DEFAULT, selector)))
    found = repository.get_many(wanted)
    policies = stored_policies(repository) if selector == DEFAULT else {}
    # The listing is an index and may lag; the consistent read decides for these two.
    for s in wanted:
        policies.pop(str(s), None)
    policies.update((str(s), r.document) for s, r in found.items())
    return WriteView(found.get(selector), policies)


@dataclass(frozen=True, slots=True)
class Impact:
    """The ``impact`` and ``impact_notice`` fields of a write's answer."""

    changes: list[ImpactOut]
    notice: str | None = None


def write_impact(
    policies: Mapping[str, PolicyDocument],
    selector: Selector,
    after: PolicyDocument | None,
    routes: Sequence[Route],
    api: SampleApi,
) -> Impact:
    """The cells that change when ``selector`` becomes ``after`` (None: deleted)."""
    changed = dict(policies)
    if after is None:
        changed.pop(str(selector), None)
    else:
        changed[str(selector)] = after
    changes = impact(policies, changed, routes, api=api)
    return Impact([ImpactOut.model_validate(c.to_dict()) for c in changes])
