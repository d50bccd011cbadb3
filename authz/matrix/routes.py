"""The routes of the protected API, read from where they are declared.

Sources: an OpenAPI 3 document (JSON or YAML, API Gateway exports included),
the ``http``/``httpApi`` events of a ``serverless.yml``, ``"GET /orders/{id}"``
strings, and the ``AUTHZ_ROUTES`` setting (an inline list or a file path).
Every reader returns an ordered list without duplicates, each route spelled
``VERB /path`` as its source spells the path (a leading ``/`` is added where
serverless leaves it out). A source that cannot be read raises
``RouteSourceError`` naming the file and, where the parser knows it, the line
and column (1-based).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authz.policy.arn import VERBS

__all__ = [
    "METHODS",
    "Route",
    "RouteSourceError",
    "parse_route",
    "routes_from_document",
    "routes_from_file",
    "routes_from_openapi",
    "routes_from_serverless",
    "routes_from_setting",
    "routes_from_strings",
]

# ANY is API Gateway's method for "every verb"; a route with it stands for all of VERBS.
METHODS = (*VERBS, "ANY")
_OPENAPI_ANY = "x-amazon-apigateway-any-method"


class RouteSourceError(ValueError):
    """A route source that cannot be read: which file, where, and why."""

    def __init__(
        self, source: str, message: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.message = message
        where = source
        if line is not None:
            where += f":{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True, order=True)
class Route:
    """One route: an upper-case method (or ANY) and a path template."""

    verb: str
    path: str

    def __str__(self) -> str:
        return f"{self.verb} {self.path}"

    @property
    def verbs(self) -> tuple[str, ...]:
        """The request methods the route answers (ANY: all of them)."""
        return VERBS if self.verb == "ANY" else (self.verb,)


def _path_problem(path: str) -> str | None:
    if not path.startswith("/"):
        return f"path {path!r} must start with /"
    if any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in path):
        return f"path {path!r} may not contain spaces or control characters"
    depth = 0
    for c in path:
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth not in (0, 1):
            return f"path {path!r} has unbalanced {{ }} in a template"
    if depth:
        return f"path {path!r} has an unclosed {{ in a template"
    return None


def _route(verb: object, path: object, source: str) -> Route:
    if not isinstance(verb, str) or not isinstance(path, str):
        raise RouteSourceError(source, f"a route needs a method and a path, got {verb!r} {path!r}")
    method = "ANY" if verb.strip() == "*" else verb.strip().upper()
    if method not in METHODS:
        raise RouteSourceError(source, f"method {verb!r} is not one of {', '.join(METHODS)} (or *)")
    problem = _path_problem(path)
    if problem:
        raise RouteSourceError(source, problem)
    return Route(method, path)


def parse_route(text: str, source: str = "--route") -> Route:
    """``"GET /orders/{id}"`` -> Route; RouteSourceError naming ``source`` if malformed."""
    verb, _, path = text.strip().partition(" ")
    if not path.strip():
        raise RouteSourceError(source, f"route {text!r} must be written as 'VERB /path'")
    return _route(verb, path.strip(), source)


def _unique(routes: Iterable[Route]) -> list[Route]:
    return list(dict.fromkeys(routes))


def routes_from_strings(texts: Iterable[str], source: str = "--route") -> list[Route]:
    """Routes of ``--route`` options, in order, duplicates dropped."""
    return _unique(parse_route(t, source) for t in texts)


def routes_from_openapi(doc: object, source: str) -> list[Route]:
    """Routes of an OpenAPI 3 (or API Gateway export) document already parsed.

    ``servers``/``basePath`` are ignored: methodArns carry the resource path.
    """
    paths = doc.get("paths") if isinstance(doc, Mapping) else None
    if not isinstance(paths, Mapping):
        raise RouteSourceError(source, "an OpenAPI document needs a 'paths' object")
    out: list[Route] = []
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            raise RouteSourceError(source, f"paths[{path!r}] must be an object")
        for key in item:
            if key == _OPENAPI_ANY:
                out.append(_route("ANY", path, source))
            elif isinstance(key, str) and key.upper() in VERBS:
                out.append(_route(key, path, source))
    return _unique(out)


def _serverless_event(event: object, source: str) -> Route | None:
    if not isinstance(event, Mapping):
        return None
    for kind in ("http", "httpApi"):
        if kind not in event:
            continue
        spec = event[kind]
        verb: object
        path: object
        if isinstance(spec, str):
            if spec.strip() == "*":  # httpApi's catch-all ($default) route
                return Route("ANY", "/{proxy+}")
            verb, _, path = spec.strip().partition(" ")
        elif isinstance(spec, Mapping):
            verb, path = spec.get("method"), spec.get("path")
        else:
            raise RouteSourceError(source, f"an {kind} event must be a string or an object")
        if isinstance(path, str) and not path.startswith("/"):
            path = "/" + path
        return _route(verb, path, source)
    return None


def routes_from_serverless(doc: object, source: str) -> list[Route]:
    """Routes of the ``http``/``httpApi`` events of a parsed ``serverless.yml``."""
    functions = doc.get("functions") if isinstance(doc, Mapping) else None
    if not isinstance(functions, Mapping):
        raise RouteSourceError(source, "a serverless.yml needs a 'functions' object")
    out: list[Route] = []
    for fn in functions.values():
        events = fn.get("events") if isinstance(fn, Mapping) else None
        for event in events if isinstance(events, list) else []:
            route = _serverless_event(event, source)
            if route is not None:
                out.append(route)
    return _unique(out)


def _yaml_loader() -> Any:
    """PyYAML's SafeLoader, extended to read CloudFormation tags (``!Ref``, ``!Sub``...)
    as plain values; serverless.yml files are full of them."""
    try:
        # Imported by name: only route files need PyYAML, and it ships no type stubs.
        yaml: Any = importlib.import_module("yaml")
    except ImportError as exc:  # pragma: no cover - PyYAML is a dev dependency
        raise RouteSourceError("yaml", "reading YAML needs PyYAML: pip install pyyaml") from exc

    def plain(loader: Any, _suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_mapping(node)

    loader: Any = type("CloudFormationLoader", (yaml.SafeLoader,), {})
    loader.add_multi_constructor("!", plain)
    return yaml, loader


def _load_yaml(text: str, source: str) -> Any:
    yaml, loader = _yaml_loader()
    try:
        return yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise RouteSourceError(source, str(exc.problem or exc), line, column) from exc
    except yaml.YAMLError as exc:
        raise RouteSourceError(source, str(exc)) from exc


def _load_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RouteSourceError(source, exc.msg, exc.lineno, exc.colno) from exc


def routes_from_document(doc: object, source: str) -> list[Route]:
    """Routes of a parsed document: OpenAPI, serverless.yml or a list of route strings."""
    if isinstance(doc, Mapping) and "paths" in doc:
        return routes_from_openapi(doc, source)
    if isinstance(doc, Mapping) and "functions" in doc:
        return routes_from_serverless(doc, source)
    if isinstance(doc, list) and all(isinstance(t, str) for t in doc):
        return routes_from_strings(doc, source)
    raise RouteSourceError(
        source,
        "not a route source: expected an OpenAPI document (paths), a serverless.yml "
        "(functions) or a list of 'VERB /path' strings",
    )


def routes_from_file(path: Path | str) -> list[Route]:
    """Routes of a file: ``.json`` is read as JSON, ``.txt`` as one route a line,
    anything else as YAML (a superset of JSON)."""
    file = Path(path)
    source = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RouteSourceError(source, f"cannot read the file: {exc}") from exc
    if file.suffix == ".txt":
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        return routes_from_strings(lines, source)
    doc = _load_json(text, source) if file.suffix == ".json" else _load_yaml(text, source)
    return routes_from_document(doc, source)


def routes_from_setting(value: str, base: Path | None = None) -> list[Route]:
    """Routes of the ``AUTHZ_ROUTES`` setting.

    A JSON list (``["GET /a", ...]``), routes separated by commas or new lines
    (``GET /a, POST /b``), or else the path of a route file (relative to
    ``base`` when given).
    """
    text = value.strip()
    source = "AUTHZ_ROUTES"
    if text.startswith("["):
        return routes_from_document(_load_json(text, source), source)
    first = text.split(None, 1)[0] if text else ""
    if first.upper() in METHODS or first == "*":
        items = [t for t in text.replace("\n", ",").split(",") if t.strip()]
        return routes_from_strings(items, source)
    if not text:
        raise RouteSourceError(source, "empty: give routes ('GET /a, POST /b') or a file path")
    file = Path(text)
    return routes_from_file(base / file if base is not None and not file.is_absolute() else file)
