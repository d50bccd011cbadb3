"""Renderers: the terminal grid fits 80 columns by paging subjects, CSV and Markdown
carry the same grid, and the HTML page (parsed here) has cells, legend, hover text
and escapes user data."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

from authz.matrix import (
    LEGEND,
    Matrix,
    Route,
    build_matrix,
    render_csv,
    render_html,
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


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], dict[str, str]] = {}
        self.headers: list[str] = []
        self.legend: list[str] = []
        self.tags: set[str] = set()
        self.route: str | None = None
        self._in: list[str] = []
        self._legend = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.add(tag)
        self._in.append(tag)
        if tag == "tr" and "data-route" in a:
            self.route = a["data-route"]
        if tag == "td":
            assert self.route is not None
            self.cells[(a["data-subject"], self.route)] = a
        if tag == "ul" and a.get("class") == "legend":
            self._legend = True
        for key in ("src", "href"):
            assert key not in a, "the page must not load anything"

    def handle_endtag(self, tag: str) -> None:
        self._in.pop()
        if tag == "ul":
            self._legend = False

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "th" and "thead" in self._in:
            self.headers.append(data)
        if self._legend and data.strip():
            self.legend.append(data.strip())


def test_html_page_is_self_contained_and_escaped() -> None:
    m = _matrix()
    page = render_html(m, title="Orders <API>")
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.headers == ["route", *m.subjects]
    assert len(parser.cells) == len(m.subjects) * len(m.routes)
    for subject in m.subjects:
        for route in m.routes:
            cell = parser.cells[(subject, str(route))]
            assert cell["data-value"] == m.value(subject, route)
            assert cell["class"] == f"v-{m.value(subject, route)}"
    hover = parser.cells[("group:team-00", "GET /orders/{id}")]["title"]
    assert "group:team-00 Read (Allow)" in hover
    evil = parser.cells[("group:<b>&\"x'", "GET /o/<i>")]
    assert "group:<b>&\"x' NoAll (Deny)" in evil["title"]
    assert "<b>&" not in page
    assert "Orders &lt;API&gt;" in page
    assert any("explicit deny" in item for item in parser.legend)
    assert len([x for x in parser.legend if x in "✓·✗~"]) == 4
    assert {"input", "style", "script"} <= parser.tags
