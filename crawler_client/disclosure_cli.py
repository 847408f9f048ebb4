"""`kotowari disclosure new|file` and `kotowari manifest submit`: an AI operator says what it does,
and proves it.

A disclosure is one signed document per model or service (`registry.accountability.documents`):
its training data (datasets, the compliance manifests it relied on, the opt-out signals its
crawlers honour), its safeguards and the registry state they check against, its contact window,
and every AI Principle Code item answered `comply` or `explain`. Filing another for the same model
or service supersedes it; both stay in the log. `manifest submit` sends a `kotowari filter`
manifest to the registry, which verifies it and records it, so a disclosure naming it is backed.

    kotowari disclosure new --key acme.key --model acme/painter-v2 --manifest manifest.json \\
        --honours all --contact-url https://acme.example/ai --comply all --out disclosure.json
    kotowari disclosure file disclosure.json --registry http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from crawler_client.accountability_cli_support import post_document, sign_checked
from crawler_client.cli_support import (
    Parser,
    UsageError,
    read_document,
    read_key,
    refuse_repeats,
    registry_flag,
)
from crawler_client.i18n import _
from registry.accountability.vocabulary import (
    CHECKED_SCHEMES,
    DATASET_KINDS,
    PRINCIPLE_ITEMS,
    SIGNALS,
    STAGES,
    UnknownWord,
    parse_words,
)


def _pair(text: str, flag: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise UsageError(_("{flag} {text!r}: write it as NAME=VALUE").format(flag=flag, text=text))
    return name.strip(), value.strip()


def _words(text: str, allowed: tuple[str, ...], what: str, flag: str) -> list[str]:
    try:
        return parse_words(text, allowed, what)
    except UnknownWord as exc:
        raise UsageError(_("{flag}: {detail}").format(flag=flag, detail=exc)) from None


def _manifest_ref(path: str) -> dict[str, Any]:
    """A manifest named by the SHA-256 of its canonical form and its snapshot's checkpoint, after the
    same verification the registry runs (`registry.accountability.manifests`)."""
    from registry.accountability.manifests import ManifestRefused, verify_manifest

    document = read_document(path)
    try:
        verified = verify_manifest(document)
    except ManifestRefused as exc:
        raise UsageError(_("--manifest {path}: {detail}").format(path=path, detail=exc.detail)) from None
    size = verified.state.tree_size
    shown = _("{path}: manifest {sha256}, filtered at tree size {size}")
    print(shown.format(path=path, sha256=verified.sha256, size=size), file=sys.stderr)
    return {
        "id": verified.sha256,
        "snapshot": {"tree_size": size, "root_hash": _b64(verified.state.root_hash)},
    }


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode("ascii")


def _against(args: argparse.Namespace) -> dict[str, Any] | None:
    """What `--against-snapshot` or `--against-registry` says the safeguards check against."""
    if args.against_snapshot:
        from crawler_client.snapshot import Snapshot

        state = Snapshot.open(args.against_snapshot).state
        checkpoint = {"tree_size": state.tree_size, "root_hash": _b64(state.root_hash)}
        return {"registry": state.registry, "mode": "snapshot", "checkpoint": checkpoint}
    if args.against_registry:
        from crawler_client.client import Client
        from crawler_client.verification import note_verifier, open_checkpoint

        with Client(args.against_registry) as client:
            info = client.info()
            note = client.checkpoint()
        current = open_checkpoint(note, note_verifier(info["did"], info["log"]["origin"]))
        pinned = {"tree_size": current.size, "root_hash": _b64(current.root_hash)} if current.size else None
        return {"registry": info["did"], "mode": "live", "checkpoint": pinned}
    return None


def _principles(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    answers: dict[str, dict[str, str]] = {}
    for item in (
        _words(args.comply, PRINCIPLE_ITEMS, "Principle Code item", "--comply") if args.comply else []
    ):
        answers[item] = {"answer": "comply"}
    for text in args.explain:
        item, why = _pair(text, "--explain")
        if item not in PRINCIPLE_ITEMS:
            message = _("--explain {item!r}: not a Principle Code item; one of {items}")
            raise UsageError(message.format(item=item, items=", ".join(PRINCIPLE_ITEMS)))
        answers[item] = {"answer": "explain", "explanation": why}  # explaining wins over --comply all
    missing = [item for item in PRINCIPLE_ITEMS if item not in answers]
    if missing:
        message = _(
            "answer every AI Principle Code item, with --comply ITEMS (or all) and --explain ITEM=WHY; "
            "not answered: {items}"
        )
        raise UsageError(message.format(items=", ".join(missing)))
    return answers


def cmd_disclosure_new(args: argparse.Namespace) -> int:
    from registry.accountability.documents import Disclosure, new_disclosure

    key = read_key(args.key)
    kind, subject = ("model", args.model) if args.model else ("service", args.service)
    datasets = []
    for text in args.dataset:
        dataset_kind, name = _pair(text, "--dataset")
        if dataset_kind not in DATASET_KINDS:
            message = _("--dataset {kind!r}: one of {kinds}")
            raise UsageError(message.format(kind=dataset_kind, kinds=", ".join(DATASET_KINDS)))
        datasets.append({"kind": dataset_kind, "name": name})
    training: dict[str, Any] = {
        "datasets": datasets,
        "manifests": [_manifest_ref(path) for path in args.manifest],
        "signals_honoured": _words(args.honours, SIGNALS, "signal", "--honours") if args.honours else [],
        "crawlers": list(args.crawler),
    }
    if args.training_statement:
        training["statement"] = args.training_statement
    against = _against(args)
    safeguards = []
    for text in args.safeguard:
        stage, schemes = _pair(text, "--safeguard")
        if stage not in STAGES:
            message = _("--safeguard {stage!r}: a stage, one of {stages}")
            raise UsageError(message.format(stage=stage, stages=", ".join(STAGES)))
        safeguard: dict[str, Any] = {
            "stage": stage,
            "schemes": _words(schemes, CHECKED_SCHEMES, "scheme", "--safeguard"),
        }
        if against is not None:
            safeguard["against"] = {name: value for name, value in against.items() if value is not None}
        safeguards.append(safeguard)
    contact: dict[str, Any] = {"url": args.contact_url}
    if args.contact_language:
        contact["languages"] = list(args.contact_language)
    if args.response_days is not None:
        contact["response_days"] = args.response_days
    now = datetime.now(UTC)
    document = new_disclosure(
        key.did,
        kind,
        subject,
        training_data=training,
        contact=contact,
        principle_code=_principles(args),
        safeguards=safeguards,
        name=args.name,
        version=args.version,
        created=now,
    )
    sign_checked(Disclosure, document, key, now, args.out)
    return 0


def cmd_disclosure_file(args: argparse.Namespace) -> int:
    receipt = post_document(args, "/v1/disclosures", read_document(args.file))
    if receipt is None:
        return 0
    print(receipt["id"])
    subject = receipt["subject"]
    line = _("filed the disclosure of {kind} {id} as log entry {index}").format(
        kind=subject["kind"], id=subject["id"], index=receipt["log"]["index"]
    )
    if receipt.get("supersedes"):
        line += _("; it supersedes {id} (which stays in the log)").format(id=receipt["supersedes"])
    print(line, file=sys.stderr)
    return 0


def cmd_manifest_submit(args: argparse.Namespace) -> int:
    answer = post_document(args, "/v1/manifests", read_document(args.file))
    if answer is None:
        return 0
    record = answer["record"]["document"]
    print(answer["sha256"])
    if answer.get("already_recorded"):
        done = _(
            "manifest was recorded before as log entry {index}: signed by {signer}, filtered at tree size "
            "{size}, a checkpoint of this log"
        )
    else:
        done = _(
            "manifest verified and recorded as log entry {index}: signed by {signer}, filtered at tree size "
            "{size}, a checkpoint of this log"
        )
    snapshot = record["snapshot"]
    shown = done.format(
        index=answer["record"]["log_index"], signer=record["signer"], size=snapshot["tree_size"]
    )
    print(shown, file=sys.stderr)
    for disclosure in answer["disclosures"]:
        relied = _("relied on by disclosure {id} of {operator}")
        print(relied.format(id=disclosure["id"], operator=disclosure["operator"]), file=sys.stderr)
    return 0


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add `kotowari disclosure …` and `kotowari manifest submit` to the command line."""
    disclosure = commands.add_parser(
        "disclosure", help=_("an AI operator's signed disclosure of a model or service")
    ).add_subparsers(dest="disclosure_command", required=True, metavar="COMMAND", parser_class=Parser)
    new = refuse_repeats(disclosure.add_parser("new", help=_("build and sign a disclosure offline")))
    new.add_argument("--key", required=True, metavar="FILE", help=_("the operator's key (as registered)"))
    what = new.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", metavar="ID", help=_("the model disclosed (e.g. acme/painter-v2)"))
    what.add_argument("--service", metavar="ID", help=_("the service disclosed"))
    new.add_argument("--name", help=_("its name for people"))
    new.add_argument("--version", help=_("its version"))
    new.add_argument(
        "--dataset",
        action="append",
        default=[],
        metavar="KIND=NAME",
        help=_("a dataset trained on (repeatable); KIND one of {kinds}").format(
            kinds=", ".join(DATASET_KINDS)
        ),
    )
    new.add_argument(
        "--manifest",
        action="append",
        default=[],
        metavar="FILE",
        help=_("a compliance manifest relied on (kotowari filter --manifest; repeatable)"),
    )
    new.add_argument(
        "--honours",
        metavar="SIGNALS",
        help=_("opt-out signals its crawlers honour: {signals} or all").format(signals=",".join(SIGNALS)),
    )
    new.add_argument(
        "--crawler", action="append", default=[], metavar="USER-AGENT", help=_("its crawlers' tokens")
    )
    new.add_argument("--training-statement", metavar="TEXT", help=_("anything else about the training data"))
    new.add_argument(
        "--safeguard",
        action="append",
        default=[],
        metavar="STAGE=SCHEMES",
        help=_("a check it runs (repeatable): STAGE one of {stages}, SCHEMES of {schemes}").format(
            stages=", ".join(STAGES), schemes=",".join(CHECKED_SCHEMES)
        ),
    )
    against = new.add_mutually_exclusive_group()
    against.add_argument("--against-snapshot", metavar="FILE", help=_("the safeguards check this snapshot"))
    against.add_argument(
        "--against-registry", metavar="URL", help=_("the safeguards check this registry live")
    )
    new.add_argument("--contact-url", required=True, metavar="URL", help=_("the contact window (https)"))
    new.add_argument("--contact-language", action="append", default=[], metavar="LANG", help=_("e.g. ja, en"))
    new.add_argument("--response-days", type=int, metavar="N", help=_("days to answer a rights holder"))
    new.add_argument(
        "--comply",
        metavar="ITEMS",
        help=_("Principle Code items complied with, or all: {items}").format(items=",".join(PRINCIPLE_ITEMS)),
    )
    new.add_argument(
        "--explain",
        action="append",
        default=[],
        metavar="ITEM=WHY",
        help=_("an item not complied with, and why"),
    )
    new.add_argument("--out", metavar="FILE", help=_("write here (default: standard output)"))
    new.set_defaults(run=cmd_disclosure_new)

    file_ = refuse_repeats(disclosure.add_parser("file", help=_("file a signed disclosure; prints its id")))
    file_.add_argument("file", metavar="FILE", help=_("the signed disclosure"))
    registry_flag(file_)
    file_.add_argument("--json", action="store_true", help=_("print the whole receipt"))
    file_.set_defaults(run=cmd_disclosure_file)

    manifest = commands.add_parser(
        "manifest", help=_("submit compliance manifests as evidence")
    ).add_subparsers(dest="manifest_command", required=True, metavar="COMMAND", parser_class=Parser)
    submit = refuse_repeats(
        manifest.add_parser(
            "submit", help=_("have the registry verify and record a manifest; prints its SHA-256")
        )
    )
    submit.add_argument("file", metavar="FILE", help=_("the manifest (kotowari filter --manifest)"))
    registry_flag(submit)
    submit.add_argument("--json", action="store_true", help=_("print the answer as JSON"))
    submit.set_defaults(run=cmd_manifest_submit)
    from crawler_client.crawl_manifest_cli import add_crawl

    add_crawl(manifest)
