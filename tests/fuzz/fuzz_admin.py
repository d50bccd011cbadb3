"""Fuzz target ``admin``: the admin API handler on mutated REST proxy events.

The first input byte picks the event: 0 ``json.loads`` of the rest; otherwise
a valid request for one of the routes (list, get, put with and without token
settings, delete, history, simulate by principal and by token, the OpenAPI
document; catch-all ``/{proxy+}`` and explicit ``/policies/{kind}/{name}``
resources) mutated structurally, its JSON body mutated as JSON, as text, or
sent base64-encoded, or replaced by JSON nested around ``MAX_JSON_DEPTH`` or far
past it (arrays, objects, the body's own keys; balanced or not; around a lone
surrogate), as a body or as a ``next`` pagination cursor.

The app is built through ``build_app(settings, repository, verifier, flusher,
clock)`` with an in-memory repository reset before every input, a local
verifier for ``POST /simulate`` tokens and a flusher that records nothing.

Invariants: the handler never raises, whatever the
event; for an event API Gateway could send (:func:`gateway_shaped`: its
fields in its types; only the values, which clients control, are fuzzed) the
status is 2xx or 4xx (a 5xx with a store that cannot fail is a bug), while
an event of another shape may get a 500; an error carries
``{"error": {"code", "message", "details"?}}``; a 2xx body is JSON; a
rejected request changes nothing; nothing changes for a caller outside the
admin group.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from atheris import FuzzedDataProvider

from authz.handlers.admin.app import AdminApp, build_app
from authz.policy import PolicyDocument
from authz.token import JwksCache, Verifier
from tests.fuzz.common import (
    NOW,
    Vocabulary,
    deterministic_rsa_key,
    fail,
    memory_repository,
    mutate_string,
    mutations,
    pick,
)
from tests.tokens import KeyPair, access_claims, jwks, mint, settings_for

__all__ = ["check", "gateway_shaped", "seeds"]

EVENTS = Path(__file__).resolve().parents[1] / "events"
ADMIN_GROUP = "authz-admins"
ANY_API = "arn:aws:execute-api:*:*:*"


def _doc(*resources: str, effect: str = "Allow") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": effect, "Action": "execute-api:Invoke", "Resource": list(resources)}
        ],
    }


SEED: dict[str, PolicyDocument] = {
    "default": PolicyDocument.from_dict(_doc(f"{ANY_API}/*/GET/health")),
    "group:readers": PolicyDocument.from_dict(_doc(f"{ANY_API}/*/GET/orders/*")),
    "scope:orders/read": PolicyDocument.from_dict(_doc(f"{ANY_API}/*/GET/orders")),
}

# (method, path, body, headers, query): one valid request per route and variant.
ROUTES: tuple[tuple[str, str, Any, dict[str, str], dict[str, str] | None], ...] = (
    ("GET", "/policies", None, {}, {"kind": "group", "limit": "1"}),
    ("GET", "/policies", None, {}, None),
    ("GET", "/policies/group/readers", None, {}, None),
    ("GET", "/policies/scope/orders%2Fread", None, {}, None),
    (
        "PUT",
        "/policies/scope/orders%2Fread",
        {"document": _doc(f"{ANY_API}/*/GET/orders/*"), "description": "read"},
        {"If-Match": '"1"'},
        None,
    ),
    (
        "PUT",
        "/policies/group/writers",
        {
            "document": _doc(f"{ANY_API}/*/POST/orders", f"{ANY_API}/*/GET/t/${{claim:tenant}}"),
            "token": {"scopes": ["orders/write"], "claims": {"tenant": "t1"}},
        },
        {"If-None-Match": "*"},
        None,
    ),
    ("PUT", "/policies/default/default", {"document": _doc("*", effect="Deny")}, {}, None),
    ("DELETE", "/policies/group/readers", None, {"If-Match": '"1"'}, None),
    ("GET", "/policies/group/readers/history", None, {}, {"limit": "1"}),
    (
        "POST",
        "/simulate",
        {
            "principal": {"groups": ["readers"], "sub": "u1", "claims": {"tenant": "t1"}},
            "request": {"method": "GET", "path": "/orders/1"},
        },
        {},
        None,
    ),
    (
        "POST",
        "/simulate",
        {"token": "<token>", "methodArn": "arn:aws:execute-api:us-east-1:123456789012:a1/p/GET/x"},
        {},
        None,
    ),
    ("GET", "/openapi.json", None, {}, None),
)

VOCAB = Vocabulary(
    keys=(
        "httpMethod",
        "path",
        "resource",
        "pathParameters",
        "kind",
        "name",
        "proxy",
        "headers",
        "multiValueHeaders",
        "If-Match",
        "if-match",
        "If-None-Match",
        "Content-Type",
        "content-type",
        "body",
        "isBase64Encoded",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "limit",
        "next",
        "requestContext",
        "authorizer",
        "groups",
        "username",
        "sub",
        "principalId",
        "stage",
        "apiId",
        "accountId",
        "document",
        "description",
        "token",
        "scopes",
        "claims",
        "principal",
        "request",
        "method",
        "methodArn",
        "region",
        "account_id",
        "api_id",
        "Version",
        "Statement",
        "Effect",
        "Action",
        "Resource",
    ),
    strings=(
        "GET",
        "PUT",
        "POST",
        "DELETE",
        "PATCH",
        "OPTIONS",
        "HEAD",
        "get",
        "/policies",
        "/policies/",
        "/policies/group/readers",
        "/policies/group/readers/",
        "/policies/group/readers/history",
        "/policies/default/default",
        "/policies/default/other",
        "/policies/scope/orders%2Fread",
        "/policies/scope/%ff",
        "/policies/group/%2F",
        "/policies/bogus/x",
        "/policies/group/a%20b",
        "/simulate",
        "/openapi.json",
        "/{proxy+}",
        "/policies/{kind}/{name}",
        "/policies/{kind}/{name}/history",
        "group",
        "scope",
        "default",
        "readers",
        "orders/read",
        ADMIN_GROUP,
        f"{ADMIN_GROUP},support",
        f" {ADMIN_GROUP} ",
        f'["{ADMIN_GROUP}","support"]',
        f'["support","ops,{ADMIN_GROUP}"]',
        f'["{ADMIN_GROUP}"',
        f'"{ADMIN_GROUP}"',
        f'[["{ADMIN_GROUP}"]]',
        f'["{ADMIN_GROUP}",1]',
        '"1"',
        '"2"',
        "1",
        'W/"1"',
        '"1", "2"',
        '"99999999999999999999"',
        "application/json",
        "text/plain",
        "application/json; charset=utf-8",
        "0",
        "101",
        "1e3",
        "eyJhZnRlciI6Imdyb3VwOnJlYWRlcnMifQ",
        "eyJhZnRlciI6MSwic2VsZWN0b3IiOiJncm91cDpyZWFkZXJzIn0",
        "eyJhZnRlciI6InNjb3BlOngifQ",
        "e30",
        "{",
        "[]",
        "2012-10-17",
        "Allow",
        "Deny",
        "execute-api:Invoke",
        f"{ANY_API}/*/GET/orders/*",
        "arn:aws:execute-api:us-east-1:123456789012:a1/p/GET/x",
        "arn:aws:execute-api",
    ),
    values=(
        _doc(f"{ANY_API}/*/GET/x"),
        [ADMIN_GROUP],
        {"scopes": ["a"], "claims": {"sub": "x"}},
        {"method": "GET", "path": "/x"},
    ),
)


class _Errors(logging.Handler):
    """Keeps the last exception the admin API logged (the cause of a 500)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.last = self.format(record)


