"""``authz dev``: start the local stack, print how to use it, stop it all on Ctrl-C.

``authz dev token`` prints a fresh token of the running stack, found through
the variables ``authz dev`` prints and writes to ``.authz-dev.env``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from authz.cli.common import error
from authz.dev import ENV_FILE as DEV_ENV_FILE

if TYPE_CHECKING:
    from authz.dev.stack import DevStack

__all__ = ["dev"]

ENV_FILE = Path(DEV_ENV_FILE)


class _Stopper:
    """Turns SIGINT, SIGTERM and SIGHUP into one orderly stop, however many arrive.

    While the stack starts, the first signal interrupts the start-up (which
    stops whatever it had started). Once it serves, a signal only sets
    ``requested``: raising KeyboardInterrupt into arbitrary code is what made
    a second Ctrl-C leave ``release unlocked lock`` tracebacks and orphans.
    Every later signal is absorbed, so the stop runs to its end.
    """

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.serving = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        first = not self.requested.is_set()
        self.requested.set()
        if first and not self.serving:
            raise KeyboardInterrupt

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            # An ignored SIGINT or SIGHUP (`cmd &`, nohup) stays ignored, as the
            # caller asked; SIGTERM always stops the stack.
            if sig != signal.SIGTERM and signal.getsignal(sig) == signal.SIG_IGN:
                continue
            signal.signal(sig, self)


@click.group(invoke_without_command=True)
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
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=ENV_FILE,
    show_default=True,
    help="Where to write the variables for the CLI (removed again on stop).",
)
@click.pass_context
def dev(  # noqa: PLR0917  # click passes every option by name
    ctx: click.Context,
    policies_dir: Path,
    port: int,
    result_ttl: int,
    epoch_check: float,
    as_json: bool,
    env_file: Path,
) -> int | None:
    """Run the whole stack locally: DynamoDB Local, a Cognito user pool, API Gateway.

    It prints the variables the authz CLI needs and writes them to .authz-dev.env:
    `source .authz-dev.env` in another shell, then `authz policies list` or
    `authz dev token reader` talk to this stack.
    """
    if ctx.invoked_subcommand is not None:
        return None
    from authz.dev import stack as stack_mod  # noqa: PLC0415  # heavy; only this command needs it
    from authz.dev.dynamodb import DynamoDBLocalError  # noqa: PLC0415

    if not policies_dir.is_dir():
        error(f"no policies directory at {policies_dir} (use --policies PATH)")
        return 2
    stopper = _Stopper()
    stopper.install()
    try:
        stack = stack_mod.start_stack(
            policies_dir,
            port=port,
            result_ttl_seconds=result_ttl,
            epoch_check_seconds=epoch_check,
            log=_log,
        )
    except DynamoDBLocalError as exc:
        error(str(exc))
        return 1
    except KeyboardInterrupt:
        error("interrupted while starting; everything started so far was stopped")
        return 1
    stopper.serving = True
    _serve(stack, env_file, as_json=as_json, stopper=stopper)
    _log("stopped.")
    return 0


def _log(message: str) -> None:
    click.echo(message, err=True)


def _serve(stack: DevStack, env_file: Path, *, as_json: bool, stopper: _Stopper) -> None:
    """Print how to use the running stack, then wait for a stop signal and stop it."""
    from authz.dev import describe  # noqa: PLC0415  # heavy; only this command needs it

    env_text = describe.env_block(describe.dev_env(stack))
    try:
        _write_private(env_file, env_text)
        if as_json:
            click.echo(json.dumps(describe.as_json(stack), indent=2))
        else:
            click.echo(describe.describe(stack))
        sys.stdout.flush()
        # A timed wait, so a signal that lands between two waits is seen within 0.5 s.
        while not stopper.requested.wait(0.5):
            pass
        _log("\nstopping ...")
    finally:
        stack.stop()
        _remove_if_ours(env_file, env_text)


def _write_private(path: Path, text: str) -> None:
    # It holds the demo app client's secret: readable by this user alone.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _remove_if_ours(path: Path, text: str) -> None:
    # A second `authz dev` may have written its own since; that one stays.
    try:
        if path.read_text() == text:
            path.unlink()
    except OSError:
        pass


# -- authz dev token ------------------------------------------------------------------

_NEEDS = ("AUTHZ_DEV_COGNITO_ENDPOINT", "AUTHZ_DEV_CLIENT_ID", "AWS_REGION")
_NEEDS_CLIENT = ("AUTHZ_DEV_TOKEN_URL", "AUTHZ_DEV_M2M_CLIENT_ID", "AUTHZ_DEV_M2M_CLIENT_SECRET")


class _NoStack(click.ClickException):
    exit_code = 2


def _stack_env(names: tuple[str, ...]) -> Mapping[str, str]:
    """The running stack's variables: from the environment, else from .authz-dev.env."""
    if all(os.environ.get(n) for n in names):
        return os.environ
    found: dict[str, str] = {}
    if ENV_FILE.is_file():
        import shlex  # noqa: PLC0415

        for line in ENV_FILE.read_text().splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            found[name] = "".join(shlex.split(value))
    missing = [n for n in names if not found.get(n)]
    if missing:
        raise _NoStack(
            f"no running `authz dev` found: {', '.join(missing)} not set and no {ENV_FILE} here. "
            f"Start `authz dev` (or `make dev`) in another shell, then run this from the same "
            f"folder or `source {ENV_FILE}`."
        )
    return found


