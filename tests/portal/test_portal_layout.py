"""Part 7, layout (and the dates of part 6): nothing scrolls sideways at 360 px (the harness measures
every page and state of every test there), the statistics read on a phone (cards, not a squeezed
table) and on a desktop (headers not one character per line), no "0.0 hours", zero bars visible; a
CJK-capable font really renders the Japanese (Chromium says which platform font it used); a
public-and-permanent warning stands before every signing button; times are in the viewer's zone."""

from __future__ import annotations

import secrets
from typing import Any

import keys
from tests.portal.harness import Portal
from tests.portal.helpers import file_claim, load_key, register_operator, respond

CJK_FONTS = ("Noto Sans CJK", "IPAGothic", "IPAPGothic", "IPAexGothic", "Noto Sans JP")


def platform_fonts(page: Any, selector: str) -> list[str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return [str(font["familyName"]) for font in fonts]


def test_statistics_read_on_every_screen_with_zero_bars_and_real_durations(portal: Portal) -> None:
    quiet = register_operator(portal.base_url, f"Quiet AI {secrets.token_hex(2)}")
    busy = register_operator(portal.base_url, f"Busy AI {secrets.token_hex(2)}")
    portal.goto("/takedown")
    load_key(portal, keys.SigningKey.generate())
    portal.page.reload()
    portal.page.fill("#operator", busy.did)
    portal.page.fill("#subject-urls", "https://me.example/")
    portal.page.fill("#loc-models", "busy/model")
    portal.page.fill("#contact-name", "N")
    portal.page.fill("#contact-email", "n@example.jp")
    portal.page.fill("#jp-right", "著作権")
    portal.page.fill("#jp-reason", "理由")
    portal.page.click("#sign-notice")
    portal.page.wait_for_selector("#filed:not([hidden])")
    respond(portal.base_url, busy, portal.page.text_content("#filed-id") or "", "acknowledge")
    portal.goto("/stats")
    text = portal.page.text_content("main") or ""
    assert "0.0" not in text
    assert portal.t("duration.under_minute") in text  # acknowledged within seconds
    # Zero bars are drawn, outlined, not left out.
    zero = portal.page.locator("svg.chart rect[data-zero=true]")
    assert zero.count() >= 2
    assert all(float(zero.nth(n).get_attribute("width") or 0) >= 3 for n in range(zero.count()))
    names = portal.page.text_content("svg.chart") or ""
    assert quiet.did not in names
    if portal.phone:
        assert portal.page.is_visible("#stats-cards") and portal.page.is_hidden("#stats-table")
    else:
        assert portal.page.is_visible("#stats-table") and portal.page.is_hidden("#stats-cards")
        squeezed = portal.page.evaluate(
            "() => [...document.querySelectorAll('#stats-table thead th')].filter((th) => {"
            " const size = parseFloat(getComputedStyle(th).fontSize);"
            " return th.getBoundingClientRect().width < 2.5 * size; }).map((th) => th.textContent)"
        )
        assert not squeezed, squeezed
    portal.check("stats")


def test_japanese_renders_in_a_cjk_font(portal: Portal) -> None:
    portal.goto("/reserve")
    # Japanese text on either language's page: the heading in Japanese, the switch's 日本語 in both.
    for selector in ["form.lang button[value=ja]"] + (["h1"] if portal.lang == "ja" else []):
        fonts = platform_fonts(portal.page, selector)
        assert any(font.startswith(CJK_FONTS) for font in fonts), (selector, fonts)
    portal.check("font")


def test_a_public_and_permanent_warning_stands_before_every_signing_button(portal: Portal) -> None:
    key = keys.SigningKey.generate()
    claim = file_claim(portal.base_url, key, "work", [("url", f"https://w-{secrets.token_hex(3)}.example/")],
                       {"train-ai": "n"})  # fmt: skip
    pages = ["/reserve", "/takedown", "/keys", f"/claims/{claim}"]
    portal.goto("/reserve")
    load_key(portal, key)
    for path in pages:
        portal.goto(path)
        portal.page.wait_for_load_state("load")
        buttons = portal.page.locator("main form button[type=submit]:visible, #rotate-key")
        assert buttons.count() >= 1, path
        for number in range(buttons.count()):
            button = buttons.nth(number)
            warning = button.get_attribute("aria-describedby")
            assert warning == "public-warning", (path, button.text_content())
            said = portal.page.text_content("#public-warning") or ""
            assert said.strip() in (portal.t("public.warning"), portal.t("takedown.public")), said
            # The warning comes before the button, in the reading order.
            assert portal.page.evaluate(
                "(b) => !!(document.getElementById('public-warning').compareDocumentPosition(b)"
                " & Node.DOCUMENT_POSITION_FOLLOWING)",
                button.element_handle(),
            ), path
    portal.check("withdraw-warning")


def test_times_are_shown_in_the_viewers_zone(portal: Portal) -> None:
    site = f"https://t-{secrets.token_hex(3)}.example/"
    claim = file_claim(
        portal.base_url, keys.SigningKey.generate(), "work", [("url", site)], {"train-ai": "n"}
    )
    portal.goto(f"/claims/{claim}")
    filed = portal.page.locator("ol.events time").first
    portal.page.wait_for_function("() => document.querySelector('ol.events time').dataset.local === 'true'")
    shown = filed.text_content() or ""
    assert "UTC" in (filed.get_attribute("title") or "")  # the wire time stays in the title
    assert ("JST" in shown) if portal.lang == "ja" else ("GMT" in shown or "BST" in shown), shown
    portal.check("claim-times")


def test_the_checks_themselves_catch_what_they_are_for(page: Any) -> None:
    """axe-core (vendored) really runs and reports, and the sideways check really fails on a page that
    scrolls sideways: a harness that could not fail would prove nothing."""
    import pytest

    from tests.portal.harness import assert_no_sideways_scroll, run_axe

    page.goto("/")
    assert run_axe(page) == []
    add = "([tag, width]) => { const e = document.createElement(tag); if (tag === 'img') e.src = 'data:,';"
    add += " else { e.textContent = 'x'; e.style.width = width; } document.querySelector('main').append(e); }"
    page.evaluate(add, ["img", ""])  # no alt text
    assert "image-alt" in [violation["id"] for violation in run_axe(page)]
    page.evaluate(add, ["div", "2000px"])
    with pytest.raises(AssertionError, match="scrolls sideways"):
        assert_no_sideways_scroll(page, "wide")
