"""Under a Japanese locale, what the libraries underneath say reaches the user in Japanese too: a
registry that hangs up, answers something that is not HTTP, does not speak TLS, or shows a
certificate nobody trusts (httpx, h11 and OpenSSL's reasons). (A port already in use:
test_serve_listen.py.)

Real servers on 127.0.0.1 misbehave each way; the real command line runs against them (at once,
since each unreachable registry is tried four times)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import trustme

from tests.crawler_client.test_cli_japanese_everywhere import JAPANESE, Ran, english_runs, kotowari


def _serve(answer: Callable[[socket.socket], None], wrap: ssl.SSLContext | None = None) -> Iterator[int]:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):  # ssl.SSLError is one
                answer(wrap.wrap_socket(conn, server_side=True) if wrap else conn)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)


def _hang_up(conn: socket.socket) -> None:
    conn.recv(65536)


def _not_http(conn: socket.socket) -> None:
    conn.recv(65536)
    conn.sendall(b"HELLO\r\n\r\n")


@pytest.fixture(scope="module")
def hangs_up() -> Iterator[int]:
    yield from _serve(_hang_up)


@pytest.fixture(scope="module")
def not_http() -> Iterator[int]:
    yield from _serve(_not_http)


@pytest.fixture(scope="module")
def untrusted_tls() -> Iterator[int]:
    """HTTPS with a certificate from a CA the client has never heard of."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    yield from _serve(_not_http, context)


def test_transport_failures_read_in_japanese(
    tmp_path: Path, hangs_up: int, not_http: int, untrusted_tls: int
) -> None:
    check = ("check", "--purpose", "train-ai", "--url", "https://example.com/a", "--registry")
    cases = {
        "hangs up": ((*check, f"http://127.0.0.1:{hangs_up}"), "サーバーが応答を送らずに接続を切りました"),
        "not HTTP": ((*check, f"http://127.0.0.1:{not_http}"), "HTTP として読めないステータス行です"),
        "not TLS": ((*check, f"https://127.0.0.1:{not_http}"), "TLS のバージョン番号が不正です"),
        "untrusted": ((*check, f"https://127.0.0.1:{untrusted_tls}"), "証明書を検証できませんでした"),
    }
    with ThreadPoolExecutor(len(cases)) as pool:
        ran: dict[str, Ran] = dict(
            zip(cases, pool.map(lambda case: kotowari(tmp_path, *case[0]), cases.values()), strict=True)
        )
    for name, (_argv, expected) in cases.items():
        result = ran[name]
        assert result.status == 2, (name, result.err)
        (line,) = result.lines
        assert expected in line and JAPANESE.search(line), (name, line)
        assert english_runs(line) == [], (name, line)
