"""The CLI's guard rails against DynamoDB Local: warnings and the lock-out guard."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from authz.errors import NotFoundError
from authz.policy.selector import DEFAULT, Selector
from authz.store.repository import DynamoRepository
from tests.integration.cli.conftest import POLICIES, Runner

pytestmark = pytest.mark.integration

ADMINS = Selector("group", "authz-admins")
DENY_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*"}],
}
LITERAL = "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/orders/*"


def _tree(tmp_path: Path) -> Path:
    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    return tree


def _applied(authz: Runner, tree: Path) -> None:
    done = authz("policies", "sync", str(tree), "--apply", "--yes")
    assert done.code == 0, done.output


def test_sync_apply_of_deny_all_default_is_refused_as_lock_out(
    authz: Runner, repository: DynamoRepository, tmp_path: Path
) -> None:
    tree = _tree(tmp_path)
    _applied(authz, tree)
    (tree / "default.json").write_text(json.dumps(DENY_ALL), "utf-8")

    plan = authz("policies", "sync", str(tree))
    assert plan.code == 0, plan.output
    assert "would lock the admin group out" in plan.stderr

    refused = authz("policies", "sync", str(tree), "--apply")
    assert refused.code == 1, refused.output
    assert "would lock the admin group out" in refused.stderr
    assert "--force" in refused.stderr
    assert repository.get(DEFAULT).version == 1

    forced = authz("policies", "sync", str(tree), "--apply", "--force")
    assert forced.code == 0, forced.output
    assert repository.get(DEFAULT).version == 2
    assert repository.history(DEFAULT).items[0].forced is True


def test_sync_prune_removing_admin_group_policy_is_refused_as_lock_out(
    authz: Runner, repository: DynamoRepository, tmp_path: Path
) -> None:
    tree = _tree(tmp_path)
    _applied(authz, tree)
    (tree / "group" / "authz-admins.json").unlink()
    refused = authz("policies", "sync", str(tree), "--apply", "--prune", "--yes")
    assert refused.code == 1, refused.output
    assert "DELETE /policies/group/authz-admins" in refused.stderr
    assert repository.get(ADMINS).version == 1


def test_delete_of_admin_group_policy_is_refused_without_force(
    authz: Runner, repository: DynamoRepository, tmp_path: Path
) -> None:
    _applied(authz, _tree(tmp_path))
    refused = authz("policies", "delete", "group:authz-admins", "--yes")
    assert refused.code == 1, refused.output
    assert "would lock the admin group out" in refused.stderr
    assert repository.get(ADMINS).version == 1

    forced = authz("policies", "delete", "group:authz-admins", "--yes", "--force")
    assert forced.code == 0, forced.output
    with pytest.raises(NotFoundError):
        repository.get(ADMINS)
    (entry, *_older) = repository.history(ADMINS).items
    assert (entry.action, entry.forced) == ("delete", True)
    shown = authz("policies", "history", "group:authz-admins", "--json")
    assert json.loads(shown.stdout)[0]["forced"] is True


def test_delete_of_other_group_is_not_judged_by_the_guard(
    authz: Runner, repository: DynamoRepository, tmp_path: Path
) -> None:
    _applied(authz, _tree(tmp_path))
    done = authz("policies", "delete", "group:interns", "--yes")
    assert done.code == 0, done.output
    assert repository.history(Selector("group", "interns")).items[0].forced is False


def test_validate_warns_with_file_and_path_and_keeps_exit_code(
    tmp_path: Path, authz: Runner
) -> None:
    tree = tmp_path / "p"
    (tree / "group").mkdir(parents=True)
    (tree / "default.json").write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Action": "execute-api:Invoke",
                    "Resource": "arn:aws:execute-api:*:*:*/*/GET/orders/*",
                },
            }
        ),
        "utf-8",
    )
    (tree / "group" / "ok.json").write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": [LITERAL]}
                ],
            }
        ),
        "utf-8",
    )
    done = authz("policies", "validate", str(tree))
    assert done.code == 0, done.output
    assert f"{tree / 'default.json'}: Statement.Resource: warning: " in done.stderr
    assert "DELETE /GET/orders/1" in done.stderr
    assert "ok.json" not in done.stderr

    as_json = authz("policies", "validate", str(tree), "--json")
    assert as_json.code == 0, as_json.output
    (w,) = json.loads(as_json.stdout)["warnings"]
    assert w["file"] == str(tree / "default.json")
    assert (w["path"], w["request"]) == ("Statement.Resource", "DELETE /GET/orders/1")


def test_sync_prints_warnings_but_never_blocks(
    authz: Runner, repository: DynamoRepository, tmp_path: Path
) -> None:
    tree = _tree(tmp_path)
    wide = tree / "group" / "wide.json"
    wide.write_text(json.dumps(_doc("arn:aws:execute-api:*:*:*/*/GET/orders/*")), "utf-8")
    plan = authz("policies", "sync", str(tree))
    applied = authz("policies", "sync", str(tree), "--apply")
    assert (plan.code, applied.code) == (0, 0), applied.output
    for run in (plan, applied):
        assert f"{wide}: Statement[0].Resource[0]: warning: " in run.stderr
        assert "DELETE /GET/orders/1" in run.stderr
    assert repository.get(Selector("group", "wide")).version == 1


def _doc(*resources: str) -> dict[str, object]:
    statement = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": list(resources)}
    return {"Version": "2012-10-17", "Statement": [statement]}
