"""After a CLI write: the admin API's flush of ``AUTHZ_STAGE_FLUSH`` stages and its report.

A write from ``authz policies sync --apply`` or ``delete`` must become visible
as fast as one through the admin API, so it takes the same path: the same
epoch (bumped by the store in the write's transaction), the same flush of
API Gateway's authorizer cache one epoch interval later, and the same
``visible by`` bound.
"""

from __future__ import annotations

import time

from authz.cli.common import Runtime, out, warn

__all__ = ["report_freshness"]


def report_freshness(runtime: Runtime, epoch: int) -> None:
    """Flush the configured stages, then print when every request sees epoch ``epoch``."""
    # The admin API's own code: its flusher speaks to API Gateway (or to the
    # local gateway that `authz dev` names in AWS_ENDPOINT_URL_API_GATEWAY).
    from authz.handlers.admin.freshness import (  # noqa: PLC0415  # boto3: only after a write
        boto3_flusher,
        freshness_after_write,
    )

    settings = runtime.settings
    if settings.stage_flush:
        stages = ", ".join(f"{api}/{stage}" for api, stage in settings.stage_flush)
        out.print(
            f"Flushing the authorizer cache of {stages} in {settings.epoch_check_seconds:g} s "
            "(once every authorizer has seen the new epoch) ..."
        )
    report = freshness_after_write(epoch, settings, boto3_flusher(settings.region), time.time)
    for failed in report.flush_errors:
        warn(f"flushing {failed.stage} failed: {failed.message}")
    visible = report.visible_by.strftime("%H:%M:%S UTC")
    flushed = f"; flushed {', '.join(report.flushed)}" if report.flushed else ""
    out.print(
        f"Policy epoch {epoch}: visible by {visible} "
        f"(within {report.max_staleness_seconds:g} s{flushed})."
    )
