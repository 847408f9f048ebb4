"""The application factory and its lifespan: open the database, load the key, serve, close."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial

from starlette.applications import Starlette
from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise

from api.problems import HANDLERS
from api.routes import ROUTES
from api.settings import Settings
from api.state import RegistryState
from registry.identity import default_origin, load_or_create_registry_key, note_signer
from registry.index import ClaimIndex
from registry.log import TransparencyLog
from registry.notice_store import NoticeStore
from registry.snapshot_store import SnapshotStore
from registry.store import ClaimStore, utcnow
from registry.webhooks import RetryPolicy, WebhookDeliverer, check_target

MODELS = ["registry.models", "registry.notice_models"]


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    on_ready: Callable[[str, bool], None] | None = None,
) -> Starlette:
    """A registry application. Nothing touches disk or database until the lifespan starts.

    `on_ready` is called with the registry's DID, and whether its key was created just now, once the
    database is open (the CLI prints them).

    >>> app = create_app(Settings(data_dir=Path("/tmp/kotowari-example")))  # doctest: +SKIP
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        key, created = load_or_create_registry_key(settings.data_dir)
        origin = settings.log_origin or default_origin(key)
        async with RegisterTortoise(app, db_url=settings.database_url, modules={"models": MODELS}):
            await Tortoise.generate_schemas(safe=True)
            log = TransparencyLog(origin, note_signer(key, origin))
            claims = ClaimStore(
                log,
                key,
                clock=clock,
                window=settings.clock_window,
                max_items=settings.max_check_items,
                index=ClaimIndex(settings.embedding_spaces),
            )
            await claims.catch_up()
            snapshots = SnapshotStore(log, key, settings.embedding_spaces, clock)
            notices = NoticeStore(
                log,
                key,
                clock=clock,
                window=settings.clock_window,
                check_target=partial(check_target, allow_private=settings.webhook_allow_private),
            )
            claims.dispute_lookup = notices.disputed_among
            policy = RetryPolicy(
                settings.webhook_attempts, settings.webhook_timeout, settings.webhook_backoff
            )
            webhooks = WebhookDeliverer(notices, allow_private=settings.webhook_allow_private, policy=policy)
            app.state.registry = RegistryState(
                settings=settings,
                key=key,
                claims=claims,
                log=log,
                snapshots=snapshots,
                notices=notices,
                webhooks=webhooks,
            )
            await webhooks.resume()
            sweeper = asyncio.create_task(_remind_periodically(notices, settings.reminder_interval))
            if on_ready is not None:
                on_ready(key.did, created)
            try:
                yield
            finally:
                sweeper.cancel()
                await webhooks.close()

    return Starlette(routes=ROUTES, exception_handlers=HANDLERS, lifespan=lifespan)


async def _remind_periodically(notices: NoticeStore, interval: float) -> None:
    """Flag overdue notices every `interval` seconds (0 turns the sweep off)."""
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        with contextlib.suppress(Exception):
            reminded = await notices.remind_overdue()
            if reminded:
                logging.getLogger("kotowari.notices").info("reminded %d overdue notices", len(reminded))
