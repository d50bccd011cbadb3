"""Properties: a token verifies iff every rule holds; no mutation or garbage ever verifies."""

from __future__ import annotations

from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from authz.errors import TokenError
from authz.token import Verifier
from tests.tokens import (
    CLIENT_ID,
    ISSUER,
    POOL_ID,
    FakeClock,
    KeyPair,
    RecordingFetcher,
    access_claims,
    jwks,
    local_verifier,
    mint,
)

KEY = KeyPair.generate("prop-key")
NOW = 1_700_000_000
MULTI = f"https://issuer-cognito-idp.us-east-1.amazonaws.com/{POOL_ID}"
GOOD_ISSUERS = {ISSUER, MULTI}
ISSUERS = [
    ISSUER,
    MULTI,
    "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other",
    f"https://cognito-idp.us-west-2.amazonaws.com/{POOL_ID}",
    f"http://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}",
    f"{ISSUER}/",
]
_VERIFIERS: dict[tuple[str, str, int], tuple[Verifier, FakeClock]] = {}


def verifier_for(token_use: str, client_ids: str, leeway: int) -> tuple[Verifier, FakeClock]:
    key = (token_use, client_ids, leeway)
    if key not in _VERIFIERS:
        clock = FakeClock(NOW)
        v = local_verifier(
            KEY,
            # A reachable endpoint serving the same keys: an unknown kid is then a bad
            # token (401), not an outage (500).
            fetcher=RecordingFetcher(jwks(KEY)),
            clock=clock,
            token_use=token_use,
            client_ids=client_ids,
            leeway=leeway,
        )
        _VERIFIERS[key] = (v, clock)
    return _VERIFIERS[key]


# Seconds relative to now: the leeway boundaries (0, 5, 60) exactly, or a
# spread leaning towards the valid side (iat in the past, exp in the future).
_EDGES = st.sampled_from([-61, -60, -59, -6, -5, -4, -1, 0, 1, 4, 5, 6, 59, 60, 61])
past = _EDGES | st.integers(-200, 10)
future = _EDGES | st.integers(-10, 200)


@given(
    # Good values are drawn more often so that both outcomes are well covered.
    issuer=st.sampled_from([ISSUER, MULTI, *ISSUERS]),
    client=st.sampled_from([CLIENT_ID, CLIENT_ID, "otherclient"]),
    token_use=st.sampled_from(["access", "id", "access", "id", "refresh", None]),
    configured_use=st.sampled_from(["access", "id", "any"]),
    configured_clients=st.sampled_from([CLIENT_ID, "*"]),
    leeway=st.sampled_from([0, 5, 60]),
    iat=past,
    exp=future,
    nbf=st.none() | past,
    now_frac=st.sampled_from([0.0, 0.25, 0.999]),
)
def test_verifies_iff_every_rule_holds(
    *,
    issuer: str,
    client: str,
    token_use: str | None,
    configured_use: str,
    configured_clients: str,
    leeway: int,
    iat: int,
    exp: int,
    nbf: int | None,
    now_frac: float,
) -> None:
    """Over issuers, clients, token uses and times, verify succeeds exactly when all rules hold."""
    verifier, clock = verifier_for(configured_use, configured_clients, leeway)
    now = NOW + now_frac
    clock.now = now
    claims: dict[str, Any] = access_claims(issuer, client, "user-1", now=NOW + iat)
    claims["exp"] = NOW + exp
    if nbf is not None:
        claims["nbf"] = NOW + nbf
    del claims["token_use"], claims["client_id"]
    if token_use is not None:
        claims["token_use"] = token_use
    claims["aud" if token_use == "id" else "client_id"] = client

    expected = (
        issuer in GOOD_ISSUERS
        and token_use in ("access", "id")
        and configured_use in ("any", token_use)
        and (configured_clients == "*" or client == CLIENT_ID)
        and now < NOW + exp + leeway
        and (nbf is None or NOW + nbf <= now + leeway)
        and NOW + iat <= now + leeway
    )
    event("verifies" if expected else "refused")
    token = mint(claims, KEY)
    try:
        principal = verifier.verify(token)
    except TokenError:
        assert not expected
    else:
        assert expected
        assert (principal.issuer, principal.client_id, principal.token_use) == (
            issuer,
            client,
            token_use,
        )


_VALID = mint(access_claims(now=NOW, groups=["admins"]), KEY)
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "


@given(position=st.integers(0, len(_VALID) - 1), char=st.sampled_from(_ALPHABET))
def test_no_single_character_change_verifies(position: int, char: str) -> None:
    """Changing any one character of a valid token makes it fail with a TokenError."""
    verifier, clock = verifier_for("access", CLIENT_ID, 0)
    clock.now = NOW
    assert verifier.verify(_VALID).sub
    mutated = _VALID[:position] + char + _VALID[position + 1 :]
    if mutated == _VALID:
        return
    try:
        verifier.verify(mutated)
    except TokenError:
        return
    raise AssertionError(f"mutated token verified: position {position} -> {char!r}")


@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_garbage_only_raises_token_errors(garbage: str) -> None:
    """Arbitrary strings are refused with a TokenError, never another exception."""
    verifier, _ = verifier_for("access", CLIENT_ID, 0)
    try:
        verifier.verify(garbage)
    except TokenError:
        return
    raise AssertionError(f"garbage verified: {garbage!r}")


@given(
    header=st.dictionaries(
        st.sampled_from(["alg", "kid", "crit", "typ", "jku", "x"]),
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    ),
    payload=st.dictionaries(
        st.sampled_from(["iss", "exp", "sub", "token_use", "client_id", "cognito:groups"]),
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    ),
)
def test_odd_headers_and_payloads_only_raise_token_errors(
    header: dict[str, Any], payload: dict[str, Any]
) -> None:
    """Any JSON header and payload signed by the right key fails only with a TokenError."""
    from tests.tokens import mint_raw

    verifier, _ = verifier_for("access", CLIENT_ID, 0)
    try:
        verifier.verify(mint_raw(header, payload, KEY))
    except TokenError:
        return
    raise AssertionError("an incomplete token verified")
