"""``authz dev``: start the local stack, print how to use it, stop it all on Ctrl-C."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from authz.cli_common import error

__all__ = ["dev"]


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # `kill` and process managers send SIGTERM; treat it like Ctrl-C so the
    # Java and moto children are stopped instead of orphaned.
    raise KeyboardInterrupt


@click.command()
@click.option(
    "--policies",
    "policies_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("policies"),
    show_default=True,
    help="Policy files synced into the local table.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Gateway port (0: any free one)."
)
@click.option(
    "--result-ttl",
    type=click.IntRange(0, 3600),
    default=300,
    show_default=True,
    help="The local gateway's authorizer result TTL in seconds (0 disables its cache).",
)
@click.option(
    "--epoch-check",
    type=click.FloatRange(0, 3600),
    default=1.0,
    show_default=True,
    help="How often the authorizer checks the policy epoch (AUTHZ_EPOCH_CHECK_SECONDS).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the endpoints and tokens as JSON.")
def dev(policies_dir: Path, port: int, result_ttl: int, epoch_check: float, as_json: bool) -> int:
    """Run the whole stack locally: DynamoDB Local, a Cognito user pool, API Gateway."""
    from authz.dev import stack as stack_mod  # noqa: PLC0415  # heavy; only this command needs it
    from authz.dev.dynamodb import DynamoDBLocalError  # noqa: PLC0415

    if not policies_dir.is_dir():
        error(f"no policies directory at {policies_dir} (use --policies PATH)")
        return 2
    signal.signal(signal.SIGTERM, _stop_on_sigterm)

    def log(message: str) -> None:
        click.echo(message, err=True)

    try:
        stack = stack_mod.start_stack(
            policies_dir,
            port=port,
            result_ttl_seconds=result_ttl,
            epoch_check_seconds=epoch_check,
            log=log,
        )
    except DynamoDBLocalError as exc:
        error(str(exc))
        return 1
    except KeyboardInterrupt:
        error("interrupted while starting; everything started so far was stopped")
        return 1
    try:
        if as_json:
            click.echo(json.dumps(stack_mod.as_json(stack), indent=2))
        else:
            click.echo(stack_mod.describe(stack))
        sys.stdout.flush()
        threading.Event().wait()
    except KeyboardInterrupt:
        log("\nstopping ...")
    finally:
        # A second Ctrl-C while stopping would orphan the Java and moto children.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
    log("stopped.")
    return 0
