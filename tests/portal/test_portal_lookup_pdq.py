"""Issue 17, looking an image up by PDQ: a dropped image's SHA-256 and PDQ hash (with its 7 rotated
and mirrored forms) are computed in the page and both are looked up; a re-encoded or rotated copy of
a claimed image is found by similarity, with its distance and the claim's authority, beside the
claims of the exact file; a flat image's PDQ is not sent and the page says why; the image itself is
never sent; PDQ values the page would never send are explained, never a 500."""

from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageEnhance

import keys
from api.i18n import translate
from api.portal.lookup import file_pdq
from crawler_client.fingerprint import fingerprint_image, pdq_of_image
from registry.content_ids import PDQ_MIN_QUALITY
from registry.identifiers import InvalidIdentifier
from registry.index import PDQ_RADIUS
from tests.conftest import ServerProcess
from tests.portal.harness import Portal
from tests.portal.helpers import file_claim
from tests.portal.pdq_images import encode, flat, photo


def _record_bodies(portal: Portal) -> list[Any]:
    """Every request the page makes (to check what it sends)."""
    requests: list[Any] = []
    portal.page.on("request", lambda request: requests.append(request))
    return requests


def _nothing_of(image: bytes, requests: list[Any]) -> None:
    """No request carried the image: no body holds any 64-byte run of it, no address is longer than
    a lookup address (64 hex digits for the SHA-256 and 8 × 64 for PDQ)."""
    runs = {image[i : i + 64] for i in range(0, len(image) - 64, 997)}
    for request in requests:
        body = request.post_data_buffer or b""
        assert not any(run in body for run in runs), request.url
        assert len(request.url) < 1200, request.url


def _choose(portal: Portal, data: bytes, name: str, mime: str) -> None:
    portal.page.set_input_files("#drop-file", files=[{"name": name, "mimeType": mime, "buffer": data}])


def _drop(portal: Portal, data: bytes, name: str) -> None:
    portal.page.evaluate(
        """([b64, name]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name));
            const zone = document.getElementById("drop");
            const options = { dataTransfer: transfer, bubbles: true, cancelable: true };
            zone.dispatchEvent(new DragEvent("dragover", options));
            zone.dispatchEvent(new DragEvent("drop", options));
        }""",
        [base64.b64encode(data).decode("ascii"), name],
    )


def _decisions(portal: Portal) -> dict[str, str]:
    rows = portal.page.locator("#headline tbody tr")
    return {
        str(rows.nth(n).get_attribute("data-use")): str(rows.nth(n).get_attribute("data-decision"))
        for n in range(rows.count())
    }


def test_a_copy_of_a_claimed_image_is_found_by_pdq_with_its_distance(portal: Portal) -> None:
    original = photo(480, 360, secrets.randbits(32))
    original_png = encode(original, "PNG")
    pdq = next(item for item in fingerprint_image(original_png) if item["scheme"] == "pdq")
    similar = file_claim(portal.base_url, keys.SigningKey.generate(), "work", [pdq], {"train-ai": "n"})
    # A re-encoded, slightly brightened copy: another file (another SHA-256), the same picture.
    copy = encode(ImageEnhance.Brightness(original).enhance(1.05), "JPEG", quality=80)
    digest = hashlib.sha256(copy).hexdigest()
    exact = file_claim(
        portal.base_url, keys.SigningKey.generate(), "work", [("sha256", digest)], {"generate": "n"}
    )
    requests = _record_bodies(portal)
    portal.goto("/lookup")
    _choose(portal, copy, "copy.jpg", "image/jpeg")
    portal.page.wait_for_url(f"**/lookup?scheme=sha256&q={digest}&pdq=*")
    page = portal.page
    assert page.get_attribute("#pdq-searched", "data-quality") == "100"
    assert translate(portal.lang, "lookup.pdq_searched", q=100) in (page.text_content("#pdq-searched") or "")
    assert page.locator(f"#exact-matches li[data-claim='{exact}']").count() == 1
    found = page.locator(f"#pdq-matches li[data-claim='{similar}']")
    assert found.count() == 1
    distance = int(found.get_attribute("data-distance") or "-1")
    assert 0 <= distance <= PDQ_RADIUS
    text = found.text_content() or ""
    assert translate(portal.lang, "lookup.pdq_distance", d=distance) in text
    assert portal.t("authority.self-asserted") in (found.locator(".match-authority").text_content() or "")
    assert portal.t("lookup.pdq_title") in (page.text_content("#pdq-title") or "")
    # One headline for the file: the similar image's claim reserves training, the exact file's generation.
    said = _decisions(portal)
    assert said["train-ai"] == "n" and said["generate"] == "n" and said["search"] == "unknown"
    assert page.is_visible("#combined-note")
    portal.check("lookup-pdq-similar-and-exact")
    # A copy turned a quarter and dropped on the zone: found through the dihedral variants.
    turned = encode(original.transpose(Image.Transpose.ROTATE_90), "PNG")
    portal.goto("/lookup")
    _drop(portal, turned, "turned.png")
    portal.page.wait_for_url(f"**/lookup?scheme=sha256&q={hashlib.sha256(turned).hexdigest()}&pdq=*")
    found = page.locator(f"#pdq-matches li[data-claim='{similar}']")
    assert found.count() == 1 and int(found.get_attribute("data-distance") or "-1") <= PDQ_RADIUS
    assert page.locator("#exact-none").count() == 1
    portal.check("lookup-pdq-rotated-copy")
    _nothing_of(copy, requests)
    _nothing_of(turned, requests)


