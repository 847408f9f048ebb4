"""The record a generation guard keeps of each check, and its verification.

A `GuardRecord` is a JSON document signed (eddsa-jcs-2022) by the operator that ran the check. It
says against which registry state it checked — the snapshot's checkpoint, with the C2SP note the
registry signed, or the ids of the registry's signed check answers and their checkpoint — for
which purpose, when, and what it found: per input the decision and per matching claim its id,
claimant, kind, authority, uses and why it matched. Inputs appear only as SHA-256 digests (a
prompt may be personal data): whoever holds the prompt can show it was the one checked
(`verify_guard_record(record, prompt=…)`), nobody can read it from the record.

`verify_guard_record` checks the signature, that the registry's note (when there is one) signs the
named checkpoint, and that the decisions follow from the matches as the vocabulary combines them;
`kotowari verify record.json [--registry URL]` runs it, and with `--registry` also asks the
registry whether its log extends that checkpoint. Light on purpose: no NumPy, pydantic or
Aho–Corasick, so `kotowari verify` starts fast.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import keys
from crawler_client.errors import KotowariError
from crawler_client.verification import (
    VerificationFailed,
    check_against_registry,
    note_verifier,
    open_checkpoint,
    verify_answer,
)
from registry.authority.levels import counts
from registry.vocabulary import USES, Use, combine, effective_uses

__all__ = [
    "RECORD_TYPE",
    "InvalidGuardRecord",
    "VerifiedGuardRecord",
    "sign_record",
    "verify_guard_record",
    "verify_record_lines",
]

RECORD_TYPE: Final = "GuardRecord"
RECORD_VERSION: Final = 1
INPUT_KINDS: Final = ("prompt", "image", "embedding")
_HEX64: Final = re.compile(r"[0-9a-f]{64}")


class InvalidGuardRecord(KotowariError, VerificationFailed):
    """A guard record that does not verify; the message says which step failed."""


def timestamp(moment: datetime) -> str:
    """UTC, whole seconds, `Z`: as every document of the registry writes times."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_record(body: Mapping[str, Any], key: keys.SigningKey, at: datetime) -> dict[str, Any]:
    """The signed record: `body` (what `Guard` assembled) with its type, version and operator."""
    document = {"type": RECORD_TYPE, "version": RECORD_VERSION, "operator": key.did, **body}
    return keys.sign_document(document, key, created=at, detached=False)  # built here, never changed


@dataclass(frozen=True)
class VerifiedGuardRecord:
    """What a valid record establishes, and the same in lines a person can read."""

    operator: str
    registry: str
    purpose: str
    decision: str
    tree_size: int
    checked_at: str
    claims: tuple[str, ...]
    lines: tuple[str, ...]


def _fail(message: str) -> InvalidGuardRecord:
    return InvalidGuardRecord(message)


def verify_guard_record(
    record: object,
    *,
    operator: str | None = None,
    registry: str | None = None,
    prompt: str | None = None,
    answers: Sequence[Mapping[str, Any]] | None = None,
) -> VerifiedGuardRecord:
    """Verify a guard record offline; raise `InvalidGuardRecord` saying what is wrong.

    `operator` and `registry` (DIDs) must be the ones the record names; `prompt` must hash to the
    record's prompt digest; `answers` (the signed check answers a `Client` guard kept) must be the
    ones the record names, signed by its registry, at its checkpoint.

    >>> verify_guard_record(result.record, prompt=prompt).decision  # doctest: +SKIP
    'n'
    """
    if not isinstance(record, Mapping) or record.get("type") != RECORD_TYPE:
        raise _fail("not a GuardRecord")
    if record.get("version") != RECORD_VERSION:
        raise _fail(f"guard record version {record.get('version')!r} is not {RECORD_VERSION}")
    try:
        verified = keys.verify_document(record)
    except keys.KeysError as exc:
        raise _fail(f"signature: {exc}") from None
    signer = record.get("operator")
    if not isinstance(signer, str) or verified.key.did != signer:
        raise _fail(f"signed by {verified.key.did}, not by the operator it names ({signer!r})")
    if operator is not None and signer != operator:
        raise _fail(f"made by {signer}, not by {operator}")
    try:
        named = str(record["registry"])
        keys.resolve_did_key(named)
        point = dict(record["checkpoint"])
        origin, tree_size, root_hash = str(point["origin"]), int(point["tree_size"]), str(point["root_hash"])
        if len(base64.b64decode(root_hash, validate=True)) != 32:
            raise ValueError(f"root hash {root_hash!r} is not 32 bytes of base64")
        purpose, checked_at = str(record["purpose"]), str(record["checked_at"])
        datetime.fromisoformat(checked_at)
        inputs = [dict(entry) for entry in record["inputs"]]
        matches = [dict(entry) for entry in record["matches"]]
        decisions = dict(record["decisions"])
        decision = str(record["decision"])
    except keys.KeysError as exc:
        raise _fail(f"the registry it names is no did:key: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:  # binascii.Error is a ValueError
        raise _fail(f"malformed guard record: {exc}") from None
    if registry is not None and named != registry:
        raise _fail(f"checked against registry {named}, not {registry}")
    if purpose not in USES:
        raise _fail(f"unknown purpose {purpose!r}")
    use: Use = purpose
    lines = [f"valid guard record signed by {signer}"]
    note = record.get("checkpoint_note")
    if note is not None:
        try:
            checkpoint = open_checkpoint(str(note), note_verifier(named, origin))
        except VerificationFailed as exc:
            raise _fail(f"the snapshot's checkpoint: {exc}") from None
        if (checkpoint.size, base64.b64encode(checkpoint.root_hash).decode()) != (tree_size, root_hash):
            raise _fail("the registry's signed checkpoint is not the one the record names")
        lines.append(f"checked against a snapshot at size {tree_size} of log {origin}, signed by {named}")
    else:
        ids = record.get("answers")
        if (
            not isinstance(ids, list)
            or not ids
            or not all(isinstance(i, str) and _HEX64.fullmatch(i) for i in ids)
        ):
            raise _fail("a record without the snapshot's checkpoint names the registry's signed answers")
        lines.append(
            f"checked with {named} at size {tree_size} of log {origin} ({len(ids)} signed answer(s))"
        )
        if answers is not None:
            _check_answers(answers, ids, named, point)
            lines.append("the signed answers given are the record's, by its registry, at its checkpoint")
    _check_decisions(inputs, matches, decisions, decision, use, record.get("min_authority"))
    if prompt is not None:
        given = hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).hexdigest()
        if not any(entry.get("input") == "prompt" and entry.get("sha256") == given for entry in inputs):
            raise _fail("the prompt given is not the one this record checked")
        lines.append("the prompt given is the one checked")
    claims = tuple(dict.fromkeys(str(match["claim"]) for match in matches))
    lines.append(
        f"{', '.join(_count(inputs, kind) for kind in INPUT_KINDS if _count(inputs, kind))} checked for "
        f"{purpose} at {checked_at}: {decision}, {len(claims)} claim(s) matched"
    )
    return VerifiedGuardRecord(signer, named, purpose, decision, tree_size, checked_at, claims, tuple(lines))


