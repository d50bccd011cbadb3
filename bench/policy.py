"""Policy evaluation speed: µs per decision over a 50-statement effective policy.

Compared, in the same run, with the floor the design aims for: one
precompiled alternation of the same 50 patterns (plain ``.*`` translation,
no groups, no Decision lookup). Targets: <= 5 µs per decision and <= 2x
that baseline. Also reports compile, compact and validation costs, which an
authorizer pays once per principal on a cache miss, and the same for the
``execute-api:/`` shorthand: expanding it for one API and stage (also once
per principal and API+stage), and deciding with the expanded policy.
"""

from __future__ import annotations

import re
import timeit
from collections.abc import Callable
from typing import Any

from authz.policy import (
    PolicyDocument,
    Statement,
    api_stage,
    compact,
    compile_policy,
    expand,
    merge,
    method_arn,
)

STATEMENTS = 50
DENIES = 5
REPEATS = 7


def _pattern(i: int) -> str:
    verb = ("GET", "POST", "PUT", "PATCH", "DELETE")[i % 5]
    return f"arn:aws:execute-api:*:*:*/*/{verb}/resource{i:02d}/*/items/*"


def _shorthand(i: int) -> str:
    return _pattern(i).replace("arn:aws:execute-api:*:*:*/", "execute-api:/")


def document(pattern: Callable[[int], str] = _pattern) -> PolicyDocument:
    """50 statements, the first ``DENIES`` of them Deny, one pattern each."""
    statements = [
        {
            "Sid": f"S{i}",
            "Effect": "Deny" if i < DENIES else "Allow",
            "Action": "execute-api:Invoke",
            "Resource": pattern(i),
        }
        for i in range(STATEMENTS)
    ]
    return PolicyDocument.from_dict({"Version": "2012-10-17", "Statement": statements})


def mixed_document() -> PolicyDocument:
    """50 patterns of mixed shapes: any api/stage, a named stage, a named API and account."""
    patterns = []
    for i in range(STATEMENTS):
        verb = ("GET", "POST", "PUT", "PATCH", "DELETE")[i % 5]
        head = (
            "arn:aws:execute-api:*:*:*/*",
            "arn:aws:execute-api:*:*:*/prod",
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod",
        )[i % 3]
        patterns.append(f"{head}/{verb}/mixed{i:02d}/*")
    return PolicyDocument(
        tuple(
            Statement(effect="Allow", actions=("execute-api:Invoke",), resources=(p,))
            for p in patterns
        )
    )


def _arn(i: int | None) -> str:
    verb = ("GET", "POST", "PUT", "PATCH", "DELETE")[(i or 0) % 5]
    name = f"resource{i:02d}" if i is not None else "elsewhere"
    return method_arn(
        "us-east-1", "123456789012", "a1b2c3d4e5", "prod", verb, f"/{name}/42/items/7"
    )


def _baseline(doc: PolicyDocument) -> Callable[[str], object]:
    patterns = [r for s in doc.statements for r in s.resources]
    source = "|".join(re.escape(p).replace(r"\*", ".*").replace(r"\?", ".") for p in patterns)
    return re.compile(f"(?:{source})", re.DOTALL).fullmatch


def _best_us(fn: Callable[[], object], number: int = 20000) -> float:
    return min(timeit.repeat(fn, number=number, repeat=REPEATS)) / number * 1e6


def run() -> list[dict[str, Any]]:
    doc = document()
    policy = compile_policy(doc)
    baseline = _baseline(doc)
    cases = {
        "hit first (Deny, statement 0)": _arn(0),
        "hit last (Allow, statement 49)": _arn(STATEMENTS - 1),
        "no match (implicit deny)": _arn(None),
    }
    rows: list[dict[str, Any]] = []
    for name, arn in cases.items():
        assert baseline(arn) is not None or name.startswith("no match")
        ours = _best_us(lambda arn=arn: policy.decide(arn))
        base = _best_us(lambda arn=arn: baseline(arn))
        rows.append({"name": f"decide: {name}", "value": ours, "unit": "µs", "target": "<= 5"})
        rows.append(
            {
                "name": f"ratio to one combined regex: {name}",
                "value": ours / base,
                "unit": "x",
                "target": "<= 2",
            }
        )
        rows.append({"name": f"baseline regex: {name}", "value": base, "unit": "µs", "target": ""})
    mixed = mixed_document()
    mixed_policy = compile_policy(mixed)
    mixed_baseline = _baseline(mixed)
    for name, path in (("hit last", "/mixed49/1"), ("no match", "/elsewhere/1")):
        verb = "PUT" if name == "hit last" else "GET"
        arn = method_arn("us-east-1", "123456789012", "a1b2c3d4e5", "prod", verb, path)
        ours = _best_us(lambda arn=arn: mixed_policy.decide(arn))
        base = _best_us(lambda arn=arn: mixed_baseline(arn))
        rows.append(
            {"name": f"mixed shapes decide: {name}", "value": ours, "unit": "µs", "target": "<= 5"}
        )
        rows.append(
            {
                "name": f"mixed shapes ratio to one combined regex: {name}",
                "value": ours / base,
                "unit": "x",
                "target": "<= 2",
            }
        )
    rows.extend(_shorthand_rows())
    raw = doc.to_dict()
    rows.append(
        {
            "name": "from_dict (validate 50 statements)",
            "value": _best_us(lambda: PolicyDocument.from_dict(raw), number=200),
            "unit": "µs",
            "target": "",
        }
    )
    rows.append(
        {
            "name": "compile 50 statements",
            "value": _best_us(lambda: compile_policy(PolicyDocument(doc.statements)), number=200),
            "unit": "µs",
            "target": "",
        }
    )
    rows.append(
        {
            "name": "compact 50 statements",
            "value": _best_us(lambda: compact(PolicyDocument(doc.statements)), number=50),
            "unit": "µs",
            "target": "",
        }
    )
    return rows


def _shorthand_rows() -> list[dict[str, Any]]:
    stored = document(_shorthand)
    api = api_stage(_arn(0))
    assert api is not None

    def build() -> PolicyDocument:
        return compact(merge([expand(PolicyDocument(stored.statements), api)]))

    policy = compile_policy(build())
    arn = _arn(STATEMENTS - 1)
    assert policy.decide(arn).allowed
    return [
        {
            "name": "shorthand: expand + merge + compact 50 statements for one API+stage",
            "value": _best_us(build, number=50),
            "unit": "µs",
            "target": "",
        },
        {
            "name": "shorthand decide: hit last (expanded policy)",
            "value": _best_us(lambda: policy.decide(arn)),
            "unit": "µs",
            "target": "<= 5",
        },
    ]


def main() -> None:
    rows = run()
    width = max(len(r["name"]) for r in rows)
    print(f"{'name'.ljust(width)}  {'value':>9}  unit  target")
    for r in rows:
        print(f"{r['name'].ljust(width)}  {r['value']:9.3f}  {r['unit']:<4}  {r['target']}")


if __name__ == "__main__":
    main()
