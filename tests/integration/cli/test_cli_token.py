"""``authz token inspect``: unverified decoding, and --verify with the authorizer's settings."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.integration.cli.conftest import base_env, run_authz
from tests.tokens import CLIENT_ID, ISSUER, POOL_ID, KeyPair, access_claims, jwks, mint

pytestmark = pytest.mark.integration


def _verify_env(key: KeyPair) -> dict[str, str]:
    return base_env(
        AUTHZ_USER_POOL_ID=POOL_ID,
        AUTHZ_CLIENT_IDS=CLIENT_ID,
        AUTHZ_JWKS_JSON=json.dumps(jwks(key)),
    )


def test_inspect_without_verify_is_labelled_unverified(authz_script: Path) -> None:
    """Without --verify the header and claims are shown, clearly marked UNVERIFIED, exit 0."""
    token = mint(access_claims(groups=["readers"], tenant="acme"), KeyPair.generate("k1"))
    result = run_authz("token", "inspect", token, env=base_env())
    assert result.code == 0, result.output
    assert result.stdout.startswith("UNVERIFIED")
    assert '"kid": "k1"' in result.stdout
    assert '"tenant": "acme"' in result.stdout
    assert "exp: " in result.stdout
    assert "(in 59m" in result.stdout or "(in 1h00m" in result.stdout


def test_verify_accepts_a_good_token_and_explains_a_bad_one(authz_script: Path) -> None:
    """--verify prints a valid token's principal; an expired one exits 1 with actual/expected."""
    key = KeyPair.generate("k1")
    env = _verify_env(key)
    good = mint(access_claims(groups=["readers"], username="alice"), key)
    ok = run_authz("token", "inspect", good, "--verify", "--json", env=env)
    assert ok.code == 0, ok.output
    body = json.loads(ok.stdout)
    assert body["verified"] is True
    assert body["principal"]["groups"] == ["readers"]
    assert body["principal"]["username"] == "alice"
    assert body["principal"]["issuer"] == ISSUER

    expired = mint(access_claims(now=int(time.time()) - 7200, ttl=3600), key)
    bad = run_authz("token", "inspect", expired, "--verify", env=env)
    assert bad.code == 1, bad.output
    assert "token rejected (ExpiredTokenError)" in bad.stderr
    assert "claim exp: actual" in bad.stderr


def test_verify_without_pool_configuration_is_a_usage_error(authz_script: Path) -> None:
    """--verify without AUTHZ_USER_POOL_ID is a usage error (exit 2) naming the variable."""
    token = mint(access_claims(), KeyPair.generate("k1"))
    result = run_authz("token", "inspect", token, "--verify", env=base_env())
    assert result.code == 2, result.output
    assert "configuration error: AUTHZ_USER_POOL_ID" in result.stderr
