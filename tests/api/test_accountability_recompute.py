"""The operators' records and the ranked list, recomputed independently from the log and compared
with what a real `kotowari serve` (SQLite and PostgreSQL) serves.

The test builds a varied log through the public API (operators verified and not, notices acted upon,
rejected, counter-noticed and ignored, a subject reaching an operator again after an action,
disclosures superseded, a manifest submitted, an authority designated, requests answered and
not), then reads it as any outsider would: the signed checkpoint, every entry bundle from
`/log/tile/entries/…`, the Merkle root of those entries against the checkpoint, every entry's
signature by `registry.entry_check`. It replays the entries with the pure functions of
`registry.accountability.record` — nothing from the registry's database — at the `tree_size` and
`computed_at` each answer names, and requires the same JSON and the same CSV bytes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

import keys
from crawler_client.audit.tiles import WIDTH, bundle_path, parse_bundle
from keys import merkle
from keys.note import Checkpoint, open_note, parse_verifier_key
from registry.accountability.record import notices_csv, operator_record, ranking, ranking_csv, replay_log
from registry.documents import parse_timestamp
from registry.entry_check import check_entry_signature
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
from tests.notice_factories import complete_notice, response


@pytest.fixture
def reg(db_url: str, tmp_path: Path) -> Iterator[Registry]:
    with registry(tmp_path / "data", None if db_url.startswith("sqlite://") else db_url) as running:
        yield running


def _ok(answer: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    return dict(answer.json())


def build_log(reg: Registry, tmp_path: Path) -> dict[str, keys.SigningKey | str]:
    """A log with something of every kind the records count (see the module docstring)."""
    acme, other, regulator, aoi, ken = (keys.SigningKey.generate() for _ in range(5))
    ghost = keys.SigningKey.generate().did
    key_path = tmp_path / "acme.key"
    keys.write_key_file(str(key_path), acme)
    reg.verify_domain(acme.did, "acme.example")
    _ok(reg.post("/v1/operators", registration(acme, "Acme AI")))
    _ok(reg.post("/v1/operators", registration(other, "Other AI")))
    first = _ok(reg.post("/v1/disclosures", disclosure(acme)))
    manifest = filtered_manifest(reg, key_path, tmp_path / "crawl", ["https://example.org/a"])
    _ok(reg.post("/v1/manifests", manifest))
    second = _ok(reg.post("/v1/disclosures", disclosure(acme, manifests=[manifest_ref(manifest)])))
    assert second["supersedes"] == first["id"]

    def notice(notifier: keys.SigningKey, operator: str, url: str) -> str:
        body = complete_notice(notifier, operator, now(), identifiers=[("url", url)])
        return str(_ok(reg.post("/v1/notices", body))["id"])

    def step(key: keys.SigningKey, notice_id: str, action: str, **options: Any) -> None:
        _ok(
            reg.post(f"/v1/notices/{notice_id}/responses", response(key, notice_id, action, now(), **options))
        )

    acted = notice(aoi, acme.did, "https://aoi.example.jp/works/")
    step(acme, acted, "acknowledge")
    step(acme, acted, "action")
    again = notice(ken, acme.did, "https://aoi.example.jp/works/")  # the same subject, after the action
    step(acme, again, "acknowledge")
    step(acme, again, "action", actions_taken=["stop-generation"])
    rejected = notice(aoi, acme.did, "https://aoi.example.jp/other/")
    step(acme, rejected, "acknowledge")
    step(acme, rejected, "reject", statement="The output is an original composition, not a copy.")
    countered = notice(ken, acme.did, "https://ken.example/voice/")
    step(acme, countered, "acknowledge")
    step(acme, countered, "action")
    step(acme, countered, "counter-notice", statement="The uploader says the voice is licensed.")
    notice(aoi, other.did, "https://aoi.example.jp/works/")  # never answered
    notice(aoi, ghost, "https://aoi.example.jp/works/")  # to an operator that never registered

    reg.verify_domain(regulator.did, "regulator.example")
    assert reg.admin("authority", regulator.did, "--name", "Example Regulator") == 0
    asked = _ok(
        reg.post(
            "/v1/information-requests", information_request(regulator, acme.did, now() + timedelta(days=7))
        )
    )
    _ok(
        reg.post(
            "/v1/information-requests", information_request(regulator, other.did, now() + timedelta(hours=2))
        )
    )
    from registry.accountability.documents import new_information_answer

    answer = new_information_answer(
        acme.did, asked["id"], "Prompts are checked against the registry.", created=now()
    )
    path = f"/v1/information-requests/{asked['id']}/answers"
    _ok(reg.post(path, keys.sign_document(answer, acme, created=now())))
    return {"acme": acme, "other": other, "regulator": regulator, "ghost": ghost}


def read_log(url: str) -> tuple[str, list[bytes]]:
    """The registry's DID and every entry of its log, read from the tiles and checked: the checkpoint's
    signature, the entries' Merkle root against it, and each entry's signature."""
    info = httpx.get(f"{url}/v1/registry").json()
    verifier = parse_verifier_key(info["log"]["note_verifier_key"])
    checkpoint = Checkpoint.parse(open_note(httpx.get(f"{url}/log/checkpoint").text, [verifier]).text)
    entries: list[bytes] = []
    for tile in range(-(-checkpoint.size // WIDTH)):
        width = min(WIDTH, checkpoint.size - tile * WIDTH)
        answer = httpx.get(url + bundle_path(tile, width))
        assert answer.status_code == 200
        entries += parse_bundle(answer.content, width)
    assert (
        merkle.root_from_leaf_hashes([merkle.leaf_hash(entry) for entry in entries]) == checkpoint.root_hash
    )
    did_documents: dict[str, bytes] = {}
    for index, entry in enumerate(entries):
        check_entry_signature(index, entry, did_documents, info["did"])
    return str(info["did"]), entries


def same(served: Any, computed: Any) -> None:
    assert json.loads(json.dumps(computed)) == served


def test_the_records_and_ranking_recompute_from_the_tiles(reg: Registry, tmp_path: Path) -> None:
    parties = build_log(reg, tmp_path)
    acme, other = parties["acme"], parties["other"]
    assert isinstance(acme, keys.SigningKey) and isinstance(other, keys.SigningKey)
    later = (now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    served: dict[str, Any] = {
        "overdue": reg.get("/v1/accountability/operators").json(),
        "repeats": reg.get("/v1/accountability/operators", sort="repeats", at=later).json(),
    }
    dids = [acme.did, other.did, str(parties["ghost"])]
    records = {
        did: reg.get(f"/v1/accountability/operators/{quote(did, safe=':')}", at=later).json() for did in dids
    }
    directory = reg.get(f"/v1/operators/{acme.did}").json()["record"]
    csv_served = {
        "ranking": reg.get("/v1/accountability/operators", sort="repeats", at=later, format="csv").text,
        "notices": reg.get(f"/v1/accountability/operators/{acme.did}", at=later, format="csv").text,
    }

    registry_did, entries = read_log(reg.url)
    assert {answer["tree_size"] for answer in [*served.values(), *records.values(), directory]} == {
        len(entries)
    }
    replay = replay_log(entries, registry_did)
    assert replay.refused == []  # the registry logged nothing its own rules refuse
    for sort, answer in served.items():
        moment = parse_timestamp(answer["computed_at"])
        same(answer, ranking(replay, now=moment, sort=sort))  # type: ignore[arg-type]
    for did, record in records.items():
        same(record, operator_record(replay, did, now=parse_timestamp(later)))
    same(directory, operator_record(replay, acme.did, now=parse_timestamp(directory["computed_at"])))
    assert csv_served["ranking"] == ranking_csv(ranking(replay, now=parse_timestamp(later), sort="repeats"))
    assert csv_served["notices"] == notices_csv(records[acme.did])

    # the people who filed are in none of it: their personal data never entered the log
    exported = json.dumps([served, records, directory], ensure_ascii=False) + "".join(csv_served.values())
    assert (
        "aoi@example.jp" not in exported and "1-1 Chiyoda" not in exported and "/Aoi Tanaka/" not in exported
    )

    # and what they say, in a few words
    record = records[acme.did]
    assert record["identity"]["authority"] == "domain-verified" and record["identity"]["verified_hosts"] == [
        ".acme.example"
    ]
    assert record["notices"]["received"] == 4 and record["notices"]["actioned"] == 3
    assert record["notices"]["rejected"] == 1 and record["notices"]["counter_noticed"] == 1
    assert [r["statement"] for r in record["rejections"]] == [
        "The output is an original composition, not a copy."
    ]
    kinds = [finding["kind"] for finding in record["repeat_findings"]]
    assert kinds == ["same-subject-after-action", "several-upheld-for-model"] and record["repeats"] == 3
    assert [d["current"] for d in record["disclosures"]] == [False, True]
    assert record["disclosures"][1]["manifests"][0]["submitted"] is True
    assert [r["status"] for r in record["information_requests"]] == ["answered"]
    assert records[other.did]["information_requests"][0]["status"] == "overdue"
    assert records[str(parties["ghost"])]["identity"]["registered"] is False
    top = served["repeats"]["operators"][0]
    assert (top["operator"], top["repeats"]) == (acme.did, 3)
    by_overdue = [row["operator"] for row in served["overdue"]["operators"]]
    assert set(by_overdue) == set(dids)
