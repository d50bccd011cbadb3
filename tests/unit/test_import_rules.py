"""The layers of docs/architecture.md hold: import-linter's contracts in pyproject.toml pass."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """Run the venv's ``lint-imports`` on the ``authz`` package found in ``project``."""
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(project / "pyproject.toml"), "--no-cache"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_of_the_tree(tmp_path: Path) -> Path:
    """A copy of ``authz`` and its pyproject.toml, to break on purpose."""
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "authz", tmp_path / "authz", ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_every_import_contract_is_kept() -> None:
    """authz.policy stays pure, every layer imports only downwards, nothing imports authz.cli
    or authz.dev but the entry points above them."""
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("policy/__init__.py", "import authz.settings", "Each module imports only"),
        ("policy/__init__.py", "import boto3", "The policy core uses no third-party"),
        ("store/__init__.py", "import authz.dev", "Each module imports only"),
        ("service/__init__.py", "import aws_lambda_powertools", "Only the handlers"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    """The contracts bite: one upward or third-party import in a copy of the tree fails them."""
    project = copy_of_the_tree(tmp_path)
    target = project / "authz" / module
    target.write_text(f"{target.read_text()}\n{line}\n", encoding="utf-8")
    result = lint_imports(project)
    assert result.returncode != 0
    assert contract in result.stdout
    assert "BROKEN" in result.stdout


def test_a_new_module_must_be_placed_in_a_layer(tmp_path: Path) -> None:
    """The layers contract is exhaustive: a module of authz that no layer names fails it."""
    project = copy_of_the_tree(tmp_path)
    (project / "authz" / "stray.py").write_text('"""Placed in no layer."""\n', encoding="utf-8")
    result = lint_imports(project)
    assert result.returncode != 0
    assert "authz.stray" in result.stdout + result.stderr


def test_architecture_document_names_every_layer() -> None:
    """docs/architecture.md's layer map names every module the layers contract places."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["id"] == "layers")["layers"]
    names = {name.strip() for layer in layers for name in re.split(r"[|:]", layer)}
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    diagram = doc.split("## 2. Layers", 1)[1].split("```", 2)[1]
    missing = {n for n in names if f"{n}/" not in diagram and f"{n}.py" not in diagram}
    assert not missing
