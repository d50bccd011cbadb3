"""Verifier end to end on locally minted tokens: every hostile case is refused with its error."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from authz.errors import (
    AudienceError,
    ClaimError,
    ConfigError,
    ExpiredTokenError,
    IssuerError,
    KeySetUnavailableError,
    MalformedTokenError,
    NotYetValidError,
    SignatureError,
    TokenError,
    TokenUseError,
    UnknownKeyError,
    UnsupportedTokenError,
)
from authz.token import JwksCache, Principal, Verifier
from tests.tokens import (
    CLIENT_ID,
    ISSUER,
    JWKS_URL,
    POOL_ID,
    FakeClock,
    KeyPair,
    RecordingFetcher,
    access_claims,
    b64url,
    client_credentials_claims,
    id_claims,
    jwks,
    local_verifier,
    mint,
    mint_raw,
    settings_for,
)

NOW = 1_700_000_000
KEY = KeyPair.generate("key-1")
OTHER = KeyPair.generate("key-2")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW + 0.5)


@pytest.fixture
def fetcher() -> RecordingFetcher:
    return RecordingFetcher(jwks(KEY))


@pytest.fixture
def verifier(clock: FakeClock, fetcher: RecordingFetcher) -> Verifier:
    v: Verifier = local_verifier(KEY, clock=clock, fetcher=fetcher)
    return v


def access(**kw: Any) -> dict[str, Any]:
    return access_claims(now=NOW, **kw)


def ident(**kw: Any) -> dict[str, Any]:
    return id_claims(now=NOW, **kw)


def _segment(obj: Any) -> str:
    return b64url(json.dumps(obj).encode())


# --- the happy paths ----------------------------------------------------------


def test_access_token_yields_principal(verifier: Verifier) -> None:
    """A valid access token maps sub, username, client_id, groups, scopes, issuer and exp."""
    token = mint(
        access(sub="s-1", username="alice", groups=["admins", "readers"], scopes=["a/b", "c"]),
        KEY,
    )
    p = verifier.verify(token)
    assert p == Principal(
        sub="s-1",
        username="alice",
        client_id=CLIENT_ID,
        token_use="access",
        groups=("admins", "readers"),
        scopes=("a/b", "c"),
        issuer=ISSUER,
        expires_at=NOW + 3600,
    )
    assert p.claims["username"] == "alice"


def test_id_token_yields_principal(clock: FakeClock) -> None:
    """An ID token maps cognito:username to username and aud to client_id."""
    v = local_verifier(KEY, clock=clock, token_use="id")
    p = v.verify(mint(ident(sub="s-2", username="bob", groups=["readers"]), KEY))
    assert (p.sub, p.username, p.client_id, p.token_use) == ("s-2", "bob", CLIENT_ID, "id")
    assert (p.groups, p.scopes) == (("readers",), ())


def test_client_credentials_token_has_no_username(verifier: Verifier) -> None:
    """A machine-to-machine access token verifies with username None, no groups, its scopes."""
    p = verifier.verify(mint(client_credentials_claims(now=NOW, scopes=["api/read"]), KEY))
    assert (p.sub, p.username, p.groups, p.scopes) == (CLIENT_ID, None, (), ("api/read",))


def test_multi_region_issuer_accepted(verifier: Verifier) -> None:
    """Tokens with the multi-region issuer format of the same pool verify."""
    issuer = f"https://issuer-cognito-idp.us-east-1.amazonaws.com/{POOL_ID}"
    assert verifier.verify(mint(access(issuer=issuer), KEY)).issuer == issuer


def test_token_use_any_accepts_both(clock: FakeClock) -> None:
    """With token_use any, both access and ID tokens verify."""
    v = local_verifier(KEY, clock=clock, token_use="any")
    assert v.verify(mint(access(), KEY)).token_use == "access"
    assert v.verify(mint(ident(), KEY)).token_use == "id"


def test_wildcard_client_ids_accepts_any_client(clock: FakeClock) -> None:
    """With AUTHZ_CLIENT_IDS=* any app client's token verifies."""
    v = local_verifier(KEY, clock=clock, client_ids="*")
    assert v.verify(mint(access(client_id="someoneelse"), KEY)).client_id == "someoneelse"


