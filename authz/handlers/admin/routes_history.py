"""``GET /policies/{kind}/{name}/history``: a policy's audit entries, newest first."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from authz.errors import NotFoundError
from authz.handlers.admin.context import scope
from authz.handlers.admin.models import HistoryPage
from authz.handlers.admin.ops import history_item
from authz.handlers.admin.routing import KindParam, json_response, responses, selector_of

__all__ = ["history_router"]


def history_router() -> APIGatewayRouter:
    """A new router for one app (see ``policies_router``)."""
    router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

    @router.get(
        "/policies/<kind>/<name>/history",
        summary="History of a policy, newest first",
        responses=responses(200, HistoryPage, "a page of history entries", 404),
    )
    def policy_history(
        kind: KindParam,
        name: str,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        next_: Annotated[str | None, Query(alias="next", max_length=4096)] = None,
    ) -> Response[HistoryPage]:
        selector = selector_of(kind, name)
        page = scope(router).deps.repository.history(selector, limit=limit, cursor=next_)
        if not page.items and next_ is None:
            raise NotFoundError(f"no history for {selector}")
        items = [history_item(e) for e in page.items]
        return json_response(
            200, HistoryPage(selector=str(selector), items=items, next=page.cursor)
        )

    return router