@dev.command("token")
@click.argument("user", required=False)
@click.option(
    "--client",
    is_flag=True,
    help="A client-credentials token of the demo machine client (scope orders/read).",
)
@click.option("--id", "id_token", is_flag=True, help="The ID token instead of the access token.")
def token(user: str | None, client: bool, id_token: bool) -> int:
    """Print a fresh token of the running `authz dev` stack (they last one hour).

    USER is a demo user (admin, reader, intern, guest):
    `export READER_TOKEN=$(authz dev token reader)`.
    """
    if client == (user is not None):
        raise click.UsageError("give a demo USER, or --client for the machine client")
    if user is None:
        click.echo(_client_token(_stack_env(_NEEDS_CLIENT)))
    else:
        click.echo(_user_token(_stack_env(_NEEDS), user, "IdToken" if id_token else "AccessToken"))
    return 0


def _user_token(env: Mapping[str, str], user: str, kind: str) -> str:
    import boto3  # type: ignore[import-untyped]  # noqa: PLC0415  # heavy; this command only
    import botocore.exceptions  # type: ignore[import-untyped]  # noqa: PLC0415

    from authz.dev.cognito import DEMO_PASSWORD  # noqa: PLC0415
    from authz.dev.stack import DEMO_USERS  # noqa: PLC0415

    endpoint = env["AUTHZ_DEV_COGNITO_ENDPOINT"]
    cognito = boto3.client(
        "cognito-idp",
        region_name=env["AWS_REGION"],
        endpoint_url=endpoint,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106  # moto accepts any credentials
    )
    try:
        result: Any = cognito.initiate_auth(
            ClientId=env["AUTHZ_DEV_CLIENT_ID"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": DEMO_PASSWORD},
        )
    except botocore.exceptions.EndpointConnectionError:
        raise _NoStack(
            f"the local Cognito at {endpoint} does not answer: is `authz dev` running?"
        ) from None
    except botocore.exceptions.ClientError:
        raise click.ClickException(
            f"{user!r} is not a demo user of the local stack (demo users: {', '.join(DEMO_USERS)})"
        ) from None
    return str(result["AuthenticationResult"][kind])


def _client_token(env: Mapping[str, str]) -> str:
    import requests  # noqa: PLC0415

    url = env["AUTHZ_DEV_TOKEN_URL"]
    try:
        answer = requests.post(
            url,
            auth=(env["AUTHZ_DEV_M2M_CLIENT_ID"], env["AUTHZ_DEV_M2M_CLIENT_SECRET"]),
            data={"grant_type": "client_credentials"},
            timeout=10,
        )
    except requests.ConnectionError:
        raise _NoStack(
            f"the local token endpoint {url} does not answer: is `authz dev` running?"
        ) from None
    if answer.status_code != 200:
        raise click.ClickException(
            f"the token endpoint answered {answer.status_code}: {answer.text}"
        )
    return str(answer.json()["access_token"])
