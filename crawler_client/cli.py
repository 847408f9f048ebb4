"""The `kotowari` command line.

Exit status: 0 success; 1 a negative result (a reserved use, a document that does not verify);
2 a usage or input error, printed as one line on stderr, never a traceback.

Every start builds the whole parser, so this module and the command modules it registers import
only what building it needs (argparse, the vocabulary, the flag helpers); each command imports
what it runs on (cryptography, pydantic, httpx, the client, numpy) when it runs. `kotowari --help`
or `kotowari keys new` then start in a fraction of the time that importing everything takes
(bench/startup.py measures it; tests/crawler_client/test_cli_startup.py keeps it so).
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler_client.audit_cli import register_log_audit
from crawler_client.authority_cli import register_keys
from crawler_client.claim_import import register as register_claim_import
from crawler_client.claim_list_cli import register as register_claim_list
from crawler_client.cli_messages import decision_shown, explained_error, reason_shown
from crawler_client.cli_support import (
    Negative,
    Parser,
    UsageError,
    error_line,
    kind_arg,
    kinds_help,
    listening_socket,
    min_authority_flag,
    min_authority_of,
    parse_items,
    print_json,
    purpose_flag,
    read_document,
    read_key,
    registry_flag,
    uses_help,
    write_document,
)
from crawler_client.errors import KotowariError, NotWitnessed, UntrustedAnswer
from crawler_client.i18n import N_, _, answers_in, install_argparse, language, said
from crawler_client.items import add_item_flags
from crawler_client.witness_options import add_witness_flags, witness_options
from registry.vocabulary import SUBJECT_KINDS

if TYPE_CHECKING:
    from crawler_client.core import WitnessedCheckpoint
    from keys.note import Checkpoint

PROG = "kotowari"

COMMAND_MODULES: tuple[str, ...] = (
    "crawler_client.dataset_cli",
    "crawler_client.policy_cli",
    "crawler_client.notice_cli",
    "crawler_client.operator_cli",
    "crawler_client.dispute_cli",
    "crawler_client.authority_cli",
    "crawler_client.witness_cli",
    "crawler_client.admin_cli",
    "crawler_client.disclosure_cli",
    "crawler_client.info_request_cli",
    "crawler_client.publish_cli",
)
"""Modules whose `register(commands)` adds a command (see `crawler_client.cli_support`)."""


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio
    import dataclasses

    try:
        import uvicorn

        from api import Settings, create_app
        from api.app import verify_database
        from registry.integrity import IntegrityFailure
    except ImportError as exc:
        message = _("the server is not installed ({module}): pip install 'kotowari[server]'")
        raise UsageError(message.format(module=exc.name)) from None
    try:
        settings = Settings.from_env(db_url=args.db, host=args.host, port=args.port, data_dir=args.data_dir)
        settings.database_url  # noqa: B018 - refuse an unsupported URL before starting
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not 0 <= settings.port <= 65535:
        raise UsageError(_("--port {port}: a port is a number from 0 to 65535").format(port=settings.port))
    sock = listening_socket(settings.host, settings.port)
    port = sock.getsockname()[1]  # the one given, or the one chosen for --port 0
    settings = dataclasses.replace(settings, port=port)

    def ready(did: str, created: bool) -> None:
        key_file = settings.data_dir / "registry.key"
        print(_("Kotowari registry {did}").format(did=did), flush=True)
        if created:
            print(_("created its signing key in {path} (mode 0600)").format(path=key_file), flush=True)
        print(_("database {url}").format(url=_redacted(settings.database_url)), flush=True)
        print(_("listening on http://{host}:{port}").format(host=settings.host, port=port), flush=True)

    if args.verify:
        try:
            report = asyncio.run(verify_database(settings))
        except IntegrityFailure as exc:
            print(
                _("kotowari: the log does not verify: {detail}").format(detail=said(exc.detail)),
                file=sys.stderr,
            )
            return 1
        verified = _("verified {entries} log entries, {signatures} signatures and {rows} cached rows")
        print(
            verified.format(
                entries=report.tree_size, signatures=report.signatures_checked, rows=report.rows_checked
            ),
            flush=True,
        )
    app = create_app(settings, on_ready=ready, freeze_after_start=True)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=port, log_level="warning", access_log=False)
    )
    server.run(sockets=[sock])
    return 0 if server.started else 2


def _redacted(url: str) -> str:
    """A database URL without its password, for printing."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if at and ":" in credentials:
        credentials = credentials.split(":", 1)[0] + ":***"
    return f"{scheme}{sep}{credentials}{at}{host}"


