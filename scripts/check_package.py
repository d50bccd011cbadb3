#!/usr/bin/env python3
"""Check the Lambda deployment package that `serverless package` built, or regenerate its lock.

    check_package.py check [--zip .serverless/authz.zip] [--template ...]
    check_package.py lock      # rewrite requirements-lambda.txt (asks the package registry)

The Lambda runtime is CPython 3.12 on x86_64 Linux; this machine runs 3.11.
So the check proves the package in three independent ways:

1. Contents. The zip holds exactly the Lambda code (authz/ without dev/ and
   the CLI; with the built admin console, authz/handlers/admin/console_assets/,
   but no source map) and the bundled files (routes/, the route files AUTHZ_ROUTES may
   name), every such file of the working tree byte for byte, plus the files
   that the wheels' RECORDs list, nothing else (no tests, node_modules,
   .venv, no bytecode but authz's own for cpython-312). That bytecode
   (scripts/serverless-bytecode.js) is all or nothing: every packaged authz
   module has its checked-hash ``.cpython-312.pyc`` whose hash matches the
   packaged source, or none has; with ``AUTHZ_BYTECODE_PYTHON`` set, all.
   The distributions in it are exactly requirements-lambda.txt, whose pins
   satisfy pyproject's dependencies, and every Requires-Dist of every
   packaged distribution (markers evaluated for the runtime) is packaged or
   provided by the runtime.
2. Platform. Every wheel carries a tag the runtime accepts (cp312 /
   abi3 / py3 with a manylinux x86_64 platform or none), every extension
   module is named for cpython-312 or abi3 and is an x86-64 ELF file.
3. Imports. The zip is unpacked and, in a clean interpreter (``-I -S``: no
   site-packages), each function's handler module is imported with the
   function's environment from the CloudFormation template, the heavy
   dependencies are imported, and the authorizer is invoked once with a
   malformed token (it must answer Unauthorized). Pure-python and abi3
   packages are imported from the unpacked zip itself; only the
   distributions built for cp312 alone are replaced by the same versions
   built for cp311 (downloaded as wheels for this interpreter), and the
   runtime's boto3/botocore are stood in for by this environment's copies.
   Every module imported must come from those places or the stdlib, so a
   dependency present only on this machine cannot hide a missing one.
"""

# ruff: noqa: S603  # runs pip and this interpreter with arguments built here, no shell

from __future__ import annotations

import _imp
import argparse
import ast
import json
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Mapping
from email.parser import HeaderParser
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements-lambda.txt"
PYPROJECT = REPO / "pyproject.toml"

PYTHON = (3, 12)
MANYLINUX = "manylinux2014_x86_64"
# pip's --platform value and the platform tags that a manylinux2014 (glibc
# 2.17) x86_64 host accepts: the runtime (Amazon Linux 2023) is newer, but
# the lock is resolved for manylinux2014, so nothing newer may appear.
PLATFORMS = [f"manylinux_2_{m}_x86_64" for m in range(17, 4, -1)] + [
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
]
# Shipped by the python3.12 Lambda runtime itself; never packaged.
RUNTIME_PROVIDED = frozenset(
    canonicalize_name(n)
    for n in ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")
)
# The top-level import names of those, to stand them in for the import check.
RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six")
SERVERLESS = REPO / "serverless.yml"
REQUIRED_CODE = (
    "authz/handlers/authorizer.py",
    "authz/handlers/admin/app.py",
    "authz/handlers/pretoken.py",
)
# The admin console's page; without it GET /console answers 503.
REQUIRED_ASSETS = ("authz/handlers/admin/console_assets/index.html",)
# authz's bytecode for the runtime: CPython 3.12's magic number and file tag, and the
# pyc flags of a checked-hash file (PEP 552).
RUNTIME_PYC_MAGIC = b"\xcb\r\r\n"
RUNTIME_PYC_TAG = "cpython-312"
CHECKED_HASH = 0b11
HEAVY_IMPORTS = (
    "jose.jwt",
    "jose.backends.cryptography_backend",
    "cryptography.hazmat.bindings._rust",
    "pynamodb.models",
    "pydantic",
    "pydantic_core._pydantic_core",
    "aws_lambda_powertools.event_handler",
)
MAX_ZIPPED = 50 * 1024 * 1024  # direct upload limit
MAX_UNZIPPED = 250 * 1024 * 1024  # function + layers limit

