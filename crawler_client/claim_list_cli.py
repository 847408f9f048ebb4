"""`kotowari claim list` and `kotowari claim withdraw`: find your claims, withdraw one or many.

`claim list` pages through `GET /v1/claims` to the end (`--json`: one JSON array, written as it
comes). `claim withdraw` takes one ID, or every active claim matching filters (`--all-matching`,
your own by default), or the ids in a file (`--from`: one per line, or the receipts JSON lines of
`claim import`); for many it says how many and asks first unless `--yes`. Each withdrawal is a
signed document of its own; a claim already withdrawn counts as done, so a re-run is harmless.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler_client.cli_support import UsageError, kind_arg, os_reason, print_json, read_key, registry_flag
from crawler_client.i18n import N_, _

if TYPE_CHECKING:
    import keys
    from crawler_client.client import Client

__all__ = ["cmd_claim_list", "cmd_claim_withdraw", "register"]

_ID = re.compile(r"[0-9a-f]{64}")
WORKERS = 4
"""Withdrawals sent at once: each is its own request and log entry."""
PAGE_SIZE = 500
"""Claims per request when paging through everything (the registry's default page is 100)."""


def _filters(args: argparse.Namespace, claimant: str | None) -> dict[str, Any]:
    return {
        "claimant": claimant,
        "url": args.url,
        "name": args.name,
        "kind": args.kind,
        "status": getattr(args, "status", None),
    }


def _listed(client: Client, filters: dict[str, Any], page_size: int | None) -> Iterator[dict[str, Any]]:
    try:
        yield from client.list_claims(**filters, page_size=PAGE_SIZE if page_size is None else page_size)
    except ValueError as exc:  # page_size out of range
        raise UsageError(_("--page-size: {detail}").format(detail=exc)) from None


def _summary(claim: dict[str, Any]) -> str:
    identifiers = claim.get("document", {}).get("subject", {}).get("identifiers", [])
    shown = ""
    if identifiers:
        first = identifiers[0]
        shown = f"{first.get('scheme')} {first.get('value', first.get('space', ''))}"
        if len(identifiers) > 1:
            shown += f" (+{len(identifiers) - 1})"
    title = claim.get("title")
    return f"{title} — {shown}" if title else shown


def cmd_claim_list(args: argparse.Namespace) -> int:
    from crawler_client.client import Client

    if args.claimant and args.key:
        raise UsageError(_("give --claimant DID or --key FILE (whose DID is the claimant), not both"))
    claimant = read_key(args.key).did if args.key else args.claimant
    count = 0
    with Client(args.registry) as client:
        if args.json:
            sys.stdout.write("[")
        for claim in _listed(client, _filters(args, claimant), args.page_size):
            if args.json:
                sys.stdout.write(("," if count else "") + "\n" + json.dumps(claim, ensure_ascii=False))
            else:
                authority = ", ".join(claim.get("authority", []))
                print(
                    f"{claim['id']}  {claim['status']:<9} {claim['kind']:<8} {_summary(claim)}  [{authority}]"
                )
            count += 1
        if args.json:
            sys.stdout.write("\n]\n" if count else "]\n")
    print(_("{count} claim(s)").format(count=count), file=sys.stderr)
    return 0


# ---------------------------------------------------------------- withdraw


def _ids_from(name: str) -> list[str]:
    """The claim ids in a file: one per line, or JSON lines with an `id` (`claim import` receipts)."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(_("--from {name}: {reason}").format(name=name, reason=os_reason(exc))) from None
    except UnicodeDecodeError:
        raise UsageError(_("--from {name}: not UTF-8 text").format(name=name)) from None
    ids: dict[str, None] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        found: object = line
        if line.startswith("{"):
            try:
                found = json.loads(line).get("id")
            except (ValueError, AttributeError):
                found = None
        if not isinstance(found, str) or not _ID.fullmatch(found):
            message = _("--from {name} line {line}: neither a claim id (64 hex digits) nor a receipt")
            raise UsageError(message.format(name=name, line=number))
        ids[found] = None
    return list(ids)


def _confirm(count: int, what: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        message = _("{count} claim(s) {what} would be withdrawn, permanently: confirm with --yes")
        raise UsageError(message.format(count=count, what=what))
    sys.stderr.write(
        _("withdraw {count} claim(s) {what}? This cannot be undone. [y/N] ").format(count=count, what=what)
    )
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes", "はい", "ｙ")


def _withdraw_one(
    client: Client, key: keys.SigningKey, claim_id: str, reason: str | None
) -> tuple[str, dict[str, Any] | str]:
    """("withdrawn", receipt), ("already", detail) or ("failed", why) for one claim."""
    import keys as keys_module
    from crawler_client.cli import _now
    from crawler_client.errors import KotowariError, RegistryProblem
    from registry.documents import new_withdrawal

    now = _now()
    withdrawal = keys_module.sign_document(
        new_withdrawal(key.did, claim_id, created=now, reason=reason), key, created=now
    )
    try:
        return "withdrawn", {**client.withdraw_claim(claim_id, withdrawal), "document": withdrawal}
    except RegistryProblem as exc:
        if exc.status == 409 and exc.type.endswith("/already-withdrawn"):
            return "already", exc.detail
        return "failed", str(exc)
    except KotowariError as exc:
        return "failed", str(exc)


def cmd_claim_withdraw(args: argparse.Namespace) -> int:
    from crawler_client.client import Client

    modes = [bool(args.id), args.all_matching, args.from_ is not None]
    if sum(modes) != 1:
        raise UsageError(_("say what to withdraw: a claim ID, --all-matching [filters], or --from FILE"))
    filtering = any(getattr(args, name) for name in ("url", "name", "kind", "claimant"))
    if filtering and not args.all_matching:
        raise UsageError(_("--url, --name, --kind and --claimant choose claims for --all-matching"))
    key = read_key(args.key)
    with Client(args.registry) as client:
        if args.id:
            return _single(client, key, args)
        if args.all_matching:
            filters = {**_filters(args, args.claimant or key.did), "status": "active"}
            ids = [claim["id"] for claim in _listed(client, filters, None)]
            what = _("matching")
        else:
            ids = _ids_from(args.from_)
            what = _("listed in {file}").format(file=args.from_)
        if not ids:
            print(_("no claims {what}: nothing to withdraw").format(what=what))
            return 0
        if not _confirm(len(ids), what, args.yes):
            print(_("nothing withdrawn"))
            return 1
        return _many(client, key, ids, args)


def _single(client: Client, key: keys.SigningKey, args: argparse.Namespace) -> int:
    import keys as keys_module
    from crawler_client.cli import _now
    from registry.documents import new_withdrawal

    now = _now()
    withdrawal = keys_module.sign_document(
        new_withdrawal(key.did, args.id, created=now, reason=args.reason), key, created=now
    )
    receipt = client.withdraw_claim(args.id, withdrawal)
    if args.json:
        print_json({**receipt, "document": withdrawal})
    else:
        print(_("withdrew {id}").format(id=args.id))
    return 0


def _many(client: Client, key: keys.SigningKey, ids: list[str], args: argparse.Namespace) -> int:
    from crawler_client.claim_import import progress_for

    outcomes: dict[str, list[tuple[str, Any]]] = {"withdrawn": [], "already": [], "failed": []}
    progress = progress_for(len(ids), N_("withdrawals"))
    try:
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="kotowari-withdraw") as pool:
            for done, (claim_id, (outcome, detail)) in enumerate(
                zip(ids, pool.map(lambda i: _withdraw_one(client, key, i, args.reason), ids), strict=True),
                start=1,
            ):
                outcomes[outcome].append((claim_id, detail))
                if progress is not None:
                    progress(done)
    finally:
        if progress is not None:
            progress.close()
    withdrawn, already, failed = outcomes["withdrawn"], outcomes["already"], outcomes["failed"]
    if args.json:
        print_json(
            {
                "withdrawn": [receipt for _, receipt in withdrawn],
                "already_withdrawn": [claim_id for claim_id, _ in already],
                "failed": [{"id": claim_id, "reason": why} for claim_id, why in failed],
            }
        )
    else:
        for claim_id, why in failed:
            print(_("kotowari: {id}: {reason}").format(id=claim_id, reason=why), file=sys.stderr)
        summary = _("withdrew {withdrawn}, already withdrawn {already}, failed {failed}")
        print(summary.format(withdrawn=len(withdrawn), already=len(already), failed=len(failed)))
    return 1 if failed else 0


# ---------------------------------------------------------------- parsers


def _filter_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", metavar="URL", help=_("claims a check of this URL would match"))
    parser.add_argument("--name", metavar="NAME", help=_("claims a check of this name would match"))
    parser.add_argument(
        "--kind", type=kind_arg, choices=("work", "voice", "likeness"), help=_("only claims about this kind")
    )


def register(claim: Any) -> None:
    """Add `claim list` and `claim withdraw` to the `claim` sub-commands."""
    listing = claim.add_parser("list", help=_("list claims (yours with --key) by URL, name, kind and status"))
    who = listing.add_mutually_exclusive_group()
    who.add_argument("--claimant", metavar="DID", help=_("claims signed by this DID"))
    who.add_argument("--key", metavar="FILE", help=_("claims signed by this key (yours)"))
    _filter_flags(listing)
    listing.add_argument("--status", choices=("active", "withdrawn"), help=_("default: both"))
    listing.add_argument(
        "--page-size", type=int, metavar="N", help=_("claims per request (1 to 1000; default 100)")
    )
    registry_flag(listing)
    listing.add_argument(
        "--json", action="store_true", help=_("a JSON array of the claims, as the registry lists them")
    )
    listing.set_defaults(run=cmd_claim_list)

    withdraw = claim.add_parser(
        "withdraw",
        help=_("withdraw one of your claims, every one matching filters, or those listed in a file"),
        description=_(
            "Withdraw a claim by ID; or with --all-matching every active claim of yours (or of "
            "--claimant) matching --url, --name and --kind; or every id in --from FILE (one per line, or the "
            "receipts of `claim import`). Withdrawing many asks first, unless --yes."
        ),
    )
    withdraw.add_argument("id", metavar="ID", nargs="?", help=_("the claim's id"))
    withdraw.add_argument("--key", required=True, metavar="FILE", help=_("the claimant's key"))
    registry_flag(withdraw)
    withdraw.add_argument("--reason", help=_("why (published with the withdrawal)"))
    withdraw.add_argument(
        "--all-matching", action="store_true", help=_("every active claim matching the filters")
    )
    withdraw.add_argument(
        "--claimant", metavar="DID", help=_("with --all-matching: the claimant (default: --key's)")
    )
    _filter_flags(withdraw)
    withdraw.add_argument(
        "--from", dest="from_", metavar="FILE", help=_("claim ids, one per line, or receipts")
    )
    withdraw.add_argument("--yes", action="store_true", help=_("do not ask before withdrawing many"))
    withdraw.add_argument("--json", action="store_true", help=_("print the receipts as JSON"))
    withdraw.set_defaults(run=cmd_claim_withdraw)
