"""Authority and key lifecycles from the command line: `kotowari keys rotate|recover`,
`kotowari mandate new|revoke`, `kotowari attest new|revoke`, `kotowari domain verify` and
`kotowari authority show`.

A command that creates something prints its id (or, `keys rotate`, the successor's DID) alone on
standard output, so `ID=$(kotowari …)` works, and what happened on standard error; `--json`
prints the whole verified receipt with the signed document instead.

Every document is built and checked here first (what the registry would refuse with a 422 is one
line, exit status 2, before anything is signed), signed with `--key`, and filed through the SDK
(`Client.file_authority`, `Client.verify_domain`, `Client.authority`), which verifies each receipt's
signature and inclusion proof against the pinned registry. A refusal by the registry (409
`authority-conflict`, 409 `key-retired`, 422 `verification-failed`) is one line, exit status 2.

    kotowari keys rotate --key old.key --new-key new.key --registry http://127.0.0.1:8000
    kotowari mandate new --key ayaka.key --agent did:key:z6Mk… --kind voice --uses train-ai,generate \\
        --registry http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler_client.cli_support import (
    Parser,
    UsageError,
    as_if_signed,
    print_json,
    read_key,
    registry_flag,
)
from crawler_client.errors import RegistryProblem
from registry.authority.levels import VERIFICATION_METHODS
from registry.vocabulary import SUBJECT_KINDS, USES, UnknownUse, parse_uses

# The documents' pydantic models, keys and the client are imported by the commands that use them,
# so that registering these commands costs `kotowari --help` nothing (crawler_client.cli_support).
if TYPE_CHECKING:
    from pydantic import TypeAdapter

    import keys
    from registry.documents import SignedDocument

__all__ = ["register", "register_keys"]

_DOC_ID = re.compile(r"[0-9a-f]{64}")


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- shared steps


def _key_at(path: str, flag: str) -> tuple[keys.SigningKey, bool]:
    """The key in `path`, or a new one written there (0600, as `keys new` does) if there is no file."""
    import keys

    if Path(path).exists():
        return read_key(path), False
    key = keys.SigningKey.generate()
    try:
        keys.write_key_file(path, key)
    except (OSError, keys.KeysError) as exc:
        raise UsageError(f"{flag} {path}: {getattr(exc, 'strerror', None) or exc}") from None
    print(f"new key {key.did} written to {path} (mode 0600); keep it safe", file=sys.stderr)
    return key, True


@functools.cache
def _did_adapter() -> TypeAdapter[str]:
    from pydantic import TypeAdapter

    from registry.documents import Did

    return TypeAdapter(Did)


def _did(value: str, flag: str) -> str:
    """A DID flag, checked as the registry checks DIDs, or one line."""
    from pydantic import ValidationError

    try:
        return _did_adapter().validate_python(value)
    except ValidationError as exc:
        reason = str(exc.errors(include_url=False)[0]["msg"]).removeprefix("Value error, ")
        raise UsageError(f"{flag} {value!r}: {reason}") from None


def _document_id(value: str, flag: str) -> str:
    lowered = value.strip().lower()
    if not _DOC_ID.fullmatch(lowered):
        raise UsageError(f"{flag} {value!r}: a document id is 64 hexadecimal digits")
    return lowered


def _time(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    from registry.documents import parse_timestamp

    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _signed(model: type[SignedDocument], document: dict[str, Any], key: keys.SigningKey) -> dict[str, Any]:
    """`document` checked as the registry checks it (a 422 becomes one line here), then signed."""
    import keys
    from registry.authority.documents import validate_authority_document
    from registry.documents import InvalidDocument

    try:
        validate_authority_document(model, as_if_signed(document))
    except InvalidDocument as exc:
        raise UsageError(f"the {model.__name__} would be refused: {exc}") from None
    return keys.sign_document(document, key, created=_now())


def _file(args: argparse.Namespace, document: dict[str, Any]) -> dict[str, Any]:
    from crawler_client.client import Client

    with Client(args.registry) as registry:
        return registry.file_authority(document)


@contextlib.contextmanager
def _kept_unless_refused(path: str, created: bool) -> Iterator[None]:
    """Remove a key file created for a successor when the registry definitely refused the filing
    (a problem answer: nothing was logged). After a timeout or a lost answer it stays: the filing
    may have been accepted, and the successor's key is then the only one that acts."""
    try:
        yield
    except RegistryProblem:
        if created:
            Path(path).unlink(missing_ok=True)
            print(f"{path} removed: the registry refused the filing", file=sys.stderr)
        raise