def _endpoint(document: Mapping[str, Any]) -> Callable[[str], Mapping[str, Any]]:
    """A JWKS endpoint that is up and serves ``document`` (no network): an unknown kid
    is then a bad token (401); an unreachable one would make it a documented 500."""
    return lambda url: document


class _State:
    def __init__(self) -> None:
        key = KeyPair("fuzz-key-1", deterministic_rsa_key(1))
        # The flush path runs on every write; with a zero epoch interval it does
        # not hold each response for the 5 s the flush ordering needs in production.
        settings = settings_for(
            jwks_json=jwks(key),
            AUTHZ_ADMIN_GROUP=ADMIN_GROUP,
            AUTHZ_STAGE_FLUSH="adm1n4p1/prod",
            AUTHZ_EPOCH_CHECK_SECONDS="0",
        )
        cache = JwksCache(fetcher=_endpoint(jwks(key)))
        verifier = Verifier(settings, jwks=cache, clock=lambda: float(NOW))
        self.repository = memory_repository(SEED)
        self.app: AdminApp = build_app(
            settings,
            self.repository,
            verifier=verifier,
            flusher=lambda api, stage: None,
            clock=lambda: float(NOW),
        )
        self.token = mint(access_claims(groups=["readers"], now=NOW - 60, jti="j"), key)
        self.template = json.loads((EVENTS / "admin_put_policy.json").read_text())
        self.errors = _Errors()
        for name in ("authz", "aws_lambda_powertools"):
            log = logging.getLogger(name)
            log.addHandler(self.errors)
            log.propagate = False  # keep the fuzzer's output readable


