"""``POST /simulate``: decide a request for a principal or a token (see ``admin.simulate``)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from authz.handlers.admin.context import scope
from authz.handlers.admin.models import SimulateBody, SimulateOut
from authz.handlers.admin.routing import json_response, responses
from authz.handlers.admin.simulate import simulate_request

__all__ = ["simulate_router"]


def simulate_router() -> APIGatewayRouter:
    """A new router for one app (see ``policies_router``)."""
    router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

    @router.post(
        "/simulate",
        summary="Decide a request for a principal or a token, with the explanation",
        responses=responses(200, SimulateOut, "the decision", 413, 415),
    )
    def simulate(body: Annotated[SimulateBody, Body()]) -> Response[SimulateOut]:
        request = scope(router)
        return json_response(200, simulate_request(body, deps=request.deps, api=request.api))

    return router
