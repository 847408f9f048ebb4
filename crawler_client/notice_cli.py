"""`kotowari notice new|file|respond|show|inbox|erase|register`: takedown notices from the command line.

`new` builds and signs a notice offline and refuses a notice that lacks any element its regimes
require, one missing element per line (the registry would answer 422 with the same list); with
`--claim ID` it first fetches and verifies the claims and takes the subject from them
(`crawler_client.notice_subject`). Every command that talks to the registry goes through
`Client.request`; refusals print one line and exit 2, and so does a single-value flag given twice
(`cli_support.Once`). Messages say the state the registry reports, not what one hopes happened:
a notice is `delivered` only once the operator's webhook answered 2xx.

    kotowari notice new --key me.key --operator did:key:z6Mk… --kind work --url https://me.example/art/ \\
        --model acme/painter-v2 --action stop-generation --regime dsa --grounds "…" \\
        --contact-name "Aoi" --contact-email aoi@example.jp --good-faith "…" --out notice.json
    kotowari notice file notice.json --registry http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

from crawler_client.cli_messages import word
from crawler_client.cli_support import (
    Parser,
    UsageError,
    as_if_signed,
    given,
    kind_arg,
    parse_items,
    print_json,
    read_document,
    read_key,
    refuse_repeats,
    registry_flag,
    write_document,
)
from crawler_client.i18n import _, local_time
from crawler_client.items import add_item_flags
from registry.notices.lifecycle import STATES
from registry.notices.vocabulary import REGIMES, REQUESTED_ACTIONS
from registry.vocabulary import SUBJECT_KINDS

# The documents' pydantic models, keys and the client are imported by the commands that use them,
# so that registering these commands costs `kotowari --help` nothing (crawler_client.cli_support).

_STEPS = ("acknowledge", "action", "reject", "counter-notice", "restore", "uphold", "close")


def _now() -> datetime:
    return datetime.now(UTC)


def check_notice(document: dict[str, Any]) -> None:
    """Refuse here what the registry would refuse with a 422: a schema error in one line, missing
    regime elements one per line (a list of eight is not read on one line)."""
    from registry.documents import InvalidDocument
    from registry.notices.documents import Notice, missing_elements, validate_notice_document

    try:
        notice = validate_notice_document(Notice, as_if_signed(document))
    except InvalidDocument as exc:
        raise UsageError(_("invalid notice: {detail}").format(detail=exc)) from None
    missing = missing_elements(notice)
    if missing:
        listed = "".join(f"\n  {pointer}: {reason}" for pointer, reason in missing)
        message = _("the notice lacks {count} required element(s):")
        raise UsageError(message.format(count=len(missing)) + listed)


def cmd_notice_new(args: argparse.Namespace) -> int:
    from registry.notices.documents import new_notice
    from registry.privacy.personal import sign_split

    key = read_key(args.key)
    identifiers = parse_items(args, query=False)
    kind, title = args.kind, args.title
    if args.claim:
        kind, identifiers, title = _from_claims(args, identifiers)
    elif kind is None:
        raise UsageError(_("--kind is required (or --claim ID, whose subject gives it)"))
    locations = (
        [("url", url) for url in args.material_url]
        + [("model", model) for model in args.model]
        + [("dataset", dataset) for dataset in args.dataset]
        + [("output-sha256", digest.lower()) for digest in args.output_sha256]
    )
    contact = given(
        {
            "name": args.contact_name,
            "email": args.contact_email,
            "address": args.contact_address,
            "phone": args.contact_phone,
        }
    )
    statements = given(
        {
            "good-faith": args.good_faith,
            "accuracy": args.accuracy,
            "authority-under-penalty-of-perjury": args.perjury,
            "authority": args.authority,
        }
    )
    jp = given({"infringed_right": args.jp_right, "reason": args.jp_reason})
    notify = given({"webhook": args.notify_webhook, "email": args.notify_email})
    if bool(args.on_behalf_of) != bool(args.agency_authority):
        raise UsageError(_("--on-behalf-of and --agency-authority go together"))
    on_behalf_of = (
        {"principal": args.on_behalf_of, "authority": args.agency_authority} if args.on_behalf_of else None
    )
    created = _now()
    document = new_notice(
        key.did,
        args.operator,
        kind=kind,
        identifiers=identifiers,
        claims=args.claim,
        locations=locations,
        actions=args.action,
        regimes=args.regime,
        created=created,
        title=title,
        description=args.description,
        grounds=args.grounds,
        contact=contact or None,
        signature=args.signature,
        statements=statements or None,
        jp_platform=jp or None,
        on_behalf_of=on_behalf_of,
        language=args.language,
        notify=notify or None,
    )
    check_notice(document)
    write_document(sign_split("Notice", document, key, created), args.out, private=True)
    print(
        _(
            "personal data (contact, signature, address) stays out of the public log: it is sent beside "
            "the notice and shown only to you and the operator"
        ),
        file=sys.stderr,
    )
    return 0


def _from_claims(
    args: argparse.Namespace, identifiers: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]], str | None]:
    """(kind, identifiers, title) with the verified claims' subject filled in; the flags given win."""
    from crawler_client.client import Client
    from crawler_client.notice_subject import merged, subject_of_claims

    if len(set(args.claim)) != len(args.claim):
        raise UsageError(_("--claim: the same claim is given twice"))
    if not args.registry:
        raise UsageError(
            _("--claim needs --registry URL (or $KOTOWARI_REGISTRY): the claims are fetched and verified")
        )
    with Client(args.registry) as registry:
        subject = subject_of_claims(registry, args.claim)
    assert subject.kind is not None
    if args.kind is not None and args.kind != subject.kind:
        raise UsageError(
            _("--kind {kind}: the claims are for a {claimed}").format(kind=args.kind, claimed=subject.kind)
        )
    subject_line = _("subject from {count} verified claim(s): a {kind}, {identifiers} identifier(s)").format(
        count=len(args.claim), kind=subject.kind, identifiers=len(subject.identifiers)
    )
    print(subject_line + (f", {subject.title!r}" if subject.title else ""), file=sys.stderr)
    return subject.kind, merged(identifiers, subject.identifiers), args.title or subject.title


