"""A plain HTTP server on 127.0.0.1 that counts the connections it accepts, for the address guard tests.

Counting connections, not requests, is the point: a guard that connected to a refused address and
then sent nothing would still have reached into the network it guards.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Counting:
    port: int
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    connections: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)  # (Host header, path)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def route(self, path: str, body: bytes = b"", status: int = 200, **headers: str) -> None:
        self.routes[path] = (status, {name.replace("_", "-"): value for name, value in headers.items()}, body)

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: Counting

    def get_request(self) -> tuple[socket.socket, Any]:
        accepted = super().get_request()
        with self.state.lock:
            self.state.connections += 1
        return accepted

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append((self.headers.get("Host", ""), self.path))
        status, headers, body = state.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def counting_server() -> Iterator[Counting]:
    """A fresh server on 127.0.0.1 (an ephemeral port), stopped on exit."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = Counting(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="counting-server")
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()
