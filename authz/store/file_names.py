"""Where each policy lives in a ``policies/`` directory: selectors <-> file names.

Names are percent-encoded in file names: every character outside
``[A-Za-z0-9._-]`` becomes ``%XX`` per UTF-8 byte (upper-case hex), and so do
a leading ``.`` (no hidden files, no ``..``) and the ``.`` of a trailing
``.token`` (so the policy of group ``x.token`` can never be mistaken for the
token settings of group ``x``). A file name is accepted only if it is the
exact encoding of the name it decodes to: one name has one file, so a tree
can never hold two documents for the same selector.
"""

from __future__ import annotations

import string
from pathlib import Path

from authz.errors import SelectorError
from authz.policy.selector import Selector

__all__ = [
    "MAX_FILE_NAME",
    "POLICY_SUFFIX",
    "TOKEN_SUFFIX",
    "decode_file_name",
    "encode_file_name",
    "file_for",
    "token_file_for",
]

_SAFE = frozenset(string.ascii_letters + string.digits + "._-")
_HEX = frozenset("0123456789ABCDEFabcdef")
_TOKEN_MARK = ".token"
POLICY_SUFFIX = ".json"
TOKEN_SUFFIX = ".token.json"
# Most file systems cap one path component at 255 bytes.
MAX_FILE_NAME = 255


def encode_file_name(name: str) -> str:
    """The file-name stem for a group or scope name (see the module docstring)."""
    out: list[str] = []
    for i, ch in enumerate(name):
        if ch in _SAFE and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    stem = "".join(out)
    if stem.endswith(_TOKEN_MARK):
        stem = stem[: -len(_TOKEN_MARK)] + "%2E" + _TOKEN_MARK[1:]
    return stem


def decode_file_name(stem: str) -> str:
    """The name a file-name stem stands for; ValueError unless ``stem`` is its exact encoding."""
    buf = bytearray()
    i = 0
    while i < len(stem):
        ch = stem[i]
        if ch == "%":
            hex_digits = stem[i + 1 : i + 3]
            if len(hex_digits) != 2 or not set(hex_digits) <= _HEX:
                raise ValueError(f"bad percent-escape at position {i} of {stem!r}")
            buf.append(int(hex_digits, 16))
            i += 3
        else:
            buf.extend(ch.encode("utf-8"))
            i += 1
    try:
        name = buf.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{stem!r} does not decode to UTF-8 text") from None
    if not name:
        raise ValueError("empty name")
    canonical = encode_file_name(name)
    if canonical != stem:
        raise ValueError(
            f"not the canonical encoding of {name!r}; the file must be named {canonical!r}"
        )
    return name


def file_for(selector: Selector) -> Path:
    """Where ``selector``'s document lives, relative to the policies directory."""
    if selector.kind == "default":
        return Path("default" + POLICY_SUFFIX)
    return Path(selector.kind, encode_file_name(selector.name) + POLICY_SUFFIX)


def token_file_for(selector: Selector) -> Path:
    """Where a group's token settings live, relative to the policies directory."""
    if selector.kind != "group":
        raise SelectorError(f"token settings apply to groups only, not {selector}")
    return Path("group", encode_file_name(selector.name) + TOKEN_SUFFIX)
