"""The HTML page of the matrix, checked by parsing it (``html.parser``) into a small tree.

One row per subject and one column per route, each cell's class and symbol from
the matrix, hover text naming the statements, a legend with counts, a filter
form with labels that stays hidden without script, nothing fetched from
anywhere (a CSP that pins the inline style and script by hash), and every
name escaped.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from authz.matrix import (
    SYMBOLS,
    VALUES,
    Cell,
    Matrix,
    Route,
    StatementRef,
    build_matrix,
    render_html,
)
from authz.matrix.cells import Value
from authz.policy import PolicyDocument

_VOID = {"meta", "input", "br", "img", "link", "hr", "col", "source", "wbr", "area", "base"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, tag: str | None = None) -> list[Node]:
        found: list[Node] = []
        for child in self.children:
            if isinstance(child, Node):
                if tag is None or child.tag == tag:
                    found.append(child)
                found.extend(child.all(tag))
        return found

    def kids(self, tag: str) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node) and c.tag == tag]

    def has(self, name: str, value: str) -> bool:
        if name == "class":
            return value in self.classes()
        return self.attrs.get(name) == value

    def one(self, tag: str, **attrs: str) -> Node:
        """The one ``tag`` below this node with these attributes (``class``: one of its classes)."""
        hits = [n for n in self.all(tag) if all(n.has(k, v) for k, v in attrs.items())]
        assert len(hits) == 1, (tag, attrs, len(hits))
        return hits[0]

    def attr(self, name: str) -> str:
        value = self.attrs[name]
        assert value is not None
        return value

    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()


class _Tree(HTMLParser):
    """The page as nested Nodes; fails on a closing tag that does not match."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]
        self.raw_text: dict[str, list[str]] = {"script": [], "style": []}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        keys = [k for k, _ in attrs]
        assert len(keys) == len(set(keys)), f"duplicate attribute in <{tag}>"
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        current = self.stack[-1]
        if current.tag in self.raw_text:
            self.raw_text[current.tag].append(data)
        current.children.append(data)


def parse(page: str) -> tuple[Node, _Tree]:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    assert tree.stack == [tree.root], "unclosed elements"
    return tree.root, tree


def _doc(*statements: dict[str, object]) -> PolicyDocument:
    return PolicyDocument.from_dict({"Version": "2012-10-17", "Statement": list(statements)})


def _stmt(effect: str, resource: str | list[str], sid: str | None = None) -> dict[str, object]:
    s: dict[str, object] = {"Effect": effect, "Action": "execute-api:Invoke", "Resource": resource}
    if sid is not None:
        s["Sid"] = sid
    return s


ROUTES = [
    Route("GET", "/health"),
    Route("GET", "/orders"),
    Route("GET", "/orders/{id}"),
    Route("DELETE", "/orders/{id}"),
    Route("GET", "/users/{sub}"),
]
EVIL_GROUP = "group:<img/src=x/onerror=alert(1)>"


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    policies = {
        "default": _doc(
            _stmt("Allow", "execute-api:/*/GET/health", "Health"),
            _stmt("Allow", "execute-api:/*/GET/users/${sub}", "OwnProfile"),
        ),
        "group:readers": _doc(
            _stmt("Allow", ["execute-api:/*/GET/orders", "execute-api:/*/GET/orders/*"], "Read")
        ),
        "group:interns": _doc(_stmt("Deny", "execute-api:/*/DELETE/*")),
        "group:writers": _doc(_stmt("Allow", "execute-api:/*/*/orders/*", "Write")),
        EVIL_GROUP: _doc(_stmt("Deny", "execute-api:/*/*", "NoAll")),
    }
    return build_matrix(policies, ROUTES, principals=["group:writers,group:interns"])


@pytest.fixture(scope="module")
def page(matrix: Matrix) -> str:
    return render_html(matrix, title="Orders <API> & co")


def _grid(root: Node) -> tuple[list[Node], list[Node]]:
    """(route header cells, body rows) of the one table."""
    table = root.one("table")
    (thead,) = table.kids("thead")
    (head_row,) = thead.kids("tr")
    headers = head_row.kids("th")
    assert headers[0].attrs.get("scope") == "col"
    (tbody,) = table.kids("tbody")
    return headers[1:], tbody.kids("tr")


def test_the_fixture_covers_every_value(matrix: Matrix) -> None:
    seen = {matrix.value(s, r) for s in matrix.subjects for r in matrix.routes}
    assert seen == set(VALUES)


def test_one_row_per_subject_and_one_column_per_route(matrix: Matrix, page: str) -> None:
    root, _ = parse(page)
    headers, rows = _grid(root)
    assert [h.attr("title") for h in headers] == [str(r) for r in matrix.routes]
    assert [h.text() for h in headers] == [str(r) for r in matrix.routes]
    assert all(h.attrs.get("scope") == "col" for h in headers)
    names = []
    for row in rows:
        (th,) = row.kids("th")
        assert th.attrs.get("scope") == "row"
        names.append(th.text())
        assert len(row.kids("td")) == len(matrix.routes)
    assert names == list(matrix.subjects)


