"""Real HTTP on loopback: refetch rate limit, stale keys during an outage, timeouts, redirects."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from authz.errors import JwksError, KeySetUnavailableError, UnknownKeyError
from authz.token import JwksCache, Verifier
from authz.token.fetch import HttpFetcher
from tests.tokens import FakeClock, KeyPair, access_claims, jwks, mint, settings_for

pytestmark = pytest.mark.integration

KEY = KeyPair.generate("srv-key")
OTHER = KeyPair.generate("srv-other")


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 whose behaviour a test switches: ok, error, slow, trickle."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = jwks(KEY)
        self.mode = "ok"
        self.delay = 0.0
        self.paths: list[str] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.paths.append(self.path)
                if server.mode == "error":
                    self.send_error(503)
                    return
                if server.mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "/elsewhere/jwks.json")
                    self.end_headers()
                    return
                if server.mode == "slow" and server.stopping.wait(server.delay):
                    return
                body = json.dumps(server.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # The client may hang up first (that is what timeouts are for).
                with contextlib.suppress(OSError):
                    if server.mode == "trickle":
                        for i in range(len(body)):
                            self.wfile.write(body[i : i + 1])
                            self.wfile.flush()
                            if server.stopping.wait(server.delay):
                                return
                    else:
                        self.wfile.write(body)

            def log_message(
                self, format: str, *args: Any
            ) -> None:  # quiet: the stdlib logs each request
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/pool/.well-known/jwks.json"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server() -> Iterator[JwksServer]:
    srv = JwksServer()
    yield srv
    srv.stop()


def make_verifier(url: str, clock: FakeClock | None = None, **fetch: Any) -> Verifier:
    fetcher = HttpFetcher(**fetch)
    cache = JwksCache(fetcher=fetcher, clock=clock) if clock else JwksCache(fetcher=fetcher)
    return Verifier(settings_for(jwks_url=url), jwks=cache)


def test_keys_fetched_over_http_and_reused(server: JwksServer) -> None:
    """The first token fetches the JWKS once; later tokens reuse the keys."""
    v = make_verifier(server.url)
    for _ in range(5):
        assert v.verify(mint(access_claims(), KEY)).sub
    assert server.paths == ["/pool/.well-known/jwks.json"]


def test_unknown_kid_flood_fetches_at_most_once_per_window(server: JwksServer) -> None:
    """A flood of unknown kids causes at most one JWKS request per 10 s window."""
    clock = FakeClock(0.0)
    v = make_verifier(server.url, clock)
    v.verify(mint(access_claims(), KEY))
    flood = [mint(access_claims(), KeyPair.generate(f"flood-{i % 3}")) for i in range(60)]
    for token in flood:
        with pytest.raises(UnknownKeyError):
            v.verify(token)
    assert len(server.paths) == 1  # still inside the window opened by the first fetch
    clock.advance(10)
    for token in flood:
        with pytest.raises(UnknownKeyError):
            v.verify(token)
    assert len(server.paths) == 2


def test_unknown_kid_flood_with_real_clock(server: JwksServer) -> None:
    """With the real monotonic clock a burst of unknown kids adds no request after the first."""
    v = make_verifier(server.url)
    v.verify(mint(access_claims(), KEY))
    stranger = KeyPair.generate("stranger")
    for _ in range(100):
        with pytest.raises(UnknownKeyError):
            v.verify(mint(access_claims(), stranger))
    assert len(server.paths) == 1


def test_new_key_found_after_rotation(server: JwksServer) -> None:
    """A key published later is fetched on the first allowed refetch."""
    clock = FakeClock(0.0)
    v = make_verifier(server.url, clock)
    v.verify(mint(access_claims(), KEY))
    server.document = jwks(KEY, OTHER)
    clock.advance(10)
    assert v.verify(mint(access_claims(), OTHER)).sub
    assert len(server.paths) == 2


@pytest.mark.parametrize("outage", ["error", "stopped"])
def test_cached_keys_verify_while_endpoint_down(server: JwksServer, outage: str) -> None:
    """When the endpoint fails or is gone, tokens signed by cached keys still verify; a
    kid the cache lacks is then unavailable (a 500 at the authorizer), not unknown."""
    clock = FakeClock(0.0)
    v = make_verifier(server.url, clock, connect_timeout=0.2, read_timeout=0.2)
    v.verify(mint(access_claims(), KEY))
    if outage == "error":
        server.mode = "error"
    else:
        server.stop()
    clock.advance(60)
    with pytest.raises(KeySetUnavailableError):
        v.verify(mint(access_claims(), OTHER))  # tries a refetch, which fails
    assert v.verify(mint(access_claims(), KEY)).sub


def test_slow_endpoint_times_out(server: JwksServer) -> None:
    """An endpoint that never answers in time fails within the timeouts (one retry)."""
    server.mode, server.delay = "slow", 3.0
    fetcher = HttpFetcher(connect_timeout=0.2, read_timeout=0.2, retries=1)
    started = time.monotonic()
    with pytest.raises(JwksError):
        fetcher(server.url)
    assert time.monotonic() - started < 1.5
    assert len(server.paths) == 2  # the first try and one retry


def test_trickling_endpoint_bounded_by_deadline(server: JwksServer) -> None:
    """A body trickled byte by byte cannot keep the fetch alive past the read deadline."""
    server.mode, server.delay = "trickle", 0.05
    fetcher = HttpFetcher(connect_timeout=0.2, read_timeout=0.3, retries=0)
    started = time.monotonic()
    with pytest.raises(JwksError):
        fetcher(server.url)
    assert time.monotonic() - started < 1.5


def test_default_timeouts_do_not_hang(server: JwksServer) -> None:
    """With default settings a stalled endpoint costs at most about two seconds."""
    server.mode, server.delay = "slow", 5.0
    started = time.monotonic()
    with pytest.raises(JwksError):
        HttpFetcher()(server.url)
    assert time.monotonic() - started < 2.5


def test_error_status_retried_once(server: JwksServer) -> None:
    """A 503 is retried once, then reported as JwksError."""
    server.mode = "error"
    with pytest.raises(JwksError, match="503"):
        HttpFetcher(retries=1)(server.url)
    assert len(server.paths) == 2


def test_redirect_not_followed(server: JwksServer) -> None:
    """A redirect is an error: keys come from the configured URL only."""
    server.mode = "redirect"
    with pytest.raises(JwksError, match="302"):
        HttpFetcher()(server.url)
    assert server.paths == ["/pool/.well-known/jwks.json"]


def test_oversized_document_rejected(server: JwksServer) -> None:
    """A JWKS larger than max_bytes is refused."""
    server.document = {"keys": [KEY.jwk()], "padding": "x" * 10_000}
    with pytest.raises(JwksError, match="larger"):
        HttpFetcher(max_bytes=4096)(server.url)


def test_connection_refused_is_jwks_error() -> None:
    """Nothing listening on the port is a JwksError, quickly."""
    srv = JwksServer()
    url = srv.url
    srv.stop()
    started = time.monotonic()
    with pytest.raises(JwksError):
        HttpFetcher()(url)
    assert time.monotonic() - started < 1.5
