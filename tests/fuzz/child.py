"""Run ONE fuzz target under atheris in this process (libFuzzer owns it from here).

``python -m tests.fuzz.child TARGET [libFuzzer flags] [CORPUS_DIR ... | FILE ...]``

The target module, and every ``authz`` module it needs, is imported inside
``atheris.instrument_imports`` so authz's code reports coverage. When the
first positional argument is a directory, the target's generated seeds are
written into it before fuzzing starts; file arguments are replayed (libFuzzer
runs each once and reports any finding with its traceback).
"""

from __future__ import annotations

import hashlib
import importlib
import sys
from pathlib import Path

import atheris

from tests.fuzz import TARGETS

# Modules imported lazily by authz itself (inside functions) are imported
# here up front, so they are instrumented too.
_EAGER = {
    "token": ("authz.token", "authz.token.jwks", "authz.token.fetch"),
    "policy": ("authz.policy",),
    "authorizer": (
        "authz.handlers.authorizer",
        "authz.service",
        "authz.token",
        "authz.policy",
        "authz.cache",
    ),
    "admin": (
        "authz.handlers.admin.app",
        "authz.handlers.admin.simulate",
        "authz.service",
        "authz.token",
        "authz.policy",
    ),
}


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: python -m tests.fuzz.child {{{','.join(TARGETS)}}} [libFuzzer args]")
    name = argv[1]
    with atheris.instrument_imports(include=["authz"]):
        for module in _EAGER[name]:
            importlib.import_module(module)
        target = importlib.import_module(f"tests.fuzz.fuzz_{name}")
    rest = [argv[0], *argv[2:]]
    positional = [a for a in rest[1:] if not a.startswith("-")]
    if positional and Path(positional[0]).is_dir():
        corpus = Path(positional[0])
        for seed in target.seeds():
            (corpus / f"seed-{hashlib.sha1(seed).hexdigest()}").write_bytes(seed)  # noqa: S324  # a file name, not security
    atheris.Setup(rest, target.check)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
