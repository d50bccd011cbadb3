"""HttpFetcher refusals that need no network: only https, or http on loopback."""

from __future__ import annotations

import pytest

from authz.errors import JwksError
from authz.netloc import is_loopback_url
from authz.token.fetch import HttpFetcher


@pytest.mark.parametrize(
    "url",
    [
        "http://cognito-idp.us-east-1.amazonaws.com/p/.well-known/jwks.json",
        "http://10.0.0.1/jwks.json",
        "ftp://127.0.0.1/jwks.json",
        "file:///etc/passwd",
        "https:///no-host",
        "jwks.json",
    ],
)
def test_unsafe_urls_refused_without_connecting(url: str) -> None:
    """Plain http off loopback, other schemes and host-less URLs are refused up front."""
    with pytest.raises(JwksError):
        HttpFetcher(connect_timeout=0.01, retries=0)(url)


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080/x", True),
        ("http://localhost/x", True),
        ("http://[::1]:1/x", True),
        ("http://127.0.0.1.example.com/x", False),
        ("https://cognito-idp.us-east-1.amazonaws.com/x", False),
    ],
)
def test_is_loopback_url(url: str, loopback: bool) -> None:
    """Only the loopback host names count as loopback."""
    assert is_loopback_url(url) is loopback


def test_defaults_are_tight() -> None:
    """Connect and read timeouts default to well under a second, with one retry."""
    fetcher = HttpFetcher()
    assert fetcher.connect_timeout <= 0.5
    assert fetcher.read_timeout <= 0.5
    assert fetcher.retries == 1