def test_second_allowed_client_accepted(clock: FakeClock) -> None:
    """Every client id in the allow-list is accepted."""
    v = local_verifier(KEY, clock=clock, client_ids=f"{CLIENT_ID},otherclient")
    assert v.verify(mint(access(client_id="otherclient"), KEY)).client_id == "otherclient"


def test_principal_claims_are_read_only(verifier: Verifier) -> None:
    """The principal's claims cannot be modified by a caller."""
    p = verifier.verify(mint(access(), KEY))
    with pytest.raises(TypeError):
        p.claims["sub"] = "x"  # type: ignore[index]


# --- algorithm confusion --------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_rejected(verifier: Verifier, alg: str) -> None:
    """alg none in any letter case is refused before any key work."""
    with pytest.raises(UnsupportedTokenError):
        verifier.verify(mint(access(), KEY, alg=alg))


def test_alg_none_with_stripped_signature_of_a_valid_token_rejected(verifier: Verifier) -> None:
    """A valid token re-headed as alg none with its signature stripped is refused."""
    _, payload, _ = mint(access(), KEY).split(".")
    header = _segment({"alg": "none", "kid": KEY.kid})
    with pytest.raises(UnsupportedTokenError):
        verifier.verify(f"{header}.{payload}.")


def test_hs256_signed_with_public_pem_rejected(verifier: Verifier) -> None:
    """HS256 keyed with the RSA public key (PEM) is refused."""
    with pytest.raises(UnsupportedTokenError):
        verifier.verify(mint(access(), KEY, alg="HS256", hmac_key=KEY.public_pem()))


def test_hs256_signed_with_public_jwk_rejected(verifier: Verifier) -> None:
    """HS256 keyed with the RSA public key's JWK JSON is refused."""
    secret = json.dumps(KEY.jwk()).encode()
    with pytest.raises(UnsupportedTokenError):
        verifier.verify(mint(access(), KEY, alg="HS256", hmac_key=secret))


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "ES256", "rs256", "RS256 "])
def test_other_algorithms_rejected(verifier: Verifier, alg: str) -> None:
    """Only the exact string RS256 is accepted as alg."""
    sign_alg = alg if alg in ("RS384", "RS512", "PS256", "ES256") else "RS256"
    token = mint(access(), KEY, alg=sign_alg, headers={"alg": alg})
    with pytest.raises(UnsupportedTokenError):
        verifier.verify(token)


def test_rs256_header_over_ps256_signature_rejected(verifier: Verifier) -> None:
    """An RS256 header over a PS256 signature by the right key fails the signature check."""
    token = mint(access(), KEY, alg="PS256", headers={"alg": "RS256"})
    with pytest.raises(SignatureError):
        verifier.verify(token)


@pytest.mark.parametrize("alg", [None, 256, ["RS256"]])
def test_missing_or_non_string_alg_rejected(verifier: Verifier, alg: Any) -> None:
    """A header without a string alg is malformed."""
    header: dict[str, Any] = {"kid": KEY.kid}
    if alg is not None:
        header["alg"] = alg
    with pytest.raises(MalformedTokenError):
        verifier.verify(mint_raw(header, access(), KEY))


# --- key selection ------------------------------------------------------------


def test_missing_kid_rejected(verifier: Verifier, fetcher: RecordingFetcher) -> None:
    """A header without kid is malformed and fetches nothing."""
    with pytest.raises(MalformedTokenError):
        verifier.verify(mint(access(), KEY, headers={"kid": None}))
    assert fetcher.calls == []


@pytest.mark.parametrize("kid", [7, None, "", ["key-1"], {"k": "key-1"}, True])
def test_non_string_or_empty_kid_rejected(verifier: Verifier, kid: Any) -> None:
    """kid must be a non-empty string."""
    with pytest.raises(MalformedTokenError):
        verifier.verify(mint_raw({"alg": "RS256", "kid": kid}, access(), KEY))


def test_unknown_kid_rejected_after_one_refetch(
    verifier: Verifier, fetcher: RecordingFetcher
) -> None:
    """An unknown kid refetches the configured JWKS URL once, then fails with UnknownKeyError."""
    stranger = KeyPair.generate("unknown-kid")
    with pytest.raises(UnknownKeyError):
        verifier.verify(mint(access(), stranger))
    assert fetcher.calls == [JWKS_URL]


def test_signature_by_another_key_under_known_kid_rejected(verifier: Verifier) -> None:
    """A token signed by another key but claiming a known kid fails the signature check."""
    with pytest.raises(SignatureError):
        verifier.verify(mint(access(), OTHER, headers={"kid": KEY.kid}))


