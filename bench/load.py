"""Load on the local stack while policies change: throughput, latency, correctness.

``python -m bench.load`` starts ``authz dev``'s stack (its own DynamoDB Local,
moto's Cognito, the local API Gateway with the real authorizer and admin
API, all on 127.0.0.1), then runs concurrently

- ``clients`` threads, each with its own ``requests.Session``, sending a
  fixed share of ``requests_total`` requests: the demo users' real tokens on
  routes their policies allow or deny, and invalid credentials (garbage, a
  token with an expired ``exp`` and a foreign signature, a tampered token, no
  header at all);
- ``editors`` admin threads that keep editing ``group:readers`` through the
  admin API with ``If-Match``: each edit toggles a statement allowing
  ``PATCH /orders/*`` (Sids numbered per edit, so every version is unique);
  a 412 means another editor won, and the editor re-reads and tries again.

Checks, all from what the clients and editors observed:

- no 5xx answer at all;
- every answer is right for the policy in force: for each request the
  versions of ``group:readers`` that may have been in force at any time in
  ``[t_request - staleness, t_response]`` are evaluated (version ``v`` may be
  in force from when its PUT was sent until the PUT of ``v + 1`` was
  acknowledged); the answer must equal one of their decisions. Requests no
  edit can affect thus get exactly one right answer. ``staleness`` is the
  bound without a flush (README, "Caching and freshness"), epoch check
  interval + API Gateway result TTL, plus ``slack`` for the time a request spends inside
  the gateway and authorizer on a loaded machine: it holds whatever the
  flush does. Answers outside the tighter bound the admin API reports after
  flushing the stage cache (``freshness.max_staleness_seconds``, the epoch
  check interval) are counted separately as ``beyond_reported``: the admin
  API flushes one epoch interval after the commit, so only an authorizer
  call already in flight at the flush, answering from its pre-write cache,
  can still put an old policy into the gateway's cache;
- no edit lost: the stored document equals the last acknowledged edit, and
  the history holds exactly the initial sync plus one entry per acknowledged
  edit, versions contiguous.

Rows: requests/s through the whole local stack (HTTP, gateway, authorizer,
backend), p50/p99 latency in ms, the count of each status, wrong answers,
edits acknowledged, 412 conflicts, lost edits.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from authz.dev.stack import ACCOUNT, API_ID, STAGE, DevStack, start_stack
from authz.policy import PolicyDocument, Selector, evaluate, selectors_for
from authz.service import effective_policy
from authz.store.files import read_tree
from authz.token import Verifier

__all__ = ["LoadReport", "Probe", "main", "run", "simulate"]

POLICIES = Path(__file__).resolve().parents[1] / "policies"
READERS = Selector("group", "readers")
PATCH_ORDERS = "arn:aws:execute-api:*:*:*/*/PATCH/orders/*"
GET_ORDERS = "arn:aws:execute-api:*:*:*/*/GET/orders/*"
HTTP_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Probe:
    """One kind of request: who (a demo user, or a kind of bad credential), what, where."""

    credential: str  # a demo user, or "garbage" | "expired" | "tampered" | "none"
    method: str
    path: str


# The mix every client cycles through (from its own offset).
PROBES: tuple[Probe, ...] = (
    Probe("reader", "GET", "/orders/1"),
    Probe("reader", "PATCH", "/orders/7"),  # the route the edits toggle
    Probe("reader", "PATCH", "/orders/8"),
    Probe("reader", "DELETE", "/orders/1"),
    Probe("reader", "GET", "/policies"),
    Probe("intern", "POST", "/orders"),
    Probe("intern", "DELETE", "/orders/3"),
    Probe("intern", "PATCH", "/orders/3"),
    Probe("admin", "PATCH", "/orders/2"),
    Probe("admin", "GET", "/policies"),
    Probe("guest", "GET", "/health"),
    Probe("guest", "GET", "/orders/1"),
    Probe("garbage", "GET", "/orders/1"),
    Probe("expired", "GET", "/orders/1"),
    Probe("tampered", "PATCH", "/orders/7"),
    Probe("none", "GET", "/health"),
)
INVALID = frozenset({"garbage", "expired", "tampered", "none"})


@dataclass(frozen=True, slots=True)
class Sample:
    probe: Probe
    status: int
    sent: float  # time.monotonic()
    answered: float


@dataclass(frozen=True, slots=True)
class Edit:
    """One acknowledged write of group:readers."""

    version: int
    document: dict[str, Any]  # canonical (PolicyDocument.to_dict)
    sent: float
    acked: float
    max_staleness: float  # what the admin API reported


@dataclass
class LoadReport:
    samples: list[Sample]
    edits: list[Edit]  # acknowledged, by version
    conflicts: int
    elapsed: float
    staleness: float  # the bound applied: epoch check + result TTL + slack
    reported_staleness: float  # what the admin API promised after its flush, + slack
    wrong: list[str] = field(default_factory=list)
    beyond_reported: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    editor_errors: list[str] = field(default_factory=list)
    complete: bool = True

    @property
    def statuses(self) -> Counter[int]:
        return Counter(s.status for s in self.samples)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def latencies_ms(self) -> list[float]:
        return sorted((s.answered - s.sent) * 1000 for s in self.samples)

    def rows(self) -> list[dict[str, Any]]:
        lat = self.latencies_ms()
        p50 = statistics.median(lat) if lat else float("nan")
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
        rate = len(self.samples) / self.elapsed if self.elapsed else 0.0

        def row(name: str, value: Any, unit: str = "", target: str = "") -> dict[str, Any]:
            return {"name": name, "value": value, "unit": unit, "target": target}

        rows = [
            row("requests/s (local stack, whole HTTP round trip)", rate, "req/s"),
            row("latency p50", p50, "ms"),
            row("latency p99", p99, "ms"),
        ]
        for status, n in sorted(self.statuses.items()):
            rows.append(row(f"status {status}", n, target="0" if status >= 500 else ""))
        rows += [
            row("5xx answers", self.server_errors, target="0"),
            row("wrong decisions", len(self.wrong), target="0"),
            row("edits acknowledged", len(self.edits)),
            row("412 conflicts (re-read, retried)", self.conflicts),
            row("lost edits", len(self.lost), target="0"),
            row("staleness bound applied (epoch check + result TTL + slack)", self.staleness, "s"),
            row("answers staler than the admin API's reported bound", len(self.beyond_reported)),
        ]
        return rows


# -- credentials -------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def bad_credentials(real: str) -> dict[str, str]:
    """Tokens that must be refused, derived from a real one so that they look plausible."""
    header, _, signature = real.split(".")
    claims = _claims(real)
    now = int(time.time())
    tampered = {**claims, "cognito:groups": ["authz-admins", "readers", "writers"]}
    expired = {**claims, "exp": now - 3600, "iat": now - 7200}
    return {
        "garbage": "not-a-jwt-" + uuid.uuid4().hex,
        "tampered": f"{header}.{_b64(json.dumps(tampered).encode())}.{signature}",
        "expired": f"{header}.{_b64(json.dumps(expired).encode())}.{_b64(b'x' * 256)}",
    }


# -- what is right -----------------------------------------------------------------------


class Oracle:
    """The right status of a probe under a given document of group:readers."""

    def __init__(self, stack: DevStack) -> None:
        tree = read_tree(POLICIES)
        self.docs = {s: p.document for s, p in tree.policies.items()}
        verifier = Verifier(stack.settings)  # fetches the pool's JWKS from moto, on loopback
        self.principals = {user: verifier.verify(t) for user, t in stack.tokens.items()}
        self._memo: dict[tuple[Probe, int], int] = {}

    def status(self, probe: Probe, version: int, readers: Mapping[str, Any]) -> int:
        if probe.credential in INVALID:
            return 401
        key = (probe, version)
        found = self._memo.get(key)
        if found is None:
            principal = self.principals[probe.credential]
            selectors = selectors_for(principal.groups, principal.scopes)
            docs = {s: self.docs[s] for s in selectors if s in self.docs}
            if READERS in docs:
                docs[READERS] = PolicyDocument.from_dict(dict(readers))
            policy = effective_policy(docs, principal.variables())
            arn = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/{STAGE}/{probe.method}"
            found = 200 if evaluate(policy, arn + probe.path).allowed else 403
            self._memo[key] = found
        return found


def judge(
    report: LoadReport, oracle: Oracle, initial: Mapping[str, Any], staleness: float
) -> list[str]:
    """Every answer that no version of group:readers in force within ``staleness`` explains."""
    versions: list[tuple[int, Mapping[str, Any], float]] = [(1, initial, float("-inf"))]
    versions += [(e.version, e.document, e.sent) for e in report.edits]
    acked = {e.version: e.acked for e in report.edits}
    # (version, document, may be in force from, until)
    spans = [(v, doc, start, acked.get(v + 1, float("inf"))) for v, doc, start in versions]
    wrong: list[str] = []
    for sample in report.samples:
        lo, hi = sample.sent - staleness, sample.answered
        right = {
            oracle.status(sample.probe, v, doc)
            for v, doc, start, end in spans
            if start <= hi and end >= lo
        }
        if sample.status not in right:
            p = sample.probe
            wrong.append(
                f"{p.credential} {p.method} {p.path}: got {sample.status}, "
                f"expected one of {sorted(right)} (sent at {sample.sent:.3f})"
            )
    return wrong


# -- the actors --------------------------------------------------------------------------


def toggled(document: Mapping[str, Any], tag: str) -> dict[str, Any]:
    """``document`` with the PATCH /orders/* Allow added (or removed); every result unique."""
    ours = ("Patch", "Mark")
    had_patch = any(str(s.get("Sid", "")).startswith("Patch") for s in document["Statement"])
    kept = [s for s in document["Statement"] if not str(s.get("Sid", "")).startswith(ours)]
    extra = {
        "Sid": f"{'Mark' if had_patch else 'Patch'}{tag}",
        "Effect": "Allow",
        "Action": "execute-api:Invoke",
        # Without PATCH: an Allow that GET /orders/* already grants, so only the Sid changes.
        "Resource": [GET_ORDERS if had_patch else PATCH_ORDERS],
    }
    return PolicyDocument.from_dict(
        {"Version": "2012-10-17", "Statement": [*kept, extra]}
    ).to_dict()


class Editor(threading.Thread):
    """Toggles PATCH /orders/* for readers through the admin API until told to stop."""

    def __init__(
        self, stack: DevStack, tag: str, stop: threading.Event, pause: tuple[float, float]
    ) -> None:
        super().__init__(name=f"editor-{tag}", daemon=True)
        self.stack = stack
        self.tag = tag
        self.stop_event = stop
        self.pause = pause
        self.edits: list[Edit] = []
        self.conflicts = 0
        self.errors: list[str] = []
        self._rng = random.Random(tag)  # noqa: S311  # pacing, not secrets

    def run(self) -> None:
        url = f"{self.stack.base_url}/policies/group/readers"
        auth = {"Authorization": f"Bearer {self.stack.tokens['admin']}"}
        n = 0
        with requests.Session() as session:
            while not self.stop_event.is_set():
                got = session.get(url, headers=auth, timeout=HTTP_TIMEOUT)
                if got.status_code != 200:
                    self.errors.append(f"GET readers: {got.status_code} {got.text[:200]}")
                    return
                n += 1
                document = toggled(got.json()["document"], f"{self.tag}{n}")
                sent = time.monotonic()
                put = session.put(
                    url,
                    json={"document": document, "description": f"load edit {self.tag}{n}"},
                    headers={**auth, "If-Match": got.headers["ETag"]},
                    timeout=HTTP_TIMEOUT,
                )
                acked = time.monotonic()
                if put.status_code == 412:
                    self.conflicts += 1
                    continue  # another editor won: re-read and try again
                if put.status_code != 200:
                    self.errors.append(f"PUT readers: {put.status_code} {put.text[:200]}")
                    return
                out = put.json()
                staleness = float(out["freshness"]["max_staleness_seconds"])
                self.edits.append(Edit(out["version"], document, sent, acked, staleness))
                self.stop_event.wait(self._rng.uniform(*self.pause))


def client(
    stack: DevStack,
    tokens: Mapping[str, str],
    *,
    count: int,
    seed: int,
    deadline: float,
    out: list[Sample],
) -> None:
    """Send ``count`` requests of the mix (or fewer if ``deadline`` passes first)."""
    offset = random.Random(seed).randrange(len(PROBES))  # noqa: S311  # mix, not secrets
    with requests.Session() as session:
        for i in range(count):
            if time.monotonic() > deadline:
                return
            probe = PROBES[(offset + i) % len(PROBES)]
            headers = {}
            if probe.credential != "none":
                headers["Authorization"] = f"Bearer {tokens[probe.credential]}"
            sent = time.monotonic()
            response = session.request(
                probe.method, stack.base_url + probe.path, headers=headers, timeout=HTTP_TIMEOUT
            )
            out.append(Sample(probe, response.status_code, sent, time.monotonic()))


# -- the run -----------------------------------------------------------------------------


def _admin_get(stack: DevStack, path: str, **params: Any) -> Any:
    response = requests.get(
        f"{stack.base_url}{path}",
        headers={"Authorization": f"Bearer {stack.tokens['admin']}"},
        params=params or None,
        timeout=HTTP_TIMEOUT,
    )
    response.raise_for_status()
    return response.json()


def check_edits(stack: DevStack, report: LoadReport, initial_version: int) -> list[str]:
    """What was lost: the store must hold the last acknowledged edit and a history of all."""
    lost: list[str] = []
    expected = list(range(initial_version, initial_version + len(report.edits) + 1))
    acked = [e.version for e in report.edits]
    if acked != expected[1:]:
        lost.append(f"acknowledged versions {acked} are not {expected[1:]}")
    current = _admin_get(stack, "/policies/group/readers")
    if report.edits:
        last = report.edits[-1]
        stored = PolicyDocument.from_dict(current["document"]).to_dict()
        if current["version"] != last.version or stored != last.document:
            lost.append(f"stored version {current['version']} is not the last acked {last.version}")
    history: list[int] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = _admin_get(stack, "/policies/group/readers/history", **params)
        history += [int(h["version"]) for h in page["items"]]
        if not page.get("next"):
            break
        params["next"] = page["next"]
    if sorted(history) != expected:
        lost.append(f"history versions {sorted(history)} != {expected}")
    return lost


def simulate(
    *,
    requests_total: int = 3000,
    clients: int = 8,
    editors: int = 2,
    edit_pause: tuple[float, float] = (0.05, 2.5),
    result_ttl_seconds: int = 1,
    epoch_check_seconds: float = 0.25,
    slack: float = 0.5,
    max_seconds: float = 120.0,
    dynamodb_endpoint: str | None = None,
) -> LoadReport:
    """Start a stack, run the load and the edits, judge what was seen, stop the stack."""
    with start_stack(
        POLICIES,
        result_ttl_seconds=result_ttl_seconds,
        epoch_check_seconds=epoch_check_seconds,
        dynamodb_endpoint=dynamodb_endpoint,
        table=f"authz-load-{uuid.uuid4().hex[:8]}",
    ) as stack:
        oracle = Oracle(stack)
        tokens = {**stack.tokens, **bad_credentials(stack.tokens["reader"])}
        first = _admin_get(stack, "/policies/group/readers")
        initial, initial_version = first["document"], int(first["version"])

        stop = threading.Event()
        team = [Editor(stack, chr(ord("a") + i), stop, edit_pause) for i in range(editors)]
        deadline = time.monotonic() + max_seconds
        outputs: list[list[Sample]] = [[] for _ in range(clients)]
        threads = [
            threading.Thread(
                target=client,
                args=(stack, tokens),
                kwargs={
                    "count": requests_total // clients + (i < requests_total % clients),
                    "seed": i,
                    "deadline": deadline,
                    "out": outputs[i],
                },
                name=f"client-{i}",
                daemon=True,
            )
            for i in range(clients)
        ]
        started = time.monotonic()
        for t in [*team, *threads]:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        stop.set()
        for t in team:
            t.join(timeout=HTTP_TIMEOUT)

        edits = sorted((e for t in team for e in t.edits), key=lambda e: e.version)
        reported = max((e.max_staleness for e in edits), default=epoch_check_seconds)
        report = LoadReport(
            samples=[s for out in outputs for s in out],
            edits=edits,
            conflicts=sum(t.conflicts for t in team),
            elapsed=elapsed,
            staleness=epoch_check_seconds + result_ttl_seconds + slack,
            reported_staleness=reported + slack,
            editor_errors=[e for t in team for e in t.errors],
        )
        report.complete = len(report.samples) == requests_total
        report.wrong = judge(report, oracle, initial, report.staleness)
        report.beyond_reported = judge(report, oracle, initial, report.reported_staleness)
        report.lost = check_edits(stack, report, initial_version)
        return report


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep the stack's decision lines (stdout) and request log out of the table."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def run(requests_total: int = 3000, clients: int = 8) -> list[dict[str, Any]]:
    with _quiet():
        report = simulate(requests_total=requests_total, clients=clients)
    return report.rows()


def main() -> None:
    with _quiet():
        report = simulate()
    rows = report.rows()
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        value = r["value"]
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        print(f"{r['name']:<{width}}  {shown:>10} {r['unit']:<6} {r['target']}")
    for line in report.wrong[:20] + report.lost + report.editor_errors:
        print(line, file=sys.stderr)


if __name__ == "__main__":
    main()
