"""evaluate/compile_policy: IAM's decision order, checked against a brute-force oracle."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.policy import (
    IMPLICIT_DENY,
    VERSION,
    CompiledPolicy,
    PolicyDocument,
    Statement,
    compile_policy,
    evaluate,
    method_arn,
)
from authz.policy.evaluate import LONG_ARN
from tests.strategies import (
    arn_requests,
    derive,
    documents,
    glob_documents,
    glob_requests,
    glob_texts,
    method_arns,
)
from tests.unit.policy.reference import naive_effect, naive_match, scan_match

ANY = "arn:aws:execute-api:*:*:*"


def arn(verb: str, path: str) -> str:
    return method_arn("us-east-1", "123456789012", "a1b2c3", "prod", verb, path)


def policy(*statements: tuple[str, list[str]] | tuple[str, list[str], str]) -> PolicyDocument:
    body: list[dict[str, Any]] = []
    for s in statements:
        item: dict[str, Any] = {"Effect": s[0], "Action": "execute-api:Invoke", "Resource": s[1]}
        if len(s) == 3:
            item["Sid"] = s[2]
        body.append(item)
    return PolicyDocument.from_dict({"Version": VERSION, "Statement": body})


def patterns_of(*docs: PolicyDocument) -> list[str]:
    return [r for d in docs for s in d.statements for r in s.resources]


def check_decision(docs: list[PolicyDocument], request: str) -> None:
    decision = evaluate(docs[0] if len(docs) == 1 else docs, request)
    assert decision.effect == naive_effect(docs, request), request
    assert decision.allowed is (decision.effect == "Allow")
    if decision.effect == "ImplicitDeny":
        assert decision.statements == ()
    else:
        assert decision.statements
        for m in decision.statements:
            assert m.effect == decision.effect
            assert scan_match(m.pattern, request)
            doc = docs[m.document or 0]
            assert doc.statements[m.statement].effect == m.effect
            assert m.pattern in doc.statements[m.statement].resources


@given(glob_documents(), st.data())
def test_evaluate_equals_oracle_on_glob_documents(doc: PolicyDocument, data: st.DataObject) -> None:
    """Any pattern set decides every boundary request as the brute-force oracle does."""
    for request in data.draw(glob_requests(patterns_of(doc))):
        check_decision([doc], request)


@given(documents(), st.lists(method_arns(), max_size=5))
def test_evaluate_equals_oracle_on_arn_documents(doc: PolicyDocument, extra: list[str]) -> None:
    """Valid ARN policies decide requests derived from their own patterns as the oracle does."""
    for request in arn_requests(patterns_of(doc), extra):
        check_decision([doc], request)


@given(glob_documents(), st.data())
def test_long_requests_decide_like_the_oracle(doc: PolicyDocument, data: st.DataObject) -> None:
    """Requests longer than LONG_ARN take the linear-time path and still decide exactly."""
    long_runs = ("a/:" * (LONG_ARN // 3 + 1), "/" * (LONG_ARN + 1))
    requests = [
        derive(p, (run, ""), one)
        for p in patterns_of(doc)
        for run in long_runs
        for one in ("a", "/")
    ]
    requests += [r + long_runs[1] for r in data.draw(glob_requests(patterns_of(doc)))[:5]]
    for request in requests:
        check_decision([doc], request)


@given(st.lists(glob_documents(max_statements=2), min_size=1, max_size=3), st.data())
def test_list_is_evaluated_as_union(docs: list[PolicyDocument], data: st.DataObject) -> None:
    """A list of documents decides as the union of their statements."""
    for request in data.draw(glob_requests(patterns_of(*docs))):
        check_decision(docs, request)


@given(glob_documents(), glob_texts, st.data())
def test_explicit_deny_always_wins(doc: PolicyDocument, request: str, data: st.DataObject) -> None:
    """Adding a Deny whose pattern matches the request makes the decision Deny, whatever else."""
    pattern = data.draw(st.sampled_from(["*", request, request[:1] + "*" if request else "*"]))
    deny = Statement(effect="Deny", actions=("*",), resources=(pattern,))
    for d in (
        PolicyDocument((*doc.statements, deny)),
        PolicyDocument((deny, *doc.statements)),
    ):
        decision = evaluate(d, request)
        assert decision.effect == "Deny"
        assert not decision.allowed
    assert evaluate([doc, PolicyDocument((deny,))], request).effect == "Deny"


@given(glob_documents(), glob_texts)
def test_no_matching_allow_means_deny(doc: PolicyDocument, request: str) -> None:
    """A request no Allow pattern matches is never allowed."""
    if not any(
        naive_match(r, request) for s in doc.statements if s.effect == "Allow" for r in s.resources
    ):
        assert not evaluate(doc, request).allowed


def test_deny_beats_allow_example() -> None:
    """An explicit Deny overrides a matching Allow and reports the Deny statement."""
    d = policy(
        ("Allow", [f"{ANY}/*/*/orders/*"], "Orders"),
        ("Deny", [f"{ANY}/*/DELETE/*"], "NoDelete"),
    )
    decision = evaluate(d, arn("DELETE", "/orders/1"))
    assert (decision.allowed, decision.effect) == (False, "Deny")
    [m] = decision.statements
    assert (m.sid, m.effect, m.pattern, m.statement) == ("NoDelete", "Deny", f"{ANY}/*/DELETE/*", 1)
    allowed = evaluate(d, arn("GET", "/orders/1"))
    assert (allowed.allowed, allowed.effect, allowed.statements[0].sid) == (True, "Allow", "Orders")


def test_implicit_deny_example() -> None:
    """No matching statement gives ImplicitDeny with no statements."""
    d = policy(("Allow", [f"{ANY}/*/GET/orders"]))
    assert evaluate(d, arn("GET", "/orders/1")) == IMPLICIT_DENY
    assert evaluate(d, arn("GET", "/orders")).allowed


@pytest.mark.parametrize(
    ("pattern", "request_path", "expected"),
    [
        ("/GET/a.b", "/a.b", True),
        ("/GET/a.b", "/aXb", False),
        ("/GET/items/[id]", "/items/[id]", True),
        ("/GET/items/[id]", "/items/i", False),
        ("/GET/x+", "/xx", False),
        ("/GET/Orders", "/orders", False),
        ("/GET/orders/?", "/orders/1", True),
        ("/GET/orders/?", "/orders/12", False),
        ("/*/orders", "/orders", True),
        ("/GET/orders*", "/orders/1/items", True),
    ],
)
def test_pattern_semantics_in_arns(pattern: str, request_path: str, expected: bool) -> None:
    """Within ARNs, metacharacters are literal, case matters, '?' is one char, '*' crosses '/'."""
    d = policy(("Allow", [f"{ANY}/prod{pattern}"]))
    assert evaluate(d, arn("GET", request_path)).allowed is expected


def test_star_crosses_colons_like_iam() -> None:
    """'*' in the region part may match across ':' exactly as IAM's string matching does."""
    d = policy(("Allow", ["arn:aws:execute-api:*:123456789012:a1b2c3/prod/GET/x"]))
    sneaky = (
        "arn:aws:execute-api:us-east-1:999999999999:zzz/prod/GET/y:123456789012:a1b2c3/prod/GET/x"
    )
    assert evaluate(d, sneaky).allowed is naive_match(d.statements[0].resources[0], sneaky) is True


