"""Untrusted JSON to policy statements: every problem at once, each with its JSON path.

``PolicyDocument.from_dict`` is the entry point; this module holds its
checks, so that the document model stays a model. Problems of one statement
are reported in the order its fields stand in the text, so a report reads
like the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from authz.errors import PolicyValidationError
from authz.policy.arn import check_resource
from authz.policy.document import ACTIONS, VERSION, Statement
from authz.validation import Problems

__all__ = ["parse_statements"]

_STATEMENT_KEYS = ("Sid", "Effect", "Action", "Resource")
_UNSUPPORTED = {
    "NotAction": "NotAction is not supported: list the actions in Action",
    "NotResource": "NotResource is not supported: list the resources in Resource "
    "and use a Deny statement for exceptions",
    "Principal": "Principal is not supported: the principal is whoever the policy is "
    "attached to (group, scope or default)",
    "NotPrincipal": "NotPrincipal is not supported: attach the policy to groups or scopes",
    "Condition": "Condition is not supported: express the rule in Resource patterns "
    "(policy variables such as ${sub} cover per-user resources)",
}
_MAX_SID = 128

_Add = Callable[[str, str], None]


def parse_statements(obj: object) -> tuple[Statement, ...]:
    """The statements of the policy document ``obj`` (parsed JSON).

    Raises PolicyValidationError listing every problem with its JSON path.
    """
    problems = Problems()
    if not isinstance(obj, Mapping):
        problems.add("", f"a policy document must be a JSON object, not {_kind(obj)}")
        raise PolicyValidationError(problems.as_list())
    _check_top_level(obj, problems.add)
    statements = _statements(obj, problems)
    if problems:
        raise PolicyValidationError(problems.as_list())
    return tuple(statements)


def _kind(value: object) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _unknown_key(key: object, known: tuple[str, ...]) -> str:
    for k in known:
        if isinstance(key, str) and key.lower() == k.lower():
            return f"unknown key {key!r}: keys are case-sensitive, did you mean {k!r}?"
    return f"unknown key {key!r}: allowed keys are {', '.join(known)}"


def _check_top_level(obj: Mapping[Any, Any], err: _Add) -> None:
    for key in obj:
        if key not in ("Version", "Statement"):
            err(str(key), _unknown_key(key, ("Version", "Statement")))
    version = obj.get("Version")
    if "Version" not in obj:
        err("Version", f'required: add "Version": "{VERSION}"')
    elif version != VERSION:
        err("Version", f'must be "{VERSION}" (got {version!r})')


def _statements(obj: Mapping[Any, Any], problems: Problems) -> list[Statement]:
    """The valid statements of ``obj["Statement"]`` (one object or a list of them)."""
    raw = obj.get("Statement")
    if "Statement" not in obj:
        problems.add("Statement", "required: a statement object or a non-empty list of statements")
        return []
    if isinstance(raw, Mapping):
        st = _statement(raw, "Statement", problems)
        return [st] if st is not None else []
    if not isinstance(raw, list):
        problems.add("Statement", f"must be a statement object or a list of them, not {_kind(raw)}")
        return []
    if not raw:
        problems.add("Statement", "must contain at least one statement")
    statements: list[Statement] = []
    for i, item in enumerate(raw):
        path = f"Statement[{i}]"
        if not isinstance(item, Mapping):
            problems.add(path, f"a statement must be an object, not {_kind(item)}")
            continue
        st = _statement(item, path, problems)
        if st is not None:
            statements.append(st)
    _check_unique_sids(raw, problems.add)
    return statements


def _check_unique_sids(raw: list[Any], err: _Add) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        sid = item.get("Sid") if isinstance(item, Mapping) else None
        if not isinstance(sid, str):
            continue
        if sid in seen:
            err(
                f"Statement[{i}].Sid",
                f"duplicate Sid {sid!r} (also used by Statement[{seen[sid]}]); "
                "Sids must be unique within a document",
            )
        else:
            seen[sid] = i


def _string_or_list(value: object, path: str, what: str, err: _Add) -> list[tuple[str, str]] | None:
    """(path, item) pairs of a string-or-list field, or None after reporting why not."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, list):
        if not value:
            err(path, f"must list at least one {what}")
            return None
        out: list[tuple[str, str]] = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append((f"{path}[{i}]", item))
            else:
                err(f"{path}[{i}]", f"each {what} must be a string, not {_kind(item)}")
        return out
    err(path, f"must be a string or a list of strings, not {_kind(value)}")
    return None


