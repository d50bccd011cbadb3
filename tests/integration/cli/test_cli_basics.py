"""``authz table create``, ``authz policies validate`` and the exit-code contract (0/1/2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from authz.dev.dynamodb import free_port
from authz.settings import Settings
from authz.store.repository import DynamoRepository
from tests.integration.cli.conftest import POLICIES, Runner, base_env, run_authz

pytestmark = pytest.mark.integration


def test_table_create_is_idempotent(authz: Runner, store_settings: Settings) -> None:
    """The first run creates the table, the second says it exists; both exit 0."""
    first = authz("table", "create")
    assert first.code == 0, first.output
    assert f"Created table {store_settings.table}" in first.stdout
    repo = DynamoRepository(store_settings)
    try:
        assert repo.epoch() == 0  # the table answers
        second = authz("table", "create")
        assert second.code == 0, second.output
        assert "already exists" in second.stdout
    finally:
        repo.delete_table()


def test_validate_reports_every_error_with_file_and_json_path(
    authz: Runner, tmp_path: Path
) -> None:
    """Invalid files are listed with file and JSON path (exit 1); unknown files get a warning."""
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    bad = json.loads((tree / "group" / "readers.json").read_text())
    bad["Statement"][0]["Effect"] = "Permit"
    bad["Statement"][0]["Condition"] = {}
    (tree / "group" / "readers.json").write_text(json.dumps(bad))
    (tree / "scope" / "orders%2fread.json").write_text((tree / "default.json").read_text())
    (tree / "group" / "readers.token.json").write_text('{"claims": {"sub": "x"}}')
    (tree / "notes.txt").write_text("not a policy")

    result = authz("policies", "validate", str(tree))
    assert result.code == 1, result.output
    readers = tree / "group" / "readers.json"
    assert f"{readers}: Statement[0].Effect: " in result.stderr
    assert f"{readers}: Statement[0].Condition: " in result.stderr
    assert f"{tree / 'scope' / 'orders%2fread.json'}: bad file name" in result.stderr
    assert "orders%2Fread" in result.stderr
    assert f"{tree / 'group' / 'readers.token.json'}: claims.sub: " in result.stderr
    assert f"warning: {tree / 'notes.txt'}: not part of the policies format" in result.stderr
    assert "4 problem(s) in 3 file(s)" in result.stdout

    refused = authz("policies", "sync", str(tree), "--apply")
    assert refused.code == 1
    assert f"4 problem(s) in {tree}; nothing was written" in refused.stderr


def test_validate_accepts_the_example_policies(authz: Runner) -> None:
    """The repository's own policies/ directory is valid (exit 0)."""
    result = authz("policies", "validate", str(POLICIES), "--json")
    assert result.code == 0, result.output
    body = json.loads(result.stdout)
    assert body["valid"] is True
    assert "group:readers" in body["policies"]
    assert body["problems"] == []


def test_usage_and_configuration_errors_exit_2(authz: Runner) -> None:
    """Missing --path, a malformed or an unknown AUTHZ_ variable are usage errors (exit 2)."""
    missing = authz("simulate", "-g", "readers", "-X", "GET")
    assert missing.code == 2
    assert "give --method and --path" in missing.stderr
    bad_table = authz("policies", "list", AUTHZ_TABLE="no spaces allowed")
    assert bad_table.code == 2
    assert "configuration error: AUTHZ_TABLE" in bad_table.stderr
    assert "Traceback" not in bad_table.stderr
    typo = authz("table", "create", AUTHZ_TABLES="x")
    assert typo.code == 2
    assert "AUTHZ_TABLES: unknown variable" in typo.stderr


def test_unreachable_dynamodb_names_the_endpoint(authz_script: Path) -> None:
    """With nothing listening at the endpoint, the CLI says so (exit 1) without a traceback."""
    endpoint = f"http://127.0.0.1:{free_port()}"
    env = base_env(AUTHZ_DYNAMODB_ENDPOINT=endpoint, AUTHZ_TABLE="authz-nowhere")
    result = run_authz("policies", "list", env=env)
    assert result.code == 1, result.output
    assert f"DynamoDB is unreachable at {endpoint} (table authz-nowhere)" in result.stderr
    assert "Traceback" not in result.stderr
