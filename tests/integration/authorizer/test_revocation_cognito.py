"""``POST /revocations`` with ``"cognito": true`` against a real (moto) user pool.

The admin API finds the user by ``sub`` and calls AdminUserGlobalSignOut, so
the refresh token of their sign-in stops minting tokens; the revocation
itself is stored in DynamoDB Local either way.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import Any

import pytest

from authz.dev.cognito import LocalCognito
from authz.handlers.admin.app import AdminApp, build_app
from authz.settings import Settings
from tests.functional.admin.helpers import ADMIN_GROUP, call

pytestmark = pytest.mark.integration


@pytest.fixture
def admin(local_cognito: LocalCognito, store_settings: Settings, repository: Any) -> AdminApp:
    settings = dataclasses.replace(
        store_settings, admin_group=ADMIN_GROUP, user_pool_id=local_cognito.pool_id
    )
    return build_app(
        settings,
        repository,
        flusher=lambda _api, _stage: None,
        clock=time.time,
        cognito=local_cognito.client,
    )


def _signed_in_user(cognito: LocalCognito) -> tuple[str, str, str]:
    """A new user, signed in: ``(username, sub, refresh token)``."""
    username = f"revoked-{uuid.uuid4().hex[:10]}"
    cognito.create_user(username)
    refresh = cognito.tokens(username)["refresh"]
    attributes = cognito.client.admin_get_user(UserPoolId=cognito.pool_id, Username=username)
    sub = next(a["Value"] for a in attributes["UserAttributes"] if a["Name"] == "sub")
    return username, sub, refresh


def _refresh(cognito: LocalCognito, refresh_token: str) -> dict[str, Any]:
    answer: dict[str, Any] = cognito.client.initiate_auth(
        ClientId=cognito.client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )
    return answer


def test_cognito_true_signs_the_user_out_and_kills_their_refresh_token(
    admin: AdminApp, local_cognito: LocalCognito
) -> None:
    username, sub, refresh = _signed_in_user(local_cognito)
    # The refresh token works before the revocation, so its failure after is the sign-out's.
    assert _refresh(local_cognito, refresh)["AuthenticationResult"]["AccessToken"]
    r = call(admin, "POST", "/revocations", body={"sub": sub, "reason": "left", "cognito": True})
    assert r.status == 201, r.body
    assert r.body["cognito"] == {"signed_out": True, "username": username, "error": None}
    assert r.body["revocation"]["id"] == f"sub:{sub}"
    with pytest.raises(local_cognito.client.exceptions.NotAuthorizedException):
        _refresh(local_cognito, refresh)
    assert call(admin, "GET", f"/revocations/sub:{sub}").status == 200


def test_a_sub_with_no_user_is_reported_and_the_revocation_is_stored(
    admin: AdminApp, local_cognito: LocalCognito
) -> None:
    sub = str(uuid.uuid4())
    r = call(admin, "POST", "/revocations", body={"sub": sub, "cognito": True})
    assert r.status == 201, r.body
    assert r.body["cognito"]["signed_out"] is False
    assert r.body["cognito"]["error"] == f"no user with sub {sub} in {local_cognito.pool_id}"
    stored = call(admin, "GET", f"/revocations/sub:{sub}")
    assert (stored.status, stored.body["id"]) == (200, f"sub:{sub}")


def test_other_users_keep_their_sessions(admin: AdminApp, local_cognito: LocalCognito) -> None:
    """The sign-out is the revoked user's alone."""
    _, sub, _ = _signed_in_user(local_cognito)
    _, _, other_refresh = _signed_in_user(local_cognito)
    r = call(admin, "POST", "/revocations", body={"sub": sub, "cognito": True})
    assert r.body["cognito"]["signed_out"] is True
    assert _refresh(local_cognito, other_refresh)["AuthenticationResult"]["AccessToken"]
