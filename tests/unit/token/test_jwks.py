"""JwksCache with a fake clock and fetcher: selection by kid, penalty box, sharing, outages."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest

from authz.errors import JwksError, KeySetUnavailableError, TokenError, UnknownKeyError
from authz.token import JwksCache, parse_jwks
from authz.token.fetch import HttpFetcher
from tests.tokens import FakeClock, KeyPair, RecordingFetcher, jwks

URL = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool/.well-known/jwks.json"
URL2 = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool/.well-known/jwks.json"
K1 = KeyPair.generate("k1")
K2 = KeyPair.generate("k2")


def make(
    document: Mapping[str, Any] | None = None,
) -> tuple[JwksCache, RecordingFetcher, FakeClock]:
    fetcher = RecordingFetcher(document)
    clock = FakeClock(1000.0)
    return JwksCache(fetcher=fetcher, clock=clock), fetcher, clock


def test_first_use_fetches_and_caches() -> None:
    """The first lookup fetches the key set; later lookups of known kids do not."""
    cache, fetcher, _ = make(jwks(K1, K2))
    assert cache.get_key(URL, "k1").kid == "k1"
    assert cache.get_key(URL, "k2").kid == "k2"
    assert cache.get_key(URL, "k1") is cache.get_key(URL, "k1")
    assert fetcher.calls == [URL]


def test_prepared_key_verifies_signatures() -> None:
    """A prepared key verifies its own RS256 signature and refuses another key's."""
    cache, _, _ = make(jwks(K1))
    key = cache.get_key(URL, "k1")
    assert key.verify(b"data", K1.sign(b"data"))
    assert not key.verify(b"data", K2.sign(b"data"))
    assert not key.verify(b"data", b"\x00" * 7)
    assert key.jose_key.to_dict()["n"] == K1.jwk()["n"]


def test_selection_is_strictly_by_kid() -> None:
    """A kid is never matched to another key, even when the set holds only one."""
    cache, _, _ = make(jwks(K1))
    with pytest.raises(UnknownKeyError):
        cache.get_key(URL, "K1")


def test_unknown_kid_refetch_rate_limited() -> None:
    """Unknown kids cause at most one refetch per URL per 10 s."""
    cache, fetcher, clock = make(jwks(K1))
    cache.get_key(URL, "k1")
    for _ in range(50):
        with pytest.raises(UnknownKeyError):
            cache.get_key(URL, "nope")
    assert fetcher.calls == [URL]  # the first fetch opened the penalty box
    clock.advance(9.9)
    with pytest.raises(UnknownKeyError):
        cache.get_key(URL, "nope")
    assert len(fetcher.calls) == 1
    clock.advance(0.1)
    with pytest.raises(UnknownKeyError):
        cache.get_key(URL, "nope")
    assert len(fetcher.calls) == 2


def test_rotation_picks_up_new_key_after_penalty() -> None:
    """A key added at the endpoint is found by the next allowed refetch."""
    cache, fetcher, clock = make(jwks(K1))
    cache.get_key(URL, "k1")
    fetcher.document = jwks(K1, K2)
    clock.advance(10)
    assert cache.get_key(URL, "k2").kid == "k2"
    assert len(fetcher.calls) == 2


def test_removed_key_is_dropped_on_refetch() -> None:
    """A refetched set replaces the old one: keys removed at the endpoint stop verifying."""
    cache, fetcher, clock = make(jwks(K1, K2))
    cache.get_key(URL, "k1")
    fetcher.document = jwks(K2)
    clock.advance(10)
    with pytest.raises(UnknownKeyError):
        cache.get_key(URL, "nope")  # triggers the refetch
    with pytest.raises(UnknownKeyError):
        cache.get_key(URL, "k1")


def test_penalty_box_is_per_url() -> None:
    """A refetch for one URL does not use up another URL's allowance."""
    fetcher = RecordingFetcher(documents={URL: jwks(K1), URL2: jwks(K2)})
    cache = JwksCache(fetcher=fetcher, clock=FakeClock())
    assert cache.get_key(URL, "k1").kid == "k1"
    assert cache.get_key(URL2, "k2").kid == "k2"
    with pytest.raises(UnknownKeyError):
        cache.get_key(URL2, "k1")
    assert fetcher.calls == [URL, URL2]


def test_outage_keeps_cached_keys_working() -> None:
    """While the endpoint fails, known kids keep resolving; unknown ones are unavailable."""
    cache, fetcher, clock = make(jwks(K1))
    cache.get_key(URL, "k1")
    fetcher.fail = True
    clock.advance(60)
    with pytest.raises(KeySetUnavailableError) as info:
        cache.get_key(URL, "k2")
    assert isinstance(info.value.__cause__, JwksError)
    assert cache.get_key(URL, "k1").kid == "k1"
    assert len(fetcher.calls) == 2