def _logged(receipt: dict[str, Any]) -> str:
    log = receipt.get("log") or {}
    return f"log entry {log.get('index')} of {log.get('origin')} (receipt verified)"


def _report(
    args: argparse.Namespace,
    receipt: dict[str, Any],
    document: dict[str, Any],
    out: Sequence[str],
    err: Sequence[str] = (),
    **extra: Any,
) -> int:
    """`--json`: the receipt, the signed document and `extra`; otherwise `out` on standard output
    (an id alone, for `ID=$(kotowari …)`, where the command creates something) and `err`, what
    happened, on standard error."""
    if args.json:
        print_json({**receipt, "document": document, **extra})
        return 0
    for line in out:
        print(line)
    for line in err:
        print(line, file=sys.stderr)
    return 0


# ---------------------------------------------------------------- keys rotate | recover


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from registry.authority.documents import KeyRotation, new_rotation

    old = read_key(args.key)
    if Path(args.new_key).exists() and Path(args.new_key).resolve() == Path(args.key).resolve():
        raise UsageError("--new-key must be another key file than --key")
    if Path(args.new_key).exists() and read_key(args.new_key).did == old.did:
        raise UsageError("--new-key holds the same key as --key")
    new, created = _key_at(args.new_key, "--new-key")
    document = _signed(KeyRotation, new_rotation(old.did, new.did, created=_now(), reason=args.reason), old)
    with _kept_unless_refused(args.new_key, created):
        receipt = _file(args, document)
    done = [
        f"{old.did} is retired: {new.did} now acts for its claims and notices",
        f"rotation {receipt['id']}, {_logged(receipt)}",
    ]
    return _report(args, receipt, document, [new.did], done, successor=new.did)


def cmd_recover_designate(args: argparse.Namespace) -> int:
    from registry.authority.documents import RecoveryKeys, new_recovery_keys

    key = read_key(args.key)
    recovery_keys = [_did(did, "--recovery-key") for did in args.recovery_key]
    document = _signed(
        RecoveryKeys,
        new_recovery_keys(key.did, recovery_keys, created=_now(), waiting_period_days=args.waiting_days),
        key,
    )
    receipt = _file(args, document)
    lines = [
        f"{key.did} can be recovered by {', '.join(args.recovery_key)}",
        f"after a public waiting period of {args.waiting_days} days, during which this key can veto",
        f"designation {receipt['id']}, {_logged(receipt)}",
    ]
    return _report(args, receipt, document, lines)


def cmd_recover_request(args: argparse.Namespace) -> int:
    from crawler_client.client import Client
    from registry.authority.documents import RecoveryRequest, new_recovery_step

    key = read_key(args.key)
    lost = _did(args.did, "--did")
    new, created = _key_at(args.new_key, "--new-key")
    document = _signed(
        RecoveryRequest,
        new_recovery_step("RecoveryRequest", key.did, created=_now(), did=lost, successor=new.did),
        key,
    )
    with Client(args.registry) as registry:
        with _kept_unless_refused(args.new_key, created):
            receipt = registry.file_authority(document)
        recovery = (registry.authority(lost).get("recovery") or {}).get("open_request") or {}
    ends = recovery.get("completes_after") if recovery.get("id") == receipt["id"] else None
    done = [
        f"recovery of {lost} to {new.did} requested, {_logged(receipt)}",
        f"the waiting period ends {ends}: until then {lost} can veto it"
        if ends
        else f"the waiting period has begun (see: kotowari authority show {lost})",
        f"then: kotowari keys recover complete --key … --request {receipt['id']}",
    ]
    return _report(args, receipt, document, [receipt["id"]], done, successor=new.did, completes_after=ends)