@lru_cache(maxsize=1)
def state() -> _State:
    return _State()


def _base(fdp: FuzzedDataProvider) -> dict[str, Any]:
    s = state()
    method, path, body, headers, query = pick(fdp, ROUTES)
    event: dict[str, Any] = copy.deepcopy(s.template)
    explicit = path.startswith("/policies/") and fdp.ConsumeIntInRange(0, 3) == 0
    if explicit:
        kind, _, rest = path[len("/policies/") :].partition("/")
        name, _, suffix = rest.partition("/")
        event["resource"] = "/policies/{kind}/{name}" + ("/history" if suffix else "")
        event["pathParameters"] = {"kind": kind, "name": name.replace("%2F", "/")}
    else:
        event["resource"] = "/{proxy+}"
        event["pathParameters"] = {"proxy": path.lstrip("/")}
    event["httpMethod"] = method
    event["path"] = path
    event["requestContext"]["httpMethod"] = method
    event["requestContext"]["path"] = "/prod" + path
    event["requestContext"]["resourcePath"] = event["resource"]
    hdrs = {"Accept": "application/json", "Content-Type": "application/json", **headers}
    event["headers"] = hdrs
    event["multiValueHeaders"] = {k: [v] for k, v in hdrs.items()}
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    if body is not None:
        body = mutations(fdp, json.loads(json.dumps(body).replace("<token>", s.token)), VOCAB, 3)
    how = fdp.ConsumeIntInRange(0, 5)
    text = None if body is None else json.dumps(body)
    if text is not None and how == 4:
        text = mutate_string(fdp, text, VOCAB)
    if text is not None and how == 5:
        event["isBase64Encoded"] = True
        text = base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()
    event["body"] = text
    return event


_HEADER_NAMES = (
    "If-Match",
    "if-match",
    "If-None-Match",
    "if-none-match",
    "Content-Type",
    "content-type",
    "Accept",
    "Authorization",
    "Content-Length",
    "X-Forwarded-Proto",
)
_QUERY_NAMES = ("kind", "limit", "next", "Kind", "LIMIT", "x")
_VERBS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS")
_CONTEXT_NAMES = ("groups", "username", "sub", "principalId", "client_id", "token_use")


def _text(fdp: FuzzedDataProvider, old: object = None) -> str:
    if old is not None and fdp.ConsumeBool():
        return mutate_string(fdp, str(old), VOCAB)
    return str(pick(fdp, VOCAB.strings)) if fdp.ConsumeBool() else mutate_string(fdp, "", VOCAB)


def _edit_map(
    fdp: FuzzedDataProvider, mapping: dict[str, str] | None, names: tuple[str, ...]
) -> dict[str, str]:
    out = dict(mapping or {})
    op = fdp.ConsumeIntInRange(0, 2)
    if op == 0 and out:
        del out[pick(fdp, sorted(out))]
    elif op == 1 and out:
        key = pick(fdp, sorted(out))
        out[key] = _text(fdp, out[key])
    else:
        out[pick(fdp, names) if fdp.ConsumeBool() else _text(fdp)] = _text(fdp)
    return out


