"""The ``authz`` command: group, wiring, and the one place errors become exit codes.

Exit codes: 0 ok (or allowed), 1 denied / invalid / conflict / store failure,
2 usage or configuration error. Expected failures (``AuthzError``) print one
red line on stderr, never a traceback. Heavy imports (boto3, pynamodb, jose)
happen inside the commands that need them so ``authz --help`` and offline
commands start quickly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

import click

from authz.cli.common import Runtime, error
from authz.cli.dev import dev
from authz.cli.matrix import matrix
from authz.cli.policies import policies
from authz.cli.revocations import revocations, revoke
from authz.cli.simulate import simulate
from authz.cli.table import table
from authz.cli.token import token
from authz.errors import AuthzError, ConfigError, StoreCredentialsError, StoreUnavailableError

__all__ = ["cli", "main", "run"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

_CREDENTIALS_HINT = (
    "Set AWS_REGION and credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and\n"
    "AWS_SECRET_ACCESS_KEY), AUTHZ_TABLE, and AUTHZ_DYNAMODB_ENDPOINT for a local DynamoDB.\n"
)
_DEV_HINT = "With `authz dev` running: `source .authz-dev.env` sets every variable for its stack."


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="authz", prog_name="authz")
def cli() -> None:
    """Manage and test authz policies (configured by the same AUTHZ_* variables as the Lambdas)."""


cli.add_command(table)
cli.add_command(policies)
cli.add_command(simulate)
cli.add_command(matrix)
cli.add_command(token)
cli.add_command(revoke)
cli.add_command(revocations)
cli.add_command(dev)


# Each expected failure: the one red line it prints, the hint after it, and
# the exit code. The first matching class wins, so the general AuthzError is last.
_FAILURES: tuple[tuple[type[AuthzError], Callable[[AuthzError, Runtime], str], str, int], ...] = (
    (ConfigError, lambda exc, _: f"configuration error: {exc}", _DEV_HINT, EXIT_USAGE),
    (
        StoreCredentialsError,
        lambda exc, _: f"configuration error: {exc}",
        _CREDENTIALS_HINT + _DEV_HINT,
        EXIT_USAGE,
    ),
    (
        StoreUnavailableError,
        lambda exc, rt: f"DynamoDB is unreachable at {rt.endpoint_description()}: {exc}",
        "",
        EXIT_FAILED,
    ),
    (AuthzError, lambda exc, _: str(exc), "", EXIT_FAILED),
)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code instead of exiting."""
    runtime = Runtime()
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="authz",
            standalone_mode=False,
            obj=runtime,
        )
    except click.exceptions.Abort:
        error("aborted")
        return EXIT_FAILED
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except AuthzError as exc:
        return _report(exc, runtime)
    except BrokenPipeError:
        # `authz policies list | head`: the reader left. Point stdout at /dev/null so
        # the interpreter's final flush does not print a traceback either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    return result if isinstance(result, int) else EXIT_OK


def _report(exc: AuthzError, runtime: Runtime) -> int:
    """Print an expected failure as one red line (and its hint); return its exit code."""
    for kind, message, hint, code in _FAILURES:
        if isinstance(exc, kind):
            error(message(exc, runtime))
            if hint:
                click.echo(hint, err=True)
            return code
    raise AssertionError("AuthzError is the table's last entry")  # pragma: no cover


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point."""
    sys.exit(run(argv))


if __name__ == "__main__":  # python -m authz.cli.main
    main()
