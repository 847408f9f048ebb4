"""`kotowari info-request new|file|answer|show`: a designated authority asks an operator to explain,
and the operator answers; the request, its deadline and the answer (or its absence) become part of
the operator's public record.

Only an authority the registry's administrator designated (`kotowari admin authority`, for a
domain-verified organisation) may file a request; anyone else is refused (403 `not-an-authority`)
and nothing changes. Only the operator addressed may answer.

    kotowari info-request new --key regulator.key --operator did:key:z6Mk… --topic safeguards \\
        --question "Which checks stop your service imitating a registered voice?" --days 14 --out request.json
    kotowari info-request file request.json --registry http://127.0.0.1:8000
    kotowari info-request answer REQUEST_ID --key acme.key --statement "…" --registry http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from crawler_client.accountability_cli_support import post_document, sign_checked
from crawler_client.cli_support import (
    Parser,
    UsageError,
    print_json,
    read_document,
    read_key,
    refuse_repeats,
    registry_flag,
)
from crawler_client.i18n import _, local_time
from registry.accountability.vocabulary import TOPICS


def _deadline(args: argparse.Namespace, now: datetime) -> datetime:
    if args.deadline:
        from registry.documents import parse_timestamp

        try:
            return parse_timestamp(args.deadline).replace(tzinfo=UTC)
        except ValueError as exc:
            raise UsageError(_("--deadline: {detail}").format(detail=exc)) from None
    if args.days is None or args.days < 1:
        raise UsageError(_("give the deadline: --days N (at least 1) or --deadline 2027-01-31T00:00:00Z"))
    return now + timedelta(days=args.days)


def cmd_request_new(args: argparse.Namespace) -> int:
    from registry.accountability.documents import (
        InformationRequest,
        new_information_request,
    )

    key = read_key(args.key)
    now = datetime.now(UTC)
    subjects = [{"kind": "model", "id": model} for model in args.model]
    subjects += [{"kind": "service", "id": service} for service in args.service]
    document = new_information_request(
        key.did,
        args.operator,
        topics=list(dict.fromkeys(args.topic)),
        questions=args.question,
        deadline=_deadline(args, now),
        created=now,
        subjects=subjects,
        legal_basis=args.legal_basis,
        reference=args.reference,
    )
    sign_checked(InformationRequest, document, key, now, args.out)
    return 0


def cmd_request_file(args: argparse.Namespace) -> int:
    receipt = post_document(args, "/v1/information-requests", read_document(args.file))
    if receipt is None:
        return 0
    print(receipt["id"])
    sent = _(
        "sent to {operator}, to answer by {time}; logged as entry {index}: its record shows the request, "
        "and the answer or that none came"
    )
    shown = sent.format(
        operator=receipt["operator"], time=local_time(receipt["deadline"]), index=receipt["log"]["index"]
    )
    print(shown, file=sys.stderr)
    return 0


def cmd_request_answer(args: argparse.Namespace) -> int:
    import keys
    from registry.accountability.documents import new_information_answer

    key = read_key(args.key)
    now = datetime.now(UTC)
    document = new_information_answer(
        key.did, args.id, args.statement, created=now, answers=args.answer, disclosures=args.disclosure
    )
    signed = keys.sign_document(document, key, created=now)
    receipt = post_document(args, f"/v1/information-requests/{args.id}/answers", signed)
    if receipt is None:
        return 0
    on_time = receipt["received_at"] <= receipt["deadline"]
    print(receipt["id"])
    if on_time:
        answered = _("answered request {id} before its deadline {time}; logged as entry {index}")
    else:
        answered = _("answered request {id} after its deadline {time}; logged as entry {index}")
    shown = answered.format(id=args.id, time=local_time(receipt["deadline"]), index=receipt["log"]["index"])
    print(shown, file=sys.stderr)
    return 0


def cmd_request_show(args: argparse.Namespace) -> int:
    from crawler_client.client import Client

    with Client(args.registry) as registry:
        request = registry.request("GET", f"/v1/information-requests/{args.id}")
    if args.json:
        print_json(request)
        return 0
    for line in request_lines(request):
        print(line)
    return 0


def request_lines(request: dict[str, Any]) -> list[str]:
    """A request as the CLI shows it: who asked whom, by when, its status, questions and answers."""
    who = request.get("authority_name") or request["authority"]
    lines = [
        _("request {id} from {authority} to {operator}")
        .format(id=request["id"], authority=who, operator=request.get("operator", ""))
        .rstrip(),
        _("  deadline {time}: {status}; topics {topics}").format(
            time=local_time(request["deadline"]),
            status=request["status"],
            topics=", ".join(request["topics"]),
        ),
    ]
    lines += [_("  question: {question}").format(question=question) for question in request["questions"]]
    lines += [
        _("  answer at {time}: {statement}").format(
            time=local_time(answer["answered_at"]), statement=answer["statement"]
        )
        for answer in request["answers"]
    ]
    return lines


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add `kotowari info-request …` to the command line."""
    requests = commands.add_parser(
        "info-request", help=_("an authority's information request to an operator, and its answer")
    ).add_subparsers(dest="request_command", required=True, metavar="COMMAND", parser_class=Parser)
    new = refuse_repeats(
        requests.add_parser("new", help=_("build and sign a request offline (an authority)"))
    )
    new.add_argument("--key", required=True, metavar="FILE", help=_("the designated authority's key"))
    new.add_argument("--operator", required=True, metavar="DID", help=_("the operator asked"))
    new.add_argument(
        "--topic", action="append", required=True, choices=TOPICS, help=_("what it asks about (repeatable)")
    )
    new.add_argument("--question", action="append", required=True, metavar="TEXT", help=_("repeatable"))
    when = new.add_mutually_exclusive_group()
    when.add_argument("--days", type=int, metavar="N", help=_("answer within N days"))
    when.add_argument("--deadline", metavar="TIME", help=_("answer by this RFC 3339 UTC time"))
    new.add_argument("--model", action="append", default=[], metavar="ID", help=_("a model concerned"))
    new.add_argument("--service", action="append", default=[], metavar="ID", help=_("a service concerned"))
    new.add_argument("--legal-basis", metavar="TEXT", help=_("the provision or guidance it relies on"))
    new.add_argument("--reference", metavar="TEXT", help=_("the authority's own file reference"))
    new.add_argument("--out", metavar="FILE", help=_("write here (default: standard output)"))
    new.set_defaults(run=cmd_request_new)

    file_ = refuse_repeats(requests.add_parser("file", help=_("send a signed request; prints its id")))
    file_.add_argument("file", metavar="FILE", help=_("the signed request"))
    registry_flag(file_)
    file_.add_argument("--json", action="store_true", help=_("print the receipt as JSON"))
    file_.set_defaults(run=cmd_request_file)

    answer = refuse_repeats(
        requests.add_parser("answer", help=_("answer a request (the operator addressed)"))
    )
    answer.add_argument("id", metavar="REQUEST_ID", help=_("the request's id"))
    answer.add_argument("--key", required=True, metavar="FILE", help=_("the operator's key"))
    answer.add_argument("--statement", required=True, metavar="TEXT", help=_("the answer"))
    answer.add_argument(
        "--answer", action="append", default=[], metavar="TEXT", help=_("an answer per question, in order")
    )
    answer.add_argument(
        "--disclosure", action="append", default=[], metavar="ID", help=_("a disclosure the answer points to")
    )
    registry_flag(answer)
    answer.add_argument("--json", action="store_true", help=_("print the receipt as JSON"))
    answer.set_defaults(run=cmd_request_answer)

    show = refuse_repeats(requests.add_parser("show", help=_("a request, its deadline, status and answers")))
    show.add_argument("id", metavar="REQUEST_ID", help=_("the request's id"))
    registry_flag(show)
    show.add_argument("--json", action="store_true", help=_("print the request as JSON"))
    show.set_defaults(run=cmd_request_show)