def test_jwk_with_use_enc_rejected(clock: FakeClock) -> None:
    """A JWK whose use is enc is never used to verify signatures."""
    cache = JwksCache(fetcher=RecordingFetcher())
    cache.preload(JWKS_URL, {"keys": [KEY.jwk(use="enc")]})
    v = Verifier(settings_for(), jwks=cache, clock=clock)
    with pytest.raises(UnknownKeyError, match="use is 'enc'"):
        v.verify(mint(access(), KEY))


def test_jwk_with_other_alg_rejected(clock: FakeClock) -> None:
    """A JWK whose alg is not RS256 is not used for an RS256 token."""
    cache = JwksCache(fetcher=RecordingFetcher())
    cache.preload(JWKS_URL, {"keys": [KEY.jwk(alg="RS512")]})
    v = Verifier(settings_for(), jwks=cache, clock=clock)
    with pytest.raises(UnknownKeyError, match="alg"):
        v.verify(mint(access(), KEY))


def test_jwk_without_use_and_alg_accepted(clock: FakeClock) -> None:
    """use and alg are optional in a JWK; an RSA key without them still verifies."""
    cache = JwksCache(fetcher=RecordingFetcher())
    cache.preload(JWKS_URL, {"keys": [KEY.jwk(use=None, alg=None)]})
    v = Verifier(settings_for(), jwks=cache, clock=clock)
    assert v.verify(mint(access(), KEY)).sub


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "http://127.0.0.1:9/evil-jwks.json"},
        {"x5u": "http://127.0.0.1:9/evil.pem"},
        {"jwk": OTHER.jwk()},
        {"x5c": ["MIIB"]},
    ],
    ids=["jku", "x5u", "jwk", "x5c"],
)
def test_key_source_headers_never_fetched_or_trusted(
    verifier: Verifier, fetcher: RecordingFetcher, header: dict[str, Any]
) -> None:
    """jku/x5u/jwk/x5c headers are ignored: their key is not trusted and nothing is fetched."""
    with pytest.raises(SignatureError):
        verifier.verify(mint(access(), OTHER, headers={"kid": KEY.kid, **header}))
    assert fetcher.calls == []


def test_jku_with_unknown_kid_fetches_only_configured_url(
    verifier: Verifier, fetcher: RecordingFetcher
) -> None:
    """An unknown kid next to a jku header refetches the configured JWKS URL, never the jku."""
    token = mint(access(), OTHER, headers={"jku": "http://127.0.0.1:9/evil.json"})
    with pytest.raises(UnknownKeyError):
        verifier.verify(token)
    assert fetcher.calls == [JWKS_URL]


@pytest.mark.parametrize("crit", [["exp"], ["b64"], [], "x"])
def test_any_crit_rejected(verifier: Verifier, crit: Any) -> None:
    """A crit header of any value is refused (no extension is understood)."""
    with pytest.raises(UnsupportedTokenError):
        verifier.verify(mint(access(), KEY, headers={"crit": crit, "b64": True, "exp": 1}))


# --- time -------------------------------------------------------------------------


def test_expired_token_rejected(verifier: Verifier) -> None:
    """A token whose exp has passed is refused with the claim named."""
    with pytest.raises(ExpiredTokenError) as info:
        verifier.verify(mint(access_claims(now=NOW - 7200, ttl=3600), KEY))
    assert info.value.claim == "exp"
    assert info.value.actual == NOW - 3600


def test_exp_missing_rejected(verifier: Verifier) -> None:
    """A token without exp is refused."""
    claims = access()
    del claims["exp"]
    with pytest.raises(ExpiredTokenError):
        verifier.verify(mint(claims, KEY))


def test_exp_equal_to_now_rejected(clock: FakeClock, verifier: Verifier) -> None:
    """A token is valid only before exp: at exactly exp it is refused."""
    clock.now = NOW + 3600
    with pytest.raises(ExpiredTokenError):
        verifier.verify(mint(access(), KEY))


def test_exp_just_inside_leeway_accepted(clock: FakeClock) -> None:
    """A token expired by less than the leeway still verifies."""
    v = local_verifier(KEY, clock=clock, leeway=30)
    clock.now = NOW + 3600 + 29
    assert v.verify(mint(access(), KEY)).sub


