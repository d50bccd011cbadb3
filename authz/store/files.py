"""The ``policies/`` directory: policy-as-code files that ``authz policies sync`` loads.

Layout (one IAM policy document per file)::

    policies/default.json                  the `default` policy
    policies/group/<name>.json             group:<name>
    policies/group/<name>.token.json       optional token settings of group:<name>
    policies/scope/<name>.json             scope:<name>

Token settings live in a sibling file so every ``<name>.json`` stays a plain
IAM policy document that other tools (and IAM's own validators) accept.

File names encode group and scope names as ``authz.store.file_names``
describes: one name has one file.

This module is pure file-format code: no click, no DynamoDB.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from authz.errors import PolicyValidationError, SelectorError, TokenSettingsError
from authz.json_depth import reject_constant
from authz.policy import PolicyDocument
from authz.policy.selector import DEFAULT, Selector
from authz.store.file_names import (
    MAX_FILE_NAME,
    POLICY_SUFFIX,
    TOKEN_SUFFIX,
    decode_file_name,
    file_for,
    token_file_for,
)
from authz.token_settings import TokenSettings

__all__ = [
    "PolicyFile",
    "PolicyTree",
    "Problem",
    "document_json",
    "read_tree",
    "token_json",
    "write_policy",
]

T = TypeVar("T")


def document_json(document: Mapping[str, Any]) -> str:
    """The canonical text of a document: what files hold and what plans diff.

    Key order is the canonical dict's own (``PolicyDocument.to_dict``), so
    ``Version`` stays first as people expect to read it.
    """
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def token_json(token: Mapping[str, Any]) -> str:
    """The canonical text of token settings."""
    return json.dumps(token, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in one file; ``path`` is the JSON path inside it ("" = the file)."""

    file: Path
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else str(self.file)
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class PolicyFile:
    selector: Selector
    file: Path
    document: PolicyDocument
    token: Mapping[str, Any] | None = None
    token_file: Path | None = None


