"""The pure revocation core: targets, revocations, and which claims a set refuses. No I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.revocations import (
    EMPTY,
    KINDS,
    MAX_REASON_LENGTH,
    MAX_UNTIL,
    Revocation,
    RevocationEvent,
    RevocationSet,
    Target,
    expires_at,
)

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
AT_S = int(AT.timestamp())
LIFETIME = 86_400


def revocation(
    target: Target | str,
    *,
    at: datetime = AT,
    until: datetime | None = None,
    lifetime: int = LIFETIME,
    leeway: int = 0,
    reason: str = "left the company",
) -> Revocation:
    parsed = Target.parse(target) if isinstance(target, str) else target
    return Revocation.new(
        parsed,
        reason=reason,
        revoked_by="admin",
        revoked_at=at,
        until=until,
        max_token_lifetime=lifetime,
        leeway=leeway,
    )


# -- Target ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_target_id_round_trips(kind: str) -> None:
    target = Target.parse(f"{kind}:a1.b_c:d@e+f=g~h-i")
    assert (target.kind, target.value) == (kind, "a1.b_c:d@e+f=g~h-i")
    assert Target.parse(target.id) == target
    assert str(target) == target.id


def test_target_value_may_hold_colons() -> None:
    # Only the first colon separates the kind.
    assert Target.parse("jti:a:b:c").value == "a:b:c"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sub",
        "sub-x",
        "user:abc",
        "SUB:abc",
        "jti :abc",
        ":abc",
    ],
)
def test_target_parse_rejects_bad_kinds(text: str) -> None:
    with pytest.raises(ValueError, match=r"invalid revocation id .*expected sub:VALUE"):
        Target.parse(text)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "a b",
        "a#b",
        "a/b",
        "a\tb",
        "é",
        "a%2Fb",
        "x" * 257,
    ],
)
def test_target_rejects_bad_values(value: str) -> None:
    with pytest.raises(ValueError, match=r"invalid sub .*1 to 256 characters"):
        Target.parse(f"sub:{value}")
    with pytest.raises(ValueError, match="invalid jti"):
        Target("jti", value)


def test_target_rejects_a_trailing_newline() -> None:
    with pytest.raises(ValueError, match="invalid sub"):
        Target.parse("sub:abc\n")


def test_target_value_of_256_characters_is_the_longest() -> None:
    assert len(Target("sub", "x" * 256).value) == 256


def test_target_rejects_unknown_kind_and_non_string_values() -> None:
    with pytest.raises(ValueError, match="unknown revocation kind 'user'"):
        Target("user", "abc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid sub 12"):
        Target("sub", 12)  # type: ignore[arg-type]


def test_targets_order_by_kind_then_value() -> None:
    targets = [Target.parse(t) for t in ("sub:b", "jti:z", "sub:a", "origin_jti:m")]
    assert [t.id for t in sorted(targets)] == ["jti:z", "origin_jti:m", "sub:a", "sub:b"]


# -- Revocation.new ----------------------------------------------------------------


def test_new_rejects_naive_times() -> None:
    naive = datetime(2026, 1, 2, 3, 4, 5)  # the point of the test
    with pytest.raises(ValueError, match="timezone-aware"):
        revocation("sub:a", at=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        revocation("sub:a", until=naive + timedelta(days=1))


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(seconds=-1), timedelta(days=-3)])
def test_new_rejects_until_not_in_the_future(offset: timedelta) -> None:
    with pytest.raises(ValueError, match="until must lie in the future"):
        revocation("sub:a", until=AT + offset)


def test_new_rejects_until_too_far() -> None:
    revocation("sub:a", until=AT + MAX_UNTIL)  # the limit itself is accepted
    with pytest.raises(ValueError, match=f"until must lie within {MAX_UNTIL.days} days"):
        revocation("sub:a", until=AT + MAX_UNTIL + timedelta(seconds=1))


def test_new_rejects_a_reason_that_is_too_long() -> None:
    assert revocation("sub:a", reason="r" * MAX_REASON_LENGTH).reason == "r" * MAX_REASON_LENGTH
    with pytest.raises(ValueError, match=f"longer than {MAX_REASON_LENGTH}"):
        revocation("sub:a", reason="r" * (MAX_REASON_LENGTH + 1))


def test_new_stores_times_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    at = AT.astimezone(plus_two)
    made = revocation("sub:a", at=at, until=at + timedelta(hours=1))
    assert made.revoked_at.utcoffset() == timedelta(0)
    assert made.revoked_at == AT
    assert made.until == AT + timedelta(hours=1)
    assert made.until is not None
    assert made.until.utcoffset() == timedelta(0)


# -- cutoff and expiry -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("micros", "cutoff"),
    [(0, AT_S), (1, AT_S + 1), (500_000, AT_S + 1), (999_999, AT_S + 1)],
)
def test_cutoff_rounds_up_to_the_second(micros: int, cutoff: int) -> None:
    made = revocation("sub:a", at=AT + timedelta(microseconds=micros))
    assert made.cutoff == cutoff


def test_cutoff_is_until_when_later() -> None:
    made = revocation("sub:a", until=AT + timedelta(hours=2, microseconds=1))
    assert made.cutoff == AT_S + 7200 + 1


def test_expires_at_is_cutoff_plus_lifetime_plus_leeway() -> None:
    assert revocation("jti:a", lifetime=3600, leeway=60).expires_at == AT_S + 3600 + 60
    with_until = revocation("sub:a", until=AT + timedelta(days=2), lifetime=3600, leeway=5)
    assert with_until.expires_at == with_until.cutoff + 3600 + 5
    late = AT + timedelta(microseconds=10)
    assert expires_at(late, None, 100) == AT_S + 1 + 100


def test_live_until_expiry() -> None:
    made = revocation("sub:a", lifetime=100)
    assert made.live(AT_S + 99.999)
    assert not made.live(AT_S + 100)


@pytest.mark.parametrize("kind", ["origin_jti", "jti"])
def test_until_applies_to_sub_only(kind: str) -> None:
    with pytest.raises(ValueError, match="until applies to a sub revocation only"):
        revocation(f"{kind}:a", until=AT + timedelta(hours=1))


def test_blocks_sign_in_only_while_a_sub_until_holds() -> None:
    until = AT + timedelta(hours=1)
    sub = revocation("sub:a", until=until)
    assert sub.blocks_sign_in(AT_S)
    assert sub.blocks_sign_in(until.timestamp())
    assert not sub.blocks_sign_in(until.timestamp() + 0.001)
    assert not revocation("sub:a").blocks_sign_in(AT_S)
    assert not revocation("origin_jti:a").blocks_sign_in(AT_S)


def test_to_dict() -> None:
    made = revocation(
        "sub:abc",
        at=AT + timedelta(microseconds=250_000),
        until=AT + timedelta(hours=1),
        lifetime=600,
    )
    assert made.to_dict() == {
        "id": "sub:abc",
        "kind": "sub",
        "value": "abc",
        "reason": "left the company",
        "revoked_by": "admin",
        "revoked_at": "2026-01-02T03:04:05.250000Z",
        "until": "2026-01-02T04:04:05Z",
        "expires_at": "2026-01-02T04:14:05Z",
    }
    assert revocation("jti:x").to_dict()["until"] is None


def test_event_to_dict() -> None:
    event = RevocationEvent(Target("sub", "a"), "delete", AT, "admin", "mistake")
    assert event.to_dict() == {
        "id": "sub:a",
        "action": "delete",
        "at": "2026-01-02T03:04:05Z",
        "by": "admin",
        "reason": "mistake",
        "until": None,
    }


# -- RevocationSet.match: a table -------------------------------------------------------

CUTOFF = AT_S
SET = RevocationSet.of(
    [revocation("sub:alice"), revocation("origin_jti:session-1"), revocation("jti:token-1")]
)


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"sub": "bob", "iat": 0, "jti": "t", "origin_jti": "o"}, None),
        ({"sub": "bob", "jti": "token-1", "iat": CUTOFF + 99}, "jti:token-1"),
        ({"sub": "bob", "origin_jti": "session-1", "iat": CUTOFF + 99}, "origin_jti:session-1"),
        # jti wins over the others, origin_jti over sub.
        ({"sub": "alice", "jti": "token-1", "origin_jti": "session-1"}, "jti:token-1"),
        ({"sub": "alice", "origin_jti": "session-1", "iat": 0}, "origin_jti:session-1"),
        # sub: iat or auth_time at or before the cutoff.
        ({"sub": "alice", "iat": CUTOFF - 1}, "sub:alice"),
        ({"sub": "alice", "iat": CUTOFF}, "sub:alice"),
        ({"sub": "alice", "iat": CUTOFF + 0.5}, None),
        ({"sub": "alice", "iat": CUTOFF + 1}, None),
        ({"sub": "alice", "iat": CUTOFF + 1, "auth_time": CUTOFF}, "sub:alice"),
        ({"sub": "alice", "iat": CUTOFF + 1, "auth_time": CUTOFF + 1}, None),
        ({"sub": "alice", "iat": CUTOFF + 1, "auth_time": "0"}, None),
        # A missing or non-numeric iat counts as revoked.
        ({"sub": "alice"}, "sub:alice"),
        ({"sub": "alice", "iat": None}, "sub:alice"),
        ({"sub": "alice", "iat": str(CUTOFF + 10)}, "sub:alice"),
        ({"sub": "alice", "iat": True}, "sub:alice"),
        ({"sub": "alice", "iat": [CUTOFF + 10]}, "sub:alice"),
        # Claims of other types match nothing and raise nothing.
        ({"sub": ["alice"], "iat": 0}, None),
        ({"sub": {"alice": 1}, "jti": ["token-1"], "origin_jti": {"x": "session-1"}}, None),
        ({"jti": "TOKEN-1"}, None),
        ({}, None),
    ],
)
def test_match_table(claims: Mapping[str, Any], expected: str | None) -> None:
    found = SET.match(claims)
    assert (found.id if found is not None else None) == expected


def test_sub_keeps_the_latest_cutoff() -> None:
    early = revocation("sub:alice")
    late = revocation("sub:alice", at=AT + timedelta(hours=1))
    for order in ([early, late], [late, early]):
        assert RevocationSet.of(order).subs["alice"] == late.cutoff


def test_sets_count_and_default_to_complete() -> None:
    assert len(EMPTY) == 0
    assert EMPTY.complete
    assert len(SET) == 3
    assert SET.complete
    partial = RevocationSet.of([revocation("jti:a")], complete=False)
    assert not partial.complete
    # An incomplete set still names what it holds.
    found = partial.match({"jti": "a"})
    assert found is not None
    assert found.id == "jti:a"


# -- RevocationSet.match: properties ------------------------------------------------------

VALUES = st.text(alphabet="abcdef0123456789-", min_size=1, max_size=6)
TIMES = st.integers(min_value=CUTOFF - 5, max_value=CUTOFF + 5)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)


@st.composite
def revocation_sets(draw: st.DrawFn) -> tuple[RevocationSet, list[Revocation]]:
    made = [
        revocation(
            Target(draw(st.sampled_from(KINDS)), draw(VALUES)),
            at=AT
            + timedelta(seconds=draw(st.integers(-5, 5)), microseconds=draw(st.integers(0, 9))),
        )
        for _ in range(draw(st.integers(0, 6)))
    ]
    return RevocationSet.of(made, complete=draw(st.booleans())), made


def named_ids(jti: Any, origin: Any) -> list[tuple[str, str]]:
    """The (kind, value) pairs a token's ids could be revoked under (strings only)."""
    pairs = [("jti", jti), ("origin_jti", origin)]
    return [(kind, value) for kind, value in pairs if type(value) is str]


