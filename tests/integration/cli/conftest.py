"""Run the real ``authz`` console script against DynamoDB Local.

Every CLI test starts the installed entry point in a subprocess (as a user
would), with an environment holding only what it sets: the table and
endpoint of DynamoDB Local, fake AWS credentials, a wide terminal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from authz.settings import Settings
from tests.fixtures.dynamodb import FAKE_AWS_ENV

AUTHZ = Path(sys.executable).parent / "authz"
REPO = Path(__file__).resolve().parents[3]
POLICIES = REPO / "policies"


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


Runner = Callable[..., Result]


def base_env(settings: Settings | None = None, **extra: str) -> dict[str, str]:
    """A clean environment: no AUTHZ_* from the caller, fake credentials, no colours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHZ_", "AWS_"))}
    env.update(FAKE_AWS_ENV)
    env.update(
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
        COLUMNS="200",
        NO_COLOR="1",
    )
    if settings is not None:
        env["AUTHZ_TABLE"] = settings.table
        if settings.dynamodb_endpoint:
            env["AUTHZ_DYNAMODB_ENDPOINT"] = settings.dynamodb_endpoint
    env.update(extra)
    return env


def run_authz(
    *args: str, env: Mapping[str, str], input: str | None = None, cwd: Path = REPO
) -> Result:
    """One invocation of the console script."""
    done = subprocess.run(
        [str(AUTHZ), *args],
        env=dict(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def authz_script() -> Path:
    """The installed console script (fails, never skips, if the package is not installed)."""
    assert AUTHZ.exists() or shutil.which("authz"), f"{AUTHZ} missing: pip install -e ."
    return AUTHZ


@pytest.fixture
def authz(authz_script: Path, store_settings: Settings) -> Runner:
    """``authz(*args)``: the CLI on this test's table (see ``store_settings``)."""
    env = base_env(store_settings)

    def run(*args: str, input: str | None = None, **extra: str) -> Result:
        return run_authz(*args, env={**env, **extra}, input=input)

    return run
