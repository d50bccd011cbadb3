"""Every README example marked runnable gives its documented answer against a fresh `authz dev`."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.integration.e2e.processes import AUTHZ, ROOT, start_dev
from tests.integration.e2e.readme_examples import blocks, describe, examples, script

pytestmark = pytest.mark.integration

README = ROOT / "README.md"


def test_readme_marks_its_quick_start_admin_and_cli_examples_as_runnable() -> None:
    found = blocks(README)
    assert len(found) >= 3
    commands = [e.command for block in found for e in examples(block)]
    assert any(c.startswith("curl") and "/simulate" in c for c in commands)
    assert any(c.startswith("authz policies") for c in commands)
    assert any("$SERVICE_TOKEN" in c for c in commands)


def test_readme_runs_the_revocation_demo_revoke_401_fresh_sign_in_200() -> None:
    """The live run below proves revoke -> 401 -> fresh sign-in -> 200, in this order."""
    items = [e for block in blocks(README) for e in examples(block)]
    reader = [i for i, e in enumerate(items) if "$READER_TOKEN" in e.command and e.kind == "curl"]
    [post] = [
        i for i, e in enumerate(items) if "-X POST" in e.command and "/revocations" in e.command
    ]
    assert items[post].expected == 201
    assert "$AUTHZ_DEV_READER_SUB" in items[post].command
    refused = next(i for i in reader if i > post)
    assert items[refused].expected == 401
    [fresh] = [
        i
        for i, e in enumerate(items)
        if i > refused and e.command == "export READER_TOKEN=$(authz dev token reader)"
    ]
    again = next(i for i in reader if i > fresh)
    assert items[again].expected == 200


def test_readme_examples_give_their_documented_answers(tmp_path: Path) -> None:
    env_file = tmp_path / ".authz-dev.env"
    proc, _ = start_dev(env_file=env_file)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHZ_", "AWS_"))}
        env["PATH"] = f"{AUTHZ.parent}{os.pathsep}{env.get('PATH', '')}"
        prelude = (
            f"source {env_file}\n"
            + "".join(
                f"export {u.upper()}_TOKEN=$(authz dev token {u})\n"
                for u in ("admin", "reader", "intern", "guest")
            )
            + "export SERVICE_TOKEN=$(authz dev token --client)\n"
        )
        failures: list[str] = []
        for block in blocks(README):
            # The examples' own `source .authz-dev.env` reads this stack's file.
            items = [
                dataclasses.replace(e, command=f"source {env_file}")
                if e.command == "source .authz-dev.env"
                else e
                for e in examples(block)
            ]
            ran = subprocess.run(
                ["bash", "-c", prelude + script(items)],
                cwd=ROOT,  # the examples name policies/
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            results = {
                int(i): int(v)
                for _, i, v in (line.split() for line in ran.stdout.splitlines())
                if _ == "RESULT"
            }
            for i, item in enumerate(items):
                if item.expected is not None and results.get(i) != item.expected:
                    failures.append(f"{describe(item)}: {results.get(i)} != {item.expected}")
            assert ran.returncode == 0, ran.stderr
        assert failures == []
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
