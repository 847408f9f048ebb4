"""Where no Chromium can be had, the browser tests skip saying why — unless CI asked for a browser."""

from __future__ import annotations

import pytest

from tests.portal.conftest import REQUIRE_BROWSER_ENV, _unavailable


def test_a_missing_browser_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_BROWSER_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install"):
        _unavailable("Chromium is not installed: apt-get install -y chromium")


def test_a_missing_browser_fails_when_ci_requires_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_BROWSER_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=REQUIRE_BROWSER_ENV):
        _unavailable("Chromium is not installed")
