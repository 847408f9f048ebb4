"""Every error `keys` raises, so callers can catch one base class and print one line.

    KeysError                 base; str(e) is a one-line human message
    ├── InvalidSignature      a raw Ed25519 signature does not verify
    ├── InvalidProof          a Data Integrity proof is malformed, unsupported or does not verify
    ├── InvalidKey            malformed multibase, did:key or JWK; wrong multicodec; wrong length
    ├── KeyFileError          key file unreadable or unparseable; refusal to overwrite
    └── InvalidJSON           strict JSON refused; `.path` is the JSON pointer of the offending value

`verify_document` raises only `InvalidProof` (a failing signature or an unresolvable key is
chained as its `__cause__`), so "is this document authentic" has one exception to catch.
"""

from __future__ import annotations

import re

__all__ = ["InvalidJSON", "InvalidKey", "InvalidProof", "InvalidSignature", "KeyFileError", "KeysError"]

_SURROGATE = re.compile("[\ud800-\udfff]")


class KeysError(Exception):
    """Base class of every error raised by `keys`."""


class InvalidSignature(KeysError):
    """A raw Ed25519 signature does not verify over the given bytes with the given key."""


class InvalidProof(KeysError):
    """A Data Integrity proof is malformed, of an unsupported kind, or does not verify."""


class InvalidKey(KeysError):
    """Key material that cannot be used: bad encoding, wrong multicodec, wrong length, bad curve point."""


class KeyFileError(KeysError):
    """A key file that cannot be read, parsed or (without `overwrite=True`) written."""


class InvalidJSON(KeysError):
    """Input that is not strict JSON, or a value that has no RFC 8785 canonical form.

    `path` is an RFC 6901 JSON pointer to the offending value ("" is the whole document), so a
    filer is told where the problem is, not only what it is. Lone surrogates inside a key are
    shown as `\\udXXX` escapes, so the pointer can always be encoded and printed.
    """

    def __init__(self, reason: str, path: str = "") -> None:
        self.reason = reason
        self.path = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", path)
        super().__init__(reason, self.path)

    def __str__(self) -> str:
        return f"{self.reason} at {self.path or 'the document root'}"
