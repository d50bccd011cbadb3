"""Settings.from_env: defaults, derived issuers and JWKS URLs, and errors naming the variable."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from authz.errors import ConfigError
from authz.settings import (
    KNOWN_VARIABLES,
    SETTINGS,
    CacheConfig,
    Settings,
    TokenSource,
    default_jwks_url,
)

POOL = "eu-west-1_AbC123xyz"
ORIGINAL = f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL}"
MULTI = f"https://issuer-cognito-idp.eu-west-1.amazonaws.com/{POOL}"


def env(**kw: str) -> dict[str, str]:
    return {"AUTHZ_USER_POOL_ID": POOL, "AUTHZ_CLIENT_IDS": "client1", **kw}


def error(environ: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(environ)
    return info.value


def test_defaults() -> None:
    """An empty environment gives the documented defaults."""
    s = Settings.from_env({})
    assert (s.table, s.region, s.token_use, s.leeway_seconds) == (
        "authz-policies",
        "us-east-1",
        "access",
        0,
    )
    assert (s.cache_ttl_seconds, s.cache_max_entries, s.epoch_check_seconds) == (300, 10_000, 5.0)
    assert (s.stale_if_error_seconds, s.response, s.admin_group) == (60, "iam", "authz-admins")
    assert s.token_sources == (TokenSource("header", "Authorization"),)
    assert (s.policy_max_bytes, s.stage_flush, s.client_ids, s.issuers) == (8192, (), None, ())


def test_settings_are_frozen() -> None:
    """Settings cannot be changed after start-up."""
    s = Settings.from_env({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.table = "x"  # type: ignore[misc]


def test_both_issuer_formats_derived_from_pool() -> None:
    """The pool id yields the original and the multi-region issuer, in the pool's region."""
    s = Settings.from_env(env(AWS_REGION="us-east-1"))
    assert s.issuers == (ORIGINAL, MULTI)


def test_jwks_served_under_original_issuer_for_both() -> None:
    """Both issuer formats fetch keys from the original issuer's JWKS URL."""
    s = Settings.from_env(env())
    url = f"{ORIGINAL}/.well-known/jwks.json"
    assert dict(s.jwks_urls) == {ORIGINAL: url, MULTI: url}


def test_jwks_urls_read_only() -> None:
    """The issuer-to-JWKS mapping cannot be modified."""
    s = Settings.from_env(env())
    with pytest.raises(TypeError):
        s.jwks_urls["x"] = "y"  # type: ignore[index]


def test_jwks_url_override_applies_to_every_issuer() -> None:
    """AUTHZ_JWKS_URL replaces the derived JWKS URL for all issuers."""
    url = "http://127.0.0.1:5000/pool/.well-known/jwks.json"
    s = Settings.from_env(env(AUTHZ_JWKS_URL=url))
    assert set(s.jwks_urls.values()) == {url}


@pytest.mark.parametrize(
    "url",
    [
        "http://cognito-idp.eu-west-1.amazonaws.com/p/.well-known/jwks.json",
        "ftp://127.0.0.1/jwks.json",
        "not a url",
        "https://",
    ],
)
def test_unsafe_jwks_url_rejected(url: str) -> None:
    """AUTHZ_JWKS_URL must be https (plain http only on loopback)."""
    assert error(env(AUTHZ_JWKS_URL=url)).variable == "AUTHZ_JWKS_URL"


@pytest.mark.parametrize("host", ["127.0.0.1:4566", "localhost", "[::1]:80"])
def test_loopback_http_jwks_url_accepted(host: str) -> None:
    """Plain http is allowed for a loopback JWKS URL (the local stack)."""
    url = f"http://{host}/p/.well-known/jwks.json"
    assert set(Settings.from_env(env(AUTHZ_JWKS_URL=url)).jwks_urls.values()) == {url}


def test_issuers_override() -> None:
    """AUTHZ_ISSUERS replaces the derived issuers, each with its own JWKS URL."""
    s = Settings.from_env(env(AUTHZ_ISSUERS=" https://a.example/p1 , https://b.example/p2 "))
    assert s.issuers == ("https://a.example/p1", "https://b.example/p2")
    assert s.jwks_urls["https://b.example/p2"] == "https://b.example/p2/.well-known/jwks.json"


def test_http_issuer_without_jwks_url_rejected() -> None:
    """An http issuer off loopback would fetch keys over plain http, so start-up fails."""
    assert error(env(AUTHZ_ISSUERS="http://idp.example/p")).variable == "AUTHZ_ISSUERS"


@pytest.mark.parametrize("value", [",", "not-a-url", "https://a b"])
def test_bad_issuers_rejected(value: str) -> None:
    """AUTHZ_ISSUERS must list URLs."""
    assert error(env(AUTHZ_ISSUERS=value)).variable == "AUTHZ_ISSUERS"


def test_default_jwks_url_maps_multi_region_to_original() -> None:
    """The multi-region issuer's keys live under the original issuer."""
    assert default_jwks_url(MULTI) == f"{ORIGINAL}/.well-known/jwks.json"
    assert default_jwks_url("https://x.example/p/") == "https://x.example/p/.well-known/jwks.json"


