"""The local stack's demo backend: a Lambda proxy handler that echoes what it was given.

It shows what a real backend behind the authorizer receives, above all the
principal's context in ``requestContext.authorizer`` (flat, every value a
string; ``groups`` and ``scopes`` are JSON arrays in a string), which is what
a developer wants to see in the ``curl`` output of ``authz dev``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["handler"]


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Answer 200 with the method, path, path parameters and authorizer context as JSON."""
    request_context = event.get("requestContext") or {}
    body = {
        "method": event.get("httpMethod"),
        "path": event.get("path"),
        "resource": event.get("resource"),
        "pathParameters": event.get("pathParameters"),
        "queryStringParameters": event.get("queryStringParameters"),
        "authorizer": request_context.get("authorizer"),
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, sort_keys=True),
    }
