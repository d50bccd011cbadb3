"""Token settings: validation rules, canonical form, lenient reads and the merge rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from authz.errors import TokenSettingsError
from authz.token_settings import (
    MAX_BYTES,
    MAX_CLAIMS,
    MAX_SCOPES,
    OIDC_STANDARD_CLAIMS,
    RESERVED_CLAIM_PREFIXES,
    RESERVED_CLAIMS,
    RESERVED_SCOPES,
    Conflict,
    TokenSettings,
    merge_token_settings,
)


def errors_of(obj: Any) -> list[dict[str, str]]:
    with pytest.raises(TokenSettingsError) as info:
        TokenSettings.from_dict(obj)
    return info.value.errors


def paths_of(obj: Any) -> list[str]:
    return [e["path"] for e in errors_of(obj)]


# -- accepted input -------------------------------------------------------------


def test_empty_object_is_valid_and_empty() -> None:
    """``{}`` means no scopes and no claims."""
    settings = TokenSettings.from_dict({})
    assert settings.empty
    assert settings.to_dict() == {}


def test_scopes_and_claims_round_trip_canonically() -> None:
    """to_dict sorts scopes and claims so equal settings serialise identically."""
    settings = TokenSettings.from_dict(
        {"scopes": ["orders/write", "orders/read"], "claims": {"tier": "gold", "tenant": "acme"}}
    )
    assert settings.scopes == ("orders/read", "orders/write")
    out = settings.to_dict()
    assert out == {
        "scopes": ["orders/read", "orders/write"],
        "claims": {"tenant": "acme", "tier": "gold"},
    }
    assert list(out["claims"]) == ["tenant", "tier"]
    assert TokenSettings.from_dict(out) == settings


@pytest.mark.parametrize(
    "value",
    [
        "acme",
        "",
        0,
        -7,
        2**53 - 1,
        1.5,
        True,
        False,
        ["a", 1, True],
        [],
        {"region": "eu", "limits": {"rps": 10, "burst": [1, 2]}},
    ],
)
def test_values_cognito_v2_accepts_are_valid(value: Any) -> None:
    """Strings, numbers, booleans, arrays of scalars and JSON objects are claim values."""
    settings = TokenSettings.from_dict({"claims": {"x": value}})
    assert settings.claims["x"] == value


def test_validated_claims_are_detached_from_the_input() -> None:
    """Mutating the input after validation does not change the settings."""
    raw: dict[str, Any] = {"claims": {"obj": {"a": [1]}}}
    settings = TokenSettings.from_dict(raw)
    raw["claims"]["obj"]["a"].append(2)
    assert settings.claims["obj"] == {"a": [1]}
    with pytest.raises(TypeError):
        settings.claims["new"] = 1  # type: ignore[index]


def test_only_scopes_or_only_claims_is_valid() -> None:
    """Both keys are optional."""
    assert TokenSettings.from_dict({"scopes": ["a"]}).to_dict() == {"scopes": ["a"]}
    assert TokenSettings.from_dict({"claims": {"a": "b"}}).to_dict() == {"claims": {"a": "b"}}


# -- rejected input -------------------------------------------------------------


@pytest.mark.parametrize("obj", [None, [], "x", 1, ["scopes"]])
def test_non_object_is_rejected(obj: Any) -> None:
    """The settings must be a JSON object."""
    assert errors_of(obj) == [{"path": "token", "message": "must be an object"}]


def test_unknown_keys_are_rejected_by_path() -> None:
    """Keys other than scopes and claims are named in the error."""
    assert paths_of({"scopes": [], "claim": {}, "ttl": 5}) == ["token.claim", "token.ttl"]


@pytest.mark.parametrize("scopes", ["a b", {"a": 1}, None, 3])
def test_scopes_must_be_a_list(scopes: Any) -> None:
    """``scopes`` must be a list."""
    assert paths_of({"scopes": scopes}) == ["token.scopes"]


@pytest.mark.parametrize(
    "scope", ["", "a b", 'say"hi', "back\\slash", "tab\t", "é", "x" * 257, 5, None, ["a"]]
)
def test_scope_must_be_an_rfc6749_scope_token(scope: Any) -> None:
    """Each scope is 1-256 characters of %x21 / %x23-5B / %x5D-7E."""
    errs = errors_of({"scopes": ["ok", scope]})
    assert [e["path"] for e in errs] == ["token.scopes[1]"]
    assert "RFC 6749" in errs[0]["message"]


def test_longest_scope_is_accepted() -> None:
    """256 characters is the limit, inclusive."""
    assert TokenSettings.from_dict({"scopes": ["x" * 256]}).scopes == ("x" * 256,)


def test_duplicate_scopes_are_rejected() -> None:
    """The same scope twice is a mistake worth naming."""
    errs = errors_of({"scopes": ["a", "b", "a"]})
    assert errs == [{"path": "token.scopes[2]", "message": "duplicate scope 'a'"}]


def test_too_many_scopes_are_rejected() -> None:
    """At most MAX_SCOPES scopes."""
    assert TokenSettings.from_dict({"scopes": [f"s{i}" for i in range(MAX_SCOPES)]})
    assert paths_of({"scopes": [f"s{i}" for i in range(MAX_SCOPES + 1)]}) == ["token.scopes"]


@pytest.mark.parametrize(
    "scope",
    ["openid", "profile", "email", "phone", "OpenID", "EMAIL", "Aws.Cognito.Signin.User.Admin"],
)
def test_group_cannot_grant_cognito_managed_scopes_in_any_case(scope: str) -> None:
    """The OIDC scopes say which attributes Cognito released; only Cognito may add them."""
    errs = errors_of({"scopes": ["orders/read", scope]})
    assert errs == [
        {
            "path": "token.scopes[1]",
            "message": f"{scope!r} is Cognito's own scope and cannot be granted by a group",
        }
    ]


def test_cognito_admin_scope_is_rejected() -> None:
    """A group cannot grant Cognito's own aws.cognito.signin.user.admin scope."""
    errs = errors_of({"scopes": ["aws.cognito.signin.user.admin"]})
    assert errs[0]["path"] == "token.scopes[0]"
    assert "Cognito's own scope" in errs[0]["message"]


