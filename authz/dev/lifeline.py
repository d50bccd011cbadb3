"""Run a command that dies with the process that started it.

``python -m authz.dev.lifeline PARENT_PID -- COMMAND ...`` asks Linux to send
the command SIGTERM when its parent exits (``PR_SET_PDEATHSIG``, which
survives ``execve``), then becomes the command. So a DynamoDB Local JVM
cannot outlive ``authz dev`` or a test run, even after ``kill -9`` or an
out-of-memory kill, when no ``finally`` or ``atexit`` gets to run.

A launcher rather than ``Popen(preexec_fn=...)``: ``preexec_fn`` is not safe
once the parent has threads, and the local stack has several.

The death signal follows the *thread* that forked, so the stack starts its
children from the main thread, which lives as long as the process.
Elsewhere than Linux there is no such call and the command simply runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

__all__ = ["command", "die_with_parent"]

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, sig: int = signal.SIGTERM) -> None:
    """Have ``sig`` sent to this process when ``parent`` exits; exit now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    # The parent may have died before the call above: then no signal will come.
    if os.getppid() != parent:
        os._exit(1)


def command(argv: list[str]) -> list[str]:
    """``argv`` wrapped so that it dies with the calling process."""
    return [sys.executable, "-m", "authz.dev.lifeline", str(os.getpid()), "--", *argv]


def main(args: list[str]) -> None:
    if len(args) < 3 or args[1] != "--":
        sys.stderr.write("usage: python -m authz.dev.lifeline PARENT_PID -- COMMAND [ARGS...]\n")
        sys.exit(2)
    die_with_parent(int(args[0]))
    os.execvp(args[2], args[2:])  # noqa: S606  # the caller's fixed argv, no shell


if __name__ == "__main__":
    main(sys.argv[1:])
