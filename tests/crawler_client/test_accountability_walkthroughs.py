"""The README's "As an AI operator: disclose, prove, answer" and "As a regulator or journalist",
run as written (`tests/crawler_client/readme.py`) against a real `kotowari serve`, whose data
directory is `kotowari-data` in the working directory (the administrator's command names it), and
which checks the authority's domain over real HTTPS on 127.0.0.1 (`tests/accountability_helpers`).

The two sections interleave as they would in life: the operator discloses and proves, the authority
is designated and asks, the operator answers, and then anyone reads the records."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import keys
from crawler_client.client import Client
from tests.accountability_helpers import Registry, registry
from tests.crawler_client.readme import Shell, blocks
from tests.factories import signed_claim
from tests.registry.authority.conftest import Route

CRAWL = ["https://example.com/gallery/a.png", "https://example.org/b.png", "https://example.org/c.png"]


@pytest.fixture
def reg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    monkeypatch.chdir(tmp_path)
    with registry(tmp_path / "kotowari-data", None) as running:
        yield running


def test_an_operator_discloses_proves_and_answers_and_anyone_reads_its_record(
    reg: Registry, tmp_path: Path
) -> None:
    creator = keys.SigningKey.generate()
    with Client(reg.url) as client:
        client.file_claim(signed_claim(creator, datetime.now(UTC), urls=("https://example.com/gallery/",)))
    pq.write_table(pa.table({"url": CRAWL}), tmp_path / "crawl.parquet")
    shell = Shell(reg.url)
    (disclose,) = blocks("Disclosing a model and proving its training data")
    (answer,) = blocks("Answering an authority")
    make_key, designate, read = blocks("As a regulator or journalist")

    ran = shell.run(disclose)
    assert [r.status for r in ran] == [0] * 7, [str(r) for r in ran]
    acme = shell.variables["ACME"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    sha256 = ran[4].out.strip()
    assert sha256 == keys.document_id(manifest)
    assert (
        "manifest verified and recorded as log entry" in ran[4].err
        and "a checkpoint of this log" in ran[4].err
    )
    disclosure_id = ran[6].out.strip()
    document = json.loads((tmp_path / "disclosure.json").read_text())
    assert keys.document_id(document) == disclosure_id
    assert document["training_data"]["manifests"] == [
        {"id": sha256, "snapshot": {"tree_size": 2, "root_hash": manifest["snapshot"]["root_hash"]}}
    ]
    assert document["principle_code"]["2-disclosure-to-rights-holders"]["answer"] == "explain"
    assert document["safeguards"][0]["against"]["mode"] == "snapshot"

    (made,) = shell.run(make_key)
    regulator = shell.variables["REGULATOR"]
    assert made.status == 0 and regulator.startswith("did:key:z6Mk")
    reg.https.route("regulator.example", "/.well-known/kotowari-did", Route(f"{regulator}\n".encode()))
    ran = shell.run(designate)
    assert [r.status for r in ran] == [0, 0, 0, 0], [str(r) for r in ran]
    assert f"designated {regulator} (Example Regulator, regulator.example) as an authority" in ran[1].out
    request_id = shell.variables["REQUEST"]

    ran = shell.run(answer)
    assert [r.status for r in ran] == [0, 0], [str(r) for r in ran]
    assert f"request {request_id} from Example Regulator, deadline" in ran[0].out and ran[
        0
    ].out.rstrip().endswith("open")
    assert f"answered request {request_id} before its deadline" in ran[1].err

    ran = shell.run(read)
    assert [r.status for r in ran] == [0] * 6, [str(r) for r in ran]
    assert f"1. {acme}  Acme AI [self-asserted]" in ran[0].out
    with open(tmp_path / "operators.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["operator"] == acme and rows[0]["current_disclosures"] == "1"
    record_text = ran[2].out
    assert "disclosures: 1 current, 0 superseded" in record_text
    assert (
        "1 of 1 manifests verified at a checkpoint of this log; explains 2-disclosure-to-rights-holders"
        in record_text
    )
    assert "information requests: 1 (1 answered on time" in record_text
    assert (tmp_path / "acme-notices.csv").read_text().startswith("notice,log_index,notifier,filed_at")
    assert "answer at " in ran[4].out and "PDQ and ISCC" in ran[4].out
    assert "consistent" in ran[5].out

    served = httpx.get(f"{reg.url}/v1/accountability/operators/{acme}").json()
    (disclosed,) = served["disclosures"]
    assert disclosed["id"] == disclosure_id and disclosed["manifests"][0]["submitted"] is True
    assert disclosed["safeguards"][0]["checkpoint_in_log"] is True
    assert served["information_requests"][0]["status"] == "answered"