@pytest.mark.parametrize("claims", [[], "a=b", None, 1])
def test_claims_must_be_an_object(claims: Any) -> None:
    """``claims`` must be an object."""
    assert paths_of({"claims": claims}) == ["token.claims"]


@pytest.mark.parametrize("name", sorted(RESERVED_CLAIMS))
def test_every_reserved_claim_is_rejected(name: str) -> None:
    """No reserved claim can be set, whatever its value."""
    errs = errors_of({"claims": {name: "x"}})
    assert errs == [
        {
            "path": f"token.claims.{name}",
            "message": f"{name!r} is a reserved claim: Cognito or authz sets it, a group cannot",
        }
    ]


@pytest.mark.parametrize(
    "name",
    [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "token_use",
        "client_id",
        "scope",
        "jti",
        "origin_jti",
        "event_id",
        "username",
        "nbf",
        "at_hash",
        "identities",
        "acr",
        "amr",
        "azp",
        "nonce",
        "email_verified",
        "phone_number_verified",
    ],
)
def test_documented_reserved_claims_are_in_the_set(name: str) -> None:
    """The claims Cognito documents as unmodifiable (and authz's identity claims) are reserved."""
    assert name in RESERVED_CLAIMS


@pytest.mark.parametrize(
    "name",
    ["cognito:groups", "cognito:username", "cognito:roles", "cognito:preferred_role", "cognito:x"],
)
def test_cognito_prefixed_claims_are_rejected(name: str) -> None:
    """Every cognito:* claim is Cognito's (groups go through groupOverrideDetails)."""
    errs = errors_of({"claims": {name: "x"}})
    assert errs == [
        {
            "path": f"token.claims.{name}",
            "message": "claims starting with 'cognito:' are reserved, in any letter case",
        }
    ]


