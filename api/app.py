"""The application factory and its lifespan: open the database, load the key, serve, close."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send
from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise

from api.problems import HANDLERS, problem
from api.routes import ROUTES
from api.settings import Settings
from api.state import RegistryState
from registry import integrity
from registry.accountability.store import AccountabilityStore
from registry.authority.didweb import DidWebResolver
from registry.authority.evidence import DnsTxtLookup, DomainChecker
from registry.authority.fetch import HttpsFetcher
from registry.authority.service import AuthorityService
from registry.identity import default_origin, load_or_create_registry_key, note_signer
from registry.index import ClaimIndex
from registry.ledger import Ledger
from registry.log import TransparencyLog
from registry.notices.notify import NotifierNotifications
from registry.notices.store import NoticeStore
from registry.notices.webhooks import RetryPolicy, WebhookDeliverer, check_target, system_resolver
from registry.privacy.vault import load_or_create_data_key
from registry.snapshot_store import SnapshotStore
from registry.store import ClaimStore, utcnow
from registry.witnessing import WitnessClient, Witnessing

MODELS = [
    "registry.models",
    "registry.notices.models",
    "registry.privacy.models",
    "registry.key_backup.models",
    "registry.accountability.models",
]


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    on_ready: Callable[[str, bool], None] | None = None,
    freeze_after_start: bool = False,
) -> Starlette:
    """A registry application. Nothing touches disk or database until the lifespan starts.

    `on_ready` is called with the registry's DID, and whether its key was created just now, once the
    database is open (the CLI prints them). `freeze_after_start` is for a process that is the
    registry and nothing else (`kotowari serve`): what start-up built is then frozen out of the
    cyclic collector's sight (`gc.freeze`), which would keep whatever else the process holds then
    from ever being collected.

    >>> app = create_app(Settings(data_dir=Path("/tmp/kotowari-example")))  # doctest: +SKIP
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        key, created = load_or_create_registry_key(settings.data_dir)
        data_key, _ = load_or_create_data_key(settings.data_dir)
        origin = settings.log_origin or default_origin(key)
        async with RegisterTortoise(app, db_url=settings.database_url, modules={"models": MODELS}):
            await create_schema()
            log = TransparencyLog(origin, note_signer(key, origin))
            app.state.integrity_failure = None
            try:
                report = await integrity.verify(log, key.public, settings.data_dir, full=settings.verify_full)
                await integrity.write_mark(settings.data_dir, log, report.tree_size)
            except integrity.IntegrityFailure as exc:
                logging.getLogger("kotowari.integrity").error("the log does not verify: %s", exc.detail)
                app.state.integrity_failure = exc
                if on_ready is not None:
                    on_ready(key.did, created)
                yield  # serve nothing but the 503 that says why
                return
            claims = ClaimStore(
                log,
                key,
                clock=clock,
                window=settings.clock_window,
                max_items=settings.max_check_items,
                index=ClaimIndex(settings.embedding_spaces, keep_parts=True),
            )
            gc.disable()  # the replay makes a few long-lived objects per entry: nothing to collect
            try:
                await claims.catch_up()
            finally:
                gc.enable()
            snapshots = SnapshotStore(log, key, settings.embedding_spaces, clock, claims)
            notices = NoticeStore(
                log,
                key,
                clock=clock,
                window=settings.clock_window,
                check_target=partial(check_target, allow_private=settings.webhook_allow_private),
                data_key=data_key,
                retention=settings.personal_retention,
            )
            fetcher = _fetcher(settings)
            resolver = DidWebResolver(fetcher)
            authority = AuthorityService(
                claims,
                Ledger(log, key),
                key,
                clock=clock,
                window=settings.clock_window,
                checker=DomainChecker(fetcher, resolver, dns=_dns(settings)),
            )
            accountability = AccountabilityStore(log, key, clock=clock, window=settings.clock_window)
            witnessing = None
            if settings.witnesses:
                clients = [WitnessClient(url, vkey) for url, vkey in settings.witnesses.items()]
                witnessing = Witnessing(log, clients, quorum=settings.witness_quorum)
            for ledger in (claims.ledger, notices.ledger, authority.ledger, accountability.ledger):
                ledger.on_append = witnessing.submit_in_background if witnessing is not None else None
                ledger.resolver = resolver
                ledger.gate = authority.gate
                ledger.companions = authority.companions
            notices.controller = claims.index.authority.controller
            notices.claims = claims
            policy = RetryPolicy(
                settings.webhook_attempts, settings.webhook_timeout, settings.webhook_backoff
            )
            webhooks = WebhookDeliverer(notices, allow_private=settings.webhook_allow_private, policy=policy)
            notifications = NotifierNotifications(
                notices,
                public_url=settings.base_url,
                smtp=settings.smtp,
                allow_private=settings.webhook_allow_private,
                policy=policy,
            )
            app.state.registry = RegistryState(
                settings=settings,
                key=key,
                claims=claims,
                log=log,
                snapshots=snapshots,
                notices=notices,
                webhooks=webhooks,
                notifications=notifications,
                authority=authority,
                witnessing=witnessing,
                accountability=accountability,
            )
            if witnessing is not None:
                witnessing.submit_in_background()  # the checkpoint as the registry starts
            await webhooks.resume()
            await notifications.resume()
            sweeper = asyncio.create_task(_remind_periodically(notices, settings.reminder_interval))
            rechecker = asyncio.create_task(_recheck_periodically(authority, settings.verification_interval))
            if freeze_after_start:
                # What start-up built (above all the index replayed from the log) lives as long as
                # the process: frozen, a collection walks only what requests made since, not every
                # claim the registry holds.
                gc.collect()
                gc.freeze()
            if on_ready is not None:
                on_ready(key.did, created)
            try:
                yield
            finally:
                sweeper.cancel()
                rechecker.cancel()
                await webhooks.close()
                await notifications.close()
                await fetcher.aclose()
                if witnessing is not None:
                    await witnessing.aclose()
                await _advance_mark(settings, log, report.tree_size)

    app = Starlette(routes=ROUTES, exception_handlers=HANDLERS, lifespan=lifespan)
    app.add_middleware(IntegrityGuard)
    return app


