"""Selectors: what a policy is attached to (``group:<name>``, ``scope:<name>``, ``default``).

The string form is the storage key, so it must be injective: the kind is a
fixed prefix and the name is everything after the first colon, and names are
validated so that no name can address another kind of item.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from authz.errors import SelectorError

__all__ = ["DEFAULT", "KINDS", "Selector", "selectors_for", "valid_group_name", "valid_scope_name"]

Kind = Literal["default", "group", "scope"]
KINDS: tuple[Kind, ...] = ("default", "group", "scope")

_GROUP_MAX = 128
_SCOPE_MAX = 256


def valid_group_name(name: str) -> bool:
    """Cognito's rule: 1-128 letters, marks, symbols, numbers or punctuation."""
    return 0 < len(name) <= _GROUP_MAX and all(unicodedata.category(c)[0] in "LMSNP" for c in name)


def valid_scope_name(name: str) -> bool:
    """RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )."""
    return 0 < len(name) <= _SCOPE_MAX and all(
        c == "\x21" or "\x23" <= c <= "\x5b" or "\x5d" <= c <= "\x7e" for c in name
    )


@dataclass(frozen=True, order=True, slots=True)
class Selector:
    kind: Kind
    name: str
    text: str = field(init=False, repr=False, compare=False)
    """The string form (``group:<name>``, ``scope:<name>``, ``default``), made once:
    every decision line and store key reads it."""

    def __post_init__(self) -> None:
        self._validate()
        text = "default" if self.kind == "default" else f"{self.kind}:{self.name}"
        object.__setattr__(self, "text", text)  # frozen: set once, here

    def _validate(self) -> None:
        if self.kind == "default":
            if self.name != "default":
                raise SelectorError("the default policy's only name is 'default'")
        elif self.kind == "group":
            if not valid_group_name(self.name):
                raise SelectorError(
                    f"invalid group name {self.name!r}: 1-{_GROUP_MAX} characters, "
                    "letters, digits, symbols or punctuation only (no spaces or control characters)"
                )
        elif self.kind == "scope":
            if not valid_scope_name(self.name):
                raise SelectorError(
                    f"invalid scope name {self.name!r}: 1-{_SCOPE_MAX} printable ASCII "
                    "characters other than space, '\"' and '\\\\' (RFC 6749)"
                )
        else:
            raise SelectorError(f"invalid kind {self.kind!r}: expected group, scope or default")

    @classmethod
    def of(cls, kind: str, name: str) -> Selector:
        """Build from a kind and a name (as the admin API's path carries them)."""
        if kind not in KINDS:
            raise SelectorError(f"invalid kind {kind!r}: expected group, scope or default")
        return cls(kind, name)

    @classmethod
    def parse(cls, text: str) -> Selector:
        """Parse ``group:<name>``, ``scope:<name>`` or ``default``."""
        if text == "default":
            return DEFAULT
        kind, sep, name = text.partition(":")
        if not sep:
            raise SelectorError(
                f"invalid selector {text!r}: expected group:NAME, scope:NAME or default"
            )
        return cls.of(kind, name)

    def __str__(self) -> str:
        return self.text


DEFAULT = Selector("default", "default")


def selectors_for(groups: Iterable[str], scopes: Iterable[str]) -> tuple[Selector, ...]:
    """``default`` plus every group and scope selector, sorted and without duplicates.

    A group or scope whose name is invalid is skipped: no policy can be stored
    under such a name, so skipping it cannot drop a Deny that exists.
    """
    out: set[Selector] = {DEFAULT}
    for g in groups:
        if valid_group_name(g):
            out.add(Selector("group", g))
    for s in scopes:
        if valid_scope_name(s):
            out.add(Selector("scope", s))
    return tuple(sorted(out))
