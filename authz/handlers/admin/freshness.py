"""When a policy write takes effect, and flushing API Gateway's authorizer cache.

A warm authorizer re-reads the policy epoch at most every
``AUTHZ_EPOCH_CHECK_SECONDS``, and API Gateway may serve a cached authorizer
result for ``AUTHZ_RESULT_TTL_SECONDS``; so without help a write is seen by
every request within the sum of the two. Flushing a stage's authorizer cache
(``AUTHZ_STAGE_FLUSH``) removes the second term, but only if the flush comes
after every warm authorizer has seen the new epoch: flushed at once, API
Gateway would call an authorizer still holding its pre-write cache and cache
that stale answer for a whole TTL again. So the flush waits one epoch check
interval after the commit (the response is held that long). A flush that
fails is reported, never fatal: the write is already committed and will
still become visible within the longer bound.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from authz.handlers.admin.models import FlushError, Freshness
from authz.settings import Settings

__all__ = ["Flusher", "boto3_flusher", "freshness_after_write"]

logger = logging.getLogger(__name__)

# (rest_api_id, stage_name) -> None; raises on failure.
Flusher = Callable[[str, str], None]


def boto3_flusher(region: str) -> Flusher:
    """The production flusher: API Gateway's FlushStageAuthorizersCache.

    The client is created on first use so a deployment without
    ``AUTHZ_STAGE_FLUSH`` never pays for importing boto3's API Gateway model.
    """
    client: list[Any] = []

    def flush(rest_api_id: str, stage: str) -> None:
        if not client:
            # Only deployments that flush pay for importing boto3; it ships no type stubs.
            import boto3  # type: ignore[import-untyped]  # noqa: PLC0415

            client.append(boto3.client("apigateway", region_name=region))
        client[0].flush_stage_authorizers_cache(restApiId=rest_api_id, stageName=stage)

    return flush


def _flush_all(
    stages: Sequence[tuple[str, str]], flusher: Flusher
) -> tuple[list[str], list[FlushError]]:
    flushed: list[str] = []
    errors: list[FlushError] = []
    for api_id, stage in stages:
        name = f"{api_id}/{stage}"
        try:
            flusher(api_id, stage)
        except Exception as exc:  # any failure is reported, the write stands
            logger.warning("flushing the authorizer cache of %s failed: %s", name, exc)
            errors.append(FlushError(stage=name, message=f"{type(exc).__name__}: {exc}"))
        else:
            flushed.append(name)
    return flushed, errors


def freshness_after_write(
    epoch: int,
    settings: Settings,
    flusher: Flusher,
    now: Callable[[], float],
    sleep: Callable[[float], None] = time.sleep,
) -> Freshness:
    """Flush the configured stages and say when the write is visible everywhere."""
    if settings.stage_flush:
        sleep(settings.epoch_check_seconds)
    flushed, errors = _flush_all(settings.stage_flush, flusher)
    staleness = float(settings.epoch_check_seconds)
    # Only a complete flush removes API Gateway's TTL from the bound; with no
    # stage configured, or any failure, a cached result may live out its TTL.
    if not settings.stage_flush or errors:
        staleness += settings.result_ttl_seconds
    visible_by = datetime.fromtimestamp(now(), UTC) + timedelta(seconds=staleness)
    return Freshness(
        epoch=epoch,
        max_staleness_seconds=staleness,
        visible_by=visible_by,
        flushed=flushed,
        flush_errors=errors,
    )
