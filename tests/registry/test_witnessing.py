"""The registry's witnessing: two witnesses and a log that presents a split view, a rollback, a
witness that is down or slow or lying, and the registry's own transparency log on SQLite."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from api.witness import create_witness_app
from keys.cosignature import (
    CosignatureSigner,
    InvalidCosignature,
    NotEnoughCosignatures,
    cosign,
    parse_cosignature_verifier_key,
    verify_cosigned,
)
from keys.note import NoteVerifier
from registry.witnessing import (
    InvalidWitnessAnswer,
    WitnessClient,
    Witnessing,
    WitnessRefused,
    WitnessUnavailable,
)
from tests.conftest import free_port
from tests.witness_helpers import MemoryLog

NOW = 1_700_000_000


class Switch(httpx.AsyncBaseTransport):
    """An in-process witness that can be taken down (connection refused) and brought back."""

    def __init__(self, app: Starlette) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.down = False
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


class Witness:
    """A witness app in process, the client the registry uses for it, and its verifier."""

    def __init__(self, data_dir: Path, log: MemoryLog, name: str) -> None:
        self.app = create_witness_app(data_dir, {log.origin: log.verifier_key}, name=name, clock=lambda: NOW)
        self.switch = Switch(self.app)
        self.vkey = self.app.state.witness.verifier_key
        self.verifier = parse_cosignature_verifier_key(self.vkey)
        self.url = f"http://{name.replace('/', '-')}"

    def client(self) -> WitnessClient:
        return WitnessClient(self.url, self.vkey, client=httpx.AsyncClient(transport=self.switch))

    @property
    def size(self) -> int | None:
        record = self.app.state.witness.latest(next(iter(self.app.state.witness.logs)))
        return None if record is None else int(record.size)


@pytest.fixture
def log() -> MemoryLog:
    return MemoryLog()


@pytest.fixture
def w1(tmp_path: Path, log: MemoryLog) -> Witness:
    return Witness(tmp_path / "w1", log, "witness.test/w1")


@pytest.fixture
def w2(tmp_path: Path, log: MemoryLog) -> Witness:
    return Witness(tmp_path / "w2", log, "witness.test/w2")


@pytest.fixture
async def witnessing(log: MemoryLog, w1: Witness, w2: Witness) -> AsyncIterator[Witnessing]:
    running = Witnessing(log, [w1.client(), w2.client()], clock=lambda: NOW)
    yield running
    await running.aclose()


def _require(note: str, log: MemoryLog, witnesses: list[Witness], k: int) -> list[str]:
    return verify_cosigned(note, log.signer.verifier, [w.verifier for w in witnesses], k)


# ----------------------------------------------------------------------------- the honest path


async def test_each_new_checkpoint_is_cosigned_by_both(
    witnessing: Witnessing, log: MemoryLog, w1: Witness, w2: Witness
) -> None:
    for entries in ([b"a"], [b"b", b"c"], [b"d"] * 5):
        note = log.append(*entries)
        statuses = await witnessing.submit(note)
        assert all(status.last_error is None for status in statuses.values())
        cosigned = await witnessing.cosigned_checkpoint()
        assert cosigned.startswith(note)
        assert _require(cosigned, log, [w1, w2], 2) == ["witness.test/w1", "witness.test/w2"]
    assert w1.size == w2.size == 8
    assert log.proofs_asked == [(0, 1)] * 2 + [(1, 3)] * 2 + [(3, 8)] * 2
    status = witnessing.status()
    assert status["cosigned_size"] == 8
    assert status["cosigned_by"] == ["witness.test/w1", "witness.test/w2"]
    assert status["quorum_met"]
    assert [w["cosigned_size"] for w in status["witnesses"]] == [8, 8]
    assert [w["cosigned_at"] for w in status["witnesses"]] == [NOW, NOW]
    assert not any(w["refused_inconsistent"] for w in status["witnesses"])


async def test_before_any_submission_the_log_checkpoint_is_served(
    witnessing: Witnessing, log: MemoryLog
) -> None:
    log.append(b"a")
    assert await witnessing.cosigned_checkpoint() == log.checkpoint_note()
    assert witnessing.status()["cosigned_size"] is None


async def test_submit_defaults_to_the_log_head(witnessing: Witnessing, log: MemoryLog, w1: Witness) -> None:
    log.append(b"a", b"b")
    await witnessing.submit()
    assert w1.size == 2


async def test_a_restarted_registry_learns_the_witness_size_from_409(
    log: MemoryLog, w1: Witness, w2: Witness
) -> None:
    log.append(b"a", b"b", b"c")
    first = Witnessing(log, [w1.client(), w2.client()])
    await first.submit()
    log.append(b"d")
    restarted = Witnessing(log, [w1.client(), w2.client()])  # believes both witnesses are at 0
    log.proofs_asked.clear()
    before = w1.switch.requests
    await restarted.submit()
    assert w1.switch.requests - before == 2  # old 0 -> 409 "3", then old 3
    assert sorted(log.proofs_asked) == [(0, 4), (0, 4), (3, 4), (3, 4)]
    _require(await restarted.cosigned_checkpoint(), log, [w1, w2], 2)
    await first.aclose()
    await restarted.aclose()


async def test_resubmitting_the_head_adds_fresh_cosignatures(
    witnessing: Witnessing, log: MemoryLog, w1: Witness, w2: Witness
) -> None:
    log.append(b"a")
    w2.switch.down = True
    await witnessing.submit()
    assert _require(await witnessing.cosigned_checkpoint(), log, [w1, w2], 1) == ["witness.test/w1"]
    w2.switch.down = False
    await witnessing.submit()  # same checkpoint: w1 is not asked again, w2 cosigns it
    assert _require(await witnessing.cosigned_checkpoint(), log, [w1, w2], 2)


async def test_stale_checkpoints_are_not_resubmitted(
    witnessing: Witnessing, log: MemoryLog, w1: Witness
) -> None:
    old = log.append(b"a")
    new = log.append(b"b")
    await witnessing.submit(new)
    requests = w1.switch.requests
    await witnessing.submit(old)
    assert w1.switch.requests == requests
    assert (await witnessing.cosigned_checkpoint()).startswith(new)


async def test_background_submissions_coalesce(witnessing: Witnessing, log: MemoryLog, w1: Witness) -> None:
    for count in range(5):
        witnessing.submit_in_background(log.append(f"{count}".encode()))
    await witnessing.wait()
    assert w1.size == 5
    assert w1.switch.requests <= 2 * 2  # the first and the newest, not all five
    assert (await witnessing.cosigned_checkpoint()).startswith(log.checkpoint_note())


# ----------------------------------------------------------------------------- split views


async def test_witness_that_cosigned_one_view_refuses_the_other(
    witnessing: Witnessing, log: MemoryLog, w1: Witness, w2: Witness
) -> None:
    log.append(b"a", b"b", b"c")
    await witnessing.submit()
    honest = await witnessing.cosigned_checkpoint()
    _require(honest, log, [w1, w2], 2)

    fork = log.fork(2)
    fork.append(b"X")  # the same size, another root, signed by the same key
    forked = Witnessing(fork, [w1.client(), w2.client()])
    await forked.submit()
    status = forked.status()
    assert [w["refused_inconsistent"] for w in status["witnesses"]] == [True, True]
    assert all("422" in w["last_error"] for w in status["witnesses"])
    assert status["cosigned_by"] == []
    view = await forked.cosigned_checkpoint()
    for k in (1, 2):
        with pytest.raises(NotEnoughCosignatures):
            _require(view, fork, [w1, w2], k)
    assert w1.size == w2.size == 3

    fork.append(b"Y", b"Z")  # a longer fork fares no better
    await forked.submit()
    assert forked.status()["cosigned_by"] == []
    await forked.aclose()


async def test_a_partitioned_split_view_cannot_get_two_of_two(
    log: MemoryLog, w1: Witness, w2: Witness
) -> None:
    log.append(b"a", b"b")
    fork = log.fork(1)
    fork.append(b"B")
    view_a = Witnessing(log, [w1.client()])  # the registry shows one view to w1 ...
    view_b = Witnessing(fork, [w2.client()])  # ... and the other to w2
    await view_a.submit()
    await view_b.submit()
    note_a, note_b = await view_a.cosigned_checkpoint(), await view_b.cosigned_checkpoint()
    assert _require(note_a, log, [w1, w2], 1) == ["witness.test/w1"]
    assert _require(note_b, fork, [w1, w2], 1) == ["witness.test/w2"]
    for note in (note_a, note_b):
        with pytest.raises(NotEnoughCosignatures):
            _require(note, log, [w1, w2], 2)
    # Merging the two notes' cosignatures does not help: they sign different roots.
    merged = note_a + note_b.split("\n\n", 1)[1].split("\n", 1)[1]
    with pytest.raises(InvalidCosignature, match=r"witness\.test/w2"):  # w2's line does not verify on A
        _require(merged, log, [w1, w2], 2)
    # And each witness refuses the other view.
    crossed = Witnessing(fork, [w1.client()])
    await crossed.submit()
    assert crossed.status()["witnesses"][0]["refused_inconsistent"]
    for running in (view_a, view_b, crossed):
        await running.aclose()


async def test_a_rollback_is_refused_and_reported(log: MemoryLog, w1: Witness, w2: Witness) -> None:
    log.append(*[bytes([i]) for i in range(5)])
    first = Witnessing(log, [w1.client(), w2.client()])
    await first.submit()
    rolled_back = log.fork(3)  # the registry "loses" two entries and restarts
    again = Witnessing(rolled_back, [w1.client(), w2.client()])
    await again.submit()
    for witness in again.status()["witnesses"]:
        assert witness["refused_inconsistent"]
        assert "rollback" in witness["last_error"]
        assert "at size 3" in witness["inconsistency"]
    assert w1.size == w2.size == 5
    await first.aclose()
    await again.aclose()


async def test_refusal_stays_flagged_after_a_later_success(log: MemoryLog, w1: Witness) -> None:
    log.append(b"a", b"b")
    honest = Witnessing(log, [w1.client()])
    await honest.submit()
    fork = log.fork(1)
    fork.append(b"B")
    # The same Witnessing object sees the fork once (as a confused registry might), then the truth.
    await honest.submit(fork.checkpoint_note())
    log.append(b"c")
    await honest.submit()
    witness = honest.status()["witnesses"][0]
    assert witness["refused_inconsistent"]
    assert witness["cosigned_size"] == 3
    assert witness["last_error"] is None
    await honest.aclose()


# ----------------------------------------------------------------------------- faults


async def test_a_witness_that_is_down_is_reported_and_filing_goes_on(log: MemoryLog, w1: Witness) -> None:
    vkey = CosignatureSigner("witness.test/down", _key()).verifier_key
    down = WitnessClient(f"http://127.0.0.1:{free_port()}", vkey, timeout=2.0)
    witnessing = Witnessing(log, [w1.client(), down])
    for count in range(1, 4):
        note = log.append(f"{count}".encode())  # filing goes on ...
        await witnessing.submit(note)  # ... and submission never raises
        status = witnessing.status()
        assert status["cosigned_size"] == count
        assert status["witnesses"][1]["last_error"].startswith("witness witness.test/down: unreachable")
        assert status["witnesses"][1]["last_error_at"] is not None
        assert status["witnesses"][1]["cosigned_size"] is None
        assert not status["witnesses"][1]["refused_inconsistent"]
    cosigned = await witnessing.cosigned_checkpoint()
    verifiers = [w1.verifier, parse_cosignature_verifier_key(vkey)]
    assert verify_cosigned(cosigned, log.signer.verifier, verifiers, 1) == ["witness.test/w1"]
    with pytest.raises(NotEnoughCosignatures):
        verify_cosigned(cosigned, log.signer.verifier, verifiers, 2)
    await witnessing.aclose()


async def test_a_witness_that_comes_back_catches_up(
    witnessing: Witnessing, log: MemoryLog, w1: Witness, w2: Witness
) -> None:
    await witnessing.submit(log.append(b"a", b"b"))
    w2.switch.down = True
    for count in range(3):
        await witnessing.submit(log.append(f"{count}".encode()))
    assert witnessing.status()["witnesses"][1]["cosigned_size"] == 2
    w2.switch.down = False
    log.proofs_asked.clear()
    await witnessing.submit(log.append(b"z"))
    assert (2, 6) in log.proofs_asked
    _require(await witnessing.cosigned_checkpoint(), log, [w1, w2], 2)
    assert witnessing.status()["witnesses"][1]["last_error"] is None


async def test_quorum_keeps_serving_the_last_checkpoint_enough_witnesses_cosigned(
    log: MemoryLog, w1: Witness, w2: Witness
) -> None:
    witnessing = Witnessing(log, [w1.client(), w2.client()], quorum=2)
    full = log.append(b"a")
    await witnessing.submit()
    w2.switch.down = True
    await witnessing.submit(log.append(b"b"))
    cosigned = await witnessing.cosigned_checkpoint()
    assert cosigned.startswith(full)
    _require(cosigned, log, [w1, w2], 2)
    status = witnessing.status()
    assert (status["cosigned_size"], status["latest_submitted_size"], status["quorum_met"]) == (1, 2, True)
    await witnessing.aclose()


async def test_with_no_checkpoint_at_quorum_the_newest_is_served_with_what_it_has(
    log: MemoryLog, w1: Witness, w2: Witness
) -> None:
    witnessing = Witnessing(log, [w1.client(), w2.client()], quorum=2)
    w2.switch.down = True
    note = log.append(b"a")
    await witnessing.submit()
    assert (await witnessing.cosigned_checkpoint()).startswith(note)
    assert witnessing.status()["quorum_met"] is False
    await witnessing.aclose()


async def test_a_slow_witness_times_out(log: MemoryLog, w1: Witness) -> None:
    async def hang(request: object) -> Response:
        await asyncio.sleep(30)
        return PlainTextResponse("")

    slow = Starlette(routes=[Route("/add-checkpoint", hang, methods=["POST"])])
    vkey = CosignatureSigner("witness.test/slow", _key()).verifier_key
    client = WitnessClient(
        "http://slow", vkey, client=httpx.AsyncClient(transport=httpx.ASGITransport(app=slow))
    )
    witnessing = Witnessing(log, [w1.client(), client], timeout=0.3)
    await witnessing.submit(log.append(b"a"))
    assert witnessing.status()["witnesses"][1]["last_error"] == "no answer within 0.3 s"
    assert witnessing.status()["cosigned_by"] == ["witness.test/w1"]
    await witnessing.aclose()


def _fake(answer: Response) -> Starlette:
    async def respond(request: object) -> Response:
        return answer

    return Starlette(routes=[Route("/add-checkpoint", respond, methods=["POST"])])


def _key() -> object:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


async def _submit_to(app: Starlette, log: MemoryLog, vkey: str, old: int = 0) -> str:
    client = WitnessClient(
        "http://fake", vkey, client=httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    )
    return await client.submit(log.checkpoint_note(), old, log.consistency_proof)


async def test_answers_that_are_not_valid_cosignatures_are_refused(log: MemoryLog) -> None:
    signer = CosignatureSigner("witness.test/liar", _key())  # type: ignore[arg-type]
    other = CosignatureSigner("witness.test/liar", _key())  # type: ignore[arg-type]
    log.append(b"a")
    text = log.checkpoint_text()
    wrong_text = MemoryLog(log.origin, log.signer)
    wrong_text.append(b"b")
    for body in (
        "",
        "hello\n",
        cosign(text, other, 5),  # right name, another key: not its cosignature
        cosign(wrong_text.checkpoint_text(), signer, 5),  # its key, another checkpoint
        cosign(text, signer, 5).rstrip("\n"),
    ):
        with pytest.raises(InvalidWitnessAnswer):
            await _submit_to(_fake(PlainTextResponse(body)), log, signer.verifier_key)
    zero = signer.key_id.to_bytes(4, "big") + bytes(8)
    zero += signer.private_key.sign(b"cosignature/v1\ntime 0\n" + text.encode())
    body = f"— {signer.name} {base64.b64encode(zero).decode()}\n"
    with pytest.raises(InvalidWitnessAnswer, match="without a timestamp"):
        await _submit_to(_fake(PlainTextResponse(body)), log, signer.verifier_key)
    line = cosign(text, signer, 5)
    assert (
        await _submit_to(_fake(PlainTextResponse(cosign(text, other, 6) + line)), log, signer.verifier_key)
        == line
    )


async def test_statuses_map_to_errors(log: MemoryLog) -> None:
    vkey = CosignatureSigner("witness.test/x", _key()).verifier_key  # type: ignore[arg-type]
    log.append(b"a")
    cases: list[tuple[Response, type[Exception], bool]] = [
        (PlainTextResponse("bad", status_code=400), WitnessRefused, False),
        (PlainTextResponse("sig", status_code=403), WitnessRefused, False),
        (PlainTextResponse("unknown", status_code=404), WitnessRefused, False),
        (PlainTextResponse("proof", status_code=422), WitnessRefused, True),
        (PlainTextResponse("busy", status_code=429), WitnessUnavailable, False),
        (PlainTextResponse("oops", status_code=500), WitnessUnavailable, False),
        (PlainTextResponse("moved", status_code=301), WitnessUnavailable, False),
        (PlainTextResponse("1\n", status_code=409), InvalidWitnessAnswer, False),  # wrong media type
        (
            Response("x\n", status_code=409, headers={"Content-Type": "text/x.tlog.size"}),
            InvalidWitnessAnswer,
            False,
        ),
    ]
    for answer, error, inconsistent in cases:
        with pytest.raises(error) as caught:
            await _submit_to(_fake(answer), log, vkey)
        if isinstance(caught.value, WitnessRefused):
            assert caught.value.inconsistent is inconsistent


async def test_409_is_retried_once_only(log: MemoryLog) -> None:
    vkey = CosignatureSigner("witness.test/x", _key()).verifier_key  # type: ignore[arg-type]
    log.append(b"a", b"b", b"c")
    calls = 0

    async def always_conflict(request: object) -> Response:
        nonlocal calls
        calls += 1
        return Response("1\n", status_code=409, headers={"Content-Type": "text/x.tlog.size"})

    app = Starlette(routes=[Route("/add-checkpoint", always_conflict, methods=["POST"])])
    with pytest.raises(WitnessRefused) as caught:
        await _submit_to(app, log, vkey)
    assert calls == 2
    assert caught.value.status == 409 and not caught.value.inconsistent
    assert caught.value.witness_size == 1


async def test_client_refuses_to_submit_below_the_witness_size(log: MemoryLog) -> None:
    vkey = CosignatureSigner("witness.test/x", _key()).verifier_key  # type: ignore[arg-type]
    log.append(b"a")
    app = _fake(PlainTextResponse("never asked", status_code=500))
    with pytest.raises(WitnessRefused, match="rollback") as caught:
        await _submit_to(app, log, vkey, old=4)
    assert caught.value.inconsistent and caught.value.status is None


async def test_unknown_log_at_the_witness_is_reported_not_flagged(tmp_path: Path, log: MemoryLog) -> None:
    stranger = Witness(tmp_path / "s", MemoryLog("kotowari.test/other"), "witness.test/s")
    witnessing = Witnessing(log, [stranger.client()])
    await witnessing.submit(log.append(b"a"))
    status = witnessing.status()["witnesses"][0]
    assert "404" in status["last_error"]
    assert not status["refused_inconsistent"]
    await witnessing.aclose()


# ----------------------------------------------------------------------------- configuration


async def test_the_registry_never_cosigns_for_itself(log: MemoryLog, w1: Witness) -> None:
    own = CosignatureSigner("registry.itself", log.signer.private_key).verifier_key
    with pytest.raises(ValueError, match="never cosigns"):
        Witnessing(log, [w1.client(), WitnessClient("http://self", own)])


async def test_submitting_a_note_not_signed_by_the_log_is_an_error(
    witnessing: Witnessing, log: MemoryLog
) -> None:
    from keys.note import InvalidNote

    other = MemoryLog(log.origin)
    with pytest.raises(InvalidNote):
        await witnessing.submit(other.append(b"a"))
    renamed = MemoryLog("kotowari.test/renamed", log.signer)
    with pytest.raises(InvalidNote, match="not of this log"):
        await witnessing.submit(renamed.append(b"a"))


async def test_configuration_errors(log: MemoryLog, w1: Witness) -> None:
    with pytest.raises(ValueError, match="share a name"):
        Witnessing(log, [w1.client(), w1.client()])
    for quorum in (0, 2, True):
        with pytest.raises(ValueError, match="quorum"):
            Witnessing(log, [w1.client()], quorum=quorum)
    with pytest.raises(ValueError):
        WitnessClient("http://x", log.verifier_key)  # a note key, not a cosignature key


async def test_no_witnesses_serves_the_log_checkpoint(log: MemoryLog) -> None:
    witnessing = Witnessing(log, [])
    note = log.append(b"a")
    await witnessing.submit()
    assert await witnessing.cosigned_checkpoint() == note
    assert witnessing.status()["witnesses"] == []


# ----------------------------------------------------------------------------- the registry's own log


async def test_the_registry_transparency_log_is_witnessed(tmp_path: Path, w1: Witness) -> None:
    from tortoise import Tortoise

    from api.app import MODELS
    from keys import SigningKey
    from registry.identity import note_signer
    from registry.log import TransparencyLog

    await Tortoise.init(db_url=f"sqlite://{tmp_path / 'registry.sqlite3'}", modules={"models": MODELS})
    try:
        await Tortoise.generate_schemas()
        log = TransparencyLog("kotowari.test/log", note_signer(SigningKey.generate(), "kotowari.test/log"))
        witness = Witness(tmp_path / "wr", log, "witness.test/registry")  # type: ignore[arg-type]
        witnessing = Witnessing(log, [witness.client()])
        now = datetime.now(UTC)
        for count in range(1, 8):
            await log.append("claim", f"doc-{count}", f"entry {count}".encode(), now)
            if count in (1, 2, 7):
                await witnessing.submit()
        cosigned = await witnessing.cosigned_checkpoint()
        assert cosigned.startswith(await log.latest_checkpoint())
        verifier = NoteVerifier(log.signer.name, log.signer.private_key.public_key())
        assert verify_cosigned(cosigned, verifier, [witness.verifier], 1) == ["witness.test/registry"]
        assert witness.size == 7
        await witnessing.aclose()
    finally:
        await Tortoise.close_connections()
