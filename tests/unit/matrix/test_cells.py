"""Cells decided from the patterns: the shipped policies, IAM's ``*`` across ``/``,
policy variables and partial matches of a template, the Deny-first lattice, the grid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from authz.matrix import Route, analyzer, build_matrix, parse_principal, subjects_for
from authz.matrix.language import Coverage, Glob, TooComplex
from authz.matrix.samples import sample_path, template_tokens
from authz.policy import PolicyDocument

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/"


def _doc(*statements: tuple[str, str | list[str]], sid: bool = True) -> PolicyDocument:
    body: list[dict[str, Any]] = []
    for i, (effect, resource) in enumerate(statements):
        st: dict[str, Any] = {"Effect": effect, "Action": "execute-api:Invoke"}
        st["Resource"] = resource
        if sid:
            st["Sid"] = f"S{i}"
        body.append(st)
    return PolicyDocument.from_dict({"Version": "2012-10-17", "Statement": body})


def _shipped() -> dict[str, PolicyDocument]:
    out = {}
    for file in (ROOT / "policies").rglob("*.json"):
        rel = file.relative_to(ROOT / "policies")
        name = "default" if rel.stem == "default" else f"{rel.parts[0]}:{rel.stem}"
        out[name.replace("%2F", "/")] = PolicyDocument.from_dict(json.loads(file.read_text()))
    return out


def _coverage(pattern: str, route: str, effect: str = "Allow") -> Coverage:
    glob = Glob((pattern,), effect)
    verb, _, path = route.partition(" ")
    ends: set[int] = set()
    for v in Route(verb, path).verbs:
        ends |= glob.ends((glob.walk(glob.start, PREFIX + v),), template_tokens(path))
    return glob.coverage(ends)


@pytest.mark.parametrize(
    ("pattern", "route", "expected"),
    [
        (PREFIX + "GET/orders/*", "GET /orders/{id}", Coverage.ALL),
        (PREFIX + "GET/orders/*", "GET /orders", Coverage.NONE),
        (PREFIX + "GET/orders/?", "GET /orders/{id}", Coverage.SOME),
        (PREFIX + "GET/orders/1", "GET /orders/{id}", Coverage.SOME),
        (PREFIX + "GET/orders/*/items", "GET /orders/{id}/items", Coverage.ALL),
        (PREFIX + "GET/orders/*", "GET /orders/{proxy+}", Coverage.ALL),
        (PREFIX + "GET/orders/*/x", "GET /orders/{proxy+}", Coverage.SOME),
        (PREFIX + "GET/a*", "GET /{id}", Coverage.SOME),
        ("arn:aws:execute-api:*:*:*/*/GET/orders/*", "DELETE /GET/orders/{id}", Coverage.ALL),
        ("arn:aws:execute-api:*:*:*/*/GET/orders/*", "DELETE /orders/{id}", Coverage.NONE),
        (PREFIX + "GET/users/${sub}", "GET /users/{id}", Coverage.SOME),
        (PREFIX + "GET/users/${sub}", "GET /users/{a}/{b}", Coverage.NONE),
        (PREFIX + "*", "ANY /{proxy+}", Coverage.ALL),
        (PREFIX + "GET/*", "ANY /{proxy+}", Coverage.SOME),
    ],
)
def test_pattern_against_template(pattern: str, route: str, expected: Coverage) -> None:
    """``*`` spans ``/``, ``{x}`` is one segment, ``{x+}`` several, ``${sub}`` one segment."""
    assert _coverage(pattern, route) is expected


def test_a_deny_variable_may_widen_across_segments() -> None:
    """An unusable ``${sub}`` widens a Deny to ``*``, which can match several segments."""
    assert _coverage(PREFIX + "GET/users/${sub}", "GET /users/{a}/{b}", "Deny") is Coverage.SOME


def test_the_shipped_policies() -> None:
    """readers read orders, interns may not delete (explicitly), own profile depends on sub,
    and the full-ARN reading of ``*/GET/orders/*`` reaches ``DELETE /GET/orders/1``."""
    docs = _shipped()
    docs["group:legacy"] = _doc(("Allow", "arn:aws:execute-api:*:*:*/*/GET/orders/*"))
    routes = [Route("GET", "/orders/{id}"), Route("DELETE", "/orders/{id}")]
    routes += [Route("GET", "/users/{id}"), Route("DELETE", "/GET/orders/1")]
    m = build_matrix(docs, routes)
    get, delete, user, trick = routes
    assert m.value("group:readers", get) == "allow"
    assert m.value("group:readers", delete) == "deny"
    assert m.value("group:interns", delete) == "explicit-deny"
    assert m.value("default", user) == "conditional"
    assert m.value("group:legacy", trick) == "allow"
    assert m.value("group:readers", trick) == "deny"
    explained = m.to_dict(explain=True)["cells"]
    assert explained["group:interns"]["DELETE /orders/{id}"] == {  # type: ignore[index]
        "value": "explicit-deny",
        "statements": [
            {"policy": "group:interns", "statement": 0, "sid": "NoDelete", "effect": "Deny"}
        ],
    }


@pytest.mark.parametrize(
    ("statements", "value"),
    [
        ([("Allow", "execute-api:/*/GET/a/*")], "allow"),
        ([("Allow", "execute-api:/*/GET/a/1")], "conditional"),
        ([("Allow", "execute-api:/*/GET/a/*"), ("Deny", "execute-api:/*/GET/a/1")], "conditional"),
        ([("Allow", "execute-api:/*/GET/a/*"), ("Deny", "execute-api:/*/GET/*")], "explicit-deny"),
        ([("Deny", "execute-api:/*/GET/a/1")], "deny"),
        ([("Allow", "execute-api:/*/GET/a/?"), ("Allow", "execute-api:/*/GET/a/??*")], "allow"),
        ([("Allow", "execute-api:/dev/GET/a/*")], "deny"),
    ],
)
def test_the_lattice(statements: list[tuple[str, str]], value: str) -> None:
    """Deny ALL wins; no Allow is deny; any SOME is conditional; two partial Allows
    whose union covers the template are allow; another stage matches nothing."""
    route = Route("GET", "/a/{id}")
    assert build_matrix({"default": _doc(*statements)}, [route]).value("default", route) == value


