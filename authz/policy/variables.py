"""Policy variable syntax: ``${sub}``, ``${username}``, ``${client_id}``, ``${claim:NAME}``.

Only the syntax lives here (document validation needs it without importing
the substitution logic). A ``$`` not followed by ``{`` is an ordinary
character; anything else that opens with ``${`` must be one of the supported
forms, so a typo such as ``${usrname}`` is an error at write time instead of a
statement that silently never matches.
"""

from __future__ import annotations

import re

__all__ = [
    "VALUE_CHARS",
    "VariableSpan",
    "claim_key",
    "scan",
    "usable_value",
]

# The names are closed: an open set would let a stored policy read any claim
# under a name that looks like a built-in.
_VARIABLE = re.compile(r"\$\{(sub|username|client_id|claim:[A-Za-z0-9_:.-]+)\}")
_VALUE = re.compile(r"[A-Za-z0-9._@+=,-]+")

# Documented in messages; no wildcard and no ARN separator is in the set, so a
# substituted value is always literal and stays inside one path segment.
VALUE_CHARS = "A-Z a-z 0-9 . _ @ + = , -"

# ``files/${username}/*`` with a username of ``..`` would read as
# ``files/../*`` to anything that normalises paths. A value holds no ``/``, so
# a dot segment can only come from a value that is ``.`` or ``..`` (or empty,
# refused anyway): refusing these two keeps every substitution inside its
# segment.
_DOT_SEGMENTS = frozenset({".", ".."})

_SUPPORTED = "${sub}, ${username}, ${client_id} or ${claim:NAME} (NAME: letters, digits, _ : . -)"

VariableSpan = tuple[int, int, str]
"""(start, end, name) of one variable occurrence; name is e.g. ``sub`` or ``claim:tenant``."""


def scan(text: str) -> tuple[list[VariableSpan], list[str]]:
    """Every variable occurrence in ``text`` and a message for every malformed one."""
    spans: list[VariableSpan] = []
    errors: list[str] = []
    i = text.find("${")
    while i != -1:
        m = _VARIABLE.match(text, i)
        if m is not None:
            spans.append((m.start(), m.end(), m.group(1)))
            i = text.find("${", m.end())
            continue
        close = text.find("}", i)
        if close == -1:
            errors.append(f"unterminated policy variable {text[i:]!r}: expected {_SUPPORTED}")
        else:
            errors.append(f"unknown policy variable {text[i : close + 1]!r}: use {_SUPPORTED}")
        i = text.find("${", i + 2)
    return spans, errors


def claim_key(name: str) -> str:
    """The claims key a variable reads: ``claim:tenant`` reads ``tenant``."""
    return name[6:] if name.startswith("claim:") else name


def usable_value(value: object) -> str | None:
    """The text a claim value substitutes as, or None when it must fail closed.

    ``.`` and ``..`` are refused although every character is allowed: they
    are path segments that climb, not identifiers. ``bool`` is excluded even
    though it is an ``int``: ``True`` as ``"True"`` is almost certainly a
    mistake, not an identifier.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and _VALUE.fullmatch(value) and value not in _DOT_SEGMENTS:
        return value
    return None
