"""Opaque pagination cursors: base64url of a small JSON object.

A cursor names the last item of the page it ends (a position, not a
snapshot), so paging stays free of duplicates and gaps while items are added
or removed elsewhere in the listing. Anything that does not decode to the
expected shape is a ``CursorError`` (400), never a store failure.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from authz.errors import CursorError, SelectorError
from authz.json_depth import too_deep
from authz.policy.selector import Selector
from authz.revocations import Target
from authz.store.types import MAX_REVISION

__all__ = [
    "MAX_CURSOR_CHARS",
    "decode",
    "encode",
    "history_after",
    "list_after",
    "revocation_history_after",
    "revocations_after",
]

MAX_CURSOR_CHARS = 4096


def encode(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(cursor: str, *, required: dict[str, type]) -> dict[str, Any]:
    """The cursor's fields; each name in ``required`` must be present with that type."""
    if not cursor or len(cursor) > MAX_CURSOR_CHARS:
        raise CursorError("invalid cursor: empty or too long")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
        # Ours are one flat object; a deep one would exhaust the stack in json.loads.
        if too_deep(text, limit=1):
            raise CursorError("invalid cursor: not one this API issued")
        data = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        raise CursorError("invalid cursor: not one this API issued") from None
    if not isinstance(data, dict):
        raise CursorError("invalid cursor: not one this API issued")
    for name, kind in required.items():
        value = data.get(name)
        # bool is an int in Python; a cursor never carries one.
        if not isinstance(value, kind) or isinstance(value, bool):
            raise CursorError("invalid cursor: not one this API issued")
    return data


def list_after(cursor: str, kind: str | None) -> str:
    """The selector text a listing cursor resumes after; it must page the same ``kind``."""
    after: str = decode(cursor, required={"after": str})["after"]
    try:
        last = Selector.parse(after)
    except SelectorError:
        raise CursorError("invalid cursor: not one this API issued") from None
    if kind is not None and last.kind != kind:
        raise CursorError(f"invalid cursor: it pages a listing of another kind than {kind!r}")
    return after


def history_after(cursor: str, selector: Selector) -> int:
    """The revision a history cursor resumes after; it must page ``selector``'s history."""
    data = decode(cursor, required={"after": int, "selector": str})
    revision: int = data["after"]
    if data["selector"] != str(selector) or not 0 < revision <= MAX_REVISION:
        raise CursorError(f"invalid cursor: it does not page the history of {selector}")
    return revision


def revocations_after(cursor: str) -> Target:
    """The revocation a listing of revocations resumes after."""
    data = decode(cursor, required={"revocation": str})
    try:
        return Target.parse(data["revocation"])
    except ValueError:
        raise CursorError("invalid cursor: not one this API issued") from None


def revocation_history_after(cursor: str) -> str:
    """The history position (``<at_us>#<id>``) a revocation history cursor resumes after."""
    position: str = decode(cursor, required={"revocation_event": str})["revocation_event"]
    head, sep, tail = position.partition("#")
    if not sep or not head.isdigit() or len(head) != 16:
        raise CursorError("invalid cursor: not one this API issued")
    try:
        Target.parse(tail)
    except ValueError:
        raise CursorError("invalid cursor: not one this API issued") from None
    return position