def test_developer_attribute_claims_are_rejected() -> None:
    """Cognito forbids dev:-prefixed developer attribute claims."""
    assert (
        errors_of({"claims": {"dev:x": "y"}})[0]["message"]
        == "claims starting with 'dev:' are reserved, in any letter case"
    )


@pytest.mark.parametrize("name", ["", "a b", "tab\tx", "nl\n", "nul\x00", "zw\u200b", "x" * 129])
def test_bad_claim_names_are_rejected(name: str) -> None:
    """Names are 1-128 characters without whitespace or control/format characters."""
    assert paths_of({"claims": {name: "v"}}) == [f"token.claims.{name}"]


def test_longest_claim_name_is_accepted() -> None:
    """128 characters is the limit, inclusive."""
    assert TokenSettings.from_dict({"claims": {"n" * 128: "v"}}).claims == {"n" * 128: "v"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "null is not a claim value"),
        (float("nan"), "numbers must be finite"),
        (float("inf"), "numbers must be finite"),
        (2**53, "integers must be within"),
        (-(2**53), "integers must be within"),
        ([["nested"]], "arrays may hold only strings, numbers and booleans"),
        ([{"a": 1}], "arrays may hold only strings, numbers and booleans"),
        ([None], "null is not a claim value"),
        ({"a": None}, "'a': null is not a claim value"),
        ({1: "x"}, "object keys must be strings"),
        ({"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}, "nested deeper than 5 levels"),
        (b"bytes", "unsupported type bytes"),
        (("tuple",), "unsupported type tuple"),
    ],
)
def test_bad_claim_values_are_rejected(value: Any, message: str) -> None:
    """Values outside Cognito's V2 types are rejected with the reason."""
    errs = errors_of({"claims": {"c": value}})
    assert errs[0]["path"] == "token.claims.c"
    assert message in errs[0]["message"]


@pytest.mark.parametrize("value", ["x", {"street": "x"}])
@pytest.mark.parametrize("name", ["address", "updated_at"])
def test_address_and_updated_at_cannot_be_set_with_any_value(name: str, value: Any) -> None:
    """OIDC profile claims are identity: refused whatever the value's type."""
    assert paths_of({"claims": {name: value}}) == [f"token.claims.{name}"]


def test_too_many_claims_are_rejected() -> None:
    """At most MAX_CLAIMS claims."""
    assert TokenSettings.from_dict({"claims": {f"c{i}": i for i in range(MAX_CLAIMS)}})
    assert paths_of({"claims": {f"c{i}": i for i in range(MAX_CLAIMS + 1)}}) == ["token.claims"]


