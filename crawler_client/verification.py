"""Offline verification of what the registry hands out — filing receipts and signed check answers —
and the online checks that tie them to the log as it is now.

A receipt is `{"document": …, "log": {registry, origin, index, tree_size, leaf_hash,
inclusion_proof, checkpoint}}`. Offline, it proves: the document is signed by its author; its log
entry hashes to `leaf_hash`; that leaf is at `index` in the tree of the signed checkpoint; and the
checkpoint is signed by the registry's key (the same Ed25519 key as the registry's did:key, so one
identity anchors documents, answers and checkpoints). Online, the registry must also show that
today's tree extends that checkpoint and still includes the entry; a client given witnesses takes
"today's tree" only from a checkpoint enough of them cosigned.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import keys
from keys import merkle
from keys.note import Checkpoint, InvalidCheckpoint, InvalidNote, NoteVerifier, open_note

if TYPE_CHECKING:  # the client verifies with this module, so it may not import the client at run time
    from crawler_client.client import Client
    from crawler_client.core import WitnessedCheckpoint


class VerificationFailed(Exception):
    """The thing does not verify; the message says which step failed."""


@dataclass(frozen=True)
class Verified:
    """What verified, in words a person can check against what they expect."""

    kind: str
    lines: tuple[str, ...]


def note_verifier(registry_did: str, origin: str) -> NoteVerifier:
    """The checkpoint verifier of a registry: its did:key's Ed25519 key, named by the log origin."""
    try:
        public = keys.resolve_did_key(registry_did)
        return NoteVerifier(origin, Ed25519PublicKey.from_public_bytes(public.raw))
    except (keys.KeysError, ValueError) as exc:
        raise VerificationFailed(f"unusable registry identity {registry_did!r} / {origin!r}: {exc}") from None


def open_checkpoint(note: str, verifier: NoteVerifier) -> Checkpoint:
    try:
        checkpoint = Checkpoint.parse(open_note(note, [verifier]).text)
    except (InvalidNote, InvalidCheckpoint) as exc:
        raise VerificationFailed(f"checkpoint: {exc}") from None
    if checkpoint.origin != verifier.name:
        raise VerificationFailed(f"checkpoint is for log {checkpoint.origin!r}, not {verifier.name!r}")
    return checkpoint


def _b64(text: object, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise VerificationFailed(f"{what} is not base64") from None


def verify_receipt(receipt: dict[str, Any]) -> tuple[Checkpoint, NoteVerifier, bytes]:
    """Verify a receipt offline; returns its checkpoint, the registry's verifier and the leaf hash."""
    document, log = receipt.get("document"), receipt.get("log")
    if not isinstance(document, dict) or not isinstance(log, dict):
        raise VerificationFailed("a receipt holds the filed 'document' and its 'log' entry")
    try:
        keys.verify_document(document)
        index, tree_size = int(log["index"]), int(log["tree_size"])
        registry, origin, note = str(log["registry"]), str(log["origin"]), str(log["checkpoint"])
        proof = [_b64(node, "inclusion proof") for node in log["inclusion_proof"]]
    except keys.KeysError as exc:
        raise VerificationFailed(f"document: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationFailed(f"malformed receipt: {exc}") from None
    leaf = merkle.leaf_hash(keys.canonicalize(document))
    if _b64(log.get("leaf_hash"), "leaf_hash") != leaf:
        raise VerificationFailed("the receipt's leaf hash is not the hash of its document")
    verifier = note_verifier(registry, origin)
    checkpoint = open_checkpoint(note, verifier)
    if checkpoint.size != tree_size:
        raise VerificationFailed(
            f"the checkpoint is for size {checkpoint.size}, the receipt says {tree_size}"
        )
    try:
        merkle.verify_inclusion(leaf, index, tree_size, proof, checkpoint.root_hash)
    except merkle.InvalidMerkleProof as exc:
        raise VerificationFailed(f"inclusion: {exc}") from None
    return checkpoint, verifier, leaf


def verify_answer(answer: dict[str, Any]) -> keys.VerifiedProof:
    """Verify a signed check answer offline: signed by the registry it names."""
    registry = answer.get("registry")
    if not isinstance(registry, str):
        raise VerificationFailed("a check answer names its 'registry'")
    try:
        verified = keys.verify_document(answer)
        expected = keys.resolve_did_key(registry)
    except keys.KeysError as exc:
        raise VerificationFailed(str(exc)) from None
    if verified.key != expected:
        raise VerificationFailed(
            f"the answer is signed by {verified.key.did}, not by the registry {registry}"
        )
    return verified


def check_against_registry(
    client: Client, registry: str, checkpoint: Checkpoint, leaf: bytes | None
) -> WitnessedCheckpoint:
    """The registry's current tree must extend `checkpoint` (and still include `leaf`).

    The tree is the one `client.witnessed` gives: with the client's witnesses, a checkpoint
    cosigned by enough of them (waiting a moment for them to catch up with a fresh checkpoint).
    Raises `VerificationFailed` for another registry or a tree that does not include the entry,
    and the client's `UntrustedAnswer`s (`NotWitnessed`, `InvalidSignedAnswer`) for the rest.
    """
    info = client.info()
    if info.get("did") != registry:
        raise VerificationFailed(f"{client.registry} is {info.get('did')}, not {registry}")
    current = client.witnessed(checkpoint)
    if leaf is not None:
        index, path = client.inclusion_proof(leaf, current.size)
        try:
            merkle.verify_inclusion(leaf, index, current.size, path, current.checkpoint.root_hash)
        except merkle.InvalidMerkleProof as exc:
            raise VerificationFailed(
                f"the registry's current tree does not include the entry: {exc}"
            ) from None
    return current