def cmd_recover_veto(args: argparse.Namespace) -> int:
    from registry.authority.documents import RecoveryVeto, new_recovery_step

    key = read_key(args.key)
    request = _document_id(args.request, "--request")
    document = _signed(
        RecoveryVeto, new_recovery_step("RecoveryVeto", key.did, created=_now(), request=request), key
    )
    receipt = _file(args, document)
    lines = [
        f"vetoed recovery {request}: {key.did} keeps acting for itself",
        f"veto {receipt['id']}, {_logged(receipt)}",
    ]
    return _report(args, receipt, document, lines)


def cmd_recover_complete(args: argparse.Namespace) -> int:
    from registry.authority.documents import RecoveryCompletion, new_recovery_step

    key = read_key(args.key)
    request = _document_id(args.request, "--request")
    document = _signed(
        RecoveryCompletion,
        new_recovery_step("RecoveryCompletion", key.did, created=_now(), request=request),
        key,
    )
    receipt = _file(args, document)
    lines = [f"completed recovery {request}", f"completion {receipt['id']}, {_logged(receipt)}"]
    return _report(args, receipt, document, lines)


# ---------------------------------------------------------------- mandates and attestations


def cmd_mandate_new(args: argparse.Namespace) -> int:
    from registry.authority.documents import Mandate, new_mandate

    key = read_key(args.key)
    try:
        uses = parse_uses(args.uses) if args.uses else None
    except UnknownUse as exc:
        raise UsageError(f"--uses: {exc}") from None
    document = new_mandate(
        key.did,
        _did(args.agent, "--agent"),
        created=_now(),
        kinds=args.kind or None,
        uses=list(uses) if uses else None,
        identifiers=[{"scheme": "url", "value": url} for url in args.url] or None,
        principal_name=args.principal_name,
        valid_from=_time(args.valid_from, "--valid-from"),
        valid_until=_time(args.valid_until, "--valid-until"),
    )
    signed = _signed(Mandate, document, key)
    receipt = _file(args, signed)
    done = [
        f"mandate for {args.agent}, {_logged(receipt)}; the agent files claims with --on-behalf-of "
        f"NAME --authority TEXT --principal-did {key.did} --mandate {receipt['id']}"
    ]
    return _report(args, receipt, signed, [receipt["id"]], done)


def _revoke(args: argparse.Namespace, kind: str, model: type[Any], consequence: str) -> int:
    """Sign and file a `MandateRevocation` or `AttestationRevocation` of the document `args.id`."""
    from registry.authority.documents import new_revocation

    key = read_key(args.key)
    target = _document_id(args.id, "ID")
    document = _signed(model, new_revocation(kind, key.did, target, created=_now(), reason=args.reason), key)
    receipt = _file(args, document)
    return _report(args, receipt, document, [consequence.format(target=target, logged=_logged(receipt))])


def cmd_mandate_revoke(args: argparse.Namespace) -> int:
    from registry.authority.documents import MandateRevocation

    consequence = "revoked mandate {target}: claims under it are agent-asserted from {logged} on"
    return _revoke(args, "MandateRevocation", MandateRevocation, consequence)


