"""What every browser test of the portal does at each page and state: a full-page screenshot saved as
an artifact, axe-core (vendored, `tests/portal/vendor/axe-core`) with no violations, and nothing that
scrolls sideways — at the viewport under test and at 360 px.

A test takes the `portal` fixture (tests/portal/conftest.py), which runs it four times: Japanese and
English, at 390×844 (a phone) and 1280×900 (a desktop). `portal.check("name")` is the one call per
state; `portal.t(key)` is the catalog entry in the language under test, so tests assert the words the
page should say in either language.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.i18n import translate

AXE_DIR = Path(__file__).parent / "vendor" / "axe-core"
AXE_SOURCE = (AXE_DIR / "axe.min.js").read_text(encoding="utf-8")
ARTIFACTS_ENV = "KOTOWARI_ARTIFACTS"
VIEWPORTS: dict[str, dict[str, int]] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 900},
}
NARROWEST = 360
COMBINATIONS = [("ja", "phone"), ("en", "desktop"), ("ja", "desktop"), ("en", "phone")]


def artifacts_root() -> Path:
    """$KOTOWARI_ARTIFACTS, else one fixed directory under the system's temporary directory (the
    same for every xdist worker, so the run's summary can name it)."""
    configured = os.environ.get(ARTIFACTS_ENV)
    root = Path(configured) if configured else Path(tempfile.gettempdir()) / "kotowari-portal-artifacts"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120]


@dataclass
class Portal:
    """One browser page in one language at one viewport, against the module's server."""

    page: Any
    lang: str
    viewport: str
    base_url: str
    artifacts: Path
    checked: list[str] = field(default_factory=list)

    def t(self, key: str) -> str:
        return translate(self.lang, key)

    @property
    def phone(self) -> bool:
        return self.viewport == "phone"

    def goto(self, path: str) -> Any:
        return self.page.goto(path)

    def check(self, name: str, *, axe: bool = True) -> None:
        """Screenshot, axe-core and the sideways-scroll check for the page as it is now."""
        page = self.page
        page.wait_for_load_state("load")
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        number = len(self.checked) + 1
        page.screenshot(path=str(self.artifacts / f"{number:02d}-{_slug(name)}.png"), full_page=True)
        self.checked.append(name)
        if axe:
            violations = run_axe(page)
            assert not violations, f"axe-core on {name} ({self.lang}, {self.viewport}): {violations}"
        assert_no_sideways_scroll(page, name)


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page, each as its rule id, impact, help and the failing nodes.

    The source goes in through the DevTools protocol (Playwright's evaluate), which the page's
    Content-Security-Policy does not govern, so the portal needs no exception for the test."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE + "\n;undefined")
    script = """async () => {
        const result = await window.axe.run(document, { resultTypes: ["violations"] });
        return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
        }));
    }"""
    violations: list[dict[str, Any]] = page.evaluate(script)
    return violations


def assert_no_sideways_scroll(page: Any, name: str) -> None:
    """Nothing scrolls sideways at the current width, nor at 360 px (the narrowest phone we support)."""
    size = page.viewport_size
    widths = [size["width"]] + ([NARROWEST] if size["width"] > NARROWEST else [])
    measure = (
        "() => { const s = document.scrollingElement; return [s.scrollWidth, window.innerWidth,"
        " [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right"
        " > window.innerWidth + 1 && !e.closest('.table-wrap')).slice(0, 5).map((e) =>"
        " e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)]; }"
    )
    try:
        for width in widths:
            if width != page.viewport_size["width"]:
                page.set_viewport_size({"width": width, "height": size["height"]})
                page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
            scroll_width, inner_width, wide = page.evaluate(measure)
            assert scroll_width <= inner_width, f"{name} scrolls sideways at {width} px: {wide}"
    finally:
        if page.viewport_size != size:
            page.set_viewport_size(size)
