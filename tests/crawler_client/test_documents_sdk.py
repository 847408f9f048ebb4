"""`crawler_client.documents`: every document kind built and signed through one public API, checked as
the registry would check it before signing, personal data split out, and nothing imported early."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import keys
from crawler_client import documents

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def alice() -> keys.SigningKey:
    return keys.SigningKey.generate()


@pytest.fixture
def bob() -> keys.SigningKey:
    return keys.SigningKey.generate()


def test_every_builder_makes_a_document_sign_accepts(alice: keys.SigningKey, bob: keys.SigningKey):
    claim = documents.sign(
        documents.new_claim(alice.did, "voice", [("name", "山田花子")], {"generate": "n"}), alice
    )
    claim_id = documents.document_id(claim)
    built = {
        "ClaimWithdrawal": (documents.new_withdrawal(alice.did, claim_id, reason="契約終了"), alice),
        "Mandate": (documents.new_mandate(bob.did, alice.did, kinds=["voice"], uses=["generate"]), bob),
        "Attestation": (documents.new_attestation(bob.did, alice.did, "identity", name="Hanako"), bob),
        "MandateRevocation": (documents.new_revocation("MandateRevocation", bob.did, claim_id), bob),
        "KeyRotation": (documents.new_rotation(alice.did, bob.did), alice),
        "RecoveryKeys": (documents.new_recovery_keys(alice.did, [bob.did]), alice),
        "RecoveryRequest": (
            documents.new_recovery_step("RecoveryRequest", bob.did, did=alice.did, successor=bob.did), bob
        ),
        "Dispute": (documents.new_dispute(alice.did, claim_id, "0" * 64, "this is my voice"), alice),
        "PersonalDataErasure": (documents.new_erasure(alice.did, None, ["1" * 64], "request"), alice),
    }  # fmt: skip
    for kind, (document, key) in built.items():
        assert document["type"] == kind
        signed = documents.sign(document, key)
        assert documents.verify(signed).verification_method.startswith(key.did), kind
        documents.validate(signed)
    assert set(built) | {"Claim"} <= set(documents.DOCUMENT_TYPES)


def test_sign_splits_personal_data_out_of_what_goes_to_the_log(alice: keys.SigningKey, bob: keys.SigningKey):
    notice = documents.new_notice(
        alice.did,
        bob.did,
        kind="work",
        locations=[("url", "https://ai.example/dataset/item/1")],
        actions=["remove"],
        regimes=["dsa"],
        identifiers=[("url", "https://example.com/art/")],
        contact={"name": "山田花子", "email": "hanako@example.com"},
        grounds="copied without permission",
    )
    body = documents.sign(notice, alice)
    assert set(body) == {"document", "personal"}
    public = body["document"]
    documents.verify(public)
    assert "contact" not in public and "hanako@example.com" not in json.dumps(public, ensure_ascii=False)
    assert body["personal"]["data"]["contact"]["email"] == "hanako@example.com"
    registration = documents.sign(
        documents.new_registration(bob.did, "Example AI", "https://ai.example/abuse"), bob
    )
    assert registration["type"] == "OperatorRegistration"  # nothing personal in it: signed as is


def test_nothing_invalid_is_signed(alice: keys.SigningKey):
    with pytest.raises(documents.InvalidDocument, match="/subject/kind"):
        documents.sign(
            documents.new_claim(alice.did, "song", [("url", "https://example.com/")], {"train-ai": "n"}),
            alice,
        )
    with pytest.raises(documents.InvalidDocument, match="unknown document type"):
        documents.sign({"type": "Wish"}, alice)
    unchecked = documents.sign({"type": "Wish", "nonce": "x"}, alice, check=False)
    assert unchecked["proof"]["type"] == "DataIntegrityProof"
    with pytest.raises(AttributeError):
        documents.new_wish  # noqa: B018


def test_importing_the_module_imports_no_schemas_until_a_builder_is_used():
    code = (
        "import sys, crawler_client.documents as d\n"
        "before = 'pydantic' in sys.modules\n"
        "d.new_withdrawal\n"
        "print(before, 'pydantic' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["False", "True"]