def cmd_attest_new(args: argparse.Namespace) -> int:
    from registry.authority.documents import Attestation, new_attestation

    key = read_key(args.key)
    identifiers = [{"scheme": "isni", "value": isni} for isni in args.isni] + [
        {"scheme": "wikidata", "value": qid} for qid in args.wikidata
    ]
    document = new_attestation(
        key.did,
        _did(args.subject, "--subject"),
        args.statement,
        created=_now(),
        name=args.name,
        identifiers=identifiers or None,
        valid_from=_time(args.valid_from, "--valid-from"),
        valid_until=_time(args.valid_until, "--valid-until"),
    )
    signed = _signed(Attestation, document, key)
    receipt = _file(args, signed)
    done = [
        f"attestation of {args.subject}, {_logged(receipt)}; it counts while {key.did} holds a "
        "domain verification (kotowari domain verify)"
    ]
    return _report(args, receipt, signed, [receipt["id"]], done)


def cmd_attest_revoke(args: argparse.Namespace) -> int:
    from registry.authority.documents import AttestationRevocation

    return _revoke(
        args, "AttestationRevocation", AttestationRevocation, "revoked attestation {target} from {logged} on"
    )


# ---------------------------------------------------------------- domains and what the log says


def cmd_domain_verify(args: argparse.Namespace) -> int:
    from crawler_client.client import Client

    _did(args.did, "--did")
    with Client(args.registry) as registry:
        answer = registry.verify_domain(args.did, args.host, args.method)
    if args.json:
        print_json(answer)
        return 0
    record = answer["verification"]
    covered = f"{record['host']} and every host below it" if record["scope"] == "domain" else record["host"]
    print(f"verified: {record['subject']} controls {covered} ({record['method']})")
    print(f"the registry fetched {record['url']} at {record['checked_at']}, SHA-256 {record['sha256']}")
    print(f"verification {answer['id']}, {_logged(answer)}")
    return 0


def cmd_authority_show(args: argparse.Namespace) -> int:
    from crawler_client.client import Client

    _did(args.did, "DID")
    with Client(args.registry) as registry:
        described = registry.authority(args.did)
    if args.json:
        print_json(described)
        return 0
    for line in _described(described):
        print(line)
    return 0


def _described(d: dict[str, Any]) -> list[str]:
    lines = [f"{d['did']} (log at tree size {d.get('tree_size')})"]
    if d.get("retired"):
        lines.append(f"  retired: {d.get('acting')} acts for it")
    hosts = d.get("verified_hosts") or []
    lines.append(f"  domain-verified: {', '.join(hosts)}" if hosts else "  domain-verified: no")
    for v in d.get("verifications") or []:
        lines.append(
            f"  verification {v['id'][:16]}… {v.get('host')} by {v.get('method')} "
            f"(fetched {v.get('url')} at {v.get('checked_at')}; log entry {v.get('log_index')})"
        )
    for a in d.get("attestations") or []:
        counts = "counts" if a.get("counts") else "does not count: its issuer holds no domain verification"
        named = f" as {a['name']}" if a.get("name") else ""
        lines.append(
            f"  attestation {a['id'][:16]}… ({a.get('statement')}) of {a.get('subject')}{named} by "
            f"{a.get('issuer')}: {counts} (log entry {a.get('log_index')})"
        )
    for m in d.get("mandates") or []:
        scope = m.get("scope") or {}
        limits = ", ".join(
            part
            for part in (
                "kinds " + "/".join(scope["kinds"]) if scope.get("kinds") else "",
                "uses " + "/".join(scope["uses"]) if scope.get("uses") else "",
                f"{len(scope['identifiers'])} identifiers" if scope.get("identifiers") else "",
                f"until {m['valid_until']}" if m.get("valid_until") else "",
            )
            if part
        )
        lines.append(
            f"  mandate {m['id']} from {m.get('principal')} to {m.get('agent')}"
            f" ({limits or 'any claim'}; log entry {m.get('log_index')})"
        )
    recovery = d.get("recovery")
    if recovery:
        lines.append(
            f"  recovery keys: {', '.join(recovery.get('recovery_keys') or [])} "
            f"(waiting period {recovery.get('waiting_period_days')} days)"
        )
        request = recovery.get("open_request")
        if request:
            lines.append(
                f"  open recovery {request['id']} by {request.get('by')} to {request.get('successor')}: "
                f"can be vetoed until {request.get('completes_after')}"
            )
    return lines


