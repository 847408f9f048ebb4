"""`kotowari operator list|show`: find an operator's DID by name or domain before filing a notice.

A notice names its operator by DID (`notice new --operator DID`); the directory
(`GET /v1/operators`) is where a notifier looks it up. `list` follows the pages to the end (or to
`--limit`); no operator matching is a negative result (exit 1). The authority column matters: a
`domain-verified` operator proved it controls its domain, a `self-asserted` one only chose its name.

    kotowari operator list --domain acme.example --registry http://127.0.0.1:8000
    did:web:acme.example  Acme AI  acme.example (domain-verified)  webhook
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from crawler_client.cli_support import (
    Negative,
    Parser,
    UsageError,
    print_json,
    refuse_repeats,
    registry_flag,
)
from crawler_client.i18n import _, local_time


def cmd_operator_list(args: argparse.Namespace) -> int:
    from crawler_client.client import Client

    limit = _limit(args.limit)
    params: dict[str, str | int] = {}
    if args.name is not None:
        params["name"] = args.name
    if args.domain is not None:
        params["domain"] = args.domain
    if limit is not None:
        params["limit"] = min(limit, 200)
    found: list[dict[str, Any]] = []
    with Client(args.registry) as registry:
        while limit is None or len(found) < limit:
            page = registry.request("GET", "/v1/operators", params=params)
            found += page["operators"]
            if not page.get("cursor"):
                break
            params["cursor"] = page["cursor"]
    if limit is not None:
        found = found[:limit]
    if args.json:
        print_json({"operators": found})
    else:
        for entry in found:
            print(_line(entry))
    if not found:
        print(_("no registered operator matches"), file=sys.stderr)
        raise Negative
    return 0


def _limit(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise UsageError(_("--limit {value!r}: a whole number, at least 1").format(value=text))
    return int(text)


def _line(entry: dict[str, Any]) -> str:
    how = _("webhook") if entry["webhook"] else _("pulls its inbox")
    line = f"{entry['did']}  {entry['name']}  {entry['domain']} ({entry['authority']})  {how}"
    if entry.get("name_disputed"):
        holder = entry.get("name_held_by")
        line += (
            _("  NAME DISPUTED: held by {holder}").format(holder=holder) if holder else _("  NAME DISPUTED")
        )
    return line


def cmd_operator_show(args: argparse.Namespace) -> int:
    from urllib.parse import quote

    from crawler_client.client import Client

    with Client(args.registry) as registry:
        entry = registry.request("GET", f"/v1/operators/{quote(args.did, safe=':')}")
    if args.json:
        print_json(entry)
        return 0
    print(_line(entry))
    registered = _("  registered {time} (log entry {index})")
    print(
        registered.format(time=local_time(entry["registered_at"]), index=entry["registration"]["log_index"])
    )
    if entry["verified_hosts"]:
        print(_("  verified for {hosts}").format(hosts=", ".join(entry["verified_hosts"])))
    for name, path in entry["links"].items():
        if name != "self":
            print(f"  {name}: {args.registry.rstrip('/')}{path}")
    return 0


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add `kotowari operator …` to the command line."""
    operator = commands.add_parser(
        "operator", help=_("the directory of operators that receive notices")
    ).add_subparsers(dest="operator_command", required=True, metavar="COMMAND", parser_class=Parser)
    listing = refuse_repeats(operator.add_parser("list", help=_("registered operators, by name or domain")))
    listing.add_argument("--name", help=_("only operators whose name contains this (case and width folded)"))
    listing.add_argument("--domain", help=_("only operators verified for this domain (or a did:web on it)"))
    listing.add_argument("--limit", metavar="N", help=_("at most N operators (default: all)"))
    registry_flag(listing)
    listing.add_argument("--json", action="store_true", help=_("print the directory entries"))
    listing.set_defaults(run=cmd_operator_list)

    show = refuse_repeats(operator.add_parser("show", help=_("one operator's directory entry")))
    show.add_argument("did", metavar="DID", help=_("the operator's DID"))
    registry_flag(show)
    show.add_argument("--json", action="store_true", help=_("print the directory entry"))
    show.set_defaults(run=cmd_operator_show)

    from crawler_client.operator_record_cli import register as register_record

    register_record(operator)  # record DID, ranking: the public records (registry.accountability)
