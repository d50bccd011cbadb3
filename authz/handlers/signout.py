"""Cognito's global sign-out for a ``sub`` revocation (``"cognito": true``, ``--cognito``).

``AdminUserGlobalSignOut`` invalidates the user's refresh tokens, so no new
access token can be minted from an old session; the access tokens already
issued still verify, which is what the revocation itself answers for.
Cognito takes a user name, not a ``sub``, hence the ``ListUsers`` lookup
first (the ``sub`` is a revocation target, validated to hold no quote).

A failure is reported, never raised: the revocation is already written and
stands on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["CognitoAdmin", "SignOutResult", "sign_out_everywhere"]


class CognitoAdmin(Protocol):
    """The two calls of a boto3 ``cognito-idp`` client this needs."""

    def list_users(self, **kwargs: Any) -> Any: ...

    def admin_user_global_sign_out(self, **kwargs: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class SignOutResult:
    """What the sign-out did; ``error`` says why it did not (None on success)."""

    signed_out: bool
    username: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"signed_out": self.signed_out, "username": self.username, "error": self.error}


def sign_out_everywhere(client: CognitoAdmin, user_pool_id: str | None, sub: str) -> SignOutResult:
    """Sign the user with this ``sub`` out of every device."""
    if not user_pool_id:
        return SignOutResult(False, error="AUTHZ_USER_POOL_ID is not set")
    try:
        found = client.list_users(UserPoolId=user_pool_id, Filter=f'sub = "{sub}"', Limit=1)
        users = found.get("Users") or []
        if not users:
            return SignOutResult(False, error=f"no user with sub {sub} in {user_pool_id}")
        username = users[0]["Username"]
        client.admin_user_global_sign_out(UserPoolId=user_pool_id, Username=username)
    # Any failure of the AWS call (botocore's ClientError, a timeout, no credentials) is
    # reported, not raised: the caller has already written the revocation.
    except Exception as exc:
        return SignOutResult(False, error=f"{type(exc).__name__}: {exc}")
    return SignOutResult(True, username=username)