def cmd_notice_file(args: argparse.Namespace) -> int:
    from crawler_client.client import Client

    document = read_document(args.file)
    with Client(args.registry) as registry:
        receipt = registry.request("POST", "/v1/notices", document=document)
    if args.json:
        print_json(receipt)
    else:
        print(receipt["id"])
        print(_filed_line(receipt), file=sys.stderr)
    return 0


def _filed_line(receipt: dict[str, Any]) -> str:
    """What became of a filed notice, in the registry's own terms (it is `filed` in every case)."""
    how = receipt.get("delivery")
    if how == "webhook":
        return _(
            "filed; queued for the operator's webhook: it becomes delivered when the webhook answers 2xx"
        )
    if how == "inbox":
        return _(
            "filed; the operator has no webhook: it sees the notice when it pulls its inbox, "
            "and the notice stays filed until acknowledged"
        )
    return _(
        "filed and held: the operator has not registered; it sees the notice once it registers or pulls "
        "its inbox"
    )


def cmd_notice_respond(args: argparse.Namespace) -> int:
    from crawler_client.client import Client
    from registry.notices.documents import new_response
    from registry.privacy.personal import sign_split

    key = read_key(args.key)
    created = _now()
    document = new_response(
        key.did,
        args.id,
        args.action,
        created=created,
        statement=args.statement,
        actions_taken=args.taken or None,
        legal_action=True if args.legal_action else None,
        contact=given(
            {
                "name": args.contact_name,
                "email": args.contact_email,
                "address": args.contact_address,
                "phone": args.contact_phone,
            }
        )
        or None,
        signature=args.signature,
    )
    signed = sign_split("NoticeResponse", document, key, created)
    with Client(args.registry) as registry:
        receipt = registry.request("POST", f"/v1/notices/{args.id}/responses", document=signed)
    if args.json:
        print_json(receipt)
    else:
        print(_("{id} is now {state}").format(id=args.id, state=word(receipt["state"])))
    return 0


