"""`kotowari log audit` against a real `kotowari serve`, honest and lying.

The lying registries are the real one behind `Proxy`, an in-test httpx transport that rewrites one
kind of answer: a claim's status, a check answer (re-signed with the registry's own key from its
data directory, so the signature holds but the content is not what the log implies), an entry
bundle's bytes, a hash tile, a checkpoint signed by another key, a rolled-back or forked
checkpoint. Each must be named by the audit. A database edited while the registry was stopped
makes the registry refuse to serve (503 integrity-failure), which the audit reports too.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from crawler_client.audit import AuditError, Auditor, AuditReport
from crawler_client.audit.tiles import parse_bundle
from crawler_client.cli import main
from crawler_client.core import NO_RETRIES
from keys import merkle
from keys.note import Checkpoint, sign_note
from registry.authority.documents import new_mandate, new_rotation
from registry.identity import load_or_create_registry_key, note_signer
from tests.conftest import ServerProcess, free_port, start_server, stop_server
from tests.factories import body, signed_claim, signed_withdrawal
from tests.notice_factories import dispute

Alter = Callable[[httpx.Request, httpx.Response], httpx.Response | None]


class Proxy(httpx.BaseTransport):
    """Forwards to the real registry; `alter` may replace an answer; `before` runs before a request
    is forwarded. Records every request as "METHOD /path"."""

    def __init__(self, alter: Alter | None = None, before: Callable[[httpx.Request], None] | None = None):
        self.inner = httpx.HTTPTransport()
        self.alter = alter
        self.before = before
        self.requests: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if self.before is not None:
            self.before(request)
        response = self.inner.handle_request(request)
        response.read()
        changed = self.alter(request, response) if self.alter else None
        return changed if changed is not None else response

    def paths(self, prefix: str) -> list[str]:
        return [r.split(" ", 1)[1] for r in self.requests if r.split(" ", 1)[1].startswith(prefix)]


def answer(content: bytes, status: int = 200, media: str = "application/octet-stream") -> httpx.Response:
    return httpx.Response(status, headers={"content-type": media}, content=content)


def json_answer(value: Any, status: int = 200) -> httpx.Response:
    media = "application/problem+json" if status >= 400 else "application/json"
    return answer(json.dumps(value).encode(), status, media)


@dataclass
class Filed:
    server: ServerProcess
    ids: dict[str, str]
    key: keys.SigningKey
    origin: str

    def audit(self, state: Path, alter: Alter | None = None, **options: Any) -> tuple[AuditReport, Proxy]:
        proxy = Proxy(alter, options.pop("before", None))
        with Auditor(self.server.url, state, transport=proxy, retry=NO_RETRIES, **options) as auditor:
            return auditor.run(), proxy

    def entries(self) -> list[bytes]:
        size = Checkpoint.parse(
            httpx.get(f"{self.server.url}/log/checkpoint").text.split("\n\n")[0] + "\n"
        ).size
        bundle = httpx.get(f"{self.server.url}/log/tile/entries/000.p/{size}").content
        return parse_bundle(bundle, size)

    def checkpoint(self, size: int, root: bytes) -> str:
        return sign_note(Checkpoint(self.origin, size, root).to_text(), [note_signer(self.key, self.origin)])


def post(url: str, path: str, document: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(url + path, content=body(document))
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def populate(url: str) -> dict[str, str]:
    """Claims (one withdrawn, two disputing each other), a mandated agency claim and a key rotation."""
    now = datetime.now(UTC).replace(microsecond=0)
    alice, bob, carol, carol2 = (keys.SigningKey.generate() for _ in range(4))
    principal, agency = keys.SigningKey.generate(), keys.SigningKey.generate()
    ids: dict[str, str] = {}
    gallery = signed_claim(
        alice,
        now,
        urls=("https://example.com/gallery/",),
        identifiers=[{"scheme": "name", "value": "山田花子"}],
    )
    ids["gallery"] = post(url, "/v1/claims", gallery)["id"]
    ids["gone"] = post(url, "/v1/claims", signed_claim(alice, now, urls=("https://example.com/gone/",)))["id"]
    copy = signed_claim(bob, now, urls=("https://example.com/gallery/",), sha256=("ab" * 32,))
    ids["copy"] = post(url, "/v1/claims", copy)["id"]
    post(url, f"/v1/claims/{ids['gone']}/withdraw", signed_withdrawal(alice, ids["gone"], now))
    post(url, "/v1/disputes", dispute(alice, ids["gallery"], ids["copy"], now))
    mandate = keys.sign_document(
        new_mandate(principal.did, agency.did, created=now, kinds=["voice"], uses=["train-ai", "generate"]),
        principal,
        created=now,
    )
    mandate_id = post(url, "/v1/authority", mandate)["id"]
    from registry.documents import new_claim

    behalf = {
        "principal": "佐藤彩花",
        "authority": "management agreement",
        "did": principal.did,
        "mandate": mandate_id,
    }
    voice = new_claim(
        agency.did, "voice", [("url", "https://voices.example.org/ayaka/")], {"train-ai": "n"}, created=now,
        on_behalf_of=behalf,
    )  # fmt: skip
    ids["voice"] = post(url, "/v1/claims", keys.sign_document(voice, agency, created=now))["id"]
    ids["carol"] = post(url, "/v1/claims", signed_claim(carol, now, urls=("https://carol.example.net/",)))[
        "id"
    ]
    post(
        url,
        "/v1/authority",
        keys.sign_document(new_rotation(carol.did, carol2.did, created=now), carol, created=now),
    )
    return ids


@pytest.fixture(scope="module")
def filed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filed]:
    """One registry (SQLite) shared by this module's tests: they lie about it, never change it."""
    data_dir = tmp_path_factory.mktemp("audited") / "data"
    server = start_server(data_dir)
    try:
        ids = populate(server.url)
        key, _ = load_or_create_registry_key(data_dir)
        origin = httpx.get(f"{server.url}/v1/registry").json()["log"]["origin"]
        yield Filed(server, ids, key, origin)
    finally:
        stop_server(server)


