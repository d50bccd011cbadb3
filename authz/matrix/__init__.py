"""The access matrix: who may call which route of an API, and what a policy change does to it.

Pure core (standard library and ``authz.policy``; PyYAML only when a YAML
route file is read): routes from their sources, cells decided from the
patterns (``language``), the grid, the impact of a change, and renderers.
"""

from authz.matrix.analyzer import Analyzer
from authz.matrix.cells import VALUES, Cell, StatementRef, Value
from authz.matrix.grid import (
    Matrix,
    Subject,
    build_matrix,
    parse_principal,
    subjects_for,
    with_principals,
)
from authz.matrix.impact import Change, impact
from authz.matrix.render_html import render_html
from authz.matrix.render_table import render_csv, render_markdown
from authz.matrix.render_text import LEGEND, SYMBOLS, render_text
from authz.matrix.routes import (
    Route,
    RouteSourceError,
    parse_route,
    routes_from_document,
    routes_from_file,
    routes_from_openapi,
    routes_from_serverless,
    routes_from_setting,
    routes_from_strings,
)
from authz.matrix.samples import SampleApi, sample_arns, sample_path

__all__ = [
    "LEGEND",
    "SYMBOLS",
    "VALUES",
    "Analyzer",
    "Cell",
    "Change",
    "Matrix",
    "Route",
    "RouteSourceError",
    "SampleApi",
    "StatementRef",
    "Subject",
    "Value",
    "build_matrix",
    "impact",
    "parse_principal",
    "parse_route",
    "render_csv",
    "render_html",
    "render_markdown",
    "render_text",
    "routes_from_document",
    "routes_from_file",
    "routes_from_openapi",
    "routes_from_serverless",
    "routes_from_setting",
    "routes_from_strings",
    "sample_arns",
    "sample_path",
    "subjects_for",
    "with_principals",
]