def cmd_notice_show(args: argparse.Namespace) -> int:
    from crawler_client.client import Client

    key = read_key(args.key) if args.key else None
    with Client(args.registry) as registry:
        notice = registry.request("GET", f"/v1/notices/{args.id}")
        if key is not None:
            notice["personal_data"] = registry.personal(args.id, key)
    if args.json:
        print_json(notice)
        return 0
    _show(notice)
    return 0


def _overdue(notice: dict[str, Any]) -> str:
    if not notice.get("overdue"):
        return ""
    return _("  OVERDUE: {deadlines}").format(deadlines=", ".join(word(name) for name in notice["overdue"]))


def _deadline_lines(deadlines: dict[str, Any]) -> list[str]:
    """`  acknowledge by 2026-05-01 18:00:00 +09:00`: each deadline in the local time zone."""
    return [
        _("  {deadline} {time}").format(deadline=word(name.replace("_", " ")), time=local_time(moment))
        for name, moment in deadlines.items()
        if moment
    ]


def _show(notice: dict[str, Any]) -> None:
    print(f"{notice['id']}  {word(notice['state'])}{_overdue(notice)}")
    if notice["operator_registered"]:
        print(_("  to {operator}").format(operator=notice["operator"]))
    else:
        print(_("  to {operator} (not registered: held)").format(operator=notice["operator"]))
    for line in _deadline_lines(notice["deadlines"]):
        print(line)
    for event in notice["events"]:
        step = _("  {time}  {action} by the {party}  → {state}")
        print(
            step.format(
                time=local_time(event["received_at"]),
                action=word(event["action"]),
                party=word(event["party"]),
                state=word(event["to"]),
            )
        )
    for part in notice.get("personal", []):
        document = part["document"][:12]
        if part["state"] == "erased":
            line = _("  personal data of {document}…: erased {time} ({ground})")
            print(line.format(document=document, time=local_time(part["erased_at"]), ground=part["ground"]))
        else:
            print(_("  personal data of {document}…: {state}").format(document=document, state=part["state"]))
    shown = notice.get("personal_data")
    if shown:
        print(_("  read as the {role}:").format(role=word(shown["role"])))
        for part in shown["parts"]:
            for line in json.dumps(part.get("data", {}), ensure_ascii=False, indent=2).splitlines():
                print(f"    {line}")
        for read in shown.get("reads", []):
            line = _("  read by {reader} ({role}) at {time}")
            print(
                line.format(reader=read["reader"], role=word(read["role"]), time=local_time(read["read_at"]))
            )
        for told in shown.get("notifications", []):
            if told["channel"] == "email":
                line = _("  told you of {state} by e-mail at {time} (attempt {attempt}): {outcome}")
            else:
                line = _("  told you of {state} by webhook at {time} (attempt {attempt}): {outcome}")
            print(
                line.format(
                    state=word(told["state"]),
                    time=local_time(told["started_at"]),
                    attempt=told["attempt"],
                    outcome=word(told["outcome"]),
                )
            )


