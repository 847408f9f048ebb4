"""Part 1, errors: every problem — found by the page before signing, or answered by the registry — is
said in the page's language next to the field it is about, which is marked (aria-invalid,
aria-describedby); all of a regime's missing elements are named at once; signing without a key says
so visibly, in view, on every form. In Japanese and English, on a phone and a desktop, with axe-core
and the sideways-scroll check at every state."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import keys
from registry.notices.documents import REQUIREMENTS, Notice, missing_elements, new_notice
from tests.notice_factories import FULL_STATEMENTS
from tests.portal.harness import Portal
from tests.portal.helpers import described_text, in_view, load_key, register_operator

PROOF = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "verificationMethod": "did:key:z6Mk#z6Mk",
    "proofPurpose": "assertionMethod",
    "proofValue": "z1",
}


def submit(portal: Portal, button: str) -> None:
    portal.page.click(button)
    portal.page.wait_for_selector("#form-errors:not([hidden])")


def test_signing_without_a_key_says_so_in_view_on_every_form(portal: Portal) -> None:
    for path, button in (
        ("/reserve", "#sign-claim"),
        ("/takedown", "#sign-notice"),
        ("/keys", "#recovery-sign"),
    ):
        portal.goto(path)
        portal.page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        submit(portal, button)
        box = portal.page.text_content("#form-errors") or ""
        assert portal.t("err.key_needed") in box, box
        assert in_view(portal, "#form-errors"), f"{path}: the message is not scrolled into view"
        assert portal.page.evaluate("() => document.activeElement.id") == "form-errors"
        assert portal.page.get_attribute("#form-errors a[href='/keys']", "href") == "/keys"
        portal.check(f"no-key{path.replace('/', '-')}")


def test_reserve_marks_each_field_and_says_why_in_the_page_language(portal: Portal) -> None:
    portal.goto("/reserve")
    load_key(portal, keys.SigningKey.generate())
    portal.page.reload()
    # Nothing to identify the work and no use: both said at once, before anything is signed.
    for box in portal.page.query_selector_all("#uses-fieldset input[type=checkbox]"):
        box.uncheck()
    requests: list[str] = []
    portal.page.on(
        "request", lambda request: requests.append(request.url) if request.method == "POST" else None
    )
    submit(portal, "#sign-claim")
    errors = portal.page.text_content("#form-errors") or ""
    assert portal.t("err.identifiers_none") in errors and portal.t("err.uses_none") in errors
    assert portal.t("err.uses_none") in (portal.page.text_content("#uses-fieldset-error") or "")
    assert not requests, "nothing is sent while the page itself can see what is wrong"
    portal.check("reserve-nothing-chosen")

    # Bad values, each beside its field, with the line it is on.
    portal.page.check("#use-train-ai")
    portal.page.fill("#urls", "https://ok.example/\nnot a url")
    portal.page.fill("#isni", "0000 0001 2103 2684")  # wrong check character
    portal.page.fill("#wikidata", "X42")
    submit(portal, "#sign-claim")
    for field, code in (("#urls", "err.url"), ("#isni", "err.isni_check"), ("#wikidata", "err.wikidata")):
        assert portal.page.get_attribute(field, "aria-invalid") == "true", field
        assert portal.t(code) in described_text(portal, field), (field, described_text(portal, field))
    line = portal.t("err.field_line").replace("{field}", "").replace("{line}", "2")
    assert line.strip("（）() ").strip() in (portal.page.text_content("#form-errors") or "")
    assert not requests
    portal.check("reserve-bad-values")

    # A URL the page cannot judge (its host is a public suffix itself): the registry refuses it, and
    # the page says so in the same words, next to the same field — no JSON pointer, no English.
    portal.page.fill("#urls", "https://co.uk/gallery/")
    portal.page.fill("#isni", "")
    portal.page.fill("#wikidata", "")
    submit(portal, "#sign-claim")
    assert requests, "this one only the registry can judge"
    errors = portal.page.text_content("#form-errors") or ""
    assert portal.t("err.url") in errors and "/subject/identifiers" not in errors
    assert portal.t("err.url") in described_text(portal, "#urls")
    if portal.lang == "ja":
        assert "registrable" not in errors and "invalid" not in errors.lower()
    portal.check("reserve-registry-refused")

    # Fixed: the marks go, the claim is filed.
    portal.page.fill("#urls", "https://gallery.example/")
    portal.page.click("#sign-claim")
    portal.page.wait_for_selector("#receipt:not([hidden])")
    assert portal.page.locator("[aria-invalid=true]").count() == 0
    assert portal.page.is_hidden("#form-errors")
    portal.check("reserve-filed")


def test_takedown_names_every_missing_element_of_every_regime_at_once(portal: Portal) -> None:
    operator = register_operator(portal.base_url, "Acme 生成AI")
    portal.goto("/takedown")
    load_key(portal, keys.SigningKey.generate())
    portal.page.reload()
    for regime in ("dmca", "dsa", "jp-platform"):
        portal.page.check(f"#regime-{regime}")
    # The requirement lists are in the page's language.
    assert portal.t("req.dmca./signature") in (portal.page.text_content("#req-dmca") or "")
    portal.page.fill("#operator", operator.did)
    portal.page.fill("#subject-urls", "https://me.example/works/")
    submit(portal, "#sign-notice")
    summary = portal.page.locator("#form-errors li")
    texts = [summary.nth(number).text_content() or "" for number in range(summary.count())]
    expected = [
        portal.t(f"req.{regime}.{pointer}")
        for regime in ("dmca", "dsa", "jp-platform")
        for pointer, _, _ in REQUIREMENTS[regime]
    ]
    for requirement in expected:
        assert any(requirement in text for text in texts), (requirement, texts)
    assert len(texts) == len(expected)
    for field in ("#signature", "#grounds", "#contact-name", "#contact-email", "#jp-right", "#jp-reason"):
        assert portal.page.get_attribute(field, "aria-invalid") == "true", field
    assert portal.t("req.jp-platform./jp_platform/reason") in described_text(portal, "#jp-reason")
    assert in_view(portal, "#form-errors")
    portal.check("takedown-all-missing")


def test_the_page_finds_exactly_what_the_registry_finds_missing(page: Any, portal_server: Any) -> None:
    """requirements.js against registry.notices.missing_elements on a matrix of notices."""
    page.goto("/takedown")
    requirements = json.loads(page.text_content("#requirements-data") or "{}")
    rng = random.Random(17)
    notifier = keys.SigningKey.generate().did
    cases = []
    for _ in range(120):
        kind = rng.choice(["work", "voice", "likeness"])
        regimes = rng.sample(["dmca", "dsa", "jp-platform", "no-fakes"], rng.randint(1, 4))
        every = {"name": "N", "email": "n@example.jp", "address": "A", "phone": "1"}
        contact = {field: value for field, value in every.items() if rng.random() < 0.5}
        statements = {k: v for k, v in FULL_STATEMENTS.items() if rng.random() < 0.5}
        jp = {f: "x" for f in ("infringed_right", "reason") if rng.random() < 0.5}
        document = new_notice(
            notifier, notifier, kind=kind, identifiers=[("url", "https://me.example/")],
            locations=[("model", "m")] if rng.random() < 0.6 else [], actions=["remove"], regimes=regimes,
            created=datetime.now(UTC), title="T" if rng.random() < 0.5 else None,
            claims=["a" * 64] if rng.random() < 0.3 else [],
            grounds="G" if rng.random() < 0.5 else None, contact=contact or None,
            signature="S" if rng.random() < 0.5 else None, statements=statements or None,
            jp_platform=jp or None,
        )  # fmt: skip
        expected = [
            pointer for pointer, _ in missing_elements(Notice.model_validate({**document, "proof": PROOF}))
        ]
        cases.append((document, expected))
    got = page.evaluate(
        "async ([cases, requirements]) => { const r = await import('/static/js/requirements.js');"
        " return cases.map(([doc]) => r.missingElements(doc, requirements).map(([pointer]) => pointer)); }",
        [cases, requirements],
    )
    assert got == [expected for _, expected in cases]
