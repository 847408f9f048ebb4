"""`kotowari admin erase|authority|verify`: an administrator erases personal data on a legal order,
marks a domain-verified organisation as an authority that may send information requests to operators,
or checks a database (a restored backup, say) against the log before it is served.

Runs on the registry's own machine, against its database and data directory (the registry key
signs the logged erasure record; the data key is not needed to erase). The erasure removes the
sealed personal parts, keeps their commitments, and appends a `PersonalDataErasure` with ground
`legal-order` and the order's reference; a running registry serves the result at once.

    kotowari admin erase NOTICE_ID --reference "Tokyo District Court 2026 (ワ) 123" --data-dir DIR

`authority` signs an `AuthorityDesignation` with the registry key (`--revoke` ends it) for a DID the
log holds a domain verification for; until then its information requests are refused (403).

    kotowari admin authority did:key:z6Mk… --name "Example Regulator" --data-dir DIR

`verify` is `kotowari serve --verify` without the serving: every entry, signature and cached row, and
the data directory's verification mark (a database rolled back behind it fails). `--checkpoint FILE`
adds checkpoints the registry signed and published (its static tree, a monitor's or witness's copy):
the database must hold each one's tree, entry for entry, or clients may hold receipts it has lost.

    kotowari admin verify --db postgres://… --data-dir DIR --checkpoint published/log/checkpoint
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from crawler_client.cli_support import Parser, UsageError, os_reason, print_json
from crawler_client.i18n import _, said


def _registry_files(args: argparse.Namespace) -> tuple[Any, Any, str]:
    """The registry's settings, key and log origin, from its data directory (`--data-dir`, `--db`)."""
    from api.settings import Settings
    from registry.identity import default_origin, load_or_create_registry_key

    try:
        settings = Settings.from_env(db_url=args.db, data_dir=args.data_dir)
        settings.database_url  # noqa: B018 - refuse an unsupported URL here
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not (settings.data_dir / "registry.key").exists():
        message = _("--data-dir {path}: no registry key there (is it the registry's?)")
        raise UsageError(message.format(path=settings.data_dir))
    key, _created = load_or_create_registry_key(settings.data_dir)
    return settings, key, settings.log_origin or default_origin(key)


async def _erase(args: argparse.Namespace) -> dict[str, Any]:
    from tortoise import Tortoise

    from api.app import MODELS
    from registry.errors import RegistryError
    from registry.identity import note_signer
    from registry.log import TransparencyLog
    from registry.notices.store import NoticeStore
    from registry.privacy.vault import load_or_create_data_key

    settings, key, origin = _registry_files(args)
    data_key, _data_key_created = load_or_create_data_key(settings.data_dir)
    await Tortoise.init(db_url=settings.database_url, modules={"models": MODELS})
    try:
        store = NoticeStore(TransparencyLog(origin, note_signer(key, origin)), key, data_key=data_key)
        return await store.privacy.erase_by_registry(
            "legal-order",
            notice_id=args.notice,
            documents=args.document,
            reference=args.reference,
        )
    except RegistryError as exc:
        raise UsageError(exc.detail) from None
    finally:
        await Tortoise.close_connections()


async def _designate(args: argparse.Namespace) -> dict[str, Any]:
    from tortoise import Tortoise

    from api.app import MODELS
    from registry.accountability.store import AccountabilityStore
    from registry.errors import RegistryError
    from registry.identity import note_signer
    from registry.log import TransparencyLog

    settings, key, origin = _registry_files(args)
    await Tortoise.init(db_url=settings.database_url, modules={"models": MODELS})
    try:
        store = AccountabilityStore(TransparencyLog(origin, note_signer(key, origin)), key)
        return await store.designate(
            args.did, args.name, host=args.host, revoke=args.revoke, reference=args.reference
        )
    except RegistryError as exc:
        raise UsageError(exc.detail) from None
    finally:
        await Tortoise.close_connections()