def cmd_notice_erase(args: argparse.Namespace) -> int:
    import keys
    from crawler_client.client import Client
    from registry.privacy.documents import new_erasure

    key = read_key(args.key)
    created = _now()
    with Client(args.registry) as registry:
        notice = registry.request("GET", f"/v1/notices/{args.id}")
        documents = [
            p["document"]
            for p in notice.get("personal", [])
            if p["author"] == key.did and p["state"] == "held"
        ]
        if not documents:
            message = _("notice {id} holds no personal data of {did} to erase")
            raise UsageError(message.format(id=args.id, did=key.did))
        erasure = keys.sign_document(
            new_erasure(key.did, args.id, documents, "request", created=created), key, created=created
        )
        receipt = registry.request("POST", f"/v1/notices/{args.id}/erasure", document=erasure)
    if args.json:
        print_json(receipt)
    else:
        erased = _("erased the personal data of {count} document(s); the erasure is log entry {index}")
        print(erased.format(count=len(documents), index=receipt["log"]["index"]))
    return 0


def cmd_notice_register(args: argparse.Namespace) -> int:
    import keys
    from crawler_client.client import Client
    from registry.notices.documents import new_registration

    key = read_key(args.key)
    created = _now()
    document = new_registration(key.did, args.name, args.contact, created=created, webhook=args.webhook)
    with Client(args.registry) as registry:
        receipt = registry.request(
            "POST", "/v1/operators", document=keys.sign_document(document, key, created=created)
        )
    if args.json:
        print_json(receipt)
    else:
        print(_registered_line(key.did, args.name, receipt))
    return 0


def _registered_line(did: str, name: str, receipt: dict[str, Any]) -> str:
    """What registering did: nothing is delivered yet, whatever was held."""
    if receipt.get("replaced"):
        line = _("updated the registration of {did} as {name!r}").format(did=did, name=name)
    else:
        line = _("registered {did} as {name!r}").format(did=did, name=name)
    held = int(receipt.get("held_notices", 0))
    if not held:
        return line + _("; no notice is waiting")
    if receipt.get("delivery") == "webhook":
        return line + _(
            "; {count} filed notice(s) queued for delivery to the webhook: each becomes delivered "
            "when the webhook answers 2xx (kotowari notice inbox shows their state)"
        ).format(count=held)
    return line + _(
        "; {count} filed notice(s) wait in the inbox: kotowari notice inbox --key … lists them, "
        "and they stay filed until acknowledged"
    ).format(count=held)


def cmd_notice_inbox(args: argparse.Namespace) -> int:
    """The notices addressed to the key's DID (the operator's pull), oldest first."""
    from urllib.parse import quote

    from crawler_client.client import Client

    key = read_key(args.key)
    params = {"state": args.state} if args.state else None
    with Client(args.registry) as registry:
        inbox = registry.request("GET", f"/v1/operators/{quote(key.did, safe=':')}/notices", params=params)
    if args.json:
        print_json(inbox)
        return 0
    profile = inbox.get("operator_profile", {})
    notices = inbox.get("notices", [])
    name = f" ({profile['name']})" if profile.get("name") else ""
    if args.state:
        heading = _("{did}{name}: {count} {state} notice(s)")
    else:
        heading = _("{did}{name}: {count} notice(s)")
    print(heading.format(did=key.did, name=name, count=len(notices), state=word(args.state or "")))
    if not inbox.get("registered"):
        print(
            _("  not registered: these notices are held; kotowari notice register makes them yours to answer")
        )
    for notice in notices:
        _inbox_line(notice)
    return 0


