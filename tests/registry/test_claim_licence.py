"""A claim's `licence.rsl`: an https URL of an RSL 1.0 licence, validated at intake, shown beside
each match of a check answer, carried by snapshots so offline answers show it too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from registry.checking import ClaimView, Hit, decide
from registry.documents import Claim, InvalidDocument, new_claim, validate_document
from registry.schemes import UrlId
from registry.snapshot import SnapshotData, build

NOW = datetime(2026, 12, 2, tzinfo=UTC)
DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
RSL = "https://rights.example/licences/rsl.xml"


def claim(licence: dict[str, str] | None) -> dict[str, Any]:
    document = new_claim(
        DID,
        "work",
        [("url", "https://example.com/gallery/")],
        {"train-ai": "n"},
        created=NOW,
        nonce="0123456789abcdef",
        licence=licence,
    )
    document["proof"] = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": f"{DID}#{DID.removeprefix('did:key:')}",
        "proofPurpose": "assertionMethod",
        "proofValue": "z" + "1" * 80,
    }
    return document


def test_an_https_rsl_licence_is_accepted_beside_contact_and_terms() -> None:
    valid = validate_document(Claim, claim({"rsl": RSL, "contact": "mailto:rights@example.com"}))
    assert valid.licence is not None and valid.licence.rsl == RSL
    assert validate_document(Claim, claim({"contact": "x"})).licence.rsl is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "url",
    [
        "http://rights.example/rsl.xml",
        "ftp://rights.example/rsl.xml",
        "https://",
        "https:///rsl.xml",
        "https://user:secret@rights.example/rsl.xml",
        "https://rights.example:99999/rsl.xml",
        "https://rights example/rsl.xml",
        "rights.example/rsl.xml",
        "https://rights.example/" + "a" * 2048,
    ],
)
def test_an_rsl_licence_url_that_is_not_plain_https_is_refused(url: str) -> None:
    with pytest.raises(InvalidDocument) as refused:
        validate_document(Claim, claim({"rsl": url}))
    assert refused.value.errors[0][0] == "/licence/rsl"


def view(licence: dict[str, str] | None) -> ClaimView:
    return ClaimView.of("c" * 64, validate_document(Claim, claim(licence)))


def answer(target: ClaimView) -> dict[str, Any]:
    item = UrlId(scheme="url", value="https://example.com/gallery/a.png")
    return decide(item, [Hit(target, "url", "example.com/gallery/")], at=NOW, purpose="train-ai")


def test_check_answers_show_the_licence_beside_the_match_and_nothing_for_claims_without_one() -> None:
    [match] = answer(view({"rsl": RSL, "terms": "https://rights.example/terms"}))["matches"]
    assert match["licence"] == {"rsl": RSL, "terms": "https://rights.example/terms"}
    assert "licence" not in answer(view(None))["matches"][0]


def test_snapshots_carry_the_licence_so_offline_answers_are_the_registrys() -> None:
    claims = [
        ("a" * 64, validate_document(Claim, claim({"rsl": RSL}))),
        ("b" * 64, validate_document(Claim, claim(None))),
    ]
    data = build(claims, {})
    read = SnapshotData.from_sections(dict(data.sections()))
    by_id = {v.id: v for v in read.views}
    assert by_id["a" * 64].licence == {"rsl": RSL} and by_id["b" * 64].licence is None
    for claim_id, stored in claims:
        assert answer(by_id[claim_id]) == answer(ClaimView.of(claim_id, stored))
