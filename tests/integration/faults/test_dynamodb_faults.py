"""The authorizer and the admin API while DynamoDB fails.

The authorizer handler (``authz.handlers.authorizer.build`` with explicit
Settings, a locally minted token, the JWKS preloaded from AUTHZ_JWKS_JSON)
talks to a DynamoDB Local of its own through a loopback ``FaultProxy``;
throttling is injected with a botocore ``before-send`` hook on the
repository's own client (``DynamoRepository.events``). Time is a hand-moved
clock, so the cache TTL (1 s) and the stale-if-error window (2 s) pass
without sleeping; only the store's own timeouts take real time.

Worst-case wall time of one decision (derived from the store's botocore
config, ``StoreTimeouts``, here the production defaults: connect 1 s,
read 1 s, 2 attempts, legacy back-off 50 ms):

    one request   = attempts * (connect + read) + 0.05            = 4.05 s
    get_many      = min(6 rounds, batch_deadline + one request)   = 6.05 s
    one decision  = epoch GetItem + get_many (one chunk)          = 10.10 s

The faults injected here never produce UnprocessedKeys rounds, so each
decision is also held to the tighter 2 requests = 8.1 s.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse  # type: ignore[import-untyped]  # no stubs

from authz.dev.dynamodb import DynamoDBLocal
from authz.handlers.admin import app as admin
from authz.handlers.authorizer import (
    UNAUTHORIZED,
    AuthorizerApp,
    AuthorizerError,
    AuthorizerUnavailable,
    build,
)
from authz.policy import PolicyDocument, Selector, evaluate
from authz.service import Authorizer
from authz.settings import Settings
from authz.store.repository import DynamoRepository, StoreTimeouts
from authz.token import JwksCache, Verifier
from tests.faults_proxy import FaultProxy
from tests.fixtures.dynamodb import RequestCounter
from tests.functional.admin.helpers import event as admin_event
from tests.tokens import KeyPair, RecordingFetcher, access_claims, jwks, mint, settings_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
TIMEOUTS = StoreTimeouts()  # what a Lambda gets for an AWS endpoint
CACHE_TTL = 1  # AUTHZ_CACHE_TTL_SECONDS
STALE = 2  # AUTHZ_STALE_IF_ERROR_SECONDS
EPOCH_CHECK = 0.5  # AUTHZ_EPOCH_CHECK_SECONDS
MARGIN = 1.5  # scheduling slack on a loaded 2-core machine
KEY = KeyPair.generate("faults-key")
ARN = "arn:aws:execute-api:us-east-1:123456789012:api123/prod/{verb}/{path}"

POLICIES = {
    Selector("default", "default"): {
        "Effect": "Allow",
        "Resource": ["arn:aws:execute-api:*:*:*/*/GET/health"],
    },
    Selector("group", "readers"): {
        "Effect": "Allow",
        "Resource": ["arn:aws:execute-api:*:*:*/*/GET/orders/*"],
    },
    Selector("group", "interns"): {
        "Effect": "Deny",
        "Resource": ["arn:aws:execute-api:*:*:*/*/DELETE/*"],
    },
}
# A reader who is also an intern: GET orders allowed, DELETE explicitly denied.
GROUPS = ("readers", "interns")


def document(statement: dict[str, Any], sid: str = "S") -> PolicyDocument:
    return PolicyDocument.from_dict(
        {
            "Version": "2012-10-17",
            "Statement": [{"Sid": sid, "Action": "execute-api:Invoke", **statement}],
        }
    )


def decision_bound(timeouts: StoreTimeouts, selectors: int) -> float:
    """Worst-case seconds of one decision: the epoch GetItem, then get_many."""
    return timeouts.request_seconds() + timeouts.worst_case_seconds(selectors)


def lambda_timeout(function: str = "authorizer") -> float:
    """The Lambda timeout serverless.yml gives ``function`` (else the provider's)."""
    text = (REPO / "serverless.yml").read_text()
    functions = text.split("\nfunctions:", 1)[1]
    block = re.search(rf"\n  {function}:\n((?:    .*\n|\s*\n)+)", functions)
    own = re.search(r"^    timeout: (\d+)", block.group(1), re.M) if block else None
    provider = re.search(r"\nprovider:\n(?:  .*\n)*?  timeout: (\d+)", text)
    found = own or provider
    assert found is not None, "serverless.yml sets no Lambda timeout"
    return float(found.group(1))


# -- injected throttling -----------------------------------------------------------------


class _Body:
    """The ``raw`` part of a botocore response: what ``AWSResponse.content`` streams."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


class Throttle:
    """A ``before-send`` hook answering every request with DynamoDB's 400 throttling error.

    Returning a response from ``before-send`` skips the HTTP send, so
    botocore's parser and retry handler see exactly what DynamoDB sends.
    """

    def __init__(self, code: str) -> None:
        self.code = code
        self.calls = 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.calls += 1
        body = json.dumps(
            {"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}", "message": "injected"}
        ).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "injected"}
        return AWSResponse(request.url, 400, headers, _Body(body))


# -- the rig -----------------------------------------------------------------------------


class Clock:
    """Monotonic seconds that tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Rig:
    ddb: DynamoDBLocal
    proxy: FaultProxy
    settings: Settings  # points at the proxy
    seed: DynamoRepository  # straight to DynamoDB Local, never faulted
    store: DynamoRepository  # the authorizer's, through the proxy
    app: AuthorizerApp
    clock: Clock
    requests: RequestCounter
    token: str

    def sync(self) -> None:
        """Create the table and put the policies (again, after a restart lost them)."""
        self.seed.create_table(wait=True)
        for selector, statement in POLICIES.items():
            self.seed.put(selector, document(statement), actor="faults")

    def event(self, verb: str, path: str, token: str | None = None) -> dict[str, Any]:
        arn = ARN.format(verb=verb, path=path)
        return {
            "type": "TOKEN",
            "authorizationToken": f"Bearer {token or self.token}",
            "methodArn": arn,
        }

    def allowed(self, verb: str, path: str, token: str | None = None) -> bool:
        """The handler's answer for the route, as API Gateway evaluates the returned policy."""
        response = self.app(self.event(verb, path, token))
        policy = PolicyDocument.from_dict(response["policyDocument"])
        return evaluate(policy, ARN.format(verb=verb, path=path)).allowed


@pytest.fixture(scope="module")
def ddb(fake_aws_env: None) -> Iterator[DynamoDBLocal]:
    """A DynamoDB Local of this module's own (in memory): tests stop and restart it."""
    with DynamoDBLocal() as instance:
        yield instance


def make_settings(endpoint: str, table: str) -> Settings:
    return settings_for(  # type: ignore[no-any-return]
        jwks_json=jwks(KEY),
        AUTHZ_TABLE=table,
        AUTHZ_DYNAMODB_ENDPOINT=endpoint,
        AUTHZ_CACHE_TTL_SECONDS=str(CACHE_TTL),
        AUTHZ_STALE_IF_ERROR_SECONDS=str(STALE),
        AUTHZ_EPOCH_CHECK_SECONDS=str(EPOCH_CHECK),
    )


@pytest.fixture
def rig(ddb: DynamoDBLocal) -> Iterator[Rig]:
    ddb.start()  # a previous test may have stopped it
    table = f"faults-{uuid.uuid4().hex[:10]}"
    with FaultProxy(ddb.port) as proxy:
        settings = make_settings(proxy.endpoint, table)
        seed = DynamoRepository(make_settings(ddb.endpoint, table))
        store = DynamoRepository(settings, timeouts=TIMEOUTS)
        clock = Clock()
        # The production composition, but with the hand-moved clock and a
        # fetcher that would fail loudly: the preloaded JWKS must suffice.
        verifier = Verifier(settings, jwks=JwksCache(fetcher=RecordingFetcher()))
        app = build(
            settings, authorizer=Authorizer(verifier, store, cache=settings.cache, clock=clock)
        )
        requests = RequestCounter()
        store.events.register("before-send.dynamodb", requests)
        token = mint(access_claims(groups=GROUPS), KEY)
        r = Rig(ddb, proxy, settings, seed, store, app, clock, requests, token)
        r.sync()
        yield r


class Stopwatch:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, call: Callable[[], Any]) -> Any:
        started = time.monotonic()
        try:
            return call()
        finally:
            self.seconds.append(time.monotonic() - started)


