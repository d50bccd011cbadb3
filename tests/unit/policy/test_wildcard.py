"""Wildcard matching, the combined union regex and the subsumption test against a naive oracle."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.policy.wildcard import matches, normalize, subsumes, union
from tests.strategies import glob_patterns, glob_requests, glob_texts, requests_from
from tests.unit.policy.reference import naive_match, scan_match


@given(glob_patterns, glob_texts)
def test_matches_equals_naive_on_random_text(pattern: str, text: str) -> None:
    """matches() agrees with the recursive definition on arbitrary strings."""
    assert matches(pattern, text) == naive_match(pattern, text)


@given(glob_patterns, st.data())
def test_matches_equals_naive_on_boundary_text(pattern: str, data: st.DataObject) -> None:
    """matches() agrees with the definition on strings built to sit on the pattern's edges."""
    for text in data.draw(glob_requests([pattern])):
        assert matches(pattern, text) == naive_match(pattern, text), text


@given(glob_patterns)
def test_normalize_keeps_the_language(pattern: str) -> None:
    """normalize() rewrites wildcard runs without changing what the pattern matches."""
    n = normalize(pattern)
    assert "**" not in n
    assert "*?" not in n
    for text in requests_from([pattern, n]):
        assert naive_match(n, text) == naive_match(pattern, text)


@given(st.lists(glob_patterns, min_size=1, max_size=8), st.data())
def test_union_regex_equals_any_pattern(patterns: list[str], data: st.DataObject) -> None:
    """The combined regex matches exactly when some pattern does, and names one that does."""
    source, groups = union(patterns)
    rx = re.compile(source, re.DOTALL)
    for text in data.draw(glob_requests(patterns)):
        m = rx.fullmatch(text)
        expected = [p for p in patterns if naive_match(p, text)]
        assert (m is not None) == bool(expected), text
        if m is not None:
            assert m.lastindex is not None
            named = [patterns[i] for i in groups[m.lastindex - 1]]
            assert named
            assert all(naive_match(p, text) for p in named)


@given(glob_patterns, glob_patterns, st.data())
def test_subsumes_is_sound(general: str, specific: str, data: st.DataObject) -> None:
    """If subsumes(a, b) then every string b matches, a matches too."""
    if not subsumes(general, specific):
        return
    for text in data.draw(glob_requests([specific, general])):
        if naive_match(specific, text):
            assert naive_match(general, text), text


@given(glob_patterns)
def test_subsumes_is_reflexive_and_star_covers_all(pattern: str) -> None:
    """Every pattern subsumes itself and '*' subsumes every pattern."""
    assert subsumes(pattern, pattern)
    assert subsumes("*", pattern)


@pytest.mark.parametrize(
    ("general", "specific", "expected"),
    [
        ("a*", "ab*", True),
        ("a*", "a", True),
        ("a?", "ab", True),
        ("a?", "a?", True),
        ("ab", "a?", False),
        ("a?", "a*", False),
        ("a*b", "a*c", False),
        ("*/GET/*", "arn:*/GET/orders/*", True),
        ("*/GET/*", "arn:*/G*/orders/*", False),
        ("?*", "*?", True),
        ("a.c", "abc", False),
        ("a[b]", "a[b]", True),
    ],
)
def test_subsumes_examples(general: str, specific: str, expected: bool) -> None:
    """The subsumption test decides these known pairs correctly."""
    assert subsumes(general, specific) is expected


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("a.c", "abc", False),
        ("a.c", "a.c", True),
        ("a[b]c", "abc", False),
        ("a[b]c", "a[b]c", True),
        ("(a)+", "(a)+", True),
        ("(a)+", "aa", False),
        ("a*c", "a/b:c", True),
        ("a?c", "a/c", True),
        ("a?c", "ac", False),
        ("ABC", "abc", False),
        ("*", "", True),
        ("a\\b", "a\\b", True),
        ("x*", "x\nnewline", True),
    ],
)
def test_matching_examples(pattern: str, text: str, expected: bool) -> None:
    """Metacharacters are literal, '*' crosses separators, '?' is one character, case matters."""
    assert matches(pattern, text) is expected


def test_hostile_pattern_does_not_backtrack_catastrophically() -> None:
    """A pattern built to make backtracking regexes explode still answers promptly.

    (No timing assertion: a polynomial blow-up here would hit the suite's timeout.)
    """
    pattern = "*a" * 12 + "*b"
    assert not matches(pattern, "a" * 20000)
    assert matches(pattern, "a" * 20000 + "b")
    source, _ = union([pattern, "*a*a*a*c", "*a*a*a*d"])
    assert re.fullmatch(source, "a" * 20000, re.DOTALL) is None


@given(glob_patterns, st.data())
def test_scan_oracle_equals_definition(pattern: str, data: st.DataObject) -> None:
    """The fast (fnmatch-based) oracle agrees with the recursive definition."""
    for text in data.draw(glob_requests([pattern])):
        assert scan_match(pattern, text) == naive_match(pattern, text), text
