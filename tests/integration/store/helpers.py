"""Documents and seeding shared by the store's integration tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from authz.policy.document import PolicyDocument
from authz.policy.selector import Selector
from authz.store.models import LIST_PK, POLICY_SK, PolicyItem


def doc(path: str = "orders/*", effect: str = "Allow") -> PolicyDocument:
    return PolicyDocument.from_dict(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": effect,
                    "Action": "execute-api:Invoke",
                    "Resource": f"arn:aws:execute-api:*:*:*/*/GET/{path}",
                }
            ],
        }
    )


def seed_policies(client: Any, table: str, selectors: Iterable[Selector]) -> None:
    """Write version-1 policy items directly (25 per BatchWriteItem), serialized by the model."""
    at = datetime(2024, 1, 1, tzinfo=UTC)
    requests = []
    for s in selectors:
        item = PolicyItem(
            pk=str(s),
            sk=POLICY_SK,
            list_pk=LIST_PK,
            list_sk=str(s),
            document=doc(f"{s.kind}/{len(requests)}").to_dict(),
            description=f"seeded {s}",
            updated_at=at,
            updated_by="seed",
        )
        item.version = 1
        requests.append({"PutRequest": {"Item": item.serialize()}})
    for start in range(0, len(requests), 25):
        pending: dict[str, Any] = {table: requests[start : start + 25]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def groups(n: int, prefix: str = "g") -> list[Selector]:
    return [Selector("group", f"{prefix}{i:04d}") for i in range(n)]
