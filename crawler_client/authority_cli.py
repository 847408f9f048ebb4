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
    kind_arg,
    os_reason,
    print_json,
    read_key,
    registry_flag,
    unknown_use,
    uses_help,
)
from crawler_client.errors import RegistryProblem
from crawler_client.i18n import N_, _, local_time
from registry.authority.levels import VERIFICATION_METHODS
from registry.vocabulary import SUBJECT_KINDS, UnknownUse, parse_uses

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
        reason = os_reason(exc) if isinstance(exc, OSError) else str(exc)
        raise UsageError(_("{flag} {path}: {reason}").format(flag=flag, path=path, reason=reason)) from None
    print(
        _("new key {did} written to {path} (mode 0600); keep it safe").format(did=key.did, path=path),
        file=sys.stderr,
    )
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
        raise UsageError(
            _("{flag} {value!r}: {reason}").format(flag=flag, value=value, reason=reason)
        ) from None


def _document_id(value: str, flag: str) -> str:
    lowered = value.strip().lower()
    if not _DOC_ID.fullmatch(lowered):
        raise UsageError(
            _("{flag} {value!r}: a document id is 64 hexadecimal digits").format(flag=flag, value=value)
        )
    return lowered


def _time(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    from registry.documents import parse_timestamp

    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise UsageError(_("{flag}: {detail}").format(flag=flag, detail=exc)) from None


def _signed(model: type[SignedDocument], document: dict[str, Any], key: keys.SigningKey) -> dict[str, Any]:
    """`document` checked as the registry checks it (a 422 becomes one line here), then signed."""
    import keys
    from registry.authority.documents import validate_authority_document
    from registry.documents import InvalidDocument

    try:
        validate_authority_document(model, as_if_signed(document))
    except InvalidDocument as exc:
        message = _("the {document} would be refused: {detail}")
        raise UsageError(message.format(document=model.__name__, detail=exc)) from None
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
            print(_("{path} removed: the registry refused the filing").format(path=path), file=sys.stderr)
        raise


def _logged(receipt: dict[str, Any]) -> str:
    log = receipt.get("log") or {}
    return _("log entry {index} of {origin} (receipt verified)").format(
        index=log.get("index"), origin=log.get("origin")
    )


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
        raise UsageError(_("--new-key must be another key file than --key"))
    if Path(args.new_key).exists() and read_key(args.new_key).did == old.did:
        raise UsageError(_("--new-key holds the same key as --key"))
    new, created = _key_at(args.new_key, "--new-key")
    document = _signed(KeyRotation, new_rotation(old.did, new.did, created=_now(), reason=args.reason), old)
    with _kept_unless_refused(args.new_key, created):
        receipt = _file(args, document)
    done = [
        _("{old} is retired: {new} now acts for its claims and notices").format(old=old.did, new=new.did),
        _("rotation {id}, {logged}").format(id=receipt["id"], logged=_logged(receipt)),
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
        _("{did} can be recovered by {keys}").format(did=key.did, keys=", ".join(args.recovery_key)),
        _("after a public waiting period of {days} days, during which this key can veto").format(
            days=args.waiting_days
        ),
        _("designation {id}, {logged}").format(id=receipt["id"], logged=_logged(receipt)),
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
        _("recovery of {lost} to {new} requested, {logged}").format(
            lost=lost, new=new.did, logged=_logged(receipt)
        ),
        _("the waiting period ends {time}: until then {lost} can veto it").format(
            time=local_time(ends), lost=lost
        )
        if ends
        else _("the waiting period has begun (see: kotowari authority show {lost})").format(lost=lost),
        _("then: kotowari keys recover complete --key … --request {id}").format(id=receipt["id"]),
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
        _("vetoed recovery {request}: {did} keeps acting for itself").format(request=request, did=key.did),
        _("veto {id}, {logged}").format(id=receipt["id"], logged=_logged(receipt)),
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
    lines = [
        _("completed recovery {request}").format(request=request),
        _("completion {id}, {logged}").format(id=receipt["id"], logged=_logged(receipt)),
    ]
    return _report(args, receipt, document, lines)


# ---------------------------------------------------------------- mandates and attestations


def cmd_mandate_new(args: argparse.Namespace) -> int:
    from registry.authority.documents import Mandate, new_mandate

    key = read_key(args.key)
    try:
        uses = parse_uses(args.uses) if args.uses else None
    except UnknownUse as exc:
        raise unknown_use(exc, "--uses") from None
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
        _(
            "mandate for {agent}, {logged}; the agent files claims with --on-behalf-of NAME --authority TEXT "
            "--principal-did {did} --mandate {id}"
        ).format(agent=args.agent, logged=_logged(receipt), did=key.did, id=receipt["id"])
    ]
    return _report(args, receipt, signed, [receipt["id"]], done)


def _revoke(args: argparse.Namespace, kind: str, model: type[Any], consequence: str) -> int:
    """Sign and file a `MandateRevocation` or `AttestationRevocation` of the document `args.id`."""
    from registry.authority.documents import new_revocation

    key = read_key(args.key)
    target = _document_id(args.id, "ID")
    document = _signed(model, new_revocation(kind, key.did, target, created=_now(), reason=args.reason), key)
    receipt = _file(args, document)
    return _report(args, receipt, document, [_(consequence).format(target=target, logged=_logged(receipt))])


def cmd_mandate_revoke(args: argparse.Namespace) -> int:
    from registry.authority.documents import MandateRevocation

    consequence = N_("revoked mandate {target}: claims under it are agent-asserted from {logged} on")
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
        _(
            "attestation of {subject}, {logged}; it counts while {did} holds a domain verification "
            "(kotowari domain verify)"
        ).format(subject=args.subject, logged=_logged(receipt), did=key.did)
    ]
    return _report(args, receipt, signed, [receipt["id"]], done)