def cmd_admin_authority(args: argparse.Namespace) -> int:
    import asyncio

    if not args.revoke and not args.name:
        raise UsageError(_("--name: the organisation's name, as the operators' records will show it"))

    try:
        receipt = asyncio.run(_designate(args))
    except ImportError as exc:
        message = _("the server is not installed ({module}): pip install 'kotowari[server]'")
        raise UsageError(message.format(module=exc.name)) from None
    if args.json:
        print_json(receipt)
        return 0
    designation = receipt["designation"]
    if args.revoke:
        done = _(
            "revoked the designation of {did} ({name}, {host}) as an authority;"
            " logged as entry {index} ({id})"
        )
    else:
        done = _("designated {did} ({name}, {host}) as an authority; logged as entry {index} ({id})")
    print(
        done.format(
            did=designation["subject"],
            name=designation["name"],
            host=designation["host"],
            index=receipt["log"]["index"],
            id=receipt["id"],
        )
    )
    return 0


def cmd_admin_erase(args: argparse.Namespace) -> int:
    if args.notice is None and not args.document:
        raise UsageError(_("name the notice, or --document for an operator registration's personal part"))
    import asyncio

    try:
        receipt = asyncio.run(_erase(args))
    except ImportError as exc:
        message = _("the server is not installed ({module}): pip install 'kotowari[server]'")
        raise UsageError(message.format(module=exc.name)) from None
    if args.json:
        print_json(receipt)
    else:
        erased = _(
            "erased the personal data of {count} document(s) on a legal order; logged as entry {index} ({id})"
        )
        print(erased.format(count=len(receipt["documents"]), index=receipt["log"]["index"], id=receipt["id"]))
    return 0


def _published(paths: list[str], verifier: Any, origin: str) -> list[tuple[str, Any]]:
    """Each `--checkpoint` file as (path, Checkpoint), its signature by this registry checked."""
    from keys.note import Checkpoint, InvalidCheckpoint, InvalidNote, open_note

    found = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as source:
                note = open_note(source.read(), [verifier])
            checkpoint = Checkpoint.parse(note.text)
        except OSError as exc:
            raise UsageError(
                _("--checkpoint {path}: {reason}").format(path=path, reason=os_reason(exc))
            ) from None
        except (InvalidNote, InvalidCheckpoint, UnicodeDecodeError) as exc:
            message = _("--checkpoint {path}: not a checkpoint this registry signed ({reason})")
            raise UsageError(message.format(path=path, reason=exc)) from None
        if checkpoint.origin != origin:
            message = _("--checkpoint {path}: a checkpoint of the log {origin}, not of this one")
            raise UsageError(message.format(path=path, origin=checkpoint.origin))
        found.append((path, checkpoint))
    return found


async def _verify(args: argparse.Namespace) -> Any:
    from tortoise import Tortoise
    from tortoise.exceptions import BaseORMException

    from api.app import MODELS
    from registry import integrity
    from registry.identity import note_signer
    from registry.log import TransparencyLog

    settings, key, origin = _registry_files(args)
    if settings.database_url.startswith("sqlite://"):
        database = settings.database_url.removeprefix("sqlite://")
        if not os.path.exists(database):  # SQLite would create it: verify changes nothing
            raise UsageError(_("no database at {path}").format(path=database))
    log = TransparencyLog(origin, note_signer(key, origin))
    published = _published(args.checkpoint, log.signer.verifier, origin)
    try:
        await Tortoise.init(db_url=settings.database_url, modules={"models": MODELS})
        report = await integrity.verify(log, key.public, settings.data_dir, full=True)
        for path, checkpoint in published:
            if checkpoint.size > report.tree_size:
                missing = _(
                    "{path}: the registry signed a tree of {size} entries, this database holds {held}:"
                    " entries are missing (restore a later backup, or replay the WAL)"
                )
                raise integrity.IntegrityFailure(
                    missing.format(path=path, size=checkpoint.size, held=report.tree_size)
                )
            if await log.root(checkpoint.size) != checkpoint.root_hash:
                fork = _(
                    "{path}: at tree size {size} this database holds another tree than the one the"
                    " registry signed (a fork)"
                )
                raise integrity.IntegrityFailure(fork.format(path=path, size=checkpoint.size))
        await integrity.write_mark(settings.data_dir, log, report.tree_size)
        return report, published
    except (BaseORMException, OSError) as exc:  # no such database, no tables, refused connection
        message = _("cannot read the registry's database ({reason})")
        raise UsageError(message.format(reason=f"{type(exc).__name__}: {exc}".strip())) from None
    finally:
        await Tortoise.close_connections()


