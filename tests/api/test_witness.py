"""The C2SP tlog-witness server: the spec's status codes, durable state, no rollback, and a real
`kotowari witness serve` process.

Published vectors (each block names its source):
- FiloSottile/torchwood `cmd/litewitness/testdata/litewitness.txt` and `sumdb.txt` (commit 341dc2f0,
  ISC licence): a litewitness session against a sigsum log (requests and the status each got) and
  a checkpoint signed by sum.golang.org.
- transparency-dev/witness `witness/witness_test.go` (commit 54dbcdd1, Apache-2.0): the "monkeys"
  log's checkpoints at sizes 5 and 8 and the consistency proof between them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from api.witness import (
    KEY_FILE,
    MAX_BODY_BYTES,
    STATE_FILE,
    WitnessStateError,
    create_witness_app,
)
from keys import merkle
from keys.cosignature import parse_cosignature_verifier_key, verify_cosignature, verify_cosigned
from keys.note import NoteSigner, parse_verifier_key, verifier_key
from tests.witness_helpers import MemoryLog, start_witness, stop_witness, witness_command

# ----------------------------------------------------------------------------- published vectors

# torchwood litewitness.txt: the sigsum log, its key (note.NewEd25519VerifierKey(origin, key)).
SIGSUM_ORIGIN = "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562"
SIGSUM_KEY = bytes.fromhex("ffdc2d4d98e4124d3feaf788c0c2f9abfd796083d1f0495437f302ec79cf100f")
SIGSUM_VKEY = verifier_key(SIGSUM_ORIGIN, Ed25519PublicKey.from_public_bytes(SIGSUM_KEY))
_O = SIGSUM_ORIGIN
SIGSUM_1 = (
    f"{_O}\n1\nKgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— {_O} "
    "UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeSPM3wfUQMFSzVnnNuWRTYrajXpNUbIQY=\n"
)
SIGSUM_3 = (
    f"{_O}\n3\nRcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=\n\n— {_O} "
    "UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJre36kezNobZs4SUUdrcawfAB8WVrx6go=\n"
)
SIGSUM_3_BAD_SIGNATURE = SIGSUM_3.replace("WVrx6go=", "WVrx6gx=")
SIGSUM_3_OTHER_ORIGIN = (
    f"{_O[:-1]}3\n3\nRcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=\n\n— {_O[:-1]}3 "
    "UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJre36kezNobZs4SUUdrcawfAB8WVrx6go=\n"
)
SIGSUM_5 = (
    f"{_O}\n5\nQrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=\n\n— {_O} "
    "UgIomw/EOJmWi0i1FQsOj+etB7F8IccFam/jgd6wzRns4QPVmyEZtdvl1U2KEmLOZ/ASRcWJi0tW90dJWAShei7sDww=\n"
)
PROOF_1_3 = "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nKgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
PROOF_1_3_BAD = "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nKgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABA=\n"
PROOF_1_5 = (
    "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n+fUDV+k970B4I3uKrqJM4aP1lloPZP8mvr2Z4wRw2LI=\n"
    "KgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
)
PROOF_3_5 = (
    "KgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nKgMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    "wgiIFdZfYNv6WU1OllBKsWnLYIS/DBMqt8Uh/S4OukE=\nKgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
)
# The session in litewitness.txt, in order: request body, status, what the body holds. litewitness
# (at that commit) answered 403 "unknown log" for an unknown origin; the spec now says 404.
LITEWITNESS_SESSION = [
    ("old 0\n\n" + SIGSUM_1, 200, None),
    (f"old 1\n{PROOF_1_3}\n" + SIGSUM_3_BAD_SIGNATURE, 403, None),
    (f"old 1\n{PROOF_1_3}\n" + SIGSUM_3_OTHER_ORIGIN, 404, None),
    ("old 1\n\n" + SIGSUM_3, 422, None),
    (f"old 1\n{PROOF_1_3_BAD}\n" + SIGSUM_3, 422, None),
    (f"old 1\n{PROOF_1_3}\n" + SIGSUM_3, 200, None),
    (f"old 1\n{PROOF_1_5}\n" + SIGSUM_5, 409, "3\n"),
    (f"old 3\n{PROOF_3_5}\n" + SIGSUM_5, 200, None),
    ("old 0\n\n" + SIGSUM_5, 409, "5\n"),
]

# torchwood sumdb.txt: a Go checksum database checkpoint; the key's name is not the origin.
SUMDB_ORIGIN = "go.sum database tree"
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_CHECKPOINT = (
    "go.sum database tree\n35225469\nvt5T6GaLCXvyHFl9VUvvItR43XZxfLgftEcTyO3eJCQ=\n\n"
    "— sum.golang.org Az3grpukl5AXaVfYkLiDGORx/DN2nlcS5kZHR5uYOBV2KA2HgXpD+gu9HHONebHLAyaKbbTM75QTtPydhKC"
    "ExixSfwQ=\n"
)

# transparency-dev/witness witness_test.go: the monkeys log.
MONKEYS_VKEY = "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT"
MONKEYS_5 = (
    "monkeys\n5\n41smjBUiAU70EtKlT6lIOIYtRTYxYXsDB+XHfcvu/BE=\n\n— monkeys "
    "202fftzGl3LVoqjXfwCFZZXs8I+5G22+Ek2K0AOyBuSJ/8/CZawNF+6fNlTKOCd622pbzJNkkJFWuw9DbicZCkEx9AY=\n"
)
MONKEYS_8 = (
    "monkeys\n8\nV8K9aklZ4EPB+RMOk1/8VsJUdFZR77GDtZUQq84vSbo=\n\n— monkeys "
    "202ffoUEboiQYpHzICeaFmoy3RNviHTpAxYrq/eO4QQVQMvu9UebKBMX2MJC76NLthZaKsnKbCA8GxrjePZhvDCH7Ag=\n"
)
MONKEYS_PROOF = "".join(
    base64.b64encode(bytes.fromhex(h)).decode() + "\n"
    for h in (
        "b9e1d62618f7fee8034e4c5010f727ab24d8e4705cb296c374bf2025a87a10d2",
        "aac66cd7a79ce4012d80762fe8eec3a77f22d1ca4145c3f4cee022e7efcd599d",
        "89d0f753f66a290c483b39cd5e9eafb12021293395fad3d4a2ad053cfbcfdc9e",
        "29e40bb79c966f4c6fe96aff6f30acfce5f3e8d84c02215175d6e018a5dee833",
    )
)

NOW = 1_700_000_000


# ----------------------------------------------------------------------------- fixtures


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://witness.test")  # type: ignore[arg-type]


@pytest.fixture
def log() -> MemoryLog:
    return MemoryLog()


@pytest.fixture
async def witness(tmp_path: Path, log: MemoryLog) -> AsyncIterator[httpx.AsyncClient]:
    app = create_witness_app(
        tmp_path / "w", {log.origin: log.verifier_key}, name="witness.test/w1", clock=lambda: NOW
    )
    async with _client(app) as client:
        yield client


async def _post(client: httpx.AsyncClient, body: str | bytes) -> httpx.Response:
    return await client.post("/add-checkpoint", content=body.encode() if isinstance(body, str) else body)


# ----------------------------------------------------------------------------- published sessions


async def test_litewitness_session_gets_the_same_answers(tmp_path: Path) -> None:
    app = create_witness_app(tmp_path, {SIGSUM_ORIGIN: SIGSUM_VKEY}, name="example.com/witness")
    vkey = parse_cosignature_verifier_key(app.state.witness.verifier_key)
    log_key = parse_verifier_key(SIGSUM_VKEY)
    async with _client(app) as client:
        for number, (body, status, expected) in enumerate(LITEWITNESS_SESSION, start=1):
            response = await _post(client, body)
            assert response.status_code == status, (number, response.text)
            if expected is not None:
                assert response.text == expected
                assert response.headers["content-type"] == "text/x.tlog.size"
            if status == 200:
                assert response.text.startswith("— example.com/witness ")
                note = body.split("\n\n", 1)[1] + response.text
                verify_cosignature(note, vkey)
                assert verify_cosigned(note, log_key, [vkey], 1) == ["example.com/witness"]
    assert app.state.witness.latest(SIGSUM_ORIGIN).size == 5


async def test_sumdb_checkpoint_is_cosigned_though_its_key_is_not_named_after_the_origin(
    tmp_path: Path,
) -> None:
    app = create_witness_app(tmp_path, {SUMDB_ORIGIN: SUMDB_VKEY}, name="example.com/witness")
    async with _client(app) as client:
        response = await _post(client, "old 0\n\n" + SUMDB_CHECKPOINT)
    assert response.status_code == 200
    vkey = parse_cosignature_verifier_key(app.state.witness.verifier_key)
    assert verify_cosigned(SUMDB_CHECKPOINT + response.text, parse_verifier_key(SUMDB_VKEY), [vkey], 1)


async def test_monkeys_log_grows_from_5_to_8(tmp_path: Path) -> None:
    app = create_witness_app(tmp_path, {"monkeys": MONKEYS_VKEY})
    async with _client(app) as client:
        assert (await _post(client, "old 0\n\n" + MONKEYS_5)).status_code == 200
        bad = MONKEYS_PROOF.replace("b", "c", 1)
        assert (await _post(client, f"old 5\n{bad}\n" + MONKEYS_8)).status_code in (400, 422)
        assert (await _post(client, f"old 5\n{MONKEYS_PROOF}\n" + MONKEYS_8)).status_code == 200
        assert (
            await _post(client, "old 8\n\n" + MONKEYS_8)
        ).status_code == 200  # same size: fresh cosignature
        assert (await _post(client, "old 8\n\n" + MONKEYS_5)).status_code == 400  # old above the size


# ----------------------------------------------------------------------------- status codes


async def test_first_checkpoint_is_cosigned_and_verifies(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    log.append(b"a", b"b", b"c")
    response = await _post(witness, log.body(0))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    vkey = parse_cosignature_verifier_key((await witness.get("/witness")).text.strip())
    assert (await witness.get("/")).text == (await witness.get("/witness")).text
    note = log.checkpoint_note() + response.text
    assert verify_cosignature(note, vkey) == NOW
    assert verify_cosigned(note, log.signer.verifier, [vkey], 1) == ["witness.test/w1"]


async def test_growing_log_is_cosigned_at_each_size(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    old = 0
    for count in (1, 2, 3, 7, 8, 9, 300):
        while len(log.leaves) < count:
            log.append(f"entry {len(log.leaves)}".encode())
        response = await _post(witness, log.body(old))
        assert response.status_code == 200, (old, count, response.text)
        old = count


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"hello",
        b"old 0\n",
        b"old 0\nexample\n1\nAAAA\n",  # no blank line at all
        b"old 01\n\nx\n",
        b"old -1\n\nx\n",
        b"old 1 \n\nx\n",
        b"old  1\n\nx\n",
        b"Old 1\n\nx\n",
        b"old 18446744073709551616\n\nx\n",  # 2^64
        b"old 1\nnot base64\n\nx\n",
        b"old 1\n" + base64.b64encode(bytes(31)) + b"\n\nx\n",
        b"old 1\n" + base64.b64encode(bytes(33)) + b"\n\nx\n",
        b"old 1\n" + b"KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n\nx\n",  # non-canonical base64
        b"old 1\n" + (base64.b64encode(bytes(32)) + b"\n") * 64 + b"\nx\n",  # 64 proof lines
        b"\xff\xfe\n\n",
        b"old 0\r\n\r\nx\r\n",
    ],
)
async def test_garbage_bodies_are_400(witness: httpx.AsyncClient, body: bytes) -> None:
    response = await _post(witness, body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("text/plain")


async def test_body_without_origin_line_is_400(witness: httpx.AsyncClient) -> None:
    assert (await _post(witness, "old 0\n\nno newline")).status_code == 400


async def test_oversized_body_is_413(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    log.append(b"a")
    body = log.body(0).replace("\n\n", "\n" + "x" * MAX_BODY_BYTES + "\n\n", 1)
    assert (await _post(witness, body)).status_code == 413


async def test_63_proof_lines_are_allowed(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    log.append(b"a")
    body = log.body(0, proof=[bytes(32)] * 63)
    assert (await _post(witness, body)).status_code == 422  # parsed, then refused: a proof from size 0


async def test_unknown_origin_is_404(witness: httpx.AsyncClient) -> None:
    stranger = MemoryLog("kotowari.test/other")
    stranger.append(b"a")
    response = await _post(witness, stranger.body(0))
    assert response.status_code == 404
    assert "unknown log" in response.text


async def test_checkpoint_signed_by_another_key_is_403(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    impostor = MemoryLog(log.origin, NoteSigner(log.origin, Ed25519PrivateKey.generate()))
    impostor.append(b"a")
    response = await _post(witness, impostor.body(0))
    assert response.status_code == 403
    assert "no valid signature" in response.text


async def test_bad_signature_from_the_log_key_is_403(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    log.append(b"a", b"b")
    note = log.checkpoint_note()
    forged = note.replace("\n2\n", "\n3\n", 1)
    response = await _post(witness, "old 0\n\n" + forged)
    assert response.status_code == 403


async def test_signed_text_that_is_not_a_checkpoint_is_400(
    witness: httpx.AsyncClient, log: MemoryLog
) -> None:
    from keys.note import sign_note

    note = sign_note(f"{log.origin}\nnot a size\nroot\n", [log.signer])
    assert (await _post(witness, "old 0\n\n" + note)).status_code == 400


async def test_old_size_above_the_checkpoint_is_400(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    log.append(b"a", b"b")
    assert (await _post(witness, log.body(3, proof=[]))).status_code == 400


async def test_old_size_that_is_not_the_cosigned_size_is_409(
    witness: httpx.AsyncClient, log: MemoryLog
) -> None:
    log.append(b"a", b"b")
    response = await _post(witness, log.body(1))
    assert response.status_code == 409  # never cosigned: it holds 0
    assert response.text == "0\n"
    assert response.headers["content-type"] == "text/x.tlog.size"
    assert (await _post(witness, log.body(0))).status_code == 200
    log.append(b"c")
    response = await _post(witness, log.body(1))
    assert (response.status_code, response.text) == (409, "2\n")


async def test_proof_from_size_zero_is_422(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    log.append(b"a", b"b")
    assert (await _post(witness, log.body(0, proof=[bytes(32)]))).status_code == 422


async def test_size_zero_checkpoint_must_have_the_empty_root(
    witness: httpx.AsyncClient, log: MemoryLog
) -> None:
    from keys.note import Checkpoint, sign_note

    assert (await _post(witness, log.body(0, size=0))).status_code == 200
    wrong = sign_note(Checkpoint(log.origin, 0, bytes(32)).to_text(), [log.signer])
    assert (await _post(witness, "old 0\n\n" + wrong)).status_code == 422


async def test_bad_consistency_proof_is_422(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    log.append(b"a", b"b", b"c")
    assert (await _post(witness, log.body(0))).status_code == 200
    log.append(b"d", b"e")
    good = merkle.consistency_proof(log.leaves, 3, 5)
    for bad in ([], good[:-1], [*good, bytes(32)], [bytes(32)] * len(good), list(reversed(good))):
        response = await _post(witness, log.body(3, proof=bad))
        assert response.status_code == 422, bad
        assert "consistency proof" in response.text
    assert (await _post(witness, log.body(3, proof=good))).status_code == 200


async def test_same_size_with_another_root_is_422(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    log.append(b"a", b"b")
    assert (await _post(witness, log.body(0))).status_code == 200
    fork = log.fork(1)
    fork.append(b"B")
    assert (await _post(witness, fork.body(2, proof=[]))).status_code == 422
    # ... and the same checkpoint again gets a fresh cosignature
    assert (await _post(witness, log.body(2, proof=[]))).status_code == 200


async def test_fork_and_rollback_are_refused(witness: httpx.AsyncClient, log: MemoryLog) -> None:
    log.append(b"a", b"b", b"c")
    assert (await _post(witness, log.body(0))).status_code == 200
    fork = log.fork(2)
    fork.append(b"x", b"y")  # size 4, not an extension of a, b, c
    assert (await _post(witness, fork.body(3, proof=fork_proof(fork, 3)))).status_code == 422
    assert (await _post(witness, log.body(2, size=2))).status_code == 409  # a rollback: old is not 3
    assert (await _post(witness, log.body(3, size=2, proof=[]))).status_code == 400
    response = await _post(witness, log.body(3, proof=[]))
    assert response.status_code == 200


def fork_proof(fork: MemoryLog, old: int) -> list[bytes]:
    """The fork's own consistency proof from `old`: valid for its tree, not for the witnessed one."""
    return merkle.consistency_proof(fork.leaves, old, len(fork.leaves))


