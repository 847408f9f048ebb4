"""Debian's haproxy in front of several `kotowari serve` workers on one database, for
tests/api/test_balancer.py and bench/balancer.py.

The haproxy configuration is the README's own (the ```haproxy block under "Several workers behind a
load balancer"), with only its listening ports and its `server` lines replaced by this run's, so
the configuration the README recommends is the one the test kills workers behind. haproxy runs in
the foreground (`-db`) as whoever starts it, on 127.0.0.1 ports above 1024; workers write their
output to a file (nothing is left to fill a pipe), and a killed worker restarts on its own port.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import free_port, kotowari_command
from tests.crawler_client.readme import blocks

HEADING = "Several workers behind a load balancer"
REQUIRE_ENV = "KOTOWARI_REQUIRE_HAPROXY"  # CI sets it: a missing haproxy fails instead of skipping
BACKEND = "workers"


def haproxy_binary() -> str | None:
    """Debian installs haproxy in /usr/sbin, which an unprivileged user's PATH may lack."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    return found


def readme_config() -> str:
    """The README's haproxy configuration, as written."""
    (block,) = blocks(HEADING, language="haproxy")
    return block + "\n"


def configured(template: str, port: int, stats_port: int, workers: Sequence[tuple[str, int]]) -> str:
    """`template` listening on `port` (its stats on `stats_port`), balancing over `workers`
    ((name, port) pairs): the README's `server` lines give way to one per worker, shaped like its
    first one; everything else stays as written."""
    lines: list[str] = []
    section = ""
    servers_written = False
    for line in template.splitlines():
        stripped = line.strip()
        if line and not line[0].isspace():
            section = " ".join(stripped.split()[:2])
        words = stripped.split()
        if words[:1] == ["bind"]:
            bound = stats_port if section == "listen stats" else port
            line = line.replace(words[1], f"127.0.0.1:{bound}")
        elif words[:1] == ["server"]:
            if not servers_written:
                indent = line[: len(line) - len(line.lstrip())]
                rest = " ".join(words[3:])
                lines += [f"{indent}server {name} 127.0.0.1:{at} {rest}".rstrip() for name, at in workers]
                servers_written = True
            continue
        lines.append(line)
    if not servers_written:
        raise ValueError("the configuration has no `server` line to follow")
    return "\n".join(lines) + "\n"


class _Logged:
    """A child process writing to `log`: stopped politely, then killed; its output for errors."""

    process: subprocess.Popen[bytes] | None
    log: Path

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


@dataclass
class Worker(_Logged):
    """One `kotowari serve` on a fixed port, started, killed and started again there."""

    name: str
    data_dir: Path
    db: str
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        argv = [*kotowari_command(), "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        argv += ["--db", self.db]
        with self.log.open("ab") as out:
            out.write(f"---- start {self.starts + 1}\n".encode())
            out.flush()
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"worker {self.name} exited with {self.process.returncode}: {self.output()}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"worker {self.name} did not answer in time: {self.output()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, requests in flight are cut off."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


class Balancer(_Logged):
    """haproxy with the README's configuration over `workers`; `stats()` reads its counters."""

    def __init__(self, binary: str, workers: Sequence[Worker], directory: Path) -> None:
        self.binary = binary
        self.workers = list(workers)
        self.directory = directory
        self.port, self.stats_port = free_port(), free_port()
        self.config = directory / "haproxy.cfg"
        self.log = directory / "haproxy.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        servers = [(worker.name, worker.port) for worker in self.workers]
        self.config.write_text(configured(readme_config(), self.port, self.stats_port, servers))
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [self.binary, "-f", str(self.config), "-db"], stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited with {self.process.returncode}: {self.output()}")
            try:
                if all(row["status"] == "UP" for row in self.servers().values()):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"haproxy did not see every worker up in time: {self.output()}")

    def servers(self) -> dict[str, dict[str, str]]:
        """The backend's servers' rows of haproxy's CSV statistics, by server name."""
        answer = httpx.get(f"http://127.0.0.1:{self.stats_port}/stats;csv", timeout=5.0)
        answer.raise_for_status()
        rows = csv.DictReader(io.StringIO(answer.text.lstrip("# ")))
        return {
            row["svname"]: row
            for row in rows
            if row["pxname"] == BACKEND and row["svname"] not in {"BACKEND", "FRONTEND"}
        }

    def kill_serving(self, worker: Worker, timeout: float = 10.0) -> int:
        """SIGKILL `worker` as soon as haproxy counts requests in its hands (within `timeout`, else
        anyway); returns how many it counted. Run it in a thread of its own: a busy event loop
        would let those requests finish before the kill."""
        deadline = time.monotonic() + timeout
        serving = 0
        while time.monotonic() < deadline:
            serving = int(self.servers()[worker.name]["scur"])
            if serving:
                break
            time.sleep(0.002)
        worker.kill()
        return serving

    def wait_status(self, name: str, status: str, timeout: float = 30.0) -> dict[str, str]:
        """Wait until haproxy's health checks say `status` (`UP`, `DOWN`) for worker `name`."""
        deadline = time.monotonic() + timeout
        while True:
            row = self.servers()[name]
            if row["status"] == status:
                return row
            if time.monotonic() > deadline:
                raise AssertionError(f"haproxy sees {name} as {row['status']!r}, not {status!r}")
            time.sleep(0.05)


def required() -> bool:
    return bool(os.environ.get(REQUIRE_ENV))