# -- faults ------------------------------------------------------------------------------


Fault = tuple[Callable[[Rig], None], Callable[[Rig], None]]  # (inject, remove)


def proxy_fault(mode: Any, **kw: Any) -> Fault:
    return (lambda r: r.proxy.set_mode(mode, **kw), lambda r: r.proxy.set_mode("pass"))


def throttle_fault(code: str) -> Fault:
    hook = Throttle(code)
    return (
        lambda r: r.store.events.register_first("before-send.dynamodb", hook),
        lambda r: r.store.events.unregister("before-send.dynamodb", hook),
    )


FAULTS: dict[str, Callable[[], Fault]] = {
    "refused": lambda: proxy_fault("refuse"),
    "dropped": lambda: proxy_fault("drop"),
    "reset": lambda: proxy_fault("reset"),
    "slow": lambda: proxy_fault("delay", delay=TIMEOUTS.read + 0.5),
    "throughput-exceeded": lambda: throttle_fault("ProvisionedThroughputExceededException"),
    "throttled": lambda: throttle_fault("ThrottlingException"),
}


def assert_unavailable(call: Callable[[], Any]) -> None:
    """The call raises the handler's 500 error: not "Unauthorized", no policy at all."""
    with pytest.raises(AuthorizerError) as info:
        call()
    assert isinstance(info.value, AuthorizerUnavailable)
    assert str(info.value) != UNAUTHORIZED


