"""Shared fixtures: databases (SQLite always, PostgreSQL when its binaries are installed), an
in-process application, a real `kotowari serve` process, keys and a controllable clock."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

import keys

# No deadline: Hypothesis's per-example deadline is a timing assertion, and on a shared 2-core
# machine a slow example is noise, not a failure (bench/ measures speed). Examples stay bounded.
hypothesis_settings.register_profile("kotowari", deadline=None)
hypothesis_settings.load_profile("kotowari")

# The command line speaks the locale's language (crawler_client.i18n): the tests read its English,
# whatever the machine's locale, and tests of the Japanese set it themselves (and this process's
# servers and subprocesses inherit it).
for _name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_name, None)
os.environ["LANG"] = "C.UTF-8"

POSTGRES_ENV = (
    "KOTOWARI_TEST_POSTGRES"  # use this server (postgres://user@host:port/db) instead of starting one
)
REQUIRE_POSTGRES_ENV = (
    "KOTOWARI_REQUIRE_POSTGRES"  # CI sets it: a missing PostgreSQL fails instead of skipping
)


# ------------------------------------------------------------------ time and keys


@dataclass
class Clock:
    """A clock tests move by hand; the registry takes it as a parameter."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def alice() -> keys.SigningKey:
    return keys.SigningKey.generate()


@pytest.fixture
def mallory() -> keys.SigningKey:
    return keys.SigningKey.generate()


@pytest.fixture
def notifier() -> keys.SigningKey:
    return keys.SigningKey.generate()


@pytest.fixture
def operator() -> keys.SigningKey:
    return keys.SigningKey.generate()


# ------------------------------------------------------------------ PostgreSQL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bindir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary directory on a free loopback port, for this test session."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="kotowari-pg-"))
        self.datadir = self.root / "data"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0  # initdb refuses to run as root

    def _run(self, *argv: str) -> None:
        command = [str(self.bindir / argv[0]), *argv[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.datadir), "-U", "kotowari", "--auth=trust", "-E", "UTF8", "--no-locale"
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.datadir), "-o", options, "-l", str(self.root / "log"), "-w", "start"
        )
        return f"postgres://kotowari@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | None]:
    """The admin URL of a PostgreSQL server, or None where none can be had."""
    if os.environ.get(POSTGRES_ENV):
        yield os.environ[POSTGRES_ENV]
        return
    bindir = postgres_bindir()
    if bindir is None:
        yield None
        return
    cluster = ThrowawayPostgres(bindir)
    try:
        url = cluster.start()
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        cluster.stop()
        if os.environ.get(REQUIRE_POSTGRES_ENV):
            raise RuntimeError(f"cannot start PostgreSQL: {exc} {detail!r}") from exc
        yield None
        return
    try:
        yield url
    finally:
        cluster.stop()


_database_numbers = itertools.count()


async def _create_database(admin_url: str) -> str:
    import asyncpg

    name = f"kotowari_test_{os.getpid()}_{next(_database_numbers)}"
    connection = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    finally:
        await connection.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: every test that uses it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'registry.sqlite3'}"
    return await _fresh_postgres(request)


@pytest.fixture
async def postgres_db_url(request: pytest.FixtureRequest) -> str:
    """A fresh PostgreSQL database, for what only PostgreSQL can do (several workers on one log)."""
    return await _fresh_postgres(request)


async def _fresh_postgres(request: pytest.FixtureRequest) -> str:
    admin = request.getfixturevalue("postgres_server")
    if admin is None:
        if os.environ.get(REQUIRE_POSTGRES_ENV):
            pytest.fail("PostgreSQL is required here but no server could be started")
        pytest.skip(
            "PostgreSQL is not installed: install it (apt-get install postgresql) for the PostgreSQL pass"
        )
    return await _create_database(admin)


# ------------------------------------------------------------------ the application, in process


@pytest.fixture
async def api(db_url: str, tmp_path: Path, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to a registry application in this process (lifespan included)."""
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from api import Settings, create_app

    # Tortoise caches insert SQL per connection *name*, not per dialect: a PostgreSQL test after a
    # SQLite one would reuse `?` placeholders. One engine per process never meets this; tests do.
    EXECUTOR_CACHE.clear()
    settings = Settings(
        data_dir=tmp_path / "data", db_url=db_url, max_body_bytes=256 * 1024, max_check_items=50
    )
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            yield client


# ------------------------------------------------------------------ a real server process


@dataclass
class ServerProcess:
    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    banner: str


def kotowari_command() -> list[str]:
    return [sys.executable, "-m", "crawler_client.cli"]


def start_server(data_dir: Path, db: str | None = None, timeout: float = 30.0) -> ServerProcess:
    port = free_port()
    argv = [*kotowari_command(), "serve", "--port", str(port), "--data-dir", str(data_dir)]
    if db:
        argv += ["--db", db]
    url = f"http://127.0.0.1:{port}"
    process, banner = start_process(argv, f"{url}/healthz", timeout)
    return ServerProcess(url=url, data_dir=data_dir, process=process, banner=banner)


def start_process(argv: list[str], ready_url: str, timeout: float) -> tuple[subprocess.Popen[str], str]:
    """Start a `kotowari` server process; wait until `ready_url` answers 200; returns it and its banner
    (what it printed up to its "listening on" line)."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{argv[3:5]} exited with {process.returncode}: {process.stdout.read()}")  # type: ignore[union-attr]
        try:
            if httpx.get(ready_url, timeout=1.0).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(f"{argv[3:5]} did not answer at {ready_url} in time")
    banner = ""
    assert process.stdout is not None
    while "listening on" not in banner:
        line = process.stdout.readline()
        if not line:
            break
        banner += line
    return process, banner


def stop_server(server: ServerProcess) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """`kotowari serve` in its own process on a free loopback port, on SQLite or PostgreSQL."""
    db = None if db_url.startswith("sqlite://") else db_url
    running = start_server(tmp_path / "server-data", db)
    try:
        yield running
    finally:
        stop_server(running)
