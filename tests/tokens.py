"""Mint RSA keys, JWKS documents and Cognito-shaped JWTs for tests (no network).

Tokens are assembled by hand (not with python-jose) so tests can build the
hostile ones a library would refuse to produce: ``alg: none``, HS256 keyed
with the public key, duplicate JSON keys, odd headers, broken segments.

Typical use::

    key = KeyPair.generate("k1")
    token = mint(access_claims(ISSUER, CLIENT_ID, "alice", groups=["admins"]), key)
    principal = local_verifier(key).verify(token)          # no network, ever
    # or, spelled out:
    verifier = Verifier(settings_for(), jwks=JwksCache.from_document(jwks(key), url=JWKS_URL,
                                                                     fetcher=RecordingFetcher()))

RSA key generation is slow (tens of ms), so generated keys are cached per
``(kid, bits)`` for the whole test session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

__all__ = [
    "CLIENT_ID",
    "ISSUER",
    "JWKS_URL",
    "POOL_ID",
    "REGION",
    "FakeClock",
    "KeyPair",
    "RecordingFetcher",
    "access_claims",
    "b64url",
    "client_credentials_claims",
    "id_claims",
    "jwks",
    "local_verifier",
    "mint",
    "mint_raw",
    "settings_for",
]

REGION = "us-east-1"
POOL_ID = "us-east-1_TestPool1"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL_ID}"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"
CLIENT_ID = "testclient0123456789abcdef"

_KEYS: dict[tuple[str, int], KeyPair] = {}
_EC_KEY: list[ec.EllipticCurvePrivateKey] = []


def b64url(data: bytes) -> str:
    """Unpadded base64url, as JWS compact serialization uses."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class KeyPair:
    """An RSA signing key with its kid."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str = "test-key-1", bits: int = 2048) -> KeyPair:
        """The session-cached key for ``kid`` (generated on first use)."""
        cached = _KEYS.get((kid, bits))
        if cached is None:
            private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
            cached = _KEYS[(kid, bits)] = cls(kid, private)
        return cached

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def jwk(self, **overrides: Any) -> dict[str, Any]:
        """The public JWK as Cognito publishes it; an override of ``None`` drops the member."""
        numbers = self.public_key.public_numbers()
        out: dict[str, Any] = {
            "alg": "RS256",
            "e": _int_b64(numbers.e),
            "kid": self.kid,
            "kty": "RSA",
            "n": _int_b64(numbers.n),
            "use": "sig",
        }
        for name, value in overrides.items():
            if value is None:
                out.pop(name, None)
            else:
                out[name] = value
        return out

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, signing_input: bytes, alg: str = "RS256") -> bytes:
        """Sign with this key using ``alg`` (RS*/PS*); other algs are :func:`mint`'s job."""
        digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
        if alg.startswith("RS"):
            return self.private_key.sign(signing_input, padding.PKCS1v15(), digest)
        if alg.startswith("PS"):
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            return self.private_key.sign(signing_input, pss, digest)
        raise ValueError(f"KeyPair.sign cannot do {alg}")


def jwks(*keypairs: KeyPair, **overrides: Any) -> dict[str, Any]:
    """A JWKS document holding the public JWKs of ``keypairs`` (overrides apply to each)."""
    return {"keys": [k.jwk(**overrides) for k in keypairs]}


