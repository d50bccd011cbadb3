"""The pure claim rules, without keys or signatures."""

from __future__ import annotations

from typing import Any

import pytest

from authz.errors import AudienceError, ExpiredTokenError, IssuerError, TokenUseError
from authz.token import ClaimRules, check_claims
from tests.tokens import CLIENT_ID, ISSUER, access_claims

NOW = 1_700_000_000
RULES = ClaimRules(issuers=frozenset({ISSUER}), client_ids=frozenset({CLIENT_ID}))


def claims(**kw: Any) -> dict[str, Any]:
    return access_claims(now=NOW, **kw)


def test_valid_claims_build_principal() -> None:
    """Valid access claims become a principal with groups and scopes split out."""
    p = check_claims(claims(groups=["a", "b"], scopes=["x", "y"]), RULES, NOW)
    assert (p.groups, p.scopes, p.token_use) == (("a", "b"), ("x", "y"), "access")


def test_issuer_error_carries_actual_and_expected() -> None:
    """IssuerError names the claim, what it held and what was accepted."""
    with pytest.raises(IssuerError) as info:
        check_claims(claims(issuer="https://evil"), RULES, NOW)
    assert (info.value.claim, info.value.actual, info.value.expected) == (
        "iss",
        "https://evil",
        [ISSUER],
    )


def test_expired_error_carries_exp() -> None:
    """ExpiredTokenError carries the exp it refused."""
    with pytest.raises(ExpiredTokenError) as info:
        check_claims(claims(ttl=10), RULES, NOW + 10)
    assert info.value.actual == NOW + 10


def test_client_check_disabled_with_none() -> None:
    """client_ids=None accepts any app client."""
    rules = ClaimRules(issuers=RULES.issuers, client_ids=None)
    assert check_claims(claims(client_id="zzz"), rules, NOW).client_id == "zzz"


def test_audience_error_lists_allowed_clients() -> None:
    """AudienceError lists the allowed clients as expected."""
    with pytest.raises(AudienceError) as info:
        check_claims(claims(client_id="zzz"), RULES, NOW)
    assert info.value.expected == [CLIENT_ID]


def test_token_use_error_for_any_lists_both() -> None:
    """With token_use any, a refresh token_use is refused and both uses are expected."""
    rules = ClaimRules(issuers=RULES.issuers, client_ids=None, token_use="any")
    with pytest.raises(TokenUseError) as info:
        check_claims(claims(token_use="refresh"), rules, NOW)
    assert info.value.expected == ["access", "id"]


def test_scope_with_extra_spaces_splits_cleanly() -> None:
    """Scopes are split on whitespace, so doubled spaces yield no empty scope."""
    assert check_claims(claims(scope=" a  b "), RULES, NOW).scopes == ("a", "b")


def test_checked_issuer_skips_only_the_repeat_of_the_issuer_check() -> None:
    """A caller that checked the issuer first gets the same principal, and every other rule
    still applies."""
    payload = claims(groups=["a"])
    assert check_claims(payload, RULES, NOW, checked_issuer=ISSUER) == check_claims(
        payload, RULES, NOW
    )
    with pytest.raises(AudienceError):
        check_claims(claims(client_id="zzz"), RULES, NOW, checked_issuer=ISSUER)
    with pytest.raises(ExpiredTokenError):
        check_claims(claims(ttl=10), RULES, NOW + 10, checked_issuer=ISSUER)


def test_principal_is_a_plain_frozen_dataclass() -> None:
    """Principal compares by its fields (claims excluded), hashes, and cannot be changed."""
    import dataclasses

    from authz.token import Principal

    fields = {
        "sub": "s",
        "username": None,
        "client_id": "c",
        "token_use": "access",
        "groups": ("g",),
        "scopes": (),
        "issuer": ISSUER,
        "expires_at": 10,
    }
    a = Principal(**fields, claims={"x": 1})  # type: ignore[arg-type]
    b = Principal(**fields)  # type: ignore[arg-type]
    assert a == b
    assert hash(a) == hash(b)
    assert b.claims == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.sub = "other"  # type: ignore[misc]