class IntegrityGuard:
    """Every request gets 503 `integrity-failure` while the stored log does not verify."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        failure = getattr(scope["app"].state, "integrity_failure", None) if scope["type"] == "http" else None
        if failure is None:
            await self.app(scope, receive, send)
            return
        errors = [{"pointer": pointer, "detail": detail} for pointer, detail in failure.errors]
        response = problem(failure.status, failure.slug, failure.title, failure.detail, errors=errors)
        response.headers["Retry-After"] = "3600"
        await response(scope, receive, send)


async def create_schema(attempts: int = 100) -> None:
    """Create what tables and indexes are missing (Tortoise's `safe` schema), on a live database too.

    On PostgreSQL `CREATE INDEX IF NOT EXISTS` takes a SHARE lock on its table even when the index
    exists, so a worker starting while another files could deadlock with that filing, which
    PostgreSQL would then abort (a 500 on the running worker). There the schema gives way instead:
    each lock is waited for at most 200 ms, less than PostgreSQL's 1 s before it looks for
    deadlocks, and the whole schema is tried again after a pause.
    """
    from tortoise import connections
    from tortoise.transactions import in_transaction
    from tortoise.utils import generate_schema_for_client

    if connections.get("default").capabilities.dialect != "postgres":
        await Tortoise.generate_schemas(safe=True)
        return
    import asyncpg

    for attempt in range(1, attempts + 1):
        try:
            async with in_transaction() as connection:
                await connection.execute_script("SET LOCAL lock_timeout = '200ms'")
                await generate_schema_for_client(connection, safe=True)
            return
        except (asyncpg.exceptions.LockNotAvailableError, asyncpg.exceptions.DeadlockDetectedError):
            if attempt == attempts:
                raise
            await asyncio.sleep(0.05 * min(attempt, 10))


async def verify_database(settings: Settings) -> integrity.Report:
    """`kotowari serve --verify`: verify every entry's signature and every row, then close."""
    key, _ = load_or_create_registry_key(settings.data_dir)
    origin = settings.log_origin or default_origin(key)
    await Tortoise.init(db_url=settings.database_url, modules={"models": MODELS})
    try:
        await create_schema()
        log = TransparencyLog(origin, note_signer(key, origin))
        report = await integrity.verify(log, key.public, settings.data_dir, full=True)
        await integrity.write_mark(settings.data_dir, log, report.tree_size)
        return report
    finally:
        await Tortoise.close_connections()


async def _advance_mark(settings: Settings, log: TransparencyLog, verified: int) -> None:
    """Move the verification mark over what this process appended (checked at intake), so the next
    start re-verifies no signature it already checked; a failure only costs that next start time."""
    try:
        size = await log.verified_through(verified)
        if size > verified:
            await integrity.write_mark(settings.data_dir, log, size)
    except Exception as exc:  # shutting down: say so and carry on
        logging.getLogger("kotowari.integrity").error("the verification mark was not advanced: %s", exc)


def _fetcher(settings: Settings) -> HttpsFetcher:
    """The one guarded HTTPS client for did:web documents and verification files."""
    verify: ssl.SSLContext | bool = True
    if settings.fetch_ca_file:
        verify = ssl.create_default_context(cafile=settings.fetch_ca_file)
    table = dict(settings.fetch_resolve)

    async def resolve(host: str, port: int) -> list[str]:
        if host.lower() in table:
            return [table[host.lower()]]
        return await system_resolver(host, port)

    return HttpsFetcher(
        allow_private=settings.fetch_allow_private,
        verify=verify,
        timeout=settings.fetch_timeout,
        https_port=settings.fetch_https_port,
        resolve=resolve,
    )


def _dns(settings: Settings) -> DnsTxtLookup | None:
    if not settings.dns_nameserver:
        return DnsTxtLookup()
    host, _, port = (
        settings.dns_nameserver.rpartition(":")
        if ":" in settings.dns_nameserver
        else (
            settings.dns_nameserver,
            "",
            "53",
        )
    )
    return DnsTxtLookup(nameservers=[(host.strip("[]"), int(port or 53))])


async def _recheck_periodically(authority: AuthorityService, interval: float) -> None:
    """Re-check domain verifications every `interval` seconds (0 turns it off); failures lapse."""
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        with contextlib.suppress(Exception):
            lapsed = await authority.recheck()
            if lapsed:
                logging.getLogger("kotowari.authority").info("%d domain verifications lapsed", len(lapsed))


async def _remind_periodically(notices: NoticeStore, interval: float) -> None:
    """Flag overdue notices, and erase personal data past retention, every `interval` seconds (0: off)."""
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        with contextlib.suppress(Exception):
            reminded = await notices.remind_overdue()
            if reminded:
                logging.getLogger("kotowari.notices").info("reminded %d overdue notices", len(reminded))
            erased = await notices.privacy.erase_expired()
            if erased:
                logging.getLogger("kotowari.privacy").info(
                    "retention erased %d notices' personal data", len(erased)
                )
