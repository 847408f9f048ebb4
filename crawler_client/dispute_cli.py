"""`kotowari dispute`: a claimant disputes another claimant's claim on the same subject.

Two claimants may reserve the same voice, work or URL with different wishes; a `Dispute` (signed by
the claimant of the first claim, logged, `POST /v1/disputes`) marks both, and check answers then
say `"disputed": true` for their matches. Without OTHER the command only shows what the registry
links to CLAIM (claims by others sharing an identifier, and disputes already open), so a claimant
can see what there is to dispute.

    kotowari dispute MINE --registry URL                      # what is linked to my claim
    kotowari dispute MINE OTHER --key me.key --statement "I hold the rights; see contract 12" --registry URL
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime

from crawler_client.cli_support import Parser, UsageError, print_json, read_key, refuse_repeats, registry_flag
from crawler_client.i18n import _

_CLAIM_ID = re.compile(r"[0-9a-f]{64}")


def cmd_dispute(args: argparse.Namespace) -> int:
    from crawler_client.client import Client

    for claim_id in (args.claim, args.other):
        if claim_id is not None and not _CLAIM_ID.fullmatch(claim_id):
            raise UsageError(_("{id!r} is not a claim id (64 lower-case hex digits)").format(id=claim_id))
    if args.other is None:
        if args.key or args.statement:
            raise UsageError(_("--key and --statement go with OTHER, the claim you dispute"))
        with Client(args.registry) as registry:
            links = registry.request("GET", f"/v1/claims/{args.claim}/links")
        _print_links(links, args.json)
        return 0
    if args.other == args.claim:
        raise UsageError(_("a claim cannot dispute itself"))
    if not args.key or not args.statement or not args.statement.strip():
        raise UsageError(
            _("disputing OTHER needs --key FILE (the key of CLAIM's claimant) and --statement TEXT")
        )
    return _file(args)


def _file(args: argparse.Namespace) -> int:
    import keys
    from crawler_client.client import Client
    from registry.notices.documents import new_dispute

    key = read_key(args.key)
    created = datetime.now(UTC)
    document = keys.sign_document(
        new_dispute(key.did, args.claim, args.other, args.statement, created=created), key, created=created
    )
    with Client(args.registry) as registry:
        receipt = registry.request("POST", "/v1/disputes", document=document)
    if args.json:
        print_json(receipt)
    else:
        print(receipt["id"])
        shared = ", ".join(receipt["shared_keys"])
        disputed = _(
            "claim {claim} now disputes {other} (both assert {shared}); log entry {index}; checks mark both "
            "claims disputed"
        )
        print(
            disputed.format(claim=args.claim, other=args.other, shared=shared, index=receipt["log"]["index"])
        )
    return 0


def _print_links(links: dict[str, object], as_json: bool) -> None:
    if as_json:
        print_json(links)
        return
    linked = links.get("linked") or []
    disputes = links.get("disputes") or []
    assert isinstance(linked, list) and isinstance(disputes, list)
    heading = _("{claim}: {count} claim(s) by others on the same subject, {disputes} dispute(s)")
    print(heading.format(claim=links["claim"], count=len(linked), disputes=len(disputes)))
    for other in linked:
        line = _("  {claim} by {claimant}: {keys}")
        print(
            line.format(
                claim=other["claim"], claimant=other["claimant"], keys=", ".join(other["shared_keys"])
            )
        )
    for dispute in disputes:
        line = _("  dispute {id}: {claim} disputes {disputed}")
        print(line.format(id=dispute["id"], claim=dispute["claim"], disputed=dispute["disputed"]))


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add `kotowari dispute` to the command line."""
    dispute = refuse_repeats(
        commands.add_parser("dispute", help=_("dispute another claimant's claim on the same subject"))
    )
    dispute.add_argument("claim", metavar="CLAIM", help=_("your claim's id"))
    dispute.add_argument(
        "other", metavar="OTHER", nargs="?", help=_("the claim you dispute (omit to list links)")
    )
    dispute.add_argument("--key", metavar="FILE", help=_("the key of CLAIM's claimant"))
    dispute.add_argument("--statement", metavar="TEXT", help=_("why (published in the log)"))
    registry_flag(dispute)
    dispute.add_argument("--json", action="store_true", help=_("print the answer as JSON"))
    dispute.set_defaults(run=cmd_dispute)
