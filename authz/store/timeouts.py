"""How long a DynamoDB call may take before it fails closed.

Every HTTP attempt is bounded by ``connect`` + ``read`` seconds and botocore
makes at most ``attempts`` of them (legacy retry mode: 50 ms, 100 ms, ...
between them). With the defaults (1 s, 1 s, 2 attempts) one request gives up
after at most 2 * 2 s + 0.05 s = 4.05 s. ``get_many`` starts no
UnprocessedKeys round after ``batch_deadline`` (2 s) has passed, so per 100
selectors it ends within 2 s + one request (6.05 s) in the worst case; a
store that is down (connection refused) fails at once.
``StoreTimeouts.worst_case_seconds`` computes these bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

from authz.netloc import is_loopback_url

__all__ = ["BATCH_GET_MAX_KEYS", "StoreTimeouts"]

BATCH_GET_MAX_KEYS = 100  # DynamoDB's BatchGetItem limit


@dataclass(frozen=True, slots=True)
class StoreTimeouts:
    """How long a DynamoDB call may take before it fails closed."""

    connect: float = 1.0  # seconds to open a connection
    read: float = 1.0  # seconds to wait for (each part of) a response
    attempts: int = 2  # HTTP attempts per request (botocore legacy retries: 50 ms, 100 ms, ...)
    batch_retries: int = 5  # extra BatchGetItem rounds for UnprocessedKeys
    batch_backoff: float = 0.02  # first pause before such a round; doubles each round
    batch_deadline: float = 2.0  # no new UnprocessedKeys round after this many seconds
    write_attempts: int = 8  # transactions per put/delete when racing other writers
    write_backoff: float = 0.02  # first pause after a TransactionConflict; doubles ...
    write_backoff_cap: float = 0.1  # ... up to this (8 attempts pause 0.64 s at most)

    @classmethod
    def for_endpoint(cls, endpoint: str | None) -> StoreTimeouts:
        """The defaults for AWS; a longer read timeout for a loopback endpoint.

        DynamoDB Local is a JVM that pauses for JIT and GC, on machines shared
        with test runs; its first CreateTable alone can pass one second. It
        stays bounded: 2 attempts * (1 s + 5 s) + 0.05 s.
        """
        if endpoint and is_loopback_url(endpoint):
            return cls(read=5.0)
        return cls()

    def request_seconds(self) -> float:
        """Worst case of one DynamoDB request, botocore retries included."""
        pauses = sum(0.05 * 2.0**i for i in range(self.attempts - 1))
        return self.attempts * (self.connect + self.read) + pauses

    def worst_case_seconds(self, selectors: int = BATCH_GET_MAX_KEYS) -> float:
        """Worst case of ``get_many`` for that many selectors."""
        chunks = max(1, -(-selectors // BATCH_GET_MAX_KEYS))
        pauses = sum(self.batch_backoff * 2.0**i for i in range(self.batch_retries))
        rounds = (1 + self.batch_retries) * self.request_seconds() + pauses
        return chunks * min(rounds, self.batch_deadline + self.request_seconds())
