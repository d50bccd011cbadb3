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
from collections.abc import Sequence
from typing import NoReturn

import click

from authz.cli_common import Runtime, error
from authz.cli_dev import dev
from authz.cli_policies import policies
from authz.cli_simulate import simulate
from authz.cli_table import table
from authz.cli_token import token
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
cli.add_command(token)
cli.add_command(dev)


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
    except ConfigError as exc:
        error(f"configuration error: {exc}")
        click.echo(_DEV_HINT, err=True)
        return EXIT_USAGE
    except StoreCredentialsError as exc:
        error(f"configuration error: {exc}")
        click.echo(_CREDENTIALS_HINT + _DEV_HINT, err=True)
        return EXIT_USAGE
    except StoreUnavailableError as exc:
        error(f"DynamoDB is unreachable at {runtime.endpoint_description()}: {exc}")
        return EXIT_FAILED
    except AuthzError as exc:
        error(str(exc))
        return EXIT_FAILED
    except BrokenPipeError:
        # `authz policies list | head`: the reader left. Point stdout at /dev/null so
        # the interpreter's final flush does not print a traceback either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    return result if isinstance(result, int) else EXIT_OK


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point."""
    sys.exit(run(argv))


if __name__ == "__main__":  # python -m authz.cli
    main()