ELF_MACHINE_X86_64 = 0x3E


class CheckError(Exception):
    """The package is wrong; the message says how."""


def runtime_tags() -> set[Tag]:
    tags = set(cpython_tags(PYTHON, abis=["cp312", "abi3", "none"], platforms=PLATFORMS))
    tags |= set(compatible_tags(PYTHON, "cp312", platforms=PLATFORMS))
    return tags


def marker_env(extra: str = "") -> dict[str, str]:
    return {
        "implementation_name": "cpython",
        "implementation_version": "3.12.0",
        "os_name": "posix",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": "3.12.0",
        "python_version": "3.12",
        "sys_platform": "linux",
        "extra": extra,
    }


# -- the lock --------------------------------------------------------------------------------


def project_requirements() -> list[Requirement]:
    data = tomllib.loads(PYPROJECT.read_text())
    return [Requirement(r) for r in data["project"]["dependencies"]]


def read_lock(path: Path = LOCK) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        spec = list(req.specifier)
        if len(spec) != 1 or spec[0].operator != "==" or req.marker or req.extras:
            raise CheckError(f"{path.name}:{n}: expected a plain `name==version` pin, got {line!r}")
        pins[canonicalize_name(req.name)] = Version(spec[0].version)
    return pins


def check_lock(pins: Mapping[str, Version]) -> None:
    problems = []
    for req in project_requirements():
        name = canonicalize_name(req.name)
        if name in RUNTIME_PROVIDED:
            continue
        if name not in pins:
            problems.append(f"{req.name} (pyproject) is not pinned")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{name}=={pins[name]} does not satisfy pyproject's {req}")
    problems += [
        f"{n} is provided by the runtime; remove it" for n in pins if n in RUNTIME_PROVIDED
    ]
    if problems:
        raise CheckError(
            "requirements-lambda.txt is out of sync with pyproject.toml "
            "(run scripts/check_package.py lock): " + "; ".join(problems)
        )


def write_lock() -> None:
    """Resolve pyproject's dependencies for the runtime with pip and pin the closure."""
    reqs = [str(r) for r in project_requirements()]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
             "--report", str(report), "--target", str(Path(tmp) / "t"), *pip_platform(PYTHON),
             *reqs],
            check=True,
        )  # fmt: skip
        installed = json.loads(report.read_text())["install"]
    pins = sorted(
        (canonicalize_name(i["metadata"]["name"]), i["metadata"]["version"]) for i in installed
    )
    lines = [
        "# The Lambda package's dependencies: the closure of pyproject.toml's",
        "# [project.dependencies] resolved for CPython 3.12 on manylinux2014_x86_64,",
        "# minus what the python3.12 runtime provides (boto3, botocore, s3transfer,",
        "# jmespath, urllib3, python-dateutil, six). pip installs it with --no-deps,",
        "# so this list is complete. Generated by `scripts/check_package.py lock`;",
        "# `make deploy-check` fails when it no longer matches pyproject.toml.",
    ]
    lines += [f"{name}=={version}" for name, version in pins if name not in RUNTIME_PROVIDED]
    LOCK.write_text("\n".join(lines) + "\n")
    print(f"wrote {LOCK.relative_to(REPO)} ({len(lines) - 6} pins)")


def pip_platform(version: tuple[int, int]) -> list[str]:
    return [
        "--platform", MANYLINUX, "--implementation", "cp",
        "--python-version", f"{version[0]}.{version[1]}", "--only-binary=:all:",
    ]  # fmt: skip


# -- the zip ---------------------------------------------------------------------------------


