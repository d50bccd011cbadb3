"""``GET /openapi.json``, and the OpenAPI document as the one source of the route list.

The document is generated from the routes themselves; the 405 answers
(``allowed_methods``), the lock-out guard's probes and the dev gateway's
admin routes are all derived from it, never written out by hand.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from authz.handlers.admin.context import scope
from authz.handlers.admin.routing import ERRORS

__all__ = [
    "API_DESCRIPTION",
    "API_TITLE",
    "API_VERSION",
    "MethodTable",
    "method_table",
    "openapi_document",
    "openapi_router",
    "operations",
]

API_TITLE = "authz admin API"
API_VERSION = "1"
# OpenAPI descriptions are Markdown (CommonMark), so not the module's reST docstring.
API_DESCRIPTION = (
    "Edit authz policies at run time: list, read, create or replace, delete, audit "
    "history, simulate and the access matrix. Every write is validated, conditional on "
    "`If-Match` / `If-None-Match`, recorded in the history, and answers when it becomes "
    "visible (`freshness`) and which access-matrix cells it changed (`impact`); "
    "`?dry_run=true` reports the same without writing."
)

_ERROR_REF = "#/components/schemas/ErrorBody"
_PARAM = re.compile(r"\{[^{}/]+\}")

MethodTable = tuple[tuple[re.Pattern[str], str], ...]


def openapi_document(app: APIGatewayRestResolver) -> dict[str, Any]:
    """The resolver's generated document, cleaned of Powertools' 422 responses
    (validation errors are answered as 400 in our error format)."""
    raw = app.get_openapi_json_schema(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        security_schemes={"cognito": HTTPBearer(bearerFormat="JWT")},
        security=[{"cognito": []}],
    )
    doc: dict[str, Any] = json.loads(raw)
    error = {"content": {"application/json": {"schema": {"$ref": _ERROR_REF}}}}
    for path_operations in doc.get("paths", {}).values():
        for operation in path_operations.values():
            answers = operation.setdefault("responses", {})
            answers.pop("422", None)
            # Powertools documents its own shapes for these; ours is ErrorBody.
            answers["500"] = {"description": ERRORS[500], **error}
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc


def operations(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """``(METHOD, /path/{template})`` of every operation in an OpenAPI document."""
    return sorted(
        (method.upper(), path)
        for path, path_operations in doc.get("paths", {}).items()
        for method in path_operations
    )


def method_table(doc: dict[str, Any]) -> MethodTable:
    """A matcher per operation: a template's parameter is one path segment, and
    trailing slashes are tolerated as the REST resolver tolerates them."""
    table: list[tuple[re.Pattern[str], str]] = []
    for method, path in operations(doc):
        literal = [re.escape(part) for part in _PARAM.split(path)]
        pattern = "[^/]+".join(literal)
        table.append((re.compile(f"^{pattern}/*$"), method))
    return tuple(table)


def openapi_router() -> APIGatewayRouter:
    """A new router for one app (see ``policies_router``)."""
    router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

    @router.get("/openapi.json", summary="This API's OpenAPI document")
    def openapi() -> dict[str, Any]:
        return scope(router).openapi()

    return router
