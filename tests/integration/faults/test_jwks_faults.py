"""JWKS endpoint faults, seen through ``Verifier.verify`` and the authorizer handler.

Real HTTP on 127.0.0.1 with the production ``HttpFetcher`` settings (0.5 s
connect, 0.5 s read, one retry). ``tests/integration/token/test_jwks_server.py``
covers the fetcher on its own (503 retry, redirect, size cap, trickled body,
outage with cached keys, rotation to an added key); this module adds what a
caller sees: garbage and empty key sets, rotation that removes the old kid,
the penalty box on a real clock, stalls of every phase (connect, response,
headers, body) bounded by the fetcher's documented worst case, a burst of
misses during a stall, and the authorizer answering an unknown kid with 500
(``AuthorizerUnavailable``, which API Gateway does not cache) rather than
hanging or answering 401 while the endpoint cannot be read, with known keys
working throughout; with the endpoint up, an unknown kid stays 401.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from authz.errors import JwksError, KeySetUnavailableError, TokenError, UnknownKeyError
from authz.handlers.authorizer import AuthorizerApp, AuthorizerUnavailable
from authz.handlers.observability import Telemetry
from authz.policy import PolicyDocument
from authz.service import Authorizer
from authz.store.memory import MemoryRepository
from authz.token import JwksCache, Verifier
from authz.token.fetch import HttpFetcher
from tests.fuzz.common import NullStream
from tests.integration.token.test_jwks_server import JwksServer
from tests.tokens import FakeClock, KeyPair, access_claims, jwks, mint, settings_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

OLD = KeyPair.generate("fault-old")
NEW = KeyPair.generate("fault-new")
STRANGER = KeyPair.generate("fault-stranger")

# Scheduling noise on a loaded 2-core CI machine, on top of the computed bound.
SLACK = 0.75


def worst_case(fetcher: HttpFetcher) -> float:
    """The longest one fetch may take by HttpFetcher's own settings.

    Per attempt: the connect timeout, then the read deadline (set when the
    request is sent; it bounds waiting for the response and reading the body)
    plus one last read that may block for a whole read timeout. Attempts are
    ``retries + 1``. Defaults: 2 x (0.5 + 2 x 0.5) = 3.0 s.
    """
    return (fetcher.retries + 1) * (fetcher.connect_timeout + 2 * fetcher.read_timeout)


class FaultServer(JwksServer):
    """``JwksServer`` plus the faults it lacks: any body/status/content type
    (``mode = "body"``) and response headers trickled a byte at a time
    (``mode = "slow-headers"``); its own modes (ok, error, slow, trickle) still work."""

    def __init__(self) -> None:
        super().__init__()
        self.document = jwks(OLD)
        self.body = b""
        self.status = 200
        self.content_type = "application/json"
        server = self
        base: Any = self.httpd.RequestHandlerClass

        class Faulty(base):  # type: ignore[misc]  # a class built at run time
            def do_GET(self) -> None:
                if server.mode == "body":
                    server.paths.append(self.path)
                    with contextlib.suppress(OSError):
                        self.send_response(server.status)
                        self.send_header("Content-Type", server.content_type)
                        self.send_header("Content-Length", str(len(server.body)))
                        self.end_headers()
                        self.wfile.write(server.body)
                elif server.mode == "slow-headers":
                    server.paths.append(self.path)
                    with contextlib.suppress(OSError):
                        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                        self.wfile.flush()
                        while not server.stopping.wait(server.delay):
                            self.wfile.write(b"X")
                            self.wfile.flush()
                else:
                    super().do_GET()

        # Set before the first request, so every request gets the extended handler.
        self.httpd.RequestHandlerClass = Faulty

    def serve(self, body: bytes, content_type: str = "application/json", status: int = 200) -> None:
        self.mode, self.body, self.status, self.content_type = "body", body, status, content_type


@pytest.fixture
def server() -> Iterator[FaultServer]:
    srv = FaultServer()
    yield srv
    srv.stop()


def verifier_for(
    url: str, *, clock: FakeClock | None = None, preload: dict[str, Any] | None = None, **cache: Any
) -> Verifier:
    """A verifier fetching ``url`` with the production fetcher; the token cache is off
    so every call reaches the key cache."""
    kwargs: dict[str, Any] = {"fetcher": HttpFetcher(), **cache}
    if clock is not None:
        kwargs["clock"] = clock
    jwks_cache = JwksCache(**kwargs)
    if preload is not None:
        jwks_cache.preload(url, preload)
    return Verifier(settings_for(jwks_url=url), jwks=jwks_cache)


def token(key: KeyPair, **claims: Any) -> str:
    return mint(access_claims(**claims), key)


def timed(call: Callable[[], Any], bound: float) -> tuple[Any, BaseException | None, float]:
    """Run ``call`` in a thread; fail the test if it is still running after ``bound`` seconds."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # reported to the test thread, not swallowed
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(bound)
    elapsed = time.monotonic() - started
    assert not worker.is_alive(), f"still running after {bound:.1f} s: the call hangs"
    return outcome.get("value"), outcome.get("error"), elapsed


