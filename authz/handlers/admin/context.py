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
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from authz.handlers.admin.freshness import Flusher
from authz.handlers.admin.http import Caller
from authz.handlers.admin.simulate import ApiIdentity
from authz.matrix import Route, SampleApi
from authz.service import TokenVerifier
from authz.settings import Settings
from authz.store.types import PolicyRepository

__all__ = ["AdminDeps", "RequestScope", "scope"]

_KEY = "admin"


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

    def token_verifier(self) -> TokenVerifier:
        """Built on the first token simulation: most deployments never pay for it."""
        with self.verifier_lock:
            if self.verifier is None:
                # python-jose loads only when a token is simulated.
                from authz.token.verifier import Verifier  # noqa: PLC0415

                self.verifier = Verifier.from_settings(self.settings)
            return self.verifier


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