def test_unsubstituted_variables_fail_closed() -> None:
    """Evaluating a document that still holds variables drops its Allow and widens its Deny."""
    d = policy(
        ("Allow", [f"{ANY}/*/GET/users/${{sub}}/*", f"{ANY}/*/GET/public"]),
        ("Deny", [f"{ANY}/*/GET/users/${{sub}}/secret"]),
    )
    literal = arn("GET", "/users/${sub}/profile")
    assert not evaluate(d, literal).allowed
    assert evaluate(d, arn("GET", "/public")).allowed
    denied = evaluate(d, arn("GET", "/users/anyone/secret"))
    assert denied.effect == "Deny"
    assert denied.statements[0].pattern == f"{ANY}/*/GET/users/*/secret"


def test_statements_without_invoke_are_ignored() -> None:
    """A directly built statement whose actions do not cover Invoke neither allows nor denies."""
    d = PolicyDocument(
        (
            Statement(effect="Allow", actions=("s3:GetObject",), resources=("*",)),
            Statement(effect="Deny", actions=("execute-api:ManageConnections",), resources=("*",)),
        )
    )
    assert evaluate(d, arn("GET", "/x")) == IMPLICIT_DENY


def test_duplicate_patterns_report_every_statement() -> None:
    """Statements sharing a pattern are all reported when that pattern decides."""
    d = policy(("Allow", [f"{ANY}/*/GET/x"], "A"), ("Allow", [f"{ANY}/*/GET/x"], "B"))
    assert [m.sid for m in evaluate(d, arn("GET", "/x")).statements] == ["A", "B"]


def test_list_reports_document_index() -> None:
    """Evaluating a list names the index of the document that decided."""
    docs = [policy(("Allow", [f"{ANY}/*/GET/a"])), policy(("Deny", [f"{ANY}/*/GET/b"]))]
    assert evaluate(docs, arn("GET", "/b")).statements[0].document == 1
    assert evaluate(docs, arn("GET", "/a")).statements[0].document == 0
    assert evaluate([], arn("GET", "/a")) == IMPLICIT_DENY


def test_compiled_policy_is_cached_and_reusable() -> None:
    """A document compiles once; the compiled policy decides like evaluate()."""
    d = policy(("Allow", [f"{ANY}/*/GET/a"]))
    compiled = compile_policy(d)
    assert compile_policy(d) is compiled
    assert isinstance(compiled, CompiledPolicy)
    assert evaluate(compiled, arn("GET", "/a")) == evaluate(d, arn("GET", "/a"))
    assert compiled.decide(arn("GET", "/b")) == IMPLICIT_DENY


def test_union_compiled_from_a_list() -> None:
    """compile_policy(list) decides as evaluate(list)."""
    docs = [policy(("Allow", [f"{ANY}/*/GET/*"])), policy(("Deny", [f"{ANY}/*/GET/secret"]))]
    compiled = compile_policy(docs)
    for path in ("/a", "/secret"):
        assert compiled.decide(arn("GET", path)).effect == evaluate(docs, arn("GET", path)).effect


def test_empty_document_denies_everything() -> None:
    """A document with no statements (e.g. a merge of nothing) implicitly denies."""
    assert evaluate(PolicyDocument(()), arn("GET", "/")) == IMPLICIT_DENY


def test_adversarial_long_path_is_decided() -> None:
    """A methodArn with thousands of '/' (a backtracking trap) is decided, correctly."""
    d = policy(
        ("Allow", [f"{ANY}/*/GET/a/*/b", f"{ANY}/prod/GET/*/c", "arn:aws:execute-api:*:*:x/*"]),
        ("Deny", [f"{ANY}/*/GET/*/secret/*"]),
    )
    for n in (100, LONG_ARN, 5000):
        request = arn("GET", "/a" + "/" * n + "/c")
        assert evaluate(d, request).effect == naive_effect([d], request) == "Allow"
        request = arn("GET", "/a" + "/" * n + "/d")
        assert evaluate(d, request).effect == naive_effect([d], request) == "ImplicitDeny"
