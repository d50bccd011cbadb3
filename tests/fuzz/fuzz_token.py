"""Fuzz target ``token``: ``Verifier.verify`` either returns a Principal for a
token that satisfies every rule, or raises a ``TokenError``. Nothing else.

The first input byte picks a mode:

0. raw text (any code point) as the token;
1. byte-level edits (flip, insert, delete, truncate, splice) of a valid token:
   an edited token must never verify unless it decodes to the original;
2. the header as JSON, mutated structurally, re-signed with the real key;
3. the claims, mutated structurally with claim-aware values, re-signed;
4. raw header / payload bytes (duplicate keys, NaN, BOMs, bad UTF-8), signed;
5. signature attacks: ``none``, HS256 keyed with the public key, ES256/PS256,
   another key under the same kid, truncated or padded signatures.

Every accepted token goes through :func:`oracle`, an independent check written
with the standard library and ``cryptography`` only. Two verifiers run each
token: access tokens, and any token_use with leeway.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from atheris import FuzzedDataProvider
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.hashes import SHA256

from authz.errors import TokenError
from authz.token import JwksCache, Principal, Verifier
from tests.fuzz.common import (
    NOW,
    Vocabulary,
    deterministic_rsa_key,
    fail,
    mutations,
    pick,
)
from tests.tokens import (
    CLIENT_ID,
    ISSUER,
    KeyPair,
    access_claims,
    client_credentials_claims,
    id_claims,
    jwks,
    mint,
    mint_raw,
    settings_for,
)

__all__ = ["POOL_ISSUERS", "check", "oracle", "seeds", "state"]

KID = "fuzz-key-1"
# Cognito signs with either spelling of the pool's issuer (the multi-region
# format adds "issuer-" to the host), byte for byte; nothing else is the pool.
POOL_ISSUERS = frozenset(
    {ISSUER, ISSUER.replace("https://cognito-idp.", "https://issuer-cognito-idp.", 1)}
)
OTHER_CLIENT = "otherclient0123456789abcd"
_FIXED_IDS: dict[str, Any] = {
    "jti": "fuzz-jti",
    "origin_jti": "fuzz-origin",
    "event_id": "fuzz-event",
}


class _State:
    """Keys, verifiers and valid tokens, built once per process."""

    def __init__(self) -> None:
        self.key = KeyPair(KID, deterministic_rsa_key(1))
        # Same kid, another key: its signatures must never verify.
        self.impostor = KeyPair(KID, deterministic_rsa_key(2))
        # A second usable kid and a kid the key set marks unusable (use: enc).
        self.second = KeyPair("fuzz-key-2", deterministic_rsa_key(3))
        document = jwks(self.key, self.second)
        document["keys"].append(self.key.jwk(kid="fuzz-enc", use="enc"))
        self.keys = {KID: self.key, self.second.kid: self.second}

        def verifier(**settings: Any) -> Verifier:
            cfg = settings_for(**settings)
            cache = JwksCache(fetcher=_endpoint(document))
            for url in set(cfg.jwks_urls.values()):
                cache.preload(url, document)
            return Verifier(cfg, jwks=cache, clock=lambda: float(NOW))

        self.access = verifier()
        both = f"{CLIENT_ID},{OTHER_CLIENT}"
        self.lenient = verifier(token_use="any", leeway=30, client_ids=both)
        now = NOW - 60
        self.claims: tuple[dict[str, Any], ...] = (
            access_claims(groups=["readers", "admins"], now=now, **_FIXED_IDS),
            client_credentials_claims(now=now, jti="fuzz-jti"),
            id_claims(groups=["users"], now=now, **_FIXED_IDS),
            access_claims(now=now, ttl=120, **_FIXED_IDS),
        )
        self.tokens = tuple(mint(c, self.key) for c in self.claims)
        self.vocab = Vocabulary(
            keys=(
                "iss",
                "sub",
                "exp",
                "iat",
                "nbf",
                "auth_time",
                "token_use",
                "client_id",
                "aud",
                "username",
                "cognito:username",
                "cognito:groups",
                "scope",
                "kid",
                "alg",
                "crit",
                "typ",
                "jku",
                "x5u",
                "jwk",
                "b64",
            ),
            strings=(
                ISSUER,
                ISSUER + "/",
                ISSUER.upper(),
                ISSUER.replace("https", "http"),
                ISSUER.replace("cognito-idp", "issuer-cognito-idp"),
                ISSUER + "\x00",
                "access",
                "id",
                "Access",
                "refresh",
                CLIENT_ID,
                OTHER_CLIENT,
                CLIENT_ID.upper(),
                "*",
                KID,
                "fuzz-key-2",
                "fuzz-enc",
                "unknown-kid",
                "RS256",
                "rs256",
                "RS384",
                "PS256",
                "HS256",
                "none",
                "ES256",
                "readers admins",
                "openid email",
            ),
            values=(
                NOW,
                NOW - 1,
                NOW + 1,
                NOW + 29,
                NOW + 31,
                NOW - 30,
                NOW - 31,
                NOW + 0.5,
                NOW - 0.5,
                float(NOW),
                str(NOW + 3600),
                True,
                2**53,
                2**53 + 1,
                -(2**63),
                10**400,
                math.nan,
                math.inf,
                ["readers"],
                [CLIENT_ID],
                [1, 2],
                ["crit"],
                {"alg": "RS256"},
            ),
        )


def _endpoint(document: Mapping[str, Any]) -> Callable[[str], Mapping[str, Any]]:
    """A JWKS endpoint that is up and serves ``document`` (no network): an unknown kid
    is then a bad token (401); an unreachable one would make it a documented 500."""
    return lambda url: document


@lru_cache(maxsize=1)
def state() -> _State:
    return _State()


# -- the oracle ---------------------------------------------------------------------


def _b64(segment: str) -> bytes:
    """Independent strict base64url: the alphabet, and the one canonical spelling."""
    if not segment or any(c not in _B64_ALPHABET for c in segment):
        fail("accepted a token with a segment outside base64url", segment=segment)
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != segment:
        fail("accepted a non-canonical base64url segment", segment=segment)
    return raw


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _strict_object(raw: bytes, what: str) -> dict[str, Any]:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in items}) != len(items):
            fail(f"accepted a token whose {what} repeats a key", raw=raw)
        return dict(items)

    def constant(name: str) -> Any:
        fail(f"accepted a token whose {what} holds {name}", raw=raw)

    value = json.loads(raw.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)
    if not isinstance(value, dict):
        fail(f"accepted a token whose {what} is not an object", raw=raw)
    return value


def _number(payload: Mapping[str, Any], name: str) -> float | None:
    if name not in payload:
        return None
    value = payload[name]
    if type(value) not in (int, float) or not math.isfinite(value):
        fail(f"accepted a token whose {name} is not a number", value=value)
    return float(value)


def oracle(token: str, principal: Principal, verifier: Verifier) -> None:  # noqa: C901, PLR0912  # the oracle restates each claim rule independently, in order
    """Fail unless ``token`` really satisfies every rule ``verifier`` enforces."""
    rules = verifier.rules
    parts = token.split(".")
    if len(parts) != 3:
        fail("accepted a token without exactly three segments", token=token)
    header = _strict_object(_b64(parts[0]), "header")
    payload = _strict_object(_b64(parts[1]), "payload")
    signature = _b64(parts[2])
    if header.get("alg") != "RS256" or "crit" in header:
        fail("accepted a header that is not plain RS256", header=header)
    key = state().keys.get(header.get("kid"))  # type: ignore[arg-type]
    if key is None:
        fail("accepted a kid without a usable key", header=header)
    try:
        key.public_key.verify(
            signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), SHA256()
        )
    except InvalidSignature:
        fail("accepted a signature that does not verify", token=token)
    now = float(NOW)
    if payload.get("iss") not in POOL_ISSUERS or payload.get("iss") not in rules.issuers:
        fail("accepted a foreign issuer", iss=payload.get("iss"))
    use = payload.get("token_use")
    if use not in (("access", "id") if rules.token_use == "any" else (rules.token_use,)):
        fail("accepted the wrong token_use", token_use=use, rules=rules)
    client = payload.get("client_id" if use == "access" else "aud")
    if not isinstance(client, str) or not client:
        fail("accepted a token without its app client", payload=payload)
    if rules.client_ids is not None and client not in rules.client_ids:
        fail("accepted an app client that is not allowed", client=client)
    exp = _number(payload, "exp")
    if exp is None or not now < exp + rules.leeway:
        fail("accepted an expired token (or one without exp)", exp=exp, now=now)
    for name in ("nbf", "iat"):
        value = _number(payload, name)
        if value is not None and value > now + rules.leeway:
            fail(f"accepted a token whose {name} is in the future", value=value, now=now)
    sub = payload.get("sub")
    if not isinstance(sub, str) or not sub:
        fail("accepted a token without a sub", payload=payload)
    expected = (
        sub,
        client,
        use,
        tuple(payload.get("cognito:groups", [])),
        tuple(str(payload.get("scope", "")).split()),
    )
    got = (
        principal.sub,
        principal.client_id,
        principal.token_use,
        principal.groups,
        principal.scopes,
    )
    if got != expected or principal.expires_at > exp:
        fail("the principal does not match the token", got=got, expected=expected)


# -- the target ---------------------------------------------------------------------


def _verify_all(token: str) -> None:
    s = state()
    for verifier in (s.access, s.lenient):
        try:
            principal = verifier.verify(token)
        except TokenError as exc:
            str(exc)  # the message must render (it reaches logs)
            continue
        oracle(token, principal, verifier)


def _decoded(token: str) -> tuple[bytes, ...] | None:
    """The three segments decoded leniently (None when that is impossible)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        return tuple(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)) for p in parts)
    except (binascii.Error, ValueError):
        return None