@contextlib.contextmanager
def blackhole() -> Iterator[str]:
    """A URL whose TCP connect never completes: a listener with a full accept queue."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            s.connect(("127.0.0.1", port))
        fillers.append(s)
    time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}/pool/.well-known/jwks.json"
    finally:
        for s in [*fillers, listener]:
            s.close()


def refused_url() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}/pool/.well-known/jwks.json"


# -- garbage and empty key sets ---------------------------------------------------------


GARBAGE = {
    "not-json": (b"this is not json", "text/plain"),
    "html": (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    "keys-not-a-list": (b'{"keys": {"kid": "x"}}', "application/json"),
    "a-list": (b"[]", "application/json"),
    "empty-body": (b"", "application/json"),
    "not-utf8": (b'{"keys": ["\xff\xfe"]}', "application/json"),
    "huge": (b'{"keys": [], "pad": "' + b"x" * (1024 * 1024) + b'"}', "application/json"),
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_garbage_key_set_fails_closed_then_recovers(server: FaultServer, kind: str) -> None:
    """A garbage JWKS makes the key set unavailable at once (no retry), not a bad token;
    once it is fixed, the next fetch allowed by the penalty box succeeds."""
    body, content_type = GARBAGE[kind]
    server.serve(body, content_type=content_type)
    clock = FakeClock(0.0)
    v = verifier_for(server.url, clock=clock)
    fetcher = HttpFetcher()
    _, error, elapsed = timed(lambda: v.verify(token(OLD)), worst_case(fetcher) + SLACK)
    assert isinstance(error, KeySetUnavailableError)
    assert isinstance(error.__cause__, JwksError)
    assert not isinstance(error, TokenError)
    assert elapsed < 1.5
    assert len(server.paths) == 1  # garbage is not worth a retry
    server.mode, server.document = "ok", jwks(OLD)
    with pytest.raises(KeySetUnavailableError):
        v.verify(token(OLD))  # inside the penalty window: no request, still unavailable
    assert len(server.paths) == 1
    clock.advance(10)
    assert v.verify(token(OLD)).sub
    assert len(server.paths) == 2


@pytest.mark.parametrize("kind", ["html", "huge", "keys-not-a-list"])
def test_garbage_refetch_keeps_cached_keys(server: FaultServer, kind: str) -> None:
    """When a refetch returns garbage, the keys already held keep verifying, and the kid
    that triggered it is unavailable (500), not unknown (401)."""
    clock = FakeClock(0.0)
    v = verifier_for(server.url, clock=clock)
    assert v.verify(token(OLD)).sub
    server.serve(*GARBAGE[kind])
    clock.advance(10)
    with pytest.raises(KeySetUnavailableError):
        v.verify(token(STRANGER))  # the refetch it triggers gets garbage
    assert len(server.paths) == 2
    assert v.verify(token(OLD)).sub


def test_empty_key_set_then_key_published(server: FaultServer) -> None:
    """An empty key set makes every kid unknown (TokenError); a key published later is
    found on the first fetch the penalty box allows, not before."""
    server.document = {"keys": []}
    clock = FakeClock(0.0)
    v = verifier_for(server.url, clock=clock)
    with pytest.raises(UnknownKeyError) as caught:
        v.verify(token(OLD))
    assert isinstance(caught.value, TokenError)
    server.document = jwks(OLD)
    clock.advance(9.9)
    with pytest.raises(UnknownKeyError):
        v.verify(token(OLD))
    assert len(server.paths) == 1
    clock.advance(0.1)
    assert v.verify(token(OLD)).sub
    assert len(server.paths) == 2


# -- rotation ---------------------------------------------------------------------------


def test_rotation_publishes_new_kid_then_removes_old(server: FaultServer) -> None:
    """During the overlap both kids verify; after the old kid is withdrawn its tokens
    are refused (TokenError), with at most one refetch per 10 s window."""
    clock = FakeClock(0.0)
    server.document = jwks(OLD)
    v = verifier_for(server.url, clock=clock)
    assert v.verify(token(OLD)).sub
    server.document = jwks(OLD, NEW)  # overlap: the new key is published first
    clock.advance(10)
    assert v.verify(token(NEW)).sub
    assert v.verify(token(OLD)).sub
    assert len(server.paths) == 2
    server.document = jwks(NEW)  # the old key is withdrawn
    clock.advance(10)
    assert v.verify(token(NEW)).sub  # known kid: no fetch, the held set still has OLD
    assert v.verify(token(OLD)).sub
    assert len(server.paths) == 2
    with pytest.raises(UnknownKeyError):
        v.verify(token(STRANGER))  # any miss refreshes the set...
    assert len(server.paths) == 3
    for _ in range(20):
        with pytest.raises(UnknownKeyError):
            v.verify(token(OLD))  # ...and the withdrawn kid is gone
    assert len(server.paths) == 3  # misses inside the window cost no request
    assert v.verify(token(NEW)).sub


def test_penalty_box_on_the_real_clock(server: FaultServer) -> None:
    """With a short penalty window on the monotonic clock, a miss refetches only once
    the window has passed."""
    v = verifier_for(server.url, penalty_seconds=0.3)
    assert v.verify(token(OLD)).sub
    with pytest.raises(UnknownKeyError):
        v.verify(token(NEW))  # 0 s after the first fetch: boxed
    assert len(server.paths) == 1
    server.document = jwks(OLD, NEW)
    time.sleep(0.35)
    assert v.verify(token(NEW)).sub
    assert len(server.paths) == 2


# -- stalls: nothing hangs ---------------------------------------------------------------


STALLS = [
    "accepts-never-answers",
    "trickles-body",
    "trickles-headers",
    "connect-blackhole",
]


@contextlib.contextmanager
def stalled(kind: str, server: FaultServer) -> Iterator[str]:
    if kind == "connect-blackhole":
        with blackhole() as url:
            yield url
        return
    server.mode, server.delay = {
        "accepts-never-answers": ("slow", 30.0),
        "trickles-body": ("trickle", 0.2),
        "trickles-headers": ("slow-headers", 0.2),
    }[kind]
    yield server.url


@pytest.mark.parametrize("kind", STALLS)
def test_stalled_endpoint_bounded_and_cached_keys_unaffected(
    server: FaultServer, kind: str
) -> None:
    """A miss against a stalled endpoint is KeySetUnavailableError within the fetcher's
    worst case, and tokens with known kids verify at once while that fetch is stuck."""
    with stalled(kind, server) as url:
        v = verifier_for(url, preload=jwks(OLD))
        bound = worst_case(HttpFetcher()) + SLACK
        outcome: dict[str, Any] = {}

        def miss() -> None:
            started = time.monotonic()
            try:
                v.verify(token(STRANGER))
            except BaseException as exc:  # asserted below
                outcome["error"] = exc
            outcome["elapsed"] = time.monotonic() - started

        worker = threading.Thread(target=miss, daemon=True)
        worker.start()
        time.sleep(0.2)  # the miss is now inside its fetch
        started = time.monotonic()
        assert v.verify(token(OLD)).sub
        assert time.monotonic() - started < 0.2
        worker.join(bound)
        assert not worker.is_alive(), f"verify still running after {bound:.1f} s: it hangs"
        assert isinstance(outcome.get("error"), KeySetUnavailableError)
        assert outcome["elapsed"] < bound


def test_connection_refused_is_quickly_unavailable() -> None:
    """Nothing listening: the miss is KeySetUnavailableError well inside the bound."""
    v = verifier_for(refused_url())
    _, error, elapsed = timed(lambda: v.verify(token(OLD)), worst_case(HttpFetcher()) + SLACK)
    assert isinstance(error, KeySetUnavailableError)
    assert isinstance(error.__cause__, JwksError)
    assert elapsed < 0.5


def test_burst_of_misses_during_a_stall_shares_one_fetch(server: FaultServer) -> None:
    """Eight concurrent misses against a stalled endpoint cost one fetch (and its retry)
    and all return KeySetUnavailableError within one worst case."""
    server.mode, server.delay = "slow", 30.0
    v = verifier_for(server.url, preload=jwks(OLD))
    bound = worst_case(HttpFetcher()) + SLACK
    errors: list[BaseException | None] = []
    lock = threading.Lock()

    def miss(i: int) -> None:
        try:
            v.verify(token(KeyPair.generate(f"burst-{i % 2}")))
        except BaseException as exc:  # collected and asserted below
            with lock:
                errors.append(exc)
        else:
            with lock:
                errors.append(None)

    started = time.monotonic()
    workers = [threading.Thread(target=miss, args=(i,), daemon=True) for i in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(bound)
    elapsed = time.monotonic() - started
    assert not any(w.is_alive() for w in workers), "a miss is still waiting"
    assert elapsed < bound
    assert len(errors) == 8
    assert all(isinstance(e, KeySetUnavailableError) for e in errors)
    assert len(server.paths) <= HttpFetcher().retries + 1


# -- the authorizer's view -----------------------------------------------------------


def _authorizer(url: str, preload: dict[str, Any] | None) -> AuthorizerApp:
    settings = settings_for(jwks_url=url)
    repository = MemoryRepository(
        {
            "default": PolicyDocument.from_dict(
                {
                    "Version": "2012-10-17",
                    "Statement": {
                        "Effect": "Allow",
                        "Action": "execute-api:Invoke",
                        "Resource": "arn:aws:execute-api:*:*:*/*/GET/orders/*",
                    },
                }
            )
        }
    )
    jwks_cache = JwksCache(fetcher=HttpFetcher())
    if preload is not None:
        jwks_cache.preload(url, preload)
    verifier = Verifier(settings, jwks=jwks_cache)
    telemetry = Telemetry(stream=NullStream(), environ={})  # type: ignore[arg-type]
    authorizer = Authorizer(verifier, repository, cache=settings.cache)
    return AuthorizerApp(settings, authorizer, telemetry)


def _event(bearer: str) -> dict[str, Any]:
    return {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {bearer}",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/orders/42",
    }


@pytest.mark.parametrize("fault", ["down", "html", "http-500", "stalled"])
def test_authorizer_answers_500_fast_when_keys_cannot_be_fetched(
    server: FaultServer, fault: str
) -> None:
    """With the key endpoint down, broken or stalled, an unknown kid is a 500
    (AuthorizerUnavailable, not Exception("Unauthorized"): clients must not discard
    a token that may be good) within the bound, while a cached kid still gets Allow."""
    url = refused_url() if fault == "down" else server.url
    if fault == "html":
        server.serve(*GARBAGE["html"])
    elif fault == "http-500":
        server.serve(b'{"message": "internal"}', status=500)
    elif fault == "stalled":
        server.mode, server.delay = "slow", 30.0
    app = _authorizer(url, preload=jwks(OLD))
    _, error, elapsed = timed(
        lambda: app(_event(token(STRANGER)), None), worst_case(HttpFetcher()) + SLACK
    )
    assert type(error) is AuthorizerUnavailable
    assert error.args != ("Unauthorized",)
    assert elapsed < worst_case(HttpFetcher()) + SLACK
    allowed = app(_event(token(OLD)), None)
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    # Inside the refetch back-off the last word from the endpoint is still a failure.
    with pytest.raises(AuthorizerUnavailable):
        app(_event(token(STRANGER)), None)


def test_authorizer_answers_401_for_an_unknown_kid_while_the_endpoint_is_up(
    server: FaultServer,
) -> None:
    """The endpoint answers and has no such kid: exactly Exception("Unauthorized"), also
    inside the back-off after that good fetch."""
    server.document = jwks(OLD)
    app = _authorizer(server.url, preload=jwks(OLD))
    for _ in range(2):
        with pytest.raises(Exception) as caught:  # noqa: PT011  # the contract IS the bare Exception
            app(_event(token(STRANGER)), None)
        assert type(caught.value) is Exception
        assert caught.value.args == ("Unauthorized",)
    assert len(server.paths) == 1


def test_authorizer_logs_and_counts_a_key_outage(server: FaultServer) -> None:
    """A key outage is written as an error decision with KeysUnavailable = 1."""
    out = io.StringIO()
    app = _authorizer(refused_url(), preload=jwks(OLD))
    # Powertools keeps one logger per service name: a fresh name gets this stream.
    app.telemetry = Telemetry(service="keys-outage-test", stream=out, environ={})  # type: ignore[arg-type]
    with pytest.raises(AuthorizerUnavailable):
        app(_event(token(STRANGER)), None)
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    decision = next(line for line in lines if line.get("message") == "decision")
    assert decision["outcome"] == "error"
    assert decision["KeysUnavailable"] == 1
    assert decision["reason"] == "KeySetUnavailableError"
    assert any("signing keys unavailable" in str(line.get("message")) for line in lines)


def test_worst_case_matches_the_documented_defaults() -> None:
    """The bound these tests use is the fetcher's documented one: 3 s with the defaults."""
    fetcher = HttpFetcher()
    assert (fetcher.connect_timeout, fetcher.read_timeout, fetcher.retries) == (0.5, 0.5, 1)
    assert worst_case(fetcher) == pytest.approx(3.0)
