"""``authz matrix``: who may call which route of the API, as the policies stand.

Policies come from the table, or with ``--policies DIR`` from a policies/
directory (nothing is read from DynamoDB then). Routes come from
``--routes``/``--route``, a ``serverless.yml`` beside the policies directory,
or ``AUTHZ_ROUTES`` (``authz.cli.routes``). The cells are decided by
``authz.matrix`` from the policy patterns, not from sample requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from authz.cli.common import (
    Runtime,
    all_records,
    echo_json,
    err_console,
    error,
    out,
    pass_runtime,
    warn,
)
from authz.cli.routes import EXIT_USAGE, HOW_TO_GIVE_ROUTES, find_routes, route_options
from authz.errors import SelectorError
from authz.matrix import (
    SYMBOLS,
    Matrix,
    build_matrix,
    parse_principal,
    render_csv,
    render_html,
    render_markdown,
    render_text,
)
from authz.policy.document import PolicyDocument
from authz.store.files import read_tree

__all__ = ["matrix"]

# Without a terminal to measure, the grid fits the classic width.
_PIPE_WIDTH = 80
_FORMATS = ("as_json", "as_csv", "as_markdown", "html_file")
_FLAG = {"as_json": "--json", "as_csv": "--csv", "as_markdown": "--markdown", "html_file": "--html"}


def _check_options(options: Mapping[str, Any]) -> None:
    chosen = [name for name in _FORMATS if options[name]]
    if len(chosen) > 1:
        raise click.UsageError(
            f"give one output format, not {' and '.join(_FLAG[n] for n in chosen)}"
        )
    if options["explain"] and chosen and chosen[0] in {"as_csv", "as_markdown"}:
        raise click.UsageError(
            f"--explain applies to the grid, --json and --html, not {_FLAG[chosen[0]]}"
        )
    for text in options["principals"]:
        try:
            parse_principal(text)
        except SelectorError as exc:
            raise click.BadParameter(f"{text!r}: {exc}", param_hint="--principal") from None
        if not text.strip(" ,"):
            raise click.BadParameter("empty principal", param_hint="--principal")


def _file_policies(path: Path) -> dict[str, PolicyDocument]:
    tree = read_tree(path)
    for unknown in tree.unknown:
        warn(f"{unknown}: not part of the policies format; ignored")
    for problem in tree.problems:
        error(str(problem))
    if not tree.ok:
        raise click.exceptions.Exit(1)
    return {str(s): f.document for s, f in tree.policies.items()}


def _table_policies(runtime: Runtime) -> dict[str, PolicyDocument]:
    return {str(r.selector): r.document for r in all_records(runtime.repository)}


@click.command()
@click.option(
    "--policies",
    "policies_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Read policies from this directory instead of the table.",
)
@route_options
@click.option(
    "--principal",
    "principals",
    multiple=True,
    metavar="SELECTORS",
    help="Add a row for a combined principal, e.g. 'group:a,group:b,scope:x' (repeat).",
)
@click.option(
    "--width",
    type=click.IntRange(min=20),
    help="Width of the grid  [default: the terminal's, 80 when piped]",
)
@click.option("--explain", is_flag=True, help="Name the statements behind the cells.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--csv", "as_csv", is_flag=True, help="The grid as CSV.")
@click.option("--markdown", "as_markdown", is_flag=True, help="The grid as a Markdown table.")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the grid as one self-contained HTML page to this file.",
)
@pass_runtime
def matrix(runtime: Runtime, /, **options: Any) -> int:
    """Who may call which route: one row per route, one column per group, scope and default.

    ✓ allow, · deny (implicit), ✗ explicit deny, ~ conditional (depends on who
    asks or on the path's values: a policy variable such as ${sub}, or an
    Allow of only some values of a {template} segment).
    """
    _check_options(options)
    policies_dir: Path | None = options["policies_dir"]
    found = find_routes(
        runtime,
        routes_file=options["routes_file"],
        route_texts=options["route_texts"],
        policies_dir=policies_dir,
    )
    if found is None:
        error(f"no routes to draw the matrix for: {HOW_TO_GIVE_ROUTES}")
        return EXIT_USAGE
    if policies_dir is not None:
        policies, source = _file_policies(policies_dir), str(policies_dir)
    else:
        policies, source = _table_policies(runtime), f"table {runtime.settings.table}"
    if not policies:
        warn(f"no policies in {source}: every cell is deny")
    grid = build_matrix(policies, found.routes, principals=options["principals"])
    if options["html_file"] is not None:
        return _write_html(grid, options["html_file"], f"Access matrix: {source}")
    if options["as_json"]:
        echo_json(grid.to_dict(explain=options["explain"]))
    elif options["as_csv"]:
        click.echo(render_csv(grid), nl=False)
    elif options["as_markdown"]:
        click.echo(render_markdown(grid), nl=False)
    else:
        _show(grid, options, f"{source} ({len(policies)} policies), routes from {found.source}")
    return 0


def _write_html(grid: Matrix, file: Path, title: str) -> int:
    try:
        file.write_text(render_html(grid, title=title), encoding="utf-8")
    except OSError as exc:
        error(f"cannot write {file}: {exc.strerror or exc}")
        return EXIT_USAGE
    click.echo(str(file))
    return 0


def _show(grid: Matrix, options: Mapping[str, Any], caption: str) -> None:
    width = options["width"] or (out.width if out.is_terminal else _PIPE_WIDTH)
    colour = out.is_terminal and not out.no_color
    # On stderr: stdout is only the grid, within the width.
    err_console.print(f"[dim]{escape(caption)}[/]")
    click.echo(render_text(grid, width=width, color=colour), nl=False)
    if options["explain"]:
        _explain(grid)


def _explain(grid: Matrix) -> None:
    """The statements behind every conditional and explicit-deny cell, under the grid."""
    rows = [
        (subject, str(route), SYMBOLS[cell.value], "; ".join(str(s) for s in cell.statements))
        for subject in grid.subjects
        for route, cell in grid.cells[subject].items()
        if cell.value in {"conditional", "explicit-deny"}
    ]
    if not rows:
        return
    click.echo("")
    click.echo(
        f"Statements behind the {SYMBOLS['conditional']} and {SYMBOLS['explicit-deny']} cells:"
    )
    subject_width = max(len(r[0]) for r in rows)
    route_width = max(len(r[1]) for r in rows)
    for subject, route, mark, statements in rows:
        click.echo(f"  {subject:<{subject_width}}  {route:<{route_width}}  {mark}  {statements}")
