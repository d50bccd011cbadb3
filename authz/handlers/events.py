"""Authorizer events in, authorizer context out: what the handler reads and writes.

``extract`` tells the five event flavours apart and finds the token (see
``authz.handlers.authorizer`` for the table); ``context_of`` is the flat
context API Gateway hands to the backend. Standard library only: the
authorizer imports this on its cold path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from authz.service import Outcome
    from authz.settings import TokenSource

__all__ = ["UnsupportedEvent", "context_of", "encode_names", "extract"]


class UnsupportedEvent(ValueError):
    """The event is not one of the authorizer payloads this handler knows."""


# -- event parsing ------------------------------------------------------------------


def _bearer(value: object) -> str | None:
    """The token in a header/parameter value: optional ``Bearer`` scheme stripped."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].lstrip()
    return value or None


def _header(headers: object, name: str) -> object:
    if not isinstance(headers, Mapping):
        return None
    found = headers.get(name)
    if found is None:
        lowered = name.lower()
        found = headers.get(lowered)
        if found is None:
            for key, value in headers.items():
                if isinstance(key, str) and key.lower() == lowered:
                    return value
    return found


def _from_sources(event: Mapping[str, Any], sources: tuple[TokenSource, ...]) -> str | None:
    for source in sources:
        if source.kind == "header":
            raw = _header(event.get("headers"), source.name)
        else:
            query = event.get("queryStringParameters")
            raw = query.get(source.name) if isinstance(query, Mapping) else None
        token = _bearer(raw)
        if token is not None:
            return token
    return None


def extract(event: object, sources: tuple[TokenSource, ...]) -> tuple[str, str | None, str]:
    """``(flavour, token or None, methodArn)`` of an authorizer event.

    ``flavour`` is ``token``, ``request``, ``http1``, ``http2`` or ``websocket``.
    Raises UnsupportedEvent when the event is none of them or lacks its ARN.
    """
    # type() first: an ABC isinstance check costs more than the rest of this function.
    if type(event) is not dict and not isinstance(event, Mapping):
        raise UnsupportedEvent(f"expected an event object, got {type(event).__name__}")
    version = event.get("version")
    if version == "2.0":
        kind, arn = "http2", event.get("routeArn")
        token = _from_sources(event, sources)
    elif event.get("type") == "TOKEN":
        kind, arn = "token", event.get("methodArn")
        token = _bearer(event.get("authorizationToken"))
    elif version == "1.0":
        kind, arn = "http1", event.get("methodArn")
        token = _from_sources(event, sources)
    elif event.get("type") == "REQUEST":
        ctx = event.get("requestContext")
        connect = isinstance(ctx, Mapping) and (
            ctx.get("eventType") == "CONNECT" or ctx.get("routeKey") == "$connect"
        )
        kind, arn = ("websocket" if connect else "request"), event.get("methodArn")
        token = _from_sources(event, sources)
    else:
        raise UnsupportedEvent("not an API Gateway authorizer event (no type TOKEN/REQUEST)")
    if not isinstance(arn, str) or not arn:
        raise UnsupportedEvent(f"{kind} authorizer event without its method/route ARN")
    return kind, token, arn


# -- responses ----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def encode_names(names: tuple[str, ...]) -> str:
    """A list of group or scope names as one context string: a compact JSON array.

    Cognito allows commas (and spaces, quotes) in group names, so a joined
    string is ambiguous: ``support`` + ``ops,authz-admins`` would read as
    three groups. A JSON array is exact, and a reader still splitting on
    commas sees ``["support"`` and never a real group name: it fails closed.
    Memoised because the same few group sets come back on every request.
    """
    return json.dumps(list(names), separators=(",", ":"))


def context_of(outcome: Outcome) -> dict[str, str | int | bool]:
    """The flat context API Gateway passes to the backend (strings and numbers only);
    ``groups`` and ``scopes`` are JSON arrays serialised as strings."""
    p = outcome.principal
    ctx: dict[str, str | int | bool] = {"sub": p.sub, "token_use": p.token_use}
    if p.username is not None:
        ctx["username"] = p.username
    if p.client_id is not None:
        ctx["client_id"] = p.client_id
    ctx["groups"] = encode_names(p.groups)
    ctx["scopes"] = encode_names(p.scopes)
    if outcome.epoch is not None:
        ctx["epoch"] = outcome.epoch
    return ctx
