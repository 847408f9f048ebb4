"""The portal end to end in Debian's Chromium against a real `kotowari serve`: a creator makes a key,
reserves a work, the CLI sees the reservation, the creator files a takedown, answers a
counter-notice, switches language and looks the claim up — on a phone-sized screen, with a
screenshot of every page. Plus: the browser's RFC 8785 and eddsa-jcs-2022 against published
vectors and against `keys`, and markup in a claim rendering as text."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import keys
from keys.base58 import b58decode, b58encode
from keys.note import verifier_key
from registry.documents import new_claim
from registry.notices.documents import new_registration, new_response
from tests.conftest import ServerProcess
from tests.crawler_client.test_walkthrough import kotowari

VECTORS = Path(__file__).parents[1] / "keys" / "vectors"
GALLERY = "https://illustrator.example/gallery/"
ARTWORK = b"\x89PNG not really, but bytes the browser hashes"


def shoot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def post_signed(server: ServerProcess, path: str, document: dict[str, Any], key: keys.SigningKey) -> Any:
    response = httpx.post(f"{server.url}{path}", content=json.dumps(keys.sign_document(document, key)))
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_creator_reserves_checks_files_a_takedown_and_looks_up(
    page: Any, portal_server: ServerProcess, artifacts: Path, tmp_path: Path
) -> None:
    server = portal_server
    sent: list[str] = []  # every request body the browser sends, to show the private key is never among them
    page.on("request", lambda request: sent.append(request.post_data or ""))
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "ja"
    page.keyboard.press("Tab")  # the first stop is the skip link, and it works from the keyboard
    assert page.evaluate("() => document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    page.wait_for_url("**/#main")
    shoot(page, artifacts, "01-home-ja")

    # A key file made by the CLI loads into the browser as the same identity.
    cli_did = kotowari("keys", "new", "--out", "cli.key", cwd=tmp_path).stdout.strip()
    page.goto("/keys")
    page.set_input_files("#load-key", str(tmp_path / "cli.key"))
    page.wait_for_function("(did) => document.getElementById('current-did').textContent === did", arg=cli_did)

    # A key made in the browser, saved as a file the CLI can use.
    page.goto("/keys")
    page.click("#generate-key")
    page.wait_for_function(
        "() => document.getElementById('current-did').textContent.startsWith('did:key:z6Mk')"
    )
    did = page.text_content("#current-did")
    with page.expect_download() as download:
        page.click("#download-key")
    download.value.save_as(tmp_path / "me.key")
    assert keys.read_key_file(tmp_path / "me.key").did == did
    shoot(page, artifacts, "02-keys")

    # Reserve a work: URL, a file hashed in the browser (never uploaded), names and readings.
    page.goto("/reserve")
    assert page.text_content("#current-did") == did
    page.fill("#title", "星降る夜")
    page.fill("#urls", GALLERY)
    page.set_input_files("#files", files=[{"name": "art.png", "mimeType": "image/png", "buffer": ARTWORK}])
    digest = hashlib.sha256(ARTWORK).hexdigest()
    page.wait_for_selector(f"#file-hashes code:text('{digest}')")
    page.fill("#names", "山田 花子\nやまだ はなこ\nYamada Hanako")
    page.check("#use-ai-input")
    page.click("#sign-claim")
    page.wait_for_selector("#receipt:not([hidden])")
    claim_id = page.text_content("#receipt-id")
    assert claim_id and len(claim_id) == 64
    assert all("PNG not really" not in body for body in sent), "the file itself must not be uploaded"
    shoot(page, artifacts, "03-reserve-receipt")

    # The document the browser signed verifies with the CLI, and is what the registry holds.
    with page.expect_download() as download:
        page.click("#receipt-download")
    download.value.save_as(tmp_path / "claim.json")
    signed = json.loads((tmp_path / "claim.json").read_text())
    assert "valid: signed by" in kotowari("verify", "claim.json", cwd=tmp_path).stdout
    assert keys.document_id(signed) == claim_id
    assert httpx.get(f"{server.url}/v1/claims/{claim_id}").json()["document"] == signed
    assert signed["uses"] == {"train-ai": "n", "generate": "n", "ai-input": "n"}

    # The CLI sees the reservation by URL and by the file's hash; the browser's key file signs for the CLI.
    by_url = kotowari(
        "check", "--registry", server.url, "--purpose", "train-ai", "--url", GALLERY + "2026/stars.png",
        cwd=tmp_path, check_status=1,
    )  # fmt: skip
    assert by_url.stdout.startswith("n ") and claim_id[:16] in by_url.stdout
    by_hash = kotowari(
        "check",
        "--registry",
        server.url,
        "--purpose",
        "generate",
        "--sha256",
        digest,
        cwd=tmp_path,
        check_status=1,
    )
    assert by_hash.stdout.startswith("n ")
    kotowari(
        "claim", "new", "--key", "me.key", "--kind", "voice", "--name", "山田 花子", "--deny", "generate",
        "--out", "voice.json", cwd=tmp_path,
    )  # fmt: skip
    assert json.loads((tmp_path / "voice.json").read_text())["claimant"] == did

    # A takedown against a registered operator, under the Japanese platform act.
    operator = keys.SigningKey.generate()
    registration = new_registration(
        operator.did, "Acme 生成AI", "ops@acme.example", created=datetime.now(UTC)
    )
    post_signed(server, "/v1/operators", registration, operator)
    page.goto("/takedown")
    assert page.is_visible("#req-jp-platform") and not page.is_visible("#req-dmca")
    assert page.get_attribute("#jp-right", "aria-required") == "true"
    page.fill("#operator", operator.did)
    # The picked operator's standing is said in words: this one only asserts its name.
    page.wait_for_selector("#operator-standing:not([hidden])")
    assert page.get_attribute("#operator-standing", "data-authority") == "self-asserted"
    standing = page.text_content("#operator-standing") or ""
    assert standing.startswith("自己申告") and "Acme 生成AI" in standing
    page.fill("#subject-title", "星降る夜")
    page.fill("#subject-claims", claim_id)
    page.fill("#loc-models", "acme/painter-v2")
    page.fill("#contact-name", "山田 花子")
    page.fill("#contact-email", "hanako@example.jp")
    page.fill("#jp-right", "著作権（複製権・翻案権）")
    page.click("#sign-notice")
    page.wait_for_selector("#form-errors:not([hidden])")  # the reason is missing: the page says so
    errors = page.text_content("#form-errors") or ""
    assert "権利が侵害されたとする理由" in errors and "/jp_platform/reason" not in errors
    assert page.get_attribute("#jp-reason", "aria-invalid") == "true"
    page.fill("#jp-reason", "無断で学習に使われ、作風を模倣した画像が生成されている。")
    page.click("#sign-notice")
    page.wait_for_selector("#filed:not([hidden])")
    notice_id = page.text_content("#filed-id")
    assert notice_id and len(notice_id) == 64
    shoot(page, artifacts, "04-takedown-filed")

    public = httpx.get(f"{server.url}/v1/notices/{notice_id}").text
    assert "hanako@example.jp" not in public and "山田 花子" not in public  # split off before signing
    assert [part["state"] for part in json.loads(public)["personal"]] == ["held"]
    assert page.is_hidden("#filed-held")  # the operator registered, so the notice is not held
    assert notice_id in page.text_content("#my-notices")  # remembered in this browser, listed here
    page.click("#filed-link")
    page.wait_for_url(f"**/notices/{notice_id}")
    assert page.get_attribute("#notice-state", "data-state") == "filed"
    shoot(page, artifacts, "05-notice-filed")

    # The operator acknowledges and relays a counter-notice; the creator answers in the browser.
    for action, statement in (
        ("acknowledge", None),
        ("counter-notice", "The uploader says the style is not protected."),
    ):
        step = new_response(operator.did, notice_id, action, created=datetime.now(UTC), statement=statement)
        post_signed(server, f"/v1/notices/{notice_id}/responses", step, operator)
    page.reload()
    assert page.get_attribute("#notice-state", "data-state") == "counter-noticed"
    page.fill("#respond-statement", "東京地方裁判所に提訴しました（令和8年(ワ)第1234号）。")
    page.click("#respond-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('notice-state').dataset.state === 'upheld'")
    assert httpx.get(f"{server.url}/v1/notices/{notice_id}").json()["state"] == "upheld"
    shoot(page, artifacts, "06-notice-upheld")

    # Switch to English; the choice sticks across pages.
    page.click("form.lang button[value=en]")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert page.url.endswith(f"/notices/{notice_id}")
    assert "Takedown notice status" in page.text_content("h1")
    shoot(page, artifacts, "07-notice-en")

    # Look the claim up by URL; its page checks the inclusion proof in the browser.
    page.goto("/lookup")
    page.fill("#q", GALLERY + "2026/stars.png")
    page.press("#q", "Enter")
    page.wait_for_selector("#results")
    assert "reserved" in page.text_content("#results")
    shoot(page, artifacts, "08-lookup-en")
    page.click(f"a[href='/claims/{claim_id}']")
    page.wait_for_function("() => document.getElementById('proof-result').dataset.verified !== undefined")
    assert page.get_attribute("#proof-result", "data-verified") == "true", page.text_content("#proof-result")
    assert page.text_content("#claim-title") == "星降る夜"
    assert "self-asserted" in (page.text_content("#authority") or "")
    # Times are shown in the reader's zone by the page script (the UTC text stays as the title).
    filed_at = page.locator("ol.events time").first
    assert filed_at.get_attribute("data-local") == "true" and "UTC" in (filed_at.get_attribute("title") or "")
    shoot(page, artifacts, "09-claim-en")

    page.goto("/lookup?q=" + "やまだ はなこ")
    assert claim_id[:16] in page.text_content("#results")

    page.goto("/stats")
    assert "Acme 生成AI" in page.text_content("#stats-table")
    assert page.locator("svg.chart rect").count() == 2
    shoot(page, artifacts, "10-stats-en")
    # The claimant withdraws the claim from its page, signed in the browser; the CLI sees it go.
    page.goto(f"/claims/{claim_id}")
    page.fill("#withdraw-reason", "Licensed after all.")
    page.click("#withdraw-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('claim-status').textContent.trim() === 'withdrawn'")
    assert "Withdrawn" in page.text_content("ol.events")
    shoot(page, artifacts, "11-claim-withdrawn")
    after = kotowari(
        "check",
        "--registry",
        server.url,
        "--purpose",
        "train-ai",
        "--url",
        GALLERY + "2026/stars.png",
        cwd=tmp_path,
    )
    assert after.stdout.startswith("unknown")

    secret = json.loads((tmp_path / "me.key").read_text())["d"]
    assert sent and not any(secret in body for body in sent), "the private key must never leave the browser"
    for name in ("01-home-ja", "04-takedown-filed", "09-claim-en", "10-stats-en"):
        assert (artifacts / f"{name}.png").stat().st_size > 1000


def test_markup_in_a_claim_renders_as_text(page: Any, portal_server: ServerProcess, artifacts: Path) -> None:
    author = keys.SigningKey.generate()
    title = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">\'"&amp;'
    name = "<img src=x onerror=alert(1)>花子"
    claim = post_signed(
        portal_server, "/v1/claims",
        new_claim(author.did, "likeness", [("name", name), ("url", "https://xss.example/'\"><b>x</b>")],
                  {"generate": "n"}, created=datetime.now(UTC), title=title),
        author,
    )  # fmt: skip
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"/claims/{claim['id']}")
    page.wait_for_function("() => document.getElementById('proof-result').dataset.verified !== undefined")
    assert page.text_content("#claim-title") == title
    assert name in page.text_content("ul.identifiers")
    assert page.locator("main img").count() == 0 and page.locator("main b").count() == 0
    assert page.get_attribute("#proof-result", "data-verified") == "true", page.text_content("#proof-result")
    page.goto("/lookup?scheme=name&q=" + httpx.QueryParams({"q": name})["q"])
    assert page.locator("main img").count() == 0
    assert page.evaluate("window.__xss") is None and not dialogs
    shoot(page, artifacts, "12-xss-claim")


def test_browser_canonicalisation_and_proofs_match_keys(page: Any) -> None:
    page.goto("/keys")

    def run(script: str, argument: Any) -> Any:
        return page.evaluate(script, argument)

    # RFC 8785's published test vectors.
    cases = sorted((VECTORS / "jcs" / "input").iterdir())
    assert cases
    for case in cases:
        expected = (VECTORS / "jcs" / "output" / case.name).read_text(encoding="utf-8")
        got = run(
            "async (text) => (await import('/static/js/jcs.js')).canonicalize(JSON.parse(text))",
            case.read_text(encoding="utf-8"),
        )
        assert got == expected, case.name

    # Generated documents: the browser and `keys.canonicalize` agree byte for byte.
    documents = [random_value(random.Random(seed), 4) for seed in range(200)]
    got = run(
        "async (text) => { const {canonicalize} = await import('/static/js/jcs.js');"
        " return JSON.parse(text).map(canonicalize); }",
        json.dumps(documents),
    )
    assert got == [keys.canonicalize(document).decode("utf-8") for document in documents]
    assert (
        run(
            "async () => { try { (await import('/static/js/jcs.js')).canonicalize({a: '\\ud800'});"
            " return 'accepted'; } catch (e) { return 'refused'; } }",
            None,
        )
        == "refused"
    )

    # W3C vc-di-eddsa's eddsa-jcs-2022 did:key vector, reproduced exactly by the browser's signer.
    pair = json.loads((VECTORS / "vc-di-eddsa" / "keyPair.json").read_text())
    secret = keys.SigningKey.from_bytes(b58decode(pair["privateKeyMultibase"][1:])[2:])
    expected = json.loads((VECTORS / "vc-di-eddsa" / "eddsa-jcs-2022-didkey" / "signedJCS.json").read_text())
    signed = run(
        "async ([jwk, unsigned, created]) => { const c = await import('/static/js/crypto.js');"
        " return c.signDocument(unsigned, await c.importJwk(jwk), created); }",
        [
            secret.to_jwk(),
            json.loads((VECTORS / "vc-di-eddsa" / "unsigned.json").read_text()),
            "2023-02-24T23:36:38Z",
        ],
    )
    assert signed == expected
    # did:key from w3c-ccg/did-method-key's published Ed25519 vectors, and base58btc against keys.
    vectors = json.loads((VECTORS / "did-key-ed25519.json").read_text())
    jwks = [keys.SigningKey.from_bytes(bytes.fromhex(vector["seed"])).to_jwk() for vector in vectors]
    dids = run(
        "async (jwks) => { const c = await import('/static/js/crypto.js');"
        " return Promise.all(jwks.map(async (jwk) => (await c.importJwk(jwk)).did)); }",
        jwks,
    )
    assert dids == [vector["did"] for vector in vectors]
    blobs = [
        b"",
        b"\0",
        b"\0\0\x01",
        bytes(range(256)),
        *(random.Random(n).randbytes(n) for n in range(1, 70)),
    ]
    encoded = run(
        "async (hexes) => { const c = await import('/static/js/crypto.js');"
        " const bytes = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));"
        " return hexes.map((h) => c.base58encode(bytes(h))); }",
        [blob.hex() for blob in blobs],
    )
    assert encoded == [b58encode(blob) for blob in blobs]

    # A key the browser makes signs what `keys` verifies, and its did:key is the one keys derives.
    made = run(
        "async (doc) => { const c = await import('/static/js/crypto.js'); const key = await c.generateKey();"
        " return [key.jwk(), await c.signDocument(doc, key)]; }",
        {"type": "Claim", "note": "ぁ𝄞\u00e9"},
    )
    jwk, document = made
    assert keys.SigningKey.from_jwk(jwk).did == jwk["kid"]
    assert keys.verify_document(document).key == keys.SigningKey.from_jwk(jwk).public
    refused = run(
        "async (jwk) => { const c = await import('/static/js/crypto.js');"
        " try { await c.importJwk(jwk); return 'accepted'; } catch (e) { return e.message; } }",
        {**jwk, "x": keys.SigningKey.generate().to_jwk()["x"]},
    )
    assert "not the public key" in refused


def test_browser_checks_the_checkpoint_signature_and_the_proof(
    page: Any, portal_server: ServerProcess
) -> None:
    author = keys.SigningKey.generate()
    for number in range(3):
        claim = new_claim(author.did, "work", [("url", f"https://n{number}.example/")], {"train-ai": "n"},
                          created=datetime.now(UTC))  # fmt: skip
        filed = post_signed(portal_server, "/v1/claims", claim, author)
    registry = httpx.get(f"{portal_server.url}/v1/registry").json()
    note = httpx.get(f"{portal_server.url}/log/checkpoint").text
    page.goto(f"/claims/{filed['id']}")
    page.wait_for_function("() => document.getElementById('proof-result').dataset.verified !== undefined")
    assert page.get_attribute("#proof-result", "data-verified") == "true", page.text_content("#proof-result")
    open_note = (
        "async ([note, key]) => { const n = await import('/static/js/note.js');"
        " try { return await n.openNote(note, key); } catch (e) { return 'refused: ' + e.message; } }"
    )
    verifier = registry["log"]["note_verifier_key"]
    assert page.evaluate(open_note, [note, verifier]) == note.split("\n\n")[0] + "\n"
    origin, size, root = note.split("\n")[:3]
    forged = note.replace(f"{origin}\n{size}\n", f"{origin}\n{int(size) + 1}\n", 1)
    assert page.evaluate(open_note, [forged, verifier]).startswith("refused")
    other = verifier_key(origin, Ed25519PrivateKey.generate().public_key())
    assert page.evaluate(open_note, [note, other]).startswith("refused")
    # A proof for another leaf, or against another root, does not verify.
    receipt = filed["log"]
    check = (
        "async ([leaf, index, size, proof, root]) => { const m = await import('/static/js/merkle.js');"
        " const c = await import('/static/js/crypto.js');"
        " const bytes = c.base64Decode;"
        " return m.verifyInclusion(bytes(leaf), index, size, proof.map(bytes), bytes(root)); }"
    )
    args = [receipt["leaf_hash"], receipt["index"], receipt["tree_size"], receipt["inclusion_proof"], root]
    assert page.evaluate(check, args) is True
    assert page.evaluate(check, [args[0], args[1] - 1, *args[2:]]) is False
    assert page.evaluate(check, [*args[:4], receipt["inclusion_proof"][0]]) is False


def random_value(rng: random.Random, depth: int) -> Any:
    """JSON that exercises what JCS must get right: key order by UTF-16 units, escapes, numbers."""
    alphabet = [
        "a",
        "B",
        "\u00e9",
        "\u65e5",
        "\U0001f600",
        "\U0001d11e",
        "\n",
        "\u001f",
        '"',
        "\\",
        "\u2028",
        "\ufb33",
    ]
    kind = rng.randrange(7 if depth > 0 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randint(-(2**53) + 1, 2**53 - 1)
    if kind == 2:
        return rng.choice([0.5, -1.25, 1e21, 1e-7, 123456789.125, 5e-324, 1.7976931348623157e308, 0.1])
    if kind in (3, 4):
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))
    if kind == 5:
        return [random_value(rng, depth - 1) for _ in range(rng.randrange(4))]
    keys_ = {
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 4))) for _ in range(rng.randrange(5))
    }
    return {key: random_value(rng, depth - 1) for key in keys_}