# ---------------------------------------------------------------- keys


def cmd_keys_new(args: argparse.Namespace) -> int:
    import keys

    key = keys.SigningKey.generate()
    keys.write_key_file(args.out, key)
    print(key.did)
    print(_("private key written to {path} (mode 0600); keep it safe").format(path=args.out), file=sys.stderr)
    return 0


# ---------------------------------------------------------------- url


def cmd_url(args: argparse.Namespace) -> int:
    from registry import urls

    reports = []
    for url in args.urls:
        try:
            reports.append(urls.url_report(url))
        except urls.InvalidURL as exc:
            raise UsageError(
                _("{url!r} is not a URL that can be used ({detail})").format(url=url, detail=said(exc))
            ) from None
    if args.json:
        print_json(reports if len(reports) > 1 else reports[0])
        return 0
    for report in reports:
        print(report["canonical"])
        print(_("  expression: {expression}").format(expression=report["expression"]))
        for lookup in report["lookups"]:  # type: ignore[attr-defined]
            print(_("  lookup:     {lookup}").format(lookup=lookup))
    return 0


# ---------------------------------------------------------------- claims


def cmd_claim_new(args: argparse.Namespace) -> int:
    import keys
    from crawler_client.claim_build import build_claim

    key = read_key(args.key)
    document = build_claim(args, key.did, now=_now())
    signed = keys.sign_document(document, key, created=_now())
    print(_(PUBLIC_CLAIM), file=sys.stderr)
    for hint in name_order_hints(args.kind, args.name):
        print(hint, file=sys.stderr)
    write_document(signed, args.out)
    return 0


PUBLIC_CLAIM = N_(
    "Note: a claim is public and permanent (withdrawing it leaves the record): put no private address "
    "or phone in it."
)


def name_order_hints(kind: str, names: list[str]) -> list[str]:
    """For a voice or likeness: a hint for each Latin-script personal name (two or more words)
    whose other order is not given too, since a prompt may write either ("Koichi Yamadera" or
    "Yamadera Koichi") and names are matched as written."""
    if kind not in ("voice", "likeness"):
        return []
    given = {" ".join(name.split()).casefold() for name in names}
    hints = []
    for name in names:
        words = name.split()
        if len(words) < 2 or not all(_latin(word) for word in words):
            continue
        other = " ".join(words[1:] + words[:1]) if len(words) == 2 else " ".join(reversed(words))
        if other.casefold() not in given:
            hint = _(
                "hint: {name!r} is matched only in this order; to match {other!r} too, add --name {quoted}"
            )
            hints.append(hint.format(name=name, other=other, quoted=_shell_quoted(other)))
    return hints


def _latin(word: str) -> bool:
    import unicodedata

    letters = [char for char in word if char.isalpha()]
    return bool(letters) and all("LATIN" in unicodedata.name(char, "") for char in letters)


def _shell_quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


def cmd_claim_file(args: argparse.Namespace) -> int:
    from crawler_client.client import Client

    document = read_document(args.file)
    with Client(args.registry) as registry:
        receipt = registry.file_claim(document)
    if args.json:
        print_json({**receipt, "document": document})
    else:
        print(receipt["id"])
    return 0


# ---------------------------------------------------------------- verify


