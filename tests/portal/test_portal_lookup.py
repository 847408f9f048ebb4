"""Part 4, lookups: "automatic" recognises every identifier kind (SHA-256, ISCC, ISNI, Wikidata Q-ids
and URLs, URLs, names); a file dropped on the page is looked up by the SHA-256 computed in the browser
(the file is never sent); the headline says every use (a voice reserved only for `generate` says so);
a withdrawn claim reads as withdrawn; each match shows its claim's authority."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

import keys
from registry.documents import unsigned_document
from tests.portal.harness import Portal
from tests.portal.helpers import file_claim

ISCC = "ISCC:GAAXL2XYM5BQIAZ3"
ISNI = "0000 0001 2103 2683"


def search(portal: Portal, query: str, scheme: str = "auto") -> None:
    portal.goto(f"/lookup?scheme={scheme}&q={quote(query)}")


def decisions(portal: Portal) -> dict[str, str]:
    rows = portal.page.locator("#headline tbody tr")
    return {
        str(rows.nth(n).get_attribute("data-use")): str(rows.nth(n).get_attribute("data-decision"))
        for n in range(rows.count())
    }


def test_automatic_recognises_every_kind_and_the_headline_says_every_use(portal: Portal) -> None:
    voice_actor = keys.SigningKey.generate()
    name = f"声優 {secrets.token_hex(3)}"
    wikidata = f"Q{secrets.randbelow(10**9) + 10**9}"
    voice = file_claim(
        portal.base_url, voice_actor, "voice", [("name", name), ("isni", ISNI), ("wikidata", wikidata)],
        {"generate": "n"}, title=name,
    )  # fmt: skip
    artwork = secrets.token_bytes(64)
    digest = hashlib.sha256(artwork).hexdigest()
    site = f"https://art-{secrets.token_hex(4)}.example/"
    work = file_claim(
        portal.base_url, keys.SigningKey.generate(), "work",
        [("url", site), ("sha256", digest), ("iscc", ISCC)], {"train-ai": "n", "ai-input": "n"},
    )  # fmt: skip
    cases = [
        (digest, "sha256", work),
        (ISCC, "iscc", work),
        (site + "gallery/stars.png", "url", work),
        (site.removeprefix("https://") + "x", "url", work),
        (ISNI, "isni", voice),
        (wikidata, "wikidata", voice),
        (f"https://www.wikidata.org/wiki/{wikidata}", "wikidata", voice),
        (name, "name", voice),
    ]
    for query, scheme, claim in cases:
        search(portal, query)
        assert portal.page.get_attribute("#searched-as", "data-scheme") == scheme, query
        assert portal.page.locator(f"#results li[data-claim='{claim}']").count() == 1, query
    # The voice reserved only for generation: the headline says so, use by use.
    search(portal, name)
    said = decisions(portal)
    assert said["generate"] == "n" and said["train-ai"] == "unknown" and said["search"] == "unknown"
    row = portal.page.text_content("#headline tr[data-use=generate]") or ""
    assert portal.t("use.generate") in row and portal.t("decision.n") in row
    assert portal.t("lookup.name_note") in (portal.page.text_content("#results") or "")
    # Each match names its claim's authority.
    authority = portal.page.text_content(f"#results li[data-claim='{voice}'] .match-authority") or ""
    assert portal.t("authority.self-asserted") in authority
    portal.check("lookup-voice-generate-only")
    search(portal, digest)
    said = decisions(portal)
    assert (
        said["train-ai"] == said["train-genai"] == said["ai-input"] == "n" and said["generate"] == "unknown"
    )
    portal.check("lookup-sha256-auto")
    # Malformed input is explained in the page's language (and is never a 500).
    search(portal, "ISCC:NOTACODE")
    assert portal.page.get_attribute("#searched-as", "data-scheme") == "iscc"
    search(portal, "0000 0001 2103 2684", "isni")
    assert portal.t("err.isni") in (portal.page.text_content("#results .errors") or "")
    portal.check("lookup-bad-isni")


def test_a_dropped_file_is_looked_up_by_its_hash_and_never_sent(portal: Portal) -> None:
    content = secrets.token_bytes(256)
    digest = hashlib.sha256(content).hexdigest()
    claim = file_claim(
        portal.base_url, keys.SigningKey.generate(), "work", [("sha256", digest)], {"train-ai": "n"}
    )
    sent: list[bytes] = []
    portal.page.on("request", lambda request: sent.append(request.post_data_buffer or b""))
    portal.goto("/lookup")
    portal.check("lookup-empty")
    # Chosen with the button …
    portal.page.set_input_files(
        "#drop-file", files=[{"name": "a.png", "mimeType": "image/png", "buffer": content}]
    )
    portal.page.wait_for_url(f"**/lookup?scheme=sha256&q={digest}")
    assert portal.page.locator(f"#results li[data-claim='{claim}']").count() == 1
    # … or dropped on the zone.
    portal.goto("/lookup")
    portal.page.evaluate(
        """(bytes) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], "dropped.bin"));
            const zone = document.getElementById("drop");
            const options = { dataTransfer: transfer, bubbles: true, cancelable: true };
            zone.dispatchEvent(new DragEvent("dragover", options));
            zone.dispatchEvent(new DragEvent("drop", options));
        }""",
        list(content),
    )
    portal.page.wait_for_url(f"**/lookup?scheme=sha256&q={digest}")
    assert portal.page.locator(f"#results li[data-claim='{claim}']").count() == 1
    assert not any(content[:32] in body for body in sent), "the file itself is never sent"
    portal.check("lookup-dropped-file")


def test_a_withdrawn_claim_reads_as_withdrawn(portal: Portal) -> None:
    author = keys.SigningKey.generate()
    site = f"https://gone-{secrets.token_hex(4)}.example/"
    claim = file_claim(portal.base_url, author, "work", [("url", site)], {"train-ai": "n", "generate": "n"})
    withdrawal = unsigned_document(
        {"type": "ClaimWithdrawal", "claimant": author.did, "claim": claim}, created=datetime.now(UTC)
    )
    answer = httpx.post(
        f"{portal.base_url}/v1/claims/{claim}/withdraw",
        content=json.dumps(keys.sign_document(withdrawal, author)),
    )
    assert answer.status_code == 200, answer.text
    portal.goto(f"/claims/{claim}")
    assert (portal.page.text_content("#claim-status") or "").strip() == portal.t("status.withdrawn")
    assert portal.page.is_visible("#withdrawn-note")
    for use in ("train-ai", "generate"):
        cell = portal.page.text_content(f"#claim-uses tr[data-use='{use}'] td.decision") or ""
        assert cell.strip() == portal.t("decision.withdrawn"), cell
    portal.check("claim-withdrawn")
    search(portal, site + "page.html")
    assert portal.page.locator(f"#results li[data-claim='{claim}']").count() == 0
    assert set(decisions(portal).values()) == {"unknown"}
    portal.check("lookup-after-withdrawal")