def _inbox_line(notice: dict[str, Any]) -> None:
    subject = notice["document"].get("subject", {})
    about = subject.get("title") or _("{count} identifier(s)").format(
        count=len(subject.get("identifiers", []))
    )
    regimes = ",".join(notice["document"].get("regimes", []))
    print(f"{notice['id']}  {word(notice['state'])}{_overdue(notice)}")
    received = _("  received {time}  {regimes}  {kind}: {about}")
    print(
        received.format(
            time=local_time(notice["received_at"]),
            regimes=regimes,
            kind=subject.get("kind", "?"),
            about=about,
        )
    )
    for line in _deadline_lines(notice.get("deadlines", {})):
        print(line)


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add `kotowari notice …` to the command line."""
    parent = commands.add_parser("notice", help=_("file, answer and follow takedown notices"))
    notice = parent.add_subparsers(
        dest="notice_command", required=True, metavar="COMMAND", parser_class=Parser
    )
    new = _command(notice, "new", _("build and sign a takedown notice (offline, unless --claim)"))
    new.add_argument("--key", required=True, metavar="FILE", help=_("the notifier's key"))
    new.add_argument(
        "--operator", required=True, metavar="DID", help=_("the AI operator's DID (did:key or did:web)")
    )
    new.add_argument(
        "--kind", type=kind_arg, choices=SUBJECT_KINDS, help=_("required unless --claim gives it")
    )
    add_item_flags(new, query=False)
    new.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="ID",
        help=_("a claim the notice relies on (repeatable): fetched, verified, and its subject filled in"),
    )
    new.add_argument(
        "--registry",
        default=os.environ.get("KOTOWARI_REGISTRY"),
        metavar="URL",
        help=_("where --claim is fetched from (default: $KOTOWARI_REGISTRY)"),
    )
    where = new.add_argument_group(_("where the material is (repeatable)"))
    where.add_argument(
        "--material-url", action="append", default=[], metavar="URL", help=_("where the material is online")
    )
    where.add_argument("--model", action="append", default=[], metavar="ID", help=_("a model id"))
    where.add_argument("--dataset", action="append", default=[], metavar="ID", help=_("a dataset id"))
    where.add_argument(
        "--output-sha256", action="append", default=[], metavar="HEX", help=_("a generated output")
    )
    new.add_argument(
        "--action", action="append", required=True, choices=REQUESTED_ACTIONS, help=_("repeatable")
    )
    new.add_argument("--regime", action="append", required=True, choices=REGIMES, help=_("repeatable"))
    new.add_argument(
        "--title",
        help=_("the work's title, or the individual's name (for a voice or likeness --name also does)"),
    )
    new.add_argument("--description", help=_("the subject, described"))
    new.add_argument("--grounds", help=_("why the material infringes (DSA: a substantiated explanation)"))
    new.add_argument("--contact-name", help=_("your name (personal: kept out of the log)"))
    new.add_argument("--contact-email", help=_("your email (personal: kept out of the log)"))
    new.add_argument("--contact-address", help=_("your postal address (personal: kept out of the log)"))
    new.add_argument("--contact-phone", help=_("your phone (personal: kept out of the log)"))
    new.add_argument("--signature", metavar="NAME", help=_("electronic signature, e.g. /Aoi Tanaka/"))
    new.add_argument("--good-faith", metavar="TEXT", help=_("good-faith statement"))
    new.add_argument("--accuracy", metavar="TEXT", help=_("accuracy statement (DMCA)"))
    new.add_argument("--perjury", metavar="TEXT", help=_("authority under penalty of perjury (DMCA)"))
    new.add_argument("--authority", metavar="TEXT", help=_("authority to act for the individual (NO FAKES)"))
    new.add_argument("--jp-right", metavar="TEXT", help=_("侵害されたとする権利 (jp-platform)"))
    new.add_argument("--jp-reason", metavar="TEXT", help=_("権利が侵害されたとする理由 (jp-platform)"))
    new.add_argument("--on-behalf-of", metavar="PRINCIPAL", help=_("an agency's principal"))
    new.add_argument("--agency-authority", metavar="TEXT", help=_("the agency's authority statement"))
    new.add_argument("--language", metavar="TAG", help=_("the notice's language, e.g. ja"))
    new.add_argument(
        "--notify-webhook",
        metavar="URL",
        help=_("https URL told of every change of state (personal: kept out of the log)"),
    )
    new.add_argument(
        "--notify-email",
        metavar="ADDRESS",
        help=_("e-mail address told of every change of state (personal: kept out of the log)"),
    )
    new.add_argument("--out", metavar="FILE", help=_("write here (default: standard output)"))
    new.set_defaults(run=cmd_notice_new)

    file_ = _command(notice, "file", _("file a signed notice and print its id"))
    file_.add_argument("file", metavar="FILE", help=_("the signed notice ('-' for standard input)"))
    registry_flag(file_)
    file_.add_argument("--json", action="store_true", help=_("print the whole receipt"))
    file_.set_defaults(run=cmd_notice_file)

    respond = _command(notice, "respond", _("take a lifecycle step on a notice (signed)"))
    respond.add_argument("id", metavar="ID", help=_("the notice's id"))
    respond.add_argument(
        "--key", required=True, metavar="FILE", help=_("your key (the operator's or the notifier's)")
    )
    respond.add_argument("--action", required=True, choices=_STEPS, help=_("the step to take"))
    respond.add_argument("--statement", metavar="TEXT", help=_("statement of reasons / counter-notice text"))
    respond.add_argument(
        "--taken", action="append", choices=REQUESTED_ACTIONS, help=_("actions taken (repeatable)")
    )
    respond.add_argument(
        "--legal-action", action="store_true", help=_("the notifier has filed suit (uphold)")
    )
    for field in ("name", "email", "address", "phone"):
        respond.add_argument(
            f"--contact-{field}", help=_("counter-notice contact (personal: kept out of the log)")
        )
    respond.add_argument("--signature", metavar="NAME", help=_("counter-notice signature (personal)"))
    registry_flag(respond)
    respond.add_argument("--json", action="store_true", help=_("print the receipt as JSON"))
    respond.set_defaults(run=cmd_notice_respond)

    show = _command(notice, "show", _("a notice's state, deadlines and steps"))
    show.add_argument("id", metavar="ID", help=_("the notice's id"))
    show.add_argument(
        "--key", metavar="FILE", help=_("also read the personal data, as the notifier or operator (recorded)")
    )
    registry_flag(show)
    show.add_argument("--json", action="store_true", help=_("print the notice as JSON"))
    show.set_defaults(run=cmd_notice_show)

    erase = _command(notice, "erase", _("erase your personal data in a notice (a signed, logged request)"))
    erase.add_argument("id", metavar="ID", help=_("the notice's id"))
    erase.add_argument("--key", required=True, metavar="FILE", help=_("the key that filed it"))
    registry_flag(erase)
    erase.add_argument("--json", action="store_true", help=_("print the receipt as JSON"))
    erase.set_defaults(run=cmd_notice_erase)

    reg = _command(notice, "register", _("register as an operator that receives notices"))
    reg.add_argument("--key", required=True, metavar="FILE", help=_("the operator's key"))
    reg.add_argument("--name", required=True, help=_("the operator's name, as notifiers will find it"))
    reg.add_argument("--contact", required=True, help=_("where notices may also be sent (email)"))
    reg.add_argument("--webhook", metavar="URL", help=_("https URL for signed deliveries"))
    registry_flag(reg)
    reg.add_argument("--json", action="store_true", help=_("print the receipt as JSON"))
    reg.set_defaults(run=cmd_notice_register)

    inbox = _command(
        notice, "inbox", _("the notices addressed to you, an operator that pulls (oldest first)")
    )
    inbox.add_argument("--key", required=True, metavar="FILE", help=_("the operator's key (gives its DID)"))
    inbox.add_argument("--state", choices=STATES, help=_("only notices in this state"))
    registry_flag(inbox)
    inbox.add_argument("--json", action="store_true", help=_("print the inbox as the registry answers it"))
    inbox.set_defaults(run=cmd_notice_inbox)


def _command(notice: argparse._SubParsersAction[Parser], name: str, text: str) -> Parser:
    """A `notice` sub-command whose single-value flags refuse repeats (`cli_support.refuse_repeats`)."""
    parser = notice.add_parser(name, help=text)
    refuse_repeats(parser)
    return parser
