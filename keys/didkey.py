"""did:key for Ed25519: an identity that is its own public key, so it needs no domain or registry.

A did:key DID is "did:key:" + the key's multikey; its one verification method is the DID
with the multikey again as fragment (w3c-ccg did-method-key). Only Ed25519 (multicodec 0xed01)
is accepted: every other key type is refused rather than half-supported.

>>> from keys.ed25519 import SigningKey
>>> key = SigningKey.generate()
>>> resolve_did_key(did_key(key.public)) == key.public
True
>>> vm = verification_method_for(key.did)
>>> vm == f"{key.did}#{key.public.multibase}"
True
>>> key_for_verification_method(vm) == key.public
True
"""

from __future__ import annotations

from keys.ed25519 import VerifyingKey
from keys.errors import InvalidKey

__all__ = ["did_key", "key_for_verification_method", "resolve_did_key", "verification_method_for"]

PREFIX = "did:key:"


def did_key(public: VerifyingKey) -> str:
    """The did:key DID of an Ed25519 public key."""
    return public.did


def resolve_did_key(did: str) -> VerifyingKey:
    """The Ed25519 key a did:key names; a "#fragment", if present, must be the key's own id.

    Refuses other DID methods, paths and queries, other multicodecs, wrong lengths and bad
    base58 with `InvalidKey`, so one key has exactly one accepted spelling (plus its fragment).
    """
    method_specific_id, fragment = _split(did)
    if fragment is not None and fragment != method_specific_id:
        raise InvalidKey(f"fragment #{fragment} is not this did:key's verification method")
    return VerifyingKey.from_multibase(method_specific_id)


def verification_method_for(did: str) -> str:
    """The verification method URL of a did:key DID: "did:key:z6Mk…#z6Mk…"."""
    method_specific_id, _ = _split(did)
    VerifyingKey.from_multibase(method_specific_id)
    return f"{PREFIX}{method_specific_id}#{method_specific_id}"


def key_for_verification_method(vm: str) -> VerifyingKey:
    """The key behind a did:key verification method URL; the fragment must be present and match."""
    method_specific_id, fragment = _split(vm)
    if fragment is None:
        raise InvalidKey("a verification method URL has a #fragment")
    if fragment != method_specific_id:
        raise InvalidKey(f"fragment #{fragment} does not match the did:key {method_specific_id}")
    return VerifyingKey.from_multibase(method_specific_id)


def _split(did: str) -> tuple[str, str | None]:
    """(method-specific id, fragment or None) of a did:key DID or DID URL."""
    if not isinstance(did, str):
        raise InvalidKey(f"a DID is a string, not {type(did).__name__}")
    if not did.startswith(PREFIX):
        shown = did if len(did) <= 80 else did[:77] + "..."
        raise InvalidKey(f"{shown!r} is not a did:key DID")
    body, hash_sign, fragment = did[len(PREFIX) :].partition("#")
    if "/" in body or "?" in body or ":" in body:
        raise InvalidKey("a did:key DID has no path, query or extra segments")
    if not body:
        raise InvalidKey("did:key has an empty method-specific id")
    return body, fragment if hash_sign else None
