"""`kotowari admin erase`: an administrator erases personal data on a legal order.

Runs on the registry's own machine, against its database and data directory (the registry key
signs the logged erasure record; the data key is not needed to erase). The erasure removes the
sealed personal parts, keeps their commitments, and appends a `PersonalDataErasure` with ground
`legal-order` and the order's reference; a running registry serves the result at once.

    kotowari admin erase NOTICE_ID --reference "Tokyo District Court 2026 (ワ) 123" --data-dir DIR
"""

from __future__ import annotations

import argparse
from typing import Any

from crawler_client.cli_support import Parser, UsageError, print_json


async def _erase(args: argparse.Namespace) -> dict[str, Any]:
    from tortoise import Tortoise

    from api.app import MODELS
    from api.settings import Settings
    from registry.errors import RegistryError
    from registry.identity import default_origin, load_or_create_registry_key, note_signer
    from registry.log import TransparencyLog
    from registry.notices.store import NoticeStore
    from registry.privacy.vault import load_or_create_data_key

    try:
        settings = Settings.from_env(db_url=args.db, data_dir=args.data_dir)
        url = settings.database_url
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not (settings.data_dir / "registry.key").exists():
        raise UsageError(f"--data-dir {settings.data_dir}: no registry key there (is it the registry's?)")
    key, _ = load_or_create_registry_key(settings.data_dir)
    data_key, _ = load_or_create_data_key(settings.data_dir)
    origin = settings.log_origin or default_origin(key)
    await Tortoise.init(db_url=url, modules={"models": MODELS})
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


def cmd_admin_erase(args: argparse.Namespace) -> int:
    if args.notice is None and not args.document:
        raise UsageError("name the notice, or --document for an operator registration's personal part")
    import asyncio

    try:
        receipt = asyncio.run(_erase(args))
    except ImportError as exc:
        raise UsageError(
            f"the server is not installed ({exc.name}): pip install 'kotowari[server]'"
        ) from None
    if args.json:
        print_json(receipt)
    else:
        print(
            f"erased the personal data of {len(receipt['documents'])} document(s) on a legal order; "
            f"logged as entry {receipt['log']['index']} ({receipt['id']})"
        )
    return 0


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add `kotowari admin …` to the command line."""
    admin = commands.add_parser("admin", help="registry administration (on the registry's machine)")
    sub = admin.add_subparsers(dest="admin_command", required=True, metavar="COMMAND", parser_class=Parser)
    erase = sub.add_parser("erase", help="erase personal data on a legal order (logged, without the data)")
    erase.add_argument("notice", nargs="?", metavar="NOTICE_ID", help="every held part of this notice")
    erase.add_argument(
        "--document", action="append", default=[], metavar="ID", help="only these documents' parts"
    )
    erase.add_argument(
        "--reference", required=True, metavar="TEXT", help="the order's reference (no personal data)"
    )
    erase.add_argument("--db", metavar="URL", help="the registry's database (default: SQLite in --data-dir)")
    erase.add_argument("--data-dir", metavar="DIR", help="the registry's data directory")
    erase.add_argument("--json", action="store_true")
    erase.set_defaults(run=cmd_admin_erase)
