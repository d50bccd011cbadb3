"""The admin API's revocations on DynamoDB Local: write, read, lift, list, history, errors."""

from __future__ import annotations

import dataclasses
import math
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from authz.handlers.admin.app import admin_openapi, build_app
from authz.handlers.admin.routes_openapi import operations
from authz.handlers.signout import SignOutResult
from tests.functional.admin.conftest import FakeFlusher
from tests.functional.admin.helpers import call, doc, policy_path

POOL = "us-east-1_AbCdEf123"


class FakeCognito:
    """A cognito-idp client with one user, or one whose calls fail."""

    def __init__(self, users: dict[str, str] | None = None, fail: bool = False) -> None:
        self.users = users or {}  # sub -> username
        self.fail = fail
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def list_users(self, **kwargs: Any) -> Any:
        self.calls.append(("list_users", kwargs))
        if self.fail:
            raise ConnectionError("cognito-idp did not answer")
        sub = kwargs["Filter"].split('"')[1]
        found = [{"Username": self.users[sub]}] if sub in self.users else []
        return {"Users": found}

    def admin_user_global_sign_out(self, **kwargs: Any) -> Any:
        self.calls.append(("admin_user_global_sign_out", kwargs))
        return {}


@pytest.fixture
def cognito() -> FakeCognito:
    return FakeCognito({"u-1": "dana"})


@pytest.fixture
def app(make_app: Any, admin_settings: Any, cognito: FakeCognito) -> Any:
    """Wall-clock time: the table's reads drop revocations that expired by the real clock."""
    settings = dataclasses.replace(admin_settings, user_pool_id=POOL)
    return make_app(settings=settings, clock=time.time, cognito=cognito)


def revoke(app: Any, **body: Any) -> Any:
    r = call(app, "POST", "/revocations", body=body)
    assert r.status == 201, r.body
    return r


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _history(app: Any) -> list[dict[str, Any]]:
    r = call(app, "GET", "/revocation-history", query={"limit": "100"})
    assert r.status == 200
    items: list[dict[str, Any]] = r.body["items"]
    return items


# --- writing -----------------------------------------------------------------


def test_revoking_a_sub_answers_201_with_the_revocation_epoch_and_freshness(
    app: Any, admin_settings: Any
) -> None:
    before = time.time()
    r = revoke(app, sub="u-1", reason="laptop stolen")
    after = time.time()
    body = r.body
    rev = body["revocation"]
    assert body["action"] == "revoked"
    assert (rev["id"], rev["kind"], rev["value"]) == ("sub:u-1", "sub", "u-1")
    assert (rev["reason"], rev["revoked_by"], rev["until"]) == ("laptop stolen", "alice", None)
    revoked_at = _at(rev["revoked_at"]).timestamp()
    assert before - 0.001 <= revoked_at <= after + 0.001
    lifetime = admin_settings.max_token_lifetime_seconds + admin_settings.leeway_seconds
    assert _at(rev["expires_at"]).timestamp() == math.ceil(revoked_at) + lifetime
    assert body["epoch"] == body["freshness"]["epoch"] == 1
    assert body["cognito"] is None
    assert r.headers["location"] == "/revocations/sub:u-1"
    assert call(app, "GET", r.headers["location"]).body == rev


@pytest.mark.parametrize(
    ("field", "value"),
    [("origin_jti", "0b7e-4c1d-aa"), ("jti", "f00d.cafe-1"), ("sub", "ops+x=1@a~b:c")],
)
def test_each_target_kind_is_stored_under_its_id(app: Any, field: str, value: str) -> None:
    rev = revoke(app, **{field: value}).body["revocation"]
    assert rev["id"] == f"{field}:{value}"
    got = call(app, "GET", f"/revocations/{field}:{value}")
    assert (got.status, got.body) == (200, rev)


