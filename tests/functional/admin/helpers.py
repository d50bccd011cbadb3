"""Drive the admin handler with API Gateway REST proxy events, as the authorizer decorated them."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

ADMIN_GROUP = "authz-admins"
EVENTS = Path(__file__).resolve().parents[2] / "events"
_TEMPLATE = json.loads((EVENTS / "admin_put_policy.json").read_text())

_MISSING: Any = object()


def doc(*resources: str, effect: str = "Allow", sid: str | None = None) -> dict[str, Any]:
    """A valid policy document allowing (or denying) ``resources``."""
    statement: dict[str, Any] = {
        "Effect": effect,
        "Action": "execute-api:Invoke",
        "Resource": list(resources or ("arn:aws:execute-api:*:*:*/*/GET/orders/*",)),
    }
    if sid is not None:
        statement["Sid"] = sid
    return {"Version": "2012-10-17", "Statement": [statement]}


def policy_path(kind: str, name: str, suffix: str = "") -> str:
    """The request path of a policy, its name percent-encoded like a client sends it."""
    return f"/policies/{kind}/{quote(name, safe='')}{suffix}"


def event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    groups: Any = f'["{ADMIN_GROUP}","support"]',
    username: str | None = "alice",
    authorizer: Any = _MISSING,
    resource: str = "/{proxy+}",
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST proxy event for ``method path`` from the template in tests/events/."""
    ev: dict[str, Any] = copy.deepcopy(_TEMPLATE)
    ev["httpMethod"] = method
    ev["path"] = path
    ev["resource"] = resource
    ev["requestContext"]["httpMethod"] = method
    ev["requestContext"]["resourcePath"] = resource
    ev["requestContext"]["path"] = "/prod" + path
    ev["pathParameters"] = (
        path_parameters if path_parameters is not None else {"proxy": path.lstrip("/")}
    )
    hdrs = {"Accept": "application/json", "Content-Type": "application/json"}
    hdrs.update(headers or {})
    ev["headers"] = hdrs
    ev["multiValueHeaders"] = {k: [v] for k, v in hdrs.items()}
    ev["queryStringParameters"] = dict(query) if query else None
    ev["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    if raw_body is not None:
        ev["body"] = raw_body
    else:
        ev["body"] = None if body is None else json.dumps(body)
    ctx = ev["requestContext"]
    if authorizer is not _MISSING:
        if authorizer is None:
            ctx.pop("authorizer", None)
        else:
            ctx["authorizer"] = authorizer
    else:
        ctx["authorizer"]["groups"] = groups
        if username is None:
            ctx["authorizer"].pop("username", None)
        else:
            ctx["authorizer"]["username"] = username
    return ev


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            code: str = self.body["error"]["code"]
            return code
        return None


def reply(raw: dict[str, Any]) -> Reply:
    """Normalise a proxy integration result (headers or multiValueHeaders) for assertions."""
    headers: dict[str, str] = {}
    for k, v in (raw.get("headers") or {}).items():
        headers[k.lower()] = v
    for k, vs in (raw.get("multiValueHeaders") or {}).items():
        headers[k.lower()] = ", ".join(vs)
    body = raw.get("body")
    parsed = json.loads(body) if body else None
    return Reply(raw["statusCode"], headers, parsed)


def call(app: Any, method: str, path: str, **kwargs: Any) -> Reply:
    return reply(app(event(method, path, **kwargs), None))
