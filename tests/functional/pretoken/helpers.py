"""Pre token trigger events from tests/events, and the plain document seeded groups carry."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from authz.policy import PolicyDocument

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
