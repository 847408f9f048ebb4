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
from crawler_client.cli_support import (
    Negative,
    Parser,
    UsageError,
    min_authority_flag,
    min_authority_of,
    parse_items,
    print_json,
    read_document,
    read_key,
    registry_flag,
    write_document,
)
from crawler_client.errors import KotowariError, NotWitnessed, UntrustedAnswer
from crawler_client.items import add_item_flags
from crawler_client.witness_options import add_witness_flags, witness_options
from registry.vocabulary import SUBJECT_KINDS, USES

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
)
"""Modules whose `register(commands)` adds a command (see `crawler_client.cli_support`)."""


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    try:
        import uvicorn

        from api import Settings, create_app
        from api.app import verify_database
        from registry.integrity import IntegrityFailure
    except ImportError as exc:
        raise UsageError(
            f"the server is not installed ({exc.name}): pip install 'kotowari[server]'"
        ) from None
    try:
        settings = Settings.from_env(db_url=args.db, host=args.host, port=args.port, data_dir=args.data_dir)
        settings.database_url  # noqa: B018 - refuse an unsupported URL before starting
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    def ready(did: str, created: bool) -> None:
        key_file = settings.data_dir / "registry.key"
        print(f"Kotowari registry {did}", flush=True)
        if created:
            print(f"created its signing key in {key_file} (mode 0600)", flush=True)
        print(f"database {_redacted(settings.database_url)}", flush=True)
        print(f"listening on http://{settings.host}:{settings.port}", flush=True)

    if args.verify:
        try:
            report = asyncio.run(verify_database(settings))
        except IntegrityFailure as exc:
            print(f"kotowari: the log does not verify: {exc.detail}", file=sys.stderr)
            return 1
        print(
            f"verified {report.tree_size} log entries, {report.signatures_checked} signatures "
            f"and {report.rows_checked} cached rows",
            flush=True,
        )
    app = create_app(settings, on_ready=ready)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    )
    server.run()
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
    print(f"private key written to {args.out} (mode 0600); keep it safe", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- url


def cmd_url(args: argparse.Namespace) -> int:
    from registry import urls

    reports = []
    for url in args.urls:
        try:
            reports.append(urls.url_report(url))
        except urls.InvalidURL as exc:
            raise UsageError(f"{url!r}: {exc}") from None
    if args.json:
        print_json(reports if len(reports) > 1 else reports[0])
        return 0
    for report in reports:
        print(report["canonical"])
        print(f"  expression: {report['expression']}")
        for lookup in report["lookups"]:  # type: ignore[attr-defined]
            print(f"  lookup:     {lookup}")
    return 0


# ---------------------------------------------------------------- claims


def cmd_claim_new(args: argparse.Namespace) -> int:
    import keys
    from crawler_client.claim_build import build_claim

    key = read_key(args.key)
    document = build_claim(args, key.did, now=_now())
    signed = keys.sign_document(document, key, created=_now())
    print(PUBLIC_CLAIM, file=sys.stderr)
    write_document(signed, args.out)
    return 0


PUBLIC_CLAIM = (
    "注意: クレームは公開され、永久に記録されます（取り下げても記録は残ります）。"
    "住所や電話番号を書かないでください。 / A claim is public and permanent (withdrawing it "
    "leaves the record): put no private address or phone in it."
)


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
                raise UsageError(f"--data: {path}: no such file")
    if witnessing and not args.registry:
        raise UsageError("--witness needs --registry URL: the cosigned checkpoints come from the registry")
    try:
        if args.file != "-" and _is_snapshot(args.file):
            lines = _verify_snapshot(args.file, args.registry, witnessing)
        else:
            document = read_document(args.file)
            if isinstance(document.get("log"), dict) and "document" in document:
                lines = _verify_receipt(document, args.registry, witnessing)
            elif document.get("type") == "CheckAnswer":
                lines = _verify_answer(document, args.registry, witnessing)
            elif document.get("type") == "ComplianceManifest":
                lines = _verify_manifest(document, Path(args.file).parent, args.data)
                lines += _verify_manifest_online(document, args.registry, witnessing)
            elif witnessing:
                raise UsageError(
                    "--witness: this document names no checkpoint (give a receipt, a check answer, "
                    "a snapshot or a compliance manifest)"
                )
            elif args.data:
                raise UsageError("--data goes with a compliance manifest (kotowari filter --manifest)")
            else:
                lines = _verify_signed(document, args.key)
    except NotWitnessed as exc:
        print(f"NOT WITNESSED: {exc}")
        raise Negative from None
    except (VerificationFailed, KeysError, UntrustedAnswer) as exc:
        print(f"INVALID: {exc}")
        raise Negative from None
    if args.json:
        print_json({"valid": True, "details": lines})
    else:
        print("\n  ".join(lines))
    return 0


def _verify_signed(document: dict[str, Any], key_text: str | None) -> list[str]:
    import keys

    key = None
    if key_text:
        try:
            key = keys.VerifyingKey.from_multibase(key_text)
        except keys.KeysError as exc:
            raise UsageError(f"--key: {exc}") from None
    verified = keys.verify_document(document, key=key)
    return [f"valid: signed by {verified.verification_method}", f"id {keys.document_id(document)}"]


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
        lines.append(
            f"{current.describe()} ({len(current.cosigned_by)} of {required} required) at size {current.size}"
        )
    return current, lines


def _verify_receipt(
    receipt: dict[str, Any], registry_url: str | None, witnessing: dict[str, Any] | None = None
) -> list[str]:
    import keys
    from crawler_client.verification import verify_receipt

    checkpoint, _, leaf = verify_receipt(receipt)
    log = receipt["log"]
    lines = [
        f"valid receipt: document {keys.document_id(receipt['document'])}",
        f"signed by {keys.verify_document(receipt['document']).verification_method}",
        f"entry {log['index']} of log {checkpoint.origin}, in its checkpoint of size {checkpoint.size}",
        f"checkpoint signed by registry {log['registry']}",
    ]
    if registry_url:
        current, witnessed = _against_registry(
            registry_url, witnessing or {}, str(log["registry"]), checkpoint, leaf
        )
        lines.append(f"{registry_url} still includes it at size {current.size}, consistent with the receipt")
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
        f"valid check answer signed by registry {answer['registry']}",
        f"computed at size {point.get('tree_size')} of log {point.get('origin')}",
    ]
    if registry_url:
        try:
            checkpoint = Checkpoint(
                str(point["origin"]), int(point["tree_size"]), base64.b64decode(point["root_hash"])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise VerificationFailed(f"the answer's checkpoint is malformed: {exc}") from None
        current, witnessed = _against_registry(
            registry_url, witnessing or {}, str(answer["registry"]), checkpoint
        )
        lines.append(f"{registry_url}'s log at size {current.size} extends that checkpoint")
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
        f"valid snapshot signed by registry {state.registry}",
        f"{claims} claims in force at size {state.tree_size} of log {state.origin}, as its checkpoint says",
    ]
    if registry_url:
        checkpoint = Checkpoint(state.origin, state.tree_size, state.root_hash)
        current, witnessed = _against_registry(registry_url, witnessing, state.registry, checkpoint)
        lines.append(f"{registry_url}'s log at size {current.size} extends the snapshot's checkpoint")
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
    return [f"{registry_url}'s log at size {current.size} extends the snapshot's checkpoint", *witnessed]


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
                raise VerificationFailed("the published note verifier key is not the registry's did:key")
            if state and (state["registry"], state["origin"]) != (did, origin):
                raise VerificationFailed(
                    f"the registry's identity changed: was {state['registry']} ({state['origin']}), "
                    f"now {did} ({origin})"
                )
            witnessed = client.witnessed_checkpoint()  # signed by the registry, cosigned as asked
            current = witnessed.checkpoint
            message = (
                f"ok: {origin} at size {current.size}, root {base64.b64encode(current.root_hash).decode()}"
            )
            if witnessing:
                required = client.witness_policy.min_cosignatures
                message += f"; {witnessed.describe()} ({len(witnessed.cosigned_by)} of {required} required)"
            if state:
                seen = Checkpoint(origin, int(state["size"]), base64.b64decode(state["root_hash"]))
                if current.size < seen.size:
                    raise VerificationFailed(f"the log shrank from {seen.size} to {current.size} entries")
                proof = client.consistency_proof(seen.size, current.size)
                merkle.verify_consistency(seen.size, current.size, seen.root_hash, current.root_hash, proof)
                message += f"; consistent with size {seen.size} seen before"
        except NotWitnessed as exc:
            print(f"NOT WITNESSED: {exc}")
            raise Negative from None
        except (VerificationFailed, merkle.InvalidMerkleProof, UntrustedAnswer, KeyError, TypeError) as exc:
            print(f"INCONSISTENT: {exc}")
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
        raise UsageError(f"--state {path}: not a kotowari log state file")
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
        raise UsageError("name at least one item to check (--url, --file, --text, --name, …)")
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
        raise UsageError("say where to check: --registry URL (or $KOTOWARI_REGISTRY) or --snapshot FILE")
    if args.json:
        print_json(shown)
    else:
        for item in answered:
            print(f"{item['decision']:<8} {_shown(item['item'])}")
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
        if match is not None and match.get("counted", True) and match.get("authority"):
            reason += f" [{', '.join(match['authority'])}]"
        lines.append(reason)
    notes = dict.fromkeys(
        f"note on claim {match['claim'][:16]}…: {note}"
        for match in matches
        for note in match.get("authority_notes") or []
    )
    licences = dict.fromkeys(
        f"claim {match['claim'][:16]}… offers a licence: {_licence_shown(match['licence'])}"
        for match in matches
        if isinstance(match.get("licence"), dict) and match["licence"]
    )
    return lines + list(notes) + list(licences)