def test_each_cell_carries_the_class_and_symbol_of_its_value(matrix: Matrix, page: str) -> None:
    root, _ = parse(page)
    _, rows = _grid(root)
    for subject, row in zip(matrix.subjects, rows, strict=True):
        for route, td in zip(matrix.routes, row.kids("td"), strict=True):
            value = matrix.value(subject, route)
            assert td.classes() == [f"v-{value}"], (subject, route)
            assert td.text() == SYMBOLS[value]


def _cell(matrix: Matrix, root: Node, subject: str, route: Route) -> Node:
    _, rows = _grid(root)
    row = rows[matrix.subjects.index(subject)]
    return row.kids("td")[matrix.routes.index(route)]


def test_hover_text_names_the_cell_and_its_statements(matrix: Matrix, page: str) -> None:
    root, _ = parse(page)
    read = _cell(matrix, root, "group:readers", Route("GET", "/orders/{id}")).attr("title")
    assert read.splitlines() == [
        "group:readers · GET /orders/{id}: allow",
        "group:readers Read (Allow)",
    ]
    # A statement without Sid is named by its index.
    mixed = "group:writers,group:interns"
    refused = _cell(matrix, root, mixed, Route("DELETE", "/orders/{id}")).attr("title")
    assert refused.splitlines()[0] == f"{mixed} · DELETE /orders/{{id}}: explicit deny"
    assert set(refused.splitlines()[1:]) == {
        "group:writers Write (Allow)",
        "group:interns Statement[0] (Deny)",
    }
    own = _cell(matrix, root, "default", Route("GET", "/users/{sub}")).attr("title")
    assert own.splitlines() == [
        "default · GET /users/{sub}: conditional",
        "default OwnProfile (Allow)",
    ]
    nothing = _cell(matrix, root, "group:readers", Route("DELETE", "/orders/{id}")).attr("title")
    assert nothing.splitlines() == [
        "group:readers · DELETE /orders/{id}: deny (implicit)",
        "no statement matches this route",
    ]


def test_every_hover_text_lists_exactly_the_cells_statements(matrix: Matrix, page: str) -> None:
    root, _ = parse(page)
    for subject in matrix.subjects:
        for route in matrix.routes:
            cell = matrix.cells[subject][route]
            lines = _cell(matrix, root, subject, route).attr("title").splitlines()
            assert lines[0].startswith(f"{subject} · {route}: ")
            if cell.statements:
                assert lines[1:] == [str(s) for s in cell.statements]


def test_legend_lists_the_four_values_with_symbols_and_counts(matrix: Matrix, page: str) -> None:
    root, _ = parse(page)
    legend = root.one("ul", **{"class": "legend"})
    items = legend.kids("li")
    counts = Counter(matrix.value(s, r) for s in matrix.subjects for r in matrix.routes)
    assert [li.attrs.get("data-value") for li in items] == list(VALUES)
    for value, li in zip(VALUES, items, strict=True):
        sym, label, n = (li.one("span", **{"class": c}) for c in ("sym", "label", "n"))
        assert sym.text() == SYMBOLS[value]
        assert f"v-{value}" in sym.classes()
        assert (
            label.text()
            == {
                "allow": "allow",
                "conditional": "conditional",
                "deny": "deny (implicit)",
                "explicit-deny": "explicit deny",
            }[value]
        )
        assert int(n.text()) == counts[value]
    assert sum(counts.values()) == len(matrix.subjects) * len(matrix.routes)