def _edited(fdp: FuzzedDataProvider, token: str) -> str:
    text = token
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        at = fdp.ConsumeIntInRange(0, max(0, len(text) - 1))
        op = fdp.ConsumeIntInRange(0, 5)
        if op == 0 and text:
            flipped = chr(ord(text[at]) ^ (1 << fdp.ConsumeIntInRange(0, 6)))
            text = text[:at] + flipped + text[at + 1 :]
        elif op == 1:
            text = text[:at] + chr(fdp.ConsumeIntInRange(0, 127)) + text[at:]
        elif op == 2:
            text = text[:at] + text[at + 1 :]
        elif op == 3:
            text = text[:at]
        elif op == 4:
            # Splice a segment of another valid token in (header, claims or signature).
            other = pick(fdp, state().tokens).split(".")
            parts = text.split(".")
            i = fdp.ConsumeIntInRange(0, 2)
            if i < len(parts):
                parts[i] = other[i]
            text = ".".join(parts)
        else:
            text = text[:at] + pick(fdp, ("=", "+", "/", ".", " ", "==", "\n")) + text[at:]
    return text


def _flips(fdp: FuzzedDataProvider) -> None:
    original = pick(fdp, state().tokens)
    token = _edited(fdp, original)
    s = state()
    for verifier in (s.access, s.lenient):
        try:
            verifier.verify(token)
        except TokenError:
            continue
        # Splicing whole segments can rebuild another valid token; anything else
        # that verifies must decode to exactly a token that was signed.
        if _decoded(token) not in {_decoded(t) for t in s.tokens}:
            fail("an edited token verified", original=original, edited=token)
    _verify_all(token)


