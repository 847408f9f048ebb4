"""Real HTTPS and DNS servers on 127.0.0.1 for the authority checks, with a test CA from trustme.

The HTTPS server presents one certificate for ``publisher.example``, ``alice.example`` and
``www.publisher.example`` only (not for 127.0.0.1), so a fetch that succeeds proves the certificate
was checked against the name, not the address. Every other name resolves to the server as well, so a
fetch for it proves a name missing from the certificate is refused.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dnslib
import dnslib.server
import pytest
import trustme

from registry.authority.fetch import HttpsFetcher

CERT_NAMES = ("publisher.example", "alice.example", "www.publisher.example")


@dataclass
class Route:
    """What the server answers at one path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before the status line
    trickle: float = 0.0  # between body chunks of 16 bytes
    length: bool = True  # send Content-Length


@dataclass
class HttpsServer:
    port: int
    ca: trustme.CA
    routes: dict[tuple[str, str], Route]  # (host, path) -> answer; host "*" for any
    requests: list[tuple[str, str]]  # (Host header, path) of every request served
    server_names: list[str | None]  # SNI names seen in handshakes

    def route(self, host: str, path: str, route: Route) -> None:
        self.routes[(host, path)] = route

    def count(self, path: str) -> int:
        return sum(1 for _host, seen in self.requests if seen == path)

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        path = self.path
        self.server.state.requests.append((self.headers.get("Host") or "", path))
        routes = self.server.state.routes
        route = routes.get((host, path)) or routes.get(("*", path)) or Route(b"not found", 404)
        time.sleep(route.delay)
        try:
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.length:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if route.trickle:
                for start in range(0, len(route.body), 16):
                    self.wfile.write(route.body[start : start + 16])
                    self.wfile.flush()
                    time.sleep(route.trickle)
            else:
                self.wfile.write(route.body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    state: HttpsServer
    tls: ssl.SSLContext

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The handshake runs in the connection's thread, so a client refusing it blocks nobody.
        try:
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(wrapped, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def _https_server(ca: trustme.CA) -> Iterator[HttpsServer]:
    server = _Server(("127.0.0.1", 0), _Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*CERT_NAMES).configure_cert(tls)
    state = HttpsServer(server.server_address[1], ca, {}, [], [])

    def remember(sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, context: ssl.SSLContext) -> None:
        state.server_names.append(name)

    tls.sni_callback = remember
    server.tls, server.state = tls, state
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def https_server(_https_server: HttpsServer) -> HttpsServer:
    _https_server.routes.clear()
    _https_server.requests.clear()
    _https_server.server_names.clear()
    return _https_server


@dataclass
class Resolutions:
    """A resolver answering from a table (default 127.0.0.1) and counting its calls."""

    table: dict[str, list[str]] = field(default_factory=dict)
    calls: list[tuple[str, int]] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        if host.endswith(".invalid"):
            raise OSError("Name or service not known")
        return self.table.get(host, ["127.0.0.1"])


@pytest.fixture
def resolver() -> Resolutions:
    return Resolutions()


@pytest.fixture
def fetcher(https_server: HttpsServer, resolver: Resolutions) -> HttpsFetcher:
    return HttpsFetcher(
        allow_private=True,
        verify=https_server.client_context(),
        timeout=0.5,
        resolve=resolver,
        https_port=https_server.port,
    )


@dataclass
class TickingClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 5, 1, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def ticking() -> TickingClock:
    return TickingClock()


# ------------------------------------------------------------------ DNS


class _TxtResolver:
    """Answers TXT queries from a table; anything else is NXDOMAIN."""

    def __init__(self, records: dict[str, list[list[bytes]]]) -> None:
        self.records = records

    def resolve(self, request: dnslib.DNSRecord, handler: Any) -> dnslib.DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if name not in self.records:
            reply.header.rcode = dnslib.RCODE.NXDOMAIN
            return reply
        if request.q.qtype == dnslib.QTYPE.TXT:
            for strings in self.records[name]:
                reply.add_answer(
                    dnslib.RR(request.q.qname, dnslib.QTYPE.TXT, rdata=dnslib.TXT(strings), ttl=60)
                )
        return reply


class _QuietLogger:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


@dataclass
class DnsServer:
    port: int
    records: dict[str, list[list[bytes]]]


@pytest.fixture(scope="module")
def _dns_server() -> Iterator[DnsServer]:
    records: dict[str, list[list[bytes]]] = {}
    server = dnslib.server.DNSServer(
        _TxtResolver(records), address="127.0.0.1", port=0, logger=_QuietLogger()
    )
    server.start_thread()
    yield DnsServer(server.server.server_address[1], records)
    server.stop()
    server.server.server_close()


@pytest.fixture
def dns_server(_dns_server: DnsServer) -> DnsServer:
    _dns_server.records.clear()
    return _dns_server


@pytest.fixture
def silent_udp_port() -> Iterator[int]:
    """A UDP port on 127.0.0.1 that receives queries and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()
