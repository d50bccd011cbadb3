"""``simulate`` and ``effective_policy``: what the admin API and the CLI build on."""

from __future__ import annotations

from typing import Any

from authz.policy import Selector, evaluate
from authz.service import deny_all_policy, effective_policy, simulate
from authz.token.principal import Principal
from tests.functional.authorizer.support import POLICIES, arn, load
from tests.tokens import settings_for


def test_simulate_described_principal_explains_with_selector_labels(repository: Any) -> None:
    """A described principal gets the decision, the deciding statements by selector and Sid."""
    load(repository)
    result = simulate(
        repository, None, arn("DELETE", "orders/locked-3"), groups=["admins", "readers"]
    )
    assert not result.allowed
    assert result.decision.effect == "Deny"
    deciding = [m for m in result.statements if m["deciding"]]
    assert [(m["selector"], m["sid"]) for m in deciding] == [("group:admins", "Locked")]
    overridden = {(m["selector"], m["sid"]) for m in result.statements if not m["deciding"]}
    assert ("group:admins", "Everything") in overridden
    assert [str(s) for s in result.selectors] == ["default", "group:admins", "group:readers"]
    assert "Locked" in str(result.explanation)


def test_simulate_matches_the_authorizer_effective_policy(repository: Any) -> None:
    """The simulated decision equals evaluating the effective policy, variables included."""
    load(repository)
    result = simulate(repository, None, arn("GET", "users/u-1"), groups=["users"], sub="u-1")
    assert result.allowed
    assert evaluate(result.document, arn("GET", "users/u-1")).allowed
    assert not evaluate(result.document, arn("GET", "users/u-2")).allowed
    assert result.found == (Selector.parse("default"), Selector.parse("group:users"))
    assert result.to_dict()["allowed"] is True


def test_simulate_with_a_principal_and_budget_reports_over_budget(repository: Any) -> None:
    """A Principal's groups, scopes and claims are used; the byte budget is reported, not raised."""
    load(repository)
    principal = Principal(
        sub="p-1",
        username="p",
        client_id="c",
        token_use="access",
        groups=("readers",),
        scopes=("orders/write",),
        issuer="simulation",
        expires_at=0,
    )
    small = settings_for(AUTHZ_POLICY_MAX_BYTES="256")
    result = simulate(repository, principal, arn("POST", "orders"), settings=small)
    assert result.allowed
    assert result.policy_bytes > 256
    assert result.over_budget
    assert not simulate(repository, principal, arn("POST", "orders")).over_budget


def test_nothing_stored_simulates_to_the_deny_all_policy(repository: Any) -> None:
    """With no policy stored: an implicit deny, and the explicit deny-all as the policy."""
    result = simulate(repository, None, arn("GET", "health"), groups=["x"])
    assert result.decision.effect == "ImplicitDeny"
    assert result.effective_policy == deny_all_policy()
    assert result.found == ()


def test_effective_policy_is_order_independent_and_substitutes() -> None:
    """The effective document does not depend on selector order and resolves ${sub}."""
    docs = {Selector.parse(k): v for k, v in POLICIES.items() if k in ("group:users", "default")}
    forward = effective_policy(docs, {"sub": "zed"})
    backward = effective_policy(dict(reversed(list(docs.items()))), {"sub": "zed"})
    assert forward == backward
    assert evaluate(forward, arn("PUT", "users/zed/x")).allowed
    assert "${sub}" not in str(forward.to_dict())
