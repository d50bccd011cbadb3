"""The linear-time matcher: exact against the reference, bounded by construction, and used
whenever the union regexes could backtrack (no timings here: the bound is structural)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.policy import CompiledPolicy, PolicyDocument, Statement, compile_policy
from authz.policy.evaluate import LONG_ARN, MAX_SPLITS
from authz.policy.globset import GlobSet
from authz.policy.wildcard import build_union
from tests.strategies import (
    arn_requests,
    documents,
    glob_documents,
    glob_patterns,
    glob_requests,
    glob_texts,
    method_arns,
)
from tests.unit.policy.reference import naive_effect, naive_match, scan_match

ANY = "arn:aws:execute-api:*:*:*"
HEAD = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/"

# Piece-heavy alphabets: few characters, so pieces occur, nearly occur and overlap.
pieces = st.text(alphabet="ab/*?", max_size=12)
texts = st.text(alphabet="ab/", max_size=40)


def doc_of(*patterns: str, effect: str = "Allow") -> PolicyDocument:
    return PolicyDocument(
        tuple(
            Statement(effect=effect, actions=("execute-api:Invoke",), resources=(p,))  # type: ignore[arg-type]
            for p in patterns
        )
    )


def hostile(count: int = 60) -> list[str]:
    """The issue's shape: many patterns diverging after an inner ``*``, each with more ``*``."""
    return [f"{ANY}/*/GET/*a/*/N{i}*" for i in range(count)]


# -- exactness -------------------------------------------------------------------


@given(st.lists(glob_patterns | pieces, min_size=1, max_size=8), st.data())
def test_globset_matches_exactly_when_some_pattern_does(
    patterns: list[str], data: st.DataObject
) -> None:
    """``first`` names a matching pattern iff one matches (reference: naive recursion)."""
    globs = GlobSet(patterns)
    requests = data.draw(glob_requests(patterns)) + data.draw(st.lists(texts, max_size=6))
    for text in requests:
        found = globs.first(text)
        expected = [p for p in patterns if naive_match(p, text)]
        assert (found is not None) == bool(expected), (patterns, text)
        if found is not None:
            assert naive_match(patterns[found], text), (patterns[found], text)


@given(pieces, st.lists(texts, min_size=1, max_size=8))
def test_one_pattern_agrees_with_the_reference_on_dense_texts(
    pattern: str, requests: list[str]
) -> None:
    """Dense texts make pieces recur and overlap: leftmost-greedy must still be exact."""
    globs = GlobSet([pattern])
    for text in requests:
        assert (globs.first(text) is not None) == naive_match(pattern, text), (pattern, text)


@given(glob_documents(), st.data())
def test_linear_decisions_equal_the_reference_evaluator(
    doc: PolicyDocument, data: st.DataObject
) -> None:
    """``decide_linear`` decides every request as the brute-force evaluator does."""
    compiled = compile_policy(doc)
    assert isinstance(compiled, CompiledPolicy)
    patterns = [r for s in doc.statements for r in s.resources]
    for request in data.draw(glob_requests(patterns)) + data.draw(st.lists(glob_texts)):
        decision = compiled.decide_linear(request)
        assert decision.effect == naive_effect([doc], request), request
        assert compiled.decide(request).effect == decision.effect, request
        for m in decision.statements:
            assert scan_match(m.pattern, request)


@given(documents(), st.lists(method_arns(), max_size=4))
def test_linear_and_regex_paths_agree_on_arn_policies(
    doc: PolicyDocument, extra: list[str]
) -> None:
    """On valid ARN policies both paths give the same effect for every derived request."""
    compiled = compile_policy(doc)
    assert isinstance(compiled, CompiledPolicy)
    patterns = [r for s in doc.statements for r in s.resources]
    for request in arn_requests(patterns, extra):
        assert compiled.decide_linear(request).effect == naive_effect([doc], request), request
        assert compiled.decide(request).effect == naive_effect([doc], request), request


@given(
    st.lists(st.text(alphabet="ab?", min_size=1, max_size=6), min_size=4, max_size=12),
    st.lists(st.text(alphabet="ab", max_size=6), min_size=1, max_size=4),
    st.integers(0, 120),
)
def test_siblings_behind_the_one_scan_filter_decide_exactly(
    middles: list[str], texts: list[str], repeat: int
) -> None:
    """Many children of one step (the filtered case), on texts that repeat a run past the
    filter's cap: a child is never skipped while it can still occur."""
    patterns = [f"x*{m}*" for m in middles] + [f"x*{m}" for m in middles]
    globs = GlobSet(patterns)
    for body in texts:
        for text in ("x" + body * repeat, "x" + body * repeat + "ab", "x" + "ba" * repeat + body):
            found = globs.first(text)
            expected = [p for p in patterns if naive_match(p, text)]
            assert (found is not None) == bool(expected), (patterns, text)
            if found is not None:
                assert naive_match(patterns[found], text)


def test_sibling_after_a_flood_of_other_siblings_runs_is_still_found() -> None:
    """A text repeating some children's runs past the filter's cap: the one child that
    matches, whose run comes only at the end, is still probed."""
    patterns = ["x*ab*q", "x*ba*q", "x*aba*q", "x*bab*q", "x*bb*"]
    globs = GlobSet(patterns)
    assert globs.first("x" + "ab" * 200 + "bb") == 4
    assert globs.first("x" + "ab" * 200 + "a") is None


