"""The verification mark advances at shutdown over what the registry appended itself (signatures it
checked at intake), so a restart re-verifies none of them; an entry some other writer slipped in
while it ran stops the mark there, and the next start checks its signature and refuses it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import keys
from registry import integrity
from registry.identity import default_origin, load_or_create_registry_key, note_signer
from registry.log import TransparencyLog
from tests.api.test_integrity import restart_expecting, running, tamper, write_behind
from tests.conftest import Clock
from tests.factories import body, signed_claim


def mark_size(data_dir: Path) -> int:
    return int((data_dir / integrity.MARK_FILE).read_text().splitlines()[1])


async def test_the_mark_covers_every_entry_filed_before_shutdown(
    db_url: str, tmp_path: Path, clock: Clock, alice: keys.SigningKey
) -> None:
    data_dir = tmp_path / "data"
    async with running(db_url, data_dir, clock) as api:
        assert mark_size(data_dir) == 0  # verified at start: the empty log
        for n in range(5):
            document = signed_claim(alice, clock.now, urls=(f"https://example.com/{n}/",))
            assert (await api.post("/v1/claims", content=body(document))).status_code == 201
    assert mark_size(data_dir) == 5
    key, _ = load_or_create_registry_key(data_dir)
    origin = default_origin(key)

    async def verify() -> None:
        log = TransparencyLog(origin, note_signer(key, origin))
        report = await integrity.verify(log, key.public, data_dir)
        assert (report.tree_size, report.signatures_from, report.signatures_checked) == (5, 5, 0)

    await tamper({"db_url": db_url}, clock, verify)
    async with running(db_url, data_dir, clock) as api:
        assert (await api.get("/healthz")).status_code == 200


async def test_an_entry_written_behind_the_registry_stops_the_mark(
    db_url: str, tmp_path: Path, clock: Clock, alice: keys.SigningKey
) -> None:
    data_dir = tmp_path / "data"
    forged = signed_claim(alice, clock.now, urls=("https://example.com/forged/",))
    forged["uses"] = {"train-ai": "y"}  # after signing
    async with running(db_url, data_dir, clock) as api:
        first = signed_claim(alice, clock.now, urls=("https://example.com/first/",))
        assert (await api.post("/v1/claims", content=body(first))).status_code == 201
        await write_behind(data_dir, forged, alice.did, 1)  # another writer, same database
        after = signed_claim(alice, clock.now, urls=("https://example.com/after/",))
        assert (await api.post("/v1/claims", content=body(after))).status_code == 201
    assert mark_size(data_dir) == 1  # not over the forged entry, nor past it
    filed = {"db_url": db_url, "data_dir": data_dir, "ids": [keys.document_id(first)]}
    await restart_expecting(filed, clock, "log entry 1: the Claim's signature does not verify")


async def test_a_rolled_back_append_is_not_covered(db_url: str, tmp_path: Path, clock: Clock) -> None:
    """Appends recorded in a transaction that rolled back leave leaves no row holds: no advance."""
    from tortoise.transactions import in_transaction

    data_dir = tmp_path / "data"
    async with running(db_url, data_dir, clock):
        from api.app import MODELS  # noqa: F401 - the app's models are registered

        key, _ = load_or_create_registry_key(data_dir)
        origin = default_origin(key)
        log = TransparencyLog(origin, note_signer(key, origin))
        try:
            async with in_transaction():
                await log.append("Claim", "0" * 64, b'{"type":"Claim"}', datetime.now(UTC))
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        assert await log.verified_through(0) == 0
