"""``/revocations`` and ``/revocation-history``: refuse tokens that are signed and unexpired.

A revocation (``authz.revocations``) is written like a policy: with a
history entry and an epoch bump in one transaction, then the freshness
report and the ``AUTHZ_STAGE_FLUSH`` flush. ``"cognito": true`` on a ``sub``
revocation then signs the user out of Cognito everywhere, so their refresh
tokens stop minting new tokens; that call comes after the write and its
failure is reported in the answer, never undoing the revocation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from authz.handlers.admin.context import RequestScope, scope
from authz.handlers.admin.errors import ApiError
from authz.handlers.admin.http import decode_path_name
from authz.handlers.admin.models import (
    RevocationDeleteOut,
    RevocationEventOut,
    RevocationHistoryPage,
    RevocationOut,
    RevocationPage,
    RevocationWriteOut,
    RevokeBody,
    SignOutOut,
)
from authz.handlers.admin.routing import json_response, only_known_query, responses
from authz.handlers.admin.written import freshness_of
from authz.handlers.signout import SignOutResult, sign_out_everywhere
from authz.revocations import KINDS, Revocation, RevocationEvent, Target

__all__ = ["revocation_out", "revocations_router"]

_NO_QUERY: frozenset[str] = frozenset()
_ID = "the revocation's id: sub:VALUE, origin_jti:VALUE or jti:VALUE"


def revocation_out(revocation: Revocation) -> RevocationOut:
    return RevocationOut.model_validate(revocation.to_dict())


def _event_out(event: RevocationEvent) -> RevocationEventOut:
    return RevocationEventOut.model_validate(event.to_dict())


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid_revocation", message, [{"path": field, "message": message}])


def _target_of(body: RevokeBody) -> Target:
    kind = next(k for k in KINDS if getattr(body, k) is not None)
    try:
        return Target(kind, getattr(body, kind))
    except ValueError as exc:
        raise _invalid(kind, str(exc)) from None


def _until(raw: str | None) -> datetime | None:
    """An ISO 8601 time with an offset; a naive one would be read in some unknown zone."""
    if raw is None:
        return None
    try:
        until = datetime.fromisoformat(raw)
    except ValueError:
        raise _invalid("until", f"until is not an ISO 8601 time: {raw!r}") from None
    if until.tzinfo is None:
        raise _invalid("until", "until needs a UTC offset, e.g. 2030-01-01T00:00:00Z")
    return until


def _path_target(raw: str) -> Target:
    """The target a ``/revocations/{id}`` path names; 400 for anything else."""
    try:
        return Target.parse(decode_path_name(raw))
    except UnicodeDecodeError:
        raise ApiError(
            400, "invalid_revocation", "the id is not valid percent-encoded UTF-8"
        ) from None
    except ValueError as exc:
        raise ApiError(400, "invalid_revocation", str(exc)) from None


def _new_revocation(request: RequestScope, body: RevokeBody) -> Revocation:
    """Every check of the request before anything is written."""
    target = _target_of(body)
    settings = request.deps.settings
    try:
        return Revocation.new(
            target,
            reason=body.reason,
            revoked_by=request.caller.identity,
            revoked_at=datetime.fromtimestamp(request.deps.clock(), UTC),
            until=_until(body.until),
            max_token_lifetime=settings.max_token_lifetime_seconds,
            leeway=settings.leeway_seconds,
        )
    except ValueError as exc:
        raise _invalid("until" if body.until is not None else "reason", str(exc)) from None


def _sign_out(request: RequestScope, sub: str) -> SignOutResult:
    deps = request.deps
    if not deps.settings.user_pool_id:
        return SignOutResult(False, error="AUTHZ_USER_POOL_ID is not set")
    try:
        client = deps.cognito_admin()
    # Reported like any failure of the call itself: the revocation is already written.
    except Exception as exc:
        return SignOutResult(False, error=f"{type(exc).__name__}: {exc}")
    return sign_out_everywhere(client, deps.settings.user_pool_id, sub)


def revocations_router() -> APIGatewayRouter:
    """A new router for one app (see ``policies_router``)."""
    router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

    @router.post(
        "/revocations",
        summary="Revoke a user's, a session's or one token's tokens",
        description="Exactly one of `sub`, `origin_jti` or `jti`. Signed, unexpired tokens it "
        "matches are refused (401) once the write is visible (`freshness`).",
        responses=responses(
            201, RevocationWriteOut, "revoked; Location names the revocation", 413, 415, 501
        ),
    )
    def revoke(body: Annotated[RevokeBody, Body()]) -> Response[RevocationWriteOut]:
        only_known_query(router.current_event, _NO_QUERY)
        request = scope(router)
        revocation = _new_revocation(request, body)
        written = request.deps.revocations().revoke(revocation)
        # Flushed before Cognito is called: a slow sign-out must not keep the stage's
        # cached answers alive, nor run the function out of time before the flush.
        freshness = freshness_of(request, written.epoch)
        cognito = None
        if body.cognito:
            result = _sign_out(request, revocation.target.value)
            cognito = SignOutOut.model_validate(result.to_dict())
        out = RevocationWriteOut(
            action="revoked",
            revocation=revocation_out(written.revocation),
            epoch=written.epoch,
            freshness=freshness,
            cognito=cognito,
        )
        location = f"/revocations/{written.revocation.target.id}"
        return json_response(201, out, {"Location": location})

    @router.get(
        "/revocations",
        summary="List live revocations",
        responses=responses(200, RevocationPage, "a page of revocations, by kind and value", 501),
    )
    def list_revocations(
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        next_: Annotated[str | None, Query(alias="next", max_length=4096)] = None,
    ) -> Response[RevocationPage]:
        page = scope(router).deps.revocations().list_revocations(limit=limit, cursor=next_)
        items = [revocation_out(r) for r in page.items]
        return json_response(200, RevocationPage(items=items, next=page.cursor))

    @router.get(
        "/revocations/<id>",
        summary="Get one live revocation",
        responses=responses(200, RevocationOut, "the revocation", 404, 501),
    )
    def get_revocation(id: Annotated[str, Path(description=_ID)]) -> Response[RevocationOut]:
        target = _path_target(id)
        found = scope(router).deps.revocations().get_revocation(target)
        return json_response(200, revocation_out(found))

    @router.delete(
        "/revocations/<id>",
        summary="Lift a revocation",
        responses=responses(200, RevocationDeleteOut, "lifted", 404, 501),
    )
    def delete_revocation(
        id: Annotated[str, Path(description=_ID)],
    ) -> Response[RevocationDeleteOut]:
        only_known_query(router.current_event, _NO_QUERY)
        request = scope(router)
        target = _path_target(id)
        written = request.deps.revocations().delete_revocation(
            target, actor=request.caller.identity
        )
        out = RevocationDeleteOut(
            action="deleted",
            revocation=revocation_out(written.revocation),
            epoch=written.epoch,
            freshness=freshness_of(request, written.epoch),
        )
        return json_response(200, out)

    @router.get(
        "/revocation-history",
        summary="Every revocation written or lifted, newest first",
        responses=responses(200, RevocationHistoryPage, "a page of history entries", 501),
    )
    def revocation_history(
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        next_: Annotated[str | None, Query(alias="next", max_length=4096)] = None,
    ) -> Response[RevocationHistoryPage]:
        page = scope(router).deps.revocations().revocation_history(limit=limit, cursor=next_)
        items = [_event_out(e) for e in page.items]
        return json_response(200, RevocationHistoryPage(items=items, next=page.cursor))

    return router
