"""A test site on 127.0.0.1, served by the tests themselves (http.server in a thread).

Each test gets the same server with its routes cleared, so every case states the site it needs.
A route is a path (with or without query) mapped to a status, headers, body and an optional delay,
or to a callable that builds the answer. `site.hits` records every request (path, user agent).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawler_client.policy import Policy


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0


Answer = Route | Callable[[str], Route]


class Site:
    def __init__(self, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.routes: dict[str, Answer] = {}
        self.hits: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def route(
        self,
        path: str,
        body: bytes | str = b"",
        status: int = 200,
        headers: list[tuple[str, str]] | dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        self.routes[path] = Route(status, body, pairs, delay)

    def url(self, path: str) -> str:
        return self.base + path

    def paths(self) -> list[str]:
        with self.lock:
            return [path for path, _ in self.hits]

    def reset(self) -> None:
        self.routes.clear()
        with self.lock:
            self.hits.clear()


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with site.lock:
                site.hits.append((self.path, self.headers.get("User-Agent", "")))
            answer = site.routes.get(self.path) or site.routes.get(self.path.split("?", 1)[0])
            route = answer(self.path) if callable(answer) else answer
            if route is None:
                route = Route(404, b"not found")
            if route.delay:
                time.sleep(route.delay)
            try:
                self.send_response(route.status)
                names = {name.lower() for name, _ in route.headers}
                for name, value in route.headers:
                    self.send_header(name, value)
                if "content-type" not in names:
                    self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


_server: tuple[ThreadingHTTPServer, Site] | None = None


def _started() -> Site:
    global _server
    if _server is None:
        site = Site(0)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
        server.daemon_threads = True
        site.port = server.server_address[1]
        site.base = f"http://127.0.0.1:{site.port}"
        threading.Thread(target=server.serve_forever, daemon=True, name="policy-test-site").start()
        _server = (server, site)
    return _server[1]


@pytest.fixture
def site() -> Iterator[Site]:
    served = _started()
    served.reset()
    yield served
    served.reset()


@pytest.fixture
def policy() -> Iterator[Policy]:
    with Policy(allow_private=True, timeout=2.0) as made:
        yield made
