"""Pre token trigger events from tests/events, the plain document seeded groups carry,
and a store that cannot answer."""

from __future__ import annotations

import copy
import json
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authz.policy import PolicyDocument
from authz.settings import Settings

if TYPE_CHECKING:
    from authz.store import DynamoRepository

EVENTS = Path(__file__).resolve().parents[2] / "events"

DOCUMENT = PolicyDocument.from_dict(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:*:*:*/*/GET/health",
            }
        ],
    }
)


def load_event(name: str, **request: Any) -> dict[str, Any]:
    """A fresh copy of ``tests/events/<name>.json`` with ``request`` keys replaced."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    event["request"].update(copy.deepcopy(request))
    return event


def with_groups(name: str, groups: list[str]) -> dict[str, Any]:
    """The named event for a user in ``groups`` (in that order)."""
    return load_event(
        name,
        groupConfiguration={
            "groupsToOverride": groups,
            "iamRolesToOverride": [],
            "preferredRole": None,
        },
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unreachable_repository() -> DynamoRepository:
    """A DynamoRepository whose endpoint refuses connections, failing fast (one attempt)."""
    from authz.store import DynamoRepository, StoreTimeouts

    settings = Settings(
        table="authz-unreachable", dynamodb_endpoint=f"http://127.0.0.1:{_closed_port()}"
    )
    return DynamoRepository(
        settings, timeouts=StoreTimeouts(connect=0.2, read=0.2, attempts=1, batch_retries=0)
    )
