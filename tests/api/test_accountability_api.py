"""Operator accountability over HTTP against a real `kotowari serve`, on SQLite and PostgreSQL:
disclosures and their supersession, manifests as evidence, authorities and information requests,
the public record and its portal pages — and every refusal, each answered with problem+json and
leaving the log as it was."""

from __future__ import annotations

import base64
import copy
import csv
import html
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from registry.accountability.answers import OperatorAccountabilityRecord, OperatorRanking
from registry.identity import load_or_create_registry_key, note_signer
from tests.accountability_helpers import (
    Registry,
    disclosure,
    filtered_manifest,
    information_request,
    manifest_ref,
    now,
    registration,
    registry,
)

PROBLEM = "https://kotowari.dev/problems/"


@pytest.fixture
def reg(db_url: str, tmp_path: Path) -> Iterator[Registry]:
    with registry(tmp_path / "data", None if db_url.startswith("sqlite://") else db_url) as running:
        yield running


def problem(answer: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["type"] == PROBLEM + slug, body
    return dict(body)


def refused_unchanged(
    reg: Registry, answer: httpx.Response, status: int, slug: str, size: int
) -> dict[str, Any]:
    """A refusal as problem+json, and the log exactly as large as before it."""
    body = problem(answer, status, slug)
    assert reg.size() == size
    return body


def record_of(reg: Registry, did: str, **params: str) -> dict[str, Any]:
    answer = reg.get(f"/v1/accountability/operators/{did}", **params)
    assert answer.status_code == 200, answer.text
    OperatorAccountabilityRecord.model_validate(answer.json())
    return dict(answer.json())


# ------------------------------------------------------------------ disclosures


def test_a_registered_operator_discloses_and_a_later_disclosure_supersedes_the_earlier(reg: Registry) -> None:
    acme = keys.SigningKey.generate()
    assert reg.post("/v1/operators", registration(acme, "Acme AI")).status_code == 201
    first = reg.post("/v1/disclosures", disclosure(acme))
    assert first.status_code == 201, first.text
    assert (
        first.json()["supersedes"] is None
        and first.headers["location"] == f"/v1/disclosures/{first.json()['id']}"
    )
    other = reg.post("/v1/disclosures", disclosure(acme, "acme/voice-v1"))
    second = reg.post(
        "/v1/disclosures", disclosure(acme, explain={"1-pirate-sites": "we license every source"})
    )
    assert second.json()["supersedes"] == first.json()["id"]

    shown = reg.get(f"/v1/disclosures/{first.json()['id']}").json()
    assert shown["current"] is False and shown["superseded_by"] == second.json()["id"]
    record = record_of(reg, acme.did)
    assert [(d["id"], d["current"]) for d in record["disclosures"]] == [
        (first.json()["id"], False),
        (other.json()["id"], True),
        (second.json()["id"], True),
    ]
    latest = record["disclosures"][2]
    assert latest["principle_code"]["explain"] == [
        {"item": "1-pirate-sites", "explanation": "we license every source"}
    ]
    assert "1-pirate-sites" not in latest["principle_code"]["comply"]
    assert latest["signals_honoured"] == ["robots.txt", "tdmrep", "aipref", "registry"]
    assert record["identity"]["name"] == "Acme AI" and record["identity"]["registered"] is True

    entry = reg.get(f"/v1/operators/{acme.did}").json()  # the directory entry carries the record
    assert entry["record"]["disclosures"] == record["disclosures"]
    assert entry["links"]["record"] == f"/v1/accountability/operators/{acme.did}"
    for lang, heading in (("ja", "事業者の公開記録"), ("en", "An operator's public record")):
        page = httpx.get(f"{reg.url}/operators/{acme.did}", headers={"Accept-Language": lang})
        assert (
            page.status_code == 200 and heading in html.unescape(page.text) and "acme/voice-v1" in page.text
        )
        assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_disclosures_by_a_key_that_is_not_the_operators_change_nothing(reg: Registry) -> None:
    acme, mallory = keys.SigningKey.generate(), keys.SigningKey.generate()
    reg.post("/v1/operators", registration(acme, "Acme AI"))
    size = reg.size()
    # signed by mallory, naming acme as its operator: the proof is by another key than the author's
    forged = disclosure(mallory, operator=acme.did)
    refused_unchanged(reg, reg.post("/v1/disclosures", forged), 422, "wrong-signer", size)
    # mallory's own, but mallory never registered as an operator
    body = refused_unchanged(
        reg, reg.post("/v1/disclosures", disclosure(mallory)), 403, "not-an-operator", size
    )
    assert body["errors"] == [{"pointer": "/operator", "detail": "not a registered operator"}]
    # an item "explained" without its explanation, and an item not answered at all
    unexplained = disclosure(acme)
    document = {k: v for k, v in unexplained.items() if k != "proof"}
    document["principle_code"] = {**document["principle_code"], "1-records": {"answer": "explain"}}
    bad = keys.sign_document(document, acme, created=now())
    refused_unchanged(reg, reg.post("/v1/disclosures", bad), 422, "invalid-document", size)
    del document["principle_code"]["1-records"]
    refused_unchanged(
        reg,
        reg.post("/v1/disclosures", keys.sign_document(document, acme, created=now())),
        422,
        "invalid-document",
        size,
    )
    tampered = disclosure(acme)
    tampered["training_data"]["signals_honoured"] = ["robots.txt"]
    refused_unchanged(reg, reg.post("/v1/disclosures", tampered), 422, "invalid-proof", size)
    assert record_of(reg, acme.did)["disclosures"] == []
    assert problem(reg.get(f"/v1/disclosures/{'0' * 64}"), 404, "not-found")


# ------------------------------------------------------------------ manifests


def _operator_key(tmp_path: Path, name: str = "acme.key") -> tuple[keys.SigningKey, Path]:
    key = keys.SigningKey.generate()
    path = tmp_path / name
    keys.write_key_file(str(path), key)
    return key, path


def test_a_manifest_is_verified_recorded_and_linked_to_the_disclosures(reg: Registry, tmp_path: Path) -> None:
    acme, key_path = _operator_key(tmp_path)
    reg.post("/v1/operators", registration(acme, "Acme AI"))
    manifest = filtered_manifest(
        reg, key_path, tmp_path / "crawl", ["https://example.org/a", "https://example.org/b"]
    )
    submitted = reg.post("/v1/manifests", manifest)
    assert submitted.status_code == 201, submitted.text
    answer = submitted.json()
    sha256 = keys.document_id(manifest)
    assert answer["sha256"] == sha256 and answer["manifest"] == manifest and answer["disclosures"] == []
    record = answer["record"]["document"]
    assert (record["type"], record["signer"], record["manifest"]) == ("ManifestRecord", acme.did, sha256)
    assert record["snapshot"]["tree_size"] == manifest["snapshot"]["tree_size"]
    assert record["removed_rows_checked"] is True and record["rows"] == {"total": 2, "kept": 2, "removed": 0}
    size = reg.size()
    again = reg.post("/v1/manifests", manifest)  # the same manifest once more: recorded once
    assert again.status_code == 200 and again.json()["already_recorded"] is True and reg.size() == size

    ref = manifest_ref(manifest)
    never = {
        "id": "ab" * 32,
        "snapshot": {"tree_size": 1, "root_hash": base64.b64encode(b"\x07" * 32).decode()},
    }
    filed = reg.post("/v1/disclosures", disclosure(acme, manifests=[ref, never])).json()
    linked = reg.get(f"/v1/manifests/{sha256}").json()["disclosures"]
    assert linked == [{"id": filed["id"], "operator": acme.did, "subject": filed["subject"], "current": True}]
    (shown,) = record_of(reg, acme.did)["disclosures"]
    backed, unbacked = shown["manifests"]
    assert (backed["submitted"], backed["snapshot_in_log"], backed["same_snapshot"]) == (True, True, True)
    assert backed["record"]["id"] == answer["record"]["id"]
    assert (unbacked["submitted"], unbacked["snapshot_in_log"], unbacked["record"]) == (False, False, None)


def _resigned(
    manifest: dict[str, Any], operator: keys.SigningKey, snapshot: dict[str, Any]
) -> dict[str, Any]:
    document = {k: v for k, v in manifest.items() if k != "proof"}
    document["snapshot"] = snapshot
    return keys.sign_document(document, operator, created=now())


def _snapshot(
    snapshot: dict[str, Any], signer: keys.SigningKey, origin: str, size: int, root: bytes
) -> dict[str, Any]:
    """The manifest's snapshot state, re-signed by `signer` for (origin, size, root)."""
    from keys.note import Checkpoint, sign_note

    state = {k: v for k, v in copy.deepcopy(snapshot).items() if k != "proof"}
    state.update(
        registry=signer.did,
        origin=origin,
        tree_size=size,
        root_hash=base64.b64encode(root).decode(),
        checkpoint=sign_note(Checkpoint(origin, size, root).to_text(), [note_signer(signer, origin)]),
    )
    return keys.sign_document(state, signer, created=now())


def test_manifests_that_do_not_verify_are_refused_and_change_nothing(reg: Registry, tmp_path: Path) -> None:
    acme, key_path = _operator_key(tmp_path)
    manifest = filtered_manifest(reg, key_path, tmp_path / "crawl", ["https://example.org/a"])
    snapshot, origin = manifest["snapshot"], manifest["snapshot"]["origin"]
    registry_key, _ = load_or_create_registry_key(reg.data_dir)  # the registry's own key, as a forger
    size = reg.size()

    tampered = copy.deepcopy(manifest)
    tampered["rows"]["kept"] = 0
    body = refused_unchanged(reg, reg.post("/v1/manifests", tampered), 422, "invalid-manifest", size)
    assert body["detail"].startswith("operator signature")
    stranger = keys.SigningKey.generate()
    other_registry = _resigned(manifest, acme, _snapshot(snapshot, stranger, origin, 1, b"\x01" * 32))
    body = refused_unchanged(reg, reg.post("/v1/manifests", other_registry), 422, "snapshot-not-in-log", size)
    assert f"signed by {stranger.did}, not by this registry" in body["detail"]
    # signed with the registry's key, but for a root its log never had at that size: a fork
    forked = _resigned(
        manifest, acme, _snapshot(snapshot, registry_key, origin, snapshot["tree_size"], b"\x02" * 32)
    )
    body = refused_unchanged(reg, reg.post("/v1/manifests", forked), 422, "snapshot-not-in-log", size)
    assert "the log never signed that snapshot" in body["detail"]
    ahead = _resigned(manifest, acme, _snapshot(snapshot, registry_key, origin, size + 5, b"\x03" * 32))
    body = refused_unchanged(reg, reg.post("/v1/manifests", ahead), 422, "snapshot-not-in-log", size)
    assert f"this log has {size} entries" in body["detail"]
    elsewhere = _resigned(
        manifest, acme, _snapshot(snapshot, registry_key, "other.example/log", 1, b"\x04" * 32)
    )
    refused_unchanged(reg, reg.post("/v1/manifests", elsewhere), 422, "snapshot-not-in-log", size)
    refused_unchanged(reg, reg.post("/v1/manifests", {"type": "Claim"}), 422, "invalid-manifest", size)
    answer = httpx.post(reg.url + "/v1/manifests", content=b'{"type": "ComplianceManifest", "a": NaN}')
    refused_unchanged(reg, answer, 400, "malformed-json", size)
    for forged in (tampered, other_registry, forked, ahead):
        problem(reg.get(f"/v1/manifests/{keys.document_id(forged)}"), 404, "not-found")


# ------------------------------------------------------------------ authorities and information requests


def test_information_requests_come_only_from_designated_authorities(reg: Registry) -> None:
    acme, regulator, mallory = (keys.SigningKey.generate() for _ in range(3))
    reg.post("/v1/operators", registration(acme, "Acme AI"))
    deadline = now() + timedelta(days=14)
    size = reg.size()
    # not even domain-verified
    assert reg.admin("authority", regulator.did, "--name", "Example Regulator") == 2
    assert reg.size() == size
    refused_unchanged(
        reg,
        reg.post("/v1/information-requests", information_request(regulator, acme.did, deadline)),
        403,
        "not-an-authority",
        size,
    )
    reg.verify_domain(regulator.did, "regulator.example")
    size = reg.size()
    # domain-verified, but not designated by the administrator
    body = refused_unchanged(
        reg,
        reg.post("/v1/information-requests", information_request(regulator, acme.did, deadline)),
        403,
        "not-an-authority",
        size,
    )
    assert body["errors"][0]["pointer"] == "/authority"
    assert (
        reg.admin("authority", regulator.did, "--name", "Example Regulator", "--reference", "AI Act art. 16")
        == 0
    )
    (listed,) = reg.get("/v1/authorities").json()["authorities"]
    assert (listed["did"], listed["name"], listed["host"], listed["may_request"]) == (
        regulator.did,
        "Example Regulator",
        "regulator.example",
        True,
    )
    filed = reg.post("/v1/information-requests", information_request(regulator, acme.did, deadline))
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    size = reg.size()
    refused_unchanged(
        reg,
        reg.post("/v1/information-requests", information_request(mallory, acme.did, deadline)),
        403,
        "not-an-authority",
        size,
    )
    # only the operator addressed answers
    from registry.accountability.documents import new_information_answer

    def answer(key: keys.SigningKey, request: str = request_id, path: str = request_id) -> httpx.Response:
        document = new_information_answer(
            key.did, request, "We check prompts against the registry.", created=now()
        )
        return reg.post(
            f"/v1/information-requests/{path}/answers", keys.sign_document(document, key, created=now())
        )

    refused_unchanged(reg, answer(mallory), 403, "wrong-party", size)
    refused_unchanged(reg, answer(acme, path="0" * 64, request="0" * 64), 404, "not-found", size)
    refused_unchanged(reg, answer(acme, path="0" * 64), 422, "invalid-document", size)
    late = reg.post(
        "/v1/information-requests", information_request(regulator, acme.did, now() + timedelta(hours=1))
    )
    assert answer(acme).status_code == 201

    record = record_of(reg, acme.did)
    first, second = record["information_requests"]
    assert (first["id"], first["status"], first["authority_name"]) == (
        request_id,
        "answered",
        "Example Regulator",
    )
    assert first["answers"][0]["statement"] == "We check prompts against the registry."
    assert (second["id"], second["status"]) == (late.json()["id"], "open")
    later = (now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    overdue = record_of(reg, acme.did, at=later)
    assert overdue["computed_at"] == later
    assert [r["status"] for r in overdue["information_requests"]] == ["answered", "overdue"]
    assert overdue["information_requests_summary"] == {
        "received": 2,
        "answered": 1,
        "answered-late": 0,
        "overdue": 1,
        "open": 0,
    }
    shown = reg.get(f"/v1/information-requests/{request_id}").json()
    assert shown["operator"] == acme.did and shown["status"] == "answered"

    assert reg.admin("authority", regulator.did, "--revoke") == 0
    size = reg.size()
    refused_unchanged(
        reg,
        reg.post("/v1/information-requests", information_request(regulator, acme.did, deadline)),
        403,
        "not-an-authority",
        size,
    )
    assert reg.get("/v1/authorities").json()["authorities"] == []


# ------------------------------------------------------------------ reading


def test_records_and_rankings_refuse_bad_questions(reg: Registry) -> None:
    acme = keys.SigningKey.generate()
    problem(reg.get("/v1/accountability/operators/did:example:acme"), 400, "invalid-parameter")
    problem(reg.get(f"/v1/accountability/operators/{acme.did}"), 404, "not-found")
    reg.post("/v1/operators", registration(acme, '=HYPERLINK("x")'))
    for params in ({"sort": "name"}, {"format": "xml"}, {"at": "yesterday"}, {"limit": "5"}):
        problem(reg.get("/v1/accountability/operators", **params), 400, "invalid-parameter")
    ranked = reg.get("/v1/accountability/operators").json()
    OperatorRanking.model_validate(ranked)
    assert [row["operator"] for row in ranked["operators"]] == [acme.did]
    csv_text = reg.get("/v1/accountability/operators", format="csv")
    assert csv_text.headers["content-type"].startswith("text/csv")
    header, row = csv.reader(io.StringIO(csv_text.text))
    assert header[:7] == [
        "rank",
        "operator",
        "name",
        "registered",
        "authority",
        "notices_received",
        "overdue",
    ]
    assert row[2] == '\'=HYPERLINK("x")'  # a self-chosen name cannot run as a spreadsheet formula
    for lang, heading in (("ja", "事業者の公開記録"), ("en", "Operators' public records")):
        page = httpx.get(f"{reg.url}/operators", headers={"Accept-Language": lang})
        assert page.status_code == 200 and heading in html.unescape(page.text) and acme.did in page.text
    page = httpx.get(f"{reg.url}/operators/{keys.SigningKey.generate().did}")
    assert page.status_code == 404
    document = reg.get("/openapi.json").json()
    assert {
        "/v1/disclosures",
        "/v1/manifests",
        "/v1/information-requests",
        "/v1/accountability/operators",
    } <= set(document["paths"])
    assert "OperatorAccountabilityRecord" in document["components"]["schemas"]
