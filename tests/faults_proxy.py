"""A loopback TCP proxy that injects network faults between a client and a server.

Fault-injection tests put it between the policy store and DynamoDB Local and
switch its ``mode`` while the service runs:

- ``pass``: bytes flow unchanged.
- ``delay``: every chunk is held ``delay`` seconds before it is forwarded
  (``direction`` says which way: ``"response"`` delays the server's answers
  only, so a request still reaches the server; ``"both"`` delays requests too).
- ``drop``: a new connection is accepted and closed at once (the client reads
  EOF); a live connection is closed when its next chunk arrives.
- ``reset``: like ``drop`` but with a TCP RST (``SO_LINGER`` 0), what a
  crashed peer or a stateful firewall sends.
- ``refuse``: the listening socket is closed (connection refused) and every
  live connection is reset; leaving the mode listens on the same port again.

A mode applies to live (keep-alive) connections too, at their next chunk, so
a client's connection pool cannot bypass a fault. Everything listens on
127.0.0.1 and every thread is a daemon; ``close()`` ends them all.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from types import TracebackType
from typing import Literal

__all__ = ["FaultProxy", "Mode"]

Mode = Literal["pass", "delay", "drop", "reset", "refuse"]
Direction = Literal["response", "both"]

_CHUNK = 65536
_POLL = 0.05  # how often blocked threads look at the mode and the stop flag


def _reset(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    """``with FaultProxy(port) as proxy:`` then ``proxy.endpoint``, ``proxy.set_mode("drop")``."""

    def __init__(self, upstream_port: int, *, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode: Mode = "pass"
        self.delay = 0.0
        self.direction: Direction = "response"
        self.accepted = 0  # connections accepted, for tests that check a fault was hit
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._live: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self.port = 0
        self._listen()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- control ------------------------------------------------------------------

    def set_mode(
        self, mode: Mode, *, delay: float = 0.0, direction: Direction = "response"
    ) -> None:
        """Switch the fault: new connections now, live ones at their next chunk."""
        with self._lock:
            previous = self.mode
            self.mode, self.delay, self.direction = mode, delay, direction
            live = list(self._live)
        if mode == "refuse" and previous != "refuse":
            self._unlisten()
            for sock in live:
                _reset(sock)
        elif mode != "refuse" and previous == "refuse":
            self._listen()

    def close(self) -> None:
        self._stop.set()
        self._unlisten()
        with self._lock:
            live = list(self._live)
            self._live.clear()
        for sock in live:
            _close(sock)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- listening ----------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))  # port 0 the first time: the OS picks
        listener.listen(64)
        listener.settimeout(_POLL)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._acceptor = threading.Thread(
            target=self._accept, args=(listener,), name="fault-proxy-accept", daemon=True
        )
        self._acceptor.start()

    def _unlisten(self) -> None:
        listener, acceptor = self._listener, self._acceptor
        self._listener = self._acceptor = None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.close()
        if acceptor is not None:
            acceptor.join(timeout=2)

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set() and self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by _unlisten
            self.accepted += 1
            mode = self.mode
            if mode == "drop":
                _close(client)
                continue
            if mode in ("reset", "refuse"):
                _reset(client)
                continue
            threading.Thread(
                target=self._connect, args=(client,), name="fault-proxy-conn", daemon=True
            ).start()

    # -- relaying -----------------------------------------------------------------

    def _connect(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=2.0)
        except OSError:
            _reset(client)  # the server is down: the client sees what it would directly
            return
        with self._lock:
            self._live.update((client, server))
        for src, dst, is_response in ((client, server, False), (server, client, True)):
            threading.Thread(
                target=self._pump,
                args=(src, dst, is_response),
                name="fault-proxy-pump",
                daemon=True,
            ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, is_response: bool) -> None:
        src.settimeout(_POLL)
        try:
            while not self._stop.is_set():
                try:
                    data = src.recv(_CHUNK)
                except TimeoutError:
                    continue
                if not data:
                    break
                mode = self.mode
                if mode in ("drop", "reset", "refuse"):
                    (_close if mode == "drop" else _reset)(src)
                    (_close if mode == "drop" else _reset)(dst)
                    return
                if mode == "delay" and (is_response or self.direction == "both"):
                    # Sleep in slices so close() is not held up by a long delay.
                    until = time.monotonic() + self.delay
                    while not self._stop.is_set() and time.monotonic() < until:
                        time.sleep(min(_POLL, max(0.0, until - time.monotonic())))
                dst.sendall(data)
        except OSError:
            pass  # either side went away; the other is closed below
        finally:
            with self._lock:
                self._live.discard(src)
                self._live.discard(dst)
            _close(src)
            _close(dst)