async def test_other_methods_and_paths(witness: httpx.AsyncClient) -> None:
    assert (await witness.get("/add-checkpoint")).status_code == 405
    assert (await witness.post("/witness")).status_code == 405
    assert (await witness.get("/nothing/here")).status_code == 404


# ----------------------------------------------------------------------------- monitoring


async def test_monitoring_checkpoint_holds_log_and_witness_signatures(
    witness: httpx.AsyncClient, log: MemoryLog
) -> None:
    origin_hash = hashlib.sha256(log.origin.encode()).hexdigest()
    assert (await witness.get(f"/{origin_hash}/checkpoint")).status_code == 404
    log.append(b"a")
    cosignature = (await _post(witness, log.body(0))).text
    response = await witness.get(f"/{origin_hash}/checkpoint")
    assert response.status_code == 200
    assert response.text == log.checkpoint_note() + cosignature
    vkey = parse_cosignature_verifier_key((await witness.get("/witness")).text.strip())
    verify_cosigned(response.text, log.signer.verifier, [vkey], 1)
    assert (await witness.get(f"/{origin_hash.upper()}/checkpoint")).status_code == 404


# ----------------------------------------------------------------------------- state and key


async def test_key_is_created_0600_and_reused(tmp_path: Path, log: MemoryLog) -> None:
    data = tmp_path / "w"
    first = create_witness_app(data, {log.origin: log.verifier_key}).state.witness
    assert first.key_created
    assert stat.S_IMODE(os.stat(data / KEY_FILE).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    second = create_witness_app(data, {log.origin: log.verifier_key}).state.witness
    assert not second.key_created
    assert second.verifier_key == first.verifier_key
    assert first.name.startswith("kotowari.local/witness/")


async def test_state_survives_a_restart(tmp_path: Path, log: MemoryLog) -> None:
    data = tmp_path / "w"
    log.append(b"a", b"b", b"c")
    async with _client(create_witness_app(data, {log.origin: log.verifier_key})) as client:
        assert (await _post(client, log.body(0))).status_code == 200
    state = json.loads((data / STATE_FILE).read_text())
    assert state["logs"][log.origin]["size"] == 3
    assert base64.b64decode(state["logs"][log.origin]["root"]) == log.root(3)
    assert not [p for p in data.iterdir() if p.name.endswith(".tmp")]
    async with _client(create_witness_app(data, {log.origin: log.verifier_key})) as client:
        response = await _post(client, log.body(0))
        assert (response.status_code, response.text) == (409, "3\n")
        fork = log.fork(2)
        fork.append(b"x")
        assert (await _post(client, fork.body(3, proof=[]))).status_code == 422


async def test_state_of_a_log_no_longer_configured_is_kept(tmp_path: Path, log: MemoryLog) -> None:
    data = tmp_path / "w"
    log.append(b"a")
    async with _client(create_witness_app(data, {log.origin: log.verifier_key})) as client:
        assert (await _post(client, log.body(0))).status_code == 200
    other = MemoryLog("kotowari.test/other")
    other.append(b"z")
    async with _client(create_witness_app(data, {other.origin: other.verifier_key})) as client:
        assert (await _post(client, other.body(0))).status_code == 200
    state = json.loads((data / STATE_FILE).read_text())
    assert set(state["logs"]) == {log.origin, other.origin}


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{",
        "[]",
        '{"format": "something else", "name": "w", "logs": {}}',
        '{"format": "kotowari-witness-state/1", "logs": {}}',
        '{"format": "kotowari-witness-state/1", "name": "w", "logs": {"o": {"size": "1"}}}',
    ],
)
async def test_unreadable_state_stops_the_witness(tmp_path: Path, log: MemoryLog, content: str) -> None:
    data = tmp_path / "w"
    data.mkdir()
    (data / STATE_FILE).write_text(content)
    with pytest.raises(WitnessStateError):
        create_witness_app(data, {log.origin: log.verifier_key})


