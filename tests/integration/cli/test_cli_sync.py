"""``authz policies sync|list|get|history|delete|export`` against DynamoDB Local."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from authz.errors import NotFoundError
from authz.policy import PolicyDocument
from authz.policy.selector import DEFAULT, Selector
from authz.settings import Settings
from authz.store.files import read_tree
from authz.store.repository import DynamoRepository
from tests.integration.cli.conftest import AUTHZ, POLICIES, REPO, Runner, base_env

pytestmark = pytest.mark.integration

READERS = Selector("group", "readers")
INTERNS = Selector("group", "interns")


def _stored(repository: DynamoRepository) -> dict[Selector, int]:
    return {r.selector: r.version for r in repository.list(limit=1000).items}


def test_sync_plan_apply_resync_change_prune(
    authz: Runner, repository: DynamoRepository, tmp_path: Path
) -> None:
    """A plan writes nothing, --apply writes, re-sync is a no-op, edits diff, --prune removes."""
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    expected = set(read_tree(tree).policies)
    assert len(expected) >= 4

    plan = authz("policies", "sync", str(tree))
    assert plan.code == 0, plan.output
    for selector in expected:
        assert f"+ {selector} add" in plan.stdout
    assert "Dry run: nothing was written" in plan.stdout
    assert _stored(repository) == {}

    applied = authz("policies", "sync", str(tree), "--apply", "--actor", "ci:test")
    assert applied.code == 0, applied.output
    assert f"Applied: {len(expected)} added, 0 changed, 0 removed" in applied.stdout
    assert _stored(repository) == dict.fromkeys(expected, 1)
    assert repository.get(READERS).updated_by == "ci:test"

    again = authz("policies", "sync", str(tree))
    assert again.code == 0, again.output
    assert "No changes." in again.stdout

    readers_file = tree / "group" / "readers.json"
    doc = json.loads(readers_file.read_text("utf-8"))
    old_resources = doc["Statement"][0]["Resource"]
    doc["Statement"][0]["Resource"] = ["arn:aws:execute-api:*:*:*/*/GET/orders/v2/*"]
    readers_file.write_text(json.dumps(doc), "utf-8")
    (tree / "group" / "interns.json").unlink()
    changed = authz("policies", "sync", str(tree), "--apply")
    assert changed.code == 0, changed.output
    assert "~ group:readers change version 1" in changed.stdout
    for old in old_resources:
        assert f'-        "{old}"' in changed.stdout
    assert '+        "arn:aws:execute-api:*:*:*/*/GET/orders/v2/*"' in changed.stdout
    assert "= group:interns version 1 not in files, kept" in changed.stdout
    assert repository.get(READERS).version == 2
    assert repository.get(INTERNS).version == 1

    pruned = authz("policies", "sync", str(tree), "--prune", "--apply", "--yes")
    assert pruned.code == 0, pruned.output
    assert "- group:interns remove version 1" in pruned.stdout
    assert "Applied: 0 added, 0 changed, 1 removed" in pruned.stdout
    with pytest.raises(NotFoundError):
        repository.get(INTERNS)

    # Reading commands, on the same table.
    listed = authz("policies", "list", "--json")
    assert listed.code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert {r["selector"] for r in rows} == {str(s) for s in expected - {INTERNS}}
    readers_row = next(r for r in rows if r["selector"] == "group:readers")
    assert readers_row["version"] == 2
    assert readers_row["document"]["Statement"][0]["Resource"] == [
        "arn:aws:execute-api:*:*:*/*/GET/orders/v2/*"
    ]

    got = authz("policies", "get", "group", "readers", "--json")
    assert got.code == 0, got.output
    assert json.loads(got.stdout)["version"] == 2

    history = authz("policies", "history", "group:readers", "--json")
    assert history.code == 0, history.output
    assert [(e["version"], e["action"]) for e in json.loads(history.stdout)] == [
        (2, "update"),
        (1, "create"),
    ]

    stale = authz("policies", "delete", "group:readers", "--if-version", "1", "--yes")
    assert stale.code == 1
    assert "version 2, not 1" in stale.stderr
    assert repository.get(READERS).version == 2
    deleted = authz("policies", "delete", "group:readers", "--if-version", "2", "--yes")
    assert deleted.code == 0, deleted.output
    with pytest.raises(NotFoundError):
        repository.get(READERS)

    exported = authz("policies", "export", str(tmp_path / "exported"))
    assert exported.code == 0, exported.output
    back = read_tree(tmp_path / "exported")
    assert back.ok, back.problems
    assert set(back.policies) == expected - {INTERNS, READERS}
    assert back.policies[DEFAULT].document == repository.get(DEFAULT).document


def test_concurrent_edit_between_plan_and_apply_is_a_conflict(
    store_settings: Settings, repository: DynamoRepository, tmp_path: Path
) -> None:
    """An edit landing while apply awaits confirmation fails that item (exit 1); others apply."""
    old = PolicyDocument.from_dict(json.loads((POLICIES / "group" / "readers.json").read_text()))
    writers = PolicyDocument.from_dict(
        json.loads((POLICIES / "group" / "writers.json").read_text())
    )
    repository.put(READERS, old, actor="seed")
    repository.put(Selector("group", "gone"), writers, actor="seed")
    tree = tmp_path / "policies"
    (tree / "group").mkdir(parents=True)
    changed = json.loads((POLICIES / "group" / "readers.json").read_text())
    changed["Statement"][0]["Sid"] = "Changed"
    (tree / "group" / "readers.json").write_text(json.dumps(changed))

    proc = subprocess.Popen(
        [str(AUTHZ), "policies", "sync", str(tree), "--apply", "--prune"],
        env=base_env(store_settings),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stderr is not None
        assert proc.stdin is not None
        prompt = ""
        deadline = time.monotonic() + 30
        while "Remove 1 stored policies?" not in prompt and time.monotonic() < deadline:
            prompt += proc.stderr.read(1)
        assert "Remove 1 stored policies?" in prompt
        # The plan has read version 1; someone else writes version 2 now.
        repository.put(READERS, writers, actor="someone-else", expected_version=1)
        stdout, stderr = proc.communicate("y\n", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stdout + stderr
    assert "group:readers: conflict: changed by someone else" in stderr
    assert "1 of 2 changes failed" in stderr
    assert repository.get(READERS).updated_by == "someone-else"
    with pytest.raises(NotFoundError):
        repository.get(Selector("group", "gone"))


ORDERS_API = REPO / "examples" / "orders-api.yaml"


def _seeded(repository: DynamoRepository, tmp_path: Path) -> Path:
    """The table holds policies/; a copy of it (with no serverless.yml beside) is returned."""
    for selector, file in read_tree(POLICIES).policies.items():
        repository.put(selector, file.document, actor="seed")
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    return tree


def _impact_blocks(lines: list[str]) -> dict[str, list[list[str]]]:
    """The impact lines under each planned policy, split into words."""
    blocks: dict[str, list[list[str]]] = {}
    current = ""
    for line in lines:
        if line[:2] in {"+ ", "~ ", "- ", "= "}:
            current = line.split()[1]
            blocks[current] = []
        elif "→" in line:
            blocks[current].append(line.split())
    return blocks


def _edit_readers(tree: Path, resources: list[str]) -> None:
    readers = tree / "group" / "readers.json"
    doc = json.loads(readers.read_text("utf-8"))
    doc["Statement"][0]["Resource"] = resources
    readers.write_text(json.dumps(doc), "utf-8")


def test_plan_lists_the_matrix_cells_each_change_alters_widenings_first(
    authz: Runner, repository: DynamoRepository, tmp_path: Path
) -> None:
    tree = _seeded(repository, tmp_path)
    # Readers lose GET /orders and gain DELETE on one order: one narrowing, one widening.
    _edit_readers(tree, ["execute-api:/*/GET/orders/*", "execute-api:/*/DELETE/orders/*"])
    interns = tree / "group" / "interns.json"
    interns.unlink()

    plan = authz("policies", "sync", str(tree), "--prune", "--routes", str(ORDERS_API))
    assert plan.code == 0, plan.output
    lines = plan.stdout.splitlines()
    assert f"Access-matrix impact over 10 routes from {ORDERS_API}:" in lines
    blocks = _impact_blocks(lines)
    assert blocks["group:readers"] == [
        ["group:readers", "DELETE", "/orders/{id}", "deny", "→", "ALLOW"],
        ["group:readers", "GET", "/orders", "allow", "→", "deny"],
    ]
    # Without the interns' Deny their row is default's: DELETE is only implicitly denied
    # now, and who may do what under a user's {proxy+} changed with it.
    assert blocks["group:interns"] == [
        ["group:interns", "DELETE", "/orders/{id}", "explicit-deny", "→", "DENY"],
        ["group:interns", "ANY", "/users/{userId}/{proxy+}", "conditional", "→", "conditional"],
    ]
    # A plan writes nothing, impact or not.
    assert repository.get(READERS).version == 1
    assert repository.get(INTERNS).version == 1


def test_plan_uses_a_serverless_yml_beside_the_policies_and_hints_without_routes(
    authz: Runner, repository: DynamoRepository, tmp_path: Path
) -> None:
    tree = _seeded(repository, tmp_path)
    _edit_readers(tree, ["execute-api:/*/GET/orders", "execute-api:/*/*/orders/*"])

    hinted = authz("policies", "sync", str(tree))
    assert hinted.code == 0, hinted.output
    assert "→" not in hinted.stdout
    assert "To see what each change does to the access matrix: give --routes FILE" in (
        hinted.stdout
    )

    (tmp_path / "serverless.yml").write_text(
        "functions:\n  orders:\n    events:\n      - http: PUT orders/{id}\n"
    )
    beside = authz("policies", "sync", str(tree))
    assert beside.code == 0, beside.output
    assert [ln.split() for ln in beside.stdout.splitlines() if "→" in ln] == [
        ["group:readers", "PUT", "/orders/{id}", "deny", "→", "ALLOW"]
    ]
    assert f"from {tmp_path / 'serverless.yml'}" in beside.stdout

    repeated = authz("policies", "sync", str(tree), "--route", "GET /health")
    assert repeated.code == 0, repeated.output
    assert "access matrix: no cell changes" in repeated.stdout


def test_an_unreadable_route_source_stops_sync_before_anything_is_written(
    authz: Runner, repository: DynamoRepository, tmp_path: Path
) -> None:
    tree = _seeded(repository, tmp_path)
    _edit_readers(tree, ["execute-api:/*/*/orders/*"])
    bad = tmp_path / "api.json"
    bad.write_text('{"paths": {"/a": }}')
    result = authz("policies", "sync", str(tree), "--apply", "--routes", str(bad))
    assert result.code == 2, result.output
    assert result.stderr.startswith(f"error: {bad}:1:")
    assert repository.get(READERS).version == 1