def test_until_is_kept_in_utc_and_moves_the_expiry(app: Any, admin_settings: Any) -> None:
    """A time with another offset is the same instant in UTC; expiry counts from it."""
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    plus_two = until.astimezone(timezone(timedelta(hours=2))).isoformat()
    rev = revoke(app, sub="u-2", until=plus_two).body["revocation"]
    assert rev["until"] == until.isoformat().replace("+00:00", "Z")
    lifetime = admin_settings.max_token_lifetime_seconds + admin_settings.leeway_seconds
    assert _at(rev["expires_at"]).timestamp() == until.timestamp() + lifetime


def test_each_write_bumps_the_epoch_by_one_and_revoking_again_replaces(app: Any) -> None:
    assert call(app, "PUT", policy_path("group", "readers"), body={"document": doc()}).status == 201
    first = revoke(app, sub="u-1", reason="first")
    second = revoke(app, sub="u-1", reason="second")
    assert (first.body["epoch"], second.body["epoch"]) == (2, 3)
    listed = call(app, "GET", "/revocations").body["items"]
    assert [(i["id"], i["reason"]) for i in listed] == [("sub:u-1", "second")]
    history = _history(app)
    assert [(h["action"], h["reason"]) for h in history] == [
        ("revoke", "second"),
        ("revoke", "first"),
    ]
    deleted = call(app, "DELETE", "/revocations/sub:u-1")
    assert deleted.body["epoch"] == 4


def test_the_revocation_item_carries_the_ttl_attribute(app: Any, table: Any) -> None:
    """expires_at is the number DynamoDB's TimeToLiveSpecification deletes the item by."""
    rev = revoke(app, jti="t-1").body["revocation"]
    expected = str(int(_at(rev["expires_at"]).timestamp()))
    ttl = [item["expires_at"] for item in table() if "expires_at" in item]
    assert {"N": expected} in ttl


# --- Cognito -----------------------------------------------------------------


def test_cognito_true_signs_the_user_out_everywhere(app: Any, cognito: FakeCognito) -> None:
    r = revoke(app, sub="u-1", cognito=True)
    assert r.body["cognito"] == {"signed_out": True, "username": "dana", "error": None}
    assert cognito.calls == [
        ("list_users", {"UserPoolId": POOL, "Filter": 'sub = "u-1"', "Limit": 1}),
        ("admin_user_global_sign_out", {"UserPoolId": POOL, "Username": "dana"}),
    ]


def test_a_cognito_failure_is_reported_and_the_revocation_stands(
    make_app: Any, admin_settings: Any
) -> None:
    settings = dataclasses.replace(admin_settings, user_pool_id=POOL)
    app = make_app(settings=settings, clock=time.time, cognito=FakeCognito(fail=True))
    r = revoke(app, sub="u-1", cognito=True)
    assert r.body["cognito"]["signed_out"] is False
    assert "ConnectionError" in r.body["cognito"]["error"]
    assert call(app, "GET", "/revocations/sub:u-1").status == 200


def test_an_unknown_sub_is_reported_by_cognito(app: Any, cognito: FakeCognito) -> None:
    r = revoke(app, sub="nobody", cognito=True)
    assert r.body["cognito"]["error"] == f"no user with sub nobody in {POOL}"
    assert not any(name == "admin_user_global_sign_out" for name, _ in cognito.calls)


def test_without_a_pool_id_the_sign_out_is_reported_not_attempted(
    make_app: Any, cognito: FakeCognito
) -> None:
    app = make_app(clock=time.time, cognito=cognito)
    r = revoke(app, sub="u-1", cognito=True)
    assert (
        r.body["cognito"] == SignOutResult(False, error="AUTHZ_USER_POOL_ID is not set").to_dict()
    )
    assert cognito.calls == []


def test_without_cognito_true_cognito_is_never_called(app: Any, cognito: FakeCognito) -> None:
    revoke(app, sub="u-1")
    assert cognito.calls == []


