"""Run every benchmark and print one table: `python -m bench` (or `make bench`).

Each module in ``MODULES`` exposes ``run() -> list[dict]`` with rows
``{"name", "value", "unit", "target"}``; ratios are measured within one run
of that module, so they compare like with like on whatever machine runs them.
``--markdown`` prints the table README's performance section is made from.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from typing import Any

MODULES = [
    "bench.policy",
    "bench.adversarial",
    "bench.token",
    "bench.authorizer",
    "bench.matrix",
    "bench.load",
]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", help="module to run (e.g. bench.policy)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    failed = False
    for name in args.only or MODULES:
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(name)
            for row in module.run():
                rows.append({"bench": name.removeprefix("bench."), **row})
        except Exception as exc:  # a broken benchmark must not hide the others' figures
            failed = True
            rows.append(
                {"bench": name, "name": "ERROR", "value": repr(exc), "unit": "", "target": ""}
            )
        print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    header = ["bench", "name", "value", "unit", "target"]
    table = [[_fmt(r.get(h, "")) for h in header] for r in rows]
    machine = f"{platform.machine()}, Python {platform.python_version()}"
    if args.markdown:
        print(f"Measured on {machine} ({time.strftime('%Y-%m-%d')}):\n")
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in table:
            print("| " + " | ".join(c.replace("|", "\\|") for c in line) + " |")
    else:
        widths = [max(len(h), *(len(line[i]) for line in table)) for i, h in enumerate(header)]
        print(f"# {machine}")
        print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        for line in table:
            print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
