"""Part 2, one submission per intent: the button is disabled while the page signs and files; a double
tap (or Enter pressed twice) files one claim; a retry after a lost answer sends the very same signed
document, which the registry recognises (409 nonce-reused), and the page shows the claim that exists
instead of filing a twin. The same for takedown notices."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

import keys
from tests.portal.harness import Portal
from tests.portal.helpers import check, load_key, register_operator

RECORD_FETCHES = """() => {
    window.__posts = [];
    const original = window.fetch;
    window.fetch = (url, options = {}) => {
        if ((options.method || 'GET') === 'POST') {
            const button = document.querySelector('form[aria-busy] button[type=submit]');
            window.__posts.push({ url: String(url), disabled: Boolean(button && button.disabled) });
        }
        return original(url, options);
    };
}"""

TWICE = "(id) => { const form = document.getElementById(id); form.requestSubmit(); form.requestSubmit(); }"


def fill_claim(portal: Portal, url: str) -> None:
    portal.page.fill("#title", "二度押し")
    portal.page.fill("#urls", url)


def test_a_double_tap_files_one_claim_and_the_button_waits(portal: Portal) -> None:
    url = f"https://double-{secrets.token_hex(4)}.example/"
    portal.goto("/reserve")
    load_key(portal, keys.SigningKey.generate())
    portal.page.reload()
    fill_claim(portal, url)
    portal.page.evaluate(RECORD_FETCHES)
    # Two submits in the same task (a double tap, Enter twice), then a real double click.
    portal.page.evaluate(
        "() => { const f = document.getElementById('reserve-form'); f.requestSubmit(); f.requestSubmit(); }"
    )
    portal.page.dblclick("#sign-claim")
    portal.page.wait_for_selector("#receipt:not([hidden])")
    portal.page.wait_for_function("() => !document.getElementById('sign-claim').disabled")
    posts = portal.page.evaluate("() => window.__posts")
    assert posts and all(post["disabled"] for post in posts), posts
    matches = check(portal.base_url, "train-ai", {"scheme": "url", "value": url})["matches"]
    assert len(matches) == 1, matches
    assert portal.page.text_content("#receipt-id") == matches[0]["claim"]
    portal.check("double-tap-one-claim")


def test_a_retry_after_a_lost_answer_shows_the_claim_that_exists(portal: Portal) -> None:
    url = f"https://retry-{secrets.token_hex(4)}.example/"
    portal.goto("/reserve")
    load_key(portal, keys.SigningKey.generate())
    portal.page.reload()
    fill_claim(portal, url)

    # The request never reaches the registry: the page says so, in its language, and nothing is filed.
    portal.page.route("**/v1/claims", lambda route: route.abort())
    portal.page.click("#sign-claim")
    portal.page.wait_for_selector("#form-errors:not([hidden])")
    assert portal.t("err.type.network") in (portal.page.text_content("#form-errors") or "")
    assert check(portal.base_url, "train-ai", {"scheme": "url", "value": url})["matches"] == []
    portal.check("retry-unreachable")
    portal.page.unroute("**/v1/claims")

    # The registry files it but the answer is lost: the page finds the claim by its id (the document's
    # hash, which it knows) and shows it; a retry of the same form sends the same document (409).
    lost: list[str] = []

    def lose_the_answer(route: Any) -> None:
        route.fetch()
        lost.append(route.request.url)
        route.abort()

    portal.page.route("**/v1/claims", lose_the_answer)
    portal.page.click("#sign-claim")
    portal.page.wait_for_selector("#receipt:not([hidden])")
    assert lost and portal.page.is_visible("#receipt-already")
    portal.page.unroute("**/v1/claims")
    matches = check(portal.base_url, "train-ai", {"scheme": "url", "value": url})["matches"]
    assert len(matches) == 1 and portal.page.text_content("#receipt-id") == matches[0]["claim"]
    statuses: list[int] = []
    portal.page.on("response", lambda r: statuses.append(r.status) if r.url.endswith("/v1/claims") else None)
    portal.page.click("#sign-claim")
    portal.page.wait_for_function("() => !document.getElementById('sign-claim').disabled")
    assert statuses == [409], statuses  # the registry recognised the replay
    assert portal.page.is_visible("#receipt-already")
    assert portal.t("reserve.already") in (portal.page.text_content("#receipt") or "")
    assert len(check(portal.base_url, "train-ai", {"scheme": "url", "value": url})["matches"]) == 1
    portal.check("retry-existing-claim")

    # A changed form is a new intent: a second claim, signed afresh.
    portal.page.fill("#title", "別の留保")
    portal.page.click("#sign-claim")
    portal.page.wait_for_function(
        "(old) => document.getElementById('receipt-id').textContent !== old", arg=matches[0]["claim"]
    )
    assert portal.page.is_hidden("#receipt-already")
    assert len(check(portal.base_url, "train-ai", {"scheme": "url", "value": url})["matches"]) == 2


def test_a_double_tap_and_a_retry_file_one_notice(portal: Portal) -> None:
    operator = register_operator(portal.base_url, f"Retry {secrets.token_hex(3)}")
    portal.goto("/takedown")
    load_key(portal, keys.SigningKey.generate())
    portal.page.reload()
    portal.page.fill("#operator", operator.did)
    portal.page.fill("#subject-title", "二重の削除要請")
    portal.page.fill("#subject-urls", "https://me.example/works/")
    portal.page.fill("#loc-models", "acme/painter")
    portal.page.fill("#contact-name", "山田 花子")
    portal.page.fill("#contact-email", "hanako@example.jp")
    portal.page.fill("#jp-right", "著作権")
    portal.page.fill("#jp-reason", "無断で学習に使われたため")
    portal.page.evaluate(RECORD_FETCHES)
    portal.page.evaluate(
        "() => { const f = document.getElementById('takedown-form'); f.requestSubmit(); f.requestSubmit(); }"
    )
    portal.page.wait_for_selector("#filed:not([hidden])")
    first = portal.page.text_content("#filed-id")
    portal.page.wait_for_function("() => !document.getElementById('sign-notice').disabled")
    portal.page.click("#sign-notice")  # the same form again: recognised, not filed twice
    portal.page.wait_for_selector("#filed-already:not([hidden])")
    assert portal.page.text_content("#filed-id") == first
    posts = [
        post for post in portal.page.evaluate("() => window.__posts") if post["url"].endswith("/v1/notices")
    ]
    assert len(posts) == 2 and all(post["disabled"] for post in posts), posts
    inbox = httpx.get(f"{portal.base_url}/v1/stats/operators").json()
    rows = [row for row in inbox["operators"] if row["operator"] == operator.did]
    assert rows and rows[0]["received"] == 1, rows
    portal.check("notice-filed-once")
