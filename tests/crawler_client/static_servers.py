"""Plain static file servers on 127.0.0.1 for a published tree: Python's `http.server` and Debian's
nginx (unprivileged, with the `_nginx.conf` snippet `kotowari publish` generates)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port


def _wait(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{what} did not answer at {url}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def python_http_server(root: Path) -> Iterator[str]:
    """`python -m http.server` serving `root`; yields its base URL."""
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/", process, "http.server")
        yield url
    finally:
        _stop(process)


def nginx_binary() -> str | None:
    """Debian's nginx, or a skip when it is missing and KOTOWARI_REQUIRE_NGINX is unset."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if found is None:
        if os.environ.get("KOTOWARI_REQUIRE_NGINX"):
            pytest.fail(
                "KOTOWARI_REQUIRE_NGINX is set but nginx is not installed (apt-get install nginx-light)"
            )
        pytest.skip("nginx is not installed (apt-get install nginx-light); KOTOWARI_REQUIRE_NGINX unset")
    return found


def readable_tree() -> Path:
    """A folder under /tmp that an unprivileged nginx may read (pytest's own are private to us)."""
    path = Path(tempfile.mkdtemp(prefix="kotowari-published-"))
    path.chmod(0o755)
    return path


@contextmanager
def nginx_server(root: Path) -> Iterator[str]:
    """nginx serving `root` (a `readable_tree`) through `root/_nginx.conf`, as nobody when we are root."""
    binary = nginx_binary()
    assert binary is not None
    prefix = Path(tempfile.mkdtemp(prefix="kotowari-nginx-"))
    prefix.chmod(0o777)
    port = free_port()
    temp = " ".join(
        f"{name}_temp_path {prefix}/{name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (prefix / "nginx.conf").write_text(
        f"worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n  access_log off;\n  {temp}\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n    include {root}/_nginx.conf;\n  }}\n}}\n"
    )
    argv = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
    argv += ["-g", "daemon off;"]
    if os.geteuid() == 0:
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/", process, "nginx")
        yield url
    finally:
        _stop(process)
        shutil.rmtree(prefix, ignore_errors=True)