class Dist:
    """One installed distribution inside the zip, read from its .dist-info."""

    def __init__(self, zf: zipfile.ZipFile, info_dir: str) -> None:
        self.info_dir = info_dir
        meta = HeaderParser().parsestr(zf.read(info_dir + "METADATA").decode())
        self.name: str = canonicalize_name(meta["Name"])
        self.version = Version(meta["Version"])
        self.requires = [Requirement(r) for r in meta.get_all("Requires-Dist") or []]
        wheel = HeaderParser().parsestr(zf.read(info_dir + "WHEEL").decode())
        self.tags = {t for tag in wheel.get_all("Tag") or [] for t in parse_tag(tag)}
        record = zf.read(info_dir + "RECORD").decode().splitlines()
        self.files = {line.rsplit(",", 2)[0] for line in record if line.strip()}

    @property
    def pure(self) -> bool:
        return all(t.platform == "any" for t in self.tags)

    def runs_on_311(self) -> bool:
        """Whether the same wheel also loads on this 3.11 interpreter."""
        return self.pure or any(
            t.abi == "abi3" and (3, int(t.interpreter[3:] or 0)) <= (3, 11) for t in self.tags
        )


def package_patterns(path: Path = SERVERLESS) -> list[str]:
    """serverless.yml's ``package.patterns``: the one list of what the zip holds.

    Read line by line instead of with a YAML parser: the file's CloudFormation
    tags (``!Ref``) need a custom loader, and this block is a plain list.
    """
    patterns: list[str] = []
    section = ""
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            section = line.split(":", 1)[0]
        elif section == "package" and line.startswith("  ") and not line.startswith("   "):
            section = "package.patterns" if line.strip() == "patterns:" else "package"
        elif section == "package.patterns" and line.lstrip().startswith("- "):
            patterns.append(line.strip()[2:].strip().strip("'\""))
    if not patterns:
        raise CheckError(f"{path.name} has no package.patterns")
    return patterns


