"""Environment variables declared as data: one ``Setting`` per variable, and its parser.

A parser takes the stripped, non-empty value and returns the typed value, or
raises ``ValueError`` with a message; :func:`read` puts the variable's name in
front of it (``ConfigError``). A blank value counts as unset, so the default
applies: serverless.yml passes an optional parameter that was not given as "".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_args

from authz.errors import ConfigError

__all__ = [
    "UNSET",
    "Parser",
    "Setting",
    "boolean",
    "float_in",
    "int_in",
    "matching",
    "one_of",
    "read",
    "setting",
]

T = TypeVar("T")
Parser = Callable[[str], T]

_INT = re.compile(r"^[+-]?[0-9]+$")
_FLOAT = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

UNSET: Any = object()
"""What :func:`read` returns for a variable that is not set: the field keeps its default."""


@dataclass(frozen=True, slots=True)
class Setting:
    """One environment variable: its name, its parser, and where else to look when unset."""

    env: str
    parse: Parser[Any]
    # AWS_REGION falls back to AWS_DEFAULT_REGION, as the AWS SDKs do.
    fallback_env: str | None = None


def setting(env: str, parse: Parser[T], default: T, *, fallback_env: str | None = None) -> T:
    """A dataclass field read from ``env``; typed as its default, so mypy sees a default."""
    spec = Setting(env, parse, fallback_env)
    return field(default=default, metadata={"setting": spec})


def int_in(lo: int, hi: int) -> Parser[int]:
    def parse(raw: str) -> int:
        # int() alone would also take "1_000" and non-ASCII digits.
        if not _INT.match(raw):
            raise ValueError(f"not a whole number: {raw!r}")
        value = int(raw)
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo} and {hi}, got {value}")
        return value

    return parse


def float_in(lo: float, hi: float) -> Parser[float]:
    def parse(raw: str) -> float:
        # float() alone would also take "nan", "inf" and "1_0".
        if not _FLOAT.match(raw):
            raise ValueError(f"not a number: {raw!r}")
        value = float(raw)
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo} and {hi}, got {raw}")
        return value

    return parse


def one_of(kind: Any) -> Parser[Any]:
    """A parser accepting exactly the values of the ``Literal`` type ``kind``."""
    choices: tuple[str, ...] = get_args(kind)
    wording = f"{', '.join(choices[:-1])} or {choices[-1]}"

    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"must be {wording}, not {raw!r}")
        return raw

    return parse


def matching(pattern: re.Pattern[str], what: str) -> Parser[str]:
    def parse(raw: str) -> str:
        if not pattern.match(raw):
            raise ValueError(f"{what}: {raw!r}")
        return raw

    return parse


def boolean(raw: str) -> bool:
    value = _BOOLEANS.get(raw.lower())
    if value is None:
        raise ValueError(f"must be true or false (or 1/0, yes/no), not {raw!r}")
    return value


def read(env: Mapping[str, str], spec: Setting) -> Any:
    """``spec``'s parsed value, or ``UNSET``."""
    name = spec.env
    if _get(env, name) is None and spec.fallback_env is not None:
        name = spec.fallback_env
    raw = _get(env, name)
    if raw is None:
        return UNSET
    try:
        return spec.parse(raw)
    except ValueError as exc:
        raise ConfigError(name, str(exc)) from exc


def _get(env: Mapping[str, str], name: str) -> str | None:
    return (env.get(name) or "").strip() or None