def test_many_diverging_patterns_sharing_pieces_decide_exactly() -> None:
    """Shared pieces are walked once; every pattern still decides on its own terms."""
    patterns = [*hostile(), f"{ANY}/*/GET/*a/*/N7/x", f"{ANY}/*/GET/*a?a*"]
    globs = GlobSet(patterns)
    for path in ("a/b/N7", "a/a/a/N59zz", "a/N60", "aba", "ab", "a/a/N7/x", "aa/N1"):
        text = HEAD + path
        found = globs.first(text)
        expected = [p for p in patterns if naive_match(p, text)]
        assert (found is not None) == bool(expected), path
        if found is not None:
            assert naive_match(patterns[found], text), path


# -- RE2 specifics -----------------------------------------------------------------


class _SetOutOfMemory:
    """An RE2 Set whose DFA ran out of memory: it names no pattern, whatever matched."""

    def Match(self, text: str) -> None:  # RE2's own method name
        return None


def test_set_naming_no_pattern_after_a_match_falls_back_to_one_pattern_at_a_time() -> None:
    """A Set that ran out of memory must not turn a match (a Deny!) into no match."""
    patterns = [f"{ANY}/*/GET/*a/*/N{i}*" for i in range(20)]
    globs = GlobSet(patterns)
    globs._set = _SetOutOfMemory()  # the failure RE2 cannot report
    text = HEAD + "a/" * 100 + "N7/x"
    assert globs.first(text) == 7
    assert globs.first(HEAD + "a/" * 100) is None


def test_lone_surrogate_in_a_linear_request_fails_closed() -> None:
    """RE2 reads UTF-8: a request it cannot read raises (the authorizer answers 500)."""
    compiled = compile_policy(doc_of(f"{ANY}/*/GET/*"))
    with pytest.raises(ValueError, match="not valid Unicode"):
        compiled.decide_linear(HEAD + "a\ud800b")


def test_every_character_of_a_pattern_is_literal_but_star_and_question_mark() -> None:
    tail = "a/b/GET/x.y+z(w)[v]{u}|t^s$r\\q é ∑"
    globs = GlobSet([f"arn:aws:execute-api:*:*:{tail}"])
    assert globs.first(f"arn:aws:execute-api:us-east-1:123:{tail}") == 0
    assert globs.first(f"arn:aws:execute-api:us-east-1:123:{tail.replace('.', 'X')}") is None
    assert GlobSet(["a?c"]).first("a∑c") == 0
    assert GlobSet([]).first("anything") is None


# -- routing: hostile requests never reach a backtracking regex -------------------


def test_issue_pattern_against_slash_run_goes_to_the_linear_matcher() -> None:
    """``*a/*/N*`` patterns with an ``a/a/a/...`` methodArn of 256 characters: linear."""
    compiled = compile_policy(doc_of(*hostile()))
    assert isinstance(compiled, CompiledPolicy)
    request = HEAD + ("a/" * 200)[: 256 - len(HEAD)]
    assert len(request) == LONG_ARN
    assert compiled.uses_linear(request)
    assert compiled.decide(request) == compiled.decide_linear(request)


def test_requests_longer_than_long_arn_always_go_to_the_linear_matcher() -> None:
    """Length alone routes: whatever the policy, an 8 KB methodArn is decided linearly."""
    compiled = compile_policy(doc_of(f"{ANY}/*/GET/orders/*"))
    assert isinstance(compiled, CompiledPolicy)
    assert compiled.uses_linear(HEAD + "orders/" + "a" * 8000)
    assert compiled.decide(HEAD + "orders/" + "a" * 8000).allowed


def test_ordinary_requests_keep_the_regex_fast_path() -> None:
    """An ordinary policy and request stay on the union regexes (the speed targets)."""
    patterns = [
        f"{ANY}/*/{verb}/resource{i:02d}/*/items/*"
        for i, verb in enumerate(["GET", "POST", "PUT", "PATCH", "DELETE"] * 10)
    ]
    compiled = compile_policy(doc_of(*patterns))
    assert isinstance(compiled, CompiledPolicy)
    request = HEAD + "resource00/42/items/7"
    assert not compiled.uses_linear(request)
    assert compiled.decide(request).allowed


def test_slash_count_over_the_limit_switches_path() -> None:
    """The split guard counts the characters a backtracking ``*`` may stop at."""
    compiled = compile_policy(doc_of(*hostile(8)))
    assert isinstance(compiled, CompiledPolicy)
    few = HEAD + "a/" * 2
    many = HEAD + "a/" * (MAX_SPLITS + 1)
    assert not compiled.uses_linear(few)
    assert compiled.uses_linear(many)
    assert compiled.decide(many).effect == naive_effect([doc_of(*hostile(8))], many)


def test_many_scans_retried_under_a_backtracking_star_flag_the_regex_unbounded() -> None:
    """Dozens of per-pattern scans under one backtracking ``*``: the split count bounds nothing."""

    def diverging(count: int) -> list[str]:
        return [f"{ANY}/*/GET/*{c}/*N{i}x*" for c in "ab" for i in range(count)]

    assert build_union(diverging(10)).unbounded
    assert not build_union(diverging(2)).unbounded
    compiled = compile_policy(doc_of(*diverging(10)))
    assert isinstance(compiled, CompiledPolicy)
    assert compiled.uses_linear(HEAD + "a/N3x")
    assert compiled.decide(HEAD + "a/N3x").allowed
    ordinary = [f"{ANY}/*/GET/resource{i:02d}/*/items/*" for i in range(50)]
    assert not build_union(ordinary).unbounded


def test_split_chars_name_where_the_backtracking_star_may_stop() -> None:
    """``*a/*`` diverging later: the ``*`` can stop only before an ``a``."""
    built = build_union([f"{ANY}/*/GET/*a/*/N{i}*" for i in range(3)])
    assert "a" in built.split_chars or "/" in built.split_chars
    assert not build_union([f"{ANY}/*/GET/orders/{i}" for i in range(3)]).split_chars
