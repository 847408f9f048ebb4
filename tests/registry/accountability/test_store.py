"""`AccountabilityStore` races, in process on SQLite and PostgreSQL: an authority whose designation is
revoked between the check and the append is refused (409 `changed-meanwhile`), and nothing is logged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import keys
from registry.accountability.store import Meanwhile
from tests.accountability_helpers import information_request, registration
from tests.authority_helpers import verify_domain
from tests.conftest import Clock
from tests.factories import body


@pytest.fixture
async def app(db_url: str, tmp_path: Path, clock: Clock) -> AsyncIterator[Any]:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from api import Settings, create_app

    EXECUTOR_CACHE.clear()
    application = create_app(Settings(data_dir=tmp_path / "data", db_url=db_url), clock=clock)
    async with application.router.lifespan_context(application):
        yield application.state.registry


async def test_a_designation_revoked_before_the_append_refuses_the_request(app: Any, clock: Clock) -> None:
    store = app.accountability
    acme, regulator = keys.SigningKey.generate(), keys.SigningKey.generate()
    await app.notices.register_operator(body(registration(acme, "Acme AI")))
    await verify_domain(app, regulator.did, "regulator.example")
    await store.designate(regulator.did, "Example Regulator")
    original = store.ledger.record

    @asynccontextmanager
    async def revoked_first(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        store.ledger.record = original  # the administrator revokes, just before the request's append
        await store.designate(regulator.did, None, revoke=True)
        async with original(*args, **kwargs) as appended:
            yield appended

    store.ledger.record = revoked_first
    size = await app.log.size()
    request = information_request(regulator, acme.did, clock.now + timedelta(days=3))
    with pytest.raises(Meanwhile, match="changed meanwhile"):
        await store.file_request(body(request))
    assert await app.log.size() == size + 1  # the revocation only
    async with store.replayed() as replay:
        assert replay.requests == {} and not replay.is_authority(regulator.did)
