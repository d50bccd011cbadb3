"""The matrix as a terminal grid, one row per route, one column per subject.

Subjects that do not fit the width are carried over to further pages, each
repeating the route column, so the grid stays readable at 80 columns. ANSI
colour and bold are opt-in (the CLI turns them off for pipes and NO_COLOR).
"""

from __future__ import annotations

from authz.matrix.cells import Value
from authz.matrix.grid import Matrix

__all__ = ["LEGEND", "SYMBOLS", "render_text"]

SYMBOLS: dict[Value, str] = {
    "allow": "✓",
    "deny": "·",
    "explicit-deny": "✗",
    "conditional": "~",
}
LEGEND = "✓ allow   · deny (implicit)   ✗ explicit deny   ~ conditional"
_COLOURS: dict[Value, str] = {
    "allow": "\x1b[1;32m",
    "deny": "\x1b[2m",
    "explicit-deny": "\x1b[1;31m",
    "conditional": "\x1b[1;33m",
}
_RESET = "\x1b[0m"
_MAX_ROUTE = 40
_MAX_SUBJECT = 18
_GAP = 2


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _pages(widths: list[int], room: int) -> list[range]:
    """Consecutive column ranges, each as wide as fits ``room`` (at least one column)."""
    pages: list[range] = []
    start = 0
    used = 0
    for i, w in enumerate(widths):
        if i > start and used + w > room:
            pages.append(range(start, i))
            start, used = i, 0
        used += w
    if widths:
        pages.append(range(start, len(widths)))
    return pages


def render_text(matrix: Matrix, *, width: int = 80, color: bool = False) -> str:
    """The grid as text no wider than ``width`` (unless one column alone is wider)."""
    routes = [str(r) for r in matrix.routes]
    route_width = min(max([len(r) for r in routes] + [5]), _MAX_ROUTE)
    names = [_clip(s, _MAX_SUBJECT) for s in matrix.subjects]
    widths = [len(n) + _GAP for n in names]
    lines: list[str] = []
    for page in _pages(widths, max(width - route_width, 1)):
        if lines:
            lines.append("")
        header = "route".ljust(route_width)
        header += "".join(names[i].rjust(widths[i]) for i in page)
        lines.append(header.rstrip())
        for route, text in zip(matrix.routes, routes, strict=True):
            line = _clip(text, route_width).ljust(route_width)
            for i in page:
                value = matrix.value(matrix.subjects[i], route)
                # The symbol stands under the middle of its subject's name.
                line += " " * (widths[i] - len(names[i]) // 2 - 1)
                mark = SYMBOLS[value]
                line += (_COLOURS[value] + mark + _RESET) if color else mark
                line += " " * (len(names[i]) // 2)
            lines.append(line.rstrip())
    lines.append("")
    lines.append(LEGEND)
    return "\n".join(lines) + "\n"
