"""Every accountability document type verifies at start-up (`registry.integrity`), on SQLite and
PostgreSQL: disclosures, manifest records, designations, requests and answers, re-verified in full;
and a kept manifest that no longer is the one its record names, or is gone, stops the registry."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from crawler_client.manifest import sign_manifest
from crawler_client.snapshot import Snapshot
from registry.accountability.documents import new_information_answer
from registry.accountability.models import ManifestRow
from tests.accountability_helpers import disclosure, information_request, manifest_ref, registration
from tests.api.test_integrity import tamper
from tests.authority_helpers import verify_domain
from tests.conftest import Clock
from tests.factories import body


@asynccontextmanager
async def running(db_url: str, data_dir: Path, clock: Clock, full: bool = False) -> AsyncIterator[Any]:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from api import Settings, create_app

    EXECUTOR_CACHE.clear()
    app = create_app(Settings(data_dir=data_dir, db_url=db_url, verify_full=full), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            yield client, app.state


@pytest.fixture
async def filed(db_url: str, tmp_path: Path, clock: Clock) -> dict[str, Any]:
    """A stopped registry whose log holds one of every accountability document type."""
    data_dir = tmp_path / "data"
    acme, regulator = keys.SigningKey.generate(), keys.SigningKey.generate()
    async with running(db_url, data_dir, clock) as (api, state):

        async def post(path: str, document: Any, status: int = 201) -> dict[str, Any]:
            answer = await api.post(path, content=body(document))
            assert answer.status_code == status, answer.text
            return dict(answer.json())

        await post("/v1/operators", registration(acme, "Acme AI"))
        snapshot_file = tmp_path / "claims.snapshot"
        snapshot_file.write_bytes((await api.get("/v1/snapshot")).content)
        state_ = Snapshot.open(snapshot_file).state
        digest = {"sha256": hashlib.sha256(b"").hexdigest(), "rows": 0}
        manifest = sign_manifest(
            key=acme,
            state=state_,
            purpose="train-ai",
            at=clock.now,
            territory=None,
            column="url",
            scheme="url",
            invalid="drop",
            source=digest,
            output=digest,
            rows={"total": 0, "kept": 0, "removed": 0, "decisions": {}},
            removed={"count": 0, "rows": []},
            now=clock.now,
        )
        recorded = await post("/v1/manifests", manifest)
        await post("/v1/disclosures", disclosure(acme, manifests=[manifest_ref(manifest)]))
        await verify_domain(state.registry, regulator.did, "regulator.example")
        await state.registry.accountability.designate(regulator.did, "Example Regulator")
        asked = await post(
            "/v1/information-requests",
            information_request(regulator, acme.did, clock.now + timedelta(days=3)),
        )
        answer = new_information_answer(acme.did, asked["id"], "we check", created=clock.now)
        await post(
            f"/v1/information-requests/{asked['id']}/answers",
            keys.sign_document(answer, acme, created=clock.now),
        )
    return {"db_url": db_url, "data_dir": data_dir, "manifest": recorded["sha256"]}


async def _restart(filed: dict[str, Any], clock: Clock, *, full: bool = False) -> httpx.Response:
    async with running(filed["db_url"], filed["data_dir"], clock, full) as (api, _):
        return await api.get(f"/v1/manifests/{filed['manifest']}")


async def test_every_accountability_entry_verifies_in_full_at_start(
    filed: dict[str, Any], clock: Clock
) -> None:
    from registry import integrity

    answer = await _restart(filed, clock, full=True)
    assert answer.status_code == 200, answer.text
    assert answer.json()["record"]["document"]["type"] == "ManifestRecord"
    # a registration, a manifest record, a disclosure, a verification, a designation, a request, an answer
    assert "\n7\n" in (filed["data_dir"] / integrity.MARK_FILE).read_text()


async def test_a_kept_manifest_that_was_altered_is_caught(filed: dict[str, Any], clock: Clock) -> None:
    async def edit() -> None:
        row = await ManifestRow.get(sha256=filed["manifest"])
        await ManifestRow.filter(sha256=row.sha256).update(
            document=row.document.replace("train-ai", "search")
        )

    await tamper(filed, clock, edit)
    answer = await _restart(filed, clock)
    assert answer.status_code == 503 and "is not the one it records" in answer.json()["detail"]


async def test_a_deleted_manifest_is_caught(filed: dict[str, Any], clock: Clock) -> None:
    async def edit() -> None:
        await ManifestRow.filter(sha256=filed["manifest"]).delete()

    await tamper(filed, clock, edit)
    answer = await _restart(filed, clock)
    assert answer.status_code == 503 and "has no manifests row" in answer.json()["detail"]
