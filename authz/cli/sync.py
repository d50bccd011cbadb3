"""``authz policies validate`` and ``sync``: a policies/ directory against the table."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from authz.cli.common import (
    Runtime,
    actor_option,
    all_records,
    echo_json,
    error,
    force_option,
    out,
    pass_runtime,
    warn,
)
from authz.cli.freshness import report_freshness
from authz.cli.guard import lock_out, print_warnings, warnings_json
from authz.cli.plan import Change, Plan, PlanOutcome, apply_plan, compute_plan, plan_impact
from authz.cli.routes import HOW_TO_GIVE_ROUTES, FoundRoutes, find_routes, route_options
from authz.errors import NotFoundError
from authz.lockout import guarded_selectors
from authz.matrix import Change as CellChange
from authz.policy.selector import Selector
from authz.store.files import PolicyTree, read_tree
from authz.store.types import PolicyRecord, PolicyRepository

__all__ = ["sync", "validate"]

# Below this many writes a progress bar is noise.
_PROGRESS_MIN = 20

_DIR = click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path)


def _tree_or_fail(path: Path) -> PolicyTree:
    tree = read_tree(path)
    for unknown in tree.unknown:
        warn(f"{unknown}: not part of the policies format; ignored")
    for problem in tree.problems:
        error(str(problem))
    return tree


@click.command()
@click.argument("path", type=_DIR)
@click.option("--strict", is_flag=True, help="Treat unknown files as errors.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def validate(*, path: Path, strict: bool, as_json: bool) -> int:
    """Check every policy file under PATH; exit 1 if any is invalid.

    Every problem is reported with its file and the JSON path inside it.
    """
    if as_json:
        tree = read_tree(path)
        echo_json(
            {
                "valid": tree.ok and not (strict and tree.unknown),
                "policies": {str(s): str(f.file) for s, f in tree.policies.items()},
                "problems": [
                    {"file": str(p.file), "path": p.path, "message": p.message}
                    for p in tree.problems
                ],
                "unknown": [str(u) for u in tree.unknown],
                "warnings": warnings_json(_files(tree)),
            }
        )
    else:
        tree = _tree_or_fail(path)
        print_warnings(_files(tree))
        if tree.ok:
            out.print(f"[green]{len(tree.policies)} policies valid[/] in {escape(str(path))}")
        else:
            files = len({p.file for p in tree.problems})
            out.print(
                f"[red]{len(tree.problems)} problem(s) in {files} file(s)[/]; "
                f"{len(tree.policies)} valid"
            )
    return 1 if not tree.ok or (strict and tree.unknown) else 0


def _files(tree: PolicyTree) -> list[Any]:
    return [tree.policies[s] for s in sorted(tree.policies)]


def _current(repository: PolicyRepository, files: Mapping[Selector, object]) -> list[PolicyRecord]:
    """Every stored record, as the plan must see it.

    The listing reads an eventually consistent index, so a policy written a
    moment ago may be missing from it; each file's selector the listing lacks
    is confirmed with a consistent read, so a re-run right after an apply
    never plans to add what is already there.
    """
    records = {r.selector: r for r in all_records(repository)}
    for selector in files:
        if selector not in records:
            with contextlib.suppress(NotFoundError):
                records[selector] = repository.get(selector)
    return list(records.values())


Impacts = Mapping[Selector, list[CellChange]]


def _show_plan(
    plan: Plan, path: Path, records: list[PolicyRecord], found: FoundRoutes | None
) -> None:
    """The plan, with each write's impact on the matrix when routes were found."""
    if plan.empty:
        _print_plan(plan, path, None)
        return
    if found is None:
        _print_plan(plan, path, None)
        out.print(
            f"[dim]To see what each change does to the access matrix: {HOW_TO_GIVE_ROUTES}.[/]"
        )
        return
    out.print(
        f"[dim]Access-matrix impact over {len(found.routes)} routes from {escape(found.source)}:[/]"
    )
    _print_plan(plan, path, plan_impact(plan, records, found.routes))


def _print_plan(plan: Plan, path: Path, impacts: Impacts | None) -> None:
    for change in plan.changes:
        version = change.current.version if change.current else None
        source = escape(str(change.desired.file)) if change.desired else ""
        line = {
            "add": f"[green]+ {escape(str(change.selector))}[/] add from {source}",
            "change": f"[yellow]~ {escape(str(change.selector))}[/] change version {version} "
            f"from {source}",
            "remove": f"[red]- {escape(str(change.selector))}[/] remove version {version}",
            "keep": f"[dim]= {escape(str(change.selector))} version {version} not in files, "
            "kept (use --prune to remove)[/]",
        }[change.action]
        out.print(line)
        if change.action == "change":
            for diff_line in change.diff().splitlines():
                out.print(f"    [{_diff_style(diff_line)}]{escape(diff_line)}[/]")
        if impacts is not None and change.selector in impacts:
            _print_impact(impacts[change.selector])
    if plan.empty:
        out.print(
            f"[green]No changes.[/] The table matches {escape(str(path))} "
            f"({plan.unchanged} policies)."
        )
        return
    adds, changes, removes = len(plan.of("add")), len(plan.of("change")), len(plan.of("remove"))
    out.print(
        f"Plan: [green]{adds} to add[/], [yellow]{changes} to change[/], "
        f"[red]{removes} to remove[/], {plan.unchanged} unchanged."
    )


