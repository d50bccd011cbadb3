"""The first hour: set-up that says what it does, and `make test` that is exactly CI."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

from tests.package_check import check_package

ROOT = Path(__file__).resolve().parents[2]


def _recipe(target: str) -> list[str]:
    """The recipe lines of ``target`` in the Makefile."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"{re.escape(target)}\s*:", line))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_step_prints_a_status_line_before_and_its_duration_after() -> None:
    result = subprocess.run(
        [ROOT / "scripts" / "step", "Doing a thing", "true"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.splitlines() == ["==> Doing a thing ...", "    done in 0 s"]


def test_step_passes_a_failure_on_and_says_which_step_failed() -> None:
    result = subprocess.run(
        [ROOT / "scripts" / "step", "Breaking", "sh", "-c", "exit 3"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 3
    assert "FAILED" in result.stderr
    assert "Breaking" in result.stderr


def test_every_slow_setup_step_announces_itself() -> None:
    # pip and npm were silent for ~107 s on a first `make dev`.
    for target in ("$(VENV)/.installed", "node_modules/.installed", "setup"):
        commands = [line for line in _recipe(target) if "touch $@" not in line]
        commands = [line for line in commands if not line.startswith("@command -v")]
        assert commands, target
        assert all(line.startswith("@scripts/step ") for line in commands), commands


def test_license_is_an_spdx_string_so_setuptools_prints_no_deprecation_blocks() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    requires = project["build-system"]["requires"]
    assert any(re.fullmatch(r"setuptools>=(7[7-9]|[89]\d)(\.\d+)*", r) for r in requires)


def test_make_test_is_exactly_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [
        line.strip() for line in ci.splitlines() if line.strip() and not line.startswith("#")
    ]
    assert "make test" in commands
    # Nothing in CI's environment may change what `make test` runs.
    assert "HYPOTHESIS_PROFILE" not in ci
    assert _recipe("pytest") == ["HYPOTHESIS_PROFILE=ci $(PY) -m pytest -q"]
    assert _recipe("test") == []
    test_line = next(
        line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("test:")
    )
    assert test_line.split(":", 1)[1].split() == [
        "setup",
        "lint",
        "typecheck",
        "pytest",
        "deploy-check",
    ]


def test_the_package_check_reads_its_code_list_from_serverless_yml() -> None:
    check = check_package()
    patterns = check.package_patterns()
    assert check.excluded_folders(patterns) == ["authz/dev/", "authz/cli/"]
    assert check.packaged("authz/handlers/admin/app.py", patterns)
    assert not check.packaged("authz/cli/main.py", patterns)
    assert not check.packaged("authz/dev/stack.py", patterns)
    # authz's bytecode for the runtime only (scripts/serverless-bytecode.js builds it).
    assert check.packaged("authz/store/__pycache__/memory.cpython-312.pyc", patterns)
    assert not check.packaged("authz/store/__pycache__/memory.cpython-311.pyc", patterns)
    assert not check.packaged("authz/dev/__pycache__/stack.cpython-312.pyc", patterns)
    assert not check.packaged("authz/cli/__pycache__/main.cpython-312.pyc", patterns)
    assert not check.packaged("tests/unit/test_project_setup.py", patterns)
    code = check.code_files()
    assert "authz/store/memory.py" in code
    assert not any(f.startswith(("authz/cli/", "authz/dev/")) for f in code)
