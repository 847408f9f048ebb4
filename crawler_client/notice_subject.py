"""`notice new --claim ID`: the notice's subject taken from claims, fetched and verified first.

A notice that relies on a claim should name what the claim names, so the notifier does not type the
identifiers again (and cannot get them subtly wrong). The registry is not trusted for it: each claim
is checked to be the document its id names (the id is the SHA-256 of its canonical form), signed by
its claimant, a valid `Claim`, in force (not withdrawn), and included in the registry's log under
its current signed checkpoint (RFC 9162 inclusion proof).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crawler_client.cli_support import UsageError
from crawler_client.i18n import _

if TYPE_CHECKING:
    from crawler_client.client import Client


@dataclass
class ClaimedSubject:
    """What the claims say of the subject: its kind, identifiers (in order, no repeats), a title."""

    kind: str | None = None
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    title: str | None = None
    claimants: set[str] = field(default_factory=set)


def verified_claim(client: Client, claim_id: str) -> dict[str, Any]:
    """The signed claim `claim_id` from the registry, verified as the module says, or `UsageError`."""
    import keys
    from crawler_client.errors import KotowariError
    from keys import merkle
    from registry.documents import Claim, InvalidDocument, validate_document

    if not re.fullmatch(r"[0-9a-f]{64}", claim_id):
        raise UsageError(_("--claim {id!r}: not a claim id (64 lower-case hex digits)").format(id=claim_id))
    try:
        envelope = client.get_claim(claim_id)
    except KotowariError as exc:
        from crawler_client.cli_messages import explained_error

        raise UsageError(
            _("--claim {id}: {detail}").format(id=claim_id, detail=explained_error(exc))
        ) from None
    document = envelope.get("document")
    if not isinstance(document, dict):
        raise UsageError(
            _("--claim {id}: the registry answered without the signed claim").format(id=claim_id)
        )
    try:
        keys.verify_document(document)
        if keys.document_id(document) != claim_id:
            raise UsageError(
                _("--claim {id}: the registry answered with another document").format(id=claim_id)
            )
        validate_document(Claim, document)
    except keys.KeysError as exc:
        message = _("--claim {id}: the claim's signature does not verify: {detail}")
        raise UsageError(message.format(id=claim_id, detail=exc)) from None
    except InvalidDocument as exc:
        raise UsageError(
            _("--claim {id}: not a valid claim: {detail}").format(id=claim_id, detail=exc)
        ) from None
    if envelope.get("status") != "active":
        message = _("--claim {id}: the claim was withdrawn; a notice cannot rely on it")
        raise UsageError(message.format(id=claim_id))
    leaf = merkle.leaf_hash(keys.canonicalize(document))
    try:
        current = client.witnessed_checkpoint()
        index, path = client.inclusion_proof(leaf, current.size)
        merkle.verify_inclusion(leaf, index, current.size, path, current.checkpoint.root_hash)
    except KotowariError as exc:
        message = _("--claim {id}: the registry's log does not prove it holds the claim: {detail}")
        raise UsageError(message.format(id=claim_id, detail=exc)) from None
    except merkle.InvalidMerkleProof as exc:
        message = _("--claim {id}: the inclusion proof does not verify: {detail}")
        raise UsageError(message.format(id=claim_id, detail=exc)) from None
    if index != envelope.get("log_index"):
        message = _("--claim {id}: the log holds it at {index}, not at {claimed}")
        raise UsageError(message.format(id=claim_id, index=index, claimed=envelope.get("log_index")))
    return document


def subject_of_claims(client: Client, claim_ids: Sequence[str]) -> ClaimedSubject:
    """The subject the claims name together; claims of different kinds are refused (one notice,
    one subject)."""
    subject = ClaimedSubject()
    seen: set[str] = set()
    for claim_id in claim_ids:
        claim = verified_claim(client, claim_id)
        named = claim["subject"]
        if subject.kind is not None and named["kind"] != subject.kind:
            message = _(
                "--claim {id}: a claim for a {kind}, the others are for a {others}; one notice has one "
                "subject"
            )
            raise UsageError(message.format(id=claim_id, kind=named["kind"], others=subject.kind))
        subject.kind = named["kind"]
        subject.title = subject.title or named.get("title")
        subject.claimants.add(claim["claimant"])
        for identifier in named["identifiers"]:
            key = _key(identifier)
            if key not in seen:
                seen.add(key)
                subject.identifiers.append(identifier)
    return subject


def merged(given: list[dict[str, Any]], claimed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The identifiers from the flags, then those of the claims that the flags did not repeat."""
    seen = {_key(identifier) for identifier in given}
    return given + [identifier for identifier in claimed if _key(identifier) not in seen]


def _key(identifier: dict[str, Any]) -> str:
    import json

    return json.dumps(identifier, sort_keys=True, ensure_ascii=False)
