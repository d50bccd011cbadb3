"""authz/json_depth.py: nesting is measured exactly, strings and escapes respected,
without recursion (so without a stack limit of its own)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.json_depth import MAX_JSON_DEPTH, reject_constant, too_deep

_SCALARS = st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\, ab')
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(value=JSON_VALUES, limit=st.integers(0, 8))
def test_too_deep_agrees_with_the_parsed_depth(value: Any, limit: int) -> None:
    """For any JSON text, too_deep is exactly "the parsed value nests over the limit"."""
    assert too_deep(json.dumps(value), limit) == (_depth(value) > limit)


@given(value=JSON_VALUES)
def test_unescaped_output_is_measured_the_same(value: Any) -> None:
    """Non-ASCII and compact separators change nothing."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert too_deep(text, 3) == (_depth(value) > 3)


def test_far_deeper_than_the_interpreter_recursion_limit() -> None:
    """A text a million levels deep is measured, not recursed into."""
    assert too_deep("[" * 1_000_000)
    assert not too_deep("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    assert too_deep("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))


def test_brackets_in_strings_and_after_escaped_quotes_do_not_count() -> None:
    """`"\\"["` holds one string; its bracket is text."""
    assert not too_deep(json.dumps(["[" * 100, '\\"[' * 100, "{" * 100]), 1)
    assert too_deep('["\\\\", [[]]]', 2)  # an escaped backslash ends the escape


@pytest.mark.parametrize("text", ["NaN", "[1, Infinity]", '{"a": -Infinity}'])
def test_reject_constant_refuses_what_json_does_not_allow(text: str) -> None:
    """As parse_constant, reject_constant makes NaN and the infinities a ValueError."""
    with pytest.raises(ValueError, match="is not JSON"):
        json.loads(text, parse_constant=reject_constant)


def test_reject_constant_leaves_ordinary_numbers_alone() -> None:
    """Finite numbers, large and small, parse as usual."""
    assert json.loads("[1e308, -0.5, 12]", parse_constant=reject_constant) == [1e308, -0.5, 12]
