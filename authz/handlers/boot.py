"""The one object each Lambda function builds per container, on its first invocation.

Every handler keeps its settings, store client and app for the container's
life: built when the first event arrives (so importing a handler module
stays cheap), then reused. A build that raises leaves nothing behind, so
the next invocation tries again (after a transient failure, or once the
configuration is fixed) instead of failing for the container's life.
Standard library only: the authorizer imports this on its cold path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["PerContainer"]

T = TypeVar("T")


class PerContainer(Generic[T]):
    """``get()`` builds the value once with ``build`` and returns it ever after."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> T | None:
        """The value built or installed so far, if any."""
        return self._value

    def install(self, value: T | None) -> None:
        """Use ``value`` from now on (None: build again on the next ``get``)."""
        self._value = value

    def get(self) -> T:
        value = self._value
        if value is not None:
            return value
        # Threads of a local server may race to the first request; one builds.
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value
