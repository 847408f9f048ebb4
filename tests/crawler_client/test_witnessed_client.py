"""Clients that require k of n witness cosignatures, against a registry application in this process
witnessed by two real `kotowari witness serve` processes: receipts, check answers, authority
filings and snapshots count only under a cosigned checkpoint that covers them consistently; a
witness that is down, a split view and a garbage cosignature are refused with clear errors."""

from __future__ import annotations

import asyncio
import base64
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

import keys
from crawler_client import (
    AsyncClient,
    Client,
    InvalidSignedAnswer,
    NotWitnessed,
    RetryPolicy,
    WitnessPolicy,
)
from crawler_client.core import ClientCore, Response, Sleep, run_flow
from keys.note import Checkpoint, verifier_key
from registry.authority.documents import new_mandate
from registry.identity import load_or_create_registry_key, note_signer
from registry.log import TransparencyLog
from tests.conftest import Clock
from tests.crawler_client.registry_app import Intercept, running_registry
from tests.factories import signed_claim, signed_withdrawal
from tests.witness_helpers import WitnessProcess, start_witness, stop_witness

ORIGIN = "kotowari.test/witnessed-client"
BASE = "http://registry.test"
NO_WAIT = RetryPolicy(base_delay=0.0)


class Sleeps:
    """An injected `sleep` for AsyncClient: records the seconds asked and yields to the event loop
    for real (so the registry's background witnessing runs), but for at most a few milliseconds."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await asyncio.sleep(min(seconds, 0.02))


@pytest.fixture
def registry_dir(tmp_path: Path) -> Path:
    return tmp_path / "registry"


@pytest.fixture
def log_key(registry_dir: Path) -> str:
    """The registry's note verifier key, made before the witnesses start (they must know it)."""
    key, _ = load_or_create_registry_key(registry_dir / "data")
    return TransparencyLog(ORIGIN, note_signer(key, ORIGIN)).verifier_key


@pytest.fixture
def witnesses(tmp_path: Path, log_key: str) -> Iterator[list[WitnessProcess]]:
    running: list[WitnessProcess] = []
    try:
        for n in range(2):
            running.append(
                start_witness(tmp_path / f"witness{n}", {ORIGIN: log_key}, "--name", f"witness{n}.test/w")
            )
        yield running
    finally:
        for witness in running:
            if witness.process.poll() is None:
                stop_witness(witness)


def vkeys(witnesses: list[WitnessProcess]) -> list[str]:
    return [witness.verifier_key for witness in witnesses]


@asynccontextmanager
async def witnessed_registry(
    directory: Path, clock: Clock, witnesses: list[WitnessProcess], **settings: Any
) -> AsyncIterator[Starlette]:
    configured = {witness.url: witness.verifier_key for witness in witnesses}
    async with running_registry(directory, clock, log_origin=ORIGIN, witnesses=configured, **settings) as app:
        yield app


def client(transport: httpx.AsyncBaseTransport, **options: Any) -> AsyncClient:
    options.setdefault("retry", NO_WAIT)
    return AsyncClient(BASE, transport=transport, **options)


def claim(key: keys.SigningKey, clock: Clock, n: int) -> dict[str, Any]:
    return signed_claim(key, clock.now, urls=(f"https://example.com/{n}/",))


# ------------------------------------------------------------------ policies (no I/O)


def test_the_policy_defaults_to_every_witness_and_refuses_an_impossible_one() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from keys.cosignature import CosignatureSigner

    a, b = (CosignatureSigner(f"w{n}.test", Ed25519PrivateKey.generate()).verifier_key for n in range(2))
    assert WitnessPolicy.of([a, b]).min_cosignatures == 2
    assert WitnessPolicy.of([a, b], 1).min_cosignatures == 1
    assert WitnessPolicy.of(None) == WitnessPolicy()  # no witnesses: the registry's signature only
    for witnesses, k in (([a, b], 3), ([a, b], 0), ([a, a], 2), ([], 1)):
        with pytest.raises(ValueError):
            WitnessPolicy.of(witnesses, k)
    with pytest.raises(ValueError, match="witness key"):
        WitnessPolicy.of(["not a key"])
    with pytest.raises(ValueError):  # a log's kind of key (type 0x01) is no witness key
        WitnessPolicy.of([verifier_key("x.test", Ed25519PrivateKey.generate().public_key())])
    with pytest.raises(ValueError):
        Client("http://registry.test", witnesses=[a, b], min_cosignatures=3)
    with pytest.raises(ValueError):
        AsyncClient("http://registry.test", witnesses=[a], min_cosignatures=2)
    delays = WitnessPolicy.of([a], wait=3.0).delays()
    assert delays[0] == 0.05 and sum(delays) == pytest.approx(3.0) and max(delays) <= 1.0
    assert WitnessPolicy.of([a], wait=0).delays() == []