def _print_impact(changes: list[CellChange]) -> None:
    """The matrix cells one write changes, widenings first (and bold at a terminal)."""
    if not changes:
        out.print("    [dim]access matrix: no cell changes[/]")
        return
    subject_width = max(len(c.subject) for c in changes)
    route_width = max(len(str(c.route)) for c in changes)
    for c in changes:
        # Upper case marks a widening where bold cannot (pipes, logs).
        after = c.after.upper() if c.widening else c.after
        line = escape(
            f"{c.subject:<{subject_width}}  {c.route!s:<{route_width}}  {c.before} → {after}"
        )
        out.print(f"    [bold]{line}[/]" if c.widening else f"    {line}")


def _diff_style(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "bold"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    if line.startswith("@@"):
        return "cyan"
    return "default"


def _apply(
    plan: Plan, repository: PolicyRepository, actor: str, forced: frozenset[Selector]
) -> list[PlanOutcome]:
    writes = len(plan.writes)
    with Progress(
        TextColumn("applying"),
        BarColumn(),
        MofNCompleteColumn(),
        console=out,
        transient=True,
        disable=writes < _PROGRESS_MIN or not out.is_terminal,
    ) as progress:
        task = progress.add_task("apply", total=writes)

        def done(outcome: PlanOutcome) -> None:
            progress.advance(task)
            if not outcome.ok:
                error(f"{outcome.change.selector}: {outcome.error}")

        return apply_plan(plan, repository, actor=actor, on_done=done, forced=forced)


@click.command()
@click.argument("path", type=_DIR)
@click.option("--apply", "do_apply", is_flag=True, help="Write the plan (default: only show it).")
@click.option("--prune", is_flag=True, help="Remove stored policies that have no file.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before removing policies.")
@route_options
@actor_option
@force_option
@pass_runtime
def sync(
    runtime: Runtime,
    *,
    path: Path,
    do_apply: bool,
    prune: bool,
    yes: bool,
    routes_file: Path | None,
    route_texts: tuple[str, ...],
    actor: str,
    force: bool,
) -> int:
    """Make the table match PATH: show the plan, and write it with --apply.

    Each write carries the version the plan read, so a policy edited by someone
    else in between is not overwritten: it fails with a conflict (exit 1).
    A plan after which a member of only the admin group loses admin routes is
    refused (exit 1) unless --force.

    Under each write the plan lists the access-matrix cells it changes
    (widenings first), over the routes of --routes/--route, else of a
    serverless.yml beside PATH, else of AUTHZ_ROUTES.
    """
    tree = _tree_or_fail(path)
    if not tree.ok:
        error(f"{len(tree.problems)} problem(s) in {path}; nothing was written")
        return 1
    found = find_routes(
        runtime, routes_file=routes_file, route_texts=route_texts, policies_dir=path
    )
    repository = runtime.repository
    records = _current(repository, tree.policies)
    plan = compute_plan(tree.policies, records, prune=prune)
    _show_plan(plan, path, records, found)
    print_warnings(c.desired for c in plan.writes if c.desired is not None)
    if plan.empty:
        return 0
    forced = _plan_guard(runtime, plan, records, do_apply=do_apply, force=force)
    if forced is None:
        return 1
    if not do_apply:
        out.print("Dry run: nothing was written. Run again with --apply to write these changes.")
        return 0
    removals = plan.of("remove")
    if removals and not yes:
        click.confirm(f"Remove {len(removals)} stored policies?", abort=True, err=True)
    outcomes = _apply(plan, repository, actor, forced)
    failed = [o for o in outcomes if not o.ok]
    summary = _summary([o.change for o in outcomes if o.ok])
    if len(failed) < len(outcomes):
        # What did land must reach the gateways as fast as an admin API write.
        report_freshness(runtime, repository.epoch())
    if failed:
        error(f"{len(failed)} of {len(outcomes)} changes failed; applied: {summary}")
        return 1
    out.print(f"[green]Applied:[/] {summary}.")
    return 0


def _plan_guard(
    runtime: Runtime, plan: Plan, records: list[PolicyRecord], *, do_apply: bool, force: bool
) -> frozenset[Selector] | None:
    """The selectors to write as forced, or None when the plan is refused.

    A dry run only warns, so the plan can still be read in full.
    """
    guarded = guarded_selectors(runtime.settings.admin_group)
    touched = [c for c in plan.writes if c.selector in guarded]
    if not touched:
        return frozenset()
    before = {r.selector: r.document for r in records if r.selector in guarded}
    after = dict(before)
    for change in touched:
        if change.desired is None:
            after.pop(change.selector, None)
        else:
            after[change.selector] = change.desired.document
    lock = lock_out(runtime, before, after)
    if lock is None:
        return frozenset()
    if not do_apply:
        warn(f"{lock.message}; --apply will refuse it without --force")
        return frozenset()
    if not force:
        error(f"{lock.message} (--force); nothing was written")
        return None
    warn(f"{lock.message}; forced, and recorded as forced in the history")
    return frozenset(c.selector for c in touched)


def _summary(changes: list[Change]) -> str:
    def count(action: str) -> int:
        return sum(1 for c in changes if c.action == action)

    return f"{count('add')} added, {count('change')} changed, {count('remove')} removed"
