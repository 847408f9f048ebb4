"""The README's authority walkthroughs, run as written (`tests/crawler_client/readme.py`) against a
real `kotowari serve` process: an agency under its members' mandates, an AI developer filtering
with `--min-authority domain-verified`, a creator rotating and recovering a key.

The registry checks domains over real HTTPS on 127.0.0.1, against the test certificate authority
and server of `tests/registry/authority/conftest.py`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import trustme

import keys
from crawler_client.cli import main
from crawler_client.client import Client
from crawler_client.snapshot import Snapshot
from registry.authority.documents import new_attestation
from registry.authority.levels import LEVELS
from registry.documents import format_timestamp
from tests.conftest import ServerProcess, start_server, stop_server
from tests.crawler_client.readme import Shell, blocks
from tests.factories import signed_claim
from tests.registry.authority import conftest as https_fixtures
from tests.registry.authority.conftest import HttpsServer, Route

# The test CA and HTTPS server of the authority tests, as fixtures of this module too.
ca = https_fixtures.ca
_https_server = https_fixtures._https_server
https_server = https_fixtures.https_server


DIGEST = "5e" * 32
CRAWL = [
    "https://publisher.example/books/1.png",
    "https://www.publisher.example/books/2.png",
    "https://example.com/gallery/a.png",
    "https://example.org/",
]


@pytest.fixture(scope="module")
def registry(
    tmp_path_factory: pytest.TempPathFactory, ca: trustme.CA, _https_server: HttpsServer
) -> Iterator[ServerProcess]:
    """`kotowari serve`, checking domains against the test HTTPS server (publisher.example)."""
    folder = tmp_path_factory.mktemp("registry")
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    settings = {
        "KOTOWARI_FETCH_CA_FILE": str(ca_file),
        "KOTOWARI_FETCH_HTTPS_PORT": str(_https_server.port),
        "KOTOWARI_FETCH_RESOLVE": "publisher.example=127.0.0.1,alice.example=127.0.0.1",
        "KOTOWARI_FETCH_ALLOW_PRIVATE": "true",
    }
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        running = start_server(folder / "data")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture
def shell(registry: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Shell:
    monkeypatch.chdir(tmp_path)
    return Shell(registry.url)


def test_an_agency_filing_under_its_members_mandates(shell: Shell, registry: ServerProcess):
    filing, revoking = blocks("An agency filing under its members' mandates")
    ran = shell.run(filing)
    assert [r.status for r in ran] == [0, 0, 0, 0, 0, 1, 0]
    ayaka, agency, mandate = (shell.variables[name] for name in ("AYAKA", "AGENCY", "MANDATE"))
    claim = json.loads(Path("ayaka.json").read_text())
    assert claim["on_behalf_of"] == {
        "principal": "Ayaka Sato (佐藤彩花)",
        "authority": "Exclusive management agreement, 2024-04-01",
        "did": ayaka,
        "mandate": mandate,
    }
    claim_id = ran[4].out.strip()
    checked = ran[5].out.splitlines()
    assert checked[0].startswith("n ") and claim_id[:16] in checked[1] and agency in checked[1]
    assert checked[1].endswith("reserves train-ai for url voices.example.com/ayaka/ [mandated]")
    shown = ran[6].out
    assert f"mandate {mandate} from {ayaka} to {agency} (kinds voice, uses train-ai/generate" in shown

    ran = shell.run(revoking)
    assert [r.status for r in ran] == [0, 1, 0]
    assert f"revoked mandate {mandate}" in ran[0].out
    lines = ran[1].out.splitlines()
    assert lines[0].startswith("n ") and lines[1].endswith("[agent-asserted]")
    assert lines[2].startswith(
        f"         note on claim {claim_id[:16]}…: mandate {mandate[:16]}… revoked by the"
    )
    assert ran[2].out.startswith("unknown ")
    assert f"claim {claim_id[:16]}… is agent-asserted, below mandated: not counted" in ran[2].out

    with Client(registry.url) as client:  # the JSON answer has everything, and it is signed
        answer = client.check(
            [{"scheme": "url", "value": "https://voices.example.com/ayaka/demo.wav"}], purpose="train-ai"
        )
    (match,) = answer.items[0]["matches"]
    assert match["authority"] == ["agent-asserted"] and "revoked" in match["authority_notes"][0]


@pytest.fixture
def verified_publisher(
    shell: Shell, registry: ServerProcess, https_server: HttpsServer, tmp_path: Path
) -> dict[str, str]:
    """A publisher that verified publisher.example (through `kotowari domain verify`) and reserved its
    books; a self-asserted claim over example.com/gallery/; a crawl to filter."""
    publisher = keys.SigningKey.generate()
    https_server.route(
        "publisher.example",
        "/.well-known/kotowari-did",
        Route(b"# Kotowari\n" + publisher.did.encode() + b"\n", headers={"Content-Type": "text/plain"}),
    )
    ran = shell._command(
        f"kotowari domain verify --did {publisher.did} --host publisher.example --registry {registry.url}"
    )
    assert ran.status == 0, str(ran)
    assert ran.out.startswith(f"verified: {publisher.did} controls publisher.example and every host below it")
    assert "the registry fetched https://publisher.example/.well-known/kotowari-did at " in ran.out
    creator, union, actor, now = (*(keys.SigningKey.generate() for _ in range(3)), datetime.now(UTC))
    https_server.route("alice.example", "/.well-known/kotowari-did", Route(union.did.encode()))
    with Client(registry.url) as client:
        books = client.file_claim(
            signed_claim(publisher, now, urls=("https://publisher.example/books/",), deny=("train-ai",))
        )["id"]
        gallery = client.file_claim(
            signed_claim(creator, now, urls=("https://example.com/gallery/",), deny=("train-ai",))
        )["id"]
        # an organisation verified through the SDK attests a member, whose file claim is then attested
        checked = client.verify_domain(union.did, "ALICE.example.", "well-known")
        assert checked["verification"]["host"] == "alice.example"
        member = new_attestation(union.did, actor.did, "member", created=now)
        client.file_authority(keys.sign_document(member, union, created=now))
        client.file_claim(signed_claim(actor, now, urls=(), sha256=(DIGEST,), deny=("train-ai",)))
    pq.write_table(pa.table({"url": CRAWL}), tmp_path / "crawl.parquet")
    return {"books": books, "gallery": gallery, "publisher": publisher.did}


def test_an_ai_developer_filtering_with_min_authority_domain_verified(
    shell: Shell, registry: ServerProcess, verified_publisher: dict[str, str], tmp_path: Path
):
    (block,) = blocks("An AI developer filtering with --min-authority domain-verified")
    ran = shell.run(block)
    assert [r.status for r in ran] == [0, 0, 1, 0, 0, 1]
    checked = ran[2].out.splitlines()
    assert checked[0] == "n        url https://publisher.example/books/1.png"
    assert checked[1].startswith(
        f"         claim {verified_publisher['books'][:16]}… by {verified_publisher['publisher']}"
    )
    assert checked[1].endswith("for url publisher.example/books/ [self-asserted, domain-verified]")
    assert checked[2] == "unknown  url https://example.com/gallery/a.png"
    gallery = verified_publisher["gallery"][:16]
    assert checked[3] == f"         claim {gallery}… is self-asserted, below domain-verified: not counted"

    kept = pq.read_table(tmp_path / "crawl.filtered.parquet").column("url").to_pylist()
    assert kept == ["https://example.com/gallery/a.png", "https://example.org/"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["min_authority"] == "domain-verified"
    removed = manifest["removed"]["rows"]
    assert [row["value"] for row in removed] == [
        "https://publisher.example/books/1.png",
        "https://www.publisher.example/books/2.png",
    ]
    (listed,) = removed[0]["claims"]
    assert listed == {
        "claim": verified_publisher["books"],
        "claimant": verified_publisher["publisher"],
        "kind": "work",
        "uses": {"train-ai": "n"},
        "authority": ["self-asserted", "domain-verified"],
        "counted": True,
    }
    assert "counting claims of at least domain-verified authority" in ran[4].out

    answer = json.loads(ran[5].out)
    assert answer["type"] == "CheckAnswer" and answer["min_authority"] == "domain-verified"
    (match,) = answer["items"][0]["matches"]
    assert match["authority"] == ["self-asserted", "domain-verified"] and match["counted"] is True
    (link,) = match["chain"]
    assert link["authority"] == "domain-verified" and link["method"] == "well-known"
    assert link["covers"] == [".publisher.example"]
    (tmp_path / "answer.json").write_text(ran[5].out)
    assert main(["verify", str(tmp_path / "answer.json")]) == 0  # the signed answer verifies offline

    # offline equals online, item by item, under every minimum (the snapshot pulled above is current)
    queries = [{"scheme": "url", "value": row} for row in CRAWL] + [{"scheme": "sha256", "value": DIGEST}]
    at = datetime.now(UTC).replace(microsecond=0)
    seen: set[str] = set()
    with Snapshot.open(tmp_path / "claims.snapshot") as snapshot, Client(registry.url) as client:
        for minimum in (None, *LEVELS):
            online = client.check(queries, purpose="train-ai", at=format_timestamp(at), min_authority=minimum)
            offline = snapshot.check(queries, purpose="train-ai", at=at, min_authority=minimum)
            assert offline["checkpoint"] == online.answers[0]["checkpoint"]
            assert offline["items"] == online.items, minimum
            seen |= {level for item in online.items for m in item["matches"] for level in m["authority"]}
    assert seen == {"self-asserted", "attested", "domain-verified"}


def test_a_creator_rotating_and_recovering_a_key(shell: Shell, registry: ServerProcess, tmp_path: Path):
    rotating, recovering = blocks("A creator rotating and recovering a key")
    ran = shell.run(rotating)
    assert [r.status for r in ran] == [0, 0, 0, 0, 0, 0, 2]
    old = keys.read_key_file(tmp_path / "me.key").did
    me = shell.variables["ME"]
    assert me == keys.read_key_file(tmp_path / "me-2027.key").did != old
    assert (tmp_path / "me-2027.key").stat().st_mode & 0o777 == 0o600
    assert f"{old} is retired: {me} now acts for its claims and notices" in ran[3].err
    assert ran[4].out.strip() == f"withdrew {shell.variables['CLAIM']}"
    refused = ran[6].err.strip().splitlines()
    assert len(refused) == 1 and "409" in refused[0] and f"{old} was replaced by {me}" in refused[0]
    status = httpx.get(f"{registry.url}/v1/claims/{shell.variables['CLAIM']}").json()
    assert status["status"] == "withdrawn"

    ran = shell.run(recovering)
    assert [r.status for r in ran] == [0, 0, 0, 0, 0, 2]
    request = shell.variables["REQUEST"]
    assert len(request) == 64
    assert "the waiting period ends " in ran[2].err and f"until then {me} can veto it" in ran[2].err
    assert f"open recovery {request} by {shell.variables['HELPER']}" in ran[3].out
    assert f"vetoed recovery {request}" in ran[4].out
    completed = ran[5].err.strip().splitlines()
    assert len(completed) == 1 and "409" in completed[0] and "vetoed" in completed[0]
    with Client(registry.url) as client:
        described = client.authority(me)
    assert described["retired"] is False and "open_request" not in described["recovery"]


def test_a_publisher_verifying_its_domain(shell: Shell, https_server: HttpsServer, tmp_path: Path):
    make_key, verify_and_file = blocks("A publisher verifying its domain")
    (made,) = shell.run(make_key)
    publisher = shell.variables["PUBLISHER"]
    assert made.status == 0 and publisher.startswith("did:key:z6Mk")
    https_server.route(
        "publisher.example", "/.well-known/kotowari-did", Route(f"# ours\n{publisher}\n".encode())
    )
    ran = shell.run(verify_and_file)
    assert [r.status for r in ran] == [0, 0, 0, 1], [str(r) for r in ran]
    assert ran[0].out.startswith(f"verified: {publisher} controls publisher.example and every host below it")
    claim_id = ran[2].out.strip()
    lines = ran[3].out.splitlines()
    assert lines[0] == "n        url https://www.publisher.example/books/1.epub"
    # (other tests of this module's registry may hold claims over the same books: find ours)
    (ours,) = [line for line in lines if line.startswith(f"         claim {claim_id[:16]}… by {publisher}")]
    assert ours.endswith("for url publisher.example/books/ [self-asserted, domain-verified]")