def test_an_image_nothing_claims_says_so_for_both_hashes(portal: Portal) -> None:
    image = encode(photo(300, 300, secrets.randbits(32)), "PNG")
    requests = _record_bodies(portal)
    portal.goto("/lookup")
    _choose(portal, image, "nothing.png", "image/png")
    portal.page.wait_for_url("**/lookup?scheme=sha256&q=*&pdq=*")
    assert portal.t("lookup.none") in (portal.page.text_content("#exact-none") or "")
    assert portal.t("lookup.pdq_none") in (portal.page.text_content("#pdq-none") or "")
    assert set(_decisions(portal).values()) == {"unknown"}
    portal.check("lookup-pdq-no-match")
    _nothing_of(image, requests)


def test_a_flat_image_is_not_looked_up_by_pdq_and_the_page_says_why(portal: Portal, tmp_path: Path) -> None:
    image = encode(flat(300, 200), "PNG")
    (tmp_path / "flat.png").write_bytes(image)
    quality = pdq_of_image(tmp_path / "flat.png").quality
    assert quality < PDQ_MIN_QUALITY
    requests = _record_bodies(portal)
    portal.goto("/lookup")
    _choose(portal, image, "flat.png", "image/png")
    portal.page.wait_for_url("**/lookup?scheme=sha256&q=*&pdq_quality=*")
    assert "pdq=" not in portal.page.url.replace("pdq_quality=", "")
    note = portal.page.text_content("#pdq-low-quality") or ""
    shown = int(portal.page.get_attribute("#pdq-low-quality", "data-quality") or "-1")
    assert abs(shown - quality) <= 5
    assert translate(portal.lang, "lookup.pdq_low_quality", q=shown, min=PDQ_MIN_QUALITY) in note
    assert portal.page.locator("#pdq-results").count() == 0
    portal.check("lookup-pdq-low-quality")
    _nothing_of(image, requests)


# ---------------------------------------------------------------- values the page never sends

GOOD = "a" * 64
BAD_PDQ = [
    {"pdq": GOOD},  # no quality
    {"pdq": GOOD, "pdq_quality": "x"},
    {"pdq": GOOD, "pdq_quality": "101"},
    {"pdq": GOOD, "pdq_quality": "-1"},
    {"pdq": GOOD, "pdq_quality": "49"},  # a hash too flat to match
    {"pdq": "g" * 64, "pdq_quality": "90"},
    {"pdq": "a" * 63, "pdq_quality": "90"},
    {"pdq": GOOD, "pdq_quality": "90", "pdq_variants": ",".join([GOOD] * 8)},
    {"pdq": GOOD, "pdq_quality": "90", "pdq_variants": "zz"},
    {"pdq_quality": "90"},  # good enough to send, but no hash
    {"pdq_quality": "10", "pdq_variants": GOOD},
]


@pytest.mark.parametrize("params", BAD_PDQ)
def test_pdq_values_the_page_never_sends_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(InvalidIdentifier):
        file_pdq(params)


def test_the_pdq_part_of_a_lookup_address_reads_as_the_check_item() -> None:
    assert file_pdq({}) is None
    assert file_pdq({"pdq_quality": "0"}) is not None
    parsed = file_pdq({"pdq": GOOD.upper(), "pdq_quality": "50", "pdq_variants": ",".join(["b" * 64] * 7)})
    assert parsed is not None and parsed.quality == 50
    assert parsed.item == {"scheme": "pdq", "value": GOOD, "quality": 50, "variants": ["b" * 64] * 7}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_lookup_address_with_bad_pdq_values_is_explained_in_the_page(
    portal_server: ServerProcess, lang: str
) -> None:
    for params in BAD_PDQ:
        answer = httpx.get(
            f"{portal_server.url}/lookup",
            params={"scheme": "sha256", "q": "c" * 64, **params},
            cookies={"lang": lang},
        )
        assert answer.status_code == 200, (params, answer.text[:200])
        assert translate(lang, "lookup.pdq_invalid") in answer.text, params
        assert "Traceback" not in answer.text