def cmd_verify(args: argparse.Namespace) -> int:
    from crawler_client.verification import VerificationFailed
    from keys.errors import KeysError

    witnessing = witness_options(args)
    if args.data:
        for path in args.data:
            if not Path(path).is_file():
                raise UsageError(_("--data: {path}: no such file").format(path=path))
    if witnessing and not args.registry:
        raise UsageError(_("--witness needs --registry URL: the cosigned checkpoints come from the registry"))
    try:
        if args.file != "-" and _is_snapshot(args.file):
            lines = _verify_snapshot(args.file, args.registry, witnessing)
        else:
            document = read_document(args.file)
            if isinstance(document.get("log"), dict) and "document" in document:
                lines = _verify_receipt(document, args.registry, witnessing)
            elif document.get("type") == "CheckAnswer":
                lines = _verify_answer(document, args.registry, witnessing)
            elif document.get("type") == "GuardRecord":
                from crawler_client.guard_record import verify_record_lines

                lines = verify_record_lines(document, args.registry, witnessing)
            elif document.get("type") == "CrawlManifest":
                from crawler_client.crawl_manifest import CrawlManifestInvalid, verify_crawl_manifest

                try:
                    lines = verify_crawl_manifest(document, Path(args.log) if args.log else None)
                except CrawlManifestInvalid as exc:
                    raise VerificationFailed(str(exc)) from None
            elif document.get("type") == "ComplianceManifest":
                lines = _verify_manifest(document, Path(args.file).parent, args.data)
                lines += _verify_manifest_online(document, args.registry, witnessing)
            elif witnessing:
                raise UsageError(
                    _(
                        "--witness: this document names no checkpoint (give a receipt, a check answer, "
                        "a snapshot or a compliance manifest)"
                    )
                )
            elif args.data:
                raise UsageError(_("--data goes with a compliance manifest (kotowari filter --manifest)"))
            else:
                lines = _verify_signed(document, args.key)
    except NotWitnessed as exc:
        print(_("NOT WITNESSED: {detail}").format(detail=said(exc)))
        raise Negative from None
    except (VerificationFailed, KeysError, UntrustedAnswer) as exc:
        print(_("INVALID: {detail}").format(detail=said(exc)))
        raise Negative from None
    if args.json:
        print_json({"valid": True, "details": lines})
    else:
        print("\n  ".join(said(line) for line in lines))
    return 0


def _verify_signed(document: dict[str, Any], key_text: str | None) -> list[str]:
    import keys

    key = None
    if key_text:
        try:
            key = keys.VerifyingKey.from_multibase(key_text)
        except keys.KeysError as exc:
            raise UsageError(_("--key: not an Ed25519 key ({detail})").format(detail=said(exc))) from None
    verified = keys.verify_document(document, key=key)
    return [
        _("valid: signed by {method}").format(method=verified.verification_method),
        _("id {id}").format(id=keys.document_id(document)),
    ]


def _against_registry(
    registry_url: str,
    witnessing: dict[str, Any],
    registry: str,
    checkpoint: Checkpoint,
    leaf: bytes | None = None,
) -> tuple[WitnessedCheckpoint, list[str]]:
    """The registry's tree (cosigned as `witnessing` asks) extends `checkpoint`; what to print of it."""
    from crawler_client.client import Client
    from crawler_client.verification import check_against_registry

    with Client(registry_url, **witnessing) as client:
        current = check_against_registry(client, registry, checkpoint, leaf)
        required = client.witness_policy.min_cosignatures
    lines = []
    if witnessing:
        cosigned = _("{witnesses} ({count} of {required} required) at size {size}")
        lines.append(
            cosigned.format(
                witnesses=current.describe(),
                count=len(current.cosigned_by),
                required=required,
                size=current.size,
            )
        )
    return current, lines


def _verify_receipt(
    receipt: dict[str, Any], registry_url: str | None, witnessing: dict[str, Any] | None = None
) -> list[str]:
    import keys
    from crawler_client.verification import verify_receipt

    checkpoint, _verifier, leaf = verify_receipt(receipt)
    log = receipt["log"]
    lines = [
        _("valid receipt: document {id}").format(id=keys.document_id(receipt["document"])),
        _("signed by {method}").format(method=keys.verify_document(receipt["document"]).verification_method),
        _("entry {index} of log {origin}, in its checkpoint of size {size}").format(
            index=log["index"], origin=checkpoint.origin, size=checkpoint.size
        ),
        _("checkpoint signed by registry {registry}").format(registry=log["registry"]),
    ]
    if registry_url:
        current, witnessed = _against_registry(
            registry_url, witnessing or {}, str(log["registry"]), checkpoint, leaf
        )
        still = _("{registry} still includes it at size {size}, consistent with the receipt")
        lines.append(still.format(registry=registry_url, size=current.size))
        lines += witnessed
    return lines


