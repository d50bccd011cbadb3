"""Where the CLI finds the routes of the protected API (``authz matrix``, ``policies sync``).

In order: ``--routes FILE`` and repeated ``--route "VERB /path"`` (together),
else a ``serverless.yml`` beside the policies directory, else the
``AUTHZ_ROUTES`` setting. A source that names no route counts as absent, so
the next one is tried; a source that cannot be read stops the command with
one line naming the file and position (exit 2): a matrix silently drawn from
fewer routes than the user pointed at would hide exactly what it is for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from authz.cli.common import Runtime, error
from authz.matrix import Route, RouteSourceError, routes_from_file, routes_from_setting
from authz.matrix import routes_from_strings as parse_routes

__all__ = ["HOW_TO_GIVE_ROUTES", "FoundRoutes", "find_routes", "route_options"]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USAGE = 2
SERVERLESS = "serverless.yml"
HOW_TO_GIVE_ROUTES = (
    "give --routes FILE (OpenAPI 3, API Gateway export or serverless.yml) or "
    "--route 'GET /orders/{id}' (repeat), put a serverless.yml beside the policies "
    "directory, or set AUTHZ_ROUTES"
)


@dataclass(frozen=True, slots=True)
class FoundRoutes:
    routes: list[Route]
    source: str  # where they came from, for the user


def route_options(command: F) -> F:
    """The ``--routes FILE`` and repeated ``--route`` options."""
    command = click.option(
        "--route",
        "route_texts",
        multiple=True,
        metavar="'VERB /PATH'",
        help="A route of the protected API, e.g. 'GET /orders/{id}' (repeat).",
    )(command)
    return click.option(
        "--routes",
        "routes_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The API's routes: an OpenAPI 3 document (JSON/YAML, API Gateway exports "
        "too) or a serverless.yml.",
    )(command)


def _fail(exc: RouteSourceError) -> click.exceptions.Exit:
    # One line, whatever a parser put in its message.
    error(" ".join(str(exc).split()))
    return click.exceptions.Exit(EXIT_USAGE)


def _explicit(routes_file: Path | None, route_texts: Sequence[str]) -> FoundRoutes | None:
    if routes_file is None and not route_texts:
        return None
    routes = routes_from_file(routes_file) if routes_file is not None else []
    routes = list(dict.fromkeys([*routes, *parse_routes(route_texts)]))
    if not routes:
        raise RouteSourceError(str(routes_file), "declares no routes")
    sources = [str(routes_file)] if routes_file is not None else []
    sources += ["--route"] if route_texts else []
    return FoundRoutes(routes, " and ".join(sources))


def _beside(policies_dir: Path | None) -> FoundRoutes | None:
    if policies_dir is None:
        return None
    file = policies_dir.resolve().parent / SERVERLESS
    if not file.is_file():
        return None
    routes = routes_from_file(file)
    return FoundRoutes(routes, str(file)) if routes else None


def _setting(runtime: Runtime) -> FoundRoutes | None:
    # AUTHZ_ROUTES as written: an inline list, or a file path (relative to the working directory).
    value = runtime.settings.routes
    if value is None or not value.strip():
        return None
    return FoundRoutes(routes_from_setting(value), "AUTHZ_ROUTES")


def find_routes(
    runtime: Runtime,
    *,
    routes_file: Path | None,
    route_texts: Sequence[str],
    policies_dir: Path | None,
) -> FoundRoutes | None:
    """The routes from the first source that has some, or None when no source has any.

    Raises ``click.exceptions.Exit(2)`` (after one error line) when a source
    cannot be read.
    """
    try:
        found = _explicit(routes_file, route_texts) or _beside(policies_dir)
        if found is None:
            found = _setting(runtime)
    except RouteSourceError as exc:
        raise _fail(exc) from None
    if found is not None and not found.routes:
        return None
    return found
