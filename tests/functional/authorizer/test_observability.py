"""Decision lines: one per invocation, valid CloudWatch EMF, never the token."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, cast

import pytest

from authz.handlers.observability import DecisionRecord, Telemetry
from authz.policy import Selector
from tests.functional.authorizer.conftest import Harness, token
from tests.functional.authorizer.support import arn, event, lines


def test_every_invocation_writes_exactly_one_decision_line(harness: Callable[..., Harness]) -> None:
    """Allow, Deny and Unauthorized invocations each write one line with their outcome."""
    h = harness()
    reader = token("obs", groups=("readers",))
    h(event("rest_token", reader))
    h(event("rest_token", reader, methodArn=arn("DELETE", "orders/1")))
    with pytest.raises(Exception):  # noqa: B017, PT011  # the contract IS the bare Exception
        h(event("rest_token", "bad"))
    assert [d["outcome"] for d in h.decisions()] == ["allow", "deny", "unauthorized"]
    assert len(h.log()) == 3


def test_decision_line_is_valid_emf_and_names_no_token(harness: Callable[..., Harness]) -> None:
    """Every declared metric is a number, dimensions exist, and the token never appears."""
    h = harness()
    tok = token("emf-user", groups=("readers",))
    h(event("rest_token", tok))
    h(event("rest_token", tok))
    raw = h.out.getvalue()
    assert tok not in raw
    assert tok.split(".")[1] not in raw  # not even the payload segment
    for line in lines(h.out):
        aws = line["_aws"]
        assert isinstance(aws["Timestamp"], int)
        for directive in aws["CloudWatchMetrics"]:
            assert directive["Namespace"] == "authz"
            for dims in directive["Dimensions"]:
                assert all(isinstance(line[d], str) for d in dims)
            for metric in directive["Metrics"]:
                assert isinstance(line[metric["Name"]], int | float), metric
    first, second = lines(h.out)
    assert (first["TokenCacheMisses"], second["TokenCacheHits"]) == (1, 1)
    assert first["selectors"] == ["default", "group:readers"]
    assert first["sub"] == "emf-user"
    assert first["cold_start"] is True
    assert second["cold_start"] is False
    assert first["PolicyBytes"] > 0


def test_decision_line_escapes_hostile_values() -> None:
    """A sub or selector holding quotes or newlines cannot break or forge a line."""
    out = io.StringIO()
    telemetry = Telemetry(stream=out, environ={})
    telemetry.decision(
        DecisionRecord(
            "allow",
            kind="token",
            latency_us=1.0,
            sub='x","outcome":"deny\n{"forged":1}',
            selectors=(Selector("group", 'a"b'),),
            request_id='r"1',
        )
    )
    (line,) = lines(out)
    assert line["outcome"] == "allow"
    assert line["sub"] == 'x","outcome":"deny\n{"forged":1}'
    assert line["selectors"] == ['group:a"b']
    assert "forged" not in line


@pytest.mark.parametrize(("value", "enabled"), [(None, False), ("false", False), ("true", True)])
def test_tracing_follows_authz_tracing_alone(value: str | None, enabled: bool) -> None:
    """AUTHZ_TRACING alone switches the Tracer on; POWERTOOLS_TRACE_DISABLED no longer does."""
    from authz.handlers.authorizer import AuthorizerApp
    from tests.tokens import settings_for

    env = {} if value is None else {"AUTHZ_TRACING": value}
    settings = settings_for(**env)
    app = AuthorizerApp(settings, cast("Any", object()))
    assert app.telemetry.tracing is enabled
    quiet = Telemetry(stream=io.StringIO(), environ={"POWERTOOLS_TRACE_DISABLED": "false"})
    assert quiet.tracer is None