def test_exp_just_outside_leeway_rejected(clock: FakeClock) -> None:
    """A token expired by the leeway or more is refused."""
    v = local_verifier(KEY, clock=clock, leeway=30)
    clock.now = NOW + 3600 + 30
    with pytest.raises(ExpiredTokenError):
        v.verify(mint(access(), KEY))


def test_nbf_in_future_rejected(verifier: Verifier) -> None:
    """A token whose nbf lies in the future is refused."""
    with pytest.raises(NotYetValidError) as info:
        verifier.verify(mint(access(nbf=NOW + 60), KEY))
    assert info.value.claim == "nbf"


def test_iat_in_future_rejected(verifier: Verifier) -> None:
    """A token issued in the future is refused."""
    with pytest.raises(NotYetValidError) as info:
        verifier.verify(mint(access_claims(now=NOW + 60), KEY))
    assert info.value.claim == "iat"


def test_iat_in_future_within_leeway_accepted(clock: FakeClock) -> None:
    """A token issued slightly in the future verifies within the leeway (clock skew)."""
    v = local_verifier(KEY, clock=clock, leeway=5)
    assert v.verify(mint(access_claims(now=NOW + 5), KEY)).sub


# --- issuer, audience, token_use -----------------------------------------------------


@pytest.mark.parametrize(
    "issuer",
    [
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool",
        f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL_ID}",
        f"http://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}",
        f"{ISSUER}/",
        ISSUER.upper(),
        f" {ISSUER}",
        "",
    ],
    ids=["other-pool", "other-region", "http", "trailing-slash", "case", "space", "empty"],
)
def test_wrong_issuer_rejected(verifier: Verifier, fetcher: RecordingFetcher, issuer: str) -> None:
    """iss must match an accepted issuer exactly; a wrong one never causes a fetch."""
    with pytest.raises(IssuerError) as info:
        verifier.verify(mint(access(issuer=issuer), OTHER))
    assert info.value.actual == issuer
    assert fetcher.calls == []


@pytest.mark.parametrize("iss", [None, 5, [ISSUER]])
def test_missing_or_non_string_issuer_rejected(verifier: Verifier, iss: Any) -> None:
    """iss must be a string."""
    claims = access()
    if iss is None:
        del claims["iss"]
    else:
        claims["iss"] = iss
    with pytest.raises(IssuerError):
        verifier.verify(mint(claims, KEY))


def test_wrong_client_id_rejected(verifier: Verifier) -> None:
    """An access token for another app client is refused."""
    with pytest.raises(AudienceError) as info:
        verifier.verify(mint(access(client_id="otherclient"), KEY))
    assert (info.value.claim, info.value.actual) == ("client_id", "otherclient")


def test_wrong_aud_rejected(clock: FakeClock) -> None:
    """An ID token for another app client is refused."""
    v = local_verifier(KEY, clock=clock, token_use="id")
    with pytest.raises(AudienceError) as info:
        v.verify(mint(ident(client_id="otherclient"), KEY))
    assert info.value.claim == "aud"


def test_access_token_with_aud_but_no_client_id_rejected(verifier: Verifier) -> None:
    """An access token is matched on client_id; an aud claim does not stand in for it."""
    claims = access(aud=CLIENT_ID)
    del claims["client_id"]
    with pytest.raises(AudienceError):
        verifier.verify(mint(claims, KEY))


def test_id_token_aud_list_rejected(clock: FakeClock) -> None:
    """Cognito's aud is a string; a list (even containing the client) is refused."""
    v = local_verifier(KEY, clock=clock, token_use="id")
    with pytest.raises(AudienceError):
        v.verify(mint(ident(aud=[CLIENT_ID]), KEY))


def test_id_token_where_access_required_rejected(verifier: Verifier) -> None:
    """An ID token is refused when access tokens are configured."""
    with pytest.raises(TokenUseError) as info:
        verifier.verify(mint(ident(), KEY))
    assert (info.value.actual, info.value.expected) == ("id", "access")


def test_access_token_where_id_required_rejected(clock: FakeClock) -> None:
    """An access token is refused when ID tokens are configured."""
    v = local_verifier(KEY, clock=clock, token_use="id")
    with pytest.raises(TokenUseError):
        v.verify(mint(access(), KEY))


