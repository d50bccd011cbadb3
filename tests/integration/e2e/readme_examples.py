"""README's runnable examples: the fenced blocks marked ``<!-- runs against authz dev -->``.

In such a block every ``curl`` line ends with the status it documents
(``# 200`` or ``# 403 ...``) and every ``authz`` line with its exit code
(``# exit 1``). Other lines (assignments) run as written. A line ending in a
backslash, or inside a quoted string, continues on the next one, as in bash.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

MARK = "<!-- runs against authz dev -->"
_STATUS = re.compile(r"\s+#\s*(?:(exit)\s+)?(\d{1,3})\b.*$")


@dataclass(frozen=True)
class Example:
    command: str  # without its comment
    kind: str  # "curl", "authz" or "shell"
    expected: int | None  # HTTP status or exit code; None for "shell"


def blocks(readme: Path) -> list[list[str]]:
    """The lines of each fenced block that follows the marker."""
    found: list[list[str]] = []
    lines = readme.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        start = i + 1
        assert lines[start].startswith("```"), f"README line {start + 1}: no block after the mark"
        end = next(j for j in range(start + 1, len(lines)) if lines[j].startswith("```"))
        found.append(lines[start + 1 : end])
    return found


def _open_quote(text: str) -> bool:
    """Whether ``text`` ends inside a quoted string, as bash reads it."""
    quote = ""
    escaped = False
    for c in text:
        if escaped:
            escaped = False
        elif c == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
    return bool(quote)


def _logical(lines: list[str]) -> list[str]:
    """Shell commands: a trailing backslash continues a line, an open quote spans lines."""
    joined: list[str] = []
    pending = ""
    for line in lines:
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\") and not _open_quote(pending + line):
            pending += line.rstrip()[:-1] + " "
        elif _open_quote(pending + line):
            pending += line + "\n"
        else:
            joined.append(pending + line)
            pending = ""
    assert not pending, f"README example ends inside a command: {pending}"
    return joined


def examples(lines: list[str]) -> list[Example]:
    out: list[Example] = []
    for line in _logical(lines):
        head = line.split(None, 1)[0]
        match = _STATUS.search(line)
        if head in ("curl", "authz"):
            assert match is not None, f"README example without its documented result: {line}"
            wants_exit = match.group(1) == "exit"
            assert wants_exit == (head == "authz"), f"curl gives a status, authz an exit: {line}"
            out.append(Example(line[: match.start()].strip(), head, int(match.group(2))))
        else:
            out.append(Example(line.split(" #", 1)[0].strip(), "shell", None))
    return out


def script(items: list[Example]) -> str:
    """One bash script that runs the examples in order and prints ``RESULT i value`` for each."""
    body = ["set -u"]
    for i, item in enumerate(items):
        if item.kind == "shell":
            body.append(item.command)
        elif item.kind == "curl":
            rest = item.command[len("curl") :]
            body.append(f"echo RESULT {i} $(curl -s -o /dev/null -w '%{{http_code}}'{rest})")
        else:
            body.append(f"{item.command} >/dev/null 2>&1; echo RESULT {i} $?")
    return "\n".join(body) + "\n"


def describe(item: Example) -> str:
    return shlex.quote(item.command)[:160]