# -- the authorizer ----------------------------------------------------------------------


def test_worst_case_decision_fits_the_lambda_timeout() -> None:
    """The derived worst case of one decision stays well under the authorizer's Lambda timeout."""
    bound = decision_bound(TIMEOUTS, len(POLICIES))
    assert bound == pytest.approx(4.05 + 6.05)
    assert bound <= 0.8 * lambda_timeout("authorizer")


@pytest.mark.parametrize("fault_name", sorted(FAULTS))
def test_store_fault_serves_stale_then_fails_closed_then_recovers(
    rig: Rig, fault_name: str
) -> None:
    """Under a store fault a cached policy serves for the stale window, then decisions are
    500-type errors within the time bound, and the same app recovers when the store returns."""
    inject, remove = FAULTS[fault_name]()
    bound = decision_bound(TIMEOUTS, len(POLICIES))
    tight = 2 * TIMEOUTS.request_seconds()  # no UnprocessedKeys rounds with these faults
    watch = Stopwatch()

    assert watch(lambda: rig.allowed("GET", "orders/1"))
    assert not watch(lambda: rig.allowed("DELETE", "orders/1"))
    inject(rig)
    try:
        # Past the cache TTL, inside the stale window: the cached policy still decides,
        # its Allow and its explicit Deny alike.
        rig.clock.advance(CACHE_TTL + STALE / 4)
        before = rig.requests.total
        assert watch(lambda: rig.allowed("GET", "orders/1"))
        assert rig.requests.total > before, "the store was not asked: the fault was not exercised"
        assert not watch(lambda: rig.allowed("DELETE", "orders/1"))
        # A bad token stays a 401 whatever the store does.
        with pytest.raises(Exception, match=f"^{UNAUTHORIZED}$"):
            rig.app(rig.event("GET", "orders/1", token="not-a-jwt"))

        # Past the stale window: a 500-type error, never a cached Deny, never an Allow.
        rig.clock.advance(STALE)
        assert_unavailable(lambda: watch(lambda: rig.allowed("GET", "orders/1")))
        assert_unavailable(lambda: watch(lambda: rig.allowed("DELETE", "orders/1")))
    finally:
        remove(rig)
    # Every request a decision made stayed within the retry bound.
    assert max(watch.seconds) < min(bound, tight) + MARGIN, watch.seconds

    # The store is back: the very next decision succeeds, on the same app.
    rig.clock.advance(EPOCH_CHECK)
    before = rig.requests.total
    assert rig.allowed("GET", "orders/1")
    assert rig.requests.total > before
    assert not rig.allowed("DELETE", "orders/1")