def test_failed_first_fetch_is_unavailable_and_rate_limited() -> None:
    """With no keys at all a failing endpoint gives KeySetUnavailableError, retried at
    most every 10 s."""
    cache, fetcher, clock = make()
    fetcher.fail = True
    with pytest.raises(KeySetUnavailableError):
        cache.get_key(URL, "k1")
    with pytest.raises(KeySetUnavailableError):
        cache.get_key(URL, "k1")
    assert len(fetcher.calls) == 1
    fetcher.fail = False
    fetcher.document = jwks(K1)
    clock.advance(10)
    assert cache.get_key(URL, "k1").kid == "k1"


def test_fetcher_exception_of_any_type_is_mapped() -> None:
    """A fetcher raising a foreign exception surfaces as an unavailable key set whose
    cause is a JwksError naming it (fail closed, never a 401)."""

    def broken(url: str) -> Mapping[str, Any]:
        raise RuntimeError("boom")

    cache = JwksCache(fetcher=broken, clock=FakeClock())
    with pytest.raises(KeySetUnavailableError, match="boom") as info:
        cache.get_key(URL, "k1")
    assert isinstance(info.value.__cause__, JwksError)


def test_garbage_document_keeps_previous_keys() -> None:
    """A refetch returning something that is not a JWKS keeps the keys already held,
    and an unknown kid is then unavailable rather than unknown."""
    cache, fetcher, clock = make(jwks(K1))
    cache.get_key(URL, "k1")
    fetcher.document = {"not": "a jwks"}
    clock.advance(10)
    with pytest.raises(KeySetUnavailableError):
        cache.get_key(URL, "k2")
    assert cache.get_key(URL, "k1").kid == "k1"


# --- an outage is not a bad token --------------------------------------------------


def test_key_set_unavailable_is_not_a_token_error() -> None:
    """The authorizer answers every TokenError with 401; an outage must not be one."""
    assert not issubclass(KeySetUnavailableError, TokenError)
    assert not issubclass(JwksError, TokenError)


def test_unknown_kid_inside_the_penalty_window_after_a_failed_fetch_is_unavailable() -> None:
    """While the refetch back-off holds after a failure, an unknown kid is still a 500-type
    error: the last word from the endpoint was a failure, not "no such key"."""
    cache, fetcher, clock = make(jwks(K1))
    cache.get_key(URL, "k1")
    fetcher.fail = True
    clock.advance(10)
    with pytest.raises(KeySetUnavailableError):
        cache.get_key(URL, "rotated")
    for _ in range(5):
        clock.advance(1)
        with pytest.raises(KeySetUnavailableError):
            cache.get_key(URL, "rotated")
    assert len(fetcher.calls) == 2  # the back-off still limits the refetches


def test_unknown_kid_inside_the_penalty_window_after_a_good_fetch_stays_unknown() -> None:
    """The endpoint answered a moment ago without this kid: 401-type UnknownKeyError."""
    cache, fetcher, clock = make(jwks(K1))
    cache.get_key(URL, "k1")
    clock.advance(10)
    with pytest.raises(UnknownKeyError):
        cache.get_key(URL, "nope")
    fetcher.fail = True  # no further fetch is allowed yet, so this never shows
    clock.advance(5)
    with pytest.raises(UnknownKeyError):
        cache.get_key(URL, "nope")
    assert len(fetcher.calls) == 2


def test_recovery_after_an_outage_makes_unknown_kids_401_again() -> None:
    """Once a fetch succeeds again, an absent kid is a plain UnknownKeyError and a
    rotated one is found."""
    cache, fetcher, clock = make(jwks(K1))
    cache.get_key(URL, "k1")
    fetcher.fail = True
    clock.advance(10)
    with pytest.raises(KeySetUnavailableError):
        cache.get_key(URL, "k2")
    fetcher.fail = False
    fetcher.document = jwks(K1, K2)
    clock.advance(10)
    assert cache.get_key(URL, "k2").kid == "k2"
    clock.advance(10)
    with pytest.raises(UnknownKeyError):
        cache.get_key(URL, "nope")


def test_preloaded_keys_with_a_failing_endpoint_make_an_unknown_kid_unavailable() -> None:
    """AUTHZ_JWKS_JSON bundled keys: a kid outside them, with the endpoint down, is 500."""
    cache, fetcher, _ = make()
    cache.preload(URL, jwks(K1))
    fetcher.fail = True
    assert cache.get_key(URL, "k1").kid == "k1"
    with pytest.raises(KeySetUnavailableError):
        cache.get_key(URL, "k2")


