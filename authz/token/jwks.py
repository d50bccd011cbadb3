"""The JWKS cache: signing keys by JWKS URL and ``kid``, prepared once.

Each JWK is turned into a python-jose key once (``jose.jwk.construct``) and
reused; verification calls the ``cryptography`` public key python-jose
wraps, which skips python-jose's per-call checks (see ``SigningKey.verify``).

Rules, after aws-jwt-verify's ``SimpleJwksCache`` and ``SimplePenaltyBox``:

- A key is chosen strictly by ``kid``; a JWKS with two keys under one kid
  makes that kid unusable rather than picking one.
- A JWK is usable only as an RS256 signing key: ``kty`` RSA, ``use`` ``sig``
  when present, ``alg`` RS256 when present, at least 2048 bits.
- A miss (unknown kid, or no key set yet) fetches the set at most once per
  URL per ``penalty_seconds``; concurrent misses wait for that one fetch.
- A failed fetch keeps the keys already held, so known kids keep verifying
  while the endpoint is down or slow.
- A kid that no held key has is ``UnknownKeyError`` (401) only when the last
  fetch succeeded. When it failed (now, or last time and the penalty box
  forbids another try yet), the kid may well be a newly rotated key:
  ``KeySetUnavailableError`` (500), never a 401 that signs users out.
- Only the URLs the caller passes (from ``Settings``) are ever fetched; no
  token header can name a key source.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256

from authz.errors import JwksError, KeySetUnavailableError, UnknownKeyError
from authz.token.fetch import Fetcher, HttpFetcher

__all__ = ["JwksCache", "KeySet", "SigningKey", "parse_jwks"]

MIN_RSA_BITS = 2048
# Stateless, so one of each serves every verification.
_PKCS1 = padding.PKCS1v15()
_SHA256 = SHA256()


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One prepared RS256 verification key."""

    kid: str
    jose_key: Any  # what ``jose.jwk.construct`` returned: an RS256 public key
    public_key: rsa.RSAPublicKey  # the ``cryptography`` key python-jose built and wraps

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        """RSASSA-PKCS1-v1_5 with SHA-256 over the JWS signing input.

        Through the ``cryptography`` key itself: python-jose's ``verify``
        checks the key's kind and builds a padding and a hash object on every
        call, work that a new token would pay for beside the RSA operation.
        """
        try:
            self.public_key.verify(signature, signing_input, _PKCS1, _SHA256)
        except (InvalidSignature, ValueError):  # malformed is as bad as wrong
            return False
        return True


@dataclass(frozen=True, slots=True)
class KeySet:
    """A parsed JWKS: usable keys by kid, and why the other kids are unusable."""

    keys: Mapping[str, SigningKey] = field(default_factory=dict)
    unusable: Mapping[str, str] = field(default_factory=dict)


def parse_jwks(document: Mapping[str, Any]) -> KeySet:
    """Prepare every usable key of a JWKS document; note why the rest are not.

    A malformed document (not ``{"keys": [...]}``) raises ``JwksError``; a
    malformed or unsuitable single key only makes its own kid unusable, so
    one odd key cannot take the others down.
    """
    raw_keys = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(raw_keys, list):
        raise JwksError('a JWKS document must be {"keys": [...]}')
    seen: dict[str, int] = {}
    for jwk in raw_keys:
        if isinstance(jwk, Mapping) and isinstance(jwk.get("kid"), str):
            seen[jwk["kid"]] = seen.get(jwk["kid"], 0) + 1
    keys: dict[str, SigningKey] = {}
    unusable: dict[str, str] = {}
    for jwk in raw_keys:
        if not isinstance(jwk, Mapping) or not isinstance(jwk.get("kid"), str):
            continue  # without a kid a key can never be selected
        kid: str = jwk["kid"]
        if seen[kid] > 1:
            unusable[kid] = "the key set holds more than one key with this kid"
            continue
        reason = _unsuitable(jwk)
        if reason is None:
            try:
                keys[kid] = _prepare(kid, jwk)
            except Exception as exc:  # any parse failure only disables this kid
                reason = f"not a valid RSA public key ({type(exc).__name__}: {exc})"
        if reason is not None:
            unusable[kid] = reason
    return KeySet(keys, unusable)


def _unsuitable(jwk: Mapping[str, Any]) -> str | None:
    """Why ``jwk`` cannot be an RS256 verification key (the first rule it breaks), or None."""
    key_ops = jwk.get("key_ops", ["verify"])
    rules = (
        (jwk.get("kty") != "RSA", f"kty is {jwk.get('kty')!r}, not 'RSA'"),
        (jwk.get("use", "sig") != "sig", f"use is {jwk.get('use')!r}, not 'sig'"),
        (jwk.get("alg", "RS256") != "RS256", f"alg is {jwk.get('alg')!r}, not the token's 'RS256'"),
        (
            not isinstance(key_ops, list) or "verify" not in key_ops,
            "key_ops does not allow 'verify'",
        ),
        ("d" in jwk, "a private key was published in the key set"),
        (
            not isinstance(jwk.get("n"), str) or not isinstance(jwk.get("e"), str),
            "n and e must be base64url strings",
        ),
    )
    return next((message for broken, message in rules if broken), None)