def _schema_edit(fdp: FuzzedDataProvider, event: dict[str, Any]) -> None:  # noqa: C901, PLR0912  # one branch per schema edit, chosen by the input byte
    """One edit of what a client (or our authorizer) controls, in the types API Gateway
    guarantees: headers and query strings are str -> str maps (with matching
    multi-value maps), the body a string, the method a real verb, the path a string."""
    what = fdp.ConsumeIntInRange(0, 8)
    if what == 0:
        event["headers"] = _edit_map(fdp, event.get("headers"), _HEADER_NAMES)
        event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    elif what == 1:
        query = _edit_map(fdp, event.get("queryStringParameters"), _QUERY_NAMES)
        event["queryStringParameters"] = query or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    elif what == 2:
        event["httpMethod"] = event["requestContext"]["httpMethod"] = pick(fdp, _VERBS)
    elif what == 3:
        path = _text(fdp, event.get("path"))
        event["path"] = path
        event["requestContext"]["path"] = "/prod" + path
        if event.get("resource") == "/{proxy+}":
            event["pathParameters"] = {"proxy": path.lstrip("/")}
    elif what == 4 and event.get("resource") != "/{proxy+}":
        event["pathParameters"] = _edit_map(fdp, event.get("pathParameters"), ("kind", "name"))
    elif what == 5:
        body = event.get("body")
        event["isBase64Encoded"] = False
        if isinstance(body, str) and not event.get("isBase64Encoded"):
            try:
                value = json.loads(body)
            except ValueError:
                value = body
            event["body"] = json.dumps(mutations(fdp, value, VOCAB, 2))
        else:
            event["body"] = _text(fdp)
    elif what == 6:
        event["isBase64Encoded"] = False
        event["body"] = None if fdp.ConsumeBool() else _text(fdp, event.get("body") or "")
    elif what == 7:
        authorizer = event["requestContext"].get("authorizer")
        if authorizer is None or fdp.ConsumeIntInRange(0, 9) == 0:
            event["requestContext"].pop("authorizer", None)
        else:
            event["requestContext"]["authorizer"] = _edit_map(fdp, authorizer, _CONTEXT_NAMES)
    elif not event.get("isBase64Encoded"):
        # What API Gateway sends for a binary media type: any bytes, base64-encoded.
        body = event.get("body") or ""
        raw = body.encode("utf-8", "surrogatepass") if fdp.ConsumeBool() else b""
        raw += fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 8))
        event["body"] = base64.b64encode(raw).decode("ascii")
        event["isBase64Encoded"] = True


def _str_map(value: Any, multi: bool = False) -> bool:
    if value is None:
        return True
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        return False
    if multi:
        return all(
            isinstance(v, list) and all(isinstance(i, str) for i in v) for v in value.values()
        )
    return all(isinstance(v, str) for v in value.values())


def gateway_shaped(event: Any) -> bool:
    """Could API Gateway have sent this REST proxy event? (Its fields, in its types.)"""
    if not isinstance(event, dict):
        return False
    ctx = event.get("requestContext")
    body = event.get("body")
    shaped = (
        event.get("httpMethod") in _VERBS
        and isinstance(event.get("path"), str)
        and isinstance(event.get("resource"), str)
        and all(_str_map(event.get(k)) for k in ("headers", "queryStringParameters"))
        and all(
            _str_map(event.get(k), multi=True)
            for k in ("multiValueHeaders", "multiValueQueryStringParameters")
        )
        and _str_map(event.get("pathParameters"))
        and (body is None or isinstance(body, str))
        and isinstance(event.get("isBase64Encoded", False), bool)
        and isinstance(ctx, dict)
        and (ctx.get("authorizer") is None or isinstance(ctx.get("authorizer"), dict))
    )
    if shaped and event.get("isBase64Encoded") and body is not None:
        try:
            base64.b64decode(body, validate=True)
        except ValueError:
            return False  # API Gateway only ever sends bodies it encoded itself
    return shaped


# Openers with their closers: arrays, objects, and the body's own keys, so a deep
# value also sits where the routes look for a document or token settings.
_NESTINGS = (("[", "]"), ('{"a":', "}"), ('{"document":', "}"), ('{"token":{"claims":', "}}"))
_NESTED_CORES = ('"\\ud800"', '"\ud800"', "1", '"x"', "[]", "{}", "", "nul")


