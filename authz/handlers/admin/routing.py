"""What every admin route module shares: response documentation, JSON answers, selectors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types

from authz.handlers.admin.errors import ApiError
from authz.handlers.admin.http import decode_path_name
from authz.handlers.admin.models import ErrorBody
from authz.policy.selector import Selector

__all__ = [
    "DRY_RUN",
    "ERRORS",
    "FORCE",
    "WRITE_QUERY",
    "KindParam",
    "json_response",
    "only_known_query",
    "responses",
    "selector_of",
]

KindParam = Literal["group", "scope", "default"]

FORCE = (
    "write even though a member of only the admin group would lose admin routes "
    "(recorded in the history)"
)

DRY_RUN = (
    "judge the policy and report its impact without writing anything: the answer is "
    "{valid, problems, warnings, impact}"
)

# The query parameters a write understands. Any other is refused: a misspelt
# dry_run must not turn a dry run into a write.
WRITE_QUERY = frozenset({"force", "dry_run"})

ERRORS = {
    400: "invalid request: bad JSON, unknown fields, invalid document (with JSON paths)",
    403: "the caller is not in the admin group",
    404: "no such policy, live revocation or route",
    405: "the path exists but not with this method",
    409: "If-None-Match: * and the policy already exists, or would_lock_out: the write "
    "would lock the admin group out of this API (override with ?force=true)",
    412: "If-Match does not match the current version (or the policy does not exist)",
    413: "body over the limit, or the item would exceed DynamoDB's 400 KB",
    415: "the body is not JSON",
    500: "the policy store failed",
    501: "the policy store keeps no revocations",
    503: "the policy store did not answer (a write may have been applied: read it back)",
}


def responses(ok: int, model: type[Any], description: str, *errors: int) -> dict[int, Any]:
    """The OpenAPI responses of a route: its success, and the errors it can answer."""
    out: dict[int, Any] = {
        ok: {"description": description, "content": {"application/json": {"model": model}}}
    }
    for status in sorted({400, 403, 500, 503, *errors}):
        out[status] = {
            "description": ERRORS[status],
            "content": {"application/json": {"model": ErrorBody}},
        }
    return out


def json_response(
    status: int, model: Any, headers: Mapping[str, str] | None = None
) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=model,
        headers=dict(headers or {}),
    )


def selector_of(kind: str, raw_name: str) -> Selector:
    """The selector a ``/policies/{kind}/{name}`` path addresses; 400 for a bad encoding."""
    try:
        name = decode_path_name(raw_name)
    except UnicodeDecodeError:
        raise ApiError(
            400, "invalid_selector", "the name is not valid percent-encoded UTF-8"
        ) from None
    return Selector.of(kind, name)


def only_known_query(event: Any, known: frozenset[str]) -> None:
    """400 naming every query parameter of ``event`` that is not in ``known``."""
    given = set(event.query_string_parameters or {})
    given |= set(event.multi_value_query_string_parameters or {})
    unknown = sorted(given - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "no query parameters"
        raise ApiError(
            400,
            "invalid_request",
            f"unknown query parameter {unknown[0]!r} (this route takes {takes})",
            [{"path": f"query.{name}", "message": "unknown query parameter"} for name in unknown],
        )
