"""HTTP details of the admin API that sit before and around the routes.

- Who is calling: the authorizer already allows only the admin group onto
  these routes; the handler checks again (defence in depth) from the
  authorizer context API Gateway hands over, and refuses when that context is
  missing or lacks the group.
- Body size: refused before any parsing.
- Entity tags: ``ETag`` is the policy version, quoted per RFC 9110 (``"3"``);
  ``If-Match`` accepts quoted or bare versions, lists and ``*``.
- Names in paths: a scope such as ``orders/read`` must travel percent-encoded
  (``orders%2Fread``). REST APIs deliver ``path`` still encoded, so routes
  match one segment and the route decodes it once. When API Gateway routed
  on an explicit ``/policies/{kind}/{name}`` resource, its (decoded) path
  parameters are authoritative and the path is rebuilt from them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from authz.handlers.admin.errors import ApiError
from authz.json_depth import MAX_JSON_DEPTH, too_deep

__all__ = [
    "MAX_BODY_BYTES",
    "Caller",
    "Preconditions",
    "authorize_caller",
    "body_size",
    "canonical_event",
    "check_body_size",
    "decode_path_name",
    "etag",
    "parse_preconditions",
]

# Policies are small (the authorizer's whole effective policy must fit in
# ~8 KB); 64 KiB leaves room for descriptions and token settings while
# keeping a request far below DynamoDB's 400 KB item limit.
MAX_BODY_BYTES = 64 * 1024

_RESOURCES = {
    "/policies/{kind}/{name}": "",
    "/policies/{kind}/{name}/history": "/history",
}
_VERSION = re.compile(r"^(?:W/)?(?:\"(\d{1,18})\"|(\d{1,18}))$")


@dataclass(frozen=True, slots=True)
class Caller:
    """The admin making the request, as recorded in history (``updated_by``)."""

    identity: str
    groups: tuple[str, ...]


def _groups(raw: object) -> tuple[str, ...]:
    """The caller's groups from the authorizer context, read exactly or not at all.

    The authorizer sends ``groups`` as a JSON array serialised as a string
    (``["readers","ops,authz-admins"]``): group names may hold commas, so no
    other spelling is unambiguous. Anything else, a comma-joined string
    included, is no groups (403); never a guess. A list of strings is read as
    is (a context built in-process; API Gateway delivers only strings).
    """
    names = raw
    if isinstance(raw, str):
        try:
            names = json.loads(raw)
        except (ValueError, RecursionError):
            return ()
    if not isinstance(names, list) or not all(isinstance(g, str) for g in names):
        return ()
    return tuple(names)


def authorize_caller(event: Mapping[str, Any], admin_group: str) -> Caller:
    """The caller, if the authorizer context puts them in ``admin_group``; else 403."""
    context = event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    if not isinstance(authorizer, Mapping):
        raise ApiError(
            403, "forbidden", "no authorizer context: the admin API needs a signed-in admin"
        )
    groups = _groups(authorizer.get("groups"))
    if admin_group not in groups:
        raise ApiError(403, "forbidden", f"the caller is not in the admin group {admin_group!r}")
    for key in ("username", "sub", "principalId"):
        value = authorizer.get(key)
        if isinstance(value, str) and value.strip():
            if _has_surrogate(value):
                # Could never be written to history; and our authorizer never sends one.
                raise ApiError(403, "forbidden", f"the authorizer context's {key} is not valid")
            return Caller(value.strip(), groups)
    raise ApiError(403, "forbidden", "the authorizer context names no caller to record")


def body_size(event: Mapping[str, Any]) -> int:
    """Size in bytes of the request body as the client sent it."""
    body = event.get("body")
    if not body:
        return 0
    if not isinstance(body, str):
        return len(str(body).encode())
    if event.get("isBase64Encoded"):
        # base64 inflates by 4/3; the decoded length is what the limit is about.
        try:
            return len(base64.b64decode(body, validate=False))
        except (binascii.Error, ValueError):
            return len(body)
    # surrogatepass: a lone surrogate must not raise here; _text_body refuses it with a 400.
    return len(body.encode("utf-8", "surrogatepass"))


def check_body_size(event: Mapping[str, Any], limit: int) -> None:
    size = body_size(event)
    if size > limit:
        raise ApiError(
            413,
            "payload_too_large",
            f"request body is {size} bytes; the limit is {limit} bytes",
        )


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


def _surrogate_paths(value: Any, path: str = "") -> list[str]:
    """JSON paths of every key or string holding a lone surrogate."""
    if isinstance(value, str):
        return [path] if _has_surrogate(value) else []
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            found += [here] if _has_surrogate(str(k)) else _surrogate_paths(v, here)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _surrogate_paths(v, f"{path}[{i}]")
    return found


def _text_body(event: Mapping[str, Any]) -> str | None:
    """The body as text, decoded from base64 when flagged; 400 when it is not UTF-8.

    Text with a lone surrogate (raw, or as a JSON ``\\ud800`` escape) is refused
    here: it parses, but nothing can store or return it as UTF-8 later. So is
    JSON nested deeper than ``MAX_JSON_DEPTH``, which would exhaust the stack.
    """
    body = event.get("body")
    if body is None:
        return None
    if not isinstance(body, str):
        raise ApiError(400, "invalid_body", "the request body must be text")
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise ApiError(400, "invalid_body", "the request body is not UTF-8 text") from None
    if _has_surrogate(body):
        raise ApiError(400, "invalid_body", "the request body is not valid Unicode")
    if too_deep(body):
        # Before any parse: json.loads and every walk of its result recurse per level.
        raise ApiError(
            400, "invalid_body", f"the request body nests deeper than {MAX_JSON_DEPTH} levels"
        )
    if _SURROGATE_ESCAPE.search(body):
        try:
            parsed = json.loads(body)
        except ValueError:
            return body  # the JSON parser answers 400 for it later
        paths = _surrogate_paths(parsed)
        if paths:
            raise ApiError(
                400,
                "invalid_body",
                "the request body holds a lone UTF-16 surrogate (not valid Unicode)",
                [
                    {"path": p, "message": "not valid Unicode (a lone UTF-16 surrogate)"}
                    for p in paths
                ],
            )
    return body


def _check_shape(event: Mapping[str, Any]) -> None:
    """400 unless every field the routes read has the type API Gateway gives it."""
    for field in ("httpMethod", "path"):
        if not isinstance(event.get(field), str) or not event.get(field):
            raise ApiError(400, "invalid_request", f"the event has no {field}")
        if _has_surrogate(event[field]):
            raise ApiError(400, "invalid_request", f"the event's {field} is not valid Unicode")
    for field in ("headers", "queryStringParameters", "pathParameters"):
        value = event.get(field)
        if value is not None and not (
            isinstance(value, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        ):
            raise ApiError(400, "invalid_request", f"the event's {field} is not a string map")
        if value is not None and any(_has_surrogate(k + v) for k, v in value.items()):
            raise ApiError(400, "invalid_request", f"the event's {field} is not valid Unicode")
    for field in ("multiValueHeaders", "multiValueQueryStringParameters"):
        value = event.get(field)
        if value is not None and not (
            isinstance(value, Mapping)
            and all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(i, str) for i in v)
                for k, v in value.items()
            )
        ):
            raise ApiError(400, "invalid_request", f"the event's {field} is not a list map")


def canonical_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event as the routes expect it: well-formed, text body, encoded ``path``.

    Anything that is not shaped like an API Gateway REST proxy event is
    answered with 400 here rather than raising inside Powertools.
    """
    _check_shape(event)
    out = dict(event)
    out["body"] = _text_body(event)
    out["isBase64Encoded"] = False
    resource = event.get("resource")
    params = event.get("pathParameters") or {}
    suffix = _RESOURCES.get(resource) if isinstance(resource, str) else None
    if suffix is not None and isinstance(params, Mapping):
        kind, name = params.get("kind"), params.get("name")
        if isinstance(kind, str) and isinstance(name, str):
            out["path"] = f"/policies/{quote(kind, safe='')}/{quote(name, safe='')}{suffix}"
    return out