def _prepare(kid: str, jwk: Mapping[str, Any]) -> SigningKey:
    # python-jose stays the library that turns a JWK into a key (project rule).
    # Imported here: a cold start that never needs a key never pays for it.
    from jose import jwk as jose_jwk  # noqa: PLC0415

    jose_key = jose_jwk.construct(dict(jwk), "RS256")
    if not jose_key.is_public():
        raise TypeError("python-jose did not build a public key")
    built = jose_key.to_dict()
    if built.get("kty") != "RSA":
        raise TypeError("python-jose did not build an RSA key")
    public = getattr(jose_key, "prepared_key", None)
    if not isinstance(public, rsa.RSAPublicKey):
        raise TypeError("python-jose did not build a cryptography RSA public key")
    bits = _modulus_bits(built["n"])
    if bits < MIN_RSA_BITS:
        raise ValueError(f"{bits}-bit modulus; at least {MIN_RSA_BITS} required")
    return SigningKey(kid, jose_key, public)


def _modulus_bits(n: str) -> int:
    """Bits of an RSA modulus given as base64url (as a JWK's ``n`` holds it)."""
    raw = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    return int.from_bytes(raw, "big").bit_length()


class _UrlKeys:
    """Per-URL state: the current key set, the last fetch attempt and how it failed
    (None: it succeeded, or none yet), and the fetch lock."""

    __slots__ = ("failure", "key_set", "last_attempt", "lock")

    def __init__(self) -> None:
        self.key_set: KeySet | None = None
        self.last_attempt: float | None = None
        self.failure: JwksError | None = None
        self.lock = threading.Lock()


class JwksCache:
    """Signing keys per JWKS URL, with a penalty box on refetches.

    ``fetcher`` and ``clock`` (monotonic seconds) are seams for tests.
    ``penalty_seconds`` is the least time between two fetches of one URL.
    """

    def __init__(
        self,
        *,
        fetcher: Fetcher | None = None,
        clock: Callable[[], float] = time.monotonic,
        penalty_seconds: float = 10.0,
    ) -> None:
        self._fetch = fetcher if fetcher is not None else HttpFetcher()
        self._clock = clock
        self.penalty_seconds = penalty_seconds
        self._entries: dict[str, _UrlKeys] = {}
        self._entries_lock = threading.Lock()

    @classmethod
    def from_document(
        cls, document: Mapping[str, Any], *, url: str | list[str], **kwargs: Any
    ) -> JwksCache:
        """A cache preloaded with ``document`` for ``url`` (one or several)."""
        cache = cls(**kwargs)
        for u in [url] if isinstance(url, str) else url:
            cache.preload(u, document)
        return cache

    def preload(self, url: str, document: Mapping[str, Any]) -> None:
        """Install a key set for ``url`` without fetching (e.g. ``AUTHZ_JWKS_JSON``).

        A later miss may still refetch; preloading does not start the penalty box.
        """
        key_set = parse_jwks(document)
        entry = self._entry(url)
        with entry.lock:
            entry.key_set = key_set

    def get_key(self, url: str, kid: str) -> SigningKey:
        """The usable key for ``kid`` at ``url``, fetching at most once per penalty window."""
        entry = self._entries.get(url)
        if entry is not None and entry.key_set is not None:
            key = entry.key_set.keys.get(kid)
            if key is not None:
                return key  # the hot path: no lock, no I/O
            reason = entry.key_set.unusable.get(kid)
            if reason is not None:
                # A refetch would not change a key the set itself describes.
                raise UnknownKeyError(f"key {kid!r} is not usable: {reason}")
        return self._refresh_and_get(self._entry(url), url, kid)

    def key_set(self, url: str) -> KeySet | None:
        """The key set currently held for ``url`` (None before the first success)."""
        entry = self._entries.get(url)
        return entry.key_set if entry is not None else None

    def _entry(self, url: str) -> _UrlKeys:
        entry = self._entries.get(url)
        if entry is None:
            with self._entries_lock:
                entry = self._entries.setdefault(url, _UrlKeys())
        return entry

    def _refresh_and_get(self, entry: _UrlKeys, url: str, kid: str) -> SigningKey:
        # Holding the lock across the fetch is the point: a burst of misses
        # for one URL queues behind a single request, then finds either the
        # fresh set or a closed penalty box.
        with entry.lock:
            if entry.key_set is None or kid not in entry.key_set.keys:
                now = self._clock()
                boxed = (
                    entry.last_attempt is not None
                    and now - entry.last_attempt < self.penalty_seconds
                )
                if not boxed:
                    entry.last_attempt = now
                    self._fetch_into(entry, url)
            key_set, failure = entry.key_set, entry.failure
        key = key_set.keys.get(kid) if key_set is not None else None
        if key is not None:
            return key
        reason = key_set.unusable.get(kid) if key_set is not None else None
        if reason is not None:
            raise UnknownKeyError(f"key {kid!r} is not usable: {reason}")
        if failure is not None:
            raise KeySetUnavailableError(
                f"no held key has kid {kid!r} and the key set of {url} is unavailable: {failure}"
            ) from failure
        raise UnknownKeyError(f"no key {kid!r} in the key set of {url}")

    def _fetch_into(self, entry: _UrlKeys, url: str) -> None:
        """One fetch: a new key set, or the failure kept beside the old set."""
        try:
            key_set = parse_jwks(self._fetch(url))
        except JwksError as exc:
            entry.failure = exc
        except Exception as exc:  # the I/O edge: map, fail closed
            entry.failure = JwksError(f"fetching {url} failed: {type(exc).__name__}: {exc}")
            entry.failure.__cause__ = exc
        else:
            entry.key_set, entry.failure = key_set, None
