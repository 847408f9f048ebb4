"""The registry submits every new checkpoint to its witnesses (real `kotowari witness serve`
processes on 127.0.0.1) and serves the cosigned checkpoint; a witness that is down stops nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from keys.cosignature import NotEnoughCosignatures, parse_cosignature_verifier_key, verify_cosigned
from keys.note import parse_verifier_key
from registry.identity import load_or_create_registry_key, note_signer
from registry.log import TransparencyLog
from tests.conftest import Clock
from tests.factories import body, signed_claim
from tests.witness_helpers import WitnessProcess, start_witness, stop_witness

ORIGIN = "kotowari.test/witnessed"


@pytest.fixture
def log_key(tmp_path: Path) -> str:
    """The registry's note verifier key, made before the witnesses start (they must know it)."""
    key, _ = load_or_create_registry_key(tmp_path / "data")
    return TransparencyLog(ORIGIN, note_signer(key, ORIGIN)).verifier_key


@pytest.fixture
def witnesses(tmp_path: Path, log_key: str) -> Iterator[list[WitnessProcess]]:
    running = [start_witness(tmp_path / f"witness{n}", {ORIGIN: log_key}) for n in range(2)]
    yield running
    for witness in running:
        stop_witness(witness)


async def app_with(db_url: str, tmp_path: Path, clock: Clock, witnesses: dict[str, str]) -> Any:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from api import Settings, create_app

    EXECUTOR_CACHE.clear()
    settings = Settings(data_dir=tmp_path / "data", db_url=db_url, log_origin=ORIGIN, witnesses=witnesses)
    return create_app(settings, clock=clock)


@pytest.fixture
async def registry(
    db_url: str, tmp_path: Path, clock: Clock, witnesses: list[WitnessProcess]
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    app = await app_with(db_url, tmp_path, clock, {w.url: w.verifier_key for w in witnesses})
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            yield client, app.state.registry


async def test_checkpoints_are_cosigned_by_every_witness(
    registry: tuple[httpx.AsyncClient, Any],
    witnesses: list[WitnessProcess],
    log_key: str,
    alice: keys.SigningKey,
    clock: Clock,
) -> None:
    api, state = registry
    for n in range(3):
        claim = signed_claim(alice, clock.now, urls=(f"https://example.com/{n}/",))
        assert (await api.post("/v1/claims", content=body(claim))).status_code == 201
    await state.witnessing.wait()
    note = (await api.get("/log/checkpoint")).text
    assert "\n3\n" in note
    names = verify_cosigned(
        note,
        parse_verifier_key(log_key),
        [parse_cosignature_verifier_key(w.verifier_key) for w in witnesses],
        2,
    )
    assert len(names) == 2
    status = (await api.get("/v1/log/witnesses")).json()
    assert status["cosigned_size"] == 3 and status["quorum_met"] is True
    assert sorted(entry["cosigned_size"] for entry in status["witnesses"]) == [3, 3], status


async def test_filing_goes_on_while_a_witness_is_down(
    db_url: str,
    tmp_path: Path,
    clock: Clock,
    witnesses: list[WitnessProcess],
    log_key: str,
    alice: keys.SigningKey,
) -> None:
    from tests.conftest import free_port

    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    configured = {witnesses[0].url: witnesses[0].verifier_key, down: witnesses[1].verifier_key}
    app = await app_with(db_url, tmp_path, clock, configured)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as api:
            claim = signed_claim(alice, clock.now)
            assert (await api.post("/v1/claims", content=body(claim))).status_code == 201
            await app.state.registry.witnessing.wait()
            note = (await api.get("/log/checkpoint")).text
            status = (await api.get("/v1/log/witnesses")).json()["witnesses"]
            healthy = (await api.get("/healthz")).status_code
    verifiers = [parse_cosignature_verifier_key(w.verifier_key) for w in witnesses]
    assert verify_cosigned(note, parse_verifier_key(log_key), verifiers, 1)
    with pytest.raises(NotEnoughCosignatures):
        verify_cosigned(note, parse_verifier_key(log_key), verifiers, 2)
    assert [bool(entry["last_error"]) for entry in status] == [False, True], status
    assert healthy == 200