@pytest.mark.parametrize("pool", ["us-east-1", "pool123", "US-EAST-1_abc", "us-east-1_a-b"])
def test_bad_pool_id_rejected(pool: str) -> None:
    """A malformed pool id fails start-up naming AUTHZ_USER_POOL_ID."""
    assert error(env(AUTHZ_USER_POOL_ID=pool)).variable == "AUTHZ_USER_POOL_ID"


def test_client_ids_parsed() -> None:
    """AUTHZ_CLIENT_IDS is a comma-separated set."""
    s = Settings.from_env(env(AUTHZ_CLIENT_IDS=" a1 ,b2,, a1"))
    assert s.client_ids == frozenset({"a1", "b2"})
    assert not s.client_check_disabled


def test_wildcard_client_ids_is_explicit_opt_out() -> None:
    """'*' disables the client check on purpose."""
    assert Settings.from_env(env(AUTHZ_CLIENT_IDS="*")).client_check_disabled


@pytest.mark.parametrize("value", ["*,a1", " , ", "a1,'b2'", "a b", "clïent"])
def test_bad_client_ids_rejected(value: str) -> None:
    """Mixed '*', empty lists and non-id characters fail naming AUTHZ_CLIENT_IDS."""
    assert error(env(AUTHZ_CLIENT_IDS=value)).variable == "AUTHZ_CLIENT_IDS"


def test_require_token_config_needs_client_ids() -> None:
    """Verification needs AUTHZ_CLIENT_IDS; an unset variable is not an implicit '*'."""
    s = Settings.from_env({"AUTHZ_USER_POOL_ID": POOL})
    with pytest.raises(ConfigError) as info:
        s.require_token_config()
    assert info.value.variable == "AUTHZ_CLIENT_IDS"


def test_require_token_config_needs_issuers() -> None:
    """Verification needs a pool id or issuers."""
    s = Settings.from_env({"AUTHZ_CLIENT_IDS": "c"})
    with pytest.raises(ConfigError) as info:
        s.require_token_config()
    assert info.value.variable == "AUTHZ_USER_POOL_ID"


def test_require_token_config_passes_when_complete() -> None:
    """With pool and client ids the token configuration is complete."""
    Settings.from_env(env()).require_token_config()


def test_jwks_json_parsed() -> None:
    """AUTHZ_JWKS_JSON holds a JWKS document."""
    s = Settings.from_env(env(AUTHZ_JWKS_JSON='{"keys": [{"kid": "a"}]}'))
    assert s.jwks_json == {"keys": [{"kid": "a"}]}


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_empty_jwks_json_means_unset(value: str) -> None:
    """serverless.yml passes the optional jwksJson param as "" when it is not given:
    that is no bundled key set (fetch on first use), not a malformed one."""
    assert Settings.from_env(env(AUTHZ_JWKS_JSON=value)).jwks_json is None


@pytest.mark.parametrize("value", ["{", "[]", '{"keys": {}}', '{"keys": ["x"]}'])
def test_bad_jwks_json_rejected(value: str) -> None:
    """AUTHZ_JWKS_JSON must be a JWKS object."""
    assert error(env(AUTHZ_JWKS_JSON=value)).variable == "AUTHZ_JWKS_JSON"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AUTHZ_TOKEN_USE", "Access"),
        ("AUTHZ_TOKEN_USE", "refresh"),
        ("AUTHZ_RESPONSE", "json"),
        ("AUTHZ_LEEWAY_SECONDS", "-1"),
        ("AUTHZ_LEEWAY_SECONDS", "601"),
        ("AUTHZ_LEEWAY_SECONDS", "1.5"),
        ("AUTHZ_LEEWAY_SECONDS", "1_0"),
        ("AUTHZ_LEEWAY_SECONDS", "٣"),
        ("AUTHZ_CACHE_TTL_SECONDS", "ten"),
        ("AUTHZ_CACHE_MAX_ENTRIES", "0"),
        ("AUTHZ_EPOCH_CHECK_SECONDS", "nan"),
        ("AUTHZ_EPOCH_CHECK_SECONDS", "inf"),
        ("AUTHZ_EPOCH_CHECK_SECONDS", "-1"),
        ("AUTHZ_STALE_IF_ERROR_SECONDS", "1e3"),
        ("AUTHZ_POLICY_MAX_BYTES", "100"),
        ("AUTHZ_TOKEN_SOURCE", "cookie:x"),
        ("AUTHZ_TOKEN_SOURCE", "header:"),
        ("AUTHZ_TOKEN_SOURCE", ","),
        ("AUTHZ_ADMIN_GROUP", "g" * 129),
        ("AUTHZ_STAGE_FLUSH", "api-only"),
        ("AUTHZ_TABLE", "a"),
        ("AUTHZ_DYNAMODB_ENDPOINT", "localhost:8000"),
        ("AWS_REGION", "mars"),
        ("AUTHZ_CLIENT_ID", "typo"),
        ("AUTHZ_TRACING", "on"),
        ("AUTHZ_TRACING", "2"),
    ],
)
def test_malformed_values_name_the_variable(variable: str, value: str) -> None:
    """Each malformed or unknown variable fails start-up with a message naming it."""
    err = error(env(**{variable: value}))
    assert err.variable == variable
    assert str(err).startswith(f"{variable}: ")