@pytest.mark.parametrize("token_use", [None, "refresh", "ACCESS", "", 1])
def test_missing_or_other_token_use_rejected(clock: FakeClock, token_use: Any) -> None:
    """token_use must be access or id, even when any is configured."""
    v = local_verifier(KEY, clock=clock, token_use="any")
    claims = access(token_use=token_use)
    if token_use is None:
        del claims["token_use"]
    with pytest.raises(TokenUseError):
        v.verify(mint(claims, KEY))


# --- signature and shape -----------------------------------------------------------


def test_tampered_payload_rejected(verifier: Verifier) -> None:
    """Changing the payload of a signed token breaks the signature."""
    header, _, signature = mint(access(groups=["readers"]), KEY).split(".")
    forged = _segment(access(groups=["admins"]))
    with pytest.raises(SignatureError):
        verifier.verify(f"{header}.{forged}.{signature}")


def test_stripped_signature_rejected(verifier: Verifier) -> None:
    """An RS256 token with an empty signature segment is refused."""
    header, payload, _ = mint(access(), KEY).split(".")
    with pytest.raises(SignatureError):
        verifier.verify(f"{header}.{payload}.")


def test_truncated_signature_rejected(verifier: Verifier) -> None:
    """A signature shortened by a few bytes does not verify."""
    header, payload, signature = mint(access(), KEY).split(".")
    short = b64url(base64.urlsafe_b64decode(signature + "==")[:-3])
    with pytest.raises(SignatureError):
        verifier.verify(f"{header}.{payload}.{short}")


@pytest.mark.parametrize("dots", [1, 3])
def test_wrong_segment_count_rejected(verifier: Verifier, dots: int) -> None:
    """Two or four segments are malformed."""
    token = mint(access(), KEY)
    parts = token.split(".")
    bad = ".".join(parts[:2]) if dots == 1 else f"{token}.{parts[2]}"
    with pytest.raises(MalformedTokenError):
        verifier.verify(bad)


def test_jwe_five_segments_rejected(verifier: Verifier) -> None:
    """A five-segment token (JWE) is refused as unsupported."""
    jwe_header = _segment({"alg": "RSA-OAEP", "enc": "A256GCM", "kid": KEY.kid})
    with pytest.raises(UnsupportedTokenError, match="JWE"):
        verifier.verify(f"{jwe_header}.AAAA.AAAA.AAAA.AAAA")


@pytest.mark.parametrize(
    "token",
    ["", " ", "..", "a.b.c", "\t", "Bearer x.y.z"],
    ids=["empty", "space", "dots", "junk", "tab", "bearer"],
)
def test_garbage_rejected(verifier: Verifier, token: str) -> None:
    """Strings that are not a JWS are malformed."""
    with pytest.raises(MalformedTokenError):
        verifier.verify(token)


def test_whitespace_around_token_rejected(verifier: Verifier) -> None:
    """Surrounding whitespace is not stripped: the caller extracts the token exactly."""
    token = mint(access(), KEY)
    for bad in (f" {token}", f"{token}\n", f"{token[:20]} {token[20:]}"):
        with pytest.raises(MalformedTokenError):
            verifier.verify(bad)


def test_non_ascii_rejected(verifier: Verifier) -> None:
    """A token with a non-ASCII character is malformed."""
    token = mint(access(), KEY)
    with pytest.raises(MalformedTokenError):
        verifier.verify(token[:10] + "é" + token[11:])


def test_non_string_rejected(verifier: Verifier) -> None:
    """A token that is not a str (bytes, None) is malformed."""
    for bad in (mint(access(), KEY).encode(), None, 42):
        with pytest.raises(MalformedTokenError):
            verifier.verify(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("where", [0, 1, 2])
@pytest.mark.parametrize("bad", ["+", "/", "=", "*"])
def test_bad_base64url_rejected(verifier: Verifier, where: int, bad: str) -> None:
    """Characters outside the base64url alphabet, or padding, are refused in any segment."""
    parts = mint(access(), KEY).split(".")
    parts[where] = parts[where][:4] + bad + parts[where][5:]
    with pytest.raises(MalformedTokenError):
        verifier.verify(".".join(parts))


def test_non_canonical_base64url_rejected(verifier: Verifier) -> None:
    """A segment re-spelt with non-zero unused trailing bits is refused."""
    header, payload, signature = mint(access(), KEY).split(".")
    assert len(signature) % 4 == 2  # 256 bytes -> 342 characters, 4 unused bits
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(signature[-1])
    respelt = (
        signature[:-1]
        + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last | 1]
    )
    assert base64.urlsafe_b64decode(respelt + "==") == base64.urlsafe_b64decode(signature + "==")
    with pytest.raises(MalformedTokenError):
        verifier.verify(f"{header}.{payload}.{respelt}")