@dataclass(frozen=True, slots=True)
class PolicyTree:
    """A whole policies directory as read: good files, problems, files that are not ours."""

    root: Path
    policies: dict[Selector, PolicyFile] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    unknown: tuple[Path, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


class _Reader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.policies: dict[Selector, PolicyFile] = {}
        self.tokens: dict[Selector, tuple[Path, Mapping[str, Any]]] = {}
        self.problems: list[Problem] = []
        self.unknown: list[Path] = []
        # Selectors whose policy or token file exists but is broken: never
        # reported again as "token settings without a policy".
        self.broken: set[Selector] = set()

    def problem(self, file: Path, path: str, message: str) -> None:
        self.problems.append(Problem(file, path, message))

    def read(self) -> PolicyTree:
        if not self.root.is_dir():
            raise NotADirectoryError(f"{self.root}: not a directory")
        for entry in _entries(self.root):
            if entry.name == "default" + POLICY_SUFFIX and entry.is_file():
                self.policy(entry, DEFAULT)
            elif entry.name in ("group", "scope") and entry.is_dir():
                self.kind_dir(entry, entry.name)
            else:
                self.unknown.append(entry)
        for selector, (token_file, _) in sorted(self.tokens.items()):
            if selector not in self.policies and selector not in self.broken:
                self.problem(
                    token_file,
                    "",
                    f"token settings without a policy: {selector} needs its policy file "
                    f"{self.root / file_for(selector)} beside them",
                )
        for selector, (token_file, token) in self.tokens.items():
            current = self.policies.get(selector)
            if current is not None:
                # An empty settings file means the same as none.
                self.policies[selector] = PolicyFile(
                    selector, current.file, current.document, token or None, token_file
                )
        return PolicyTree(
            self.root,
            # A group whose token file is broken is not half-loaded without it.
            {s: f for s, f in sorted(self.policies.items()) if s not in self.broken},
            tuple(self.problems),
            tuple(self.unknown),
        )

    def kind_dir(self, directory: Path, kind: str) -> None:
        for entry in _entries(directory):
            if not entry.is_file():
                self.unknown.append(entry)
            elif entry.name.endswith(TOKEN_SUFFIX):
                if kind != "group":
                    self.problem(entry, "", "token settings apply to groups only")
                    continue
                selector = self.selector(entry, kind, entry.name[: -len(TOKEN_SUFFIX)])
                if selector is not None:
                    self.token(entry, selector)
            elif entry.name.endswith(POLICY_SUFFIX):
                selector = self.selector(entry, kind, entry.name[: -len(POLICY_SUFFIX)])
                if selector is not None:
                    self.policy(entry, selector)
            else:
                self.unknown.append(entry)

    def selector(self, file: Path, kind: str, stem: str) -> Selector | None:
        try:
            return Selector.of(kind, decode_file_name(stem))
        except (ValueError, SelectorError) as exc:
            self.problem(file, "", f"bad file name: {exc}")
            return None

    def policy(self, file: Path, selector: Selector) -> None:
        document = self.parsed(file, selector, PolicyDocument.from_dict, lambda path: path)
        if document is not None:
            self.policies[selector] = PolicyFile(selector, file, document)

    def token(self, file: Path, selector: Selector) -> None:
        settings = self.parsed(file, selector, TokenSettings.from_dict, _in_file)
        if settings is not None:
            self.tokens[selector] = (file, settings.to_dict())

    def parsed(
        self,
        file: Path,
        selector: Selector,
        parse: Callable[[Any], T],
        in_file: Callable[[str], str],
    ) -> T | None:
        """``parse`` of the file's JSON, or None: ``selector`` is broken, each problem recorded.

        ``in_file`` turns a validator's path into one inside this file.
        """
        obj = self.load(file)
        if obj is not _INVALID:
            try:
                return parse(obj)
            except (PolicyValidationError, TokenSettingsError) as exc:
                for err in exc.errors:
                    self.problem(file, in_file(err["path"]), err["message"])
        self.broken.add(selector)
        return None

    def load(self, file: Path) -> Any:
        try:
            text = file.read_bytes().decode("utf-8")
        except OSError as exc:
            self.problem(file, "", f"cannot read: {exc.strerror or exc}")
            return _INVALID
        except UnicodeDecodeError as exc:
            self.problem(file, "", f"not UTF-8 text (byte {exc.start})")
            return _INVALID
        try:
            obj = json.loads(text, object_pairs_hook=_Object, parse_constant=reject_constant)
        except ValueError as exc:  # json.JSONDecodeError and reject_constant
            self.problem(file, "", f"not valid JSON: {exc}")
            return _INVALID
        except RecursionError:
            self.problem(file, "", "not valid JSON: nested too deeply")
            return _INVALID
        duplicates = list(_duplicates(obj, ""))
        for path, key in duplicates:
            self.problem(file, path, f"duplicate key {key!r} (JSON readers disagree on which wins)")
        return _INVALID if duplicates else _plain(obj)


_INVALID: Any = object()


def _in_file(path: str) -> str:
    # The validator names paths as the admin API's body holds them ("token.claims.x");
    # inside a token file the object itself is the root.
    if path == "token":
        return ""
    return path.removeprefix("token.")


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys it saw twice."""

    duplicates: tuple[str, ...]

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        seen: set[str] = set()
        dups: list[str] = []
        for key, _ in pairs:
            if key in seen:
                dups.append(key)
            seen.add(key)
        self.duplicates = tuple(dups)


def _duplicates(obj: Any, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(obj, _Object):
        for key in obj.duplicates:
            yield path, key
        for key, value in obj.items():
            yield from _duplicates(value, f"{path}.{key}" if path else key)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _duplicates(value, f"{path}[{i}]")


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def _entries(directory: Path) -> list[Path]:
    # Dot files (.gitkeep, .DS_Store) can never be policy files because a
    # leading '.' is always encoded, so they are not worth reporting.
    return sorted(p for p in directory.iterdir() if not p.name.startswith("."))


def read_tree(root: Path) -> PolicyTree:
    """Read and validate every file under ``root``; problems are collected, never raised.

    Raises NotADirectoryError if ``root`` is not a directory.
    """
    return _Reader(root).read()


def write_policy(
    root: Path,
    selector: Selector,
    document: Mapping[str, Any],
    token: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write one policy (and its token settings file, or remove a stale one); returns paths written.

    ``document`` and ``token`` must already be canonical (as the store hands them out).
    """
    target = root / file_for(selector)
    longest = token_file_for(selector) if token else target
    if len(longest.name) > MAX_FILE_NAME:  # encoded names are ASCII: characters == bytes
        raise ValueError(f"{selector}: encoded file name is longer than {MAX_FILE_NAME} bytes")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(document_json(document), encoding="utf-8")
    written = [target]
    if selector.kind == "group":
        token_target = root / token_file_for(selector)
        if token:
            token_target.write_text(token_json(token), encoding="utf-8")
            written.append(token_target)
        else:
            token_target.unlink(missing_ok=True)
    return written