def test_the_core_sleeps_between_fetches_then_names_who_cosigned() -> None:
    """With a registry whose cosigned checkpoint stays behind, the flow yields sleeps (no I/O in the
    core) and ends in NotWitnessed naming the newest cosigned size."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from keys.cosignature import CosignatureSigner, cosign
    from keys.note import sign_note

    registry_key = keys.SigningKey.generate()
    signer = note_signer(registry_key, ORIGIN)
    witness = CosignatureSigner("w0.test", Ed25519PrivateKey.generate())
    other = CosignatureSigner("w1.test", Ed25519PrivateKey.generate())
    log = TransparencyLog(ORIGIN, signer)
    stale = Checkpoint(ORIGIN, 1, bytes(32)).to_text()
    served = sign_note(stale, [signer]) + cosign(stale, witness, 1_700_000_000)
    info = {
        "did": registry_key.did,
        "log": {"origin": ORIGIN, "note_verifier_key": log.verifier_key},
    }
    core = ClientCore(BASE, witnesses=[witness.verifier_key, other.verifier_key], witness_wait=0.5)
    asked: list[str] = []
    slept: list[float] = []

    def send(request: Any) -> Response:
        asked.append(request.path)
        body = keys.canonicalize(info) if request.path == "/v1/registry" else served.encode()
        kind = "application/json" if request.path == "/v1/registry" else "text/plain"
        return Response(200, {"content-type": kind}, body, BASE + request.path)

    with pytest.raises(NotWitnessed) as refused:
        run_flow(core.witnessed_flow(Checkpoint(ORIGIN, 5, bytes(32))), send, slept.append)
    assert str(refused.value).startswith(
        "checkpoint of size 5 has 0 of 2 required cosignatures; the newest cosigned is size 1 (w0.test)"
    )
    assert refused.value.cosigned_size == 1 and refused.value.required == 2
    assert sum(slept) == pytest.approx(0.5) and asked.count("/log/checkpoint") == len(slept) + 1

    steps = core.steps(core.witnessed_flow(Checkpoint(ORIGIN, 5, bytes(32))), clock=lambda: 0.0)
    first = next(steps)
    assert getattr(first, "path", None) == "/log/checkpoint"
    assert isinstance(steps.send(send(first)), Sleep)  # the driver sleeps; the core only asks to


# ------------------------------------------------------------------ against real witnesses


async def test_receipts_answers_authority_and_snapshots_verify_with_two_of_two(
    registry_dir: Path, clock: Clock, witnesses: list[WitnessProcess], alice: keys.SigningKey
) -> None:
    sleeps = Sleeps()
    async with witnessed_registry(registry_dir, clock, witnesses) as app:
        transport = Intercept(app)
        async with client(transport, witnesses=vkeys(witnesses), sleep=sleeps) as registry:
            assert registry.witness_policy.min_cosignatures == 2
            receipts = [await registry.file_claim(claim(alice, clock, n)) for n in range(3)]
            held = await registry.witnessed_checkpoint()
            assert held.cosigned_by == ("witness0.test/w", "witness1.test/w")
            assert held.size >= receipts[-1]["log"]["tree_size"] == 3

            result = await registry.check(
                [{"scheme": "url", "value": f"https://example.com/{n}/a.png"} for n in range(3)],
                purpose="train-ai",
            )
            assert result.decisions == ["n", "n", "n"]
            fetched = transport.paths().count("/log/checkpoint")
            await registry.check([{"scheme": "url", "value": "https://example.com/0/"}], purpose="train-ai")
            assert transport.paths().count("/log/checkpoint") == fetched  # that size is proven already

            withdrawn = await registry.withdraw_claim(
                receipts[0]["id"], signed_withdrawal(alice, receipts[0]["id"], clock.now)
            )
            principal, agency = keys.SigningKey.generate(), keys.SigningKey.generate()
            mandate = keys.sign_document(
                new_mandate(principal.did, agency.did, created=clock.now, kinds=["work"], uses=["train-ai"]),
                principal,
                created=clock.now,
            )
            filed = await registry.file_authority(mandate)
            assert filed["log"]["tree_size"] == withdrawn["log"]["tree_size"] + 1 == 5

            snapshot = await registry.snapshot()
            assert snapshot.startswith(b"KTWSNAP1")
            assert (await registry.witnessed_checkpoint()).size == 5
    assert sum(sleeps.asked) < 3.0  # witnessing lags by moments, not by the whole wait


async def test_a_witness_down_fails_two_of_two_and_passes_one_of_two(
    registry_dir: Path, clock: Clock, witnesses: list[WitnessProcess], alice: keys.SigningKey
) -> None:
    stop_witness(witnesses[1])
    async with witnessed_registry(registry_dir, clock, witnesses) as app:
        async with client(Intercept(app), witnesses=vkeys(witnesses), witness_wait=0.3) as strict:
            with pytest.raises(NotWitnessed) as refused:
                await strict.file_claim(claim(alice, clock, 0))
            assert refused.value.cosigned_by == ["witness0.test/w"] and refused.value.required == 2
            assert "checkpoint of size 1 has 1 of 2 required cosignatures (witness0.test/w)" in str(
                refused.value
            )
            assert "the newest cosigned is size 1" in str(refused.value)
            with pytest.raises(NotWitnessed):  # nor does any answer computed at that size count
                await strict.check([{"scheme": "url", "value": "https://example.com/0/"}], purpose="train-ai")

        async with client(Intercept(app), witnesses=vkeys(witnesses), min_cosignatures=1) as lenient:
            receipt = await lenient.file_claim(claim(alice, clock, 1))
            assert receipt["log"]["tree_size"] == 2
            assert (await lenient.witnessed_checkpoint()).cosigned_by == ("witness0.test/w",)
            status = await lenient.request("GET", "/v1/log/witnesses")
            assert [bool(entry["last_error"]) for entry in status["witnesses"]] == [False, True]


async def test_a_cosigned_checkpoint_that_lags_is_waited_for(
    registry_dir: Path, clock: Clock, witnesses: list[WitnessProcess], alice: keys.SigningKey
) -> None:
    """The first answers of /log/checkpoint are the cosigned checkpoint of size 1 while the receipt
    is at size 2: the client sleeps (on its injected sleep) and asks again until it is covered."""
    stale: dict[str, bytes] = {}
    served = {"count": 0}

    def lagging(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if request.url.path != "/log/checkpoint":
            return None
        stale.setdefault("note", response.content)
        served["count"] += 1
        if served["count"] > 3:
            return None
        return httpx.Response(200, headers={"content-type": "text/plain"}, content=stale["note"])

    sleeps = Sleeps()
    async with witnessed_registry(registry_dir, clock, witnesses) as app:
        async with client(Intercept(app), witnesses=vkeys(witnesses)) as first:
            await first.file_claim(claim(alice, clock, 0))
            await app.state.registry.witnessing.wait()
        async with client(Intercept(app, lagging), witnesses=vkeys(witnesses), sleep=sleeps) as registry:
            await registry.witnessed_checkpoint()  # holds size 1 (and primes the stale answer)
            receipt = await registry.file_claim(claim(alice, clock, 1))
            assert receipt["log"]["tree_size"] == 2
            assert len(sleeps.asked) >= 2 and sleeps.asked[:2] == [0.05, 0.1]
            assert (await registry.witnessed_checkpoint()).size == 2


async def test_a_split_view_is_refused(
    registry_dir: Path, tmp_path: Path, clock: Clock, witnesses: list[WitnessProcess], alice: keys.SigningKey
) -> None:
    """A second registry instance with the same key and origin but another tree: its receipts never
    verify under the witnessed tree, and the witnesses refuse to cosign it."""
    other_dir = tmp_path / "other"
    (other_dir / "data").mkdir(parents=True)
    for name in (registry_dir / "data").iterdir():
        if name.name.startswith("registry.key"):
            shutil.copy2(name, other_dir / "data" / name.name)
    # (one registry application at a time: Tortoise's connections are per process)
    async with (
        witnessed_registry(registry_dir, clock, witnesses) as honest_app,
        client(Intercept(honest_app), witnesses=vkeys(witnesses)) as honest,
    ):
        for n in range(3):
            await honest.file_claim(claim(alice, clock, n))
        await honest_app.state.registry.witnessing.wait()
        cosigned = (await honest.witnessed_checkpoint()).note
        honest_did = honest.registry_did

    async with witnessed_registry(other_dir, clock, witnesses) as fork_app:
        async with client(Intercept(fork_app)) as unwitnessed:  # no witnesses asked for: it files fine
            forked = [await unwitnessed.file_claim(claim(alice, clock, 10 + n)) for n in range(2)]
            assert unwitnessed.registry_did == honest_did
            await fork_app.state.registry.witnessing.wait()
            status = await unwitnessed.request("GET", "/v1/log/witnesses")
        assert all(entry["refused_inconsistent"] for entry in status["witnesses"]), status

        # the fork serving the honest registry's cosigned checkpoint: another root at size 3
        def replay(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
            if request.url.path == "/log/checkpoint":
                return httpx.Response(200, headers={"content-type": "text/plain"}, content=cosigned.encode())
            return None

        async with client(Intercept(fork_app, replay), witnesses=vkeys(witnesses)) as fooled:
            with pytest.raises(InvalidSignedAnswer, match="another root at the same size, a split view"):
                await fooled.file_claim(claim(alice, clock, 20))

        # the fork's own checkpoints carry no cosignature: never witnessed
        async with client(Intercept(fork_app), witnesses=vkeys(witnesses), witness_wait=0.2) as strict:
            with pytest.raises(NotWitnessed, match="has 0 of 2 required cosignatures; the newest"):
                await strict.file_claim(claim(alice, clock, 21))

    # a receipt from the fork (size 2) shown to a client of the honest registry (witnessed at 3)
    async with (
        witnessed_registry(registry_dir, clock, witnesses) as honest_app,
        client(Intercept(honest_app), witnesses=vkeys(witnesses)) as honest,
    ):
        note = forked[1]["log"]["checkpoint"]
        text = note[: note.rfind("\n\n") + 1]
        with pytest.raises(InvalidSignedAnswer, match="does not extend the checkpoint of size 2"):
            await honest.witnessed(Checkpoint.parse(text))
        honest_note = (await honest.witnessed_checkpoint()).note
        assert honest_note.splitlines()[:3] == cosigned.splitlines()[:3]


async def test_a_garbage_cosignature_line_is_refused(
    registry_dir: Path, clock: Clock, witnesses: list[WitnessProcess], alice: keys.SigningKey
) -> None:
    def tampered(how: str) -> Any:
        def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
            if request.url.path != "/log/checkpoint":
                return None
            lines = response.text.splitlines(keepends=True)
            for number, line in enumerate(lines):
                if line.startswith("— witness0.test/w "):
                    name, _, b64 = line.rstrip("\n").rpartition(" ")
                    raw = bytearray(base64.b64decode(b64))
                    raw[-1] ^= 0xFF  # the Ed25519 signature, under the witness's own key ID
                    if how == "signature":
                        lines[number] = f"{name} {base64.b64encode(bytes(raw)).decode()}\n"
                    else:
                        lines[number] = "— witness0.test/w garbage!\n"
            return httpx.Response(
                200, headers={"content-type": "text/plain"}, content="".join(lines).encode()
            )

        return alter

    async with witnessed_registry(registry_dir, clock, witnesses) as app:
        async with client(Intercept(app), witnesses=vkeys(witnesses)) as registry:
            await registry.file_claim(claim(alice, clock, 0))
            await app.state.registry.witnessing.wait()
        for how, message in (("signature", "bad cosignature"), ("line", "does not verify")):
            async with client(
                Intercept(app, tampered(how)), witnesses=vkeys(witnesses), min_cosignatures=1
            ) as bad:
                with pytest.raises(InvalidSignedAnswer, match=message):
                    await bad.witnessed_checkpoint()
                with pytest.raises(InvalidSignedAnswer, match=message):
                    await bad.file_claim(claim(alice, clock, 1 if how == "signature" else 2))


async def test_a_receipt_rebuilt_after_a_lost_answer_waits_for_the_cosigned_checkpoint(
    registry_dir: Path, clock: Clock, witnesses: list[WitnessProcess], alice: keys.SigningKey
) -> None:
    """Filing again after a lost answer rebuilds the receipt from `/log/checkpoint`, which a
    witnessed registry serves only once cosigned: while it lags behind the entry, the client waits."""
    stale: dict[str, bytes] = {}
    counts = {"lost": 0, "stale": 0}

    def lose_then_lag(request: httpx.Request, response: httpx.Response) -> httpx.Response | Exception | None:
        if request.method == "POST" and request.url.path == "/v1/claims" and counts["lost"] == 0:
            counts["lost"] += 1
            return httpx.ReadTimeout("the answer was lost", request=request)
        if request.url.path == "/log/checkpoint" and counts["lost"] and counts["stale"] < 2:
            counts["stale"] += 1
            return httpx.Response(200, headers={"content-type": "text/plain"}, content=stale["note"])
        return None

    sleeps = Sleeps()
    async with witnessed_registry(registry_dir, clock, witnesses) as app:
        async with client(Intercept(app), witnesses=vkeys(witnesses)) as first:
            await first.file_claim(claim(alice, clock, 0))
            await app.state.registry.witnessing.wait()
            stale["note"] = (await first.witnessed_checkpoint()).note.encode()
        async with client(
            Intercept(app, lose_then_lag), witnesses=vkeys(witnesses), sleep=sleeps
        ) as registry:
            receipt = await registry.file_claim(claim(alice, clock, 1))
            assert receipt["already_filed"] is True and receipt["log"]["index"] == 1
            assert receipt["log"]["tree_size"] == 2
            assert counts == {"lost": 1, "stale": 2}
            assert sleeps.asked[:3] == [0.0, 0.05, 0.1]  # the retry of the POST, then two waits
