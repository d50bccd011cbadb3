"""The freshness every writing route of the admin API answers with."""

from __future__ import annotations

from authz.handlers.admin.context import RequestScope
from authz.handlers.admin.freshness import freshness_after_write
from authz.handlers.admin.models import Freshness

__all__ = ["freshness_of"]


def freshness_of(request: RequestScope, epoch: int) -> Freshness:
    """Flush the stages through the request's collaborators; when ``epoch`` is visible."""
    deps = request.deps
    return freshness_after_write(epoch, deps.settings, deps.flusher, deps.clock, deps.sleep)