def _numeric(value: Any) -> bool:
    return type(value) in (int, float)


def _at_or_before(value: Any, cutoff: int) -> bool:
    return _numeric(value) and bool(value <= cutoff)


@given(
    revocation_sets(),
    st.fixed_dictionaries(
        {},
        optional={
            "sub": VALUES | JSON,
            "jti": VALUES | JSON,
            "origin_jti": VALUES | JSON,
            "iat": TIMES | JSON,
            "auth_time": TIMES | JSON,
        },
    ),
)
def test_match_agrees_with_the_definition(
    drawn: tuple[RevocationSet, list[Revocation]], claims: dict[str, Any]
) -> None:
    held, made = drawn
    found = held.match(claims)
    named = {(r.target.kind, r.target.value) for r in made}
    jti, origin, sub = claims.get("jti"), claims.get("origin_jti"), claims.get("sub")
    by_id = any((kind, value) in named for kind, value in named_ids(jti, origin))
    cutoffs = [r.cutoff for r in made if r.target.kind == "sub" and r.target.value == sub]
    by_sub = False
    if type(sub) is str and cutoffs:
        iat, auth_time = claims.get("iat"), claims.get("auth_time")
        cutoff = max(cutoffs)
        by_sub = not _numeric(iat) or _at_or_before(iat, cutoff) or _at_or_before(auth_time, cutoff)
    assert (found is not None) == (by_id or by_sub)
    if found is not None:
        assert (found.kind, found.value) in named
        assert found.value == claims[found.kind]