def test_size_budget_is_enforced() -> None:
    """Settings whose canonical JSON exceeds MAX_BYTES are rejected as a whole."""
    big = {"claims": {f"c{i}": "v" * 400 for i in range(MAX_BYTES // 400 + 1)}}
    errs = errors_of(big)
    assert errs[0]["path"] == "token"
    assert f"at most {MAX_BYTES}" in errs[0]["message"]


def test_size_budget_counts_utf8_bytes() -> None:
    """Non-ASCII characters count by their UTF-8 size."""
    n = MAX_BYTES // 2  # two bytes each in UTF-8
    assert paths_of({"claims": {"x": "é" * n}}) == ["token"]


def test_every_problem_is_reported_at_once() -> None:
    """One call lists every problem, each with its JSON path."""
    errs = errors_of(
        {
            "extra": 1,
            "scopes": ["ok", "bad scope", "ok"],
            "claims": {"sub": "x", "cognito:groups": ["admin"], "fine": "y", "nul": None},
        }
    )
    assert [e["path"] for e in errs] == [
        "token.extra",
        "token.scopes[1]",
        "token.scopes[2]",
        "token.claims.cognito:groups",
        "token.claims.nul",
        "token.claims.sub",
    ]
    assert "6 problems" in str(TokenSettingsError(errs))


def test_error_is_a_value_error() -> None:
    """Callers that know only the standard library can catch it as ValueError."""
    with pytest.raises(ValueError, match="reserved claim"):
        TokenSettings.from_dict({"claims": {"iss": "x"}})


# -- lenient reads (the trigger's defence in depth) -----------------------------


def test_from_stored_keeps_valid_entries_and_reports_bad_ones() -> None:
    """A stored item with a reserved claim keeps its other claims and scopes."""
    settings, problems = TokenSettings.from_stored(
        {
            "scopes": ["orders/read", "aws.cognito.signin.user.admin", "bad scope"],
            "claims": {"tenant": "acme", "sub": "attacker", "cognito:groups": "admins"},
        }
    )
    assert settings.scopes == ("orders/read",)
    assert dict(settings.claims) == {"tenant": "acme"}
    assert [p["path"] for p in problems] == [
        "token.scopes[1]",
        "token.scopes[2]",
        "token.claims.cognito:groups",
        "token.claims.sub",
    ]


def test_from_stored_of_garbage_is_empty() -> None:
    """A stored value that is not an object yields no settings and one problem."""
    settings, problems = TokenSettings.from_stored(["not", "an", "object"])
    assert settings.empty
    assert problems == [{"path": "token", "message": "must be an object"}]


# -- merge rule -----------------------------------------------------------------


def ts(obj: dict[str, Any]) -> TokenSettings:
    return TokenSettings.from_dict(obj)


def test_merge_unions_scopes_sorted() -> None:
    """Scopes of all groups are unioned, sorted and deduplicated."""
    merged = merge_token_settings(
        {"b": ts({"scopes": ["x", "z"]}), "a": ts({"scopes": ["y", "x"]})}
    )
    assert merged.scopes == ("x", "y", "z")
    assert merged.conflicts == ()


def test_merge_first_group_by_name_wins_a_conflict() -> None:
    """When groups disagree on a claim, the group whose name sorts first wins."""
    merged = merge_token_settings(
        {
            "zeta": ts({"claims": {"tenant": "zeta-co", "z": 1}}),
            "alpha": ts({"claims": {"tenant": "alpha-co"}}),
            "mid": ts({"claims": {"tenant": "mid-co", "a": True}}),
        }
    )
    assert dict(merged.claims) == {"a": True, "tenant": "alpha-co", "z": 1}
    assert merged.conflicts == (Conflict("tenant", "alpha", ("mid", "zeta")),)


def test_merge_is_independent_of_input_order() -> None:
    """The same groups in any order merge to the same result."""
    a = ts({"claims": {"k": "from-a"}, "scopes": ["s1"]})
    b = ts({"claims": {"k": "from-b"}, "scopes": ["s2"]})
    one = merge_token_settings({"a": a, "b": b})
    two = merge_token_settings({"b": b, "a": a})
    assert one == two
    assert one.claims["k"] == "from-a"


def test_merge_equal_values_are_no_conflict() -> None:
    """Two groups setting the same value do not conflict."""
    merged = merge_token_settings(
        {"a": ts({"claims": {"k": {"x": [1, 2]}}}), "b": ts({"claims": {"k": {"x": [1, 2]}}})}
    )
    assert merged.conflicts == ()


def test_merge_distinguishes_types() -> None:
    """1, 1.0, true and "1" are different values."""
    merged = merge_token_settings(
        {
            "a": ts({"claims": {"k": 1}}),
            "b": ts({"claims": {"k": True}}),
            "c": ts({"claims": {"k": "1"}}),
        }
    )
    assert merged.claims["k"] == 1
    assert merged.claims["k"] is not True
    assert merged.conflicts == (Conflict("k", "a", ("b", "c")),)


def test_merge_of_nothing_is_empty() -> None:
    """No groups, no settings."""
    merged = merge_token_settings({})
    assert merged.empty
    assert json.dumps(dict(merged.claims)) == "{}"


# -- identity claims (forged verified email and friends) ------------------------

OIDC_NAMES = [
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "address",
    "updated_at",
]


def test_the_oidc_standard_claim_list_is_complete() -> None:
    """Every OpenID Connect standard claim named by the issue is refused."""
    assert set(OIDC_NAMES) == OIDC_STANDARD_CLAIMS


@pytest.mark.parametrize("name", OIDC_NAMES)
def test_group_cannot_give_members_a_verified_looking_identity(name: str) -> None:
    """email next to Cognito's real email_verified: true would be a forged verified address."""
    errs = errors_of({"claims": {name: "ceo@example.com"}})
    assert [e["path"] for e in errs] == [f"token.claims.{name}"]
    assert "OpenID Connect standard claim" in errs[0]["message"]


@pytest.mark.parametrize("name", ["custom:tenant", "custom:", "CUSTOM:role", "Custom:x"])
def test_custom_attributes_cannot_be_forged(name: str) -> None:
    """custom:* claims read as the user's own Cognito attributes."""
    assert errors_of({"claims": {name: "x"}}) == [
        {
            "path": f"token.claims.{name}",
            "message": "claims starting with 'custom:' are reserved, in any letter case",
        }
    ]


@pytest.mark.parametrize(
    "name",
    [
        "Sub",
        "SUB",
        "Cognito:groups",
        "COGNITO:USERNAME",
        "Email",
        "eMail",
        "Phone_Number",
        "Email_Verified",
        "Dev:x",
        "\uff53\uff55\uff42",  # fullwidth "sub"
        "\u017fub",  # long s + "ub" folds to "sub"
    ],
)
def test_case_variants_of_reserved_names_are_refused(name: str) -> None:
    """A case (or compatibility) variant of a refused name is refused like the name itself."""
    assert paths_of({"claims": {name: "x"}}) == [f"token.claims.{name}"]


@pytest.mark.parametrize(
    "name",
    sorted(RESERVED_CLAIMS | OIDC_STANDARD_CLAIMS) + [p + "x" for p in RESERVED_CLAIM_PREFIXES],
)
def test_every_refused_name_is_refused_upper_case_too(name: str) -> None:
    """Upper-casing any refused name does not get it through."""
    assert paths_of({"claims": {name.upper(): "x"}}) == [f"token.claims.{name.upper()}"]


@pytest.mark.parametrize("scope", sorted(RESERVED_SCOPES))
def test_every_reserved_scope_is_refused_upper_case_too(scope: str) -> None:
    """Upper-casing a Cognito-managed scope does not get it through."""
    assert paths_of({"scopes": [scope.upper()]}) == ["token.scopes[0]"]


def test_names_that_merely_contain_an_identity_claim_stay_allowed() -> None:
    """Refusal is by whole name: tenant_email or emails are ordinary claims."""
    claims = {"tenant_email": "x", "emails": "y", "subscription": "z", "customer": "w"}
    assert dict(TokenSettings.from_dict({"claims": claims}).claims) == claims


def test_stored_forged_identity_claims_are_dropped_and_reported() -> None:
    """Settings stored before these rules keep their legitimate parts only."""
    settings, problems = TokenSettings.from_stored(
        {
            "scopes": ["orders/read", "openid", "Email"],
            "claims": {"tenant": "acme", "email": "ceo@example.com", "Sub": "x", "custom:a": 1},
        }
    )
    assert settings.scopes == ("orders/read",)
    assert dict(settings.claims) == {"tenant": "acme"}
    assert [p["path"] for p in problems] == [
        "token.scopes[1]",
        "token.scopes[2]",
        "token.claims.Sub",
        "token.claims.custom:a",
        "token.claims.email",
    ]