def decode_path_name(raw: str) -> str:
    """A URL path segment back to the policy name (one round of percent-decoding)."""
    return unquote(raw, errors="strict")


def etag(version: int) -> str:
    return f'"{version}"'


@dataclass(frozen=True, slots=True)
class Preconditions:
    """What the conditional headers ask for.

    ``versions`` is None without If-Match, empty for ``If-Match: *`` (any
    current version), else the versions that may be replaced.
    """

    versions: frozenset[int] | None = None
    create_only: bool = False

    @property
    def any_version(self) -> bool:
        return self.versions is not None and not self.versions


def parse_preconditions(
    if_match: str | None, if_none_match: str | None, *, allow_create_only: bool = True
) -> Preconditions:
    """Parse If-Match / If-None-Match; 400 for what can only be a client bug."""
    if if_match is not None and if_none_match is not None:
        raise ApiError(
            400,
            "invalid_precondition",
            "send If-Match (update) or If-None-Match: * (create), not both",
        )
    if if_none_match is not None:
        if not allow_create_only or if_none_match.strip() != "*":
            raise ApiError(
                400,
                "invalid_precondition",
                "If-None-Match supports only * (create only)"
                if allow_create_only
                else "If-None-Match is not supported on this route",
                [{"path": "If-None-Match", "message": f"got {if_none_match!r}"}],
            )
        return Preconditions(create_only=True)
    if if_match is None:
        return Preconditions()
    if if_match.strip() == "*":
        return Preconditions(versions=frozenset())
    versions: set[int] = set()
    for item in (part.strip() for part in if_match.split(",")):
        m = _VERSION.match(item)
        if not m or item.startswith("W/"):
            # Weak tags never match under If-Match (RFC 9110 strong comparison);
            # anything else is not one of our tags at all.
            raise ApiError(
                400,
                "invalid_precondition",
                'If-Match must hold ETags as returned by GET, e.g. "3"',
                [{"path": "If-Match", "message": f"not a version tag: {item!r}"}],
            )
        versions.add(int(m.group(1) or m.group(2)))
    return Preconditions(versions=frozenset(versions))
