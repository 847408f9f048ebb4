"""Fixtures for the portal's browser tests: Debian's Chromium driven by Playwright, one browser and one
`kotowari serve` process per module, screenshots collected as artifacts.

No browser is ever downloaded (`playwright install` is never run): the tests drive the system's
`chromium` binary. Where it is missing they skip, saying how to install it — unless
KOTOWARI_REQUIRE_BROWSER is set (CI sets it), where a missing browser is a failure, as
KOTOWARI_REQUIRE_POSTGRES does for PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess, start_server, stop_server

REQUIRE_BROWSER_ENV = "KOTOWARI_REQUIRE_BROWSER"
ARTIFACTS_ENV = "KOTOWARI_ARTIFACTS"
# Offline and quiet: no first-run pages, sync, component or background updates.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_BROWSER_ENV):
        pytest.fail(f"{REQUIRE_BROWSER_ENV} is set but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    executable = chromium_path()
    if executable is None:
        _unavailable(
            "Chromium is not installed: apt-get install -y chromium (Debian) to run the browser tests"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def portal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real `kotowari serve` on SQLite and a free loopback port, shared by the module's tests."""
    running = start_server(tmp_path_factory.mktemp("portal-server") / "data")
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $KOTOWARI_ARTIFACTS, else a directory under pytest's temporary root."""
    configured = os.environ.get(ARTIFACTS_ENV)
    directory = Path(configured) if configured else tmp_path_factory.mktemp("artifacts")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def page(browser: Any, portal_server: ServerProcess) -> Iterator[Any]:
    """A fresh browser context (own cookies and sessionStorage) whose requests may only reach the
    test server: anything else is aborted and recorded, and the test fails if there was any."""
    context = browser.new_context(
        base_url=portal_server.url,
        accept_downloads=True,
        viewport={"width": 390, "height": 844},
        locale="ja-JP",
    )
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith((portal_server.url, "blob:", "data:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert not outside, f"the portal tried to reach other sites: {outside}"
    assert not errors, f"uncaught errors in the page: {errors}"
