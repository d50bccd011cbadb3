#!/usr/bin/env python3
"""Render the access matrix of the shipped ``policies/`` as HTML and screenshot it.

    .venv/bin/python scripts/screenshot_matrix.py [--out docs/access-matrix.png]
                                                  [--html FILE] [--dark]

Makes ``docs/access-matrix.png``, the picture of ``authz matrix --html`` that
README points to. Routes come from ``examples/orders-api.yaml`` when it exists,
else from the orders API route list below; one combined principal is added.

A maintainer script: Playwright is not a project dependency. To run it::

    apt-get install -y chromium            # the Debian package: /usr/bin/chromium
    .venv/bin/pip install playwright       # the Python package only

Do not run ``playwright install``: the script drives the system Chromium, with
networking features off, and the page itself fetches nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from authz.matrix import Route, build_matrix, render_html, routes_from_file, routes_from_strings
from authz.store.files import read_tree

ROOT = Path(__file__).resolve().parent.parent
ROUTES_FILE = ROOT / "examples" / "orders-api.yaml"
# The orders API that policies/ is written for, plus the admin routes that
# group:authz-admins reaches through the same authorizer.
ORDERS_API = (
    "GET /health",
    "GET /orders",
    "POST /orders",
    "GET /orders/{id}",
    "PUT /orders/{id}",
    "PATCH /orders/{id}",
    "DELETE /orders/{id}",
    "GET /users/{sub}",
    "GET /users/{sub}/profile",
    "PUT /users/{sub}/profile",
    "GET /policies",
    "PUT /policies/{kind}/{name}",
    "POST /simulate",
)
PRINCIPALS = ("group:writers,group:interns",)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Headless Chromium paints no native tooltip, so the cell's own title text is
# drawn where the browser would show it (through the CSSOM, which the page's
# Content Security Policy allows).
_TOOLTIP = """td => {
  const tip = document.createElement('div');
  tip.textContent = td.title;
  const box = td.getBoundingClientRect();
  Object.assign(tip.style, {
    position: 'fixed', left: (box.left + 14) + 'px', top: (box.bottom + 6) + 'px',
    whiteSpace: 'pre', font: '12px/1.4 system-ui, sans-serif', padding: '4px 8px',
    background: '#fbfbfb', color: '#1f2328', border: '1px solid #8c959f',
    boxShadow: '1px 2px 4px rgba(0,0,0,.25)', zIndex: 10,
  });
  document.body.appendChild(tip);
}"""


def _routes() -> list[Route]:
    if ROUTES_FILE.is_file():
        return routes_from_file(ROUTES_FILE)
    return routes_from_strings(ORDERS_API, "scripts/screenshot_matrix.py")


def page_html() -> str:
    tree = read_tree(ROOT / "policies")
    if not tree.ok:
        raise SystemExit("\n".join(str(p) for p in tree.problems))
    policies = {str(s): f.document for s, f in tree.policies.items()}
    matrix = build_matrix(policies, _routes(), principals=PRINCIPALS)
    return render_html(matrix, title="Access matrix: policies/")


def screenshot(html_file: Path, out: Path, *, dark: bool) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(
                viewport={"width": 1280, "height": 800},
                color_scheme="dark" if dark else "light",
            )
            page.goto(html_file.as_uri())
            # The pointer on the last row's explicit deny lights up its row and route.
            cell = page.locator("tbody tr:last-child td.v-explicit-deny").first
            cell.hover()
            page.evaluate(_TOOLTIP, cell.element_handle())
            bottom = page.evaluate("document.querySelector('.wrap').getBoundingClientRect().bottom")
            page.set_viewport_size({"width": 1280, "height": min(int(bottom) + 80, 800)})
            page.screenshot(path=str(out), type="png")
        finally:
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "access-matrix.png")
    parser.add_argument("--html", type=Path, help="also keep the HTML page here")
    parser.add_argument("--dark", action="store_true", help="prefers-color-scheme: dark")
    args = parser.parse_args()
    html = page_html()
    with tempfile.TemporaryDirectory() as tmp:
        html_file = args.html or Path(tmp) / "matrix.html"
        html_file.write_text(html, encoding="utf-8")
        screenshot(html_file.resolve(), args.out, dark=args.dark)
    print(f"{args.out}: {args.out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