def test_json_shape_and_subject_order() -> None:
    """default, groups, scopes, then combined principals; routes spelled as given."""
    docs = {
        "default": _doc(("Allow", "execute-api:/*/GET/health")),
        "scope:s": _doc(("Allow", "execute-api:/*/GET/s")),
        "group:b": _doc(("Allow", "execute-api:/*/GET/b")),
        "group:a": _doc(("Deny", "execute-api:/*/GET/health")),
    }
    routes = [Route("GET", "/health"), Route("GET", "/b")]
    m = build_matrix(docs, routes, principals=["group:b, group:a", "group:a,group:b"])
    assert m.to_dict() == {
        "routes": ["GET /health", "GET /b"],
        "subjects": ["default", "group:a", "group:b", "scope:s", "group:b,group:a"],
        "cells": {
            "default": {"GET /health": "allow", "GET /b": "deny"},
            "group:a": {"GET /health": "explicit-deny", "GET /b": "deny"},
            "group:b": {"GET /health": "allow", "GET /b": "allow"},
            "scope:s": {"GET /health": "allow", "GET /b": "deny"},
            "group:b,group:a": {"GET /health": "explicit-deny", "GET /b": "allow"},
        },
    }
    assert parse_principal("group:x,scope:y").selectors == ("default", "group:x", "scope:y")
    assert [s.name for s in subjects_for(["group:z", "default"])] == ["default", "group:z"]


def test_sample_paths() -> None:
    assert sample_path("/orders/{id}/files/{proxy+}") == "/orders/id1/files/proxy1/proxy2"
    assert sample_path("/a/{x}/{y+}", ["q", "r/s"]) == "/a/q/r/s"


def test_any_route_covered_verb_by_verb() -> None:
    """``execute-api:/*/*/x/*`` expands to one pattern per verb; together they allow ANY."""
    route = Route("ANY", "/x/{proxy+}")
    docs = {"default": _doc(("Allow", "execute-api:/*/*/x/*"))}
    assert build_matrix(docs, [route]).value("default", route) == "allow"
    docs = {"default": _doc(("Allow", "execute-api:/*/G*/x/*"))}
    assert build_matrix(docs, [route]).value("default", route) == "conditional"


def test_a_union_too_large_to_decide_is_conditional_not_wrong(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two partial Allows that together cover the template are allow; when the union's
    DFA exceeds its budget the cell falls back to conditional, never to a settled value."""
    route = Route("GET", "/a/{id}")
    docs = {"default": _doc(("Allow", ["execute-api:/*/GET/a/?", "execute-api:/*/GET/a/??*"]))}
    assert build_matrix(docs, [route]).value("default", route) == "allow"
    monkeypatch.setattr(analyzer, "_UNION_STATES", 2)
    assert build_matrix(docs, [route]).value("default", route) == "conditional"
    with pytest.raises(TooComplex):
        Glob((PREFIX + "*a*b*c",), max_states=2).walk(0, PREFIX)
