"""The matrix as CSV and as a Markdown table: one row per route, one column per subject."""

from __future__ import annotations

import csv
import io

from authz.matrix.grid import Matrix
from authz.matrix.render_text import LEGEND, SYMBOLS

__all__ = ["render_csv", "render_markdown"]


def render_csv(matrix: Matrix) -> str:
    """``route,<subject>...`` then one line per route with the cell values."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["route", *matrix.subjects])
    for route in matrix.routes:
        writer.writerow([str(route), *(matrix.value(s, route) for s in matrix.subjects)])
    return out.getvalue()


def _md(text: str) -> str:
    """A table cell's text: pipes and backslashes escaped, code spans kept literal."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")


def render_markdown(matrix: Matrix) -> str:
    """A GitHub-flavoured Markdown table with the terminal's symbols and its legend."""
    lines = [
        "| route | " + " | ".join(_md(s) for s in matrix.subjects) + " |",
        "|---|" + ":---:|" * len(matrix.subjects),
    ]
    for route in matrix.routes:
        marks = (SYMBOLS[matrix.value(s, route)] for s in matrix.subjects)
        lines.append(f"| {_md(str(route))} | " + " | ".join(marks) + " |")
    lines.append("")
    lines.append(LEGEND)
    return "\n".join(lines) + "\n"