async def test_state_whose_checkpoint_disagrees_with_its_record_stops_the_witness(
    tmp_path: Path, log: MemoryLog
) -> None:
    data = tmp_path / "w"
    log.append(b"a", b"b")
    async with _client(create_witness_app(data, {log.origin: log.verifier_key})) as client:
        assert (await _post(client, log.body(0))).status_code == 200
    state = json.loads((data / STATE_FILE).read_text())
    state["logs"][log.origin]["size"] = 1
    (data / STATE_FILE).write_text(json.dumps(state))
    with pytest.raises(WitnessStateError, match="does not match"):
        create_witness_app(data, {log.origin: log.verifier_key})


async def test_a_key_without_its_state_stops_the_witness(tmp_path: Path, log: MemoryLog) -> None:
    data = tmp_path / "w"
    create_witness_app(data, {log.origin: log.verifier_key})
    (data / STATE_FILE).unlink()
    with pytest.raises(WitnessStateError, match=r"no witness-state\.json"):
        create_witness_app(data, {log.origin: log.verifier_key})
    (data / KEY_FILE).unlink()  # a new witness, with a new key, may start afresh
    assert create_witness_app(data, {log.origin: log.verifier_key}).state.witness.key_created


async def test_name_is_fixed_at_first_start(tmp_path: Path, log: MemoryLog) -> None:
    data = tmp_path / "w"
    create_witness_app(data, {log.origin: log.verifier_key}, name="witness.test/a")
    assert create_witness_app(data, {}).state.witness.name == "witness.test/a"
    assert create_witness_app(data, {}, name="witness.test/a").state.witness.name == "witness.test/a"
    with pytest.raises(WitnessStateError, match="cannot change"):
        create_witness_app(data, {}, name="witness.test/b")