# --- lifting, listing, history -------------------------------------------------


def test_delete_lifts_the_revocation_and_records_who(app: Any) -> None:
    rev = revoke(app, origin_jti="s-1", reason="session leaked").body["revocation"]
    r = call(app, "DELETE", "/revocations/origin_jti:s-1", username="bob")
    assert r.status == 200
    assert (r.body["action"], r.body["revocation"], r.body["epoch"]) == ("deleted", rev, 2)
    assert r.body["freshness"]["epoch"] == 2
    assert call(app, "GET", "/revocations/origin_jti:s-1").status == 404
    assert call(app, "GET", "/revocations").body["items"] == []
    history = _history(app)
    assert [(h["id"], h["action"], h["by"]) for h in history] == [
        ("origin_jti:s-1", "delete", "bob"),
        ("origin_jti:s-1", "revoke", "alice"),
    ]
    assert history[1]["reason"] == "session leaked"


def test_missing_revocations_are_404_and_change_nothing(app: Any, table: Any) -> None:
    revoke(app, sub="u-1")
    before = table()
    for method in ("GET", "DELETE"):
        r = call(app, method, "/revocations/sub:u-2")
        assert (r.status, r.error_code) == (404, "not_found")
    assert table() == before


def test_listing_pages_with_next_by_kind_and_value(app: Any) -> None:
    ids = ["jti:a", "jti:b", "origin_jti:c", "sub:d", "sub:e"]
    for target in reversed(ids):
        kind, value = target.split(":")
        revoke(app, **{kind: value})
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "2", **({"next": cursor} if cursor else {})}
        r = call(app, "GET", "/revocations", query=query)
        assert r.status == 200
        assert len(r.body["items"]) <= 2
        seen += [i["id"] for i in r.body["items"]]
        cursor = r.body["next"]
        pages += 1
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))
    assert pages == 3


def test_history_pages_newest_first(app: Any) -> None:
    for n in range(3):
        revoke(app, jti=f"t-{n}")
    call(app, "DELETE", "/revocations/jti:t-0")
    first = call(app, "GET", "/revocation-history", query={"limit": "3"})
    assert len(first.body["items"]) == 3
    rest = call(app, "GET", "/revocation-history", query={"limit": "3", "next": first.body["next"]})
    assert rest.body["next"] is None
    entries = first.body["items"] + rest.body["items"]
    assert [(e["id"], e["action"]) for e in entries] == [
        ("jti:t-0", "delete"),
        ("jti:t-2", "revoke"),
        ("jti:t-1", "revoke"),
        ("jti:t-0", "revoke"),
    ]
    times = [_at(e["at"]) for e in entries]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize("path", ["/revocations", "/revocation-history"])
@pytest.mark.parametrize(
    "query", [{"limit": "0"}, {"limit": "101"}, {"next": "garbage"}, {"next": "e30"}]
)
def test_bad_limits_and_cursors_are_400(app: Any, path: str, query: dict[str, str]) -> None:
    r = call(app, "GET", path, query=query)
    assert r.status == 400
    assert r.error_code in {"invalid_request", "invalid_cursor"}


def test_a_cursor_of_the_other_listing_is_400(app: Any) -> None:
    for n in range(3):
        revoke(app, jti=f"t-{n}")
    listing = call(app, "GET", "/revocations", query={"limit": "1"}).body["next"]
    history = call(app, "GET", "/revocation-history", query={"limit": "1"}).body["next"]
    assert listing
    assert history
    swapped = [("/revocations", history), ("/revocation-history", listing)]
    for path, cursor in swapped:
        r = call(app, "GET", path, query={"next": cursor})
        assert (r.status, r.error_code) == (400, "invalid_cursor")


# --- freshness and flushing ----------------------------------------------------


