"""``POST /local/sign-in``: the console's username and password form, against the local pool.

On AWS the console signs in through Cognito's hosted UI; moto has none, so
the local gateway serves this instead (never a Lambda, never deployed). It
is Cognito's USER_PASSWORD_AUTH flow behind a small JSON contract::

    {"username": "...", "password": "..."}
      -> 200 {"access_token", "id_token", "expires_in"}
      -> 400 invalid_request (not a JSON object of two strings, or values Cognito
         refuses as parameters), 415 not JSON, 411 no Content-Length, 413 over 4 KB
      -> 401 not_authorized (wrong username or password, or the user cannot sign in
         yet); a challenge (a new password to set, MFA) is a 401 naming it, since
         this form cannot answer one

Neither the password nor a token is logged. The body must be sent as
``application/json``: a cross-site page cannot send that without a CORS
preflight, which this endpoint never grants.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from werkzeug.wrappers import Request, Response

from authz.dev.cognito import LocalCognito, SignInChallenge

__all__ = ["SIGN_IN_PATH", "LocalSignIn"]

SIGN_IN_PATH = "/local/sign-in"

logger = logging.getLogger(__name__)

_MAX_BODY = 4096
# Cognito's answers for credentials that do not sign in; each is a 401, worded alike so
# the form does not tell an unknown user from a wrong password.
_REFUSED = frozenset(
    {
        "NotAuthorizedException",
        "UserNotFoundException",
        "UserNotConfirmedException",
        "PasswordResetRequiredException",
    }
)


def _answer(status: int, body: dict[str, Any]) -> Response:
    response = Response(json.dumps(body), status, content_type="application/json")
    # Tokens must stay out of every cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _error(status: int, code: str, message: str) -> Response:
    return _answer(status, {"error": {"code": code, "message": message, "details": []}})


class LocalSignIn:
    """Signs a user of ``cognito``'s pool in; a werkzeug request in, a response out."""

    def __init__(self, cognito: LocalCognito) -> None:
        self.cognito = cognito

    def __call__(self, request: Request) -> Response:
        if request.method != "POST":
            response = _error(405, "method_not_allowed", f"{request.method} is not allowed")
            response.headers["Allow"] = "POST"
            return response
        if request.mimetype != "application/json":
            return _error(415, "unsupported_media_type", "send the body as application/json")
        # Sized before anything is read: a chunked body has no size to check.
        if request.content_length is None:
            return _error(411, "length_required", "send the body with a Content-Length")
        if request.content_length > _MAX_BODY:
            return _error(413, "payload_too_large", f"the limit is {_MAX_BODY} bytes")
        # werkzeug reads no further than the Content-Length just checked.
        credentials = _credentials(request.get_data(cache=False))
        if credentials is None:
            return _error(
                400, "invalid_request", 'send {"username": "...", "password": "..."} as JSON'
            )
        return self._sign_in(*credentials)

    def _sign_in(self, username: str, password: str) -> Response:
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]  # noqa: PLC0415  # no stubs; loaded with boto3 already

        try:
            result = self.cognito.authenticate(username, password)
        except ClientError as exc:
            refused = _refused(exc.response.get("Error", {}).get("Code", ""))
            if refused is None:
                raise  # Cognito failed, not the user: the gateway's 502
            return refused
        except SignInChallenge as exc:
            return _error(
                401,
                "not_authorized",
                f"this user must finish signing in elsewhere: {exc.challenge}",
            )
        return _answer(
            200,
            {
                "access_token": result["AccessToken"],
                "id_token": result["IdToken"],
                "expires_in": int(result.get("ExpiresIn", 3600)),
            },
        )


def _refused(code: str) -> Response | None:
    """The answer to a Cognito error the user caused, or None for any other."""
    # Only the code is logged, never the username or Cognito's message, which may quote
    # it: people type their password into the username field by mistake.
    if code in _REFUSED:
        logger.info("local sign-in refused (%s)", code)
        return _error(401, "not_authorized", "wrong username or password")
    if code == "InvalidParameterException":
        logger.info("local sign-in refused (%s)", code)
        return _error(400, "invalid_request", "Cognito does not take that username or password")
    return None


def _credentials(raw: bytes) -> tuple[str, str] | None:
    """``(username, password)`` from a JSON object of exactly two non-empty strings."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(body, dict) or set(body) != {"username", "password"}:
        return None
    username, password = body["username"], body["password"]
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    if not username or not password:
        return None
    return username, password
