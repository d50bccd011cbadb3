"""The bounded CI fuzz run: every target for FUZZ_SECONDS (default 20) seconds.

Runs ``python -m tests.fuzz`` exactly as a developer would, so a finding
fails CI with the runner's report (the input is saved under
``tests/fuzz/findings/``). Four targets at 20 s plus start-up keep this
near a minute and a half; set FUZZ_SECONDS for a longer local run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("FUZZ_SECONDS", "20"))

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.timeout(4 * (SECONDS + 120))
def test_every_fuzz_target_runs_clean_for_the_time_budget() -> None:
    """Each fuzz target runs its budget without an invariant breaking."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.fuzz", "--seconds", str(SECONDS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report
    assert report.count(" ok ") == 4, report
