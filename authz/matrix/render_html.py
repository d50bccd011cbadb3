"""The matrix as one self-contained HTML page.

A colour-coded grid (routes down, subjects across) with a legend, hover text
naming the statements behind each cell, and two filter boxes (routes,
subjects). CSS and the few lines of script are inline; nothing is fetched.
Every subject, route and statement name is user data and is escaped; the
script reads them from the DOM, never from text spliced into code.
"""

from __future__ import annotations

from html import escape

from authz.matrix.cells import VALUES, Cell, Value
from authz.matrix.grid import Matrix
from authz.matrix.render_text import SYMBOLS

__all__ = ["render_html"]

_LABELS: dict[Value, str] = {
    "allow": "allow",
    "deny": "deny (implicit)",
    "explicit-deny": "explicit deny",
    "conditional": "conditional (depends on the principal or the path values)",
}

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1f2328}
h1{font-size:1.3rem;margin:0 0 1rem}
.controls{display:flex;gap:1rem;flex-wrap:wrap;margin-bottom:1rem}
.controls input{padding:.4rem .6rem;border:1px solid #d0d7de;border-radius:6px;min-width:16rem}
.legend{display:flex;gap:1rem;flex-wrap:wrap;margin:0 0 1rem;padding:0;list-style:none}
.legend li{display:flex;align-items:center;gap:.4rem}
.wrap{overflow:auto;max-height:80vh;border:1px solid #d0d7de;border-radius:6px}
table{border-collapse:separate;border-spacing:0}
th,td{padding:.3rem .6rem;border-bottom:1px solid #eaeef2;white-space:nowrap}
thead th{position:sticky;top:0;background:#f6f8fa;z-index:1;font-weight:600}
th.route{position:sticky;left:0;background:#fff;text-align:left;font-family:ui-monospace,monospace}
thead th.route{background:#f6f8fa;z-index:2}
td{text-align:center;min-width:2.2rem;cursor:default}
.v-allow{background:#dafbe1;color:#116329}
.v-deny{background:#f6f8fa;color:#8c959f}
.v-explicit-deny{background:#ffebe9;color:#a40e26;font-weight:700}
.v-conditional{background:#fff8c5;color:#7d4e00;font-weight:700}
.swatch{display:inline-block;width:1.6rem;text-align:center;border-radius:4px}
tr:hover td,tr:hover th.route{outline:1px solid #afb8c1}
.hidden{display:none}
"""

_JS = """
(function(){
  var routes=document.getElementById('route-filter');
  var subjects=document.getElementById('subject-filter');
  function apply(){
    var r=routes.value.toLowerCase(), s=subjects.value.toLowerCase();
    document.querySelectorAll('[data-subject]').forEach(function(el){
      el.classList.toggle('hidden', el.dataset.subject.toLowerCase().indexOf(s)<0);
    });
    document.querySelectorAll('tbody tr').forEach(function(tr){
      tr.classList.toggle('hidden', tr.dataset.route.toLowerCase().indexOf(r)<0);
    });
  }
  routes.addEventListener('input',apply);
  subjects.addEventListener('input',apply);
})();
"""


def _hover(subject: str, route: str, cell: Cell) -> str:
    lines = [f"{route} for {subject}: {_LABELS[cell.value]}"]
    lines.extend(f"  {s}" for s in cell.statements)
    if not cell.statements:
        lines.append("  no statement matches")
    return "\n".join(lines)


def _legend() -> str:
    items = "".join(
        f'<li><span class="swatch v-{v}">{SYMBOLS[v]}</span>{escape(_LABELS[v])}</li>'
        for v in VALUES
    )
    return f'<ul class="legend" aria-label="legend">{items}</ul>'


def _table(matrix: Matrix) -> str:
    head = "".join(
        f'<th scope="col" data-subject="{escape(s)}">{escape(s)}</th>' for s in matrix.subjects
    )
    rows: list[str] = []
    for route in matrix.routes:
        name = str(route)
        cells = []
        for s in matrix.subjects:
            cell = matrix.cells[s][route]
            title = escape(_hover(s, name, cell))
            cells.append(
                f'<td class="v-{cell.value}" data-subject="{escape(s)}" '
                f'data-value="{cell.value}" title="{title}">{SYMBOLS[cell.value]}</td>'
            )
        rows.append(
            f'<tr data-route="{escape(name)}"><th scope="row" class="route">{escape(name)}</th>'
            + "".join(cells)
            + "</tr>"
        )
    return (
        '<div class="wrap"><table><thead><tr><th class="route" scope="col">route</th>'
        + head
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def render_html(matrix: Matrix, *, title: str = "Access matrix") -> str:
    """The whole page as a string (UTF-8 when written)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        '<div class="controls">'
        '<input id="route-filter" type="search" placeholder="Filter routes" '
        'aria-label="Filter routes">'
        '<input id="subject-filter" type="search" placeholder="Filter subjects" '
        'aria-label="Filter subjects"></div>'
        f"{_legend()}{_table(matrix)}<script>{_JS}</script></body></html>\n"
    )