def _in_field_order(
    items: list[dict[str, str]], path: str, keys: list[Any]
) -> list[dict[str, str]]:
    """``items`` in the order their fields stand in the statement, so a report reads like
    the file; a missing required field goes after the fields that are there."""
    written = {str(k): i for i, k in enumerate(keys)}
    canonical = {k: len(keys) + i for i, k in enumerate(_STATEMENT_KEYS)}

    def position(item: dict[str, str]) -> int:
        field = re.split(r"[.\[]", item["path"][len(path) + 1 :], maxsplit=1)[0]
        return written.get(field, canonical.get(field, len(keys) + len(canonical)))

    return sorted(items, key=position)


def _statement(raw: Mapping[Any, Any], path: str, problems: Problems) -> Statement | None:
    """The statement ``raw`` at ``path``, or None after adding its problems to ``problems``."""
    found = Problems()
    err = found.add
    _check_statement_keys(raw, path, err)
    sid = raw.get("Sid")
    if "Sid" in raw:
        _check_sid(sid, f"{path}.Sid", err)
    effect = raw.get("Effect")
    _check_effect(raw, path, err)
    actions = _actions(raw, path, err)
    resources = _resources(raw, path, err)
    if found:
        for item in _in_field_order(found.as_list(), path, list(raw)):
            problems.add(item["path"], item["message"])
        return None
    return Statement(
        sid=sid if isinstance(sid, str) else None,
        effect=effect,  # type: ignore[arg-type]  # _check_effect: "Allow" or "Deny"
        actions=tuple(actions),
        resources=tuple(resources),
    )


def _check_statement_keys(raw: Mapping[Any, Any], path: str, err: _Add) -> None:
    for key in raw:
        if key in _STATEMENT_KEYS:
            continue
        if key in _UNSUPPORTED:
            err(f"{path}.{key}", _UNSUPPORTED[key])
        else:
            err(f"{path}.{key}", _unknown_key(key, _STATEMENT_KEYS))


def _check_sid(sid: object, path: str, err: _Add) -> None:
    if not isinstance(sid, str):
        err(path, f"must be a string, not {_kind(sid)}")
    elif not sid or len(sid) > _MAX_SID or not (sid.isascii() and sid.isalnum()):
        err(
            path,
            f"{sid!r} is not a valid Sid: use 1-{_MAX_SID} letters and digits "
            "(A-Z, a-z, 0-9), or leave Sid out",
        )


def _check_effect(raw: Mapping[Any, Any], path: str, err: _Add) -> None:
    effect = raw.get("Effect")
    if "Effect" not in raw:
        err(f"{path}.Effect", 'required: "Allow" or "Deny"')
    elif effect not in ("Allow", "Deny"):
        hint = ""
        if isinstance(effect, str) and effect.capitalize() in ("Allow", "Deny"):
            hint = f" (case-sensitive: write {effect.capitalize()!r})"
        err(f"{path}.Effect", f'must be "Allow" or "Deny", not {effect!r}{hint}')


def _actions(raw: Mapping[Any, Any], path: str, err: _Add) -> list[str]:
    """The statement's actions in canonical spelling (unsupported ones reported, left out)."""
    if "Action" not in raw:
        err(f"{path}.Action", 'required: "execute-api:Invoke"')
        return []
    actions: list[str] = []
    for p, a in _string_or_list(raw["Action"], f"{path}.Action", "action", err) or []:
        canonical = ACTIONS.get(a.lower())
        if canonical is None:
            err(
                p,
                f"unsupported action {a!r}: an authorizer policy can only grant "
                "execute-api:Invoke (or execute-api:*, *)",
            )
        else:
            actions.append(canonical)
    return actions


def _resources(raw: Mapping[Any, Any], path: str, err: _Add) -> list[str]:
    """The statement's resources as written, each one's problems reported."""
    if "Resource" not in raw:
        err(
            f"{path}.Resource",
            "required: * or resources such as execute-api:/*/GET/orders/* or full ARNs",
        )
        return []
    resources: list[str] = []
    for p, r in _string_or_list(raw["Resource"], f"{path}.Resource", "resource", err) or []:
        for message in check_resource(r):
            err(p, message)
        resources.append(r)
    return resources