def _glob(pattern: str) -> re.Pattern[str]:
    """A serverless (micromatch) glob as a regex: ``**`` spans folders, ``*`` does not."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            out.append({"*": "[^/]*", "?": "[^/]"}.get(pattern[i], re.escape(pattern[i])))
            i += 1
    return re.compile("".join(out))


def packaged(rel: str, patterns: Iterable[str]) -> bool:
    """Whether serverless packages the repository file ``rel``: the last matching pattern wins."""
    keep = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _glob(pattern.removeprefix("!")).fullmatch(rel):
            keep = not negated
    return keep


def excluded_folders(patterns: Iterable[str]) -> list[str]:
    """The folders the patterns exclude by name (``!authz/dev/**`` -> ``authz/dev/``)."""
    folders = (
        p[1:].removesuffix("**")
        for p in patterns
        if p.startswith("!") and p.endswith("/**") and "*" not in p[1:].removesuffix("/**")
    )
    return list(dict.fromkeys(folders))


def pattern_roots(patterns: Iterable[str]) -> list[str]:
    """The top folders the patterns include by name (``authz/**`` -> ``authz``)."""
    roots = []
    for pattern in patterns:
        head = pattern.split("/", 1)[0]
        if pattern.startswith("!") or "/" not in pattern or any(c in head for c in "*?[{"):
            continue
        roots.append(head)
    return list(dict.fromkeys(roots))


def code_files() -> set[str]:
    """The Lambda code and bundled files as they are in the working tree: the folders
    serverless.yml's patterns name (authz/, routes/), as those patterns keep them."""
    patterns = package_patterns()
    files = set()
    for root in pattern_roots(patterns):
        for path in (REPO / root).rglob("*"):
            rel = path.relative_to(REPO).as_posix()
            if path.is_file() and packaged(rel, patterns):
                files.add(rel)
    return files


def check_zip(zip_path: Path, pins: Mapping[str, Version]) -> list[Dist]:
    with zipfile.ZipFile(zip_path) as zf:
        names = [i.filename for i in zf.infolist() if not i.is_dir()]
        unzipped = sum(i.file_size for i in zf.infolist())
        dists = [
            Dist(zf, n[: -len("METADATA")]) for n in names if n.endswith(".dist-info/METADATA")
        ]
        problems: list[str] = []
        for bad in (
            "node_modules/",
            "tests/",
            ".venv/",
            ".serverless/",
            *excluded_folders(package_patterns()),
        ):
            problems += [f"{n} must not be packaged" for n in names if bad in f"/{n}"]
        problems += check_bytecode(zf, names)
        problems += [
            f"{n}: the console's source maps must not be packaged"
            for n in names
            if n.startswith("authz/") and n.endswith(".map")
        ]
        roots = tuple(f"{r}/" for r in pattern_roots(package_patterns()))
        packaged_code = {n for n in names if n.startswith(roots)}
        expected_code = code_files()
        problems += [
            f"{f} is missing from the package" for f in sorted(expected_code - packaged_code)
        ]
        problems += [f"{f} is not Lambda code" for f in sorted(packaged_code - expected_code)]
        problems += [
            f"{f} differs from the working tree"
            for f in sorted(packaged_code & expected_code)
            if zf.read(f) != (REPO / f).read_bytes()
        ]
        problems += [f"{f} is missing: no handler module" for f in REQUIRED_CODE if f not in names]
        problems += [
            f"{f} is missing: the console is not built (npm run build:console)"
            for f in REQUIRED_ASSETS
            if f not in names
        ]
        owned = set().union(*(d.files for d in dists)) if dists else set()
        problems += [
            f"{n} belongs to no wheel" for n in names if n not in owned and n not in packaged_code
        ]
        problems += check_code_imports(zf, packaged_code)
        problems += check_dists(dists, pins)
        problems += check_binaries(zf, [n for n in names if n.endswith(".so") or ".so." in n])
    if zip_path.stat().st_size > MAX_ZIPPED or unzipped > MAX_UNZIPPED:
        problems.append(f"package too large: {zip_path.stat().st_size} zipped, {unzipped} unzipped")
    if problems:
        raise CheckError("package check failed:\n  " + "\n  ".join(problems))
    return dists


def bytecode_source(name: str) -> str | None:
    """The source a packaged pyc belongs to (``authz/x/__pycache__/m.cpython-312.pyc`` ->
    ``authz/x/m.py``), or None when it is not authz's bytecode for the runtime."""
    match = re.fullmatch(rf"(authz/(?:.+/)?)__pycache__/([^/.]+)\.{RUNTIME_PYC_TAG}\.pyc", name)
    return f"{match[1]}{match[2]}.py" if match else None


def check_bytecode(zf: zipfile.ZipFile, names: list[str]) -> list[str]:
    """authz's bytecode: all or nothing, for the runtime, checked-hash, matching its source."""
    problems: list[str] = []
    pycs = {n: bytecode_source(n) for n in names if n.endswith(".pyc") or "__pycache__/" in n}
    problems += [f"{n} must not be packaged" for n, source in pycs.items() if source is None]
    present = set(names)
    sources = {n for n in names if n.startswith("authz/") and n.endswith(".py")}
    key = int.from_bytes(RUNTIME_PYC_MAGIC, "little")
    for name, source in sorted((n, s) for n, s in pycs.items() if s is not None):
        data = zf.read(name)
        if source not in present:
            problems.append(f"{name}: no {source} beside it")
        elif data[:4] != RUNTIME_PYC_MAGIC:
            problems.append(f"{name}: not CPython 3.12 bytecode (magic {data[:4]!r})")
        elif int.from_bytes(data[4:8], "little") != CHECKED_HASH:
            problems.append(f"{name}: not a checked-hash pyc (a zip keeps no exact mtimes)")
        elif data[8:16] != _imp.source_hash(key, zf.read(source)):
            problems.append(f"{name}: stale, its hash does not match {source}")
    compiled = {s for s in pycs.values() if s is not None}
    if compiled or os.environ.get("AUTHZ_BYTECODE_PYTHON"):
        problems += [f"{s}: no bytecode beside it" for s in sorted(sources - compiled)]
    return problems


def bytecode_summary(zip_path: Path) -> str:
    with zipfile.ZipFile(zip_path) as zf:
        count = sum(1 for n in zf.namelist() if bytecode_source(n) is not None)
    if count:
        return f"{count} modules compiled for {RUNTIME_PYC_TAG} (checked-hash)"
    return "none: every cold start compiles authz (no Python 3.12 packaged it)"


def check_code_imports(zf: zipfile.ZipFile, code: set[str]) -> list[str]:
    """Every ``authz.*`` import in the packaged code, lazy ones included, is packaged."""
    problems = []
    for name in sorted(n for n in code if n.endswith(".py")):
        tree = ast.parse(zf.read(name), name)
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                if target != "authz" and not target.startswith("authz."):
                    continue
                path = target.replace(".", "/")
                if f"{path}.py" in code or f"{path}/__init__.py" in code:
                    continue
                parent = target.rsplit(".", 1)[0].replace(".", "/")
                if (
                    node.__class__ is ast.ImportFrom
                    and target != node.module
                    and (f"{parent}.py" in code or f"{parent}/__init__.py" in code)
                ):
                    continue  # a name imported from a packaged module
                line = getattr(node, "lineno", 0)
                problems.append(f"{name}:{line} imports {target}, which is not packaged")
    return problems


def check_dists(dists: list[Dist], pins: Mapping[str, Version]) -> list[str]:
    problems = []
    packaged: dict[str, Version] = {d.name: d.version for d in dists}
    if packaged != dict(pins):
        unlocked = {n: str(v) for n, v in packaged.items() if pins.get(n) != v}
        missing = {n: str(v) for n, v in pins.items() if packaged.get(n) != v}
        problems.append(f"wheels differ from the lock: unlocked {unlocked}, missing {missing}")
    accepted = runtime_tags()
    problems += [
        f"{d.name} {d.version} has no wheel tag python3.12/x86_64 accepts: "
        f"{sorted(map(str, d.tags))}"
        for d in dists
        if not d.tags & accepted
    ]
    wanted_extras: dict[str, set[str]] = {
        canonicalize_name(r.name): r.extras for r in project_requirements() if r.extras
    }
    for d in dists:
        for extra in ("", *sorted(wanted_extras.get(d.name, ()))):
            for req in d.requires:
                if req.marker and not Marker(str(req.marker)).evaluate(marker_env(extra)):
                    continue
                if not req.marker and extra:
                    continue  # already checked with extra=""
                name = canonicalize_name(req.name)
                if name in RUNTIME_PROVIDED:
                    continue
                if name not in packaged:
                    problems.append(f"{d.name} needs {req} which is not packaged")
                elif not req.specifier.contains(packaged[name], prereleases=True):
                    problems.append(f"{d.name} needs {req}; packaged {name}=={packaged[name]}")
    return problems


def check_binaries(zf: zipfile.ZipFile, shared: Iterable[str]) -> list[str]:
    problems = []
    for name in shared:
        base = name.rsplit("/", 1)[-1]
        in_libs = ".libs/" in name  # auditwheel's vendored shared libraries
        if not in_libs and not (
            base.endswith(".cpython-312-x86_64-linux-gnu.so") or base.endswith(".abi3.so")
        ):
            problems.append(f"{name} is not built for cpython-312 or abi3")
        head = zf.open(name).read(20)
        if head[:4] != b"\x7fELF" or int.from_bytes(head[18:20], "little") != ELF_MACHINE_X86_64:
            problems.append(f"{name} is not an x86-64 ELF shared object")
    return problems


# -- the import check ------------------------------------------------------------------------


def resolve(value: Any, stage: str) -> str:
    """A plain string for a CloudFormation value (Refs become fake ids) for the import env."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return "a1b2c3d4e5"
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(resolve(p, stage) for p in parts)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{value['Fn::GetAtt'][0]}"
    raise CheckError(f"cannot resolve environment value {value!r} for the import check")


def functions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: res["Properties"]
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::Lambda::Function"
        and str(res["Properties"].get("Handler", "")).startswith("authz.")
    }


IMPORT_PROGRAM = r"""
import importlib, json, os, sys
app, shims, runtime, handler = sys.argv[1:5]
heavy = json.loads(sys.argv[5])
sys.path[:0] = [shims, app, runtime]
module_name, attr = handler.rsplit(".", 1)
module = importlib.import_module(module_name)
if not callable(getattr(module, attr, None)):
    raise SystemExit(f"{handler} is not callable")
if not module.__file__.startswith(app):
    raise SystemExit(f"{module_name} came from {module.__file__}, not the package")
for name in heavy:
    importlib.import_module(name)
if module_name == "authz.handlers.authorizer":
    event = {"type": "TOKEN", "authorizationToken": "Bearer not.a.jwt",
             "methodArn": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/ci/GET/x"}
    try:
        getattr(module, attr)(event, None)
    except Exception as exc:
        if str(exc) != "Unauthorized":
            raise
    else:
        raise SystemExit("the authorizer accepted a malformed token")
stdlib = tuple(json.loads(sys.argv[6]))
roots = (app, shims, runtime) + stdlib
strays = sorted(
    f"{n} ({m.__file__})" for n, m in list(sys.modules.items())
    if getattr(m, "__file__", None) and not m.__file__.startswith(roots)
)
if strays:
    raise SystemExit("imported from outside the package: " + ", ".join(strays))
"""


def check_imports(zip_path: Path, dists: list[Dist], template: Mapping[str, Any]) -> None:
    swapped = sorted(f"{d.name}=={d.version}" for d in dists if not d.runs_on_311())
    with tempfile.TemporaryDirectory(prefix="authz-package-") as tmp:
        app, shims, runtime = (str(Path(tmp) / d) for d in ("app", "shims311", "runtime"))
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(app)
        if swapped:
            # The same versions, built for this interpreter; imported ahead of the zip's.
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
                 "--target", shims, *pip_platform(sys.version_info[:2]), *swapped],
                check=True,
            )  # fmt: skip
        Path(runtime).mkdir()
        for module in RUNTIME_MODULES:
            spec = find_spec(module)
            if spec is None or spec.origin is None:
                raise CheckError(f"{module} (stand-in for the runtime's SDK) is not installed")
            origin = Path(spec.origin)
            source = origin.parent if origin.name == "__init__.py" else origin
            (Path(runtime) / source.name).symlink_to(source)
        stdlib = sorted({sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]})
        for logical_id, props in functions(template).items():
            stage = str(props.get("FunctionName", "")).split("-")[-2:-1] or ["ci"]
            variables = props.get("Environment", {}).get("Variables", {})
            env = {k: resolve(v, stage[0]) for k, v in variables.items()}
            env |= {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_LAMBDA_FUNCTION_NAME": str(props.get("FunctionName", logical_id)),
            }
            result = subprocess.run(
                [sys.executable, "-I", "-S", "-c", IMPORT_PROGRAM, app, shims, runtime,
                 props["Handler"], json.dumps(HEAVY_IMPORTS), json.dumps(stdlib)],
                env=env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            if result.returncode != 0:
                raise CheckError(
                    f"{logical_id}: importing {props['Handler']} from the package failed:\n"
                    + (result.stderr or result.stdout)[-3000:]
                )
            print(f"  {logical_id}: {props['Handler']} imports from the package")
    if swapped:
        print(f"  (cp312-only wheels replaced by their cp311 builds for this check: {swapped})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check .serverless/authz.zip and its lock")
    check.add_argument("--zip", type=Path, default=REPO / ".serverless" / "authz.zip")
    check.add_argument(
        "--template",
        type=Path,
        default=REPO / ".serverless" / "cloudformation-template-update-stack.json",
    )
    sub.add_parser("lock", help="rewrite requirements-lambda.txt")
    args = parser.parse_args(argv)
    if args.command == "lock":
        write_lock()
        return 0
    try:
        pins = read_lock()
        check_lock(pins)
        print("requirements-lambda.txt matches pyproject.toml")
        dists = check_zip(args.zip, pins)
        print(f"{args.zip.name}: Lambda code + {len(dists)} wheels for cp312/x86_64, nothing else")
        print(f"authz bytecode: {bytecode_summary(args.zip)}")
        template = json.loads(args.template.read_text())
        check_imports(args.zip, dists, template)
    except CheckError as exc:
        print(f"check_package: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
