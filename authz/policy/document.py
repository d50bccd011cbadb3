"""The policy document model: an immutable, validated IAM policy for execute-api.

``PolicyDocument.from_dict`` is the only way untrusted JSON becomes a
document; it reports every problem at once, each with its JSON path, so an
operator fixes a file in one pass. Documents built directly (by merge,
compact, substitute) are trusted and not re-validated.

Documents are hashable values; the compiled matcher is cached on the
instance in a slot that takes no part in equality or hashing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from authz.errors import PolicyValidationError
from authz.policy.arn import SHORTHAND, check_resource
from authz.policy.variables import scan

__all__ = ["ACTIONS", "VERSION", "Effect", "PolicyDocument", "Statement"]

VERSION = "2012-10-17"
Effect = Literal["Allow", "Deny"]

# Canonical spelling by lower-case form; IAM matches actions case-insensitively.
ACTIONS = {a.lower(): a for a in ("execute-api:Invoke", "execute-api:*", "*")}
INVOKE = "execute-api:Invoke"

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


class _Errors:
    """Collects every problem so one run reports them all."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append({"path": path, "message": message})


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """One statement. ``actions`` are in canonical spelling; ``resources`` as written."""

    sid: str | None = None
    effect: Effect
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.sid is not None:
            out["Sid"] = self.sid
        out["Effect"] = self.effect
        out["Action"] = list(self.actions)
        out["Resource"] = list(self.resources)
        return out

    @property
    def invokes(self) -> bool:
        """Does any action cover execute-api:Invoke (the only action requests need)?"""
        return any(a.lower() in ACTIONS for a in self.actions)


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """An IAM policy document restricted to what an API Gateway authorizer may return.

    A document with no statements is valid as a value (it denies everything,
    e.g. a merge of nothing) but ``from_dict`` never produces one: an authored
    policy without statements is a mistake.
    """

    statements: tuple[Statement, ...]
    version: str = VERSION
    _cache: dict[str, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    @classmethod
    def from_dict(cls, obj: object) -> PolicyDocument:
        """Validate ``obj`` (parsed JSON) and build the document.

        Raises PolicyValidationError listing every problem with its JSON path.
        """
        errors = _Errors()
        err = errors.add

        if not isinstance(obj, Mapping):
            err("", f"a policy document must be a JSON object, not {_kind(obj)}")
            raise PolicyValidationError(errors.items)
        for key in obj:
            if key not in ("Version", "Statement"):
                err(str(key), _unknown_key(key, ("Version", "Statement")))
        version = obj.get("Version")
        if "Version" not in obj:
            err("Version", f'required: add "Version": "{VERSION}"')
        elif version != VERSION:
            err("Version", f'must be "{VERSION}" (got {version!r})')

        statements: list[Statement] = []
        raw = obj.get("Statement")
        if "Statement" not in obj:
            err("Statement", "required: a statement object or a non-empty list of statements")
        elif isinstance(raw, Mapping):
            st = _statement(raw, "Statement", errors)
            if st is not None:
                statements.append(st)
        elif isinstance(raw, list):
            if not raw:
                err("Statement", "must contain at least one statement")
            for i, item in enumerate(raw):
                path = f"Statement[{i}]"
                if not isinstance(item, Mapping):
                    err(path, f"a statement must be an object, not {_kind(item)}")
                    continue
                st = _statement(item, path, errors)
                if st is not None:
                    statements.append(st)
        else:
            err("Statement", f"must be a statement object or a list of them, not {_kind(raw)}")

        if isinstance(raw, list):
            seen: dict[str, int] = {}
            for i, item in enumerate(raw):
                sid = item.get("Sid") if isinstance(item, Mapping) else None
                if isinstance(sid, str):
                    if sid in seen:
                        err(
                            f"Statement[{i}].Sid",
                            f"duplicate Sid {sid!r} (also used by Statement[{seen[sid]}]); "
                            "Sids must be unique within a document",
                        )
                    else:
                        seen[sid] = i
        if errors.items:
            raise PolicyValidationError(errors.items)
        return cls(tuple(statements), VERSION)

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-able form: Statement, Action and Resource always lists."""
        return {"Version": self.version, "Statement": [s.to_dict() for s in self.statements]}

    @property
    def variables(self) -> frozenset[str]:
        """Names of the policy variables used (``sub``, ``claim:tenant``, ...).

        Callers key caches on the claims named here only.
        """
        found = self._cache.get("variables")
        if found is None:
            found = frozenset(
                name
                for s in self.statements
                for r in s.resources
                if "${" in r
                for _, _, name in scan(r)[0]
            )
            self._cache["variables"] = found
        return found

    @property
    def shorthand(self) -> bool:
        """Does any resource use ``execute-api:/...``? Such a document decides
        per API and stage (``authz.policy.expand``), so callers key caches on those."""
        found = self._cache.get("shorthand")
        if found is None:
            found = any(r.startswith(SHORTHAND) for s in self.statements for r in s.resources)
            self._cache["shorthand"] = found
        return bool(found)


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


def _statement(raw: Mapping[Any, Any], path: str, errors: _Errors) -> Statement | None:
    before = len(errors.items)
    err = errors.add
    for key in raw:
        if key in _STATEMENT_KEYS:
            continue
        if key in _UNSUPPORTED:
            err(f"{path}.{key}", _UNSUPPORTED[key])
        else:
            err(f"{path}.{key}", _unknown_key(key, _STATEMENT_KEYS))

    sid = raw.get("Sid")
    if "Sid" in raw:
        if not isinstance(sid, str):
            err(f"{path}.Sid", f"must be a string, not {_kind(sid)}")
        elif not sid or len(sid) > _MAX_SID or not (sid.isascii() and sid.isalnum()):
            err(
                f"{path}.Sid",
                f"{sid!r} is not a valid Sid: use 1-{_MAX_SID} letters and digits "
                "(A-Z, a-z, 0-9), or leave Sid out",
            )

    effect = raw.get("Effect")
    if "Effect" not in raw:
        err(f"{path}.Effect", 'required: "Allow" or "Deny"')
    elif effect not in ("Allow", "Deny"):
        hint = ""
        if isinstance(effect, str) and effect.capitalize() in ("Allow", "Deny"):
            hint = f" (case-sensitive: write {effect.capitalize()!r})"
        err(f"{path}.Effect", f'must be "Allow" or "Deny", not {effect!r}{hint}')

    actions: list[str] = []
    if "Action" not in raw:
        err(f"{path}.Action", 'required: "execute-api:Invoke"')
    else:
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

    resources: list[str] = []
    if "Resource" not in raw:
        err(
            f"{path}.Resource",
            "required: * or resources such as execute-api:/*/GET/orders/* or full ARNs",
        )
    else:
        for p, r in _string_or_list(raw["Resource"], f"{path}.Resource", "resource", err) or []:
            for message in check_resource(r):
                err(p, message)
            resources.append(r)

    if len(errors.items) != before:
        errors.items[before:] = _in_field_order(errors.items[before:], path, list(raw))
        return None
    return Statement(
        sid=sid if isinstance(sid, str) else None,
        effect=effect,  # type: ignore[arg-type]  # checked above: "Allow" or "Deny"
        actions=tuple(actions),
        resources=tuple(resources),
    )
