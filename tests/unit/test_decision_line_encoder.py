"""The decision line's encoder: one line of compact JSON that reads back as what was written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.handlers.observability import _encode_line

# What a line can hold: the values a decision reports, hostile strings (lone
# surrogates included) and integers beyond 64 bits, which orjson refuses.
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), _VALUES, max_size=30))
def test_one_line_that_reads_back_as_written(line: dict[str, Any]) -> None:
    """Escapes, lone surrogates, non-ASCII, big integers and nesting all survive the trip."""
    text = _encode_line(line)
    assert text.endswith("\n")
    assert "\n" not in text[:-1]
    assert json.loads(text) == line


def test_compact_and_utf8() -> None:
    line = {"sub": 'x","outcome":"deny\n{"forged":1}', "group": "é", "Latency": 12.3}
    text = _encode_line(line)
    assert ", " not in text
    assert ": " not in text
    assert "é" in text  # orjson writes UTF-8, not \u escapes
    assert json.loads(text) == line


@pytest.mark.parametrize("value", ["a\ud800b", 2**64, -(2**63) - 1])
def test_what_orjson_refuses_is_written_by_the_standard_encoder(value: object) -> None:
    text = _encode_line({"sub": value, "outcome": "allow"})
    assert text.isascii()
    assert json.loads(text) == {"sub": value, "outcome": "allow"}


def test_a_value_no_encoder_knows_is_refused() -> None:
    with pytest.raises(TypeError):
        _encode_line({"x": object()})
