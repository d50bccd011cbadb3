"""``/policies`` and ``/policies/{kind}/{name}``: list, read, create or replace, delete."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from authz.handlers.admin.context import scope
from authz.handlers.admin.errors import ApiError
from authz.handlers.admin.guard import warnings_out
from authz.handlers.admin.http import etag, parse_preconditions
from authz.handlers.admin.models import (
    DeleteResult,
    DryRunOut,
    PolicyOut,
    PolicyPage,
    PutPolicyBody,
    WriteOut,
)
from authz.handlers.admin.ops import conditional_delete, conditional_put, policy_out, summary
from authz.handlers.admin.preview import (
    dry_run_delete,
    dry_run_put,
    guard,
    impact_of_write,
    validated,
)
from authz.handlers.admin.routing import (
    DRY_RUN,
    FORCE,
    WRITE_QUERY,
    KindParam,
    json_response,
    only_known_query,
    responses,
    selector_of,
)
from authz.handlers.admin.written import freshness_of
from authz.policy.selector import Selector

__all__ = ["policies_router"]


def _location(selector: Selector) -> str:
    return f"/policies/{selector.kind}/{quote(selector.name, safe='')}"


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
        description="With `?dry_run=true`, judge the policy and report its impact; write nothing.",
        responses={
            **responses(
                200,
                WriteOut | DryRunOut,  # type: ignore[arg-type]  # a union is a schema too
                "updated; with ?dry_run=true, the dry run's report",
                404,
                409,
                412,
                413,
                415,
            ),
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
        dry_run: Annotated[bool, Query(description=DRY_RUN)] = False,
    ) -> Response[WriteOut | DryRunOut]:
        only_known_query(router.current_event, WRITE_QUERY)
        request = scope(router)
        selector = selector_of(kind, name)
        pre = parse_preconditions(if_match, if_none_match)
        if dry_run:
            return json_response(200, dry_run_put(request, selector, body, pre, force))
        document, token = validated(selector, body)
        forced = guard(request, selector, document, force)
        effect = impact_of_write(request, selector, document)
        result = conditional_put(
            request.deps.repository,
            selector,
            document,
            actor=request.caller.identity,
            description=body.description,
            token=token,
            pre=pre,
            forced=forced,
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
            freshness=freshness_of(request, result.epoch),
            warnings=warnings_out(document),
            impact=effect.changes,
            impact_notice=effect.notice,
        )
        headers = {"ETag": etag(record.version)}
        if created:
            headers["Location"] = _location(selector)
        return json_response(201 if created else 200, out, headers)

    @router.delete(
        "/policies/<kind>/<name>",
        summary="Delete a policy",
        responses=responses(
            200,
            DeleteResult | DryRunOut,  # type: ignore[arg-type]  # a union is a schema too
            "deleted; with ?dry_run=true, the dry run's report",
            404,
            409,
            412,
        ),
    )
    def delete_policy(
        kind: KindParam,
        name: str,
        if_match: Annotated[str | None, Header(alias="If-Match")] = None,
        force: Annotated[bool, Query(description=FORCE)] = False,
        dry_run: Annotated[bool, Query(description=DRY_RUN)] = False,
    ) -> Response[DeleteResult | DryRunOut]:
        only_known_query(router.current_event, WRITE_QUERY)
        request = scope(router)
        selector = selector_of(kind, name)
        pre = parse_preconditions(if_match, None, allow_create_only=False)
        if dry_run:
            return json_response(200, dry_run_delete(request, selector, pre, force))
        forced = guard(request, selector, None, force)
        effect = impact_of_write(request, selector, None)
        result = conditional_delete(
            request.deps.repository,
            selector,
            actor=request.caller.identity,
            pre=pre,
            forced=forced,
        )
        out = DeleteResult(
            action="deleted",
            selector=str(selector),
            version=result.version,
            epoch=result.epoch,
            freshness=freshness_of(request, result.epoch),
            impact=effect.changes,
            impact_notice=effect.notice,
        )
        return json_response(200, out)

    return router