async def test_configuration_errors(tmp_path: Path, log: MemoryLog) -> None:
    with pytest.raises(ValueError):
        create_witness_app(tmp_path / "a", {log.origin: "not a key"})
    with pytest.raises(ValueError):
        create_witness_app(tmp_path / "b", {"": log.verifier_key})
    with pytest.raises(ValueError):
        create_witness_app(tmp_path / "c", {log.origin: []})
    with pytest.raises(ValueError):
        create_witness_app(tmp_path / "d", {log.origin: log.verifier_key}, name="has space")


async def test_the_witness_key_cannot_be_a_log_key(tmp_path: Path) -> None:
    data = tmp_path / "w"
    witness = create_witness_app(data, {}).state.witness
    own = witness.signer.verifier.public_key
    with pytest.raises(ValueError, match="own key"):
        create_witness_app(data, {"kotowari.test/self": verifier_key("kotowari.test/self", own)})


async def test_a_log_with_two_keys_is_accepted_under_either(tmp_path: Path) -> None:
    first, second = MemoryLog(), MemoryLog()
    second.origin = first.origin
    second.signer = NoteSigner(first.origin, second.signer.private_key)
    app = create_witness_app(tmp_path, {first.origin: [first.verifier_key, second.verifier_key]})
    first.append(b"a")
    second.leaves = list(first.leaves)
    second.append(b"b")
    async with _client(app) as client:
        assert (await _post(client, first.body(0))).status_code == 200
        assert (await _post(client, second.body(1))).status_code == 200