def test_impossible_base64url_length_rejected(verifier: Verifier) -> None:
    """A segment whose length is 1 mod 4 is refused."""
    header, payload, signature = mint(access(), KEY).split(".")
    with pytest.raises(MalformedTokenError):
        verifier.verify(f"{header}.{payload}A.{signature}")


@pytest.mark.parametrize("where", ["header", "payload"])
@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1, 2]", b'"RS256"', b"null", b"{", b"\xff\xfe{}", b'{"a": NaN}'],
    ids=["text", "array", "string", "null", "truncated", "not-utf8", "nan"],
)
def test_non_json_object_rejected(verifier: Verifier, where: str, raw: bytes) -> None:
    """Header and payload must be UTF-8 JSON objects."""
    header = raw if where == "header" else json.dumps({"alg": "RS256", "kid": KEY.kid}).encode()
    payload = raw if where == "payload" else json.dumps(access()).encode()
    with pytest.raises(MalformedTokenError):
        verifier.verify(mint_raw(header, payload, KEY))


def test_json_array_header_rejected(verifier: Verifier) -> None:
    """A JSON array header, even one holding the right members, is malformed."""
    with pytest.raises(MalformedTokenError):
        verifier.verify(mint_raw(b'[{"alg": "RS256", "kid": "key-1"}]', access(), KEY))


def test_duplicate_header_keys_rejected(verifier: Verifier) -> None:
    """A header naming alg twice is refused (parsers disagree on which wins)."""
    header = b'{"alg": "none", "kid": "key-1", "alg": "RS256"}'
    with pytest.raises(MalformedTokenError, match="duplicate"):
        verifier.verify(mint_raw(header, access(), KEY))


def test_duplicate_payload_keys_rejected(verifier: Verifier) -> None:
    """A payload naming a claim twice is refused even when properly signed."""
    body = json.dumps(access())[:-1] + ', "sub": "admin"}'
    with pytest.raises(MalformedTokenError, match="duplicate"):
        verifier.verify(mint_raw({"alg": "RS256", "kid": KEY.kid}, body.encode(), KEY))


def test_duplicate_nested_keys_rejected(verifier: Verifier) -> None:
    """Duplicate keys inside nested objects are refused too."""
    body = json.dumps(access())[:-1] + ', "custom": {"a": 1, "a": 2}}'
    with pytest.raises(MalformedTokenError, match="duplicate"):
        verifier.verify(mint_raw({"alg": "RS256", "kid": KEY.kid}, body.encode(), KEY))


def test_oversized_token_rejected_before_parsing(
    verifier: Verifier, fetcher: RecordingFetcher
) -> None:
    """A token over 16 KiB is refused as malformed, whatever it contains."""
    token = mint(access(padding="x" * 16_000, groups=["g"]), KEY)
    assert len(token) > 16 * 1024
    with pytest.raises(MalformedTokenError, match="longer"):
        verifier.verify(token)
    with pytest.raises(MalformedTokenError, match="longer"):
        verifier.verify("." * 20_000)
    assert fetcher.calls == []


def test_size_cap_is_configurable(clock: FakeClock) -> None:
    """max_token_bytes lowers the cap."""
    v = local_verifier(KEY, clock=clock)
    small = Verifier(settings_for(), jwks=v.jwks, clock=clock, max_token_bytes=100)
    with pytest.raises(MalformedTokenError):
        small.verify(mint(access(), KEY))