def _nested(fdp: FuzzedDataProvider, most: int) -> str:
    """JSON text nested around the limit or far past it (maybe unbalanced): what must
    be refused before anything parses or walks it recursively."""
    opener, closer = pick(fdp, _NESTINGS)
    per_level = len(opener) + len(closer)
    depth = min(pick(fdp, (31, 32, 33, 64, 200, 999, 1001, 3000)), most // per_level)
    tail = closer * depth
    if fdp.ConsumeIntInRange(0, 3) == 0:
        tail = tail[: fdp.ConsumeIntInRange(0, len(tail))]
    return opener * depth + str(pick(fdp, _NESTED_CORES)) + tail


def _nesting_edit(fdp: FuzzedDataProvider, event: dict[str, Any]) -> None:
    """A deeply nested body (as text or base64) or `next` pagination cursor."""
    what = fdp.ConsumeIntInRange(0, 2)
    if what == 2:
        # A cursor's base64 must fit the 4096-character query limit to reach the decoder.
        text = _nested(fdp, 3000).encode("utf-8", "surrogatepass")
        cursor = base64.urlsafe_b64encode(text).decode("ascii").rstrip("=")
        query = {**(event.get("queryStringParameters") or {}), "next": cursor}
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
        return
    body = _nested(fdp, 60_000)
    event["isBase64Encoded"] = what == 1
    if what == 1:
        body = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode("ascii")
    event["body"] = body


def _event(data: bytes) -> Any:
    mode = data[0] % 5
    if mode == 0:
        try:
            return json.loads(data[1:])
        except (ValueError, RecursionError):
            return None
    fdp = FuzzedDataProvider(data[1:])
    event = _base(fdp)
    if mode == 1:
        return mutations(fdp, event, VOCAB, 4)
    for _ in range(fdp.ConsumeIntInRange(0, 5)):
        _schema_edit(fdp, event)
    if mode == 4 and fdp.ConsumeBool():
        _nesting_edit(fdp, event)
    return event


def _is_admin(event: Any) -> bool:
    ctx = event.get("requestContext") if isinstance(event, dict) else None
    authorizer = ctx.get("authorizer") if isinstance(ctx, dict) else None
    groups = authorizer.get("groups") if isinstance(authorizer, dict) else None
    # The context's one encoding: a JSON array of names in a string (a comma-joined
    # string is not admin, whatever it holds).
    if isinstance(groups, str):
        try:
            groups = json.loads(groups)
        except (ValueError, RecursionError):
            return False
    return (
        isinstance(groups, list)
        and all(isinstance(g, str) for g in groups)
        and ADMIN_GROUP in groups
    )


def check(data: bytes) -> None:
    """One fuzz input; raises only for a finding."""
    if not data:
        return
    s = state()
    event = _event(data)
    strict = gateway_shaped(event)
    s.repository.reset()
    s.errors.last = None
    before = s.repository.snapshot()
    if not isinstance(event, dict):
        return  # Lambda only ever passes a JSON object to a proxy integration
    response = s.app(copy.deepcopy(event), None)
    status = response.get("statusCode") if isinstance(response, dict) else None
    if type(status) is not int or not 200 <= status < (500 if strict else 600):
        fail(
            "the admin API answered outside 2xx/4xx",
            event=event,
            response=response,
            log=(s.errors.last or "")[-1500:],
        )
    body = response.get("body")
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        fail("a response body that is not JSON", event=event, response=response)
    if status >= 400:
        error = parsed.get("error") if isinstance(parsed, dict) else None
        if not (
            isinstance(error, dict)
            and isinstance(error.get("code"), str)
            and isinstance(error.get("message"), str)
            and isinstance(error.get("details", []), list)
        ):
            fail("a 4xx without the JSON error shape", event=event, response=response)
    changed = s.repository.snapshot() != before
    if changed and status >= 400:
        fail("a rejected request changed the store", event=event, response=response)
    if changed and not _is_admin(event):
        fail("a caller outside the admin group changed the store", event=event, response=response)


def seeds() -> list[bytes]:
    """Each route's valid request (as generator inputs) and one as raw JSON."""
    out = [bytes([1, i]) + b"\x00" * 24 for i in range(len(ROUTES))]
    out += [bytes([m]) + bytes(range(i, i + 40)) for m in (1, 2, 3, 4) for i in range(0, 200, 50)]
    # Mode 4 ends with a nested body or cursor about half the time; varied bytes reach
    # each shape and depth, and the fuzzer mutates from there.
    out += [bytes([4]) + bytes([b, 255 - b]) * 24 for b in range(0, 256, 9)]
    out.append(b"\x00" + json.dumps(state().template).encode())
    return out
