"""scripts/check_package.py's rules for authz's bytecode in the Lambda package.

The pyc files here are built by hand: their header is what the check reads
(magic number, flags, source hash), so no Python 3.12 is needed to test it.
"""

from __future__ import annotations

import _imp
import zipfile
from pathlib import Path

import pytest

from tests.package_check import check_package

SOURCES = {"authz/a.py": b"x = 1\n", "authz/sub/b.py": b"y = 2\n"}


check = check_package()


def _pyc(source: bytes, *, magic: bytes = check.RUNTIME_PYC_MAGIC, flags: int = 0b11) -> bytes:
    digest = _imp.source_hash(int.from_bytes(magic, "little"), source)
    return magic + flags.to_bytes(4, "little") + digest + b"code"


def _pyc_name(source: str, tag: str = "cpython-312") -> str:
    folder, _, module = source.rpartition("/")
    return f"{folder}/__pycache__/{module.removesuffix('.py')}.{tag}.pyc"


def _problems(tmp_path: Path, files: dict[str, bytes]) -> list[str]:
    path = tmp_path / "package.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    with zipfile.ZipFile(path) as zf:
        problems: list[str] = check.check_bytecode(zf, zf.namelist())
    return problems


def _compiled(**overrides: bytes) -> dict[str, bytes]:
    files = dict(SOURCES)
    files.update({_pyc_name(n): _pyc(s) for n, s in SOURCES.items()})
    files.update(overrides)
    return files


@pytest.fixture(autouse=True)
def _no_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTHZ_BYTECODE_PYTHON", raising=False)


def test_bytecode_for_every_module_that_matches_its_source_passes(tmp_path: Path) -> None:
    assert _problems(tmp_path, _compiled()) == []


def test_no_bytecode_at_all_passes_unless_a_builder_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _problems(tmp_path, dict(SOURCES)) == []
    monkeypatch.setenv("AUTHZ_BYTECODE_PYTHON", "python3.12")
    assert _problems(tmp_path, dict(SOURCES)) == [
        "authz/a.py: no bytecode beside it",
        "authz/sub/b.py: no bytecode beside it",
    ]


def test_bytecode_for_some_modules_only_is_refused(tmp_path: Path) -> None:
    files = _compiled()
    del files[_pyc_name("authz/sub/b.py")]
    assert _problems(tmp_path, files) == ["authz/sub/b.py: no bytecode beside it"]


def test_stale_bytecode_is_refused(tmp_path: Path) -> None:
    files = _compiled(**{"authz/a.py": b"x = 2\n"})
    assert _problems(tmp_path, files) == [
        "authz/__pycache__/a.cpython-312.pyc: stale, its hash does not match authz/a.py"
    ]


def test_timestamp_bytecode_is_refused(tmp_path: Path) -> None:
    name = _pyc_name("authz/a.py")
    files = _compiled(**{name: _pyc(SOURCES["authz/a.py"], flags=0)})
    assert _problems(tmp_path, files) == [
        f"{name}: not a checked-hash pyc (a zip keeps no exact mtimes)"
    ]


def test_bytecode_of_another_python_is_refused(tmp_path: Path) -> None:
    wrong_magic = _pyc_name("authz/a.py")
    files = _compiled(**{wrong_magic: _pyc(SOURCES["authz/a.py"], magic=b"\xa7\r\r\n")})
    other_tag = _pyc_name("authz/a.py", "cpython-311")
    files[other_tag] = _pyc(SOURCES["authz/a.py"])
    assert _problems(tmp_path, files) == [
        f"{other_tag} must not be packaged",
        f"{wrong_magic}: not CPython 3.12 bytecode (magic b'\\xa7\\r\\r\\n')",
    ]


def test_bytecode_without_its_source_or_outside_authz_is_refused(tmp_path: Path) -> None:
    orphan = _pyc_name("authz/gone.py")
    dependency = "jose/__pycache__/jwk.cpython-312.pyc"
    files = _compiled(**{orphan: _pyc(b""), dependency: _pyc(b"")})
    assert _problems(tmp_path, files) == [
        f"{dependency} must not be packaged",
        f"{orphan}: no authz/gone.py beside it",
    ]
