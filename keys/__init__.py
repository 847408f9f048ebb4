"""The cryptography the registry and its clients share, so both sides compute the same bytes.

Ed25519 keys and did:key identities, strict JSON and RFC 8785 canonical bytes, and W3C Data
Integrity proofs (eddsa-jcs-2022). Imports only the standard library, cryptography and rfc8785.

>>> import keys
>>> key = keys.SigningKey.generate()
>>> signed = keys.sign_document({"type": "Claim"}, key)
>>> keys.verify_document(signed).key == keys.resolve_did_key(key.did)
True
"""

from keys.base58 import b58decode, b58encode
from keys.canonical import canonicalize, parse_strict_json
from keys.didkey import did_key, key_for_verification_method, resolve_did_key, verification_method_for
from keys.ed25519 import SigningKey, VerifyingKey, read_key_file, write_key_file
from keys.errors import InvalidJSON, InvalidKey, InvalidProof, InvalidSignature, KeyFileError, KeysError
from keys.proofs import (
    VerifiedProof,
    document_id,
    sign_canonical,
    sign_document,
    verify_canonical_document,
    verify_document,
)

__all__ = [
    "InvalidJSON",
    "InvalidKey",
    "InvalidProof",
    "InvalidSignature",
    "KeyFileError",
    "KeysError",
    "SigningKey",
    "VerifiedProof",
    "VerifyingKey",
    "b58decode",
    "b58encode",
    "canonicalize",
    "did_key",
    "document_id",
    "key_for_verification_method",
    "parse_strict_json",
    "read_key_file",
    "resolve_did_key",
    "sign_canonical",
    "sign_document",
    "verification_method_for",
    "verify_canonical_document",
    "verify_document",
    "write_key_file",
]
