"""Output that pipes: whole selectors, plain tab-separated rows when stdout is not a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios

import pytest

from authz.policy import PolicyDocument
from authz.policy.selector import Selector
from authz.settings import Settings
from authz.store.repository import DynamoRepository
from tests.integration.cli.conftest import AUTHZ, Runner, base_env

pytestmark = pytest.mark.integration

LONG = "a description long enough to need more room than an 80-column terminal has left " * 2
DOC = PolicyDocument.from_dict(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/x"}
        ],
    }
)
SELECTORS = (Selector("group", "readers-of-the-orders-api"), Selector("scope", "orders/read"))


@pytest.fixture
def stored(repository: DynamoRepository) -> DynamoRepository:
    for selector in SELECTORS:
        repository.put(selector, DOC, actor="cli:tester\twith a tab", description=LONG)
    repository.put(SELECTORS[0], DOC, actor="cli:tester", description="second\nline")
    return repository


def _in_terminal(args: list[str], settings: Settings, columns: int = 80) -> str:
    """The command's screen at a ``columns``-wide terminal (a real pty)."""
    env = base_env(settings)
    env.pop("COLUMNS")
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen(
        [str(AUTHZ), *args], stdout=secondary, stderr=secondary, env=env, close_fds=True
    )
    os.close(secondary)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(primary)
    assert proc.returncode == 0
    return b"".join(chunks).decode()


def test_policies_list_in_80_columns_never_cuts_the_selector(
    stored: DynamoRepository, store_settings: Settings
) -> None:
    screen = _in_terminal(["policies", "list"], store_settings)
    for selector in SELECTORS:
        assert str(selector) in screen
    assert "…" not in screen.split("version")[0]


def test_policies_list_piped_is_one_tab_separated_line_per_policy(
    stored: DynamoRepository, authz: Runner
) -> None:
    result = authz("policies", "list")
    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    rows = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert set(rows) == {str(s) for s in SELECTORS}
    readers = rows[str(SELECTORS[0])]
    assert readers[1:4] == ["2", "1", ""]
    assert readers[5:] == ["cli:tester", "second line"]  # no newline inside a row
    scope = rows[str(SELECTORS[1])]
    assert scope[5] == "cli:tester with a tab"  # no tab inside a field
    assert scope[6] == LONG  # long, but whole
    grep = subprocess.run(
        ["grep", "readers-of"], input=result.stdout, capture_output=True, text=True, check=False
    )
    assert grep.stdout.startswith("group:readers-of-the-orders-api\t")


def test_policies_history_piped_is_one_tab_separated_line_per_version(
    stored: DynamoRepository, authz: Runner
) -> None:
    result = authz("policies", "history", str(SELECTORS[0]))
    assert result.code == 0, result.output
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [(r[0], r[1]) for r in rows] == [("2", "update"), ("1", "create")]
    assert all(len(r) == 6 for r in rows)


def test_policies_history_in_80_columns_shows_whole_versions_and_selector(
    stored: DynamoRepository, store_settings: Settings
) -> None:
    screen = _in_terminal(["policies", "history", str(SELECTORS[0])], store_settings)
    assert str(SELECTORS[0]) in screen
    assert "update" in screen
    assert "create" in screen
