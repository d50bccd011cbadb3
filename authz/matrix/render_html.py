"""The matrix as one self-contained HTML page.

One row per subject, one column per route (its header turned on its side so
a couple of hundred routes stay narrow), a legend with counts, hover text
naming the statements behind each cell, and a filter form for subjects and
routes. Colour is never the only signal: every cell also carries its symbol,
and the palette is one that colour-blind readers can tell apart.

CSS and the script are inline and the page fetches nothing. A Content
Security Policy with the hashes of exactly that style and script makes the
browser refuse anything else, so even a name that slipped past escaping
could neither run code nor load a resource. Every subject, route and
statement name is user data, escaped where it is written; the script reads
names from the DOM, never from text spliced into code. Without JavaScript
the filter form stays hidden and the grid, legend and hover text still work.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from html import escape

from authz.matrix.cells import VALUES, Cell, Value
from authz.matrix.grid import Matrix
from authz.matrix.render_text import SYMBOLS

__all__ = ["render_html"]

_LABELS: dict[Value, str] = {
    "allow": "allow",
    "conditional": "conditional",
    "deny": "deny (implicit)",
    "explicit-deny": "explicit deny",
}
_HINTS: dict[Value, str] = {
    "allow": "every request is allowed",
    "conditional": "depends on the principal or the path values",
    "deny": "no Allow applies",
    "explicit-deny": "a Deny statement refuses every request",
}

# Okabe-Ito hues (bluish green, yellow, vermillion), darkened where white
# symbols sit on them so they keep a 5:1 contrast.
_CSS = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;
--head:#f6f8fa;--hot:#fff1b8;--allow:#007d5b;--allow-fg:#fff;--cond:#f0e442;--cond2:#e2d52f;
--cond-fg:#3d3500;--deny:#f2f4f7;--deny-fg:#6e7781;--xdeny:#b34f00;--xdeny-fg:#fff}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;
--line:#30363d;--head:#161b22;--hot:#3a3000;--allow:#00845f;--cond:#d9cc3a;--cond2:#c7ba2c;
--cond-fg:#2b2500;--deny:#1b2129;--deny-fg:#768390;--xdeny:#c2561a}}
*{box-sizing:border-box}
body{margin:0;padding:1.25rem 1.5rem;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
header{display:flex;align-items:baseline;gap:1rem;flex-wrap:wrap;margin-bottom:.75rem}
h1{font-size:1.35rem;margin:0}
.sub{color:var(--muted);margin:0}
.bar{display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap;margin-bottom:.9rem}
.legend{display:flex;gap:.5rem;flex-wrap:wrap;margin:0;padding:0;list-style:none}
.legend li{display:flex;align-items:center;gap:.45rem;padding:.2rem .6rem .2rem .25rem;
border:1px solid var(--line);border-radius:999px}
.legend .sym{display:inline-flex;width:1.5rem;height:1.5rem;align-items:center;
justify-content:center;border-radius:50%;font-weight:700}
.legend .n{font-variant-numeric:tabular-nums;color:var(--muted);font-weight:600}
.filter{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;margin:0}
.filter[hidden]{display:none}
.filter label{font-weight:600}
.filter input{font:inherit;padding:.3rem .55rem;border:1px solid var(--line);border-radius:6px;
background:var(--bg);color:var(--fg);width:13rem}
.filter input:focus{outline:2px solid #0072b2;outline-offset:1px}
.filter output{color:var(--muted);font-variant-numeric:tabular-nums}
.wrap{overflow:auto;width:fit-content;max-width:100%;max-height:calc(100vh - 12rem);
min-height:12rem;border:1px solid var(--line);border-radius:8px}
table{border-collapse:separate;border-spacing:0}
th,td{border-right:1px solid var(--bg);border-bottom:1px solid var(--bg)}
thead th{position:sticky;top:0;z-index:2;background:var(--head);vertical-align:bottom;
padding:.5rem 0 .4rem;border-bottom:1px solid var(--line);font-weight:500}
thead th.r span{display:inline-block;writing-mode:vertical-rl;transform:rotate(180deg);
max-height:13rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;
font:12px/1 ui-monospace,"DejaVu Sans Mono",monospace}
thead th.r b{font-weight:700}
thead th.hot{background:var(--hot)}
th.s{position:sticky;left:0;z-index:1;background:var(--head);text-align:left;font-weight:500;
padding:.25rem .8rem .25rem .75rem;white-space:nowrap;border-right:1px solid var(--line);
max-width:24rem;overflow:hidden;text-overflow:ellipsis;
font:13px/1.3 ui-monospace,"DejaVu Sans Mono",monospace}
thead th.s{z-index:3;vertical-align:bottom;color:var(--muted);
font:600 12px/1.3 system-ui,sans-serif}
tbody tr:hover th.s{background:var(--hot)}
td{width:2rem;min-width:2rem;height:1.9rem;padding:0;text-align:center;font-weight:700;
font-size:15px;cursor:default}
.v-allow{background:var(--allow);color:var(--allow-fg)}
.v-conditional{color:var(--cond-fg);
background:repeating-linear-gradient(135deg,var(--cond) 0 5px,var(--cond2) 5px 10px)}
.v-deny{background:var(--deny);color:var(--deny-fg)}
.v-explicit-deny{background:var(--xdeny);color:var(--xdeny-fg)}
td:hover{outline:2px solid var(--fg);outline-offset:-2px}
.empty{color:var(--muted)}
"""