def _count(inputs: list[dict[str, Any]], kind: str) -> str:
    number = sum(entry.get("input") == kind for entry in inputs)
    return "" if not number else f"{number} {kind}{'s' if number > 1 else ''}"


def _check_answers(
    answers: Sequence[Mapping[str, Any]], ids: list[str], registry: str, point: dict[str, Any]
) -> None:
    given = []
    for answer in answers:
        try:
            verify_answer(dict(answer))
        except VerificationFailed as exc:
            raise _fail(f"a signed answer: {exc}") from None
        if answer.get("registry") != registry:
            raise _fail(f"a signed answer is by {answer.get('registry')}, not {registry}")
        given.append(keys.document_id(answer))
    if sorted(given) != sorted(ids):
        raise _fail("the signed answers given are not the ones the record names")
    if answers[-1].get("checkpoint") != point:
        raise _fail("the record's checkpoint is not the one its last signed answer names")


def _check_decisions(
    inputs: list[dict[str, Any]],
    matches: list[dict[str, Any]],
    decisions: dict[str, Any],
    decision: str,
    purpose: Use,
    minimum: object,
) -> None:
    """Each input's decision, and the record's per use, are what its counted matches combine to."""
    if not inputs:
        raise _fail("a guard record names the inputs it checked")
    places = set()
    for entry in inputs:
        kind, digest = entry.get("input"), entry.get("sha256")
        if kind not in INPUT_KINDS or not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise _fail(f"an input is not described by its kind and SHA-256: {entry!r:.80}")
        places.add((kind, entry.get("index", 0)))
    per_input: dict[tuple[Any, Any], list[Mapping[Use, str]]] = {place: [] for place in places}
    try:
        for match in matches:
            place = (match["input"], match.get("index", 0))
            if place not in per_input:
                raise _fail(f"a match of claim {match['claim']} names no input checked")
            levels = [str(level) for level in match["authority"]]
            if bool(match.get("counted", True)) != counts(levels, None if minimum is None else str(minimum)):
                raise _fail(f"claim {match['claim']} is marked counted against its authority")
            if match.get("counted", True):
                per_input[place].append(effective_uses(dict(match["uses"])))
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(f"malformed match: {exc!r}") from None
    for entry in inputs:
        found = per_input[(entry["input"], entry.get("index", 0))]
        if entry.get("decision") != combine(uses[purpose] for uses in found):
            raise _fail(f"the {entry['input']} input's decision does not follow from its matches")
    every = [uses for found in per_input.values() for uses in found]
    if decisions != {use: combine(uses[use] for uses in every) for use in USES}:
        raise _fail("the decisions do not follow from the matches")
    if decision != decisions[purpose]:
        raise _fail(f"the decision is not the one for {purpose}")


def verify_record_lines(
    record: dict[str, Any], registry_url: str | None, witnessing: Mapping[str, Any] | None = None
) -> list[str]:
    """What `kotowari verify` prints for a guard record; with `registry_url`, the registry's log (as
    cosigned by the witnesses `witnessing` names) must extend the checkpoint the record names."""
    verified = verify_guard_record(record)
    lines = list(verified.lines)
    if registry_url:
        from crawler_client.client import Client  # httpx: only when asked to go online
        from keys.note import Checkpoint

        point = record["checkpoint"]
        checkpoint = Checkpoint(
            str(point["origin"]), verified.tree_size, base64.b64decode(point["root_hash"])
        )
        with Client(registry_url, **dict(witnessing or {})) as client:
            current = check_against_registry(client, verified.registry, checkpoint, None)
        lines.append(f"{registry_url}'s log at size {current.size} extends the checkpoint checked against")
        if witnessing:
            lines.append(f"{current.describe()} at size {current.size}")
    return lines
