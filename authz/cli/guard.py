"""The CLI's side of the guard rails: resource warnings and the lock-out guard.

Warnings are printed as ``file: JSON.path: warning: ...`` with the JSON path
as the file spells it (``Statement.Resource`` for a lone statement and a
string resource). The lock-out guard judges the admin API's routes, taken
from the admin API's own OpenAPI document, at the methodArn ``authz
simulate`` assumes (configured region, account ``000000000000``, API and
stage ``local``): admin policies are meant to work on every deployment.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from rich.markup import escape

from authz.cli.common import Runtime, err_console
from authz.lockout import LockOut, Route, arn_prefix, check_change, routes_from_openapi
from authz.policy.arn import FALLBACK_ACCOUNT, FALLBACK_API, FALLBACK_STAGE
from authz.policy.document import PolicyDocument
from authz.policy.lint import PolicyWarning, resource_warnings
from authz.policy.selector import Selector
from authz.store.files import PolicyFile

__all__ = ["file_warnings", "lock_out", "print_warnings", "warnings_json"]


def file_warnings(file: PolicyFile) -> list[PolicyWarning]:
    """The document's warnings, their paths as written in the file."""
    found = resource_warnings(file.document)
    if not found:
        return found
    try:
        raw: Any = json.loads(file.file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return found
    return [_as_written(raw, w) for w in found]


def _as_written(raw: Any, warning: PolicyWarning) -> PolicyWarning:
    # Canonical paths are Statement[i].Resource[j]; a file may hold a lone
    # statement object or a string resource, and the path must point there.
    head, _, tail = warning.path.partition(".")
    i = int(head[len("Statement[") : -1])
    statements = raw.get("Statement") if isinstance(raw, Mapping) else None
    statement = statements if isinstance(statements, Mapping) else None
    if isinstance(statements, list) and i < len(statements):
        statement = statements[i]
    if not isinstance(statement, Mapping):
        return warning
    head = "Statement" if isinstance(statements, Mapping) else head
    tail = "Resource" if isinstance(statement.get("Resource"), str) else tail
    return PolicyWarning(f"{head}.{tail}", warning.message, warning.request, warning.method_arn)


def print_warnings(files: Iterable[PolicyFile]) -> int:
    """Print every warning of ``files`` to stderr; how many there were."""
    count = 0
    for file in files:
        for w in file_warnings(file):
            count += 1
            err_console.print(
                f"{escape(str(file.file))}: {escape(w.path)}: [yellow]warning:[/] "
                f"{escape(w.message)}"
            )
    return count


def warnings_json(files: Iterable[PolicyFile]) -> list[dict[str, str]]:
    return [{"file": str(f.file), **w.to_dict()} for f in files for w in file_warnings(f)]


def _admin_routes(runtime: Runtime) -> tuple[Route, ...]:
    # Powertools loads only when a write touches the admin principal's policy.
    from authz.handlers.admin.app import build_app  # noqa: PLC0415

    app = build_app(runtime.settings, runtime.repository, flusher=lambda _api, _stage: None)
    return routes_from_openapi(app.openapi(), runtime.settings.admin_group)


def lock_out(
    runtime: Runtime,
    before: Mapping[Selector, PolicyDocument],
    after: Mapping[Selector, PolicyDocument],
) -> LockOut | None:
    """The lock-out the change from ``before`` to ``after`` would cause, if any."""
    settings = runtime.settings
    return check_change(
        before,
        after,
        admin_group=settings.admin_group,
        routes=_admin_routes(runtime),
        prefix=arn_prefix(settings.region, FALLBACK_ACCOUNT, FALLBACK_API, FALLBACK_STAGE),
        max_bytes=settings.policy_max_bytes,
    )
