"""The client-credentials grant of a Cognito domain's ``/oauth2/token``, on 127.0.0.1.

moto's Cognito has no token endpoint, so machine-to-machine tokens could not
be tried locally. This serves the one grant they need, the way Cognito does:

- ``POST /oauth2/token`` with ``grant_type=client_credentials``, the client
  authenticated by HTTP Basic (``client_id:client_secret``) or by the two form
  fields, and an optional space-separated ``scope``;
- the client, its secret, its allowed flows and scopes are read from the local
  pool (``DescribeUserPoolClient``), so what moto stores is the single truth;
- the answer is ``{"access_token", "expires_in", "token_type": "Bearer"}``;
  errors are OAuth2's ``{"error": ...}`` with Cognito's status codes.

The token is signed with the key moto signs its own tokens with, so it
verifies against the pool's local JWKS like any other token of the pool. Its
claims are those of a Cognito client-credentials access token: ``sub`` and
``client_id`` are the client, ``scope`` the granted scopes, no ``username``.
Nothing here is imported by the Lambda functions.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from authz.dev.cognito import LocalCognito

__all__ = ["TOKEN_LIFETIME_SECONDS", "LocalTokenEndpoint", "OAuthError"]

TOKEN_LIFETIME_SECONDS = 3600
_PATH = "/oauth2/token"


class OAuthError(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


def _moto_signing_key() -> tuple[dict[str, Any], str]:
    # The key moto signs the pool's tokens with; its public half is the JWKS.
    from moto.utilities.utils import load_resource  # noqa: PLC0415  # dev-only dependency

    key = load_resource("cognitoidp/resources/jwks-private.json")
    public = load_resource("cognitoidp/resources/jwks-public.json")
    return key, str(public["keys"][0]["kid"])


class LocalTokenEndpoint:
    """``start()`` returns the token URL; ``stop()`` ends the server."""

    def __init__(self, cognito: LocalCognito, clock: Any = time.time) -> None:
        self.cognito = cognito
        self._clock = clock
        self._key, self._kid = _moto_signing_key()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self, port: int = 0) -> str:
        server = make_server("127.0.0.1", port, self, threaded=True)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="authz-local-oauth", daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{server.server_port}{_PATH}"
        return self.url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            if request.path != _PATH:
                raise OAuthError(404, "not_found")
            if request.method != "POST":
                raise OAuthError(405, "invalid_request")
            body = {"access_token": self.issue(request), "expires_in": TOKEN_LIFETIME_SECONDS}
            response = Response(json.dumps({**body, "token_type": "Bearer"}), 200)
        except OAuthError as exc:
            response = Response(json.dumps({"error": exc.error}), exc.status)
        response.content_type = "application/json"
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)

    def issue(self, request: Request) -> str:
        """A signed access token for the request's client, or OAuthError."""
        if request.form.get("grant_type") != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type")
        client_id, secret = _client_credentials(request)
        client = self._client(client_id)
        if not secret or secret != client.get("ClientSecret"):
            raise OAuthError(401, "invalid_client")
        if "client_credentials" not in client.get("AllowedOAuthFlows", []):
            raise OAuthError(400, "unauthorized_client")
        allowed = list(client.get("AllowedOAuthScopes", []))
        asked = request.form.get("scope", "").split()
        if any(s not in allowed for s in asked):
            raise OAuthError(400, "invalid_scope")
        return self.sign(client_id, asked or allowed)

    def sign(self, client_id: str, scopes: list[str]) -> str:
        from jose import jwt  # noqa: PLC0415  # only the token endpoint signs

        now = int(self._clock())
        claims = {
            "sub": client_id,
            "token_use": "access",
            "scope": " ".join(scopes),
            "auth_time": now,
            "iss": self.cognito.issuer,
            "exp": now + TOKEN_LIFETIME_SECONDS,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client_id,
        }
        return str(jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._kid}))

    def _client(self, client_id: str) -> dict[str, Any]:
        api = self.cognito.client
        try:
            found = api.describe_user_pool_client(
                UserPoolId=self.cognito.pool_id, ClientId=client_id
            )
        except api.exceptions.ResourceNotFoundException:
            raise OAuthError(401, "invalid_client") from None
        return dict(found["UserPoolClient"])


def _client_credentials(request: Request) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            user, _, secret = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError(401, "invalid_client") from None
        return user, secret
    client_id = request.form.get("client_id", "")
    if not client_id:
        raise OAuthError(401, "invalid_client")
    return client_id, request.form.get("client_secret", "")
