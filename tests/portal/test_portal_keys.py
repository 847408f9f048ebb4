"""Part 3, keys: the page says what the key is, that whoever holds it acts as you, and that there is no
recovery unless recovery keys are named (and offers them, and rotation); it asks before an unsaved
key is replaced or forgotten, and the browser warns before leaving with one; a wrong key file gets a
clear message in the page's language, never a raw JavaScript error. Passkeys: the key is wrapped
with the WebAuthn PRF output (HKDF, AES-GCM) in the browser, kept encrypted here and at the registry,
and unlocked again with the passkey from the registry's copy alone — driven through Chromium's
DevTools virtual authenticator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from tests.portal.harness import Portal
from tests.portal.helpers import load_key

AUTHENTICATOR = {
    "protocol": "ctap2",
    "ctap2Version": "ctap2_1",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "hasPrf": True,
    "automaticPresenceSimulation": True,
}


def current_did(portal: Portal) -> str:
    return (portal.page.text_content("#current-did") or "").strip()


def generate(portal: Portal) -> str:
    before = current_did(portal)
    portal.page.click("#generate-key")
    portal.page.wait_for_function(
        "(before) => { const t = document.getElementById('current-did').textContent;"
        " return t.startsWith('did:key:z6Mk') && t !== before; }",
        arg=before,
    )
    return current_did(portal)


def answer_dialog(portal: Portal, choice: str) -> str:
    portal.page.wait_for_selector("#confirm-dialog[open]")
    question = portal.page.text_content("#confirm-question") or ""
    portal.page.click(f"#confirm-dialog button[value={choice}]")
    portal.page.wait_for_selector("#confirm-dialog:not([open])", state="attached")
    return question


def test_the_page_explains_the_key_and_asks_before_an_unsaved_one_is_lost(
    portal: Portal, tmp_path: Path
) -> None:
    portal.goto("/keys")
    for element, key in (("#key-what", "keys.what"), ("#key-holder", "keys.holder")):
        assert (portal.page.text_content(element) or "").strip() == portal.t(key)
    assert portal.t("keys.no_recovery") in (portal.page.text_content("#key-no-recovery") or "")
    assert portal.page.get_attribute("#key-no-recovery a", "href") == "#recovery"
    portal.check("keys-explained")

    first = generate(portal)
    assert portal.page.is_visible("#key-unsaved")
    portal.check("keys-unsaved")
    # Replacing an unsaved key asks; "cancel" keeps it.
    portal.page.click("#generate-key")
    assert answer_dialog(portal, "cancel") == portal.t("confirm.replace")
    assert current_did(portal) == first
    portal.page.click("#generate-key")
    portal.page.wait_for_selector("#confirm-dialog[open]")
    portal.check("keys-confirm-replace")
    portal.page.click("#confirm-dialog button[value=ok]")
    second = portal.page.wait_for_function(
        "(first) => { const t = document.getElementById('current-did').textContent;"
        " return t !== first && t.startsWith('did:key:') ? t : null; }",
        arg=first,
    ).json_value()
    # Forgetting an unsaved key asks too.
    portal.page.click("#forget-key")
    assert answer_dialog(portal, "cancel") == portal.t("confirm.forget")
    assert current_did(portal) == second
    # Saved, it is forgotten without a question.
    with portal.page.expect_download() as download:
        portal.page.click("#download-key")
    download.value.save_as(tmp_path / "saved.key")
    assert keys.read_key_file(tmp_path / "saved.key").did == second
    assert portal.page.is_hidden("#key-unsaved")
    portal.page.click("#forget-key")
    portal.page.wait_for_function("() => document.getElementById('key-message').textContent.length > 0")
    assert portal.page.is_hidden("#confirm-dialog") or not portal.page.get_attribute(
        "#confirm-dialog", "open"
    )
    assert current_did(portal) == portal.t("keys.none")


def test_leaving_with_an_unsaved_key_is_warned(browser: Any, portal_server: Any) -> None:
    from tests.portal.conftest import _Guard, localhost_url

    guard = _Guard(browser, localhost_url(portal_server), "ja", {"width": 390, "height": 844})
    try:
        page = guard.new_page()
        page.goto("/keys")
        page.click("#generate-key")  # a user gesture: the browser may now ask before unload
        page.wait_for_function(
            "() => document.getElementById('current-did').textContent.startsWith('did:key:')"
        )
        seen: list[str] = []

        def on_dialog(dialog: Any) -> None:
            seen.append(dialog.type)
            dialog.dismiss()  # stay

        page.on("dialog", on_dialog)
        page.close(run_before_unload=True)
        page.wait_for_timeout(500)
        assert seen == ["beforeunload"]
        assert not page.is_closed()
        # Saved: no warning, the page closes.
        with page.expect_download():
            page.click("#download-key")
        page.close(run_before_unload=True)
        page.wait_for_event("close", timeout=5000)
        assert seen == ["beforeunload"]
    finally:
        guard.close()


@pytest.mark.parametrize("case", ["not-json", "not-a-key", "mismatched", "wrong-kid"])
def test_a_wrong_key_file_is_explained_in_the_page_language(
    portal: Portal, tmp_path: Path, case: str
) -> None:
    if portal.viewport == "desktop" and case in ("not-a-key", "wrong-kid"):
        pytest.skip("the phone runs cover these; the desktop runs cover the other two")
    one, other = keys.SigningKey.generate().to_jwk(), keys.SigningKey.generate().to_jwk()
    content, code = {
        "not-json": ("this is a photo, not a key", "not_json"),
        "not-a-key": (json.dumps({"kty": "RSA", "n": "x"}), "not_key"),
        "mismatched": (json.dumps({**one, "x": other["x"], "kid": None}), "mismatch"),
        "wrong-kid": (json.dumps({**one, "kid": other["kid"]}), "kid"),
    }[case]
    (tmp_path / "bad.key").write_text(content)
    portal.goto("/keys")
    portal.page.set_input_files("#load-key", str(tmp_path / "bad.key"))
    portal.page.wait_for_function("() => document.getElementById('key-message').dataset.kind === 'error'")
    assert portal.page.text_content("#key-message") == portal.t(f"key.error.{code}")
    assert current_did(portal) == portal.t("keys.none")
    portal.check(f"key-file-{case}")


def test_recovery_keys_and_rotation_are_offered(portal: Portal) -> None:
    portal.goto("/keys")
    key = keys.SigningKey.generate()
    load_key(portal, key)
    portal.page.reload()
    portal.page.wait_for_selector("#recovery-current:not([hidden])")
    assert portal.page.is_visible("#recovery-none")
    # Wrong input is said beside the field, in the page's words.
    portal.page.fill("#recovery-keys", key.did)
    portal.page.click("#recovery-sign")
    portal.page.wait_for_selector("#form-errors:not([hidden])")
    assert portal.t("err.recovery_keys") in (portal.page.text_content("#recovery-keys-error") or "")
    portal.check("recovery-own-did-refused")
    helper = keys.SigningKey.generate()
    portal.page.fill("#recovery-keys", helper.did)
    portal.page.fill("#recovery-days", "14")
    portal.page.click("#recovery-sign")
    portal.page.wait_for_selector(f"#recovery-list code:text('{helper.did}')")
    described = httpx.get(f"{portal.base_url}/v1/authority/{key.did}").json()
    assert described["recovery"]["recovery_keys"] == [helper.did]
    assert described["recovery"]["waiting_period_days"] == 14
    portal.check("recovery-named")
    # Rotation: asks, then a new, unsaved key takes over; the old one is retired.
    portal.page.click("#rotate-key")
    assert answer_dialog(portal, "ok") == portal.t("confirm.rotate")
    portal.page.wait_for_function(
        "(old) => document.getElementById('current-did').textContent !== old", arg=key.did
    )
    successor = current_did(portal)
    assert successor.startswith("did:key:z6Mk") and portal.page.is_visible("#key-unsaved")
    assert portal.page.text_content("#rotate-message") == portal.t("rotate.done")
    assert successor in json.dumps(httpx.get(f"{portal.base_url}/v1/authority/{key.did}").json())
    portal.check("rotated")


def test_a_passkey_protects_the_key_and_unlocks_it_from_the_registry(portal: Portal) -> None:
    if portal.viewport == "desktop" and portal.lang == "ja":
        pytest.skip("three combinations are enough for the WebAuthn flow")
    page = portal.page
    portal.goto("/keys")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})[
        "authenticatorId"
    ]
    key = keys.SigningKey.generate()
    load_key(portal, key, saved=False)
    page.reload()
    page.check("#passkey-remote")
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.post_data or ""))
    page.click("#passkey-protect")
    page.wait_for_function("() => document.getElementById('passkey-message').textContent.length > 0")
    assert page.text_content("#passkey-message") == portal.t("passkey.protected_remote")
    assert page.is_hidden("#key-unsaved"), "a passkey-protected key counts as saved"
    credential_id = page.get_attribute("#passkey-message", "data-credential")
    kept = httpx.get(f"{portal.base_url}/v1/key-backups/{credential_id}").json()
    assert kept["did"] == key.did and kept["wrapped"]["alg"] == "A256GCM"
    secret = key.to_jwk()["d"]
    assert not any(secret in body for body in sent), "the key never leaves the browser in clear"
    assert secret not in json.dumps(kept)
    portal.check("passkey-protected")

    # Another device where the passkey syncs: nothing of the key here, only the passkey.
    page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
    page.reload()
    assert current_did(portal) == portal.t("keys.none")
    page.click("#passkey-unlock")
    page.wait_for_function("(did) => document.getElementById('current-did').textContent === did", arg=key.did)
    assert page.text_content("#passkey-message") == portal.t("passkey.unlocked")
    portal.check("passkey-unlocked")

    # A passkey that protects nothing says so, in words.
    cdp.send("WebAuthn.clearCredentials", {"authenticatorId": authenticator})
    page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
    page.reload()
    page.click("#passkey-unlock")
    page.wait_for_function("() => document.getElementById('passkey-message').dataset.kind === 'error'")
    assert page.text_content("#passkey-message") in (
        portal.t("passkey.cancelled"),
        portal.t("passkey.not_found"),
    )
    portal.check("passkey-none")
