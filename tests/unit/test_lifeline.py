"""The launcher that makes a child die with its parent (no network, no Java)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from authz.dev import lifeline


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_child_started_through_lifeline_dies_when_parent_is_killed_with_sigkill() -> None:
    # A middle process starts `sleep` through the lifeline, prints its pid, and is
    # then killed with -9: no cleanup code of its runs, yet the sleep must go.
    script = textwrap.dedent(
        """
        import subprocess, sys, time
        from authz.dev import lifeline
        child = subprocess.Popen(lifeline.command(["sleep", "60"]))
        print(child.pid, flush=True)
        time.sleep(60)
        """
    )
    middle = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert middle.stdout is not None
    pid = int(middle.stdout.readline())
    deadline = time.monotonic() + 10
    cmdline = Path(f"/proc/{pid}/cmdline")
    while "sleep" not in cmdline.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)  # until the launcher has become `sleep`
    assert _alive(pid)
    middle.kill()
    middle.wait()
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_lifeline_exits_at_once_when_its_parent_is_already_gone() -> None:
    # PID 1 is never our parent: the launcher must not start a command nobody owns.
    result = subprocess.run(
        [sys.executable, "-m", "authz.dev.lifeline", "1", "--", "echo", "started"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "started" not in result.stdout


def test_lifeline_usage_error_names_the_form() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "authz.dev.lifeline", "echo"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "PARENT_PID -- COMMAND" in result.stderr


def test_lifeline_command_runs_the_command_with_its_own_arguments() -> None:
    argv = lifeline.command(["printf", "%s|", "a b", "c"])
    assert argv[-4:] == ["printf", "%s|", "a b", "c"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
    assert result.stdout == "a b|c|"
