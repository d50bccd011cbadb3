"""`authz dev` leaves nothing behind, however it is stopped or killed."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
import requests

from tests.integration.e2e.processes import descendants, start_dev, survivors

pytestmark = pytest.mark.integration

_NOISE = ("Traceback", "release unlocked lock", "aborted", "Aborted")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.communicate(timeout=30)


def test_kill_9_of_authz_dev_takes_dynamodb_local_and_moto_with_it() -> None:
    """No finally or atexit runs after SIGKILL: the children must still die with their parent."""
    proc, info = start_dev()
    try:
        children = descendants(proc.pid)
        assert len(children) >= 2  # DynamoDB Local's java and the moto server
        assert requests.get(info["dynamodb_endpoint"], timeout=5).status_code == 400
        proc.kill()
        proc.communicate(timeout=30)
        assert survivors(children) == []
    finally:
        _stop(proc)


def test_sigterm_stops_authz_dev_started_with_sigint_ignored() -> None:
    """`make dev &`, nohup and CI wrappers start it with SIGINT ignored; SIGTERM must still work."""
    proc, _ = start_dev(preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        children = descendants(proc.pid)
        proc.send_signal(signal.SIGINT)  # ignored, as the caller asked
        time.sleep(1.0)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "stopped." in err
        assert survivors(children) == []
    finally:
        _stop(proc)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl_c"])
def test_double_signal_ends_authz_dev_cleanly(sig: signal.Signals) -> None:
    """A second signal while stopping neither tracebacks nor orphans a child."""
    proc, _ = start_dev()
    try:
        children = descendants(proc.pid)
        proc.send_signal(sig)
        time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert not [word for word in _NOISE if word in err], err
        assert survivors(children) == []
    finally:
        _stop(proc)
