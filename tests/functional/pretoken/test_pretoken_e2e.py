"""From sign-in to decision: claims the trigger adds are what ``${claim:NAME}`` policies read.

moto's Cognito (5.2.x) stores a pool's ``LambdaConfig`` but never invokes a
trigger, so Cognito's part is played here by ``cognito_issues``: it applies
the trigger's response to the claims Cognito would have issued, the way the
Cognito documentation describes (claimsToAddOrOverride merged into the token,
scopesToAdd appended to ``scope``, groupOverrideDetails replacing
``cognito:groups``). The token is then minted with a real RS256 key and
decided by the real ``authz.service.Authorizer`` on DynamoDB Local.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from authz.handlers.pretoken import PreTokenTrigger
from authz.policy import PolicyDocument
from authz.policy.selector import Selector
from authz.service import Authorizer
from authz.token.verifier import Verifier
from tests.functional.pretoken.helpers import with_groups
from tests.tokens import KeyPair, access_claims, id_claims, jwks, mint, settings_for

ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET"
TENANT_POLICY = PolicyDocument.from_dict(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OwnTenant",
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:*:*:*/*/GET/tenants/${claim:tenant}/*",
            }
        ],
    }
)
ORDERS_POLICY = PolicyDocument.from_dict(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:*:*:*/*/GET/orders/*",
            }
        ],
    }
)


def cognito_issues(event: Mapping[str, Any], token_use: str) -> dict[str, Any]:
    """The claims Cognito would put in the ``token_use`` token after this trigger response."""
    request = event["request"]
    groups = list((request.get("groupConfiguration") or {}).get("groupsToOverride") or [])
    scopes = list(request.get("scopes") or [])
    response = event["response"]
    added: dict[str, Any] = {}
    if event["version"] == "1":
        details = response.get("claimsOverrideDetails") or {}
        if token_use == "id":
            added = dict(details.get("claimsToAddOrOverride") or {})
    else:
        details = response.get("claimsAndScopeOverrideDetails") or {}
        part = details.get("idTokenGeneration" if token_use == "id" else "accessTokenGeneration")
        part = part or {}
        added = dict(part.get("claimsToAddOrOverride") or {})
        if token_use == "access":
            scopes += [s for s in part.get("scopesToAdd") or [] if s not in scopes]
    override = details.get("groupOverrideDetails")
    if override is not None:
        groups = list(override.get("groupsToOverride") or [])
    if token_use == "id":
        return id_claims(groups=groups, username="alice", **added)
    return access_claims(groups=groups, scopes=scopes, username="alice", **added)


@pytest.fixture
def seeded(repository: Any) -> None:
    """group:tenant-acme reads ${claim:tenant} and sets it; scope:orders/read allows /orders."""
    repository.put(
        Selector("group", "tenant-acme"),
        TENANT_POLICY,
        actor="test",
        token={"claims": {"tenant": "acme"}, "scopes": ["orders/read"]},
    )
    repository.put(Selector("scope", "orders/read"), ORDERS_POLICY, actor="test")


@pytest.fixture
def decide(repository: Any) -> Callable[..., bool]:
    """``decide(claims, path, token_use)``: mint a token with the claims, authorize GET path."""
    key = KeyPair.generate("pretoken-e2e")
    authorizers: dict[str, Authorizer] = {}

    def run(claims: Mapping[str, Any], path: str, token_use: str = "access") -> bool:  # noqa: S107  # not a secret
        if token_use not in authorizers:
            verifier = Verifier(settings_for(token_use=token_use, jwks_json=jwks(key)))
            authorizers[token_use] = Authorizer(verifier, repository)
        outcome = authorizers[token_use].authorize(mint(claims, key), f"{ARN}{path}")
        return outcome.allowed

    return run


@pytest.mark.usefixtures("seeded")
def test_v2_trigger_claim_feeds_a_claim_variable(
    trigger: PreTokenTrigger, decide: Callable[..., bool]
) -> None:
    """The tenant claim the trigger adds to the access token opens exactly that tenant's paths."""
    event = trigger(with_groups("pretoken_v2", ["tenant-acme"]))
    claims = cognito_issues(event, "access")
    assert claims["tenant"] == "acme"
    assert decide(claims, "/tenants/acme/invoices")
    assert not decide(claims, "/tenants/globex/invoices")


@pytest.mark.usefixtures("seeded")
def test_v2_trigger_scope_feeds_a_scope_policy(
    trigger: PreTokenTrigger, decide: Callable[..., bool]
) -> None:
    """The scope the trigger adds to the access token selects that scope's policy."""
    event = trigger(with_groups("pretoken_v2", ["tenant-acme"]))
    claims = cognito_issues(event, "access")
    assert "orders/read" in claims["scope"].split()
    assert decide(claims, "/orders/42")


@pytest.mark.usefixtures("seeded")
def test_without_the_trigger_the_claim_policy_allows_nothing(decide: Callable[..., bool]) -> None:
    """Without the trigger's claim and scope the same user is denied: the variable never widens."""
    event = with_groups("pretoken_v2", ["tenant-acme"])  # Cognito's output with no trigger
    claims = cognito_issues(event, "access")
    assert "tenant" not in claims
    assert not decide(claims, "/tenants/acme/invoices")
    assert not decide(claims, "/orders/42")


@pytest.mark.usefixtures("seeded")
def test_v1_trigger_claim_feeds_a_claim_variable_in_id_tokens(
    trigger: PreTokenTrigger, decide: Callable[..., bool]
) -> None:
    """A version 1 trigger reaches ID tokens only; an authorizer accepting ID tokens reads it."""
    event = trigger(with_groups("pretoken_v1", ["tenant-acme"]))
    id_token = cognito_issues(event, "id")
    assert id_token["tenant"] == "acme"
    assert decide(id_token, "/tenants/acme/invoices", "id")
    assert not decide(id_token, "/tenants/globex/invoices", "id")
    assert "tenant" not in cognito_issues(event, "access")


@pytest.mark.usefixtures("seeded")
def test_conflicting_tenants_resolve_to_the_first_group_by_name(
    repository: Any, trigger: PreTokenTrigger, decide: Callable[..., bool]
) -> None:
    """A user in two tenant groups gets the tenant of the group whose name sorts first."""
    repository.put(
        Selector("group", "tenant-a-globex"),
        TENANT_POLICY,
        actor="test",
        token={"claims": {"tenant": "globex"}},
    )
    event = trigger(with_groups("pretoken_v2", ["tenant-acme", "tenant-a-globex"]))
    claims = cognito_issues(event, "access")
    assert claims["tenant"] == "globex"
    assert decide(claims, "/tenants/globex/invoices")
    assert not decide(claims, "/tenants/acme/invoices")
