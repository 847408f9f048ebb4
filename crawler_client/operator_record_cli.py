"""`kotowari operator record DID` and `kotowari operator ranking`: an operator's public record, and
every operator ranked, as the registry computes them from its log (`registry.accountability`).

`--csv` writes what a spreadsheet reads (the record's notices, one a row; the ranking, one operator
a row), made here from the JSON answer by the registry's own export functions, so it is the
registry's CSV byte for byte. `--at TIME` judges deadlines at another moment (what will be overdue
next week). Nothing here trusts more than the registry says; `tests/api/` recompute the same
answers from the log's tiles.

    kotowari operator ranking --sort repeats --registry http://127.0.0.1:8000
    kotowari operator record did:key:z6Mk… --registry http://127.0.0.1:8000 --csv --out notices.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from crawler_client.cli_support import Parser, UsageError, os_reason, refuse_repeats, registry_flag
from crawler_client.i18n import _, local_time


def _params(args: argparse.Namespace) -> dict[str, str | int]:
    params: dict[str, str | int] = {}
    if args.at:
        params["at"] = args.at
    return params


def _write(text: str, out: str | None) -> None:
    if out is None or out == "-":
        sys.stdout.write(text)
        return
    try:
        Path(out).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(_("--out {path}: {reason}").format(path=out, reason=os_reason(exc))) from None
    print(_("wrote {path}").format(path=out), file=sys.stderr)


def cmd_operator_record(args: argparse.Namespace) -> int:
    import json

    from crawler_client.client import Client
    from registry.accountability.record import notices_csv

    with Client(args.registry) as registry:
        record = registry.request(
            "GET", f"/v1/accountability/operators/{quote(args.did, safe=':')}", params=_params(args)
        )
    if args.csv:
        _write(notices_csv(record), args.out)
    elif args.json:
        _write(json.dumps(record, ensure_ascii=False, indent=2) + "\n", args.out)
    else:
        _write("\n".join(record_lines(record)) + "\n", args.out)
    return 0


def record_lines(record: dict[str, Any]) -> list[str]:
    """The record in lines: identity, disclosures, notices, actions, rejections, repeats, requests."""
    who = record["identity"]
    name = who["name"] or _("(not registered)")
    lines = [
        f"{record['operator']}  {name}  {who['authority']}"
        + (f" ({', '.join(who['verified_hosts'])})" if who["verified_hosts"] else "")
    ]
    as_of = _("  as of log size {size}, deadlines judged at {time}")
    lines.append(as_of.format(size=record["tree_size"], time=local_time(record["computed_at"])))
    current = [d for d in record["disclosures"] if d["current"]]
    disclosed = _("disclosures: {current} current, {superseded} superseded")
    lines.append(disclosed.format(current=len(current), superseded=len(record["disclosures"]) - len(current)))
    for disclosure in current:
        subject = disclosure["subject"]
        manifests = disclosure["manifests"]
        backed = sum(m["submitted"] and bool(m["snapshot_in_log"]) for m in manifests)
        explained = ", ".join(e["item"] for e in disclosure["principle_code"]["explain"]) or _("none")
        line = _(
            "  {kind} {id} ({disclosure}…, {time}): honours {signals}; {backed} of {manifests} manifests "
            "verified at a checkpoint of this log; explains {explained}"
        )
        lines.append(
            line.format(
                kind=subject["kind"],
                id=subject["id"],
                disclosure=disclosure["id"][:16],
                time=local_time(disclosure["filed_at"]),
                signals=", ".join(disclosure["signals_honoured"]) or _("no signal"),
                backed=backed,
                manifests=len(manifests),
                explained=explained,
            )
        )
    counts = record["notices"]
    notices = _(
        "notices: {received} received, {acknowledged} acknowledged, {answered_on_time} on time, "
        "{answered_late} late, {overdue} overdue; {actioned} actioned, {rejected} rejected, "
        "{counter_noticed} counter-noticed"
    )
    lines.append(notices.format(**counts))
    if record["actions_taken"]:
        taken = ", ".join(f"{action} ×{n}" for action, n in record["actions_taken"].items())
        lines.append(_("actions taken: {actions}").format(actions=taken))
    for step in record["rejections"]:
        line = _("  rejected notice {notice}… at {time}: {statement}")
        lines.append(
            line.format(notice=step["notice"][:16], time=local_time(step["at"]), statement=step["statement"])
        )
    for step in record["counter_notices"]:
        line = _("  counter-notice on notice {notice}… at {time}: {statement}")
        lines.append(
            line.format(notice=step["notice"][:16], time=local_time(step["at"]), statement=step["statement"])
        )
    lines.append(_("repeat findings: {count}").format(count=record["repeats"]))
    for finding in record["repeat_findings"]:
        if finding["kind"] == "same-subject-after-action":
            line = _("  notice {notice}… names what notice {earlier}… named, acted upon at {time} ({shared})")
            lines.append(
                line.format(
                    notice=finding["notice"][:16],
                    earlier=finding["earlier"][:16],
                    time=local_time(finding["earlier_actioned_at"]),
                    shared=", ".join(finding["shared"]),
                )
            )
        else:
            line = _("  {count} upheld notices for model {model}")
            lines.append(line.format(count=len(finding["notices"]), model=finding["model"]))
    summary = record["information_requests_summary"]
    requests = _(
        "information requests: {received} ({answered} answered on time, {late} late, {overdue} overdue, "
        "{open} open)"
    )
    lines.append(
        requests.format(
            received=summary["received"],
            answered=summary["answered"],
            late=summary["answered-late"],
            overdue=summary["overdue"],
            open=summary["open"],
        )
    )
    for request in record["information_requests"]:
        who_asked = request["authority_name"] or request["authority"]
        line = _("  request {id} from {authority}, deadline {time}: {status}")
        lines.append(
            line.format(
                id=request["id"],
                authority=who_asked,
                time=local_time(request["deadline"]),
                status=request["status"],
            )
        )
    return lines


def cmd_operator_ranking(args: argparse.Namespace) -> int:
    import json

    from crawler_client.client import Client
    from registry.accountability.record import ranking_csv

    params = {**_params(args), "sort": args.sort}
    with Client(args.registry) as registry:
        answer = registry.request("GET", "/v1/accountability/operators", params=params)
    if args.csv:
        _write(ranking_csv(answer), args.out)
        return 0
    if args.json:
        _write(json.dumps(answer, ensure_ascii=False, indent=2) + "\n", args.out)
        return 0
    heading = _("as of log size {size}, deadlines judged at {time}, by {sort}")
    lines = [
        heading.format(size=answer["tree_size"], time=local_time(answer["computed_at"]), sort=answer["sort"])
    ]
    for row in answer["operators"]:
        line = _(
            "{rank:>3}. {operator}  {name} [{authority}]  {overdue} overdue, {repeats} repeats, "
            "{notices} notices, {requests} requests overdue"
        )
        lines.append(
            line.format(
                rank=row["rank"],
                operator=row["operator"],
                name=row["name"] or _("(not registered)"),
                authority=row["authority"],
                overdue=row["overdue"],
                repeats=row["repeats"],
                notices=row["notices_received"],
                requests=row["information_requests_overdue"],
            )
        )
    _write("\n".join(lines) + "\n", args.out)
    return 0


def register(operator: argparse._SubParsersAction[Parser]) -> None:
    """Add `record` and `ranking` under `kotowari operator`."""
    record = refuse_repeats(
        operator.add_parser("record", help=_("an operator's public record, from the log"))
    )
    record.add_argument("did", metavar="DID", help=_("the operator's DID"))
    registry_flag(record)
    _output_flags(record, _("its notices, one a row"))
    record.set_defaults(run=cmd_operator_record)

    ranking = refuse_repeats(
        operator.add_parser("ranking", help=_("every operator, most overdue or most repeats first"))
    )
    ranking.add_argument("--sort", choices=("overdue", "repeats"), default="overdue", help=_("the order"))
    registry_flag(ranking)
    _output_flags(ranking, _("one operator a row"))
    ranking.set_defaults(run=cmd_operator_ranking)


def _output_flags(parser: argparse.ArgumentParser, csv_rows: str) -> None:
    parser.add_argument(
        "--at", metavar="TIME", help=_("judge deadlines at this RFC 3339 UTC time (default: now)")
    )
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help=_("print the registry's JSON answer"))
    form.add_argument("--csv", action="store_true", help=_("CSV: {rows}").format(rows=csv_rows))
    parser.add_argument("--out", metavar="FILE", help=_("write here (default: standard output)"))