def test_aws_default_region_named_when_it_is_the_source() -> None:
    """A bad AWS_DEFAULT_REGION (with AWS_REGION unset) is reported under its own name."""
    assert error({"AWS_DEFAULT_REGION": "nowhere"}).variable == "AWS_DEFAULT_REGION"


def test_dev_variables_are_free() -> None:
    """AUTHZ_DEV_* variables are left to the local stack and never rejected."""
    assert Settings.from_env({"AUTHZ_DEV_ANYTHING": "x"}).table == "authz-policies"


def test_blank_values_mean_default() -> None:
    """A variable set to whitespace counts as unset."""
    assert Settings.from_env({"AUTHZ_TABLE": "  ", "AUTHZ_LEEWAY_SECONDS": ""}).table == (
        "authz-policies"
    )


def test_valid_values_parsed() -> None:
    """Well-formed values are parsed into their typed fields."""
    s = Settings.from_env(
        env(
            AUTHZ_TOKEN_USE="any",
            AUTHZ_LEEWAY_SECONDS="30",
            AUTHZ_EPOCH_CHECK_SECONDS="0.5",
            AUTHZ_TOKEN_SOURCE="header:Authorization, query:token",
            AUTHZ_STAGE_FLUSH="abc123/prod,def456/dev",
            AUTHZ_RESPONSE="simple",
            AUTHZ_DYNAMODB_ENDPOINT="http://127.0.0.1:8000",
        )
    )
    assert (s.token_use, s.leeway_seconds, s.epoch_check_seconds) == ("any", 30, 0.5)
    assert s.token_sources == (
        TokenSource("header", "Authorization"),
        TokenSource("query", "token"),
    )
    assert s.stage_flush == (("abc123", "prod"), ("def456", "dev"))
    assert (s.response, s.dynamodb_endpoint) == ("simple", "http://127.0.0.1:8000")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("true", True), ("TRUE", True), ("1", True), ("Yes", True)],
        *[("false", False), ("False", False), ("0", False), ("no", False), (" ", False)],
    ],
)
def test_tracing_switch(value: str, expected: bool) -> None:
    """AUTHZ_TRACING takes true/false, 1/0 or yes/no in any case; blank keeps it off."""
    assert Settings.from_env({"AUTHZ_TRACING": value}).tracing is expected


def test_tracing_off_by_default() -> None:
    """Tracing costs every request, so it stays off unless asked for."""
    assert Settings.from_env({}).tracing is False


def test_known_variables_are_the_table() -> None:
    """Every field but the derived JWKS map is read from exactly one declared variable."""
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert set(SETTINGS) == fields - {"jwks_urls"}
    declared = {s.env for s in SETTINGS.values()}
    assert declared - {"AWS_REGION"} == KNOWN_VARIABLES
    assert "AUTHZ_TRACING" in KNOWN_VARIABLES


def test_cache_config_defaults_are_the_settings_defaults() -> None:
    """A CacheConfig built without arguments equals the one an empty environment gives."""
    assert CacheConfig() == Settings.from_env({}).cache


def test_readme_lists_every_variable() -> None:
    """README's configuration table documents exactly the variables Settings accepts."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(AUTHZ_[A-Z_]+)` \|", section, flags=re.MULTILINE))
    assert documented == KNOWN_VARIABLES


def test_serverless_sets_only_known_variables() -> None:
    """Every AUTHZ_* variable serverless.yml sets is one Settings accepts, so a deploy never
    fails its cold start on a renamed variable."""
    text = (Path(__file__).parents[2] / "serverless.yml").read_text(encoding="utf-8")
    set_there = set(re.findall(r"^\s+(AUTHZ_[A-Z_]+):", text, flags=re.MULTILINE))
    assert "AUTHZ_TRACING" in set_there
    assert set_there <= KNOWN_VARIABLES


def test_routes_unset_by_default_and_kept_as_text() -> None:
    """AUTHZ_ROUTES is parsed by the admin API (authz.handlers.admin.access), not here:
    the route readers sit above the settings layer."""
    assert Settings.from_env({}).routes is None
    assert Settings.from_env({"AUTHZ_ROUTES": "  "}).routes is None
    value = "GET /orders,\nDELETE /orders/{id}"
    assert Settings.from_env({"AUTHZ_ROUTES": f" {value} "}).routes == value
    assert Settings.from_env({"AUTHZ_ROUTES": "/var/task/routes/api.json"}).routes == (
        "/var/task/routes/api.json"
    )


def test_routes_with_control_characters_fail_naming_the_variable() -> None:
    assert error({"AUTHZ_ROUTES": "GET /a\x00"}).variable == "AUTHZ_ROUTES"