_JS = """
(function(){
'use strict';
var form=document.getElementById('filter'),grid=document.getElementById('grid');
var fs=document.getElementById('f-subject'),fr=document.getElementById('f-route');
var out=document.getElementById('f-count'),empty=document.getElementById('empty');
var heads=Array.prototype.slice.call(grid.tHead.rows[0].cells,1);
var rows=Array.prototype.slice.call(grid.tBodies[0].rows),timer=0;
function terms(input){return input.value.toLowerCase().split(/\\s+/).filter(Boolean);}
function matches(text,words){
  text=text.toLowerCase();
  return words.every(function(w){return text.indexOf(w)>=0;});
}
function show(el,on){if(el.hidden===on){el.hidden=!on;}}
function apply(){
  var ws=terms(fs),wr=terms(fr),counts={},nrows=0,ncols=0;
  var cols=heads.map(function(th){var on=matches(th.title,wr);show(th,on);ncols+=on;return on;});
  rows.forEach(function(tr){
    var on=matches(tr.cells[0].textContent,ws),cells=tr.cells;
    show(tr,on);
    if(!on){return;}
    nrows++;
    for(var i=1;i<cells.length;i++){
      show(cells[i],cols[i-1]);
      if(cols[i-1]){counts[cells[i].className]=(counts[cells[i].className]||0)+1;}
    }
  });
  document.querySelectorAll('.legend li').forEach(function(li){
    li.querySelector('.n').textContent=counts['v-'+li.dataset.value]||0;
  });
  out.textContent=nrows+' of '+rows.length+' subjects, '+ncols+' of '+heads.length+' routes';
  empty.hidden=nrows>0&&ncols>0;
}
function later(){clearTimeout(timer);timer=setTimeout(apply,120);}
function unhot(){heads.forEach(function(th){th.classList.remove('hot');});}
grid.addEventListener('mouseover',function(e){
  var td=e.target.closest('td');
  unhot();
  if(td){heads[td.cellIndex-1].classList.add('hot');}
});
grid.addEventListener('mouseleave',unhot);
fs.addEventListener('input',later);
fr.addEventListener('input',later);
form.addEventListener('submit',function(e){e.preventDefault();apply();});
form.hidden=false;
apply();
})();
"""


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


# Only the exact inline style and script above may apply; everything else,
# network included, is refused by the browser.
_CSP = (
    f"default-src 'none'; style-src {_sha256(_CSS)}; script-src {_sha256(_JS)}; "
    "base-uri 'none'; form-action 'none'"
)


def _hover(subject: str, route: str, cell: Cell) -> str:
    head = f"{subject} · {route}: {_LABELS[cell.value]}"
    if not cell.statements:
        return f"{head}\nno statement matches this route"
    return "\n".join([head, *(str(s) for s in cell.statements)])


def _legend(counts: Counter[Value]) -> str:
    items = "".join(
        f'<li data-value="{v}" title="{escape(_HINTS[v])}">'
        f'<span class="sym v-{v}" aria-hidden="true">{SYMBOLS[v]}</span>'
        f'<span class="label">{escape(_LABELS[v])}</span> <span class="n">{counts[v]}</span></li>'
        for v in VALUES
    )
    return f'<ul class="legend" aria-label="Legend">{items}</ul>'


def _filter() -> str:
    # Hidden until the script runs: without it the inputs would do nothing.
    return (
        '<form id="filter" class="filter" role="search" aria-label="Filter the grid" hidden>'
        '<label for="f-subject">Subjects</label>'
        '<input id="f-subject" type="search" placeholder="e.g. group:readers" '
        'autocomplete="off" spellcheck="false">'
        '<label for="f-route">Routes</label>'
        '<input id="f-route" type="search" placeholder="e.g. DELETE orders" '
        'autocomplete="off" spellcheck="false">'
        '<output id="f-count" for="f-subject f-route" aria-live="polite"></output></form>'
    )


def _head(matrix: Matrix) -> str:
    cols = "".join(
        f'<th scope="col" class="r" title="{escape(str(r))}">'
        f"<span><b>{escape(r.verb)}</b> {escape(r.path)}</span></th>"
        for r in matrix.routes
    )
    return f'<thead><tr><th scope="col" class="s">subject</th>{cols}</tr></thead>'


def _row(matrix: Matrix, subject: str, routes: list[str]) -> str:
    row = matrix.cells[subject]
    cells = "".join(
        f'<td class="v-{cell.value}" title="{escape(_hover(subject, name, cell))}">'
        f"{SYMBOLS[cell.value]}</td>"
        for name, cell in zip(routes, (row[r] for r in matrix.routes), strict=True)
    )
    name = escape(subject)
    return f'<tr><th scope="row" class="s" title="{name}">{name}</th>{cells}</tr>'


def _table(matrix: Matrix) -> str:
    routes = [str(r) for r in matrix.routes]
    body = "".join(_row(matrix, s, routes) for s in matrix.subjects)
    return (
        '<div class="wrap" role="region" aria-label="Access grid" tabindex="0">'
        f'<table id="grid">{_head(matrix)}<tbody>{body}</tbody></table></div>'
    )


def _counts(matrix: Matrix) -> Counter[Value]:
    return Counter(matrix.value(s, r) for s in matrix.subjects for r in matrix.routes)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render_html(matrix: Matrix, *, title: str = "Access matrix") -> str:
    """The whole page as a string (UTF-8 when written)."""
    subjects = _plural(len(matrix.subjects), "subject")
    size = f"{subjects} \N{MULTIPLICATION SIGN} {_plural(len(matrix.routes), 'route')}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f'<header><h1>{escape(title)}</h1><p class="sub">{size}. '
        "Hover a cell for the statements behind it.</p></header>"
        f'<div class="bar">{_legend(_counts(matrix))}{_filter()}</div>'
        f"{_table(matrix)}"
        '<p id="empty" class="empty" hidden>No subject or route matches the filter.</p>'
        f"<script>{_JS}</script></body></html>\n"
    )
