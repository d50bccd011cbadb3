"""Logs, metrics and traces of the Lambda functions; nothing below the handlers imports this.

Three channels, chosen by what each costs on the authorizer's hot path
(measured on the 2-core build machine, Powertools 3.37):

* **Decision lines.** Every authorizer decision writes ONE JSON line to
  stdout that is both the structured log record and an Amazon CloudWatch
  embedded-metric-format (EMF) document: CloudWatch Logs extracts the
  metrics from the ``_aws`` block, and Logs Insights queries the same line
  by ``outcome``, ``sub`` or ``selectors``. The keys follow Powertools
  Logger's names (``level``, ``message``, ``service``, ``cold_start``,
  ``function_request_id``, and ``xray_trace_id`` when tracing is on) so the
  lines sit beside Powertools' own. They are not routed through Powertools Logger or Metrics
  because a decision served from cache costs a few microseconds and one
  ``Logger.info`` costs 45-70 us (the stdlib ``logging`` machinery alone,
  with a formatter that does nothing, ~12 us), and a per-invocation
  ``Metrics.flush_metrics`` another ~40 us: either would make logging cost
  more than the RSA signature check the cache saves. Writing the line
  directly is what Powertools Metrics itself does with EMF (a ``print``),
  and because each line carries its own metric values nothing is held in
  memory between invocations, so a container that is frozen or reclaimed
  loses no data (which periodic aggregation would).
* **Operational lines** (store failures, oversized policies, internal
  errors, JWKS trouble) go through Powertools ``Logger``, imported on first
  use: the happy path never needs it, and importing it costs ~60-90 ms of
  cold start.
* **Traces.** Powertools ``Tracer`` imports the X-Ray SDK (~470 ms), so it
  is opt-in: enabled only when ``POWERTOOLS_TRACE_DISABLED`` is explicitly
  set to a false value (``false``/``0``/``no``), and then imported at the
  first invocation. Lambda sets the X-Ray variables in every function,
  traced or not, so their presence cannot be the switch.

Decision lines never contain the token (nor anything from which it could be
rebuilt); ``sub`` and the selectors identify the principal.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import IO, Any, Literal

__all__ = ["DecisionRecord", "Telemetry", "tracing_enabled"]

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


def _truthy(value: str | None) -> bool | None:
    if value is None:
        return None
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    return None


def tracing_enabled(environ: Any = None) -> bool:
    """Opt-in: only an explicit ``POWERTOOLS_TRACE_DISABLED=false`` turns tracing on."""
    env = os.environ if environ is None else environ
    return _truthy(env.get("POWERTOOLS_TRACE_DISABLED")) is False


class DecisionRecord:
    """What one decision line reports. A plain class with slots: built once per
    invocation, it must cost less than a dataclass with defaults."""

    __slots__ = (
        "epoch",
        "jwks_fetches",
        "keys_unavailable",
        "kind",
        "latency_us",
        "outcome",
        "policy_bytes",
        "policy_cache_hit",
        "reason",
        "request_id",
        "selectors",
        "stale",
        "store_error",
        "sub",
        "token_cache_hit",
        "too_large",
    )

    def __init__(
        self,
        outcome: Outcome,
        *,
        kind: str,
        latency_us: float,
        request_id: str | None = None,
        sub: str | None = None,
        selectors: Iterable[object] | None = None,
        epoch: int | None = None,
        token_cache_hit: bool = False,
        policy_cache_hit: bool = False,
        stale: bool = False,
        policy_bytes: int = 0,
        store_error: bool = False,
        too_large: bool = False,
        keys_unavailable: bool = False,
        jwks_fetches: int = 0,
        reason: str | None = None,
    ) -> None:
        self.outcome = outcome
        self.kind = kind
        self.latency_us = latency_us
        self.request_id = request_id
        self.sub = sub
        self.selectors = selectors
        self.epoch = epoch
        self.token_cache_hit = token_cache_hit
        self.policy_cache_hit = policy_cache_hit
        self.stale = stale
        self.policy_bytes = policy_bytes
        self.store_error = store_error
        self.too_large = too_large
        self.keys_unavailable = keys_unavailable
        self.jwks_fetches = jwks_fetches
        self.reason = reason


class Telemetry:
    """Writes decision lines and owns the (lazily built) Powertools Logger and Tracer."""

    def __init__(
        self,
        *,
        service: str | None = None,
        namespace: str | None = None,
        stream: IO[str] | None = None,
        wall_clock: Callable[[], float] = time.time,
        environ: Any = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.service = service or env.get("POWERTOOLS_SERVICE_NAME") or "authz"
        self.namespace = namespace or env.get("POWERTOOLS_METRICS_NAMESPACE") or "authz"
        self._stream = stream
        self._wall_clock = wall_clock
        self._env = env
        self._cold = True
        self._logger: Any = None
        self._tracer: Any = None
        self._tracing = tracing_enabled(env)
        # Everything constant is serialised once; per line only values are formatted.
        directives = [
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
        self._aws_tail = '"CloudWatchMetrics":' + json.dumps(directives, separators=(",", ":"))
        self._service_json = json.dumps(self.service)
        self._json_cache: dict[Any, str] = {}
        self._selectors_json: dict[int, tuple[tuple[object, ...], str]] = {}
        self._parts: dict[tuple[Any, ...], tuple[str, str, str, str, str]] = {}

    # -- decision lines ---------------------------------------------------------

    def _cached_json(self, value: str) -> str:
        """JSON of a repeated string (a sub), memoised: the same principals come
        back over and over. Bounded by clearing, which only costs a re-encode."""
        found = self._json_cache.get(value)
        if found is None:
            found = json.dumps(value)
            if len(self._json_cache) >= 4096:
                self._json_cache.clear()
            self._json_cache[value] = found
        return found

    def _selectors_json_of(self, selectors: tuple[object, ...]) -> str:
        # Keyed by identity: the service hands out one tuple per selector set,
        # and hashing a tuple of dataclasses costs more than the rest of the
        # lookup. The tuple is kept in the value, so its id cannot be reused.
        found = self._selectors_json.get(id(selectors))
        if found is None or found[0] is not selectors:
            found = (selectors, json.dumps([str(v) for v in selectors], separators=(",", ":")))
            if len(self._selectors_json) >= 4096:
                self._selectors_json.clear()
            self._selectors_json[id(selectors)] = found
        return found[1]

    def decision(self, r: DecisionRecord) -> None:
        """Write the decision line (log record + EMF metrics) for one invocation."""
        cold = self._cold
        self._cold = False
        now_ms = int(self._wall_clock() * 1000)
        sub = "null" if r.sub is None else self._cached_json(r.sub)
        selectors = (
            "null"
            if r.selectors is None
            else self._selectors_json_of(
                r.selectors if isinstance(r.selectors, tuple) else tuple(r.selectors)
            )
        )
        request_id = "null" if r.request_id is None else json.dumps(r.request_id)
        # Reading os.environ costs ~2 us; the trace id only matters when traced.
        trace = self._env.get("_X_AMZN_TRACE_ID") if self._tracing else None
        reason = "" if r.reason is None else f',"reason":{json.dumps(r.reason)}'
        flags = (
            r.outcome,
            r.kind,
            cold,
            r.token_cache_hit,
            r.policy_cache_hit,
            r.stale,
            r.store_error,
            r.too_large,
            r.keys_unavailable,
        )
        parts = self._parts.get(flags)
        if parts is None:
            parts = self._parts_of(flags)
        level, head, event, cache, metrics = parts
        line = (
            f'{{"_aws":{{"Timestamp":{now_ms},{self._aws_tail}}},{level}{now_ms}{head}'
            f'{request_id},"xray_trace_id":{"null" if trace is None else json.dumps(trace)}'
            f'{event}{sub},"selectors":{selectors},"epoch":{"null" if r.epoch is None else r.epoch}'
            f'{cache}{reason}{metrics}{r.jwks_fetches},"PolicyBytes":{r.policy_bytes},'
            f'"Latency":{r.latency_us:.1f}}}\n'
        )
        (self._stream or sys.stdout).write(line)

    def _parts_of(self, flags: tuple[Any, ...]) -> tuple[str, str, str, str, str]:
        """The text between a line's variable values for one combination of its
        flags: formatting a dozen values per line instead of some thirty."""
        outcome, kind, cold, token_hit, policy_hit, stale, store_error, too_large, no_keys = flags
        th = 1 if token_hit else 0
        ph = 1 if policy_hit else 0
        parts = (
            f'"level":"{"ERROR" if outcome == "error" else "INFO"}","message":"decision",'
            '"timestamp":',
            f',"service":{self._service_json},"cold_start":{"true" if cold else "false"},'
            '"function_request_id":',
            f',"event":"{kind}","outcome":"{outcome}","sub":',
            f',"token_cache":"{"hit" if th else "miss"}",'
            f'"policy_cache":"{"hit" if ph else "miss"}","stale":{"true" if stale else "false"}',
            f',"Decisions":1,"TokenCacheHits":{th},"TokenCacheMisses":{1 - th},'
            f'"PolicyCacheHits":{ph},"PolicyCacheMisses":{1 - ph},'
            f'"StaleServed":{1 if stale else 0},"StoreErrors":{1 if store_error else 0},'
            f'"PolicyTooLarge":{1 if too_large else 0},'
            f'"KeysUnavailable":{1 if no_keys else 0},"JwksFetches":',
        )
        if len(self._parts) >= 256:  # kinds come from a short list; bounded all the same
            self._parts.clear()
        self._parts[flags] = parts
        return parts

    # -- operational lines ------------------------------------------------------

    @property
    def logger(self) -> Any:
        """Powertools Logger, built on first use (its import is not on the happy path)."""
        if self._logger is None:
            from aws_lambda_powertools import Logger  # noqa: PLC0415  # off the happy path

            kwargs: dict[str, Any] = {"service": self.service}
            if self._stream is not None:
                kwargs["stream"] = self._stream
            self._logger = Logger(**kwargs)
        return self._logger

    # -- traces -----------------------------------------------------------------

    @property
    def tracer(self) -> Any:
        """Powertools Tracer when tracing is on, else None (the X-Ray SDK is never imported)."""
        if not self._tracing:
            return None
        if self._tracer is None:
            from aws_lambda_powertools import Tracer  # noqa: PLC0415  # X-Ray SDK: ~470 ms

            self._tracer = Tracer(service=self.service)
        return self._tracer
