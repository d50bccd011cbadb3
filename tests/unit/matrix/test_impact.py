"""Impact of a change: changed cells only, widenings first, new groups compared with
what their members had (``default``), and conditional cells whose patterns changed."""

from __future__ import annotations

from authz.matrix import Route, impact
from authz.policy import PolicyDocument


def _doc(*statements: tuple[str, str]) -> PolicyDocument:
    return PolicyDocument.from_dict(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": e, "Action": "execute-api:Invoke", "Resource": r} for e, r in statements
            ],
        }
    )


ROUTES = [Route("GET", "/orders/{id}"), Route("DELETE", "/orders/{id}"), Route("GET", "/u/{id}")]
DEFAULT = _doc(("Allow", "execute-api:/*/GET/u/${sub}"))


def test_widenings_first_then_narrowings() -> None:
    before = {"default": DEFAULT, "group:readers": _doc(("Allow", "execute-api:/*/GET/orders/*"))}
    after = {
        "default": DEFAULT,
        "group:readers": _doc(("Allow", "execute-api:/*/DELETE/orders/*")),
    }
    changes = [c.to_dict() for c in impact(before, after, ROUTES)]
    assert changes == [
        {
            "subject": "group:readers",
            "route": "DELETE /orders/{id}",
            "before": "deny",
            "after": "allow",
        },
        {
            "subject": "group:readers",
            "route": "GET /orders/{id}",
            "before": "allow",
            "after": "deny",
        },
    ]


def test_a_new_group_is_compared_with_default_alone() -> None:
    after = {"default": DEFAULT, "group:new": _doc(("Deny", "execute-api:/*/*/orders/*"))}
    changes = impact({"default": DEFAULT}, after, ROUTES)
    assert [(c.subject, str(c.route), c.before, c.after) for c in changes] == [
        ("group:new", "GET /orders/{id}", "deny", "explicit-deny"),
        ("group:new", "DELETE /orders/{id}", "deny", "explicit-deny"),
    ]
    assert not any(c.widening for c in changes)


def test_a_conditional_cell_whose_patterns_change_is_listed() -> None:
    after = {
        "default": _doc(
            ("Allow", "execute-api:/*/GET/u/${sub}"), ("Allow", "execute-api:/*/GET/u/x")
        )
    }
    changes = impact({"default": DEFAULT}, after, ROUTES)
    assert [(str(c.route), c.before, c.after) for c in changes] == [
        ("GET /u/{id}", "conditional", "conditional")
    ]


def test_no_change_no_impact() -> None:
    same = {"default": DEFAULT, "group:g": _doc(("Allow", "execute-api:/*/GET/orders/*"))}
    assert impact(same, dict(same), ROUTES, principals=["group:g,group:h"]) == []
