"""A registry application in this process for the client tests, and a transport that watches or
alters what passes between client and registry (to lose answers, tamper with them, count requests)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.conftest import Clock


@asynccontextmanager
async def running_registry(tmp_path: Path, clock: Clock, **settings: Any) -> AsyncIterator[Starlette]:
    """A registry on SQLite in `tmp_path` (lifespan running), with the server's default limits."""
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from api import Settings, create_app

    EXECUTOR_CACHE.clear()
    tmp_path.mkdir(parents=True, exist_ok=True)
    app = create_app(
        Settings(data_dir=tmp_path / "data", db_url=f"sqlite://{tmp_path / 'registry.sqlite3'}", **settings),
        clock=clock,
    )
    async with app.router.lifespan_context(app):
        yield app


Alter = Callable[[httpx.Request, httpx.Response], httpx.Response | Exception | None]


class Intercept(httpx.AsyncBaseTransport):
    """Passes requests to an ASGI app; `alter` may replace an answer, or raise instead of answering
    (after the app has acted: a lost answer). Records requests and the most ever in flight."""

    def __init__(self, app: Starlette, alter: Alter | None = None, *, delay: float = 0.0) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.alter = alter
        self.delay = delay
        self.requests: list[httpx.Request] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            response = await self.inner.handle_async_request(request)
            await response.aread()
        finally:
            self.in_flight -= 1
        changed = self.alter(request, response) if self.alter else None
        if isinstance(changed, Exception):
            raise changed
        return changed or response

    def paths(self, method: str | None = None) -> list[str]:
        return [r.url.path for r in self.requests if method is None or r.method == method]


def with_json(response: httpx.Response, edit: Callable[[Any], Any]) -> httpx.Response:
    """`response` with its JSON body edited."""
    body = edit(json.loads(response.content))
    headers = {"content-type": response.headers.get("content-type", "application/json")}
    return httpx.Response(response.status_code, headers=headers, content=json.dumps(body).encode())
