"""``authz table create``: the DynamoDB table the Lambdas and the CLI share."""

from __future__ import annotations

import click
from rich.markup import escape

from authz.cli.common import Runtime, out, pass_runtime

__all__ = ["table"]


@click.group()
def table() -> None:
    """Manage the policy table (AUTHZ_TABLE at AUTHZ_DYNAMODB_ENDPOINT)."""


@table.command()
@pass_runtime
def create(runtime: Runtime) -> int:
    """Create the table and its index unless it exists (safe to run again)."""
    created = runtime.dynamo.create_table(wait=True)
    name = escape(runtime.settings.table)
    if created:
        out.print(f"[green]Created[/] table {name}.")
    else:
        out.print(f"Table {name} already exists; nothing to do.")
    return 0
