"""A real, throw-away PostgreSQL server for the benchmarks and the tests (the database tool, the
state and task stores).

`running_postgres()` runs `initdb` into a fresh temporary folder, starts `postgres` on a free
local port (TCP on 127.0.0.1 with password authentication, plus a private Unix socket folder),
creates a login role with a random password and a database it owns, and stops the server (fast
shutdown, then kill) and removes the folder however the block ends.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as an
unprivileged user (`postgres` if it exists, else `nobody`) and the folder is handed to it.

The binaries come from `$LLMSPELL_PG_BIN`, else the first of the usual Debian/Ubuntu folders that
has them, else `PATH`; when none has them, or the server cannot start, `PostgresUnavailable`
says why (the tests turn it into a failure, never a skip: tests/tools/postgres.py).

`durable=False` (the tests) turns fsync off; the benchmarks keep fsync on and commit
asynchronously, as SQLite's WAL with synchronous=NORMAL does, so the two compare fairly.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
_CANDIDATE_DIRS = [
    *(f"/usr/lib/postgresql/{v}/bin" for v in range(20, 11, -1)),
    "/usr/local/pgsql/bin",
    "/opt/homebrew/bin",
    "/usr/local/bin",
]


class PostgresUnavailable(RuntimeError):
    """The server could not be found, set up or started; the message says why."""


@dataclass(frozen=True, slots=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str
    socket_dir: Path
    """Where the Unix socket lives (superuser access with trust, for fixture set-up only)."""
    superuser: str
    bin_dir: Path

    def url(self, driver: str = "asyncpg", *, password: str | None = None) -> str:
        """A SQLAlchemy URL for the test role (optionally with another, e.g. wrong, password)."""
        secret = self.password if password is None else password
        return f"postgresql+{driver}://{self.user}:{secret}@{self.host}:{self.port}/{self.database}"

    def psql(self, sql: str, *, database: str | None = None) -> str:
        """Run SQL as the superuser over the Unix socket (for set-up and checks)."""
        return _run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                self.superuser,
                "-d",
                database or self.database,
                "-c",
                sql,
            ],
            _server_user(),
        ).strip()


def find_bin_dir() -> Path:
    """The folder holding initdb, postgres and psql, or a test failure saying how to get them."""
    wanted = ("initdb", "postgres", "psql", "pg_isready")
    configured = os.environ.get("LLMSPELL_PG_BIN")
    candidates = [configured] if configured else list(_CANDIDATE_DIRS)
    for folder in candidates:
        if folder and all((Path(folder) / name).is_file() for name in wanted):
            return Path(folder)
    if not configured:
        found = shutil.which("initdb")
        if found and all((Path(found).parent / name).is_file() for name in wanted):
            return Path(found).parent
    where = configured or ", ".join(_CANDIDATE_DIRS) + " or PATH"
    raise PostgresUnavailable(
        f"PostgreSQL server binaries (initdb, postgres, psql, pg_isready) were not found in "
        f"{where}; install them (Debian: apt-get install postgresql) or set LLMSPELL_PG_BIN"
    )


def _server_user() -> str | None:
    """The account the server runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise PostgresUnavailable("running as root and neither a 'postgres' nor a 'nobody' user exists")


def _run(cmd: list[str], user: str | None, *, timeout: float = 60) -> str:
    done = subprocess.run(
        cmd, user=user, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise PostgresUnavailable(
            f"{Path(cmd[0]).name} failed ({done.returncode}): {done.stderr or done.stdout}"
        )
    return done.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(bin_dir: Path, port: int, proc: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise PostgresUnavailable(
                f"postgres exited with {proc.returncode}: {log.read_text(errors='replace')}"
            )
        ready = subprocess.run(
            [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)],
            check=False,
            timeout=10,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise PostgresUnavailable(f"postgres did not become ready in {START_TIMEOUT:g}s")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)  # "fast" shutdown: roll back, disconnect, exit
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def running_postgres(
    *, user: str = "llmspell", database: str = "llmspell", durable: bool = False
) -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    owner = _server_user()
    base = Path(tempfile.mkdtemp(prefix="llmspell-pg-"))
    proc: subprocess.Popen[str] | None = None
    try:
        data, sockets, log = base / "data", base / "sock", base / "postgres.log"
        sockets.mkdir()
        if owner is not None:
            entry = pwd.getpwnam(owner)
            for path in (base, sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        superuser = "llmspell_admin"
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                superuser,
                "-A",
                "scram-sha-256",
                "--auth-local=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ],
            owner,
            timeout=120,
        )
        port = _free_port()
        with log.open("w") as out:
            if owner is not None:
                os.chown(log, pwd.getpwnam(owner).pw_uid, -1)
            proc = subprocess.Popen(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data),
                    "-k",
                    str(sockets),
                    "-p",
                    str(port),
                    "-h",
                    "127.0.0.1",
                    *(() if durable else ("-c", "fsync=off", "-c", "full_page_writes=off")),
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "max_connections=40",
                    "-c",
                    "shared_buffers=16MB",
                ],
                user=owner,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        _wait_ready(bin_dir, port, proc, log)
        password = secrets.token_urlsafe(18)
        server = PostgresServer(
            host="127.0.0.1",
            port=port,
            user=user,
            password=password,
            database=database,
            socket_dir=sockets,
            superuser=superuser,
            bin_dir=bin_dir,
        )
        server.psql(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'", database="postgres")
        server.psql(f"CREATE DATABASE {database} OWNER {user}", database="postgres")
        yield server
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(base, ignore_errors=True)