def test_unusable_kid_stays_unknown_even_while_the_endpoint_is_down() -> None:
    """A kid the held set itself describes as unusable is a bad token, outage or not."""
    cache, fetcher, clock = make()
    cache.preload(URL, {"keys": [K1.jwk(use="enc"), K2.jwk()]})
    fetcher.fail = True
    clock.advance(10)
    with pytest.raises(KeySetUnavailableError):
        cache.get_key(URL, "other")
    with pytest.raises(UnknownKeyError, match="use is 'enc'"):
        cache.get_key(URL, "k1")


def test_concurrent_misses_share_one_fetch() -> None:
    """Many threads missing the same URL at once wait for a single fetch and all get the key."""
    started = threading.Event()
    release = threading.Event()
    calls: list[str] = []

    def slow_fetch(url: str) -> Mapping[str, Any]:
        calls.append(url)
        started.set()
        assert release.wait(5)
        return jwks(K1)

    cache = JwksCache(fetcher=slow_fetch, clock=FakeClock())
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(cache.get_key(URL, "k1").kid)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    assert started.wait(5)
    release.set()
    for t in threads:
        t.join(5)
    assert errors == []
    assert results == ["k1"] * 8
    assert calls == [URL]


def test_preload_needs_no_fetch_and_does_not_start_penalty() -> None:
    """Preloaded keys resolve without fetching; the first unknown kid may still refetch."""
    cache, fetcher, _ = make(jwks(K1, K2))
    cache.preload(URL, jwks(K1))
    assert cache.get_key(URL, "k1").kid == "k1"
    assert fetcher.calls == []
    assert cache.get_key(URL, "k2").kid == "k2"
    assert fetcher.calls == [URL]


def test_from_document_preloads_every_url() -> None:
    """from_document installs the same key set for each URL given."""
    cache = JwksCache.from_document(jwks(K1), url=[URL, URL2], fetcher=RecordingFetcher())
    assert cache.get_key(URL, "k1").kid == cache.get_key(URL2, "k1").kid == "k1"


def test_known_but_unusable_kid_does_not_refetch() -> None:
    """A kid the set marks unusable is refused without a refetch."""
    cache, fetcher, _ = make()
    cache.preload(URL, {"keys": [K1.jwk(use="enc")]})
    with pytest.raises(UnknownKeyError, match="use is 'enc'"):
        cache.get_key(URL, "k1")
    assert fetcher.calls == []


def test_default_fetcher_is_http() -> None:
    """Without a fetcher the cache uses the stdlib HTTP fetcher."""
    assert isinstance(JwksCache()._fetch, HttpFetcher)


# --- parse_jwks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jwk", "reason"),
    [
        (K1.jwk(use="enc"), "use is 'enc'"),
        (K1.jwk(alg="RS512"), "alg is 'RS512'"),
        (K1.jwk(alg="HS256"), "alg is 'HS256'"),
        (K1.jwk(kty="EC"), "kty is 'EC'"),
        (K1.jwk(kty="oct", k="c2VjcmV0"), "kty is 'oct'"),
        (K1.jwk(key_ops=["encrypt"]), "key_ops"),
        (K1.jwk(d="AQAB"), "private key"),
        (K1.jwk(n=None), "n and e"),
        (K1.jwk(n=12345), "n and e"),
        (K1.jwk(n="!!!not base64!!!"), "not a valid RSA public key"),
        (KeyPair.generate("small", bits=1024).jwk(kid="k1"), "2048"),
    ],
    ids=[
        "use-enc",
        "alg-rs512",
        "alg-hs256",
        "kty-ec",
        "kty-oct",
        "key-ops",
        "private",
        "no-n",
        "int-n",
        "bad-n",
        "1024-bit",
    ],
)
def test_unsuitable_jwk_is_unusable(jwk: dict[str, Any], reason: str) -> None:
    """A JWK unfit for RS256 signature checks is listed as unusable with the reason."""
    key_set = parse_jwks({"keys": [jwk]})
    assert "k1" not in key_set.keys
    assert reason in key_set.unusable["k1"]


def test_one_bad_key_does_not_spoil_the_others() -> None:
    """A malformed key only disables its own kid."""
    key_set = parse_jwks({"keys": [K1.jwk(n="@@"), K2.jwk(), "junk", {"kty": "RSA"}]})
    assert set(key_set.keys) == {"k2"}
    assert set(key_set.unusable) == {"k1"}


def test_duplicate_kid_is_unusable() -> None:
    """Two keys under one kid make that kid unusable instead of picking one."""
    key_set = parse_jwks({"keys": [K1.jwk(), K2.jwk(kid="k1")]})
    assert key_set.keys == {}
    assert "more than one" in key_set.unusable["k1"]


@pytest.mark.parametrize("document", [{}, {"keys": {}}, {"keys": "x"}, [], "x"])
def test_malformed_document_is_jwks_error(document: Any) -> None:
    """A document that is not {"keys": [...]} is a JwksError."""
    with pytest.raises(JwksError):
        parse_jwks(document)