def test_writes_flush_the_configured_stages(
    make_app: Any, admin_settings: Any, flusher: FakeFlusher
) -> None:
    settings = dataclasses.replace(admin_settings, stage_flush=(("api1", "prod"),))
    slept: list[float] = []
    app = make_app(settings=settings, clock=time.time, sleep=slept.append)
    r = revoke(app, sub="u-1")
    assert r.body["freshness"]["flushed"] == ["api1/prod"]
    assert r.body["freshness"]["max_staleness_seconds"] == settings.epoch_check_seconds
    d = call(app, "DELETE", "/revocations/sub:u-1")
    assert d.body["freshness"]["flushed"] == ["api1/prod"]
    assert flusher.calls == [("api1", "prod")] * 2
    assert slept == [settings.epoch_check_seconds] * 2


def test_without_stages_the_bound_includes_the_result_ttl(app: Any, admin_settings: Any) -> None:
    fresh = revoke(app, sub="u-1").body["freshness"]
    expected = admin_settings.epoch_check_seconds + admin_settings.result_ttl_seconds
    assert fresh["max_staleness_seconds"] == expected
    assert fresh["flushed"] == []


# --- refused requests ------------------------------------------------------------

FUTURE = (datetime.now(UTC) + timedelta(days=1)).isoformat()

BAD_POSTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("no target", {"body": {"reason": "x"}}, "invalid_request", "exactly one"),
    ("two targets", {"body": {"sub": "u-1", "jti": "t-1"}}, "invalid_request", "exactly one"),
    ("unknown field", {"body": {"sub": "u-1", "reasn": "x"}}, "invalid_request", ""),
    ("sub not a string", {"body": {"sub": 12}}, "invalid_request", ""),
    ("cognito not a bool", {"body": {"sub": "u-1", "cognito": "yes"}}, "invalid_request", ""),
    ("cognito on a jti", {"body": {"jti": "t-1", "cognito": True}}, "invalid_request", "sub"),
    ("space in a sub", {"body": {"sub": "u 1"}}, "invalid_revocation", "invalid sub"),
    ("slash in a jti", {"body": {"jti": "a/b"}}, "invalid_revocation", "invalid jti"),
    ("hash in an origin_jti", {"body": {"origin_jti": "a#b"}}, "invalid_revocation", "invalid"),
    ("empty sub", {"body": {"sub": ""}}, "invalid_revocation", "invalid sub"),
    ("long sub", {"body": {"sub": "x" * 257}}, "invalid_revocation", "invalid sub"),
    ("long reason", {"body": {"sub": "u-1", "reason": "r" * 1001}}, "invalid_request", ""),
    (
        "naive until",
        {"body": {"sub": "u-1", "until": FUTURE.replace("+00:00", "")}},
        "invalid_revocation",
        "offset",
    ),
    (
        "until in the past",
        {"body": {"sub": "u-1", "until": "2020-01-01T00:00:00Z"}},
        "invalid_revocation",
        "future",
    ),
    (
        "until too far",
        {"body": {"sub": "u-1", "until": "2999-01-01T00:00:00Z"}},
        "invalid_revocation",
        "within",
    ),
    ("until not a time", {"body": {"sub": "u-1", "until": "tomorrow"}}, "invalid_revocation", ""),
    (
        "unknown query",
        {"body": {"sub": "u-1"}, "query": {"dry_run": "true"}},
        "invalid_request",
        "",
    ),
    ("invalid JSON", {"raw_body": '{"sub": '}, "invalid_json", ""),
    ("no body", {}, "invalid_request", ""),
]


@pytest.fixture
def flushing_app(make_app: Any, admin_settings: Any, cognito: FakeCognito) -> Any:
    """An app that would flush a stage and call Cognito: a refused request must do neither."""
    settings = dataclasses.replace(
        admin_settings, user_pool_id=POOL, stage_flush=(("api1", "prod"),)
    )
    return make_app(settings=settings, clock=time.time, cognito=cognito, sleep=lambda _s: None)


