"""One Authorizer shared by request threads, as the local stack's threaded gateway shares it.

In Lambda one container serves one request at a time; ``authz dev`` (werkzeug,
threaded) calls the same ``Authorizer`` from many threads at once, and
whichever request thread sees the policy epoch move calls ``clear()`` while
the others decide. The caches must survive that and their own eviction.
The policies come from an in-memory repository and tokens are verified up
front: DynamoDB round trips and RSA checks would only make the interleavings
rarer. (No network: this module would sit as well in tests/functional/.)
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from authz.policy import PolicyDocument, Selector
from authz.service import Authorizer
from authz.settings import CacheConfig
from authz.store.types import PolicyRecord
from authz.token.principal import Principal
from tests.tokens import KeyPair, access_claims, local_verifier, mint

KEY = KeyPair.generate("concurrency-key")
GROUPS = [f"team-{i}" for i in range(5)]
THREADS = 8
BUDGET_SECONDS = 3.0  # the race shows within ~0.2 s; a fixed cache must survive all of it
ARN = "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/orders/1"
DOCUMENT = PolicyDocument.from_dict(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": [
                    "arn:aws:execute-api:*:*:*/*/GET/orders/*",
                    "arn:aws:execute-api:*:*:*/*/GET/users/${sub}",
                ],
            }
        ],
    }
)


class MemoryPolicies:
    """The two reads the Authorizer makes, answered from a dict."""

    def __init__(self, documents: dict[Selector, PolicyDocument]) -> None:
        now = datetime.now(UTC)
        self.records = {
            s: PolicyRecord(s, d, "", 1, now, "test", None) for s, d in documents.items()
        }

    def epoch(self) -> int:
        return 1

    def get_many(self, selectors: Sequence[Selector]) -> dict[Selector, PolicyRecord]:
        return {s: self.records[s] for s in selectors if s in self.records}


class SlowHash(str):
    """A claim value whose hash takes a moment, during which other threads run.

    The policy reads ``${sub}``, so the sub is part of the key of every
    effective-policy cache entry; hashing that key while evicting it then
    lasts long enough for concurrent threads to collide on every run, where
    otherwise they collide only now and then.
    """

    __slots__ = ()

    def __hash__(self) -> int:
        time.sleep(0.0001)
        return str.__hash__(self)


class KnownTokens:
    """A TokenVerifier that verified each token once, up front."""

    def __init__(self, tokens: Sequence[str]) -> None:
        verifier = local_verifier(KEY)
        self.principals = {}
        for token in tokens:
            principal = verifier.verify(token)
            self.principals[token] = replace(principal, sub=SlowHash(principal.sub))

    def verify(self, token: str) -> Principal:
        principal: Principal = self.principals[token]
        return principal


@pytest.fixture
def frequent_switches() -> Iterator[None]:
    """Hand the GIL over every 100 us, so threads interleave inside short sections."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_concurrent_decisions_and_epoch_clears_never_fail(frequent_switches: None) -> None:
    """Threads deciding at the cache bound while the epoch guard clears the caches all
    get decisions, never an exception."""
    tokens = [
        mint(access_claims(sub=f"user-{i}", groups=[GROUPS[i % len(GROUPS)]]), KEY)
        for i in range(64)
    ]
    authorizer = Authorizer(
        KnownTokens(tokens),
        MemoryPolicies({Selector("group", g): DOCUMENT for g in GROUPS}),  # type: ignore[arg-type]  # reads only epoch() and get_many()
        cache=CacheConfig(max_entries=1, ttl_seconds=300, epoch_check_seconds=300),
    )
    errors: Counter[str] = Counter()
    decisions: Counter[bool] = Counter()
    deadline = time.monotonic() + BUDGET_SECONDS

    def decide(n: int) -> None:
        i = n * 7
        while time.monotonic() < deadline and not errors:
            i += 1
            try:
                decisions[authorizer.authorize(tokens[i % len(tokens)], ARN).allowed] += 1
            except Exception as exc:  # recorded and asserted below: any failure is the bug
                errors[f"{type(exc).__name__}: {exc}"] += 1

    def epoch_moved() -> None:
        while time.monotonic() < deadline and not errors:
            authorizer.clear()

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(THREADS)]
    threads.append(threading.Thread(target=epoch_moved))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, dict(errors)
    assert decisions[True] > 0
    assert decisions[False] == 0