def _verify_answer(
    answer: dict[str, Any], registry_url: str | None, witnessing: dict[str, Any] | None = None
) -> list[str]:
    from crawler_client.verification import VerificationFailed, verify_answer
    from keys.note import Checkpoint

    verify_answer(answer)
    point = answer.get("checkpoint") or {}
    lines = [
        _("valid check answer signed by registry {registry}").format(registry=answer["registry"]),
        _("computed at size {size} of log {origin}").format(
            size=point.get("tree_size"), origin=point.get("origin")
        ),
    ]
    if registry_url:
        try:
            checkpoint = Checkpoint(
                str(point["origin"]), int(point["tree_size"]), base64.b64decode(point["root_hash"])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise VerificationFailed(
                _("the answer's checkpoint is malformed: {detail}").format(detail=said(exc))
            ) from None
        current, witnessed = _against_registry(
            registry_url, witnessing or {}, str(answer["registry"]), checkpoint
        )
        lines.append(
            _("{registry}'s log at size {size} extends that checkpoint").format(
                registry=registry_url, size=current.size
            )
        )
        lines += witnessed
    return lines


SNAPSHOT_MAGIC: tuple[bytes, ...] = (b"KTWSNAP1", b"KTWDLTA1")
"""registry.snapshot's FULL_MAGIC and DELTA_MAGIC, without importing numpy to tell a snapshot file."""


def _is_snapshot(name: str) -> bool:
    try:
        with open(name, "rb") as handle:
            return handle.read(8) in SNAPSHOT_MAGIC
    except OSError:
        return False  # read_document says why


def _verify_snapshot(name: str, registry_url: str | None, witnessing: dict[str, Any]) -> list[str]:
    from crawler_client.snapshot import Snapshot, SnapshotRefused
    from crawler_client.verification import VerificationFailed
    from keys.note import Checkpoint

    try:
        with Snapshot.open(name) as snapshot:
            state, claims = snapshot.state, len(snapshot)
    except SnapshotRefused as exc:
        raise VerificationFailed(str(exc)) from None
    lines = [
        _("valid snapshot signed by registry {registry}").format(registry=state.registry),
        _("{claims} claims in force at size {size} of log {origin}, as its checkpoint says").format(
            claims=claims, size=state.tree_size, origin=state.origin
        ),
    ]
    if registry_url:
        checkpoint = Checkpoint(state.origin, state.tree_size, state.root_hash)
        current, witnessed = _against_registry(registry_url, witnessing, state.registry, checkpoint)
        extends = _("{registry}'s log at size {size} extends the snapshot's checkpoint")
        lines.append(extends.format(registry=registry_url, size=current.size))
        lines += witnessed
    return lines


def _verify_manifest(manifest: dict[str, Any], directory: Path, data: list[str] | None) -> list[str]:
    """A compliance manifest's signature, snapshot state and removed rows (`verify_manifest`), and
    with `--data IN OUT` the files themselves (`verify_data`)."""
    from crawler_client.manifest import ManifestInvalid, verify_data, verify_manifest  # numpy, pyarrow
    from crawler_client.verification import VerificationFailed

    try:
        lines = verify_manifest(manifest, directory)
        if data:
            lines += verify_data(manifest, Path(data[0]), Path(data[1]))
        return lines
    except ManifestInvalid as exc:
        raise VerificationFailed(str(exc)) from None


def _verify_manifest_online(
    manifest: dict[str, Any], registry_url: str | None, witnessing: dict[str, Any]
) -> list[str]:
    """The registry's log (cosigned as asked) extends the checkpoint of the manifest's snapshot."""
    if not registry_url:
        return []
    from crawler_client.verification import VerificationFailed
    from keys.note import Checkpoint
    from registry.snapshot import InvalidSnapshot, SnapshotState

    try:
        state = SnapshotState.verify(manifest.get("snapshot"))
    except InvalidSnapshot as exc:  # pragma: no cover - verify_manifest has refused it already
        raise VerificationFailed(f"snapshot state: {exc}") from None
    checkpoint = Checkpoint(state.origin, state.tree_size, state.root_hash)
    current, witnessed = _against_registry(registry_url, witnessing, state.registry, checkpoint)
    extends = _("{registry}'s log at size {size} extends the snapshot's checkpoint")
    return [extends.format(registry=registry_url, size=current.size), *witnessed]


# ---------------------------------------------------------------- log


def cmd_log_verify(args: argparse.Namespace) -> int:
    from crawler_client.client import Client
    from crawler_client.verification import VerificationFailed, note_verifier
    from keys import merkle
    from keys.note import Checkpoint, verifier_key

    witnessing = witness_options(args)
    state_path = Path(args.state) if args.state else None
    state = _read_state(state_path) if state_path and state_path.exists() else None
    with Client(args.registry, **witnessing) as client:
        info = client.info()
        try:
            did, origin, published = info["did"], info["log"]["origin"], info["log"]["note_verifier_key"]
            verifier = note_verifier(did, origin)
            if published != verifier_key(origin, verifier.public_key):
                raise VerificationFailed(_("the published note verifier key is not the registry's did:key"))
            if state and (state["registry"], state["origin"]) != (did, origin):
                changed = _("the registry's identity changed: was {was} ({was_origin}), now {now} ({origin})")
                raise VerificationFailed(
                    changed.format(was=state["registry"], was_origin=state["origin"], now=did, origin=origin)
                )
            witnessed = client.witnessed_checkpoint()  # signed by the registry, cosigned as asked
            current = witnessed.checkpoint
            message = _("ok: {origin} at size {size}, root {root}").format(
                origin=origin, size=current.size, root=base64.b64encode(current.root_hash).decode()
            )
            if witnessing:
                required = client.witness_policy.min_cosignatures
                message += _("; {witnesses} ({count} of {required} required)").format(
                    witnesses=witnessed.describe(), count=len(witnessed.cosigned_by), required=required
                )
            if state:
                seen = Checkpoint(origin, int(state["size"]), base64.b64decode(state["root_hash"]))
                if current.size < seen.size:
                    shrank = _("the log shrank from {before} to {after} entries")
                    raise VerificationFailed(shrank.format(before=seen.size, after=current.size))
                proof = client.consistency_proof(seen.size, current.size)
                merkle.verify_consistency(seen.size, current.size, seen.root_hash, current.root_hash, proof)
                message += _("; consistent with size {size} seen before").format(size=seen.size)
        except NotWitnessed as exc:
            print(_("NOT WITNESSED: {detail}").format(detail=said(exc)))
            raise Negative from None
        except (VerificationFailed, merkle.InvalidMerkleProof, UntrustedAnswer, KeyError, TypeError) as exc:
            print(_("INCONSISTENT: {detail}").format(detail=said(exc)))
            raise Negative from None
    if state_path:
        _write_state(
            state_path,
            {
                "registry": did,
                "origin": origin,
                "size": current.size,
                "root_hash": base64.b64encode(current.root_hash).decode(),
            },
        )
    print(message)
    return 0


def _read_state(path: Path) -> dict[str, Any]:
    state = read_document(str(path))
    if not {"registry", "origin", "size", "root_hash"} <= state.keys():
        raise UsageError(_("--state {path}: not a kotowari log state file").format(path=path))
    return state


def _write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace the state file atomically, so a crash never leaves half a state behind."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


# ---------------------------------------------------------------- check


def cmd_check(args: argparse.Namespace) -> int:
    items = parse_items(args, query=True)
    if not items:
        raise UsageError(_("name at least one item to check (--url, --file, --text, --name, …)"))
    minimum = min_authority_of(args)
    if args.snapshot:
        from crawler_client.snapshot import Snapshot  # numpy and the snapshot format only when asked

        with Snapshot.open(args.snapshot) as snapshot:
            answer = snapshot.check(items, purpose=args.purpose, min_authority=minimum)
        answered, shown = answer["items"], answer
    elif args.registry:
        from crawler_client.client import Client

        with Client(args.registry) as registry:
            result = registry.check(items, purpose=args.purpose, min_authority=minimum)
        answered, shown = result.items, result.to_json()
    else:
        raise UsageError(_("say where to check: --registry URL (or $KOTOWARI_REGISTRY) or --snapshot FILE"))
    if args.json:
        print_json(shown)
    else:
        for item in answered:
            print(f"{decision_shown(item['decision']):<8} {_shown(item['item'])}")
            for line in explained(item):
                print(f"         {line}")
    return 1 if any(item["decision"] == "n" for item in answered) else 0


def explained(item: dict[str, Any]) -> list[str]:
    """An answered item's reasons, each claim's with its authority (`[self-asserted]`), then the
    notes on authority that was offered but does not count (a revoked mandate, say)."""
    matches = item.get("matches") or []
    lines = []
    for reason in item.get("reasons") or []:
        match = _match_of(reason, matches)
        shown = reason_shown(reason)
        if match is not None and match.get("counted", True) and match.get("authority"):
            shown += f" [{', '.join(match['authority'])}]"
        lines.append(shown)
    notes = dict.fromkeys(
        _("note on claim {claim}…: {note}").format(claim=match["claim"][:16], note=note)
        for match in matches
        for note in match.get("authority_notes") or []
    )
    licences = dict.fromkeys(
        _("claim {claim}… offers a licence: {licence}").format(
            claim=match["claim"][:16], licence=_licence_shown(match["licence"])
        )
        for match in matches
        if isinstance(match.get("licence"), dict) and match["licence"]
    )
    return lines + list(notes) + list(licences)


def _licence_shown(licence: dict[str, Any]) -> str:
    """A claim's `licence` object in a line: its RSL licence, terms and contact."""
    names = {"rsl": N_("RSL licence {value}"), "terms": N_("terms {value}"), "contact": N_("contact {value}")}
    return "; ".join(_(label).format(value=licence[key]) for key, label in names.items() if licence.get(key))


def _match_of(reason: str, matches: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The match a reason (`claim 3f9a…16 hex… by …`) speaks of."""
    if not reason.startswith("claim "):
        return None
    prefix = reason[len("claim ") :].split("…", 1)[0]
    found = [match for match in matches if str(match.get("claim", "")).startswith(prefix)]
    return found[0] if len(prefix) >= 8 and len(found) == 1 else None


# ---------------------------------------------------------------- helpers


def _shown(item: dict[str, Any]) -> str:
    if item.get("scheme") == "embedding":
        return _("embedding in {space} ({dimensions} dimensions)").format(
            space=item.get("space"), dimensions=item.get("dimensions")
        )
    value = str(item.get("value", ""))
    return f"{item.get('scheme')} {value[:77] + '…' if len(value) > 80 else value}"


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG, description=_("Kotowari: signed AI opt-outs over works, voices and likenesses.")
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)

    serve = commands.add_parser(
        "serve", help=_("run the registry (SQLite in --data-dir unless --db is given)")
    )
    serve.add_argument("--db", metavar="URL", help=_("sqlite://PATH or postgres://USER:PW@HOST/DB"))
    serve.add_argument("--host", metavar="H", help=_("address to listen on (default 127.0.0.1)"))
    serve.add_argument("--port", metavar="P", type=int, help=_("port (default 8000)"))
    serve.add_argument("--data-dir", metavar="DIR", help=_("where the key and the SQLite database live"))
    serve.add_argument(
        "--verify",
        action="store_true",
        help=_("first verify every log entry, signature and cached row; exit 1 if they do not verify"),
    )
    serve.set_defaults(run=cmd_serve)

    keys_cmd = commands.add_parser(
        "keys", help=_("create, rotate and recover your signing key")
    ).add_subparsers(dest="keys_command", required=True, metavar="COMMAND", parser_class=Parser)
    keys_new = keys_cmd.add_parser("new", help=_("create an Ed25519 key file (0600) and print its did:key"))
    keys_new.add_argument("--out", default="kotowari.key", metavar="FILE", help=_("default: kotowari.key"))
    keys_new.set_defaults(run=cmd_keys_new)
    register_keys(keys_cmd)

    url = commands.add_parser("url", help=_("show a URL's canonical form and lookup expressions"))
    url.add_argument("urls", nargs="+", metavar="URL")
    url.add_argument("--json", action="store_true")
    url.set_defaults(run=cmd_url)

    claim = commands.add_parser(
        "claim", help=_("create, file, import, list and withdraw claims")
    ).add_subparsers(dest="claim_command", required=True, metavar="COMMAND", parser_class=Parser)
    new = claim.add_parser("new", help=_("build and sign a claim offline"))
    new.add_argument("--key", required=True, metavar="FILE", help=_("your key file (keys new)"))
    new.add_argument("--kind", required=True, type=kind_arg, choices=SUBJECT_KINDS, help=kinds_help())
    add_item_flags(new, query=False)
    new.add_argument("--deny", metavar="USES", help=uses_help(_("uses to reserve, comma-separated")))
    new.add_argument("--allow", metavar="USES", help=_("uses to allow explicitly"))
    new.add_argument("--title", help=_("a title for the subject"))
    new.add_argument("--on-behalf-of", metavar="PRINCIPAL", help=_("the person or body an agency files for"))
    new.add_argument("--authority", metavar="TEXT", help=_("the agency's statement of its authority"))
    new.add_argument(
        "--principal-did",
        metavar="DID",
        help=_("the principal's DID: the claim counts as mandated while a mandate from it covers the claim"),
    )
    new.add_argument(
        "--mandate", metavar="ID", help=_("the id of the principal's signed mandate (`kotowari mandate new`)")
    )
    new.add_argument("--licence-contact", metavar="CONTACT", help=_("where to ask for a licence"))
    new.add_argument("--licence-terms", metavar="URL", help=_("licence terms"))
    new.add_argument(
        "--licence-rsl",
        metavar="URL",
        help=_("an RSL 1.0 licence document offering the reserved uses (https)"),
    )
    new.add_argument("--valid-from", metavar="TIME", help=_("RFC 3339 UTC, e.g. 2027-01-01T00:00:00Z"))
    new.add_argument("--valid-until", metavar="TIME", help=_("RFC 3339 UTC"))
    new.add_argument("--territory", action="append", metavar="CC", help=_("ISO 3166-1 alpha-2 (repeatable)"))
    new.add_argument("--out", metavar="FILE", help=_("write here (default: standard output)"))
    new.set_defaults(run=cmd_claim_new)

    file_ = claim.add_parser("file", help=_("file a signed claim and print its id"))
    file_.add_argument("file", metavar="FILE", help=_("the signed claim ('-' for standard input)"))
    registry_flag(file_)
    file_.add_argument("--json", action="store_true", help=_("print the whole receipt"))
    file_.set_defaults(run=cmd_claim_file)

    register_claim_list(claim)  # list, withdraw (one, --all-matching, --from)
    register_claim_import(claim)

    verify = commands.add_parser(
        "verify", help=_("verify a signed document, receipt, check answer, snapshot or manifest")
    )
    verify.add_argument(
        "file",
        metavar="FILE",
        help=_(
            "a signed document, a receipt (claim file --json), a check answer, a snapshot "
            "(snapshot pull) or a compliance manifest"
        ),
    )
    verify.add_argument(
        "--key", metavar="MULTIBASE", help=_("verify a document with this Ed25519 key (z6Mk…)")
    )
    verify.add_argument(
        "--data",
        nargs=2,
        metavar=("IN", "OUT"),
        help=_("with a compliance manifest: the input and output files, hashed against the signed digests"),
    )
    verify.add_argument(
        "--log", metavar="FILE", help=_("with a crawl manifest: the audit log it was made from")
    )
    verify.add_argument(
        "--registry", metavar="URL", help=_("also check the registry's log still holds it, consistently")
    )
    add_witness_flags(verify)
    verify.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    verify.set_defaults(run=cmd_verify)

    log = commands.add_parser("log", help=_("audit the registry's transparency log")).add_subparsers(
        dest="log_command", required=True, metavar="COMMAND", parser_class=Parser
    )
    log_verify = log.add_parser(
        "verify", help=_("verify the checkpoint and its consistency with the last one seen")
    )
    registry_flag(log_verify)
    log_verify.add_argument("--state", metavar="FILE", help=_("where the last verified checkpoint is kept"))
    add_witness_flags(log_verify)
    log_verify.set_defaults(run=cmd_log_verify)
    register_log_audit(log)

    check = commands.add_parser("check", help=_("ask the registry, or a local snapshot, what is reserved"))
    where = check.add_mutually_exclusive_group()
    where.add_argument(
        "--registry",
        default=os.environ.get("KOTOWARI_REGISTRY"),
        metavar="URL",
        help=_("default: $KOTOWARI_REGISTRY"),
    )
    where.add_argument(
        "--snapshot", metavar="FILE", help=_("check offline against a snapshot (snapshot pull)")
    )
    purpose_flag(check, _("the use to check for"))
    min_authority_flag(check)
    add_item_flags(check, query=True)
    check.add_argument(
        "--json", action="store_true", help=_("print every item's decision per use, matches and authority")
    )
    check.set_defaults(run=cmd_check)

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    install_argparse()
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        with answers_in(language()):  # the registry's refusals in the messages' language
            return run(args)
    except Negative:
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if not _input_error(exc):
            raise
        print(error_line(PROG, explained_error(exc)), file=sys.stderr)
        return 2


def _input_error(exc: Exception) -> bool:
    """A usage or input error (exit status 2): ours, the client's, or a `keys.KeysError`. `keys`
    (cryptography) is not imported for this: if no command imported it, none was raised."""
    if isinstance(exc, UsageError | KotowariError):
        return True
    keys_errors = sys.modules.get("keys.errors")
    return keys_errors is not None and isinstance(exc, keys_errors.KeysError)


if __name__ == "__main__":
    sys.exit(main())
