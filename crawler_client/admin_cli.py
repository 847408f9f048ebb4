"""`kotowari admin erase|authority`: an administrator erases personal data on a legal order, or marks
a domain-verified organisation as an authority that may send information requests to operators.

Runs on the registry's own machine, against its database and data directory (the registry key
signs the logged erasure record; the data key is not needed to erase). The erasure removes the
sealed personal parts, keeps their commitments, and appends a `PersonalDataErasure` with ground
`legal-order` and the order's reference; a running registry serves the result at once.

    kotowari admin erase NOTICE_ID --reference "Tokyo District Court 2026 (ワ) 123" --data-dir DIR

`authority` signs an `AuthorityDesignation` with the registry key (`--revoke` ends it) for a DID the
log holds a domain verification for; until then its information requests are refused (403).

    kotowari admin authority did:key:z6Mk… --name "Example Regulator" --data-dir DIR
"""

from __future__ import annotations

import argparse
from typing import Any

from crawler_client.cli_support import Parser, UsageError, print_json
from crawler_client.i18n import _


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
        raise UsageError("--name: the organisation's name, as the operators' records will show it")

    try:
        receipt = asyncio.run(_designate(args))
    except ImportError as exc:
        message = _("the server is not installed ({module}): pip install 'kotowari[server]'")
        raise UsageError(message.format(module=exc.name)) from None
    if args.json:
        print_json(receipt)
        return 0
    designation = receipt["designation"]
    done = "revoked the designation of" if args.revoke else "designated"
    print(
        f"{done} {designation['subject']} ({designation['name']}, {designation['host']}) as an authority; "
        f"logged as entry {receipt['log']['index']} ({receipt['id']})"
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
