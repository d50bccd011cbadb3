"""``/policies`` and ``/policies/{kind}/{name}``: list, read, create or replace, delete."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from authz.errors import PolicyValidationError, TokenSettingsError
from authz.handlers.admin.context import RequestScope, scope
from authz.handlers.admin.errors import ApiError, from_authz_error
from authz.handlers.admin.freshness import freshness_after_write
from authz.handlers.admin.guard import guard_write, warnings_out
from authz.handlers.admin.http import etag, parse_preconditions
from authz.handlers.admin.models import (
    DeleteResult,
    PolicyOut,
    PolicyPage,
    PutPolicyBody,
    WriteOut,
)
from authz.handlers.admin.ops import conditional_delete, conditional_put, policy_out, summary
from authz.handlers.admin.routing import FORCE, KindParam, json_response, responses, selector_of
from authz.lockout import routes_from_openapi
from authz.policy.document import PolicyDocument
from authz.policy.selector import Selector
from authz.token_settings import TokenSettings
from authz.validation import Problems

__all__ = ["policies_router"]


def _location(selector: Selector) -> str:
    return f"/policies/{selector.kind}/{quote(selector.name, safe='')}"


def _validated(
    selector: Selector, body: PutPolicyBody
) -> tuple[PolicyDocument, dict[str, Any] | None]:
    """The document and token settings, with every problem of both reported at once."""
    problems = Problems()
    document: PolicyDocument | None = None
    token: dict[str, Any] | None = None
    try:
        document = PolicyDocument.from_dict(body.document)
    except PolicyValidationError as exc:
        for detail in from_authz_error(exc).details:
            problems.add(detail["path"], detail["message"])
    if body.token is not None:
        if selector.kind != "group":
            problems.add("token", "token settings apply to group policies only")
        else:
            try:
                token = TokenSettings.from_dict(body.token).to_dict() or None
            except TokenSettingsError as exc:
                for error in exc.errors:
                    problems.add(error["path"], error["message"])
    if problems or document is None:
        details = problems.as_list()
        document_problem = any(d["path"].startswith("document") for d in details)
        code = "invalid_document" if document_problem else "invalid_token_settings"
        raise ApiError(400, code, f"the policy is not valid ({len(details)} problems)", details)
    return document, token


def _guard(
    request: RequestScope, selector: Selector, after: PolicyDocument | None, force: bool
) -> bool:
    settings = request.deps.settings
    routes = routes_from_openapi(request.openapi(), settings.admin_group)
    return guard_write(
        request.deps.repository,
        settings,
        selector,
        after,
        routes=routes,
        api=request.api,
        force=force,
    )


def _written(request: RequestScope, epoch: int) -> Any:
    deps = request.deps
    return freshness_after_write(epoch, deps.settings, deps.flusher, deps.clock, deps.sleep)


def policies_router() -> APIGatewayRouter:
    """A new router for one app: a module-level one would follow the last app that included it."""
    router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

    @router.get(
        "/policies",
        summary="List policies",
        responses=responses(200, PolicyPage, "a page of policy summaries"),
    )
    def list_policies(
        kind: Annotated[KindParam | None, Query(description="only this kind")] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        next_: Annotated[str | None, Query(alias="next", max_length=4096)] = None,
    ) -> Response[PolicyPage]:
        page = scope(router).deps.repository.list(kind=kind, limit=limit, cursor=next_)
        items = [summary(r) for r in page.items]
        return json_response(200, PolicyPage(items=items, next=page.cursor))

    @router.get(
        "/policies/<kind>/<name>",
        summary="Get one policy",
        responses=responses(200, PolicyOut, "the policy; ETag is its version", 404),
    )
    def get_policy(kind: KindParam, name: str) -> Response[PolicyOut]:
        record = scope(router).deps.repository.get(selector_of(kind, name))
        return json_response(200, policy_out(record), {"ETag": etag(record.version)})

    @router.put(
        "/policies/<kind>/<name>",
        summary="Create or replace a policy",
        responses={
            **responses(200, WriteOut, "updated", 404, 409, 412, 413, 415),
            201: {"description": "created", "content": {"application/json": {"model": WriteOut}}},
        },
    )
    def put_policy(  # noqa: PLR0917  # one parameter per request field, as Powertools binds them
        kind: KindParam,
        name: str,
        body: Annotated[PutPolicyBody, Body()],
        if_match: Annotated[str | None, Header(alias="If-Match")] = None,
        if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
        force: Annotated[bool, Query(description=FORCE)] = False,
    ) -> Response[WriteOut]:
        request = scope(router)
        selector = selector_of(kind, name)
        pre = parse_preconditions(if_match, if_none_match)
        document, token = _validated(selector, body)
        result = conditional_put(
            request.deps.repository,
            selector,
            document,
            actor=request.caller.identity,
            description=body.description,
            token=token,
            pre=pre,
            forced=_guard(request, selector, document, force),
        )
        record = result.record
        if record is None:  # the protocol promises a record after a put
            raise ApiError(500, "internal_error", "the store returned no record")
        created = result.action == "create"
        out = WriteOut(
            action="created" if created else "updated",
            version=record.version,
            epoch=result.epoch,
            policy=policy_out(record),
            freshness=_written(request, result.epoch),
            warnings=warnings_out(document),
        )
        headers = {"ETag": etag(record.version)}
        if created:
            headers["Location"] = _location(selector)
        return json_response(201 if created else 200, out, headers)

    @router.delete(
        "/policies/<kind>/<name>",
        summary="Delete a policy",
        responses=responses(200, DeleteResult, "deleted", 404, 409, 412),
    )
    def delete_policy(
        kind: KindParam,
        name: str,
        if_match: Annotated[str | None, Header(alias="If-Match")] = None,
        force: Annotated[bool, Query(description=FORCE)] = False,
    ) -> Response[DeleteResult]:
        request = scope(router)
        selector = selector_of(kind, name)
        pre = parse_preconditions(if_match, None, allow_create_only=False)
        result = conditional_delete(
            request.deps.repository,
            selector,
            actor=request.caller.identity,
            pre=pre,
            forced=_guard(request, selector, None, force),
        )
        out = DeleteResult(
            action="deleted",
            selector=str(selector),
            version=result.version,
            epoch=result.epoch,
            freshness=_written(request, result.epoch),
        )
        return json_response(200, out)

    return router
