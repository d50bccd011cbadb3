"""The authorizer handler against real Cognito-issued tokens (moto's server) and DynamoDB Local.

The handler is built exactly as in Lambda: ``Settings.from_env`` with
``AUTHZ_JWKS_URL`` pointing at the local pool's key set, so the first token
makes the verifier fetch the JWKS over loopback HTTP.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from authz.dev.cognito import LocalCognito
from authz.handlers import authorizer as module
from authz.handlers.observability import Telemetry
from authz.policy import PolicyDocument, evaluate
from authz.settings import Settings
from tests.functional.authorizer.support import arn, event, lines, load

pytestmark = pytest.mark.integration


@pytest.fixture
def app(
    local_cognito: LocalCognito, store_settings: Settings, repository: Any
) -> module.AuthorizerApp:
    """The production composition (``build``) from the environment a deployment would set."""
    load(repository)
    env = {
        **local_cognito.settings_env(),
        "AUTHZ_TABLE": store_settings.table,
        "AUTHZ_DYNAMODB_ENDPOINT": str(store_settings.dynamodb_endpoint),
    }
    out = io.StringIO()
    built = module.build(Settings.from_env(env), telemetry=Telemetry(stream=out, environ={}))
    built.out = out  # type: ignore[attr-defined]  # the tests read the decision lines back
    return built


def decide(app: module.AuthorizerApp, token: str, verb: str, path: str) -> dict[str, Any]:
    return app(event("rest_token", token, methodArn=arn(verb, path)), None)


def test_cognito_user_tokens_get_their_groups_policies(
    app: module.AuthorizerApp, local_cognito: LocalCognito
) -> None:
    """alice (readers, admins) and bob (readers) get policies built from their real group claims."""
    alice = decide(app, local_cognito.tokens("alice")["access"], "DELETE", "orders/9")
    bob = decide(app, local_cognito.tokens("bob")["access"], "GET", "orders/9")
    alice_policy = PolicyDocument.from_dict(alice["policyDocument"])
    bob_policy = PolicyDocument.from_dict(bob["policyDocument"])
    assert evaluate(alice_policy, arn("DELETE", "orders/9")).allowed
    assert evaluate(alice_policy, arn("DELETE", "orders/locked-1")).effect == "Deny"
    assert evaluate(bob_policy, arn("GET", "orders/9")).allowed
    assert not evaluate(bob_policy, arn("DELETE", "orders/9")).allowed
    assert set(json.loads(alice["context"]["groups"])) == {"admins", "readers"}
    assert bob["context"]["token_use"] == "access"
    decisions = [line for line in lines(app.out) if line.get("message") == "decision"]  # type: ignore[attr-defined]
    assert decisions[0]["JwksFetches"] == 1  # the key set came over loopback HTTP, once
    assert sum(d["JwksFetches"] for d in decisions) == 1


def test_user_without_groups_gets_only_the_default_policy(
    app: module.AuthorizerApp, local_cognito: LocalCognito
) -> None:
    """carol has no groups: /health (default) is allowed, orders are not."""
    carol = decide(app, local_cognito.tokens("carol")["access"], "GET", "orders/1")
    policy = PolicyDocument.from_dict(carol["policyDocument"])
    assert evaluate(policy, arn("GET", "health")).allowed
    assert not evaluate(policy, arn("GET", "orders/1")).allowed


def test_id_token_is_unauthorized_when_access_tokens_are_required(
    app: module.AuthorizerApp, local_cognito: LocalCognito
) -> None:
    """A real ID token is refused with exactly Unauthorized under AUTHZ_TOKEN_USE=access."""
    with pytest.raises(Exception) as info:  # noqa: PT011  # the contract IS the bare Exception
        decide(app, local_cognito.tokens("bob")["id"], "GET", "orders/1")
    assert info.value.args == ("Unauthorized",)


def test_tampered_cognito_token_is_unauthorized(
    app: module.AuthorizerApp, local_cognito: LocalCognito
) -> None:
    """Changing one character of a real token's payload breaks its signature: Unauthorized."""
    header, payload, signature = local_cognito.tokens("bob")["access"].split(".")
    flipped = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    with pytest.raises(Exception) as info:  # noqa: PT011  # the contract IS the bare Exception
        decide(app, f"{header}.{flipped}.{signature}", "GET", "orders/1")
    assert info.value.args == ("Unauthorized",)