def _resigned_header(fdp: FuzzedDataProvider) -> None:
    s = state()
    header = mutations(fdp, {"kid": KID, "alg": "RS256", "typ": "JWT"}, s.vocab, 3)
    claims = pick(fdp, s.claims)
    raw = json.dumps(header).encode()
    _verify_all(mint_raw(raw, claims, s.key))


def _resigned_claims(fdp: FuzzedDataProvider) -> None:
    s = state()
    claims = mutations(fdp, pick(fdp, s.claims), s.vocab, 5)
    key = s.key if fdp.ConsumeIntInRange(0, 7) else s.second
    payload = json.dumps(claims).encode("utf-8", "surrogatepass")
    _verify_all(mint_raw({"kid": key.kid, "alg": "RS256"}, payload, key))


def _raw_segments(fdp: FuzzedDataProvider) -> None:
    s = state()
    header: bytes | dict[str, Any] = {"kid": KID, "alg": "RS256"}
    if fdp.ConsumeBool():
        header = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64))
    payload = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 512))
    if fdp.ConsumeBool():
        # Valid claims with a raw tail or head: duplicate keys, NaN, BOM, bad UTF-8.
        base = json.dumps(pick(fdp, s.claims)).encode()
        payload = base[:-1] + payload + b"}" if fdp.ConsumeBool() else payload + base
    _verify_all(mint_raw(header, payload, s.key))


def _signature_attacks(fdp: FuzzedDataProvider) -> None:
    s = state()
    claims = pick(fdp, s.claims)
    attack = fdp.ConsumeIntInRange(0, 7)
    if attack == 0:
        token = mint(claims, s.key, alg=pick(fdp, ("none", "None", "NONE")))
    elif attack == 1:
        token = mint(claims, s.key, alg="HS256", hmac_key=s.key.public_pem())
    elif attack == 2:
        token = mint(claims, s.key, alg=pick(fdp, ("ES256", "PS256", "RS384", "RS512")))
    elif attack == 3:
        token = mint(claims, s.impostor)
    elif attack == 4:
        token = mint(claims, s.key, headers={"alg": "RS256"}, alg=pick(fdp, ("PS256", "RS512")))
    else:
        head, _, sig = mint(claims, s.key).rpartition(".")
        cut = fdp.ConsumeIntInRange(0, len(sig))
        tail = fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 8)) if attack == 6 else ""
        token = f"{head}.{sig[:cut]}{tail}" if attack != 7 else f"{head}."
    _verify_all(token)


def _raw_text(data: bytes) -> None:
    # surrogateescape: bytes that are not UTF-8 become lone surrogates, which
    # is what a JSON event's "\udcff" escapes deliver too.
    _verify_all(data.decode("utf-8", "surrogateescape"))


_MODES = (_flips, _resigned_header, _resigned_claims, _raw_segments, _signature_attacks)


def check(data: bytes) -> None:
    """One fuzz input (first byte: the mode); raises only for a finding."""
    if not data:
        return
    mode = data[0] % (len(_MODES) + 1)
    if mode == 0:
        _raw_text(data[1:])
    else:
        _MODES[mode - 1](FuzzedDataProvider(data[1:]))


def seeds() -> list[bytes]:
    """Starting inputs: each mode once, and the valid tokens as raw text."""
    out = [bytes([i]) + bytes(range(32)) for i in range(len(_MODES) + 1)]
    out += [b"\x00" + t.encode() for t in state().tokens]
    return out