def _signature(
    signing_input: bytes, key: KeyPair | None, alg: str, hmac_key: bytes | None
) -> bytes:
    if alg.lower() == "none":
        return b""
    if alg.startswith("HS"):
        if hmac_key is None:
            raise ValueError("HS* tokens need hmac_key (e.g. key.public_pem())")
        digest = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}[alg[2:]]
        return hmac.new(hmac_key, signing_input, digest).digest()
    if alg == "ES256":
        if not _EC_KEY:
            _EC_KEY.append(ec.generate_private_key(ec.SECP256R1()))
        r, s = decode_dss_signature(_EC_KEY[0].sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if key is None:
        raise ValueError(f"{alg} tokens need a KeyPair")
    return key.sign(signing_input, alg)


def mint_raw(
    header: bytes | Mapping[str, Any],
    payload: bytes | Mapping[str, Any],
    key: KeyPair | None,
    *,
    alg: str = "RS256",
    hmac_key: bytes | None = None,
) -> str:
    """A compact JWS from raw header/payload JSON bytes (or dicts), signed per ``alg``."""
    h = header if isinstance(header, bytes) else json.dumps(dict(header)).encode()
    p = payload if isinstance(payload, bytes) else json.dumps(dict(payload)).encode()
    signing_input = f"{b64url(h)}.{b64url(p)}".encode("ascii")
    sig = _signature(signing_input, key, alg, hmac_key)
    return f"{signing_input.decode('ascii')}.{b64url(sig)}"


def mint(
    claims: Mapping[str, Any],
    key: KeyPair | None,
    *,
    headers: Mapping[str, Any] | None = None,
    alg: str = "RS256",
    hmac_key: bytes | None = None,
) -> str:
    """A signed token: header ``{"kid": key.kid, "alg": alg}`` updated by ``headers``.

    A header value of ``None`` removes that member (e.g. ``headers={"kid": None}``).
    The signature follows ``alg``: RS*/PS* with ``key``, HS* with ``hmac_key``,
    ES256 with a throwaway EC key, ``none`` (any case) with an empty signature.
    """
    header: dict[str, Any] = {"kid": key.kid if key is not None else "no-key", "alg": alg}
    for name, value in (headers or {}).items():
        if value is None:
            header.pop(name, None)
        else:
            header[name] = value
    return mint_raw(header, claims, key, alg=alg, hmac_key=hmac_key)


def _base_claims(issuer: str, now: int | None, ttl: int) -> dict[str, Any]:
    issued = int(time.time()) if now is None else now
    return {
        "iss": issuer,
        "origin_jti": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
        "auth_time": issued,
        "iat": issued,
        "exp": issued + ttl,
        "jti": str(uuid.uuid4()),
    }


_SAME_AS_SUB: Any = object()


def access_claims(
    issuer: str = ISSUER,
    client_id: str = CLIENT_ID,
    sub: str = "11111111-2222-3333-4444-555555555555",
    *,
    groups: Iterable[str] = (),
    scopes: Iterable[str] = ("aws.cognito.signin.user.admin",),
    now: int | None = None,
    ttl: int = 3600,
    username: str | None = _SAME_AS_SUB,
    **extra: Any,
) -> dict[str, Any]:
    """Claims shaped like a Cognito user access token.

    ``cognito:groups`` and ``scope`` are omitted when empty, as Cognito does;
    ``username`` defaults to ``sub`` and ``None`` omits it. ``extra`` is merged
    last and verbatim, so a test can set any claim to any value (even ``None``).
    """
    claims: dict[str, Any] = {"sub": sub}
    groups = list(groups)
    if groups:
        claims["cognito:groups"] = groups
    claims.update(_base_claims(issuer, now, ttl))
    claims.update({"version": 2, "client_id": client_id, "token_use": "access"})
    scopes = list(scopes)
    if scopes:
        claims["scope"] = " ".join(scopes)
    if username is not None:
        claims["username"] = sub if username is _SAME_AS_SUB else username
    claims.update(extra)
    return claims


def id_claims(
    issuer: str = ISSUER,
    client_id: str = CLIENT_ID,
    sub: str = "11111111-2222-3333-4444-555555555555",
    *,
    groups: Iterable[str] = (),
    now: int | None = None,
    ttl: int = 3600,
    username: str | None = _SAME_AS_SUB,
    **extra: Any,
) -> dict[str, Any]:
    """Claims shaped like a Cognito ID token (``aud`` is the app client id)."""
    claims: dict[str, Any] = {"sub": sub}
    groups = list(groups)
    if groups:
        claims["cognito:groups"] = groups
    claims.update(_base_claims(issuer, now, ttl))
    claims.update({"aud": client_id, "token_use": "id", "email_verified": True})
    if username is not None:
        claims["cognito:username"] = sub if username is _SAME_AS_SUB else username
    claims.update(extra)
    return claims


def client_credentials_claims(
    issuer: str = ISSUER,
    client_id: str = CLIENT_ID,
    *,
    scopes: Iterable[str] = ("api/read",),
    now: int | None = None,
    ttl: int = 3600,
    **extra: Any,
) -> dict[str, Any]:
    """A machine-to-machine access token: ``sub`` is the client id; no username, no groups."""
    claims = access_claims(
        issuer, client_id, client_id, scopes=scopes, now=now, ttl=ttl, username=None, **extra
    )
    for name in ("origin_jti", "event_id", "auth_time"):
        claims.pop(name, None)
    return claims


def settings_for(
    *,
    pool_id: str = POOL_ID,
    client_ids: str = CLIENT_ID,
    token_use: str = "access",  # noqa: S107  # a claim value, not a password
    leeway: int = 0,
    jwks_url: str | None = None,
    jwks_json: Mapping[str, Any] | None = None,
    **env: str,
) -> Any:
    """``authz.settings.Settings`` for tests, built through ``from_env`` like production."""
    from authz.settings import Settings

    environ = {
        "AUTHZ_USER_POOL_ID": pool_id,
        "AUTHZ_CLIENT_IDS": client_ids,
        "AUTHZ_TOKEN_USE": token_use,
        "AUTHZ_LEEWAY_SECONDS": str(leeway),
        "AWS_REGION": pool_id.split("_", 1)[0],
        **env,
    }
    if jwks_url is not None:
        environ["AUTHZ_JWKS_URL"] = jwks_url
    if jwks_json is not None:
        environ["AUTHZ_JWKS_JSON"] = json.dumps(dict(jwks_json))
    return Settings.from_env(environ)


class FakeClock:
    """A settable clock: ``clock()`` returns ``now``; ``advance(s)`` moves it."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingFetcher:
    """A JWKS fetcher that records every URL asked for and never touches the network.

    It serves ``documents[url]`` (or ``document`` for any URL), or raises
    ``JwksError`` when ``fail`` is set or nothing is configured.
    """

    def __init__(
        self,
        document: Mapping[str, Any] | None = None,
        documents: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.document = document
        self.documents = dict(documents or {})
        self.calls: list[str] = []
        self.fail = False

    def __call__(self, url: str) -> Mapping[str, Any]:
        from authz.errors import JwksError

        self.calls.append(url)
        if self.fail:
            raise JwksError(f"fake outage fetching {url}")
        doc = self.documents.get(url, self.document)
        if doc is None:
            raise JwksError(f"no fake JWKS for {url}")
        return doc


def local_verifier(
    *keys: KeyPair,
    clock: Any = None,
    fetcher: RecordingFetcher | None = None,
    **settings: Any,
) -> Any:
    """A ``Verifier`` for :data:`ISSUER` holding ``keys`` (default: one generated key).

    Key misses go to ``fetcher`` (by default a :class:`RecordingFetcher` that
    serves the same keys: an endpoint that is up, so an unknown ``kid`` is a
    bad token rather than an outage), so no test can reach the network. ``settings`` go to
    :func:`settings_for`.
    """
    from authz.token import JwksCache, Verifier

    keys = keys or (KeyPair.generate(),)
    cache = JwksCache(fetcher=fetcher if fetcher is not None else RecordingFetcher(jwks(*keys)))
    cfg = settings_for(**settings)
    for url in set(cfg.jwks_urls.values()):
        cache.preload(url, jwks(*keys))
    kwargs: dict[str, Any] = {"jwks": cache}
    if clock is not None:
        kwargs["clock"] = clock
    return Verifier(cfg, **kwargs)
