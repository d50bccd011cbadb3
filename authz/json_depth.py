"""How deeply a JSON text nests, measured without parsing it; and the strict
JSON constants rule every parser of untrusted JSON shares.

``json.loads`` recurses once per ``[`` or ``{``: a hostile text a few
thousand brackets deep raises ``RecursionError`` there, or in any recursive
walk of what it returned. Client-supplied JSON (admin API bodies, pagination
cursors) is therefore measured first, by a single iterative scan that
follows strings and escapes, and refused above :data:`MAX_JSON_DEPTH`.
"""

from __future__ import annotations

from typing import NoReturn

__all__ = ["MAX_JSON_DEPTH", "reject_constant", "too_deep"]

# Far above anything the admin API accepts (a policy document with conditions
# nests ~7 levels, token settings claims at most 5 more), far below the
# interpreter's recursion limit (1000).
MAX_JSON_DEPTH = 32

_OPEN = frozenset("[{")
_CLOSE = frozenset("]}")


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``text`` opens more than ``limit`` arrays/objects inside one another.

    Brackets inside JSON strings do not count. The text need not be valid
    JSON: an unbalanced or malformed text is measured as far as it goes and
    left to the parser to refuse.
    """
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case, at C speed
    depth = 0
    in_string = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif in_string:
            escaped = char == "\\"
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif char in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif char in _CLOSE:
            depth = max(0, depth - 1)
    return False


def reject_constant(name: str) -> NoReturn:
    """``parse_constant`` for ``json``: refuse ``NaN``, ``Infinity`` and ``-Infinity``.

    Python's ``json`` accepts them; JSON (RFC 8259), DynamoDB and every other
    reader of what authz stores or verifies do not. Raises ``ValueError``, as
    ``json`` does for any other invalid text.
    """
    raise ValueError(f"{name} is not JSON")