def test_the_page_loads_nothing_from_anywhere(page: str) -> None:
    root, tree = parse(page)
    for node in root.all():
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            assert name not in node.attrs, f"<{node.tag} {name}>"
        assert node.tag not in {"link", "img", "iframe", "object", "embed", "base"}
        assert not any(k.startswith("on") for k in node.attrs), f"handler on <{node.tag}>"
    assert not re.search(r"https?:|//[\w.-]+\.\w|url\(|@import", page, re.IGNORECASE)
    (script,) = root.all("script")
    assert "src" not in script.attrs
    assert "fetch(" not in "".join(tree.raw_text["script"])
    assert "XMLHttpRequest" not in "".join(tree.raw_text["script"])


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_csp_admits_exactly_the_inline_style_and_script(page: str) -> None:
    root, tree = parse(page)
    (meta,) = [
        m for m in root.all("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"
    ]
    rules = {d.split()[0]: d.split()[1:] for d in meta.attr("content").split(";") if d.strip()}
    assert rules["default-src"] == ["'none'"]
    assert rules["script-src"] == [_sha256("".join(tree.raw_text["script"]))]
    assert rules["style-src"] == [_sha256("".join(tree.raw_text["style"]))]
    # The policy must come before anything it governs.
    head = root.one("head")
    order = [n.tag for n in head.children if isinstance(n, Node)]
    assert order.index("meta") < order.index("style")


def test_filter_is_labelled_and_hidden_until_the_script_runs(page: str) -> None:
    root, tree = parse(page)
    form = root.one("form")
    assert "hidden" in form.attrs
    assert form.attrs.get("role") == "search"
    inputs = form.all("input")
    assert len(inputs) == 2
    labels = {label.attrs.get("for"): label.text() for label in form.all("label")}
    assert {labels[i.attr("id")] for i in inputs} == {"Subjects", "Routes"}
    assert all(i.attrs.get("type") == "search" for i in inputs)
    script = "".join(tree.raw_text["script"])
    assert "form.hidden=false" in script
    assert all(f"getElementById('{i.attr('id')}')" in script for i in inputs)


def test_title_is_escaped(page: str) -> None:
    root, _ = parse(page)
    assert root.one("title").text() == "Orders <API> & co"
    assert root.one("h1").text() == "Orders <API> & co"
    assert "Orders &lt;API&gt; &amp; co" in page


def test_a_hostile_group_name_comes_out_as_text(matrix: Matrix, page: str) -> None:
    assert EVIL_GROUP in matrix.subjects
    root, _ = parse(page)
    assert not root.all("img")
    _, rows = _grid(root)
    assert EVIL_GROUP in [row.kids("th")[0].text() for row in rows]
    assert "<img" not in page


def _hostile_matrix() -> Matrix:
    """Names no validator upstream would let through: the renderer must not rely on one."""
    script = "</script><script>alert(1)</script>"
    subject = "<img src=x onerror=alert(1)> \"quoted\" 'single' & amp"
    route = Route("GET", "/a/</style><b>bold</b>")
    ref = StatementRef(f"group:{script}", 3, f"Sid{script}", "Deny")
    return Matrix(
        routes=(route,),
        subjects=(subject,),
        cells={subject: {route: Cell("explicit-deny", (ref,))}},
    )


def test_names_with_markup_never_become_markup() -> None:
    m = _hostile_matrix()
    page = render_html(m, title="</title><script>alert(2)</script>")
    root, tree = parse(page)
    assert root.all("script") == [root.one("script")]
    assert len(root.all("style")) == 1
    assert not root.all("img")
    assert [b.text() for b in root.all("b")] == ["GET"]
    assert page.count("</script>") == 1
    assert page.count("</style>") == 1
    assert "alert" not in "".join(tree.raw_text["script"])
    headers, rows = _grid(root)
    assert [h.text() for h in headers] == [str(m.routes[0])]
    (row,) = rows
    assert row.kids("th")[0].text() == m.subjects[0]
    (td,) = row.kids("td")
    title = td.attr("title")
    assert m.subjects[0] in title
    assert str(m.cells[m.subjects[0]][m.routes[0]].statements[0]) in title
    assert root.one("title").text() == "</title><script>alert(2)</script>"


def test_the_route_verb_stands_out_in_its_header(matrix: Matrix, page: str) -> None:
    root, _ = parse(page)
    headers, _ = _grid(root)
    for route, th in zip(matrix.routes, headers, strict=True):
        (span,) = th.kids("span")
        (verb,) = span.kids("b")
        assert verb.text() == route.verb


def test_an_empty_matrix_still_renders() -> None:
    for routes, subjects in (((), ("default",)), ((Route("GET", "/x"),), ())):
        cells: dict[str, dict[Route, Cell]] = {
            s: {r: Cell("deny") for r in routes} for s in subjects
        }
        root, _ = parse(render_html(Matrix(routes, subjects, cells)))
        headers, rows = _grid(root)
        assert len(headers) == len(routes)
        assert len(rows) == len(subjects)
        legend = root.one("ul", **{"class": "legend"})
        assert [li.one("span", **{"class": "n"}).text() for li in legend.kids("li")] == ["0"] * 4


def _big(subjects: int, routes: int) -> Matrix:
    values: tuple[Value, ...] = VALUES
    all_routes = tuple(Route("GET", f"/service-{i:03d}/items/{{id}}") for i in range(routes))
    names = tuple(f"group:team-{i:03d}" for i in range(subjects))
    cells: dict[str, dict[Route, Cell]] = {}
    for i, name in enumerate(names):
        row: dict[Route, Cell] = {}
        for j, route in enumerate(all_routes):
            value = values[(i + j) % len(values)]
            refs = () if value == "deny" else (StatementRef(name, 0, "ReadItems", "Allow"),)
            row[route] = Cell(value, refs)
        cells[name] = row
    return Matrix(all_routes, names, cells)


def test_a_large_matrix_stays_a_reasonable_file() -> None:
    m = _big(100, 200)
    page = render_html(m)
    size = len(page.encode("utf-8"))
    # Hover text is most of it; the bound keeps it a page a browser opens at once.
    assert size < 200 * len(m.subjects) * len(m.routes)
    root, _ = parse(page)
    headers, rows = _grid(root)
    assert (len(rows), len(headers)) == (100, 200)
    counts = {
        li.attrs.get("data-value"): int(li.one("span", **{"class": "n"}).text())
        for li in root.one("ul", **{"class": "legend"}).kids("li")
    }
    assert counts == dict.fromkeys(VALUES, 5000)
