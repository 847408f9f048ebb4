"""The auditor's pure parts: tile arithmetic, the entry check (did:key, did:web, registry-signed
records), the replay's filing rules, the state directory, progress, and its offline throughput."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import keys
from crawler_client.audit import AuditError, StateDir, offline_throughput
from crawler_client.audit.state import AuditState, Pin
from crawler_client.audit.tiles import (
    MalformedTile,
    Tree,
    bundle_path,
    changed_tiles,
    parse_bundle,
    tile_path,
)
from crawler_client.audit_cli import TerminalProgress
from keys import merkle
from registry.documents import new_claim
from registry.entry_check import EntryRefused, check_entry_signature
from tests.factories import signed_claim, signed_withdrawal

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def entry(document: dict[str, Any]) -> bytes:
    return keys.canonicalize(document)


# ------------------------------------------------------------------ tiles


def test_tile_paths_follow_tlog_tiles() -> None:
    assert tile_path(0, 0, 256) == "/log/tile/0/000"
    assert tile_path(1, 1234067, 7) == "/log/tile/1/x001/x234/067.p/7"
    assert bundle_path(1000, 256) == "/log/tile/entries/x001/000"
    assert bundle_path(5, 1) == "/log/tile/entries/005.p/1"


def test_bundles_parse_exactly_or_not_at_all() -> None:
    data = b"".join(len(e).to_bytes(2, "big") + e for e in (b"a", b"", b"ccc"))
    assert parse_bundle(data, 3) == [b"a", b"", b"ccc"]
    with pytest.raises(MalformedTile, match="holds 3 entries, not 4"):
        parse_bundle(data, 4)
    with pytest.raises(MalformedTile, match="truncated inside entry 2"):
        parse_bundle(data[:-1], 3)
    with pytest.raises(MalformedTile, match="truncated inside entry 3's length"):
        parse_bundle(data + b"\x00", 3)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 255, 256, 257, 511, 513, 1000])
def test_the_tree_agrees_with_rfc_9162_at_every_size(size: int) -> None:
    leaves = [merkle.leaf_hash(n.to_bytes(4, "big")) for n in range(size)]
    tree = Tree()
    for leaf in leaves:
        tree.append(leaf)
    for smaller in sorted({0, size // 3, size // 2, size}):
        assert tree.root(smaller) == merkle.root_from_leaf_hashes(leaves[:smaller])
    if size >= 512:
        assert tree.tile(1, 0, 2) == merkle.root_from_leaf_hashes(
            leaves[:256]
        ) + merkle.root_from_leaf_hashes(leaves[256:512])
    assert tree.tile(0, 0, min(size, 256)) == b"".join(leaves[:256])
    tree.truncate(size // 2)
    assert tree.size == size // 2 and tree.root(size // 2) == merkle.root_from_leaf_hashes(
        leaves[: size // 2]
    )


def test_only_new_or_grown_tiles_are_fetched_again() -> None:
    assert list(changed_tiles(0, 0, 3)) == [(0, 3)]
    assert list(changed_tiles(0, 3, 3)) == []
    assert list(changed_tiles(0, 258, 260)) == [(1, 4)]
    assert list(changed_tiles(0, 256, 600)) == [(1, 256), (2, 88)]
    assert list(changed_tiles(1, 258, 260)) == []  # still one complete subtree of 256
    assert list(changed_tiles(1, 255, 512)) == [(0, 2)]


# ------------------------------------------------------------------ the entry check


def did_document(did: str, key: keys.SigningKey) -> str:
    return json.dumps(
        {
            "id": did,
            "verificationMethod": [
                {
                    "id": f"{did}#key-1",
                    "type": "Multikey",
                    "controller": did,
                    "publicKeyMultibase": key.public.multibase,
                }
            ],
            "assertionMethod": [f"{did}#key-1"],
        }
    )


def did_record(
    registry: keys.SigningKey, did: str, text: str, *, sha256: str | None = None
) -> dict[str, Any]:
    fields = {
        "type": "DidDocumentRecord",
        "registry": registry.did,
        "did": did,
        "url": f"https://{did.removeprefix('did:web:')}/.well-known/did.json",
        "sha256": sha256 or hashlib.sha256(text.encode()).hexdigest(),
        "document": text,
        "resolved_at": "2026-03-01T12:00:00Z",
    }
    from registry.documents import unsigned_document

    return keys.sign_document(unsigned_document(fields, created=NOW), registry, created=NOW)


def did_web_claim(did: str, key: keys.SigningKey) -> dict[str, Any]:
    document = new_claim(did, "work", [("url", "https://alice.example/")], {"train-ai": "n"}, created=NOW)
    return keys.sign_document(document, key, created=NOW, verification_method=f"{did}#key-1")


def test_a_did_web_author_verifies_against_the_did_document_logged_before_it() -> None:
    registry, alice = keys.SigningKey.generate(), keys.SigningKey.generate()
    did = "did:web:alice.example"
    documents: dict[str, bytes] = {}
    claim = entry(did_web_claim(did, alice))
    with pytest.raises(
        EntryRefused, match=r"log entry 0: no DID document of did:web:alice\.example precedes it"
    ):
        check_entry_signature(0, claim, documents, registry.did)
    check_entry_signature(
        0, entry(did_record(registry, did, did_document(did, alice))), documents, registry.did
    )
    checked = check_entry_signature(1, claim, documents, registry.did)
    assert (checked.kind, checked.author, checked.id) == ("Claim", did, hashlib.sha256(claim).hexdigest())
    # a newer DID document with another key: the old signature no longer verifies under it
    check_entry_signature(
        2,
        entry(did_record(registry, did, did_document(did, keys.SigningKey.generate()))),
        documents,
        registry.did,
    )
    with pytest.raises(EntryRefused, match="log entry 3: the Claim's signature does not verify"):
        check_entry_signature(3, claim, documents, registry.did)


def test_registry_signed_records_must_be_the_registry_s_and_say_what_they_hold() -> None:
    registry, mallory = keys.SigningKey.generate(), keys.SigningKey.generate()
    did = "did:web:alice.example"
    with pytest.raises(
        EntryRefused, match="a DidDocumentRecord is signed by the registry, but this one names"
    ):
        check_entry_signature(0, entry(did_record(mallory, did, "{}")), {}, registry.did)
    with pytest.raises(EntryRefused, match="sha256 is not that of its document"):
        check_entry_signature(0, entry(did_record(registry, did, "{}", sha256="0" * 64)), {}, registry.did)


def test_entries_that_are_not_canonical_signed_documents_are_refused() -> None:
    registry, alice, mallory = (keys.SigningKey.generate() for _ in range(3))
    claim = signed_claim(alice, NOW)
    with pytest.raises(EntryRefused, match="not in canonical form"):
        check_entry_signature(0, json.dumps(claim).encode(), {}, registry.did)
    with pytest.raises(EntryRefused, match="not strict JSON"):
        check_entry_signature(0, b'{"type":"Claim","type":"Claim"}', {}, registry.did)
    with pytest.raises(EntryRefused, match="not a document of a known type"):
        check_entry_signature(0, b'{"type":"Poem"}', {}, registry.did)
    with pytest.raises(EntryRefused, match="not a ClaimWithdrawal document"):
        check_entry_signature(0, entry(claim), {}, registry.did, kind="ClaimWithdrawal")
    forged = signed_claim(mallory, NOW, claimant=alice.did)
    with pytest.raises(EntryRefused, match="log entry 7: the Claim's signature does not verify"):
        check_entry_signature(7, entry(forged), {}, registry.did)
    check_entry_signature(7, entry(forged), {}, registry.did, verify=False)  # below a verified mark


# ------------------------------------------------------------------ the replay


def test_the_replay_names_what_intake_would_have_refused() -> None:
    registry, alice, mallory = (keys.SigningKey.generate() for _ in range(3))
    claim = signed_claim(alice, NOW)
    claim_id = keys.document_id(claim)
    entries = [
        entry(signed_withdrawal(alice, "ab" * 32, NOW)),
        entry(claim),
        entry(claim),
        entry(signed_withdrawal(mallory, claim_id, NOW)),
        entry(signed_withdrawal(alice, claim_id, NOW)),
        entry(
            keys.sign_document(
                {"type": "Claim", "claimant": alice.did, "created": "2026-03-01T12:00:00Z"}, alice
            )
        ),
    ]
    rate, replay, root = offline_throughput(entries, registry.did)
    found = [(d.kind, d.index) for d in replay.discrepancies]
    assert found == [("rule", 0), ("rule", 2), ("rule", 3), ("rule", 4), ("replay", 5)]
    messages = [d.message for d in replay.discrepancies]
    assert f"withdraws claim {'ab' * 8}…, not filed before it" in messages[0]
    assert messages[1] == "log entry 2 repeats the claim logged at 1"
    assert f"is withdrawn by {mallory.did}, neither its claimant {alice.did}" in messages[2]
    assert "again (first at 3)" in messages[3]
    assert messages[4].startswith("log entry 5 cannot be replayed: ")
    assert replay.index.position == 6 and replay.first_bad is None  # every signature held
    assert root == merkle.root_from_leaf_hashes([merkle.leaf_hash(e) for e in entries])
    assert rate.entries == 6 and rate.signatures == 6


def test_offline_throughput_of_a_small_log(capsys: pytest.CaptureFixture[str]) -> None:
    registry = keys.SigningKey.generate()
    claimants = [keys.SigningKey.generate() for _ in range(10)]
    entries = [
        entry(signed_claim(claimants[n % 10], NOW, urls=(f"https://bench.example/{n}/",))) for n in range(300)
    ]
    rate, replay, _ = offline_throughput(entries, registry.did)
    assert not replay.discrepancies and len(replay.claims) == 300 and len(replay.index) == 300
    assert rate.per_second > 0


# ------------------------------------------------------------------ the state directory


def test_a_damaged_or_busy_state_directory_is_an_input_error(tmp_path: Path) -> None:
    with StateDir(tmp_path) as files:
        assert files.load() == AuditState()
        with pytest.raises(AuditError, match="another audit is using it"), StateDir(tmp_path):
            pass
        state = AuditState(pin=Pin("did:key:z", "o", "o+00000000+AQ=="), size=3, bundles=0, entries_bytes=0)
        with pytest.raises(AuditError, match=r"tail\.3\.bin is missing"):
            (tmp_path / "state.json").write_text(json.dumps(state.to_json()))
            files.load()
        (tmp_path / "state.json").write_text("{")
        with pytest.raises(AuditError, match="cannot be read"):
            files.load()
        (tmp_path / "state.json").write_text(json.dumps({**state.to_json(), "bundles": 5}))
        with pytest.raises(AuditError, match="its sizes do not add up"):
            files.load()


def test_bytes_appended_by_an_interrupted_audit_are_cut_off(tmp_path: Path) -> None:
    bundle = b"".join(len(e).to_bytes(2, "big") + e for e in [b"x" * 3] * 256)
    with StateDir(tmp_path) as files:
        state = AuditState(pin=Pin("did:key:z", "o", "k"))
        files.append_bundle(state, bundle)
        state = AuditState(pin=state.pin, size=257, bundles=1, entries_bytes=len(bundle))
        files.commit(state, b"\x00\x01y")
        files.append_bundle(state, b"junk from a crash")  # never committed
        files.discard()
    with StateDir(tmp_path) as files:
        loaded = files.load()
        assert loaded == state
        assert list(files.entries(loaded)) == [b"xxx"] * 256 + [b"y"]
        files.append_bundle(loaded, bundle)
        files.commit(AuditState(pin=state.pin, size=512, bundles=2, entries_bytes=2 * len(bundle)), b"")
    assert (tmp_path / "entries.bin").stat().st_size == 2 * len(bundle)
    assert not list(tmp_path.glob("tail.*"))


# ------------------------------------------------------------------ progress


def test_progress_rewrites_one_line_and_clears_it() -> None:
    stream, ticks = io.StringIO(), iter([0.0, 0.05, 0.2, 0.21])
    progress = TerminalProgress(stream, clock=lambda: next(ticks))
    progress("mirror", 1, 10)
    progress("mirror", 2, 10)  # too soon: skipped
    progress("mirror", 3, 10)
    progress("mirror", 10, 10)  # the last one always shows
    progress.clear()
    shown = stream.getvalue()
    assert shown.count("\r") == 5 and "mirror: 3/10 bundles" in shown and "2/10" not in shown
    assert shown.endswith("\r")
