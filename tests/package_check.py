"""scripts/check_package.py as a module, for the tests of its rules (it is a script, not
part of a package)."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_package.py"


@cache
def check_package() -> Any:
    spec = importlib.util.spec_from_file_location("check_package", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
