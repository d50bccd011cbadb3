"""The CLI and the running `authz dev` stack behave as one, with no variable set by hand."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.e2e.processes import AUTHZ, ROOT, start_dev

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the stack writes .authz-dev.env: a folder of its own, as a project folder is."""
    return tmp_path_factory.mktemp("project")


@pytest.fixture(scope="module")
def dev(workdir: Path) -> Iterator[dict[str, Any]]:
    env_file = workdir / ".authz-dev.env"
    proc, info = start_dev(env_file=env_file)
    try:
        yield info
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
        # The file describes a stack that no longer runs: it goes with it.
        assert not env_file.exists()


def _sourced(env_file: Path, cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """``command`` in a shell that only did ``source .authz-dev.env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHZ_", "AWS_"))}
    line = f"source {shlex.quote(str(env_file))} && {shlex.join(command)}"
    return subprocess.run(
        ["bash", "-c", line],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_authz_dev_writes_the_printed_export_block_to_a_private_env_file(
    dev: dict[str, Any], workdir: Path
) -> None:
    env_file = workdir / ".authz-dev.env"
    text = env_file.read_text()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600  # it holds a client secret
    names = [line.split("=", 1)[0].removeprefix("export ") for line in text.splitlines()]
    for needed in (
        "AUTHZ_TABLE",
        "AUTHZ_DYNAMODB_ENDPOINT",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AUTHZ_USER_POOL_ID",
        "AUTHZ_CLIENT_IDS",
        "AUTHZ_JWKS_URL",
    ):
        assert needed in names
    assert dev["env"]["AUTHZ_DYNAMODB_ENDPOINT"] == dev["dynamodb_endpoint"]
    assert f"export AUTHZ_DEV_URL={dev['url']}" in text
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".authz-dev.env"], cwd=ROOT, timeout=30, check=False
    )
    assert ignored.returncode == 0


def test_cli_lists_simulates_and_verifies_after_sourcing_the_env_file(
    dev: dict[str, Any], workdir: Path, tmp_path: Path
) -> None:
    env_file = workdir / ".authz-dev.env"
    listed = _sourced(env_file, tmp_path, str(AUTHZ), "policies", "list")
    assert listed.returncode == 0, listed.stderr
    assert "group:readers" in listed.stdout
    simulated = _sourced(
        env_file, tmp_path, str(AUTHZ), "simulate", "-g", "readers", "-X", "GET", "-p", "/orders/1"
    )
    assert simulated.returncode == 0, simulated.stderr
    fresh = _sourced(env_file, tmp_path, str(AUTHZ), "dev", "token", "reader")
    assert fresh.returncode == 0, fresh.stderr
    token = fresh.stdout.strip()
    inspected = _sourced(env_file, tmp_path, str(AUTHZ), "token", "inspect", token, "--verify")
    assert inspected.returncode == 0, inspected.stderr
    assert "VERIFIED" in inspected.stdout


def test_dev_token_prints_a_fresh_token_that_the_gateway_accepts(
    dev: dict[str, Any], workdir: Path
) -> None:
    # From the folder of .authz-dev.env it needs no sourcing: it reads the file.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHZ_", "AWS_"))}
    fresh = subprocess.run(
        [str(AUTHZ), "dev", "token", "reader"],
        cwd=workdir,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = fresh.stdout.strip()
    assert token != dev["users"]["reader"]["token"]
    answer = requests.get(
        dev["url"] + "/orders/7", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 200


def test_client_credentials_token_carries_the_orders_read_scope_and_reads_orders(
    dev: dict[str, Any],
) -> None:
    machine = dev["machine_client"]
    granted = requests.post(
        dev["token_url"],
        auth=(machine["client_id"], machine["client_secret"]),
        data={"grant_type": "client_credentials", "scope": "orders/read"},
        timeout=10,
    )
    assert granted.status_code == 200
    token = granted.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    read = requests.get(dev["url"] + "/orders/7", headers=headers, timeout=10)
    assert read.status_code == 200
    assert read.json()["authorizer"]["client_id"] == machine["client_id"]
    write = requests.delete(dev["url"] + "/orders/7", headers=headers, timeout=10)
    assert write.status_code == 403
    wrong = requests.post(
        dev["token_url"],
        auth=(machine["client_id"], "not-the-secret"),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid_client"})
    unknown_scope = requests.post(
        dev["token_url"],
        auth=(machine["client_id"], machine["client_secret"]),
        data={"grant_type": "client_credentials", "scope": "orders/write"},
        timeout=10,
    )
    assert (unknown_scope.status_code, unknown_scope.json()) == (400, {"error": "invalid_scope"})


def test_dev_token_without_a_running_stack_names_what_to_do(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHZ_", "AWS_"))}
    result = subprocess.run(
        [str(AUTHZ), "dev", "token", "reader"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "AUTHZ_DEV_COGNITO_ENDPOINT" in result.stderr
    assert "authz dev" in result.stderr


def test_cli_sync_apply_reaches_the_running_gateway_at_once(
    dev: dict[str, Any], workdir: Path, tmp_path: Path
) -> None:
    env_file = workdir / ".authz-dev.env"
    """A CLI write flushes the local stage like an admin API write: no 300 s cached 403."""
    tree = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", tree)
    readers = json.loads((tree / "group" / "readers.json").read_text())
    readers["Statement"].append(
        {
            "Sid": "DeleteOrders",
            "Effect": "Allow",
            "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*/DELETE/orders/*",
        }
    )
    (tree / "group" / "readers.json").write_text(json.dumps(readers))
    headers = {"Authorization": f"Bearer {dev['users']['reader']['token']}"}
    url = dev["url"] + "/orders/11"
    assert requests.delete(url, headers=headers, timeout=10).status_code == 403  # now cached
    try:
        applied = _sourced(env_file, tmp_path, str(AUTHZ), "policies", "sync", str(tree), "--apply")
        assert applied.returncode == 0, applied.stderr
        assert "visible by" in applied.stdout
        assert "flushed authzdev/dev" in applied.stdout
        # The sync returned after the flush, which waited one epoch interval (1 s
        # in the dev stack): the very next request is decided on the new policy.
        assert requests.delete(url, headers=headers, timeout=10).status_code == 200
    finally:
        restored = _sourced(
            env_file, tmp_path, str(AUTHZ), "policies", "sync", str(ROOT / "policies"), "--apply"
        )
        assert restored.returncode == 0, restored.stderr
    assert requests.delete(url, headers=headers, timeout=10).status_code == 403


def test_matrix_of_the_demo_api_needs_no_flag_after_sourcing_the_env_file(
    dev: dict[str, Any], workdir: Path, tmp_path: Path
) -> None:
    """`authz dev` names its demo API's routes (AUTHZ_ROUTES): `authz matrix` just works."""
    demo_api = ROOT / "examples" / "orders-api.yaml"
    assert dev["routes"] == str(demo_api)
    env_file = workdir / ".authz-dev.env"
    assert f"export AUTHZ_ROUTES={demo_api}" in env_file.read_text().splitlines()
    drawn = _sourced(env_file, tmp_path, str(AUTHZ), "matrix", "--json")
    assert drawn.returncode == 0, drawn.stderr
    grid = json.loads(drawn.stdout)
    assert grid["routes"][:3] == ["GET /health", "GET /orders", "POST /orders"]
    assert "group:readers" in grid["subjects"]
    assert grid["cells"]["group:readers"]["GET /orders/{id}"] == "allow"
    assert grid["cells"]["group:interns"]["DELETE /orders/{id}"] == "explicit-deny"
    text = _sourced(env_file, tmp_path, str(AUTHZ), "matrix")
    assert text.returncode == 0, text.stderr
    assert "routes from AUTHZ_ROUTES" in text.stderr
