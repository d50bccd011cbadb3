"""Run the fuzz targets, each in its own bounded subprocess, and report.

``python -m tests.fuzz --seconds N [--target NAME ...]``
``python -m tests.fuzz --runs N --seed S [--target NAME ...]``

Each target runs under atheris (``tests.fuzz.child``) for N seconds, or for
exactly N inputs, with a memory cap (libFuzzer's ``-rss_limit_mb``), a per-input time limit (a slow
input is a finding: think catastrophic regex backtracking) and a wall-clock
guard around the whole process. The regression corpus in
``tests/fuzz/corpus/<target>/`` is replayed first; a new input that breaks
an invariant is written to ``tests/fuzz/findings/`` with the run's log.
Exit status: 0 no finding, 1 at least one finding, 2 usage.

A time bound makes a run stop wherever the machine's speed got it, so two
runs with the same seed test different inputs. CI bounds by ``--runs`` with a
fixed ``--seed`` (and a fixed hash seed for the child), so a verdict can be
replayed: the same seed explores the same inputs and gives the same verdict.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz import TARGETS

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
FINDINGS = HERE / "findings"
KEPT = HERE / ".corpus"
# Key derivation, imports and corpus replay happen before the clock starts.
STARTUP_GRACE = 90


@dataclass
class Result:
    target: str
    status: str
    seconds: float
    runs: int
    exec_per_s: int
    coverage: int
    artifact: str | None
    summary: str
    log: Path | None


def _last_int(pattern: str, text: str) -> int:
    found = re.findall(pattern, text)
    return int(found[-1]) if found else 0


def _summary(output: str) -> str:
    """The part of a failing run's output that says what broke."""
    lines = output.splitlines()
    for marker in ("=== Uncaught Python exception: ===", "ERROR: libFuzzer"):
        for i, line in enumerate(lines):
            if marker in line:
                # The message, then the traceback's frames; Python repeats the
                # message after the frames, which is dropped.
                start = next(
                    (j for j in range(i, len(lines)) if lines[j].startswith("Traceback")), i
                )
                end = next(
                    (j for j in range(start + 1, len(lines)) if not lines[j].startswith(" ")),
                    len(lines),
                )
                return "\n".join(lines[i : min(end, i + 80)])
    return "\n".join(lines[-20:])


def _bound(args: argparse.Namespace) -> list[str]:
    """libFuzzer's stopping rule: a count of inputs (reproducible) or a time budget."""
    flags = [f"-seed={args.seed}"] if args.seed else []
    if args.runs:
        return [*flags, f"-runs={args.runs}"]
    return [*flags, f"-max_total_time={args.seconds}"]


def _wall_clock(args: argparse.Namespace) -> int:
    """The guard around the child: a run bounded by count still has a deadline."""
    return int(args.max_seconds if args.runs else args.seconds)


def _child_env() -> dict[str, str]:
    # Set and dict order of str keys follow the hash seed; a fixed one keeps the
    # code paths (so the coverage feedback, so the inputs) the same between runs.
    return {**os.environ, "PYTHONHASHSEED": "0"}


def run_target(name: str, args: argparse.Namespace) -> Result:
    FINDINGS.mkdir(exist_ok=True)
    regressions = CORPUS / name
    regressions.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"authz-fuzz-{name}-") as tmp:
        work = KEPT / name if args.keep_corpus else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "tests.fuzz.child",
            name,
            *_bound(args),
            f"-rss_limit_mb={args.rss_mb}",
            f"-malloc_limit_mb={args.rss_mb}",
            f"-timeout={args.input_timeout}",
            f"-max_len={args.max_len}",
            f"-artifact_prefix={FINDINGS}/{name}-",
            "-print_final_stats=1",
            str(work),
            str(regressions),
        ]
        started = time.monotonic()
        try:
            proc = subprocess.run(
                command,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                timeout=_wall_clock(args) + STARTUP_GRACE,
                check=False,
                env=_child_env(),
            )
            output, code = proc.stdout, proc.returncode
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout or ""
            output = out if isinstance(out, str) else out.decode(errors="replace")
            code = -1
    elapsed = time.monotonic() - started
    artifacts = re.findall(r"Test unit written to (\S+)", output)
    if code == 0 and not artifacts:
        status = "ok"
    elif code == -1:
        status = "HUNG"
    elif "out-of-memory" in output or "malloc limit" in output:
        status = "OOM"
    elif "ERROR: libFuzzer: timeout" in output:
        status = "SLOW INPUT"
    else:
        status = "FINDING"
    log = None
    if status != "ok":
        log = FINDINGS / f"{name}.log"
        log.write_text(output)
    return Result(
        target=name,
        status=status,
        seconds=elapsed,
        runs=_last_int(r"stat::number_of_executed_units:\s*(\d+)", output),
        exec_per_s=_last_int(r"stat::average_exec_per_sec:\s*(\d+)", output),
        coverage=_last_int(r"\bcov: (\d+)", output),
        artifact=artifacts[-1] if artifacts else None,
        summary=_summary(output) if status != "ok" else "",
        log=log,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--seconds", type=int, default=20, help="fuzzing time per target")
    parser.add_argument(
        "--runs",
        type=int,
        default=0,
        help="stop after exactly this many inputs per target (overrides --seconds)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="libFuzzer's random seed (0: a fresh one per run)"
    )
    parser.add_argument(
        "--max-seconds",
        type=int,
        default=600,
        help="with --runs: wall-clock limit per target, past which the run is HUNG",
    )
    parser.add_argument(
        "--target", action="append", choices=TARGETS, help="run only this target (repeatable)"
    )
    parser.add_argument("--rss-mb", type=int, default=1536, help="memory cap per target")
    parser.add_argument("--input-timeout", type=int, default=10, help="seconds per input")
    parser.add_argument("--max-len", type=int, default=4096, help="largest input in bytes")
    parser.add_argument(
        "--keep-corpus",
        action="store_true",
        help="grow tests/fuzz/.corpus/<target>/ across runs (long runs) instead of a temp dir",
    )
    args = parser.parse_args(argv)
    if args.seconds < 1:
        parser.error("--seconds must be at least 1")
    if args.runs < 0 or args.seed < 0:
        parser.error("--runs and --seed must not be negative")
    results = []
    for name in args.target or TARGETS:
        budget = f"{args.runs} runs" if args.runs else f"{args.seconds}s"
        seed = f" seed {args.seed}" if args.seed else ""
        print(f"fuzzing {name} for {budget}{seed} ...", flush=True)
        result = run_target(name, args)
        results.append(result)
        print(
            f"  {result.status:<10} {result.runs:>9} runs {result.exec_per_s:>6}/s "
            f"cov {result.coverage:>5}  {result.seconds:6.1f}s wall",
            flush=True,
        )
        if result.status != "ok":
            print(f"  input: {result.artifact}\n  log:   {result.log}", flush=True)
            print("  " + result.summary.replace("\n", "\n  "), flush=True)
    bad = [r.target for r in results if r.status != "ok"]
    print(
        f"fuzz: {len(results) - len(bad)}/{len(results)} targets clean"
        + (f"; findings in {', '.join(bad)}" if bad else "")
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
