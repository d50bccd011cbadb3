"""The authorizer's revocation set where its bounds are subtle: a racing request
during an epoch move, an epoch that cannot be read, revocations that expire.

In memory, with a verifier that trusts the token text as the ``sub`` (no network).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from authz.errors import RevokedTokenError, StoreUnavailableError
from authz.policy import PolicyDocument
from authz.revocations import Revocation, Target
from authz.service.authorizer import Authorizer
from authz.settings import CacheConfig
from authz.store.memory import MemoryRepository
from authz.token.principal import Principal

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/orders/1"
ALLOW_ALL = PolicyDocument.from_dict(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "execute-api:/*/GET/*"}
        ],
    }
)
START = 1_800_000_000.0  # wall clock at monotonic 1000


class Clocks:
    """A monotonic clock and the wall clock it implies, moved together."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return START + self.now - 1000.0

    def wall_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)


class Verifier:
    """Every token is valid: its text is the sub; issued and signed in at START - 60."""

    def verify(self, token: str) -> Principal:
        issued = int(START) - 60
        claims = {"sub": token, "iat": issued, "auth_time": issued, "jti": f"j-{token}"}
        return Principal(
            sub=token,
            username=token,
            client_id="c",
            token_use="access",
            groups=(),
            scopes=(),
            issuer="i",
            expires_at=int(START) + 10 * 86_400,
            claims=claims,
        )


class EpochDown(MemoryRepository):
    """Only the epoch item's reads fail (a throttled hot key); every other read works."""

    epoch_down = False

    def epoch(self) -> int:
        if self.epoch_down:
            raise StoreUnavailableError("injected: epoch GetItem throttled")
        return super().epoch()


def build(clocks: Clocks, **config: float) -> tuple[Authorizer, EpochDown]:
    repo = EpochDown({"default": ALLOW_ALL}, clock=clocks.wall_datetime)
    cache = CacheConfig(epoch_check_seconds=5, ttl_seconds=30, stale_if_error_seconds=60, **config)
    return Authorizer(Verifier(), repo, cache=cache, clock=clocks, wall_clock=clocks.wall), repo


def revoke(repo: MemoryRepository, clocks: Clocks, sub: str, *, lifetime: int = 86_400) -> None:
    repo.revoke(
        Revocation.new(
            Target("sub", sub),
            reason="test",
            revoked_by="admin",
            revoked_at=clocks.wall_datetime(),
            max_token_lifetime=lifetime,
        )
    )


def allowed(authorizer: Authorizer, token: str) -> bool:
    return authorizer.authorize(token, ARN).decision.allowed


def test_a_request_racing_an_epoch_move_does_not_remember_a_revoked_token() -> None:
    clocks = Clocks()
    authorizer, repo = build(clocks)
    assert allowed(authorizer, "alice")
    revoke(repo, clocks, "alice")
    memo = authorizer._memo
    real_clear = memo.clear
    seen: list[str] = []

    def clear_then_race() -> None:
        # Another gateway thread decides here, in the middle of Authorizer.clear().
        real_clear()
        with pytest.raises(RevokedTokenError):
            allowed(authorizer, "alice")
        seen.append("raced")

    memo.clear = clear_then_race  # type: ignore[method-assign]
    clocks.now += 5  # the next request reads the moved epoch
    with pytest.raises(RevokedTokenError):
        allowed(authorizer, "alice")
    memo.clear = real_clear  # type: ignore[method-assign]
    assert seen == ["raced"]
    clocks.now += 4
    with pytest.raises(RevokedTokenError):
        allowed(authorizer, "alice")


def test_a_failing_epoch_read_hides_a_revocation_no_longer_than_the_cache_ttl() -> None:
    clocks = Clocks()
    authorizer, repo = build(clocks)
    assert allowed(authorizer, "alice")
    revoke(repo, clocks, "alice")
    repo.epoch_down = True
    clocks.now += 10
    assert allowed(authorizer, "alice")  # within the documents' TTL: not seen yet
    clocks.now += 25  # 35 s after the load: past the 30 s TTL
    with pytest.raises(RevokedTokenError):
        allowed(authorizer, "alice")
    assert allowed(authorizer, "bob")


def test_an_expired_revocation_stops_refusing_without_an_epoch_move() -> None:
    clocks = Clocks()
    authorizer, repo = build(clocks)
    revoke(repo, clocks, "alice", lifetime=300)
    clocks.now += 1
    with pytest.raises(RevokedTokenError):
        allowed(authorizer, "alice")
    clocks.now += 300  # its TTL passed; DynamoDB's deletion writes no epoch
    assert allowed(authorizer, "alice")