@pytest.mark.parametrize("case", BAD_POSTS, ids=[c[0] for c in BAD_POSTS])
def test_a_bad_revocation_is_400_and_writes_nothing(
    flushing_app: Any,
    flusher: FakeFlusher,
    cognito: FakeCognito,
    table: Any,
    case: tuple[str, dict[str, Any], str, str],
) -> None:
    _, kwargs, code, says = case
    before = table()
    r = call(flushing_app, "POST", "/revocations", **kwargs)
    assert (r.status, r.error_code) == (400, code), r.body
    text = r.body["error"]["message"] + " ".join(d["message"] for d in r.body["error"]["details"])
    assert says in text
    assert table() == before
    assert flusher.calls == []
    assert cognito.calls == []


@pytest.mark.parametrize("raw", ["nope", "sub:", "role:x", "sub%2Fx", "sub:a%20b", "sub:%ff"])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_bad_id_in_the_path_is_400(app: Any, table: Any, method: str, raw: str) -> None:
    before = table()
    r = call(app, method, f"/revocations/{raw}")
    assert (r.status, r.error_code) == (400, "invalid_revocation")
    assert table() == before


def test_a_percent_encoded_id_names_the_same_revocation(app: Any) -> None:
    revoke(app, sub="a@b")
    r = call(app, "GET", "/revocations/sub%3Aa%40b")
    assert (r.status, r.body["id"]) == (200, "sub:a@b")


def test_delete_refuses_unknown_query_parameters(app: Any, table: Any) -> None:
    revoke(app, sub="u-1")
    before = table()
    r = call(app, "DELETE", "/revocations/sub:u-1", query={"dry_run": "true"})
    assert (r.status, r.error_code) == (400, "invalid_request")
    assert table() == before


ROUTES = [
    ("POST", "/revocations", {"body": {"sub": "u-1"}}),
    ("GET", "/revocations", {}),
    ("GET", "/revocations/sub:u-1", {}),
    ("DELETE", "/revocations/sub:u-1", {}),
    ("GET", "/revocation-history", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), ROUTES)
def test_callers_outside_the_admin_group_get_403(
    app: Any, table: Any, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    revoke(app, sub="u-1")
    before = table()
    r = call(app, method, path, groups='["support"]', **kwargs)
    assert (r.status, r.error_code) == (403, "forbidden")
    assert table() == before


def test_the_routes_are_in_the_openapi_document() -> None:
    documented = set(operations(admin_openapi()))
    assert {
        ("POST", "/revocations"),
        ("GET", "/revocations"),
        ("GET", "/revocations/{id}"),
        ("DELETE", "/revocations/{id}"),
        ("GET", "/revocation-history"),
    } <= documented
    post = admin_openapi()["paths"]["/revocations"]["post"]
    assert "201" in post["responses"]
    assert "RevokeBody" in admin_openapi()["components"]["schemas"]


def test_a_store_without_revocations_answers_501(admin_settings: Any) -> None:
    """A policy-only repository cannot keep revocations: say so, never pretend."""

    class PoliciesOnly:
        def epoch(self) -> int:
            return 0

    app = build_app(admin_settings, PoliciesOnly(), flusher=lambda _a, _s: None)  # type: ignore[arg-type]
    for method, path, kwargs in ROUTES:
        r = call(app, method, path, **kwargs)
        assert (r.status, r.error_code) == (501, "not_implemented"), (method, path)


@pytest.mark.parametrize("until", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00"])
def test_an_until_out_of_datetime_range_is_a_400(app: Any, until: str) -> None:
    """Converting such a time to UTC overflows; that is bad input, not a failure."""
    answer = call(app, "POST", "/revocations", body={"sub": "u-range", "until": until})
    assert answer.status == 400, answer.body
    assert answer.body["error"]["code"] == "invalid_revocation"
    assert call(app, "GET", "/revocations/sub:u-range").status == 404
