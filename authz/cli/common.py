"""What every ``authz`` command shares: settings, the repository, output helpers."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from authz.errors import SelectorError
from authz.policy.selector import Selector
from authz.settings import Settings

if TYPE_CHECKING:
    from authz.store.repository import DynamoRepository
    from authz.store.types import PolicyRecord, PolicyRepository, RevocationRepository

__all__ = [
    "Runtime",
    "actor_option",
    "all_records",
    "default_actor",
    "echo_json",
    "err_console",
    "error",
    "force_option",
    "out",
    "parse_selector",
    "pass_runtime",
    "print_rows",
    "warn",
]

# soft_wrap: long lines (ARNs, JSON) stay whole when output is piped or captured.
out = Console(soft_wrap=True, highlight=False)
_err = Console(stderr=True, soft_wrap=True, highlight=False)
err_console = _err


def error(message: str) -> None:
    _err.print(f"[bold red]error:[/] [red]{escape(message)}[/]")


def warn(message: str) -> None:
    _err.print(f"[yellow]warning:[/] {escape(message)}")


def echo_json(value: Any) -> None:
    """Machine-readable output: stable key order, no colour, one document."""
    click.echo(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str))


def _plain_cell(value: str) -> str:
    # One row is one line and one field holds no tab, whatever a description says.
    return " ".join(value.split()) if any(c in value for c in "\t\r\n") else value


def print_rows(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str = "") -> None:
    """A table at a terminal; tab-separated lines, one per row, when piped.

    Piped output is for ``grep``/``cut``/``awk`` (like ``aws --output text``):
    no header, no truncation, no colour. At a terminal the first column says
    which row it is, so it is never cut: the others give up the room.
    """
    if not out.is_terminal:
        for row in rows:
            click.echo("\t".join(_plain_cell(cell) for cell in row))
        return
    key_width = max((len(row[0]) for row in rows), default=0)
    grid = Table(title=title or None)
    grid.add_column(headers[0], no_wrap=True, min_width=max(key_width, len(headers[0])))
    for header in headers[1:]:
        grid.add_column(header, overflow="fold")
    for row in rows:
        grid.add_row(*(escape(cell) for cell in row))
    out.print(grid)


def default_actor() -> str:
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no passwd entry (containers); the uid still says who
        user = f"uid{os.getuid()}"
    return f"cli:{user}"


class Runtime:
    """Settings and repository, built on first use so offline commands never need them."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._repository: DynamoRepository | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    @property
    def dynamo(self) -> DynamoRepository:
        if self._repository is None:
            # boto3 and pynamodb are slow to import: only commands that use the table pay it.
            from authz.store.repository import (  # noqa: PLC0415
                DynamoRepository,
                StoreTimeouts,
            )

            # An operator at a terminal (or CI) can wait longer than an authorizer:
            # a timed-out CreateTable or write that botocore retries would
            # otherwise come back as "already exists" or a spurious conflict.
            timeouts = StoreTimeouts(connect=3.0, read=15.0, attempts=3)
            self._repository = DynamoRepository(self.settings, timeouts=timeouts)
        return self._repository

    @property
    def repository(self) -> PolicyRepository:
        return self.dynamo

    @property
    def revocations(self) -> RevocationRepository:
        return self.dynamo

    def endpoint_description(self) -> str:
        if self._settings is None:
            return "the configured endpoint"
        s = self._settings
        endpoint = s.dynamodb_endpoint or f"the AWS endpoint of {s.region}"
        return f"{endpoint} (table {s.table})"


pass_runtime = click.make_pass_decorator(Runtime)


def parse_selector(words: tuple[str, ...]) -> Selector:
    """``group:admins``, ``default``, or the two words ``group admins``."""
    try:
        if len(words) == 1:
            return Selector.parse(words[0])
        if len(words) == 2:
            return Selector.of(words[0], words[1])
    except SelectorError as exc:
        raise click.BadParameter(str(exc), param_hint="SELECTOR") from None
    raise click.BadParameter(
        "expected group:NAME, scope:NAME, default, or KIND NAME", param_hint="SELECTOR"
    )


actor_option = click.option(
    "--actor",
    default=default_actor,
    show_default="cli:<your user name>",
    help="Who the audit history records as the author.",
)
force_option = click.option(
    "--force",
    is_flag=True,
    help="Write even if a member of only the admin group would lose admin routes "
    "(recorded in the history).",
)


def all_records(repository: PolicyRepository, kind: str | None = None) -> Iterator[PolicyRecord]:
    """Every stored record (of ``kind``), page by page."""
    cursor: str | None = None
    while True:
        page = repository.list(kind=kind, limit=100, cursor=cursor)
        yield from page.items
        cursor = page.cursor
        if cursor is None:
            return
