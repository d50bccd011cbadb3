"""Access-matrix speed: 100 groups x 200 routes, drawn from the patterns.

Target: the whole matrix (101 subjects, each ``default`` plus a group, over
200 templated routes) in <= 1 s, from parsed documents to cells, as
``authz matrix`` draws it. Each group allows a few routes of its own resource
and denies one verb there; ``default`` holds a per-user path with ``${sub}``.
"""

from __future__ import annotations

import time
from typing import Any

from authz.matrix import Route, build_matrix
from authz.policy import PolicyDocument

GROUPS = 100
ROUTES = 200
REPEATS = 3
_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def routes() -> list[Route]:
    """200 routes over 40 resources: collection, item, nested item, proxy and a verb on item."""
    out: list[Route] = []
    for i in range(ROUTES // 5):
        base = f"/resource{i:02d}"
        out += [
            Route("GET", base),
            Route("POST", base),
            Route("GET", base + "/{id}"),
            Route(_VERBS[i % 5], base + "/{id}/items/{item}"),
            Route("ANY", base + "/{id}/files/{proxy+}"),
        ]
    return out


def _statement(sid: str, effect: str, resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": effect, "Action": "execute-api:Invoke", "Resource": resources}


def policies() -> dict[str, PolicyDocument]:
    docs = {
        "default": PolicyDocument.from_dict(
            {
                "Version": "2012-10-17",
                "Statement": [
                    _statement("Health", "Allow", ["execute-api:/*/GET/health"]),
                    _statement("Own", "Allow", ["execute-api:/*/GET/users/${sub}/*"]),
                ],
            }
        )
    }
    for g in range(GROUPS):
        r = f"resource{g % (ROUTES // 5):02d}"
        docs[f"group:team{g:03d}"] = PolicyDocument.from_dict(
            {
                "Version": "2012-10-17",
                "Statement": [
                    _statement(
                        "Read", "Allow", [f"execute-api:/*/GET/{r}", f"execute-api:/*/GET/{r}/*"]
                    ),
                    _statement("Write", "Allow", [f"execute-api:/prod/*/{r}/*/items/*"]),
                    _statement("NoDelete", "Deny", [f"execute-api:/*/DELETE/{r}/*"]),
                    _statement("Legacy", "Allow", [f"arn:aws:execute-api:*:*:*/*/GET/legacy{g}/*"]),
                ],
            }
        )
    return docs


def run() -> list[dict[str, Any]]:
    docs = policies()
    table = routes()
    best = float("inf")
    cells = 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        matrix = build_matrix(docs, table)
        best = min(best, time.perf_counter() - started)
        cells = sum(len(row) for row in matrix.cells.values())
    return [
        {
            "name": f"matrix {GROUPS} groups x {ROUTES} routes ({cells} cells)",
            "value": best,
            "unit": "s",
            "target": "<= 1",
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: {row['value']:.3f} {row['unit']} (target {row['target']})")
