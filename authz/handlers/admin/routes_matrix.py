"""``GET /matrix``: the access matrix of the stored policies over the routes of ``AUTHZ_ROUTES``.

Rows are ``default``, each stored ``group:NAME`` and ``scope:NAME`` (each
with ``default``, as the authorizer combines them), then the combined
principals asked for with ``?principal=group:a,group:b`` (repeatable: one
row per value). ``?subjects=`` keeps only the rows named (comma-separated or
repeated); a name that is no stored policy's row is a 400 naming it, so a
typo never reads as "no access" (ask for such a principal with
``?principal=`` instead). ``?explain=true`` gives each cell its statements.
Without ``AUTHZ_ROUTES`` the answer is 409 ``routes_not_configured``: the
request is fine, the deployment has no routes to judge. A matrix too large
for a Lambda answer is a 413 ``matrix_too_large`` that points at ``?subjects=``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from authz.errors import SelectorError
from authz.handlers.admin.access import stored_policies
from authz.handlers.admin.context import scope
from authz.handlers.admin.errors import ApiError
from authz.handlers.admin.models import MatrixOut
from authz.handlers.admin.routing import json_response, responses
from authz.matrix import Subject, build_matrix, subjects_for, with_principals
from authz.policy.selector import Selector

__all__ = ["MAX_MATRIX_BYTES", "MAX_PRINCIPALS", "matrix_router"]

MAX_PRINCIPALS = 20
# A Lambda proxy answer over 6 MB never reaches the caller (API Gateway answers 502);
# refuse before that, with the way out, leaving room for headers and encoding.
MAX_MATRIX_BYTES = 5_000_000
_NOT_CONFIGURED = (
    "AUTHZ_ROUTES is not set: give the admin function the protected API's routes "
    "(an inline list or a bundled route file) to draw the matrix"
)


def _bad(path: str, message: str, code: str = "invalid_request") -> ApiError:
    return ApiError(400, code, message, [{"path": path, "message": message}])


def _principals(values: Sequence[str]) -> list[str]:
    if len(values) > MAX_PRINCIPALS:
        raise _bad("query.principal", f"at most {MAX_PRINCIPALS} principals")
    for value in values:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not parts:
            raise _bad("query.principal", "a principal names at least one selector")
        for part in parts:
            try:
                Selector.parse(part)
            except SelectorError as exc:
                raise _bad("query.principal", str(exc), "invalid_selector") from None
    return list(values)


def _filtered(stored: list[Subject], values: Sequence[str]) -> list[Subject]:
    """The stored policies' rows named in ``subjects``, in matrix order."""
    if not values:
        return stored
    wanted: list[str] = []
    for value in values:
        for part in (p.strip() for p in value.split(",") if p.strip()):
            try:
                wanted.append(str(Selector.parse(part)))
            except SelectorError as exc:
                raise _bad("query.subjects", str(exc), "invalid_selector") from None
    names = {r.name for r in stored}
    unknown = [w for w in dict.fromkeys(wanted) if w not in names]
    if unknown:
        raise _bad(
            "query.subjects",
            f"no stored policy makes a row for {', '.join(unknown)}; "
            "use ?principal= to see what such a principal gets",
            "unknown_subject",
        )
    keep = set(wanted)
    return [r for r in stored if r.name in keep]


def _check_size(out: MatrixOut) -> None:
    size = len(out.model_dump_json())
    if size > MAX_MATRIX_BYTES:
        raise ApiError(
            413,
            "matrix_too_large",
            f"the matrix is {size} bytes, over the {MAX_MATRIX_BYTES} an answer can carry; "
            "ask for fewer rows with ?subjects= (or leave out ?explain=true)",
        )


def matrix_router() -> APIGatewayRouter:
    """A new router for one app (see ``policies_router``)."""
    router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

    answers = responses(200, MatrixOut, "the access matrix", 409, 413)
    answers[409] = {**answers[409], "description": f"routes_not_configured: {_NOT_CONFIGURED}"}
    answers[413] = {**answers[413], "description": "matrix_too_large: filter with ?subjects="}

    @router.get("/matrix", summary="The access matrix: subjects x routes", responses=answers)
    def get_matrix(
        subjects: Annotated[
            list[str] | None,
            Query(description="only these rows: default, group:NAME, scope:NAME (comma-separated)"),
        ] = None,
        principal: Annotated[
            list[str] | None,
            Query(description="add a row for a combined principal, e.g. group:a,group:b,scope:x"),
        ] = None,
        explain: Annotated[bool, Query(description="give each cell its statements")] = False,
    ) -> Response[MatrixOut]:
        request = scope(router)
        routes = request.deps.routes
        if routes is None:
            raise ApiError(409, "routes_not_configured", _NOT_CONFIGURED)
        combined = _principals(principal or [])
        policies = stored_policies(request.deps.repository)
        rows = with_principals(_filtered(subjects_for(policies), subjects or []), combined)
        matrix = build_matrix(policies, routes, subjects=rows, api=request.sample_api())
        out = MatrixOut.model_validate(matrix.to_dict(explain=explain))
        _check_size(out)
        return json_response(200, out)

    return router