# --- claim types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "value", "error"),
    [
        ("exp", "1700003600", ExpiredTokenError),
        ("exp", True, ExpiredTokenError),
        ("exp", None, ExpiredTokenError),
        ("exp", 10**30, ExpiredTokenError),
        ("exp", [NOW + 10], ExpiredTokenError),
        ("nbf", "0", NotYetValidError),
        ("nbf", False, NotYetValidError),
        ("iat", {"t": 1}, NotYetValidError),
        ("auth_time", "yesterday", ClaimError),
        ("sub", 123, ClaimError),
        ("sub", "", ClaimError),
        ("sub", None, ClaimError),
        ("cognito:groups", "admins", ClaimError),
        ("cognito:groups", ["admins", 1], ClaimError),
        ("cognito:groups", [["admins"]], ClaimError),
        ("scope", ["a", "b"], ClaimError),
        ("username", 5, ClaimError),
        ("client_id", 5, AudienceError),
        ("client_id", None, AudienceError),
    ],
)
def test_wrong_claim_types_rejected(
    verifier: Verifier, claim: str, value: Any, error: type[ClaimError]
) -> None:
    """Each claim must have its type: numbers not strings or bools, groups a list of strings."""
    with pytest.raises(error) as info:
        verifier.verify(mint(access(**{claim: value}), KEY))
    assert info.value.claim == claim


def test_float_exp_accepted_and_rounded_down(verifier: Verifier) -> None:
    """A fractional exp is a valid NumericDate; expires_at rounds it down."""
    assert verifier.verify(mint(access(exp=NOW + 10.9), KEY)).expires_at == NOW + 10


def test_missing_sub_rejected(verifier: Verifier) -> None:
    """A token without sub is refused."""
    claims = access()
    del claims["sub"]
    with pytest.raises(ClaimError) as info:
        verifier.verify(mint(claims, KEY))
    assert info.value.claim == "sub"


# --- configuration ---------------------------------------------------------------


def test_verifier_requires_client_ids() -> None:
    """A verifier cannot be built without AUTHZ_CLIENT_IDS."""
    from authz.settings import Settings

    with pytest.raises(ConfigError) as info:
        Verifier(Settings.from_env({"AUTHZ_USER_POOL_ID": POOL_ID}))
    assert info.value.variable == "AUTHZ_CLIENT_IDS"


def test_verifier_requires_pool() -> None:
    """A verifier cannot be built without a pool or issuers."""
    from authz.settings import Settings

    with pytest.raises(ConfigError) as info:
        Verifier(Settings.from_env({"AUTHZ_CLIENT_IDS": CLIENT_ID}))
    assert info.value.variable == "AUTHZ_USER_POOL_ID"


def test_jwks_json_preload_needs_no_fetch(clock: FakeClock) -> None:
    """With AUTHZ_JWKS_JSON a cold verifier verifies without fetching."""
    fetcher = RecordingFetcher()
    v = Verifier(settings_for(jwks_json=jwks(KEY)), jwks=JwksCache(fetcher=fetcher), clock=clock)
    assert v.verify(mint(access(), KEY)).sub
    assert fetcher.calls == []


def test_jwks_json_without_usable_key_fails_start_up() -> None:
    """An AUTHZ_JWKS_JSON with no usable signing key is a configuration error."""
    with pytest.raises(ConfigError) as info:
        Verifier(settings_for(jwks_json=jwks(KEY, use="enc")), jwks=JwksCache())
    assert info.value.variable == "AUTHZ_JWKS_JSON"


def test_from_settings_builds_default_verifier() -> None:
    """from_settings builds a verifier with its own JWKS cache and preloaded keys."""
    v = Verifier.from_settings(settings_for(jwks_json=jwks(KEY)))
    assert v.jwks.key_set(JWKS_URL) is not None


def test_unknown_kid_while_the_endpoint_fails_is_unavailable_not_a_token_error(
    clock: FakeClock, fetcher: RecordingFetcher, verifier: Verifier
) -> None:
    """Key endpoint outage: a token whose kid is not held raises KeySetUnavailableError
    (the authorizer's 500), not a TokenError (401); held keys keep verifying."""
    fetcher.fail = True
    with pytest.raises(KeySetUnavailableError) as info:
        verifier.verify(mint(access(), OTHER))
    assert not isinstance(info.value, TokenError)
    assert verifier.verify(mint(access(), KEY)).sub


def test_unknown_kid_while_the_endpoint_answers_is_a_token_error(
    fetcher: RecordingFetcher, verifier: Verifier
) -> None:
    """The endpoint answered without that kid: UnknownKeyError, a TokenError (401)."""
    with pytest.raises(UnknownKeyError):
        verifier.verify(mint(access(), OTHER))
    assert fetcher.calls


