"""Watching `authz dev` as a process: start it, find its descendants, see them gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
AUTHZ = Path(sys.executable).with_name("authz")


def descendants(pid: int) -> set[int]:
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


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not reaped it yet.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def survivors(pids: set[int], within: float = 15.0) -> list[int]:
    """The ``pids`` still alive after waiting up to ``within`` seconds for them to go."""
    deadline = time.monotonic() + within
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return sorted(p for p in pids if alive(p))


def start_dev(
    *args: str, env_file: Path | None = None, preexec_fn: Callable[[], Any] | None = None
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """``authz dev --json`` as a user starts it; returns once it printed its endpoints.

    Its ``.authz-dev.env`` goes to ``env_file`` (by default a fresh temporary
    path), never over the one a developer's own `authz dev` wrote.
    """
    if env_file is None:
        env_file = Path(tempfile.mkdtemp(prefix="authz-dev-")) / ".authz-dev.env"
    proc = subprocess.Popen(
        [
            str(AUTHZ),
            "dev",
            "--json",
            "--policies",
            str(ROOT / "policies"),
            "--env-file",
            str(env_file),
            *args,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec_fn,  # noqa: PLW1509  # only resets a signal disposition
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("}"):
            break
    try:
        info = json.loads("".join(lines))
    except ValueError:
        proc.kill()
        _, err = proc.communicate(timeout=30)
        raise AssertionError(f"authz dev did not start: {''.join(lines)}\n{err}") from None
    return proc, info
