"""Collect every problem of a JSON value, each with its JSON path.

Validators that report all problems at once (so an operator fixes a file in
one pass) share this collector instead of each keeping its own list of
``{"path": ..., "message": ...}`` dicts. Standard library only.
"""

from __future__ import annotations

__all__ = ["Problems"]


class Problems:
    """Problems found so far, in the order they were added.

    Truthy when at least one problem was added. ``as_list()`` is the form the
    errors carry (``PolicyValidationError``, ``TokenSettingsError``) and the
    admin API returns: ``[{"path": "Statement[0].Effect", "message": "..."}]``.
    """

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[dict[str, str]] = []

    def add(self, path: str, message: str) -> None:
        """Record one problem at ``path`` (dotted keys, ``[i]`` for list items)."""
        self._items.append({"path": path, "message": message})

    def as_list(self) -> list[dict[str, str]]:
        """The problems as ``{"path", "message"}`` dicts (a new list each call)."""
        return [dict(item) for item in self._items]

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __repr__(self) -> str:
        return f"Problems({self._items!r})"