# ---------------------------------------------------------------- parser


def _command(
    parent: argparse._SubParsersAction[Parser], name: str, text: str, run: Callable[[argparse.Namespace], int]
) -> Parser:
    parser: Parser = parent.add_parser(name, help=text, description=text)
    parser.set_defaults(run=run)
    return parser


def _finish(parser: Parser) -> None:
    registry_flag(parser)
    parser.add_argument("--json", action="store_true", help="print the receipt and the signed document")


def register_keys(keys_cmd: argparse._SubParsersAction[Parser]) -> None:
    """Add `kotowari keys rotate` and `kotowari keys recover …` next to `keys new`."""
    rotate = _command(
        keys_cmd,
        "rotate",
        "retire a key in favour of a successor, which then acts for everything the old key filed",
        cmd_keys_rotate,
    )
    rotate.add_argument("--key", required=True, metavar="OLD.key", help="the key to retire (it signs)")
    rotate.add_argument(
        "--new-key",
        required=True,
        metavar="NEW.key",
        help="the successor's key file (created, 0600, if missing)",
    )
    rotate.add_argument("--reason", metavar="TEXT", help="why (published with the rotation)")
    _finish(rotate)

    recover = keys_cmd.add_parser(
        "recover", help="name recovery keys in advance; recover a lost key through them"
    ).add_subparsers(dest="recover_command", required=True, metavar="COMMAND", parser_class=Parser)
    designate = _command(
        recover,
        "designate",
        "name the keys that may recover this key (an agency, a second device)",
        cmd_recover_designate,
    )
    designate.add_argument("--key", required=True, metavar="FILE", help="the key to protect (it signs)")
    designate.add_argument(
        "--recovery-key",
        action="append",
        required=True,
        metavar="DID",
        help="a recovery key's DID (repeatable, up to 5)",
    )
    designate.add_argument(
        "--waiting-days",
        type=int,
        default=7,
        metavar="N",
        help="days the old key can veto a recovery (1-90, default 7)",
    )
    _finish(designate)

    request = _command(
        recover,
        "request",
        "as a recovery key, ask to move a lost key's DID to a new key",
        cmd_recover_request,
    )
    request.add_argument("--key", required=True, metavar="RECOVERY.key", help="a designated recovery key")
    request.add_argument("--did", required=True, metavar="LOST_DID", help="the DID whose key was lost")
    request.add_argument(
        "--new-key",
        required=True,
        metavar="NEW.key",
        help="the successor's key file (created, 0600, if missing)",
    )
    _finish(request)

    veto = _command(recover, "veto", "as the key under recovery, refuse a recovery request", cmd_recover_veto)
    veto.add_argument("--key", required=True, metavar="FILE", help="the key a recovery would replace")
    veto.add_argument("--request", required=True, metavar="ID", help="the recovery request's id")
    _finish(veto)

    complete = _command(
        recover,
        "complete",
        "after the waiting period, complete a recovery (recovery key or successor)",
        cmd_recover_complete,
    )
    complete.add_argument(
        "--key", required=True, metavar="FILE", help="the requesting recovery key or the successor"
    )
    complete.add_argument("--request", required=True, metavar="ID", help="the recovery request's id")
    _finish(complete)


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add `kotowari mandate`, `attest`, `domain` and `authority` to the command line."""
    mandate = commands.add_parser(
        "mandate", help="authorise an agent (an agency) to file claims for you, and revoke it"
    ).add_subparsers(dest="mandate_command", required=True, metavar="COMMAND", parser_class=Parser)
    new = _command(
        mandate, "new", "sign and file a mandate naming your agent; prints its id", cmd_mandate_new
    )
    new.add_argument("--key", required=True, metavar="PRINCIPAL.key", help="your key (the principal's)")
    new.add_argument("--agent", required=True, metavar="DID", help="the agent's DID")
    new.add_argument(
        "--kind", action="append", choices=SUBJECT_KINDS, help="kinds it covers (repeatable; default any)"
    )
    new.add_argument(
        "--uses", metavar="USES", help=f"uses it covers, comma-separated: {','.join(USES)} (default any)"
    )
    new.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="URL",
        help="limit it to these URLs and below (repeatable)",
    )
    new.add_argument("--principal-name", metavar="NAME", help="your name, as the agent will name you")
    new.add_argument("--valid-from", metavar="TIME", help="RFC 3339 UTC, e.g. 2027-01-01T00:00:00Z")
    new.add_argument("--valid-until", metavar="TIME")
    _finish(new)
    revoke = _command(mandate, "revoke", "revoke one of your mandates", cmd_mandate_revoke)
    revoke.add_argument("id", metavar="ID", help="the mandate's id")
    revoke.add_argument("--key", required=True, metavar="FILE", help="the principal's key")
    revoke.add_argument("--reason", metavar="TEXT")
    _finish(revoke)

    attest = commands.add_parser(
        "attest", help="as a domain-verified organisation, vouch for a person's DID, and revoke it"
    ).add_subparsers(dest="attest_command", required=True, metavar="COMMAND", parser_class=Parser)
    vouch = _command(attest, "new", "sign and file an attestation; prints its id", cmd_attest_new)
    vouch.add_argument("--key", required=True, metavar="ORG.key", help="the organisation's key")
    vouch.add_argument("--subject", required=True, metavar="DID", help="the person's DID")
    vouch.add_argument(
        "--statement",
        required=True,
        choices=("identity", "member"),
        help="who they are, or that they are a member",
    )
    vouch.add_argument("--name", metavar="NAME", help="the person's name, e.g. 山寺宏一")
    vouch.add_argument(
        "--isni", action="append", default=[], metavar="ID", help="an ISNI it vouches for (repeatable)"
    )
    vouch.add_argument(
        "--wikidata", action="append", default=[], metavar="QID", help="a Wikidata item (repeatable)"
    )
    vouch.add_argument("--valid-from", metavar="TIME")
    vouch.add_argument("--valid-until", metavar="TIME")
    _finish(vouch)
    unvouch = _command(attest, "revoke", "revoke one of your attestations", cmd_attest_revoke)
    unvouch.add_argument("id", metavar="ID", help="the attestation's id")
    unvouch.add_argument("--key", required=True, metavar="FILE", help="the issuer's key")
    unvouch.add_argument("--reason", metavar="TEXT")
    _finish(unvouch)

    domain = commands.add_parser("domain", help="prove control of a host to the registry").add_subparsers(
        dest="domain_command", required=True, metavar="COMMAND", parser_class=Parser
    )
    verify = _command(
        domain,
        "verify",
        "ask the registry to check that a DID controls a host; prints what it fetched",
        cmd_domain_verify,
    )
    verify.add_argument("--did", required=True, metavar="DID", help="the DID that controls the host")
    verify.add_argument(
        "--host", required=True, metavar="HOST", help="e.g. example.com (covers its subdomains)"
    )
    verify.add_argument(
        "--method",
        choices=VERIFICATION_METHODS,
        default="well-known",
        help="well-known: https://HOST/.well-known/kotowari-did lists the DID (default); did-web: the DID "
        "is did:web:HOST; dns-txt: a TXT record names it",
    )
    registry_flag(verify)
    verify.add_argument("--json", action="store_true", help="print the signed verification and its receipt")

    authority = commands.add_parser(
        "authority", help="what the log says about a DID's authority"
    ).add_subparsers(dest="authority_command", required=True, metavar="COMMAND", parser_class=Parser)
    show = _command(
        authority,
        "show",
        "who acts for a DID, its domain verifications, attestations, mandates, recovery",
        cmd_authority_show,
    )
    show.add_argument("did", metavar="DID")
    registry_flag(show)
    show.add_argument("--json", action="store_true", help="print the registry's whole answer")
