"""Token verification speed, as a ratio to one raw RSA verification.

Measured in the same run, interleaved, best of several rounds:

- raw: ``public_key.verify(sig, signing_input, PKCS1v15(), SHA256())`` over
  the same signing inputs (the floor: no parsing, no claims);
- new token: ``Verifier.verify`` (every call decomposes, selects the key,
  verifies the signature and checks claims; the verifier keeps no token
  cache: a repeated token is the authorizer's memo, ``bench/authorizer.py``);
- python-jose ``jwt.decode`` with a prepared key, for reference.

Target: new token <= 3x raw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256

from authz.token import JwksCache, Verifier
from authz.token.jwt import decode
from tests.tokens import JWKS_URL, KeyPair, access_claims, jwks, mint, settings_for

TOKENS = 400
BATCH = 50
ROUNDS = 60


def run() -> list[dict[str, Any]]:
    key = KeyPair.generate("bench-key")
    tokens = [
        mint(access_claims(groups=["admins", "readers"], sub=f"user-{i}", ttl=86_400), key)
        for i in range(TOKENS)
    ]
    parts = [decode(t) for t in tokens]
    public = key.public_key
    verifier = Verifier(settings_for(), jwks=JwksCache.from_document(jwks(key), url=JWKS_URL))
    verifier.verify(tokens[0])  # warm the key set

    batches = [range(i, i + BATCH) for i in range(0, TOKENS, BATCH)]

    def timed(fn: Callable[[range], None], batch: range) -> float:
        started = time.perf_counter()
        fn(batch)
        return (time.perf_counter() - started) / len(batch) * 1e6

    def raw(batch: range) -> None:
        for i in batch:
            d = parts[i]
            public.verify(d.signature, d.signing_input, PKCS1v15(), SHA256())

    def new(batch: range) -> None:
        for i in batch:
            verifier.verify(tokens[i])

    from jose import jwk as jose_jwk
    from jose import jwt as jose_jwt

    jose_key = jose_jwk.construct(key.jwk(), "RS256")

    def jose_decode(batch: range) -> None:
        for i in batch:
            jose_jwt.decode(
                tokens[i], jose_key, algorithms=["RS256"], options={"verify_aud": False}
            )

    times: dict[str, list[float]] = {"raw": [], "new": [], "jose": []}
    # Many short interleaved batches, best of each: on a shared machine a
    # neighbour's CPU burst spoils a few batches of every kind alike.
    for round_no in range(ROUNDS):
        batch = batches[round_no % len(batches)]
        times["raw"].append(timed(raw, batch))
        times["new"].append(timed(new, batch))
        times["jose"].append(timed(jose_decode, batch))
    raw_us, new_us, jose_us = (min(times[k]) for k in ("raw", "new", "jose"))
    return [
        {"name": "raw RSA verify (cryptography)", "value": raw_us, "unit": "µs", "target": ""},
        {"name": "verify new token", "value": new_us, "unit": "µs", "target": ""},
        {"name": "verify new token / raw", "value": new_us / raw_us, "unit": "x", "target": "<= 3"},
        {
            "name": "python-jose jwt.decode (reference)",
            "value": jose_us,
            "unit": "µs",
            "target": "",
        },
        {
            "name": "python-jose jwt.decode / raw",
            "value": jose_us / raw_us,
            "unit": "x",
            "target": "",
        },
    ]


def main() -> None:
    rows = run()
    width = max(len(r["name"]) for r in rows)
    print(f"{'name'.ljust(width)}  {'value':>9}  unit  target")
    for r in rows:
        print(f"{r['name'].ljust(width)}  {r['value']:9.3f}  {r['unit']:<4}  {r['target']}")


if __name__ == "__main__":
    main()