def cmd_admin_verify(args: argparse.Namespace) -> int:
    import asyncio

    try:
        from registry.integrity import IntegrityFailure

        report, published = asyncio.run(_verify(args))
    except ImportError as exc:
        message = _("the server is not installed ({module}): pip install 'kotowari[server]'")
        raise UsageError(message.format(module=exc.name)) from None
    except IntegrityFailure as exc:
        print(
            _("kotowari: the log does not verify: {detail}").format(detail=said(exc.detail)), file=sys.stderr
        )
        return 1
    verified = _("verified {entries} log entries, {signatures} signatures and {rows} cached rows")
    print(
        verified.format(
            entries=report.tree_size, signatures=report.signatures_checked, rows=report.rows_checked
        )
    )
    for path, checkpoint in published:
        holds = _("holds the tree of {path} (size {size}), as the registry signed it")
        print(holds.format(path=path, size=checkpoint.size))
    return 0


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add `kotowari admin …` to the command line."""
    admin = commands.add_parser("admin", help=_("registry administration (on the registry's machine)"))
    sub = admin.add_subparsers(dest="admin_command", required=True, metavar="COMMAND", parser_class=Parser)
    erase = sub.add_parser("erase", help=_("erase personal data on a legal order (logged, without the data)"))
    erase.add_argument("notice", nargs="?", metavar="NOTICE_ID", help=_("every held part of this notice"))
    erase.add_argument(
        "--document", action="append", default=[], metavar="ID", help=_("only these documents' parts")
    )
    erase.add_argument(
        "--reference", required=True, metavar="TEXT", help=_("the order's reference (no personal data)")
    )
    erase.add_argument(
        "--db", metavar="URL", help=_("the registry's database (default: SQLite in --data-dir)")
    )
    erase.add_argument("--data-dir", metavar="DIR", help=_("the registry's data directory"))
    erase.add_argument("--json", action="store_true", help=_("print the receipt as JSON"))
    erase.set_defaults(run=cmd_admin_erase)

    authority = sub.add_parser(
        "authority", help=_("mark a domain-verified organisation as an authority (information requests)")
    )
    authority.add_argument(
        "did", metavar="DID", help=_("the organisation's DID (domain-verified in the log)")
    )
    authority.add_argument("--name", help=_("the organisation's name, as the records show it (to designate)"))
    authority.add_argument("--host", help=_("which of its verified domains to name (default: the first)"))
    authority.add_argument(
        "--reference", metavar="TEXT", help=_("why (a statute, an agreement; no personal data)")
    )
    authority.add_argument("--revoke", action="store_true", help=_("end the designation instead"))
    authority.add_argument(
        "--db", metavar="URL", help=_("the registry's database (default: SQLite in --data-dir)")
    )
    authority.add_argument("--data-dir", metavar="DIR", help=_("the registry's data directory"))
    authority.add_argument("--json", action="store_true")
    authority.set_defaults(run=cmd_admin_authority)

    verify = sub.add_parser(
        "verify", help=_("check the database against the log (a restored backup) without serving it")
    )
    verify.add_argument(
        "--db", metavar="URL", help=_("the registry's database (default: SQLite in --data-dir)")
    )
    verify.add_argument("--data-dir", metavar="DIR", help=_("the registry's data directory"))
    verify.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help=_("a checkpoint the registry published: the database must hold its tree (repeatable)"),
    )
    verify.set_defaults(run=cmd_admin_verify)
