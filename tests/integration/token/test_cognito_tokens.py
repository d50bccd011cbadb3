"""Real moto-issued Cognito tokens, keys fetched over loopback from the local pool's JWKS URL."""

from __future__ import annotations

import pytest

from authz.dev.cognito import LocalCognito
from authz.errors import AudienceError, TokenUseError
from authz.settings import Settings
from authz.token import Verifier
from authz.token.jwt import decode

pytestmark = pytest.mark.integration


def verifier(cognito: LocalCognito, use: str = "access", **env: str) -> Verifier:
    return Verifier(Settings.from_env({**cognito.settings_env(token_use=use), **env}))


def test_access_token_verifies_with_groups_and_scope(local_cognito: LocalCognito) -> None:
    """A real access token verifies, carrying the user's groups and Cognito's default scope."""
    tokens = local_cognito.tokens("alice")
    p = verifier(local_cognito).verify(tokens["access"])
    assert p.token_use == "access"
    assert p.username == "alice"
    assert p.client_id == local_cognito.client_id
    assert p.issuer == local_cognito.issuer
    assert sorted(p.groups) == ["admins", "readers"]
    assert p.scopes == ("aws.cognito.signin.user.admin",)


def test_id_token_verifies_with_groups(local_cognito: LocalCognito) -> None:
    """A real ID token verifies with cognito:username and aud mapped."""
    p = verifier(local_cognito, "id").verify(local_cognito.tokens("bob")["id"])
    assert (p.token_use, p.username, p.client_id) == ("id", "bob", local_cognito.client_id)
    assert p.groups == ("readers",)
    assert p.scopes == ()


def test_user_without_groups(local_cognito: LocalCognito) -> None:
    """A user in no group verifies with no groups (Cognito omits the claim)."""
    p = verifier(local_cognito).verify(local_cognito.tokens("carol")["access"])
    assert p.groups == ()
    assert "cognito:groups" not in p.claims


def test_tokens_carry_the_real_issuer_and_a_kid(local_cognito: LocalCognito) -> None:
    """moto's tokens carry the AWS issuer string and an RS256 header with a kid."""
    decoded = decode(local_cognito.tokens("alice")["access"])
    assert decoded.payload["iss"].startswith("https://cognito-idp.us-east-1.amazonaws.com/")
    assert decoded.header["alg"] == "RS256"
    assert decoded.kid


def test_jwks_fetched_once_over_loopback(local_cognito: LocalCognito) -> None:
    """The verifier fetches the pool's JWKS from the local URL and then reuses it."""
    v = verifier(local_cognito)
    tokens = local_cognito.tokens("alice")
    v.verify(tokens["access"])
    key_set = v.jwks.key_set(local_cognito.jwks_url)
    assert key_set is not None
    assert decode(tokens["access"]).kid in key_set.keys


def test_id_token_refused_where_access_required(local_cognito: LocalCognito) -> None:
    """A real ID token is refused by an access-token verifier."""
    with pytest.raises(TokenUseError):
        verifier(local_cognito).verify(local_cognito.tokens("alice")["id"])


def test_other_client_refused(local_cognito: LocalCognito) -> None:
    """A token for the pool's app client is refused when only another client is allowed."""
    v = verifier(local_cognito, AUTHZ_CLIENT_IDS="someotherclient")
    with pytest.raises(AudienceError):
        v.verify(local_cognito.tokens("alice")["access"])


def test_new_user_and_group(local_cognito: LocalCognito) -> None:
    """A user created during the test gets its groups in the token."""
    local_cognito.create_user("dave-token-test", groups=["auditors"])
    p = verifier(local_cognito).verify(local_cognito.tokens("dave-token-test")["access"])
    assert (p.username, p.groups) == ("dave-token-test", ("auditors",))