@given(revocation_sets(), st.tuples(VALUES, VALUES, VALUES), TIMES, TIMES)
def test_a_token_no_revocation_names_is_never_matched(
    drawn: tuple[RevocationSet, list[Revocation]],
    ids: tuple[str, str, str],
    iat: int,
    auth_time: int,
) -> None:
    held, made = drawn
    sub, jti, origin = ids
    values = {r.target.value for r in made}
    claims = {"sub": sub, "jti": jti, "origin_jti": origin, "iat": iat, "auth_time": auth_time}
    if not {sub, jti, origin} & values:
        assert held.match(claims) is None


@given(revocation_sets(), st.dictionaries(st.text(max_size=10), JSON, max_size=6))
def test_claims_of_any_json_type_never_raise(
    drawn: tuple[RevocationSet, list[Revocation]], claims: dict[str, Any]
) -> None:
    found = drawn[0].match(claims)
    assert found is None or isinstance(found, Target)


@given(st.integers(0, 10**6), st.integers(0, 999_999))
def test_a_token_of_the_revocation_second_is_refused(offset: int, micros: int) -> None:
    at = AT + timedelta(seconds=offset, microseconds=micros)
    held = RevocationSet.of([revocation("sub:alice", at=at)])
    second = math.floor(at.timestamp())
    assert held.match({"sub": "alice", "iat": second}) is not None
    assert held.match({"sub": "alice", "iat": math.ceil(at.timestamp())}) is not None
    assert held.match({"sub": "alice", "iat": math.ceil(at.timestamp()) + 1}) is None


@given(revocation_sets())
def test_the_stores_rows_make_the_same_set(drawn: tuple[RevocationSet, list[Revocation]]) -> None:
    held, made = drawn
    rows = RevocationSet.from_rows(
        ((r.target, r.cutoff, r.expires_at) for r in made), complete=held.complete
    )
    assert rows == held
