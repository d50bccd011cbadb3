"""``authz policies ...``: the command group, and reading, deleting and exporting stored policies.

``validate`` and ``sync`` (a policies/ directory against the table) live in
``authz.cli.sync``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from authz.cli.common import (
    Runtime,
    actor_option,
    all_records,
    echo_json,
    error,
    force_option,
    out,
    parse_selector,
    pass_runtime,
    print_rows,
    warn,
)
from authz.cli.freshness import report_freshness
from authz.cli.guard import lock_out
from authz.cli.sync import sync, validate
from authz.lockout import guarded_selectors
from authz.policy.document import PolicyDocument
from authz.policy.selector import KINDS, Selector
from authz.store.files import write_policy
from authz.store.types import HistoryEntry, PolicyRecord, forced_writer

__all__ = ["policies"]


@click.group()
def policies() -> None:
    """Validate, sync and inspect policies."""


policies.add_command(validate)
policies.add_command(sync)


def _record_json(record: PolicyRecord) -> dict[str, Any]:
    return {
        "selector": str(record.selector),
        "kind": record.selector.kind,
        "name": record.selector.name,
        "version": record.version,
        "updated_at": record.updated_at.isoformat(),
        "updated_by": record.updated_by,
        "description": record.description,
        "document": record.document.to_dict(),
        "token": dict(record.token) if record.token else None,
    }


def _history_json(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "selector": str(entry.selector),
        "version": entry.version,
        "action": entry.action,
        "at": entry.at.isoformat(),
        "by": entry.by,
        "description": entry.description,
        "document": dict(entry.document),
        "token": dict(entry.token) if entry.token else None,
        "forced": entry.forced,
    }


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@policies.command("list")
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind of policy.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (with documents).")
@pass_runtime
def list_(runtime: Runtime, *, kind: str | None, as_json: bool) -> int:
    """List stored policies."""
    records = list(all_records(runtime.repository, kind))
    if as_json:
        echo_json([_record_json(r) for r in records])
        return 0
    if not records:
        out.print("No policies stored." + (f" (kind {kind})" if kind else ""))
        return 0
    print_rows(
        ("selector", "version", "statements", "token", "updated", "by", "description"),
        [
            (
                str(r.selector),
                str(r.version),
                str(len(r.document.statements)),
                "yes" if r.token else "",
                _when(r.updated_at),
                r.updated_by,
                r.description,
            )
            for r in records
        ],
    )
    return 0


_selector_argument = click.argument("selector", nargs=-1, required=True)


@policies.command()
@_selector_argument
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_runtime
def get(runtime: Runtime, *, selector: tuple[str, ...], as_json: bool) -> int:
    """Show one stored policy: SELECTOR is group:NAME, scope:NAME, default, or KIND NAME."""
    record = runtime.repository.get(parse_selector(selector))
    if as_json:
        echo_json(_record_json(record))
        return 0
    out.print(
        f"[bold]{escape(str(record.selector))}[/] version {record.version}, "
        f"updated {_when(record.updated_at)} by {escape(record.updated_by)}"
    )
    if record.description:
        out.print(f"description: {escape(record.description)}")
    out.print_json(data=record.document.to_dict())
    if record.token:
        out.print("token settings:")
        out.print_json(data=dict(record.token))
    return 0


@policies.command()
@_selector_argument
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (with documents).")
@pass_runtime
def history(runtime: Runtime, *, selector: tuple[str, ...], limit: int, as_json: bool) -> int:
    """Audit history of one policy, newest first."""
    target = parse_selector(selector)
    entries: list[HistoryEntry] = []
    cursor: str | None = None
    while len(entries) < limit:
        page = runtime.repository.history(target, limit=limit - len(entries), cursor=cursor)
        entries.extend(page.items)
        cursor = page.cursor
        if cursor is None:
            break
    if as_json:
        echo_json([_history_json(e) for e in entries])
        return 0
    if not entries:
        out.print(f"No history for {escape(str(target))}.")
        return 0
    rows = []
    for e in entries:
        statements = e.document.get("Statement", [])
        rows.append(
            (
                str(e.version),
                f"{e.action} (forced)" if e.forced else e.action,
                _when(e.at),
                e.by,
                str(len(statements) if isinstance(statements, list) else 1),
                e.description,
            )
        )
    print_rows(("version", "action", "at", "by", "statements", "description"), rows, str(target))
    return 0


@policies.command()
@_selector_argument
@click.option(
    "--if-version", type=click.IntRange(min=1), help="Delete only if this is the version."
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@actor_option
@force_option
@pass_runtime
def delete(
    runtime: Runtime,
    *,
    selector: tuple[str, ...],
    if_version: int | None,
    yes: bool,
    actor: str,
    force: bool,
) -> int:
    """Delete one stored policy (its history is kept).

    Deleting the admin group's policy or ``default`` is refused (exit 1) when
    a member of only the admin group would lose admin routes, unless --force.
    """
    target = parse_selector(selector)
    repository = runtime.repository
    forced = _delete_guard(runtime, target, force=force)
    if forced is None:
        return 1
    if not yes:
        click.confirm(f"Delete {target}?", abort=True, err=True)
    writer = forced_writer(repository) if forced else None
    if writer is not None:
        result = writer.delete(target, actor=actor, expected_version=if_version, forced=True)
    elif forced:
        error("this store cannot record a forced write; nothing was deleted")
        return 1
    else:
        result = repository.delete(target, actor=actor, expected_version=if_version)
    out.print(f"Deleted {escape(str(target))}; policy epoch is now {result.epoch}.")
    report_freshness(runtime, result.epoch)
    return 0


def _delete_guard(runtime: Runtime, target: Selector, *, force: bool) -> bool | None:
    """Whether the delete is forced past the lock-out guard; None when it is refused."""
    guarded = guarded_selectors(runtime.settings.admin_group)
    if target not in guarded:
        return False
    records = runtime.repository.get_many(guarded)
    before: dict[Selector, PolicyDocument] = {s: r.document for s, r in records.items()}
    after = {s: d for s, d in before.items() if s != target}
    lock = lock_out(runtime, before, after)
    if lock is None:
        return False
    if not force:
        error(f"{lock.message} (--force); nothing was deleted")
        return None
    warn(f"{lock.message}; forced, and recorded as forced in the history")
    return True


@policies.command()
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind of policy.")
@pass_runtime
def export(runtime: Runtime, *, path: Path, kind: str | None) -> int:
    """Write the stored policies into PATH in the policies/ format (overwrites those files)."""
    written = 0
    for record in all_records(runtime.repository, kind):
        token = dict(record.token) if record.token else None
        written += len(write_policy(path, record.selector, record.document.to_dict(), token))
    out.print(f"Wrote {written} file(s) to {escape(str(path))}.")
    return 0
