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
from tests.portal.harness import COMBINATIONS, VIEWPORTS, Portal, _slug, artifacts_root

REQUIRE_BROWSER_ENV = "KOTOWARI_REQUIRE_BROWSER"
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
def artifacts(request: pytest.FixtureRequest) -> Path:
    """Where a module's screenshots go: a directory per module under the artifacts root
    ($KOTOWARI_ARTIFACTS, else one under the system's temporary directory)."""
    directory = artifacts_root() / _slug(request.module.__name__.rsplit(".", 1)[-1])
    directory.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {directory}")
    return directory


class _Guard:
    """A browser context whose requests may only reach the test server (anything else is aborted and
    recorded) and whose pages' uncaught errors are recorded; `close` fails the test on either."""

    def __init__(self, browser: Any, base_url: str, lang: str, viewport: dict[str, int]) -> None:
        self.base_url = base_url
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(
            base_url=base_url,
            accept_downloads=True,
            viewport=viewport,
            locale="ja-JP" if lang == "ja" else "en-GB",
            timezone_id="Asia/Tokyo" if lang == "ja" else "Europe/London",
        )
        self.context.route("**/*", self._only_local)

    def _only_local(self, route: Any) -> None:
        if route.request.url.startswith((self.base_url, "blob:", "data:")):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def new_page(self) -> Any:
        opened = self.context.new_page()
        opened.on("pageerror", lambda error: self.errors.append(str(error)))
        return opened

    def close(self) -> None:
        self.context.close()
        assert not self.outside, f"the portal tried to reach other sites: {self.outside}"
        assert not self.errors, f"uncaught errors in the page: {self.errors}"


def localhost_url(server: ServerProcess) -> str:
    """The server as http://localhost:PORT: a secure context whose host WebAuthn accepts as an RP ID
    (an IP address is not one)."""
    return server.url.replace("127.0.0.1", "localhost")


@pytest.fixture
def page(browser: Any, portal_server: ServerProcess) -> Iterator[Any]:
    """A fresh browser context (own cookies and sessionStorage) at phone size in Japanese, whose
    requests may only reach the test server; the test fails on any other request or page error."""
    guard = _Guard(browser, portal_server.url, "ja", {"width": 390, "height": 844})
    try:
        yield guard.new_page()
    finally:
        guard.close()


@pytest.fixture(params=COMBINATIONS, ids=[f"{lang}-{viewport}" for lang, viewport in COMBINATIONS])
def portal(request: pytest.FixtureRequest, browser: Any, portal_server: ServerProcess) -> Iterator[Portal]:
    """The test's page in one of four combinations: Japanese or English (the `lang` cookie, the
    browser's locale and a matching time zone), phone (390×844) or desktop (1280×900). Screenshots go
    to a directory per test and combination, printed at the start of the test."""
    lang, viewport = request.param
    base = localhost_url(portal_server)
    guard = _Guard(browser, base, lang, VIEWPORTS[viewport])
    guard.context.add_cookies([{"name": "lang", "value": lang, "url": base}])
    module = request.node.module.__name__.rsplit(".", 1)[-1]
    directory = artifacts_root() / _slug(module) / _slug(request.node.name)
    directory.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {directory}")
    try:
        opened = guard.new_page()
        opened.set_default_timeout(15_000)
        yield Portal(opened, lang, viewport, base, directory)
    finally:
        guard.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the portal's screenshots are, once per run."""
    root = artifacts_root()
    if any(root.iterdir()):
        terminalreporter.write_line(f"portal screenshots (test artifacts): {root}")
