"""Renderers: the terminal grid fits 80 columns by paging subjects, and CSV and
Markdown carry the same grid. The HTML page has its own tests (test_render_html.py)."""

from __future__ import annotations

import csv
import io

from authz.matrix import (
    LEGEND,
    Matrix,
    Route,
    build_matrix,
    render_csv,
    render_markdown,
    render_text,
)
from authz.policy import PolicyDocument


def _doc(effect: str, resource: str, sid: str = "S0") -> PolicyDocument:
    return PolicyDocument.from_dict(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": sid, "Effect": effect, "Action": "execute-api:Invoke", "Resource": resource}
            ],
        }
    )


def _matrix(groups: int = 2) -> Matrix:
    docs = {"default": _doc("Allow", "execute-api:/*/GET/health", "Health")}
    for i in range(groups):
        docs[f"group:team-{i:02d}"] = _doc("Allow", "execute-api:/*/GET/orders/*", "Read")
    docs["group:<b>&\"x'"] = _doc("Deny", "execute-api:/*/*", "NoAll")
    routes = [Route("GET", "/health"), Route("GET", "/orders/{id}"), Route("GET", "/o/<i>")]
    return build_matrix(docs, routes, principals=["scope:s"])


def test_text_grid_pages_subjects_to_stay_within_80_columns() -> None:
    m = _matrix(groups=12)
    text = render_text(m)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    headers = [line for line in lines if line.startswith("route")]
    assert len(headers) > 1
    for subject in m.subjects:
        assert sum(subject[:17] in h for h in headers) >= 1
    assert lines[-1] == LEGEND
    row = next(line for line in lines if line.startswith("GET /health"))
    assert "✓" in row
    assert "\x1b[" not in text


def test_text_grid_colour_is_opt_in() -> None:
    m = _matrix()
    coloured = render_text(m, color=True)
    assert "\x1b[1;31m✗\x1b[0m" in coloured
    assert "\x1b[" not in render_text(m, color=False)


def test_csv_and_markdown_carry_the_grid() -> None:
    m = _matrix()
    rows = list(csv.reader(io.StringIO(render_csv(m))))
    assert rows[0] == ["route", *m.subjects]
    by_route = {r[0]: dict(zip(rows[0][1:], r[1:], strict=True)) for r in rows[1:]}
    assert by_route["GET /orders/{id}"]["group:team-00"] == "allow"
    assert by_route["GET /orders/{id}"]["default"] == "deny"
    assert by_route["GET /health"]["group:<b>&\"x'"] == "explicit-deny"
    md = render_markdown(m).splitlines()
    assert md[0].startswith("| route | default |")
    assert md[1] == "|---|" + ":---:|" * len(m.subjects)
    assert md[2].startswith("| GET /health | ✓ |")
