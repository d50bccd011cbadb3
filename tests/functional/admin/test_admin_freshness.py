"""After a write the admin API says when it is visible, and flushes API Gateway's cache."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.functional.admin.conftest import NOW, FakeFlusher
from tests.functional.admin.helpers import call, doc, policy_path


def _visible_by(seconds: float) -> str:
    at = datetime.fromtimestamp(NOW, UTC) + timedelta(seconds=seconds)
    return at.isoformat().replace("+00:00", "Z")


def test_without_stage_flush_staleness_is_epoch_interval_plus_result_ttl(
    app: Any, flusher: FakeFlusher
) -> None:
    """With no stages to flush, a write may take epoch check + API Gateway TTL to be seen."""
    r = call(app, "PUT", policy_path("group", "readers"), body={"document": doc()})
    fresh = r.body["freshness"]
    assert fresh["epoch"] == r.body["epoch"] == 1
    assert fresh["max_staleness_seconds"] == 305
    assert fresh["visible_by"] == _visible_by(305)
    assert (fresh["flushed"], fresh["flush_errors"]) == ([], [])
    assert flusher.calls == []


def test_configured_stages_are_flushed_after_each_write(
    make_app: Any, admin_settings: Any, flusher: FakeFlusher
) -> None:
    """Every AUTHZ_STAGE_FLUSH stage is flushed after a PUT and a DELETE; staleness drops to 5 s."""
    settings = dataclasses.replace(admin_settings, stage_flush=(("api1", "prod"), ("api2", "dev")))
    slept: list[float] = []
    app = make_app(settings=settings, sleep=slept.append)
    r = call(app, "PUT", policy_path("group", "readers"), body={"document": doc()})
    # The flush waits one epoch interval, so no authorizer can re-cache pre-write policy.
    assert slept == [settings.epoch_check_seconds]
    assert r.body["freshness"]["flushed"] == ["api1/prod", "api2/dev"]
    assert r.body["freshness"]["max_staleness_seconds"] == 5
    assert r.body["freshness"]["visible_by"] == _visible_by(5)
    d = call(app, "DELETE", policy_path("group", "readers"))
    assert d.body["freshness"]["flushed"] == ["api1/prod", "api2/dev"]
    assert flusher.calls == [("api1", "prod"), ("api2", "dev")] * 2


def test_a_failing_flush_is_reported_and_the_write_stands(
    make_app: Any, admin_settings: Any
) -> None:
    """A flush error is listed in flush_errors, staleness keeps the TTL, and the write is kept."""
    settings = dataclasses.replace(admin_settings, stage_flush=(("api1", "prod"), ("api2", "dev")))
    failing = FakeFlusher(failing=("api2/dev",))
    app = make_app(settings=settings, flusher=failing, sleep=lambda _s: None)
    r = call(app, "PUT", policy_path("group", "readers"), body={"document": doc()})
    assert r.status == 201
    fresh = r.body["freshness"]
    assert fresh["flushed"] == ["api1/prod"]
    assert [e["stage"] for e in fresh["flush_errors"]] == ["api2/dev"]
    assert "TooManyRequests" in fresh["flush_errors"][0]["message"]
    assert fresh["max_staleness_seconds"] == 305
    assert call(app, "GET", policy_path("group", "readers")).status == 200


def test_rejected_writes_flush_nothing(
    make_app: Any, admin_settings: Any, flusher: FakeFlusher
) -> None:
    """Only a committed write flushes: a 400 or 412 leaves API Gateway's cache alone."""
    app = make_app(
        settings=dataclasses.replace(admin_settings, stage_flush=(("api1", "prod"),)),
        sleep=lambda _s: None,
    )
    path = policy_path("group", "readers")
    assert call(app, "PUT", path, body={"document": {"Version": "x"}}).status == 400
    assert (
        call(app, "PUT", path, body={"document": doc()}, headers={"If-Match": '"4"'}).status == 412
    )
    assert flusher.calls == []
