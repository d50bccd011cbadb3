"""Fetch a JWKS document over HTTP(S) with tight time bounds.

Standard library only (``http.client``), so the cold start pays for neither
requests nor boto3. ``http.client`` is used rather than ``urllib.request``
because it never follows redirects (a redirect must not move the key source
anywhere else), and because it lets the connect and read phases have their
own timeouts. Proxy variables are not honoured, for the same reason.

A fetcher is any ``Callable[[str], Mapping[str, Any]]`` that returns the
parsed document or raises :class:`~authz.errors.JwksError`; tests pass fakes.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import http.client
    import ssl

from authz.errors import JwksError
from authz.netloc import is_loopback_url

__all__ = ["Fetcher", "HttpFetcher"]

Fetcher = Callable[[str], Mapping[str, Any]]

_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class _Retryable(Exception):
    """A failure worth one more attempt (network trouble, 5xx)."""


class HttpFetcher:
    """GET a JWKS URL: bounded connect, read and total time, one retry.

    Cognito answers in tens of milliseconds; a slow key endpoint must not
    hold a request (and a Lambda invocation) hostage, so the defaults are
    half a second per phase. Plain http is refused except on loopback.
    """

    def __init__(
        self,
        *,
        connect_timeout: float = 0.5,
        read_timeout: float = 0.5,
        retries: int = 1,
        max_bytes: int = 256 * 1024,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.retries = retries
        self.max_bytes = max_bytes
        self._ssl_context = ssl_context

    def __call__(self, url: str) -> Mapping[str, Any]:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise JwksError(f"JWKS URL must be http(s): {url!r}")
        if parts.scheme == "http" and not is_loopback_url(url):
            raise JwksError(f"refusing plain http for a non-loopback JWKS URL: {url!r}")
        last: Exception | None = None
        for _ in range(self.retries + 1):
            try:
                body = self._get(parts.scheme, parts.hostname, parts.port, _path(parts))
            except _Retryable as exc:
                last = exc
                continue
            return _parse(body, url)
        raise JwksError(f"could not fetch {url}: {last}") from last

    def _get(self, scheme: str, host: str, port: int | None, path: str) -> bytes:
        # Imported here: a cold start preloaded via AUTHZ_JWKS_JSON never pays for it.
        import http.client  # noqa: PLC0415

        conn: http.client.HTTPConnection
        if scheme == "https":
            context = self._ssl_context or _default_context()
            conn = http.client.HTTPSConnection(
                host, port, timeout=self.connect_timeout, context=context
            )
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self.connect_timeout)
        watchdog: threading.Timer | None = None
        try:
            try:
                conn.connect()
                if conn.sock is not None:
                    conn.sock.settimeout(self.read_timeout)
                conn.request("GET", path, headers={"Accept": "application/json"})
                deadline = time.monotonic() + self.read_timeout
                # The status line and headers are read with only a per-recv
                # timeout, which a server trickling one byte at a time resets
                # forever; the watchdog closes the socket at the deadline.
                watchdog = threading.Timer(self.read_timeout, _shut, args=(conn.sock,))
                watchdog.daemon = True
                watchdog.start()
                response = conn.getresponse()
                status = response.status
                body = _read_bounded(response, self.max_bytes, deadline)
            except (OSError, http.client.HTTPException) as exc:
                # Timeouts are OSErrors too; all of these may pass on a second try.
                raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        finally:
            if watchdog is not None:
                watchdog.cancel()
            conn.close()
        if status in _RETRYABLE_STATUS:
            raise _Retryable(f"HTTP {status}")
        if status != 200:
            raise JwksError(f"JWKS endpoint answered HTTP {status}")
        return body


def _shut(sock: Any) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _read_bounded(response: http.client.HTTPResponse, max_bytes: int, deadline: float) -> bytes:
    # A slow trickle of bytes would reset a per-read socket timeout forever;
    # the deadline bounds the whole body.
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError("reading the JWKS body took too long")
        chunk = response.read1(16 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise JwksError(f"JWKS document larger than {max_bytes} bytes")
        chunks.append(chunk)


def _parse(body: bytes, url: str) -> Mapping[str, Any]:
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise JwksError(f"JWKS from {url} is not JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError(f'JWKS from {url} is not {{"keys": [...]}}')
    return document


def _path(parts: Any) -> str:
    path: str = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


_CONTEXT: list[ssl.SSLContext] = []


def _default_context() -> ssl.SSLContext:
    import ssl  # noqa: PLC0415  # see _get

    # Building a context loads the CA bundle, which is slow; do it once.
    if not _CONTEXT:
        _CONTEXT.append(ssl.create_default_context())
    return _CONTEXT[0]