def test_jwks_url_override_is_the_only_url_fetched(clock: FakeClock) -> None:
    """With AUTHZ_JWKS_URL both issuer formats fetch keys from that URL."""
    url = "http://127.0.0.1:9999/pool/.well-known/jwks.json"
    fetcher = RecordingFetcher(jwks(KEY))
    v = Verifier(settings_for(jwks_url=url), jwks=JwksCache(fetcher=fetcher), clock=clock)
    multi = f"https://issuer-cognito-idp.us-east-1.amazonaws.com/{POOL_ID}"
    assert v.verify(mint(access(), KEY)).sub
    assert v.verify(mint(access(issuer=multi), KEY)).sub
    assert fetcher.calls == [url]


# --- every call verifies (the authorizer's token memo is the one cache) -------------


def test_repeated_token_is_verified_each_time(verifier: Verifier) -> None:
    """The verifier keeps no verified-token cache: each call builds a new principal."""
    token = mint(access(), KEY)
    first = verifier.verify(token)
    second = verifier.verify(token)
    assert second == first
    assert second is not first


def test_token_refused_once_clock_reaches_exp(clock: FakeClock, verifier: Verifier) -> None:
    """A token verified earlier is refused once the clock reaches its exp."""
    token = mint(access(ttl=60), KEY)
    verifier.verify(token)
    clock.now = NOW + 60
    with pytest.raises(ExpiredTokenError):
        verifier.verify(token)


def test_leeway_applies_after_exp(clock: FakeClock) -> None:
    """Within the leeway past exp the token still verifies; at exp + leeway it does not."""
    v = local_verifier(KEY, clock=clock, leeway=10)
    token = mint(access(ttl=60), KEY)
    v.verify(token)
    clock.now = NOW + 65
    assert v.verify(token).sub
    clock.now = NOW + 70
    with pytest.raises(ExpiredTokenError):
        v.verify(token)


def test_forged_payload_refused(verifier: Verifier) -> None:
    """A payload swapped under another token's signature is refused."""
    header, _, signature = mint(access(), KEY).split(".")
    with pytest.raises(SignatureError):
        verifier.verify(f"{header}.{_segment(access(sub='x'))}.{signature}")


def test_every_failure_is_a_token_error(verifier: Verifier) -> None:
    """Whatever is wrong, the error is a TokenError (the authorizer's 401)."""
    bad = ["", "x", mint(access(), KEY, alg="none"), mint(access(exp="soon"), KEY)]
    for token in bad:
        with pytest.raises(TokenError):
            verifier.verify(token)


# --- the decomposition's shortcuts ------------------------------------------------


def test_json_whitespace_and_trailing_data_keep_their_meaning(verifier: Verifier) -> None:
    """Whitespace around a segment's JSON is accepted as JSON allows; anything after the
    value is refused."""
    padded = mint_raw(b' {"kid": "key-1", "alg": "RS256"}\n', json.dumps(access()).encode(), KEY)
    assert verifier.verify(padded).sub == access()["sub"]
    trailing = mint_raw(
        {"kid": "key-1", "alg": "RS256"}, json.dumps(access()).encode() + b"{}", KEY
    )
    with pytest.raises(MalformedTokenError, match="JSON"):
        verifier.verify(trailing)


def test_a_refused_header_is_refused_every_time(verifier: Verifier) -> None:
    """Only headers that passed the checks are remembered: a bad one fails on each use."""
    bad = mint(access(), KEY, alg="none")
    for _ in range(3):
        with pytest.raises(UnsupportedTokenError):
            verifier.verify(bad)


def test_decode_ascii_matches_decode() -> None:
    """The verifier's decode of an already checked token equals the public decode."""
    from authz.token.jwt import decode, decode_ascii

    tok = mint(access(groups=["a"]), KEY)
    assert decode_ascii(tok.encode("ascii")) == decode(tok)


@pytest.mark.parametrize("bad", [None, b"abc", "x" * 101, "ab\u00e9c"])
def test_decode_and_verify_refuse_unparsable_input_alike(clock: FakeClock, bad: object) -> None:
    """Type, size and ASCII are checked in one place: decode and verify give the same error."""
    from authz.token.jwt import decode

    v = Verifier(settings_for(), jwks=local_verifier(KEY).jwks, clock=clock, max_token_bytes=100)
    with pytest.raises(MalformedTokenError) as by_decode:
        decode(bad, max_bytes=100)  # type: ignore[arg-type]
    with pytest.raises(MalformedTokenError) as by_verify:
        v.verify(bad)  # type: ignore[arg-type]
    assert str(by_verify.value) == str(by_decode.value)
