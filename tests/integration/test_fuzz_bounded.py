"""The bounded CI fuzz run: every target for FUZZ_RUNS inputs (default 10000) from
the fixed FUZZ_SEED (default 1).

Runs ``python -m tests.fuzz`` exactly as a developer would, so a finding
fails CI with the runner's report (the input is saved under
``tests/fuzz/findings/``). The run is bounded by a count of inputs, not by
seconds: a time bound stops wherever the machine's load got it, so the same
seed would test different inputs from one run to the next. With a count and
a seed, a red run is red again on replay and a green one stays green. Four
targets at 10000 inputs plus start-up take about a minute; raise FUZZ_RUNS or
change FUZZ_SEED for a wider local run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("FUZZ_RUNS", "10000"))
SEED = int(os.environ.get("FUZZ_SEED", "1"))
# The slowest target runs a few hundred inputs a second on a loaded CI machine.
MAX_SECONDS = max(120, RUNS // 50)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.timeout(4 * (MAX_SECONDS + 120))
def test_every_fuzz_target_runs_clean_for_a_fixed_seed_and_count() -> None:
    """Each fuzz target runs RUNS inputs from SEED without an invariant breaking."""
    command = [sys.executable, "-m", "tests.fuzz", "--runs", str(RUNS), "--seed", str(SEED)]
    proc = subprocess.run(
        [*command, "--max-seconds", str(MAX_SECONDS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report
    # Each target ran clean and ran its whole count (a count, not however far it got).
    assert len(re.findall(rf"^  ok +{RUNS} runs ", report, re.MULTILINE)) == 4, report


@pytest.mark.timeout(300)
def test_the_same_seed_and_count_explore_the_same_inputs() -> None:
    """Two runs of one target with one seed and count reach the same coverage and corpus:
    the verdict of a CI run is a property of its seed, not of the machine's load."""

    def run() -> list[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "tests.fuzz.child", "token", "-seed=5", "-runs=3000"],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        # libFuzzer's final line: "#3000 DONE cov: N ft: N corp: N/Nb ...".
        done = re.search(r"DONE +cov: (\d+) ft: (\d+) corp: (\S+)", proc.stderr)
        assert done, proc.stderr
        return list(done.groups())

    assert run() == run()
