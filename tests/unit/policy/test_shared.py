"""compile_shared and star_match: a common part compiled once, a principal's own patterns
matched without a regex, deciding exactly as compile_policy and the brute-force oracle."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from authz.policy import (
    VERSION,
    CommonParts,
    PolicyDocument,
    Selector,
    Statement,
    compact,
    compile_policy,
    compile_shared,
    expand,
    merge,
    method_arn,
    substitute,
)
from authz.policy.evaluate import LONG_ARN, MAX_OWN_PATTERNS
from authz.policy.shorthand import ApiStage
from authz.policy.wildcard import star_match
from authz.service import effective_policy
from authz.service.effective import fixed_patterns
from tests.strategies import (
    LITERALS,
    claims,
    derive,
    glob_patterns,
    glob_requests,
    glob_texts,
    requests_from,
)
from tests.unit.policy.reference import naive_effect, naive_match, scan_match

HEAD = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3"
API = ApiStage(HEAD, "prod")

# Patterns without ``?``: the ones a principal's own part matches by star_match.
star_patterns = st.text(alphabet=LITERALS + "*", max_size=10)

_star_statements = st.builds(
    lambda effect, resources, sid: Statement(
        sid=sid, effect=effect, actions=("execute-api:Invoke",), resources=resources
    ),
    st.sampled_from(("Allow", "Deny")),
    st.lists(star_patterns | glob_patterns, min_size=1, max_size=3).map(tuple),
    st.none() | st.sampled_from(("A", "B")),
)
mixed_glob_documents = st.lists(_star_statements, max_size=5).map(
    lambda statements: PolicyDocument(tuple(statements))
)


def patterns_of(doc: PolicyDocument) -> list[str]:
    return [r for s in doc.statements for r in s.resources]


def arn(verb: str, path: str) -> str:
    return method_arn("us-east-1", "123456789012", "a1b2c3", "prod", verb, path)


def allow(*resources: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": list(resources)}


def document(*statements: dict[str, Any]) -> PolicyDocument:
    return PolicyDocument.from_dict({"Version": VERSION, "Statement": list(statements)})


def check_same(doc: PolicyDocument, common: set[str], requests: list[str]) -> None:
    """compile_shared decides every request as compile_policy and the oracle do."""
    whole = compile_policy(doc)
    shared = compile_shared(doc, common, CommonParts(8))
    for request in requests:
        expected = naive_effect([doc], request)
        for decision in (shared.decide(request), shared.decide_linear(request)):
            assert decision.effect == expected, request
            assert decision.allowed is (expected == "Allow")
            for m in decision.statements:
                assert m.effect == expected
                assert scan_match(m.pattern, request)
                assert m.pattern in doc.statements[m.statement].resources
        assert shared.uses_linear(request) == whole.uses_linear(request)
        deny, allow_ = shared.matches(request)
        whole_deny, whole_allow = whole.matches(request)
        assert Counter(deny) == Counter(whole_deny), request
        assert Counter(allow_) == Counter(whole_allow), request


# -- star_match -----------------------------------------------------------------------


@given(star_patterns | glob_patterns, glob_texts)
def test_star_match_equals_naive_on_random_text(pattern: str, text: str) -> None:
    """star_match agrees with the recursive definition, ``?`` patterns included."""
    assert star_match(pattern, text) == naive_match(pattern, text)


@given(star_patterns, st.data())
def test_star_match_equals_naive_on_boundary_text(pattern: str, data: st.DataObject) -> None:
    """Texts built on the pattern's edges: empty and crossing fillers, off-by-one edits."""
    for text in data.draw(glob_requests([pattern])):
        assert star_match(pattern, text) == naive_match(pattern, text), text


def test_star_match_examples() -> None:
    """Overlapping head and tail, repeated parts, ``**``, and ``*`` crossing ``/``."""
    cases = [
        ("ab*ba", "aba", False),
        ("ab*ba", "abba", True),
        ("a*a*a", "aaa", True),
        ("a*a*a", "aa", False),
        ("a**b", "ab", True),
        ("*", "", True),
        ("", "", True),
        ("", "a", False),
        ("x/*/z", "x/a/b/z", True),
        ("x/*/z", "x/z", False),
        ("a?c*", "abcd", True),
        ("a?c*", "acd", False),
    ]
    for pattern, text, expected in cases:
        assert star_match(pattern, text) is expected, (pattern, text)


