"""Logs, metrics and traces of the Lambda functions; nothing below the handlers imports this.

Three channels:

* **Decision lines.** Every authorizer decision writes ONE JSON line to
  stdout that is both the structured log record and an Amazon CloudWatch
  embedded-metric-format (EMF) document: CloudWatch Logs extracts the
  metrics from the ``_aws`` block, and Logs Insights queries the same line
  by ``outcome``, ``sub`` or ``selectors``. The keys follow Powertools
  Logger's names (``level``, ``message``, ``service``, ``cold_start``,
  ``function_request_id``, and ``xray_trace_id`` when tracing is on) so the
  lines sit beside Powertools' own. They are not routed through Powertools
  Logger or Metrics: on a decision served from cache, the logging machinery
  and a per-invocation metrics flush would each cost more than the signature
  check the cache saves (bench/ measures it). Writing the line directly is
  what Powertools Metrics itself does with EMF, and because each line
  carries its own metric values nothing is held in memory between
  invocations, so a container that is frozen or reclaimed loses no data.
* **Operational lines** go through Powertools ``Logger``, imported on first
  use so the authorizer's happy path never loads it. The admin API and the
  pre token trigger log only this way, with the Lambda context and a
  correlation id bound per invocation (``bind_invocation``).
* **Traces.** Powertools ``Tracer`` imports the X-Ray SDK, a large share of
  a cold start, so it is opt-in through ``AUTHZ_TRACING``
  (``Settings.tracing``) and imported at the first traced invocation.
  Lambda sets the X-Ray variables in every function, traced or not, so their
  presence cannot be the switch.

Decision lines never contain the token (nor anything from which it could be
rebuilt); ``sub`` and the selectors identify the principal.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from functools import cache
from typing import IO, Any, Literal, NamedTuple

import orjson

__all__ = ["DecisionRecord", "Telemetry", "bind_invocation", "function_logger"]

Outcome = Literal["allow", "deny", "unauthorized", "error"]

# Metric name -> EMF unit, in emission order. Counters are 0/1 per decision,
# so Sum is the count and Average the rate (e.g. the policy cache hit ratio).
_METRICS: tuple[tuple[str, str], ...] = (
    ("TokenCacheHits", "Count"),
    ("TokenCacheMisses", "Count"),
    ("PolicyCacheHits", "Count"),
    ("PolicyCacheMisses", "Count"),
    ("StaleServed", "Count"),
    ("StoreErrors", "Count"),
    ("PolicyTooLarge", "Count"),
    ("KeysUnavailable", "Count"),
    ("JwksFetches", "Count"),
    ("PolicyBytes", "Bytes"),
    ("Latency", "Microseconds"),
)


def _encode_line(line: Mapping[str, Any]) -> str:
    """``line`` as one line of compact JSON, newline included.

    Text, not bytes: Lambda's stdout is a text stream that flushes every
    write, and bytes written to the buffer beneath it would wait there (a
    frozen container would hold them back, a reclaimed one lose them).

    orjson writes characters outside ASCII as UTF-8, not as ``\\u`` escapes
    (both are JSON, and CloudWatch reads UTF-8). It refuses what a verified
    token can still carry: a lone surrogate (a claim's ``\\ud800`` escape)
    and an integer beyond 64 bits. Such a line is written by the standard
    encoder instead, escaped to ASCII, so that no claim can cost the line.
    """
    try:
        return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE).decode()
    except orjson.JSONEncodeError:
        return json.dumps(line, separators=(",", ":")) + "\n"


def _service_name(env: Mapping[str, str]) -> str:
    return env.get("POWERTOOLS_SERVICE_NAME") or "authz"


class DecisionRecord(NamedTuple):
    """What one decision line reports (a NamedTuple: one is built per
    invocation, and it is cheaper to build than a dataclass).

    A decision's fields come first and the failures' last, so that the
    handler builds a decision's record positionally.
    """

    outcome: Outcome
    kind: str
    latency_us: float
    request_id: str | None = None
    sub: str | None = None
    selectors: tuple[object, ...] | None = None
    epoch: int | None = None
    token_cache_hit: bool = False
    policy_cache_hit: bool = False
    stale: bool = False
    policy_bytes: int = 0
    jwks_fetches: int = 0
    store_error: bool = False
    too_large: bool = False
    keys_unavailable: bool = False
    reason: str | None = None


class Telemetry:
    """Writes decision lines and owns the (lazily built) Powertools Logger and Tracer."""

    def __init__(
        self,
        *,
        service: str | None = None,
        namespace: str | None = None,
        stream: IO[str] | None = None,
        wall_clock: Callable[[], float] = time.time,
        environ: Mapping[str, str] | None = None,
        tracing: bool = False,
    ) -> None:
        env = os.environ if environ is None else environ
        self.service = service or _service_name(env)
        self.namespace = namespace or env.get("POWERTOOLS_METRICS_NAMESPACE") or "authz"
        self.tracing = tracing
        self._stream = stream
        self._wall_clock = wall_clock
        self._env = env
        self._cold = True
        self._logger: Any = None
        self._tracer: Any = None
        # The same on every line: built once, and each line's dict refers to it.
        self._directives: list[dict[str, Any]] = [
            {
                "Namespace": self.namespace,
                "Dimensions": [["service", "outcome"]],
                "Metrics": [{"Name": "Decisions", "Unit": "Count"}],
            },
            {
                "Namespace": self.namespace,
                "Dimensions": [["service"]],
                "Metrics": [{"Name": n, "Unit": u} for n, u in _METRICS],
            },
        ]

    # -- decision lines ---------------------------------------------------------

    def decision(self, r: DecisionRecord) -> None:
        """Write the decision line (log record + EMF metrics) for one invocation."""
        cold = self._cold
        self._cold = False
        now_ms = int(self._wall_clock() * 1000)
        token_hits = 1 if r.token_cache_hit else 0
        policy_hits = 1 if r.policy_cache_hit else 0
        # One literal: the EMF block, the log fields, then the metric values
        # (``reason``, on failures only, comes last).
        line: dict[str, Any] = {
            "_aws": {"Timestamp": now_ms, "CloudWatchMetrics": self._directives},
            "level": "ERROR" if r.outcome == "error" else "INFO",
            "message": "decision",
            "timestamp": now_ms,
            "service": self.service,
            "cold_start": cold,
            "function_request_id": r.request_id,
            # The trace id only means something when the function is traced.
            "xray_trace_id": self._env.get("_X_AMZN_TRACE_ID") if self.tracing else None,
            "event": r.kind,
            "outcome": r.outcome,
            "sub": r.sub,
            "selectors": None if r.selectors is None else list(map(str, r.selectors)),
            "epoch": r.epoch,
            "token_cache": "hit" if token_hits else "miss",
            "policy_cache": "hit" if policy_hits else "miss",
            "stale": r.stale,
            "Decisions": 1,
            "TokenCacheHits": token_hits,
            "TokenCacheMisses": 1 - token_hits,
            "PolicyCacheHits": policy_hits,
            "PolicyCacheMisses": 1 - policy_hits,
            "StaleServed": 1 if r.stale else 0,
            "StoreErrors": 1 if r.store_error else 0,
            "PolicyTooLarge": 1 if r.too_large else 0,
            "KeysUnavailable": 1 if r.keys_unavailable else 0,
            "JwksFetches": r.jwks_fetches,
            "PolicyBytes": r.policy_bytes,
            "Latency": round(r.latency_us, 1),
        }
        if r.reason is not None:
            line["reason"] = r.reason
        (self._stream or sys.stdout).write(_encode_line(line))

    # -- operational lines ------------------------------------------------------

    @property
    def logger(self) -> Any:
        """Powertools Logger, built on first use (its import is not on the happy path)."""
        if self._logger is None:
            self._logger = _powertools_logger(self.service, self._stream)
        return self._logger

    # -- traces -----------------------------------------------------------------

    @property
    def tracer(self) -> Any:
        """Powertools Tracer when tracing is on, else None (the X-Ray SDK is never imported)."""
        if not self.tracing:
            return None
        if self._tracer is None:
            from aws_lambda_powertools import Tracer  # noqa: PLC0415  # the X-Ray SDK: opt-in

            self._tracer = Tracer(service=self.service)
        return self._tracer


def _powertools_logger(service: str, stream: IO[str] | None = None) -> Any:
    from aws_lambda_powertools import Logger  # noqa: PLC0415  # off the authorizer's happy path

    if stream is None:
        return Logger(service=service)
    logger = Logger(service=service, stream=stream)
    # Loggers of one service share one handler, configured by the first of them;
    # an explicit stream (tests, the local stack) must win over that.
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(stream)
    return logger


@cache
def function_logger() -> Any:
    """The function's Powertools Logger (one per process, named by ``POWERTOOLS_SERVICE_NAME``)."""
    return _powertools_logger(_service_name(os.environ))


_cold_start = [True]


def bind_invocation(logger: Any, context: Any, correlation_id: str | None) -> None:
    """Bind one invocation's keys to ``logger``, as Powertools' ``inject_lambda_context``
    does; ``context`` may be None (a local run or a test), its keys then left out."""
    keys: dict[str, Any] = {"cold_start": _cold_start[0]}
    _cold_start[0] = False
    for key, attribute in (
        ("function_name", "function_name"),
        ("function_memory_size", "memory_limit_in_mb"),
        ("function_arn", "invoked_function_arn"),
        ("function_request_id", "aws_request_id"),
    ):
        keys[key] = getattr(context, attribute, None)
    logger.append_keys(**keys)
    logger.set_correlation_id(correlation_id)
