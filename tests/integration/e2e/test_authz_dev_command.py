"""`authz dev` as a user runs it: a real process that starts everything and stops it on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess

import pytest
import requests

from tests.integration.e2e.processes import AUTHZ, descendants, start_dev, survivors

pytestmark = pytest.mark.integration


def test_authz_dev_serves_then_ctrl_c_leaves_no_process_behind() -> None:
    """The command prints its endpoints, answers, and SIGINT stops every child it started."""
    proc, info = start_dev()
    try:
        children = descendants(proc.pid)
        assert len(children) >= 2  # DynamoDB Local's java and the moto server
        reader = info["users"]["reader"]["token"]
        ok = requests.get(
            info["url"] + "/orders/1", headers={"Authorization": f"Bearer {reader}"}, timeout=10
        )
        assert ok.status_code == 200
        assert requests.get(info["url"] + "/orders/1", timeout=10).status_code == 401
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert survivors(children, within=10) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


def test_authz_dev_without_policies_directory_says_so() -> None:
    """A missing --policies directory is a usage error with a clear message, and starts nothing."""
    r = subprocess.run(
        [str(AUTHZ), "dev", "--policies", "/nonexistent/policies"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2
    assert "no policies directory" in r.stderr