def test_star_match_is_linear_on_hostile_input() -> None:
    """A pattern that makes backtracking matchers retry every split decides a long text."""
    pattern = "*a" * 20 + "*b"
    text = "a" * 20_000
    assert star_match(pattern, text) is False
    assert star_match(pattern, text + "b") is True


# -- compile_shared -------------------------------------------------------------------


@given(mixed_glob_documents, st.data())
def test_shared_equals_whole_for_any_common_subset(
    doc: PolicyDocument, data: st.DataObject
) -> None:
    """Whichever patterns are declared common, decisions and matches equal compile_policy's."""
    patterns = patterns_of(doc)
    common = data.draw(st.sets(st.sampled_from(patterns))) if patterns else set()
    check_same(doc, common, data.draw(glob_requests(patterns)))


@given(mixed_glob_documents, st.data())
def test_shared_equals_whole_on_long_requests(doc: PolicyDocument, data: st.DataObject) -> None:
    """Requests longer than LONG_ARN (the common part's linear path) decide the same."""
    patterns = patterns_of(doc)
    common = data.draw(st.sets(st.sampled_from(patterns))) if patterns else set()
    run = "a/:" * (LONG_ARN // 3 + 1)
    requests = [derive(p, (run, ""), one) for p in patterns for one in ("a", "/")]
    check_same(doc, common, requests)


@given(st.lists(star_patterns, min_size=1, max_size=MAX_OWN_PATTERNS + 3), st.data())
def test_own_patterns_alone_and_beyond_the_limit(patterns: list[str], data: st.DataObject) -> None:
    """Nothing common, one effect or both, up to and past MAX_OWN_PATTERNS own patterns."""
    split = data.draw(st.integers(0, len(patterns)))
    statements = [
        Statement(effect=effect, actions=("execute-api:Invoke",), resources=tuple(part))
        for effect, part in (("Deny", patterns[:split]), ("Allow", patterns[split:]))
        if part
    ]
    doc = PolicyDocument(tuple(statements))
    check_same(doc, set(), requests_from(patterns))


def test_deny_of_either_part_wins() -> None:
    """An own Deny beats a common Allow, and a common Deny beats an own Allow."""
    common = f"{HEAD}/prod/GET/users/*"
    own_deny = PolicyDocument(
        (
            Statement(effect="Allow", actions=("execute-api:Invoke",), resources=(common,)),
            Statement(
                effect="Deny",
                actions=("execute-api:Invoke",),
                resources=(f"{HEAD}/prod/GET/users/u1/secret",),
            ),
        )
    )
    parts = CommonParts(8)
    shared = compile_shared(own_deny, {common}, parts)
    assert shared.decide(arn("GET", "/users/u1/secret")).effect == "Deny"
    assert shared.decide(arn("GET", "/users/u1/other")).effect == "Allow"
    own_allow = PolicyDocument(
        (
            Statement(
                effect="Allow",
                actions=("execute-api:Invoke",),
                resources=(f"{HEAD}/prod/GET/users/u1/*",),
            ),
            Statement(effect="Deny", actions=("execute-api:Invoke",), resources=(common,)),
        )
    )
    shared = compile_shared(own_allow, {common}, parts)
    denied = shared.decide(arn("GET", "/users/u1/x"))
    assert (denied.effect, denied.statements[0].pattern) == ("Deny", common)


def test_common_part_is_compiled_once_for_many_principals() -> None:
    """Policies that differ only in their own patterns share one compiled common part."""
    fixed = (f"{HEAD}/prod/GET/health", f"{HEAD}/prod/GET/orders/*")
    parts = CommonParts(8)
    compiled = []
    for i in range(50):
        own = (f"{HEAD}/prod/GET/users/u{i}", f"{HEAD}/prod/GET/users/u{i}/*")
        doc = PolicyDocument(
            (Statement(effect="Allow", actions=("execute-api:Invoke",), resources=fixed + own),)
        )
        compiled.append(compile_shared(doc, set(fixed), parts))
    assert len(parts) == 1
    assert compiled[7].decide(arn("GET", "/users/u7/profile")).allowed
    assert not compiled[7].decide(arn("GET", "/users/u8/profile")).allowed
    assert compiled[8].decide(arn("GET", "/orders/1")).allowed
    no_own = PolicyDocument(
        (Statement(effect="Allow", actions=("execute-api:Invoke",), resources=fixed),)
    )
    equal = PolicyDocument(no_own.statements)
    assert compile_shared(no_own, set(fixed), parts) is compile_shared(equal, set(fixed), parts)


def test_common_parts_are_bounded_and_cleared() -> None:
    """Past the bound the least recently used part goes; clear() empties it."""
    parts = CommonParts(2)
    for i in range(5):
        doc = PolicyDocument(
            (
                Statement(
                    effect="Allow",
                    actions=("execute-api:Invoke",),
                    resources=(f"{HEAD}/prod/GET/p{i}",),
                ),
            )
        )
        assert (
            compile_shared(doc, {f"{HEAD}/prod/GET/p{i}"}, parts)
            .decide(arn("GET", f"/p{i}"))
            .allowed
        )
    assert len(parts) == 2
    parts.clear()
    assert len(parts) == 0


def test_shorthand_left_in_a_document_is_still_expanded_per_request() -> None:
    """A document that still holds shorthand compiles whole: expanded per API and stage."""
    doc = document(allow("execute-api:/prod/GET/users/*"))
    shared = compile_shared(doc, set(), CommonParts(8))
    assert shared.decide(arn("GET", "/users/1")).allowed
    assert not shared.decide(arn("POST", "/users/1")).allowed


# -- the effective policy: expansion before substitution -------------------------------

_paths = st.lists(
    st.sampled_from(("users", "${sub}", "${username}", "*", "a?", "${claim:tenant}", "x")),
    min_size=1,
    max_size=3,
).map("/".join)
_shorthand_with_variables = st.builds(
    lambda stage, verb, path: f"execute-api:/{stage}/{verb}/{path}",
    st.sampled_from(("prod", "dev", "*", "p*")),
    st.sampled_from(("GET", "*", "P*", "DELETE")),
    _paths,
)
_variable_statements = st.builds(
    lambda effect, resources: {
        "Effect": effect,
        "Action": "execute-api:Invoke",
        "Resource": resources,
    },
    st.sampled_from(("Allow", "Deny")),
    st.lists(_shorthand_with_variables, min_size=1, max_size=3),
)
_variable_documents = st.lists(_variable_statements, min_size=1, max_size=3).map(
    lambda statements: PolicyDocument.from_dict({"Version": VERSION, "Statement": statements})
)


@given(st.lists(_variable_documents, min_size=1, max_size=3), claims())
def test_effective_policy_equals_substitution_then_expansion(
    docs: list[PolicyDocument], values: dict[str, Any]
) -> None:
    """Expanding the stored documents first gives the same document as expanding the
    substituted ones, and every resource without variables is among fixed_patterns."""
    by_selector = {Selector.parse(f"group:g{i}"): d for i, d in enumerate(docs)}
    returned = effective_policy(by_selector, values, api=API)
    expected = compact(merge([expand(substitute(d, values), API) for d in docs]))
    assert returned == expected
    fixed = fixed_patterns(docs, API)
    assert all("${" not in p for p in fixed)
    for d in docs:
        for s in expand(d, API).statements:
            assert {r for r in s.resources if "${" not in r} <= fixed


def test_a_stored_document_is_expanded_once_per_api() -> None:
    """Principals at the same API and stage share the expanded patterns, string for string."""
    stored = document(allow("execute-api:/*/GET/health", "execute-api:/*/GET/users/${sub}"))
    docs = {Selector.parse("default"): stored}
    first = effective_policy(docs, {"sub": "u1"}, api=API)
    second = effective_policy(docs, {"sub": "u2"}, api=API)
    health = f"{HEAD}/prod/GET/health"
    [a] = [r for s in first.statements for r in s.resources if r == health]
    [b] = [r for s in second.statements for r in s.resources if r == health]
    assert a is b
    assert fixed_patterns([stored], API) == {health}