def cmd_attest_revoke(args: argparse.Namespace) -> int:
    from registry.authority.documents import AttestationRevocation

    return _revoke(
        args,
        "AttestationRevocation",
        AttestationRevocation,
        N_("revoked attestation {target} from {logged} on"),
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
    if record["scope"] == "domain":
        covered = _("{host} and every host below it").format(host=record["host"])
    else:
        covered = record["host"]
    verified = _("verified: {subject} controls {covered} ({method})")
    print(verified.format(subject=record["subject"], covered=covered, method=record["method"]))
    fetched = _("the registry fetched {url} at {time}, SHA-256 {sha256}")
    print(fetched.format(url=record["url"], time=local_time(record["checked_at"]), sha256=record["sha256"]))
    print(_("verification {id}, {logged}").format(id=answer["id"], logged=_logged(answer)))
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
    lines = [_("{did} (log at tree size {size})").format(did=d["did"], size=d.get("tree_size"))]
    if d.get("retired"):
        lines.append(_("  retired: {acting} acts for it").format(acting=d.get("acting")))
    hosts = d.get("verified_hosts") or []
    if hosts:
        lines.append(_("  domain-verified: {hosts}").format(hosts=", ".join(hosts)))
    else:
        lines.append(_("  domain-verified: no"))
    for v in d.get("verifications") or []:
        line = _("  verification {id}… {host} by {method} (fetched {url} at {time}; log entry {index})")
        lines.append(
            line.format(
                id=v["id"][:16],
                host=v.get("host"),
                method=v.get("method"),
                url=v.get("url"),
                time=local_time(v.get("checked_at")),
                index=v.get("log_index"),
            )
        )
    for a in d.get("attestations") or []:
        counts = (
            _("counts") if a.get("counts") else _("does not count: its issuer holds no domain verification")
        )
        named = _(" as {name}").format(name=a["name"]) if a.get("name") else ""
        line = _(
            "  attestation {id}… ({statement}) of {subject}{named} by {issuer}: {counts} (log entry {index})"
        )
        lines.append(
            line.format(
                id=a["id"][:16],
                statement=a.get("statement"),
                subject=a.get("subject"),
                named=named,
                issuer=a.get("issuer"),
                counts=counts,
                index=a.get("log_index"),
            )
        )
    for m in d.get("mandates") or []:
        lines.append(_mandate_line(m))
    recovery = d.get("recovery")
    if recovery:
        line = _("  recovery keys: {keys} (waiting period {days} days)")
        lines.append(
            line.format(
                keys=", ".join(recovery.get("recovery_keys") or []), days=recovery.get("waiting_period_days")
            )
        )
        request = recovery.get("open_request")
        if request:
            line = _("  open recovery {id} by {by} to {successor}: can be vetoed until {time}")
            lines.append(
                line.format(
                    id=request["id"],
                    by=request.get("by"),
                    successor=request.get("successor"),
                    time=local_time(request.get("completes_after")),
                )
            )
    return lines


def _mandate_line(m: dict[str, Any]) -> str:
    scope = m.get("scope") or {}
    parts = []
    if scope.get("kinds"):
        parts.append(_("kinds {kinds}").format(kinds="/".join(scope["kinds"])))
    if scope.get("uses"):
        parts.append(_("uses {uses}").format(uses="/".join(scope["uses"])))
    if scope.get("identifiers"):
        parts.append(_("{count} identifiers").format(count=len(scope["identifiers"])))
    if m.get("valid_until"):
        parts.append(_("until {time}").format(time=local_time(m["valid_until"])))
    line = _("  mandate {id} from {principal} to {agent} ({limits}; log entry {index})")
    return line.format(
        id=m["id"],
        principal=m.get("principal"),
        agent=m.get("agent"),
        limits=_(", ").join(parts) or _("any claim"),
        index=m.get("log_index"),
    )


# ---------------------------------------------------------------- parser


def _command(
    parent: argparse._SubParsersAction[Parser], name: str, text: str, run: Callable[[argparse.Namespace], int]
) -> Parser:
    parser: Parser = parent.add_parser(name, help=text, description=text)
    parser.set_defaults(run=run)
    return parser


def _finish(parser: Parser) -> None:
    registry_flag(parser)
    parser.add_argument("--json", action="store_true", help=_("print the receipt and the signed document"))


def register_keys(keys_cmd: argparse._SubParsersAction[Parser]) -> None:
    """Add `kotowari keys rotate` and `kotowari keys recover …` next to `keys new`."""
    rotate = _command(
        keys_cmd,
        "rotate",
        _("retire a key in favour of a successor, which then acts for everything the old key filed"),
        cmd_keys_rotate,
    )
    rotate.add_argument("--key", required=True, metavar="OLD.key", help=_("the key to retire (it signs)"))
    rotate.add_argument(
        "--new-key",
        required=True,
        metavar="NEW.key",
        help=_("the successor's key file (created, 0600, if missing)"),
    )
    rotate.add_argument("--reason", metavar="TEXT", help=_("why (published with the rotation)"))
    _finish(rotate)

    recover = keys_cmd.add_parser(
        "recover", help=_("name recovery keys in advance; recover a lost key through them")
    ).add_subparsers(dest="recover_command", required=True, metavar="COMMAND", parser_class=Parser)
    designate = _command(
        recover,
        "designate",
        _("name the keys that may recover this key (an agency, a second device)"),
        cmd_recover_designate,
    )
    designate.add_argument("--key", required=True, metavar="FILE", help=_("the key to protect (it signs)"))
    designate.add_argument(
        "--recovery-key",
        action="append",
        required=True,
        metavar="DID",
        help=_("a recovery key's DID (repeatable, up to 5)"),
    )
    designate.add_argument(
        "--waiting-days",
        type=int,
        default=7,
        metavar="N",
        help=_("days the old key can veto a recovery (1-90, default 7)"),
    )
    _finish(designate)

    request = _command(
        recover,
        "request",
        _("as a recovery key, ask to move a lost key's DID to a new key"),
        cmd_recover_request,
    )
    request.add_argument("--key", required=True, metavar="RECOVERY.key", help=_("a designated recovery key"))
    request.add_argument("--did", required=True, metavar="LOST_DID", help=_("the DID whose key was lost"))
    request.add_argument(
        "--new-key",
        required=True,
        metavar="NEW.key",
        help=_("the successor's key file (created, 0600, if missing)"),
    )
    _finish(request)

    veto = _command(
        recover, "veto", _("as the key under recovery, refuse a recovery request"), cmd_recover_veto
    )
    veto.add_argument("--key", required=True, metavar="FILE", help=_("the key a recovery would replace"))
    veto.add_argument("--request", required=True, metavar="ID", help=_("the recovery request's id"))
    _finish(veto)

    complete = _command(
        recover,
        "complete",
        _("after the waiting period, complete a recovery (recovery key or successor)"),
        cmd_recover_complete,
    )
    complete.add_argument(
        "--key", required=True, metavar="FILE", help=_("the requesting recovery key or the successor")
    )
    complete.add_argument("--request", required=True, metavar="ID", help=_("the recovery request's id"))
    _finish(complete)


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add `kotowari mandate`, `attest`, `domain` and `authority` to the command line."""
    mandate = commands.add_parser(
        "mandate", help=_("authorise an agent (an agency) to file claims for you, and revoke it")
    ).add_subparsers(dest="mandate_command", required=True, metavar="COMMAND", parser_class=Parser)
    new = _command(
        mandate, "new", _("sign and file a mandate naming your agent; prints its id"), cmd_mandate_new
    )
    new.add_argument("--key", required=True, metavar="PRINCIPAL.key", help=_("your key (the principal's)"))
    new.add_argument("--agent", required=True, metavar="DID", help=_("the agent's DID"))
    new.add_argument(
        "--kind",
        action="append",
        type=kind_arg,
        choices=SUBJECT_KINDS,
        help=_("kinds it covers (repeatable; default any)"),
    )
    new.add_argument(
        "--uses", metavar="USES", help=uses_help(_("uses it covers, comma-separated (default any)"))
    )
    new.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="URL",
        help=_("limit it to these URLs and below (repeatable)"),
    )
    new.add_argument("--principal-name", metavar="NAME", help=_("your name, as the agent will name you"))
    new.add_argument("--valid-from", metavar="TIME", help=_("RFC 3339 UTC, e.g. 2027-01-01T00:00:00Z"))
    new.add_argument("--valid-until", metavar="TIME", help=_("RFC 3339 UTC"))
    _finish(new)
    revoke = _command(mandate, "revoke", _("revoke one of your mandates"), cmd_mandate_revoke)
    revoke.add_argument("id", metavar="ID", help=_("the mandate's id"))
    revoke.add_argument("--key", required=True, metavar="FILE", help=_("the principal's key"))
    revoke.add_argument("--reason", metavar="TEXT", help=_("why (published with the revocation)"))
    _finish(revoke)

    attest = commands.add_parser(
        "attest", help=_("as a domain-verified organisation, vouch for a person's DID, and revoke it")
    ).add_subparsers(dest="attest_command", required=True, metavar="COMMAND", parser_class=Parser)
    vouch = _command(attest, "new", _("sign and file an attestation; prints its id"), cmd_attest_new)
    vouch.add_argument("--key", required=True, metavar="ORG.key", help=_("the organisation's key"))
    vouch.add_argument("--subject", required=True, metavar="DID", help=_("the person's DID"))
    vouch.add_argument(
        "--statement",
        required=True,
        choices=("identity", "member"),
        help=_("who they are, or that they are a member"),
    )
    vouch.add_argument("--name", metavar="NAME", help=_("the person's name, e.g. 山寺宏一"))
    vouch.add_argument(
        "--isni", action="append", default=[], metavar="ID", help=_("an ISNI it vouches for (repeatable)")
    )
    vouch.add_argument(
        "--wikidata", action="append", default=[], metavar="QID", help=_("a Wikidata item (repeatable)")
    )
    vouch.add_argument("--valid-from", metavar="TIME", help=_("RFC 3339 UTC, e.g. 2027-01-01T00:00:00Z"))
    vouch.add_argument("--valid-until", metavar="TIME", help=_("RFC 3339 UTC"))
    _finish(vouch)
    unvouch = _command(attest, "revoke", _("revoke one of your attestations"), cmd_attest_revoke)
    unvouch.add_argument("id", metavar="ID", help=_("the attestation's id"))
    unvouch.add_argument("--key", required=True, metavar="FILE", help=_("the issuer's key"))
    unvouch.add_argument("--reason", metavar="TEXT", help=_("why (published with the revocation)"))
    _finish(unvouch)

    domain = commands.add_parser("domain", help=_("prove control of a host to the registry")).add_subparsers(
        dest="domain_command", required=True, metavar="COMMAND", parser_class=Parser
    )
    verify = _command(
        domain,
        "verify",
        _("ask the registry to check that a DID controls a host; prints what it fetched"),
        cmd_domain_verify,
    )
    verify.add_argument("--did", required=True, metavar="DID", help=_("the DID that controls the host"))
    verify.add_argument(
        "--host", required=True, metavar="HOST", help=_("e.g. example.com (covers its subdomains)")
    )
    verify.add_argument(
        "--method",
        choices=VERIFICATION_METHODS,
        default="well-known",
        help=_(
            "well-known: https://HOST/.well-known/kotowari-did lists the DID (default); did-web: the DID "
            "is did:web:HOST; dns-txt: a TXT record names it"
        ),
    )
    registry_flag(verify)
    verify.add_argument(
        "--json", action="store_true", help=_("print the signed verification and its receipt")
    )

    authority = commands.add_parser(
        "authority", help=_("what the log says about a DID's authority")
    ).add_subparsers(dest="authority_command", required=True, metavar="COMMAND", parser_class=Parser)
    show = _command(
        authority,
        "show",
        _("who acts for a DID, its domain verifications, attestations, mandates, recovery"),
        cmd_authority_show,
    )
    show.add_argument("did", metavar="DID", help=_("the DID to describe"))
    registry_flag(show)
    show.add_argument("--json", action="store_true", help=_("print the registry's whole answer"))
