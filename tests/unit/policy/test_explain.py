"""explain(): the decision plus every statement that matched, by selector."""

from __future__ import annotations

from authz.policy import VERSION, PolicyDocument, evaluate, explain, method_arn

ANY = "arn:aws:execute-api:*:*:*"


def arn(verb: str, path: str) -> str:
    return method_arn("us-east-1", "123456789012", "a1b2c3", "prod", verb, path)


def policy(sid: str, effect: str, *resources: str) -> PolicyDocument:
    return PolicyDocument.from_dict(
        {
            "Version": VERSION,
            "Statement": [
                {
                    "Sid": sid,
                    "Effect": effect,
                    "Action": "execute-api:Invoke",
                    "Resource": list(resources),
                }
            ],
        }
    )


WRITERS = policy("WriteOrders", "Allow", f"{ANY}/*/DELETE/orders/*", f"{ANY}/*/*/orders/*")
INTERNS = policy("NoDelete", "Deny", f"{ANY}/*/DELETE/*")


def test_explicit_deny_explained() -> None:
    """A Deny decision lists the Deny as deciding and the overridden Allows as not deciding."""
    e = explain(
        [("group:writers", WRITERS), ("group:interns", INTERNS)], arn("DELETE", "/orders/1")
    )
    assert (e.decision.allowed, e.decision.effect) == (False, "Deny")
    assert [(m.match.label, m.match.sid, m.match.pattern, m.deciding) for m in e.matches] == [
        ("group:interns", "NoDelete", f"{ANY}/*/DELETE/*", True),
        ("group:writers", "WriteOrders", f"{ANY}/*/DELETE/orders/*", False),
        ("group:writers", "WriteOrders", f"{ANY}/*/*/orders/*", False),
    ]
    text = str(e)
    assert text.startswith(
        "DENY  DELETE /orders/1 — explicit Deny by group:interns Sid=NoDelete "
        f"pattern {ANY}/*/DELETE/*"
    )
    assert "overridden: Allow by group:writers Sid=WriteOrders" in text


def test_allow_explained_from_mapping() -> None:
    """A mapping of selector to document works; every matching Allow is deciding."""
    e = explain({"group:writers": WRITERS, "group:interns": INTERNS}, arn("PUT", "/orders/1"))
    assert e.decision.allowed
    assert e.decision.effect == "Allow"
    assert [m.deciding for m in e.matches] == [True]
    assert str(e).startswith("ALLOW PUT /orders/1 — Allow by group:writers Sid=WriteOrders")


def test_implicit_deny_explained() -> None:
    """No match is an implicit deny with no statements, said in words."""
    e = explain({"default": WRITERS}, arn("GET", "/health"))
    assert e.decision.effect == "ImplicitDeny"
    assert e.matches == ()
    assert str(e) == "DENY  GET /health — no statement allows it (implicit deny)"


def test_explanation_agrees_with_evaluate() -> None:
    """explain's decision effect is evaluate's for the same documents."""
    docs = [WRITERS, INTERNS]
    for verb, path in (("DELETE", "/orders/1"), ("GET", "/orders/1"), ("GET", "/x")):
        request = arn(verb, path)
        assert explain([(str(i), d) for i, d in enumerate(docs)], request).decision.effect == (
            evaluate(docs, request).effect
        )


def test_to_dict_is_json_able() -> None:
    """to_dict carries the request, the decision and every match with its selector and Sid."""
    request = arn("DELETE", "/orders/1")
    d = explain([("group:interns", INTERNS)], request).to_dict()
    assert d == {
        "methodArn": request,
        "allowed": False,
        "effect": "Deny",
        "matches": [
            {
                "selector": "group:interns",
                "document": 0,
                "statement": 0,
                "sid": "NoDelete",
                "effect": "Deny",
                "pattern": f"{ANY}/*/DELETE/*",
                "deciding": True,
            }
        ],
    }


def test_unparsable_arn_is_shown_raw() -> None:
    """A request that is not a methodArn is still explained, showing the raw text."""
    e = explain([("default", policy("All", "Allow", "*"))], "not-an-arn")
    assert str(e) == "ALLOW not-an-arn — Allow by default Sid=All pattern *"


def test_match_shortcuts() -> None:
    """Each explained match exposes selector, Sid, effect and pattern directly."""
    [m] = explain([("group:interns", INTERNS)], arn("DELETE", "/x")).matches
    assert (m.selector, m.sid, m.effect, m.pattern) == (
        "group:interns",
        "NoDelete",
        "Deny",
        f"{ANY}/*/DELETE/*",
    )