def _licence_shown(licence: dict[str, Any]) -> str:
    """A claim's `licence` object in a line: its RSL licence, terms and contact."""
    names = {"rsl": "RSL licence", "terms": "terms", "contact": "contact"}
    return "; ".join(f"{label} {licence[key]}" for key, label in names.items() if licence.get(key))


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
        return f"embedding in {item.get('space')} ({item.get('dimensions')} dimensions)"
    value = str(item.get("value", ""))
    return f"{item.get('scheme')} {value[:77] + '…' if len(value) > 80 else value}"


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="Kotowari: signed AI opt-outs over works, voices and likenesses.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)

    serve = commands.add_parser("serve", help="run the registry (SQLite in --data-dir unless --db is given)")
    serve.add_argument("--db", metavar="URL", help="sqlite://PATH or postgres://USER:PW@HOST/DB")
    serve.add_argument("--host", metavar="H", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", metavar="P", type=int, help="port (default 8000)")
    serve.add_argument("--data-dir", metavar="DIR", help="where the key and the SQLite database live")
    serve.add_argument(
        "--verify",
        action="store_true",
        help="first verify every log entry, signature and cached row; exit 1 if they do not verify",
    )
    serve.set_defaults(run=cmd_serve)

    keys_cmd = commands.add_parser("keys", help="create, rotate and recover your signing key").add_subparsers(
        dest="keys_command", required=True, metavar="COMMAND", parser_class=Parser
    )
    keys_new = keys_cmd.add_parser("new", help="create an Ed25519 key file (0600) and print its did:key")
    keys_new.add_argument("--out", default="kotowari.key", metavar="FILE", help="default: kotowari.key")
    keys_new.set_defaults(run=cmd_keys_new)
    register_keys(keys_cmd)

    url = commands.add_parser("url", help="show a URL's canonical form and lookup expressions")
    url.add_argument("urls", nargs="+", metavar="URL")
    url.add_argument("--json", action="store_true")
    url.set_defaults(run=cmd_url)

    claim = commands.add_parser(
        "claim", help="create, file, import, list and withdraw claims"
    ).add_subparsers(dest="claim_command", required=True, metavar="COMMAND", parser_class=Parser)
    new = claim.add_parser("new", help="build and sign a claim offline")
    new.add_argument("--key", required=True, metavar="FILE")
    new.add_argument("--kind", required=True, choices=SUBJECT_KINDS)
    add_item_flags(new, query=False)
    new.add_argument("--deny", metavar="USES", help=f"uses to reserve, comma-separated: {','.join(USES)}")
    new.add_argument("--allow", metavar="USES", help="uses to allow explicitly")
    new.add_argument("--title", help="a title for the subject")
    new.add_argument("--on-behalf-of", metavar="PRINCIPAL", help="the person or body an agency files for")
    new.add_argument("--authority", metavar="TEXT", help="the agency's statement of its authority")
    new.add_argument(
        "--principal-did",
        metavar="DID",
        help="the principal's DID: the claim counts as mandated while a mandate from it covers the claim",
    )
    new.add_argument(
        "--mandate", metavar="ID", help="the id of the principal's signed mandate (`kotowari mandate new`)"
    )
    new.add_argument("--licence-contact", metavar="CONTACT", help="where to ask for a licence")
    new.add_argument("--licence-terms", metavar="URL", help="licence terms")
    new.add_argument(
        "--licence-rsl", metavar="URL", help="an RSL 1.0 licence document offering the reserved uses (https)"
    )
    new.add_argument("--valid-from", metavar="TIME", help="RFC 3339 UTC, e.g. 2027-01-01T00:00:00Z")
    new.add_argument("--valid-until", metavar="TIME")
    new.add_argument("--territory", action="append", metavar="CC", help="ISO 3166-1 alpha-2 (repeatable)")
    new.add_argument("--out", metavar="FILE", help="write here (default: standard output)")
    new.set_defaults(run=cmd_claim_new)

    file_ = claim.add_parser("file", help="file a signed claim and print its id")
    file_.add_argument("file", metavar="FILE", help="the signed claim ('-' for standard input)")
    registry_flag(file_)
    file_.add_argument("--json", action="store_true", help="print the whole receipt")
    file_.set_defaults(run=cmd_claim_file)

    register_claim_list(claim)  # list, withdraw (one, --all-matching, --from)
    register_claim_import(claim)

    verify = commands.add_parser(
        "verify", help="verify a signed document, receipt, check answer, snapshot or manifest"
    )
    verify.add_argument(
        "file",
        metavar="FILE",
        help="a signed document, a receipt (claim file --json), a check answer, a snapshot "
        "(snapshot pull) or a compliance manifest",
    )
    verify.add_argument("--key", metavar="MULTIBASE", help="verify a document with this Ed25519 key (z6Mk…)")
    verify.add_argument(
        "--data",
        nargs=2,
        metavar=("IN", "OUT"),
        help="with a compliance manifest: the input and output files, hashed against the signed digests",
    )
    verify.add_argument(
        "--registry", metavar="URL", help="also check the registry's log still holds it, consistently"
    )
    add_witness_flags(verify)
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(run=cmd_verify)

    log = commands.add_parser("log", help="audit the registry's transparency log").add_subparsers(
        dest="log_command", required=True, metavar="COMMAND", parser_class=Parser
    )
    log_verify = log.add_parser(
        "verify", help="verify the checkpoint and its consistency with the last one seen"
    )
    registry_flag(log_verify)
    log_verify.add_argument("--state", metavar="FILE", help="where the last verified checkpoint is kept")
    add_witness_flags(log_verify)
    log_verify.set_defaults(run=cmd_log_verify)
    register_log_audit(log)

    check = commands.add_parser("check", help="ask the registry, or a local snapshot, what is reserved")
    where = check.add_mutually_exclusive_group()
    where.add_argument(
        "--registry",
        default=os.environ.get("KOTOWARI_REGISTRY"),
        metavar="URL",
        help="default: $KOTOWARI_REGISTRY",
    )
    where.add_argument("--snapshot", metavar="FILE", help="check offline against a snapshot (snapshot pull)")
    check.add_argument("--purpose", required=True, choices=USES)
    min_authority_flag(check)
    add_item_flags(check, query=True)
    check.add_argument(
        "--json", action="store_true", help="print every item's decision per use, matches and authority"
    )
    check.set_defaults(run=cmd_check)

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except Negative:
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if not _input_error(exc):
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
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