def messages(report: AuditReport, kind: str | None = None) -> list[str]:
    return [d.message for d in report.discrepancies if kind is None or d.kind == kind]


def resigned(
    response: httpx.Response, key: keys.SigningKey, edit: Callable[[dict[str, Any]], None]
) -> httpx.Response:
    document = response.json()
    del document["proof"]
    edit(document)
    return json_answer(keys.sign_document(document, key, created=datetime.now(UTC)))


# ------------------------------------------------------------------ an honest registry


def test_a_clean_registry_audits_consistent_in_one_line(
    filed: Filed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["log", "audit", "--registry", filed.server.url, "--state", str(tmp_path / "state")])
    out, err = capsys.readouterr()
    assert status == 0, out
    assert out == "audited 9 entries, 5 claims, 7 answers: consistent\n"
    assert err == ""  # progress only on a terminal

    assert (
        main(["log", "audit", "--registry", filed.server.url, "--state", str(tmp_path / "state"), "--json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["consistent"] and report["entries"] == 9 and report["previous_size"] == 9
    assert report["bundles_fetched"] == 0 and report["tiles_fetched"] == 0  # nothing new to mirror
    assert report["signatures_checked"] == 0  # verified by the first run
    assert report["check_answers"] == 1 and report["items_checked"] == 7


def test_progress_is_shown_on_a_terminal(
    filed: Filed, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["log", "audit", "--registry", filed.server.url, "--state", str(tmp_path / "state")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("audited 9 entries")
    assert "\rmirror: 1/1 bundles" in err and "claims: 5/5 claims" in err and err.endswith("\r")


def test_an_empty_registry_audits_and_pins_its_identity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(tmp_path / "data")
    try:
        assert main(["log", "audit", "--registry", server.url, "--state", str(tmp_path / "state")]) == 0
    finally:
        stop_server(server)
    assert capsys.readouterr().out == "audited 0 entries, 0 claims, 0 answers: consistent\n"
    pinned = json.loads((tmp_path / "state" / "state.json").read_text())
    assert pinned["size"] == 0 and pinned["registry"].startswith("did:key:") and pinned["note_verifier_key"]


def test_the_replay_covers_withdrawals_disputes_mandates_and_rotations(filed: Filed, tmp_path: Path) -> None:
    with Auditor(filed.server.url, tmp_path / "state") as auditor:
        report = auditor.run()
        index = auditor.replay.index  # type: ignore[union-attr]
    assert report.consistent, report.lines()
    assert filed.ids["gone"] in index.withdrawals
    assert {filed.ids["gallery"], filed.ids["copy"]} <= index.disputed
    authority = index.authority_of_claim(filed.ids["voice"])
    assert authority is not None and [g.level for g in authority.grants] == ["mandated"]
    carol = json.loads(httpx.get(f"{filed.server.url}/v1/claims/{filed.ids['carol']}").text)
    assert carol["acting_claimant"] != carol["document"]["claimant"]  # compared too, and equal


def test_a_sample_compares_only_so_many_claims(filed: Filed, tmp_path: Path) -> None:
    import random

    report, proxy = filed.audit(tmp_path / "state", sample=2, rng=random.Random(7))
    assert report.consistent and report.claims == 5 and report.claims_compared == 2
    assert len(proxy.paths("/v1/claims/")) == 2
    assert "random sample of 2 of the 5 claims" in report.notes[0]
    report, proxy = filed.audit(tmp_path / "none", sample=0)
    assert report.consistent and report.claims_compared == 0 and not proxy.paths("/v1/check")


# ------------------------------------------------------------------ lying about claims and answers


def test_a_withdrawn_claim_served_as_active_is_named(filed: Filed, tmp_path: Path) -> None:
    gone = filed.ids["gone"]

    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path != f"/v1/claims/{gone}":
            return None
        served = response.json()
        served["status"] = "active"
        del served["withdrawal"]
        return json_answer(served)

    report, _ = filed.audit(tmp_path / "state", alter)
    assert messages(report) == [
        f"claim {gone[:16]}… (log entry 1): the registry says active, the log says withdrawn",
        f"claim {gone[:16]}… (log entry 1): the registry does not show its withdrawal (log entry 3)",
    ]


def test_a_claim_answered_404_altered_or_with_other_authority_is_named(filed: Filed, tmp_path: Path) -> None:
    ids = filed.ids

    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        path = request.url.path
        if path == f"/v1/claims/{ids['copy']}":
            return json_answer({"type": "https://kotowari.example/problems/not-found", "status": 404}, 404)
        if path == f"/v1/claims/{ids['carol']}":
            served = response.json()
            served["document"]["uses"]["train-ai"] = "y"
            return json_answer(served)
        if path == f"/v1/claims/{ids['voice']}":
            served = response.json()
            served["authority"].pop("grants")
            return json_answer(served)
        return None

    report, _ = filed.audit(tmp_path / "state", alter)
    found = messages(report, "claim")
    assert f"claim {ids['copy'][:16]}… is log entry 2, but the registry answers 404 for it" in found
    assert any(f"{ids['carol'][:16]}…" in m and "not the logged one" in m for m in found)
    assert any(f"{ids['voice'][:16]}…" in m and "the registry gives authority" in m for m in found)
    assert len(found) == 3


def test_a_check_answer_re_signed_by_the_registry_but_not_what_the_log_implies_is_named(
    filed: Filed, tmp_path: Path
) -> None:
    def flip(answer: dict[str, Any]) -> None:
        item = next(i for i in answer["items"] if i["decisions"]["train-ai"] == "n")
        item["decisions"]["train-ai"] = "y"

    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        return resigned(response, filed.key, flip) if request.url.path == "/v1/check" else None

    report, _ = filed.audit(tmp_path / "state", alter)
    [found] = messages(report)
    assert found.startswith("check of url https://example.com/gallery/ (claim ")
    assert found.endswith("the registry answers train-ai=y (log: n)")


def test_a_check_answer_with_other_authority_or_a_broken_signature_is_named(
    filed: Filed, tmp_path: Path
) -> None:
    def weaker(answer: dict[str, Any]) -> None:
        for item in answer["items"]:
            for match in item["matches"]:
                if match["authority"] == ["mandated"]:
                    match["authority"] = ["agent-asserted"]

    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        return resigned(response, filed.key, weaker) if request.url.path == "/v1/check" else None

    report, _ = filed.audit(tmp_path / "weaker", alter)
    [found] = messages(report)
    assert 'has authority ["agent-asserted"], the log implies ["mandated"]' in found

    def forged(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path != "/v1/check":
            return None
        served = response.json()
        served["items"][0]["decisions"]["search"] = "n"
        return json_answer(served)

    report, _ = filed.audit(tmp_path / "forged", forged)
    [found] = messages(report, "answer")
    assert "does not verify" in found


# ------------------------------------------------------------------ lying about the log


def test_rewritten_entry_bundle_bytes_are_named_entry_by_entry(filed: Filed, tmp_path: Path) -> None:
    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if not request.url.path.startswith("/log/tile/entries/000"):
            return None
        forged = response.content.replace(b'"train-ai":"n"', b'"train-ai":"y"', 1)
        assert forged != response.content
        return answer(forged)

    report, _ = filed.audit(tmp_path / "state", alter)
    assert not report.consistent and not report.complete
    assert "the entries served do not hash to the root of the signed checkpoint" in messages(
        report, "entries"
    )
    assert (
        "log entry 0: the bytes served do not hash to the leaf its hash tile and signed checkpoint commit to"
        in messages(report, "entries")
    )
    assert any(m.startswith("log entry 0: the Claim's signature does not verify") for m in messages(report))
    assert not (tmp_path / "state" / "state.json").exists()  # nothing unverified is kept


def test_a_hash_tile_that_disagrees_with_the_entries_is_named(filed: Filed, tmp_path: Path) -> None:
    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if not request.url.path.startswith("/log/tile/0/000"):
            return None
        data = bytearray(response.content)
        data[3 * 32] ^= 1
        return answer(bytes(data))

    report, _ = filed.audit(tmp_path / "state", alter)
    assert messages(report) == ["hash tile 0/000.p/9: hash 3 is not what the log entries imply"]


def test_garbage_and_truncated_tiles_are_input_errors(filed: Filed, tmp_path: Path) -> None:
    def garbage(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        return answer(b"garbage") if request.url.path.startswith("/log/tile/0/") else None

    with pytest.raises(AuditError, match=r"/log/tile/0/000.p/9 is 7 bytes, not the 288 of 9 hashes"):
        filed.audit(tmp_path / "garbage", garbage)

    def truncated(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        return answer(response.content[:-10]) if "/entries/" in request.url.path else None

    with pytest.raises(AuditError, match=r"/log/tile/entries/000.p/9 is truncated inside entry 8"):
        filed.audit(tmp_path / "truncated", truncated)


def test_a_checkpoint_signed_by_another_key_is_named(filed: Filed, tmp_path: Path) -> None:
    impostor = keys.SigningKey.generate()
    entries = filed.entries()
    root = merkle.root_from_leaf_hashes([merkle.leaf_hash(e) for e in entries])
    note = sign_note(
        Checkpoint(filed.origin, len(entries), root).to_text(), [note_signer(impostor, filed.origin)]
    )

    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        return answer(note.encode(), media="text/plain") if request.url.path == "/log/checkpoint" else None

    report, _ = filed.audit(tmp_path / "state", alter)
    [found] = messages(report, "checkpoint")
    assert (
        "not signed by the registry's note key pinned in" in found
        and "no signature from a known key" in found
    )


def test_a_rolled_back_and_a_forked_checkpoint_are_named(filed: Filed, tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert filed.audit(state)[0].consistent
    entries = filed.entries()
    leaves = [merkle.leaf_hash(e) for e in entries]
    older = filed.checkpoint(len(entries) - 2, merkle.root_from_leaf_hashes(leaves[:-2]))
    forked = filed.checkpoint(len(entries), bytes(32))

    def serving(note: str) -> Alter:
        def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
            return (
                answer(note.encode(), media="text/plain") if request.url.path == "/log/checkpoint" else None
            )

        return alter

    report, _ = filed.audit(state, serving(older))
    assert messages(report) == [
        f"the registry's checkpoint has {len(entries) - 2} entries, fewer than the {len(entries)} of the "
        "checkpoint audited before: the log was rolled back"
    ]
    report, _ = filed.audit(state, serving(forked))
    [found] = messages(report, "fork")
    assert found.startswith(f"the registry signed two different trees of size {len(entries)}: root AAAA")
    assert filed.audit(state)[0].consistent  # the mark was not moved by either


def test_a_checkpoint_lagging_behind_the_answers_is_not_a_discrepancy(filed: Filed, tmp_path: Path) -> None:
    """A registry with witnesses serves the newest cosigned checkpoint, which may lag its answers:
    what was computed beyond it is not compared, and said so."""
    leaves = [merkle.leaf_hash(e) for e in filed.entries()[:7]]
    lagging = filed.checkpoint(7, merkle.root_from_leaf_hashes(leaves))

    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        return answer(lagging.encode(), media="text/plain") if request.url.path == "/log/checkpoint" else None

    report, _ = filed.audit(tmp_path / "state", alter)
    assert report.consistent, report.lines()
    assert (report.entries, report.claims, report.items_checked) == (7, 4, 0)
    assert report.notes == [
        "3 claim lookups computed at a tree size beyond the checkpoint served (7) were not compared",
        "1 check answers computed at a tree size beyond the checkpoint served (7) were not compared",
        "operator records computed at tree size 9, not at the checkpoint audited (7), were not compared",
    ]


def test_a_changed_identity_is_named(filed: Filed, tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert filed.audit(state)[0].consistent
    other = keys.SigningKey.generate()

    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path != "/v1/registry":
            return None
        from keys.note import verifier_key

        info = response.json()
        signer = note_signer(other, info["log"]["origin"])
        info["did"] = other.did
        info["log"]["note_verifier_key"] = verifier_key(signer.name, signer.private_key.public_key())
        return json_answer(info)

    report, _ = filed.audit(state, alter)
    [found] = messages(report, "identity")
    assert found.startswith("the registry's identity changed: pinned in") and other.did in found


def test_witness_cosignatures_are_required_when_asked(filed: Filed, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from keys.cosignature import CosignatureSigner, cosign

    one, two = (CosignatureSigner(f"witness.example/w{n}", Ed25519PrivateKey.generate()) for n in (1, 2))

    def cosigned(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path != "/log/checkpoint":
            return None
        text = response.text.split("\n\n")[0] + "\n"
        return answer((response.text + cosign(text, one, int(time.time()))).encode(), media="text/plain")

    report, _ = filed.audit(tmp_path / "one", cosigned, witnesses=[one.verifier_key])
    assert report.consistent and report.witnessed_by == ["witness.example/w1"]
    report, _ = filed.audit(tmp_path / "two", cosigned, witnesses=[one.verifier_key, two.verifier_key])
    assert messages(report) == [
        "the checkpoint is not witnessed as required: "
        "1 of the required 2 witnesses cosigned (witness.example/w1)"
    ]
    report, _ = filed.audit(
        tmp_path / "either", cosigned, witnesses=[one.verifier_key, two.verifier_key], min_cosignatures=1
    )
    assert report.consistent
    assert (
        main(
            [
                "log",
                "audit",
                "--registry",
                filed.server.url,
                "--state",
                str(tmp_path / "bad"),
                "--witness",
                "x",
            ]
        )
        == 2
    )


def test_an_unreachable_registry_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    status = main(["log", "audit", "--registry", url, "--state", str(tmp_path / "state")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and f"cannot reach {url}" in err and "Traceback" not in err


def test_a_log_growing_during_the_audit_is_followed(filed: Filed, tmp_path: Path) -> None:
    """Runs last in this module: it files one more claim (between the claim lookups and the check)."""
    filed_once: list[str] = []

    def before(request: httpx.Request) -> None:
        if request.url.path == "/v1/check" and not filed_once:
            claim = signed_claim(
                keys.SigningKey.generate(), datetime.now(UTC), urls=("https://late.example/",)
            )
            filed_once.append(post(filed.server.url, "/v1/claims", claim)["id"])

    report, proxy = filed.audit(tmp_path / "state", before=before)
    assert report.consistent, report.lines()
    assert report.notes == ["the log grew from 9 to 10 entries during the audit"]
    assert report.entries == 10 and len(proxy.paths("/v1/check")) == 2  # asked again at the new size
    assert proxy.paths("/log/tile/entries/") == ["/log/tile/entries/000.p/9", "/log/tile/entries/000.p/10"]


def test_a_withdrawal_while_claims_are_looked_up_is_followed(filed: Filed, tmp_path: Path) -> None:
    """Runs after the growth test: a claim withdrawn while the lookups (fetched a few at a time,
    ahead of comparing) are under way is compared again at the larger replay, not reported."""
    key = keys.SigningKey.generate()
    claim_id = post(
        filed.server.url, "/v1/claims", signed_claim(key, datetime.now(UTC), urls=("https://w.example/",))
    )["id"]
    withdrawn: list[bool] = []

    def before(request: httpx.Request) -> None:
        if request.url.path == f"/v1/claims/{filed.ids['gallery']}" and not withdrawn:
            withdrawn.append(True)
            post(
                filed.server.url,
                f"/v1/claims/{claim_id}/withdraw",
                signed_withdrawal(key, claim_id, datetime.now(UTC)),
            )

    report, _ = filed.audit(tmp_path / "state", before=before)
    assert report.consistent, report.lines()
    assert report.entries == 12 and report.notes == ["the log grew from 11 to 12 entries during the audit"]


# ------------------------------------------------------------------ incremental, on both databases


def file_claims(url: str, count: int) -> None:
    key, now = keys.SigningKey.generate(), datetime.now(UTC).replace(microsecond=0)
    with httpx.Client(base_url=url) as client:
        for n in range(count):
            document = signed_claim(key, now, urls=(f"https://many.example/{n}/",))
            assert client.post("/v1/claims", content=body(document)).status_code == 201


def test_a_second_audit_fetches_only_what_is_new(server: ServerProcess, tmp_path: Path) -> None:
    file_claims(server.url, 258)
    state = tmp_path / "state"
    started = time.perf_counter()
    with Auditor(server.url, state, transport=(proxy := Proxy())) as auditor:
        report = auditor.run()
    assert report.consistent, report.lines()
    assert report.entries == 258 and report.claims == 258 and report.items_checked == 258
    assert report.entries_per_second > 0 and time.perf_counter() - started < 60
    assert proxy.paths("/log/tile/entries/") == ["/log/tile/entries/000", "/log/tile/entries/001.p/2"]
    assert proxy.paths("/log/tile/0/") == ["/log/tile/0/000", "/log/tile/0/001.p/2"]
    assert proxy.paths("/log/tile/1/") == ["/log/tile/1/000.p/1"]

    file_claims(server.url, 2)
    with Auditor(server.url, state, transport=(proxy := Proxy()), sample=0) as auditor:
        report = auditor.run()
    assert report.consistent, report.lines()
    assert (report.previous_size, report.entries, report.signatures_checked) == (258, 260, 2)
    assert proxy.paths("/log/tile/") == ["/log/tile/entries/001.p/4", "/log/tile/0/001.p/4"]
    assert proxy.paths("/v1/log/proof/consistency") == ["/v1/log/proof/consistency"]

    file_claims(server.url, 1)

    def bad_proof(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path != "/v1/log/proof/consistency":
            return None
        proof = response.json()
        proof["consistency_proof"][0] = base64.b64encode(bytes(32)).decode()
        return json_answer(proof)

    with Auditor(server.url, state, transport=Proxy(bad_proof), sample=0) as auditor:
        report = auditor.run()
    assert [d.kind for d in report.discrepancies] == ["proof"]
    assert "consistency proof from size 260 to 261 does not verify" in report.discrepancies[0].message
    with Auditor(server.url, state, transport=(proxy := Proxy()), sample=0) as auditor:
        report = auditor.run()  # the mark stayed at 260: the same entries are fetched again, and pass
    assert report.consistent and report.previous_size == 260
    assert proxy.paths("/log/tile/entries/") == ["/log/tile/entries/001.p/5"]


def start_refusing(data_dir: Path, db: str | None) -> ServerProcess:
    """`kotowari serve` on a database that does not verify: up once /healthz answers at all (503)."""
    import subprocess

    from tests.conftest import kotowari_command

    port = free_port()
    argv = [*kotowari_command(), "serve", "--port", str(port), "--data-dir", str(data_dir)]
    process = subprocess.Popen([*argv, *(["--db", db] if db else [])], stdout=subprocess.DEVNULL, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 503:
                return ServerProcess(url=url, data_dir=data_dir, process=process, banner="")
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the tampered registry did not start")


async def test_a_tampered_database_makes_the_audit_report_the_registry_s_own_failure(
    server: ServerProcess, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tortoise import Tortoise

    from api.app import MODELS
    from registry.models import LogEntry

    file_claims(server.url, 2)
    state = str(tmp_path / "state")
    assert main(["log", "audit", "--registry", server.url, "--state", state]) == 0
    stop_server(server)
    db = db_url if db_url.startswith("postgres") else f"sqlite://{server.data_dir / 'kotowari.sqlite3'}"
    await Tortoise.init(db_url=db, modules={"models": MODELS})
    try:
        entry = await LogEntry.get(index=0)
        forged = bytes(entry.entry).replace(b'"train-ai":"n"', b'"train-ai":"y"')
        await LogEntry.filter(index=0).update(entry=forged)
    finally:
        await Tortoise.close_connections()
    restarted = start_refusing(server.data_dir, None if db.startswith("sqlite") else db)
    try:
        capsys.readouterr()
        assert main(["log", "audit", "--registry", restarted.url, "--state", state]) == 1
        out = capsys.readouterr().out.splitlines()
    finally:
        stop_server(restarted)
    assert out[0].startswith("DISCREPANCY integrity: the registry reports that its own log does not verify: ")
    assert "log entry 0" in out[0]
    assert out[-1].startswith("INCONSISTENT: 1 discrepancies in ") and out[-1].endswith(
        "(audit stopped early)"
    )


async def test_a_did_web_author_is_verified_from_the_did_document_in_the_log(tmp_path: Path) -> None:
    """A did:web claim and the registry-signed DID document before it, appended while the registry
    was stopped (as intake would have logged them): the registry starts, and the audit agrees."""
    from tortoise import Tortoise

    from api.app import MODELS
    from registry.log import TransparencyLog
    from registry.models import ClaimRecord, UsedNonce
    from tests.crawler_client.test_audit_units import did_document, did_record, did_web_claim

    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    file_claims(server.url, 1)
    stop_server(server)
    key, _ = load_or_create_registry_key(data_dir)
    from registry.identity import default_origin

    origin = default_origin(key)
    alice, did = keys.SigningKey.generate(), "did:web:alice.example"
    record, claim = did_record(key, did, did_document(did, alice)), did_web_claim(did, alice)
    await Tortoise.init(db_url=f"sqlite://{data_dir / 'kotowari.sqlite3'}", modules={"models": MODELS})
    try:
        log, now = TransparencyLog(origin, note_signer(key, origin)), datetime.now(UTC)
        await log.append("DidDocumentRecord", keys.document_id(record), body(record), now)
        appended = await log.append("Claim", keys.document_id(claim), body(claim), now)
        await ClaimRecord.create(
            id=keys.document_id(claim), claimant=did, kind="work", document=body(claim).decode(),
            received_at=now, log_index=appended.index,
        )  # fmt: skip
        for document, author in ((record, key.did), (claim, did)):
            await UsedNonce.create(
                author=author, nonce=document["nonce"], document_id=keys.document_id(document)
            )
    finally:
        await Tortoise.close_connections()
    server = start_server(data_dir)
    try:
        report, _ = Filed(server, {}, key, origin).audit(tmp_path / "state")
    finally:
        stop_server(server)
    assert report.consistent, report.lines()
    assert (report.entries, report.claims, report.signatures_checked, report.items_checked) == (3, 2, 3, 2)


def test_the_readme_audit_runs_as_written(
    filed: Filed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.crawler_client.readme import Shell, blocks

    monkeypatch.chdir(tmp_path)
    (block,) = blocks("A full independent audit")
    (ran,) = Shell(filed.server.url).run(block)
    assert ran.status == 0, str(ran)
    assert re.fullmatch(r"audited \d+ entries, \d+ claims, \d+ answers: consistent\n", ran.out), ran.out
    assert (tmp_path / "audit" / "state.json").is_file()