def test_stopped_and_restarted_store(rig: Rig) -> None:
    """DynamoDB Local stopped: stale, then 500; restarted empty: still 500 (never Allow);
    table and policies re-created: the same app decides correctly again."""
    bound = decision_bound(TIMEOUTS, len(POLICIES))
    watch = Stopwatch()
    assert rig.allowed("GET", "orders/1")

    rig.ddb.stop()
    rig.clock.advance(CACHE_TTL + STALE / 4)
    assert watch(lambda: rig.allowed("GET", "orders/1"))
    assert not watch(lambda: rig.allowed("DELETE", "orders/1"))
    rig.clock.advance(STALE)
    assert_unavailable(lambda: watch(lambda: rig.allowed("GET", "orders/1")))

    rig.ddb.start()  # in memory: the table and its policies are gone
    rig.clock.advance(EPOCH_CHECK)
    assert_unavailable(lambda: watch(lambda: rig.allowed("GET", "orders/1")))
    assert_unavailable(lambda: watch(lambda: rig.allowed("DELETE", "orders/1")))
    assert max(watch.seconds) < bound + MARGIN, watch.seconds

    rig.sync()
    rig.clock.advance(EPOCH_CHECK)
    assert rig.allowed("GET", "orders/1")
    assert not rig.allowed("DELETE", "orders/1")
    assert not rig.allowed("POST", "orders")


def test_principal_never_cached_gets_500_not_deny(rig: Rig) -> None:
    """A principal with nothing cached gets a 500-type error while the store is down, not a Deny."""
    rig.proxy.set_mode("refuse")
    newcomer = mint(
        access_claims(sub="99999999-0000-0000-0000-000000000000", groups=["readers"]), KEY
    )
    assert_unavailable(lambda: rig.allowed("GET", "orders/1", token=newcomer))
    rig.proxy.set_mode("pass")
    assert rig.allowed("GET", "orders/1", token=newcomer)


# -- the admin API -----------------------------------------------------------------------


def admin_app(rig: Rig) -> admin.AdminApp:
    return admin.build_app(rig.settings, rig.store, flusher=lambda _api, _stage: None)


def put_readers(app: admin.AdminApp, version: int) -> dict[str, Any]:
    body = {"document": document(POLICIES[Selector("group", "readers")], sid="Edited").to_dict()}
    ev = admin_event(
        "PUT", "/policies/group/readers", body=body, headers={"If-Match": f'"{version}"'}
    )
    return app(ev)


@pytest.mark.parametrize("fault_name", ["refused", "reset", "throughput-exceeded"])
def test_admin_write_under_store_failure_changes_nothing(rig: Rig, fault_name: str) -> None:
    """A write the store never received answers a 5xx JSON error and, once the store is back,
    the policy and its history read exactly as before."""
    app = admin_app(rig)
    before = rig.seed.get(Selector("group", "readers"))
    inject, remove = FAULTS[fault_name]()
    inject(rig)
    try:
        started = time.monotonic()
        response = put_readers(app, before.version)
        elapsed = time.monotonic() - started
    finally:
        remove(rig)
    assert response["statusCode"] in (500, 503)
    error = json.loads(response["body"])["error"]
    assert error["code"]
    assert error["message"]
    # put with If-Match: one TransactWriteItems (+ nothing else) within the retry bound.
    assert elapsed < TIMEOUTS.request_seconds() + MARGIN

    after = rig.seed.get(Selector("group", "readers"))
    assert (after.version, after.document) == (before.version, before.document)
    history = rig.seed.history(Selector("group", "readers")).items
    assert [h.version for h in history] == [before.version]
    # And the same app writes fine now.
    assert put_readers(app, before.version)["statusCode"] == 200


def lost_answer_write(rig: Rig) -> tuple[dict[str, Any], int]:
    """A PUT whose request reaches DynamoDB but whose answers (and botocore's retry's) are late."""
    app = admin_app(rig)
    before = rig.seed.get(Selector("group", "readers")).version
    rig.proxy.set_mode("delay", delay=TIMEOUTS.read + 0.5)
    try:
        return put_readers(app, before), before
    finally:
        rig.proxy.set_mode("pass")


def test_admin_write_whose_answer_is_lost_lands_exactly_once(rig: Rig) -> None:
    """A write whose response times out answers 5xx, yet it landed once: botocore's retry
    (same ClientRequestToken) added no second version and no second history entry."""
    response, before = lost_answer_write(rig)
    assert response["statusCode"] in (500, 503)
    after = rig.seed.get(Selector("group", "readers"))
    assert after.version == before + 1
    history = rig.seed.history(Selector("group", "readers")).items
    assert [h.version for h in history] == [before + 1, before]


def test_admin_error_after_a_lost_answer_does_not_claim_nothing_changed(rig: Rig) -> None:
    """When a write's outcome is unknown, the error says so, not 'nothing was changed'."""
    response, _ = lost_answer_write(rig)
    assert response["statusCode"] in (500, 503)
    assert "nothing was changed" not in json.loads(response["body"])["error"]["message"]
