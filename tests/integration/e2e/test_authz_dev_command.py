"""`authz dev` as a user runs it: a real process that starts everything and stops it on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
AUTHZ = Path(sys.executable).with_name("authz")


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid``, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not reaped it yet.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_authz_dev_serves_then_ctrl_c_leaves_no_process_behind() -> None:
    """The command prints its endpoints, answers, and SIGINT stops every child it started."""
    proc = subprocess.Popen(
        [str(AUTHZ), "dev", "--json", "--policies", str(ROOT / "policies")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("}"):
                break
        info = json.loads("".join(lines))
        children = _children(proc.pid)
        assert len(children) >= 2  # DynamoDB Local's java and the moto server
        reader = info["users"]["reader"]["token"]
        ok = requests.get(
            info["url"] + "/orders/1", headers={"Authorization": f"Bearer {reader}"}, timeout=10
        )
        assert ok.status_code == 200
        assert requests.get(info["url"] + "/orders/1", timeout=10).status_code == 401
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [p for p in children if _alive(p)] == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


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
