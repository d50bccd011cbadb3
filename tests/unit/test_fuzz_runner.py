"""tests/fuzz/__main__.py: a CI run is bounded by a count of inputs from a fixed seed,
so it is reproducible; only a developer's run is bounded by time."""

from __future__ import annotations

import argparse

import pytest

from tests.fuzz.__main__ import _bound, _child_env, _wall_clock, main


def _ns(**kw: int) -> argparse.Namespace:
    return argparse.Namespace(**{"seconds": 20, "runs": 0, "seed": 0, "max_seconds": 600, **kw})


def test_a_counted_run_with_a_seed_has_no_time_bound() -> None:
    """--runs and --seed become libFuzzer's -runs and -seed, and no -max_total_time."""
    flags = _bound(_ns(runs=10000, seed=1))
    assert flags == ["-seed=1", "-runs=10000"]
    assert _wall_clock(_ns(runs=10000, max_seconds=200)) == 200


def test_a_timed_run_keeps_its_time_bound() -> None:
    """Without --runs the run is bounded by --seconds; no seed means a fresh one."""
    assert _bound(_ns(seconds=30)) == ["-max_total_time=30"]
    assert _wall_clock(_ns(seconds=30)) == 30


def test_the_child_hashes_strings_the_same_in_every_run() -> None:
    """A fixed hash seed keeps set and dict order, so the code paths, the same."""
    assert _child_env()["PYTHONHASHSEED"] == "0"


@pytest.mark.parametrize("argv", [["--runs", "-1"], ["--seed", "-3"], ["--seconds", "0"]])
def test_negative_bounds_are_usage_errors(argv: list[str]) -> None:
    """A bound that makes no sense is refused before any target runs."""
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
