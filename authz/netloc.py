"""Which URLs point at this machine: the only place plain http is accepted."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["LOOPBACK_HOSTS", "is_loopback_url"]

# ``urlsplit`` strips the brackets of an IPv6 literal, so ``::1`` covers ``[::1]``.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback_url(url: str) -> bool:
    """True for an http(s) URL whose host is this machine."""
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS
