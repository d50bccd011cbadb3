"""Every failure of the admin API as one JSON shape.

``{"error": {"code": "...", "message": "...", "details": [{"path", "message"}]}}``

Errors from the core (``authz.errors``) and from Powertools' request
validation are translated here and nowhere else, so a status code means the
same thing on every route. Store failures answer with a generic message: the
log has the cause, the caller gets nothing that leaks the table's internals.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from authz.errors import (
    AlreadyExistsError,
    AuthzError,
    ConflictError,
    CursorError,
    ItemTooLargeError,
    KeySetUnavailableError,
    NotFoundError,
    PolicyValidationError,
    SelectorError,
    StoreError,
    StoreUnavailableError,
    TokenError,
    TokenSettingsError,
)

__all__ = [
    "ApiError",
    "error_body",
    "from_authz_error",
    "from_validation_errors",
    "proxy_response",
]

logger = logging.getLogger(__name__)

Details = list[dict[str, str]]


class ApiError(Exception):
    """An HTTP error the admin API answers with on purpose."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[Mapping[str, str]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details: Details = [dict(d) for d in details]
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)

    def response(self) -> Response[Any]:
        """As a Powertools response (inside the resolver)."""
        return Response(
            status_code=self.status,
            content_type=content_types.APPLICATION_JSON,
            body=json.dumps(self.body()),
            headers=self.headers,
        )

    def proxy(self) -> dict[str, Any]:
        """As a raw proxy integration result (before the resolver runs)."""
        return proxy_response(self.status, self.body(), self.headers)


def error_body(
    code: str, message: str, details: Iterable[Mapping[str, str]] = ()
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": [dict(d) for d in details]}}


def proxy_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON, **(headers or {})},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def prefixed(prefix: str, errors: Iterable[Mapping[str, str]]) -> Details:
    """Re-root the core's JSON paths under the request body's field name."""
    out: Details = []
    for e in errors:
        path = e.get("path", "")
        joined = prefix if not path else f"{prefix}{'' if path.startswith('[') else '.'}{path}"
        out.append({"path": joined, "message": e.get("message", "")})
    return out


def from_authz_error(exc: AuthzError) -> ApiError:  # noqa: C901, PLR0911  # one flat branch per core error reads as the mapping table it is
    """The status and code of each core error; subclasses before their bases."""
    if isinstance(exc, PolicyValidationError):
        return ApiError(400, "invalid_document", str(exc), prefixed("document", exc.errors))
    if isinstance(exc, TokenSettingsError):
        # TokenSettings already roots its paths at "token".
        return ApiError(400, "invalid_token_settings", str(exc), exc.errors)
    if isinstance(exc, CursorError):
        return ApiError(
            400, "invalid_cursor", str(exc), [{"path": "query.next", "message": str(exc)}]
        )
    if isinstance(exc, SelectorError):
        return ApiError(400, "invalid_selector", str(exc))
    if isinstance(exc, TokenError):
        # The admin asked us to judge this token, so the reason is the answer,
        # unlike the authorizer, which must only ever say "Unauthorized".
        details = _claim_details(exc)
        return ApiError(400, "invalid_token", f"token rejected: {exc}", details)
    if isinstance(exc, NotFoundError):
        return ApiError(404, "not_found", str(exc) or "no such policy")
    if isinstance(exc, AlreadyExistsError):
        return ApiError(409, "already_exists", str(exc) or "the policy already exists")
    if isinstance(exc, ConflictError):
        return ApiError(
            412,
            "precondition_failed",
            str(exc) or "the policy's version does not match If-Match",
            _version_details(exc),
        )
    if isinstance(exc, ItemTooLargeError):
        return ApiError(
            413, "item_too_large", "the policy item would exceed DynamoDB's 400 KB item limit"
        )
    if isinstance(exc, KeySetUnavailableError):
        # The token may well be good: its pool's keys could not be fetched.
        logger.error("token keys unavailable in the admin API", exc_info=exc)
        return ApiError(
            503,
            "keys_unavailable",
            f"the token's signing keys could not be fetched, so it cannot be judged now: {exc}",
        )
    if isinstance(exc, StoreUnavailableError):
        # A timeout can hide a committed write, so "nothing changed" would be a lie.
        logger.error("store unavailable in the admin API", exc_info=exc)
        return ApiError(
            503,
            "store_unavailable",
            "the policy store did not answer; a write may or may not have been applied: "
            "read the policy back before retrying",
        )
    if isinstance(exc, StoreError):
        logger.error("store failure in the admin API", exc_info=exc)
        return ApiError(500, "store_error", "the policy store failed")
    logger.error("unexpected core error in the admin API", exc_info=exc)
    return ApiError(500, "internal_error", "internal error")


def _claim_details(exc: TokenError) -> Details:
    claim = getattr(exc, "claim", None)
    if claim is None:
        return []
    return [{"path": f"token.{claim}", "message": str(exc)}]


def _version_details(exc: ConflictError) -> Details:
    if exc.expected is None and exc.actual is None:
        return []
    return [
        {
            "path": "If-Match",
            "message": f"expected version {exc.expected}, current version {exc.actual}",
        }
    ]


def _loc_path(loc: Sequence[Any]) -> str:
    """``("body", "document", 0, "x")`` -> ``document[0].x``; query/header keep their prefix."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out


def from_validation_errors(errors: Sequence[Mapping[str, Any]]) -> ApiError:
    """Powertools/pydantic request errors as our 400.

    The messages are pydantic's generic ones; the offending input is never
    echoed back (it may be large or hold a token).
    """
    if any(e.get("type") == "json_invalid" for e in errors):
        reason = next(
            (
                str(e.get("ctx", {}).get("error", ""))
                for e in errors
                if e.get("type") == "json_invalid"
            ),
            "",
        )
        return ApiError(
            400,
            "invalid_json",
            f"the request body is not valid JSON: {reason}" if reason else "invalid JSON",
        )
    details = [
        {"path": _loc_path(e.get("loc", ())), "message": str(e.get("msg") or e.get("type"))}
        for e in errors
    ]
    return ApiError(400, "invalid_request", "the request is not valid", details)
