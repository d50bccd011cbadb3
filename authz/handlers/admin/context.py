"""What the admin API's routes receive through the resolver's context.

Powertools clears a resolver's context after every request, so ``AdminApp``
appends one ``RequestScope`` per request (``append_context(admin=...)``)
and each route reads it back with ``scope(router)``: the routes hold no
closure over the app's collaborators.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from aws_lambda_powertools.event_handler.api_gateway import Router

from authz.handlers.admin.errors import ApiError
from authz.handlers.admin.freshness import Flusher
from authz.handlers.admin.http import Caller
from authz.handlers.admin.simulate import ApiIdentity
from authz.handlers.signout import CognitoAdmin
from authz.matrix import Route, SampleApi
from authz.service import TokenVerifier
from authz.settings import Settings
from authz.store.types import PolicyRepository, RevocationRepository

__all__ = ["AdminDeps", "RequestScope", "scope"]

_KEY = "admin"

# A global sign-out must answer well within the Lambda's timeout: the revocation
# is already written, and a hung call would lose the response that says so.
# One attempt per call, ListUsers and the sign-out: at most 6 s in all, which with the flush's
# wait for the epoch interval stays inside the admin function's timeout.
_COGNITO_TIMEOUTS = {
    "connect_timeout": 1,
    "read_timeout": 2,
    "retries": {"max_attempts": 1, "mode": "standard"},
}


@dataclass
class AdminDeps:
    """The collaborators of one admin API, shared by all of its requests."""

    settings: Settings
    repository: PolicyRepository
    flusher: Flusher
    clock: Callable[[], float]
    verifier: TokenVerifier | None
    sleep: Callable[[float], None] = time.sleep
    # The protected API's routes (AUTHZ_ROUTES, see admin.access); None when unset.
    routes: tuple[Route, ...] | None = None
    verifier_lock: threading.Lock = field(default_factory=threading.Lock)
    # The cognito-idp client of "cognito": true revocations; built on first use when None.
    cognito: CognitoAdmin | None = None
    cognito_lock: threading.Lock = field(default_factory=threading.Lock)

    def token_verifier(self) -> TokenVerifier:
        """Built on the first token simulation: most deployments never pay for it."""
        with self.verifier_lock:
            if self.verifier is None:
                # python-jose loads only when a token is simulated.
                from authz.token.verifier import Verifier  # noqa: PLC0415

                self.verifier = Verifier.from_settings(self.settings)
            return self.verifier

    def cognito_admin(self) -> CognitoAdmin:
        """Built on the first global sign-out, in the user pool's own region."""
        with self.cognito_lock:
            if self.cognito is None:
                # Only deployments that sign users out pay for boto3's cognito-idp model.
                import boto3  # type: ignore[import-untyped]  # noqa: PLC0415  # no stubs
                from botocore.config import Config  # type: ignore[import-untyped]  # noqa: PLC0415

                pool = self.settings.user_pool_id
                region = pool.split("_", 1)[0] if pool else self.settings.region
                self.cognito = cast(
                    CognitoAdmin,
                    boto3.client(
                        "cognito-idp", region_name=region, config=Config(**_COGNITO_TIMEOUTS)
                    ),
                )
            return self.cognito

    def revocations(self) -> RevocationRepository:
        """The repository as a revocation store; 501 when it keeps no revocations."""
        repository = self.repository
        if not isinstance(repository, RevocationRepository):
            raise ApiError(501, "not_implemented", "this policy store keeps no revocations")
        return repository


@dataclass(frozen=True, slots=True)
class RequestScope:
    """One request's view: the app's collaborators, the caller and the API it came through."""

    deps: AdminDeps
    caller: Caller
    api: ApiIdentity
    openapi: Callable[[], dict[str, Any]]

    def sample_api(self) -> SampleApi:
        """The API the access matrix is drawn for: the one this request came through."""
        api = self.api
        return SampleApi(self.deps.settings.region, api.account_id, api.api_id, api.stage)

    def as_context(self) -> dict[str, Any]:
        return {_KEY: self}


def scope(router: Router) -> RequestScope:
    """The current request's scope, as ``AdminApp`` appended it."""
    found: RequestScope = router.context[_KEY]
    return found