# ----------------------------------------------------------------------------- no rollback under races


async def test_racing_submissions_never_roll_the_witness_back(
    witness: httpx.AsyncClient, log: MemoryLog
) -> None:
    log.append(b"a")
    assert (await _post(witness, log.body(0))).status_code == 200
    bodies = []
    for count in range(2, 12):
        log.append(f"{count}".encode())
        bodies.append((count, log.body(1)))
    responses = await asyncio.gather(*(_post(witness, body) for _, body in bodies))
    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 409}
    winner = bodies[statuses.index(200)][0]
    assert all(response.text == f"{winner}\n" for response in responses if response.status_code == 409)
    state = (await witness.get(f"/{hashlib.sha256(log.origin.encode()).hexdigest()}/checkpoint")).text
    assert state.splitlines()[1] == str(winner)


# ----------------------------------------------------------------------------- a real process


def test_witness_serve_process(tmp_path: Path) -> None:
    import subprocess

    log = MemoryLog()
    data = tmp_path / "w"
    key = subprocess.run(
        [*witness_command(), "witness", "key", "--data-dir", str(data), "--name", "witness.test/proc"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert key.returncode == 0, key.stderr
    assert "created" in key.stderr
    vkey = key.stdout.strip()
    assert vkey.startswith("witness.test/proc+")
    running = start_witness(data, {log.origin: log.verifier_key})
    try:
        assert running.verifier_key == vkey
        assert f"witnessing {log.origin}" in running.banner
        assert httpx.get(f"{running.url}/witness", timeout=5).text.strip() == vkey
        log.append(b"a", b"b")
        response = httpx.post(f"{running.url}/add-checkpoint", content=log.body(0).encode(), timeout=10)
        assert response.status_code == 200
        verify_cosigned(
            log.checkpoint_note() + response.text,
            log.signer.verifier,
            [parse_cosignature_verifier_key(vkey)],
            1,
        )
    finally:
        stop_witness(running)
    running = start_witness(data, {log.origin: log.verifier_key})
    try:
        response = httpx.post(f"{running.url}/add-checkpoint", content=log.body(0).encode(), timeout=10)
        assert (response.status_code, response.text) == (409, "2\n")
    finally:
        stop_witness(running)


def test_witness_serve_usage_errors(tmp_path: Path) -> None:
    import subprocess

    base = [*witness_command(), "witness", "serve", "--data-dir", str(tmp_path)]
    for extra in (["--log", "kotowari.test/log"], ["--log", "kotowari.test/log=nokey"], []):
        done = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, (extra, done.stderr)
        assert "error" in done.stderr


def test_log_flag_splits_before_the_verifier_key() -> None:
    from crawler_client.cli_support import UsageError
    from crawler_client.witness_cli import parse_log_flag

    assert parse_log_flag(f"{SUMDB_ORIGIN}={SUMDB_VKEY}") == (SUMDB_ORIGIN, SUMDB_VKEY)
    assert parse_log_flag(f"example.com/log?a=b={MONKEYS_VKEY}") == ("example.com/log?a=b", MONKEYS_VKEY)
    for bad in (
        MONKEYS_VKEY,
        f"={MONKEYS_VKEY}",
        "example.com/log=",
        "example.com/log=monkeys+db4d9f7e+AULa",
    ):
        with pytest.raises(UsageError):
            parse_log_flag(bad)
