"""`kotowari serve` and `kotowari witness serve` bind their port before anything starts: a port in
use is one line in the locale's language and exit 2 (not uvicorn's English log after start-up), and
`--port 0` listens on a port the system chose and says which."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, kotowari_command
from tests.crawler_client.cli_harness import run_process


@pytest.fixture
def taken() -> Iterator[int]:
    """A loopback port another program is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("ja_JP.UTF-8", "で待ち受けできません: [Errno 98] アドレスはすでに使用中です"),
        ("C.UTF-8", "cannot listen on 127.0.0.1:{port}: [Errno 98] Address already in use"),
    ],
)
@pytest.mark.parametrize("command", [("serve",), ("witness", "serve")])
def test_a_port_in_use_is_one_line_in_the_locales_language_and_exit_2(
    tmp_path: Path, taken: int, lang: str, said: str, command: tuple[str, ...]
) -> None:
    argv = (*command, "--host", "127.0.0.1", "--port", str(taken), "--data-dir", str(tmp_path / "data"))
    if command[0] == "witness":  # a log it may cosign, so the bind is what fails
        argv = (*argv, "--log", _log_flag())
    done = run_process(tmp_path, argv, {"LANG": lang})
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and said.format(port=taken) in lines[0], done.stderr
    assert "ERROR:" not in done.stderr and "listening on" not in done.stdout


def test_port_0_listens_where_the_system_chose_and_says_where(tmp_path: Path) -> None:
    argv = [*kotowari_command(), "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(tmp_path)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        banner = ""
        while "listening on" not in banner:
            line = process.stdout.readline()
            assert line, f"the server stopped: {banner}"
            banner += line
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", banner)
        assert found is not None and int(found.group(1)) != 0, banner
        url = f"http://127.0.0.1:{found.group(1)}"
        for _attempt in range(100):
            try:
                answer = httpx.get(f"{url}/healthz", timeout=1.0)
                break
            except httpx.TransportError:
                assert process.poll() is None, "the server stopped"
                time.sleep(0.1)
        else:
            pytest.fail("the server did not answer where it said it listens")
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_port_beyond_range_is_refused_before_binding(tmp_path: Path) -> None:
    port = free_port()
    done = run_process(tmp_path, ("serve", "--port", "70000", "--data-dir", str(tmp_path)), {})
    assert done.returncode == 2 and "70000" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    with socket.socket() as probe:  # nothing was left bound
        probe.bind(("127.0.0.1", port))


def _log_flag() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from keys.note import verifier_key

    return f"example.com/log={verifier_key('example.com/log', Ed25519PrivateKey.generate().public_key())}"
