"""W3C did:web: a DID bound to a domain, whose keys are whatever that domain publishes over HTTPS.

``did:web:example.com`` resolves to ``https://example.com/.well-known/did.json``,
``did:web:example.com:user:alice`` to ``https://example.com/user/alice/did.json`` and
``did:web:example.com%3A3000`` to ``https://example.com:3000/.well-known/did.json``
(w3c-ccg.github.io/did-method-web, "Read (Resolve)"). The spec requires a domain name, never an IP
address; hosts are held to the host rules of `registry.urls`, so a DID names the same host a URL
claim would.

Only keys a document lists under ``assertionMethod`` are returned: those are the ones a controller
authorises to sign statements (DID Core §5.3.2). Ed25519 keys are read from ``Multikey`` and
``Ed25519VerificationKey2020`` (``publicKeyMultibase``) and from ``JsonWebKey`` and
``JsonWebKey2020`` (``publicKeyJwk``, OKP/Ed25519); other key types are ignored, not half-supported.
The raw bytes and their SHA-256 are kept, so an audit can re-verify what was accepted later.

>>> did_web_url("did:web:w3c-ccg.github.io:user:alice")
'https://w3c-ccg.github.io/user/alice/did.json'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import unquote

import keys
from keys import VerifyingKey
from registry.authority.fetch import FetchRefused, HttpsFetcher, utcnow
from registry.urls import InvalidURL, canonicalize

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "DidResolutionError",
    "DidWebResolver",
    "ResolvedDid",
    "did_web_host",
    "did_web_is_bare",
    "did_web_url",
    "parse_did_document",
]

PREFIX: Final = "did:web:"
MAX_DOCUMENT_BYTES: Final = 32 * 1024
ACCEPT: Final = "application/did+json, application/json;q=0.9"
_MAX_DID: Final = 2048
_DID_CHARS: Final = re.compile(r"[A-Za-z0-9._:%-]+")
_HOST_PART: Final = re.compile(r"(?P<host>[^%]+)(?:%3[Aa](?P<port>[1-9][0-9]{0,4}))?")
_LABEL: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_BAD_ESCAPE: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
_B64URL: Final = re.compile(r"[A-Za-z0-9_-]{43}")
_MULTIKEY_TYPES: Final = frozenset({"Multikey", "Ed25519VerificationKey2020"})
_JWK_TYPES: Final = frozenset({"JsonWebKey", "JsonWebKey2020"})


class DidResolutionError(ValueError):
    """A did:web that is malformed, cannot be fetched, or whose document gives no usable key."""


@dataclass(frozen=True)
class _DidWeb:
    host: str
    port: int | None
    path: tuple[str, ...]


def did_web_url(did: str) -> str:
    """The HTTPS URL of a did:web's DID document, per the did:web spec; `DidResolutionError` if malformed."""
    parsed = _parse(did)
    authority = parsed.host if parsed.port is None else f"{parsed.host}:{parsed.port}"
    path = "/".join(parsed.path) if parsed.path else ".well-known"
    return f"https://{authority}/{path}/did.json"


def did_web_host(did: str) -> str:
    """The lower-case host a did:web names, without its port."""
    return _parse(did).host


def did_web_is_bare(did: str) -> bool:
    """Whether the did:web is the domain's own (no port, no path): only that one speaks for the host."""
    parsed = _parse(did)
    return parsed.port is None and not parsed.path


def _parse(did: str) -> _DidWeb:
    if not isinstance(did, str) or not did.startswith(PREFIX):
        raise DidResolutionError(f"{_shown(did)} is not a did:web DID")
    if len(did) > _MAX_DID:
        raise DidResolutionError(f"a did:web DID is at most {_MAX_DID} characters")
    specific = did[len(PREFIX) :]
    if not _DID_CHARS.fullmatch(specific):
        raise DidResolutionError(
            f"{_shown(did)} holds characters a did:web cannot (a DID URL's path, query or fragment?)"
        )
    host_part, *segments = specific.split(":")
    match = _HOST_PART.fullmatch(host_part)
    if match is None:
        raise DidResolutionError(f"{_shown(did)}: only a port may follow the host, as %3A and digits")
    host = _valid_host(match["host"], did)
    port = int(match["port"]) if match["port"] else None
    if port is not None and port > 65535:
        raise DidResolutionError(f"{_shown(did)}: port {port} is out of range")
    for segment in segments:
        decoded = unquote(segment) if not _BAD_ESCAPE.search(segment) else None
        if decoded is None:
            raise DidResolutionError(f"{_shown(did)}: path segment {segment!r} has a bad percent-encoding")
        if (
            not segment
            or decoded in (".", "..")
            or any(c in decoded for c in "/\\?#")
            or not decoded.isprintable()
        ):
            raise DidResolutionError(
                f"{_shown(did)}: path segment {segment!r} is empty, a dot segment or unsafe"
            )
    return _DidWeb(host, port, tuple(segments))


def _valid_host(raw: str, did: str) -> str:
    """A lower-case DNS name, as `registry.urls` canonicalises it, with at least two labels."""
    host = raw.lower()
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise DidResolutionError(f"{_shown(did)} does not name a valid domain name")
    try:
        canonical = canonicalize(f"https://{host}/").host
    except InvalidURL as exc:
        raise DidResolutionError(f"{_shown(did)} does not name a valid host: {exc}") from None
    if canonical != host or labels[-1].isdigit():
        raise DidResolutionError(f"{_shown(did)} names an IP address, not a domain name")
    return host


def _shown(did: object) -> str:
    text = str(did)
    return repr(text if len(text) <= 80 else text[:77] + "...")


# ------------------------------------------------------------------ documents


def parse_did_document(did: str, raw: bytes) -> dict[str, VerifyingKey]:
    """The Ed25519 assertion methods of a DID document: absolute method id -> key.

    Strict JSON; ``id`` must be `did`; every method used must be controlled by `did` and have an id
    under it. A DID Resolution Document (``{"didDocument": {...}}``, the spec's newer form) is read
    as the document inside it. Raises `DidResolutionError` naming what is wrong.
    """
    _parse(did)
    try:
        document = keys.parse_strict_json(raw)
    except keys.InvalidJSON as exc:
        where = f" at {exc.path}" if exc.path else ""
        raise DidResolutionError(
            f"the DID document of {did} is not strict JSON: {exc.reason}{where}"
        ) from None
    if isinstance(document, dict) and "id" not in document and isinstance(document.get("didDocument"), dict):
        document = document["didDocument"]
    if not isinstance(document, dict):
        raise DidResolutionError(f"the DID document of {did} is not a JSON object")
    if document.get("id") != did:
        found_id = "no id" if document.get("id") is None else f"id {_shown(document.get('id'))}"
        raise DidResolutionError(f"the DID document of {did} has {found_id}, not {did}")
    methods: dict[str, dict[str, Any]] = {}
    for entry in _list(did, document, "verificationMethod"):
        if not isinstance(entry, dict):
            raise DidResolutionError(
                f"the DID document of {did} has a verificationMethod that is not an object"
            )
        method_id = _absolute(did, entry.get("id"))
        if method_id in methods:
            raise DidResolutionError(f"the DID document of {did} defines {method_id} twice")
        methods[method_id] = entry
    assertion = _list(did, document, "assertionMethod")
    if not assertion:
        raise DidResolutionError(f"the DID document of {did} lists no assertionMethod")
    found: dict[str, VerifyingKey] = {}
    for entry in assertion:
        if isinstance(entry, str):
            method_id = _absolute(did, entry)
            if method_id not in methods:
                if method_id.startswith(did + "#"):
                    raise DidResolutionError(
                        f"the DID document of {did} lists {method_id} as an assertionMethod, undefined"
                    )
                continue  # another DID's key: not resolved here
            method = methods[method_id]
        elif isinstance(entry, dict):
            method_id = _absolute(did, entry.get("id"))
            if method_id in methods or method_id in found:
                raise DidResolutionError(f"the DID document of {did} defines {method_id} twice")
            method = entry
        else:
            raise DidResolutionError(
                f"the DID document of {did} has an assertionMethod entry of the wrong type"
            )
        key = _key_of(did, method_id, method)
        if key is not None:
            found[method_id] = key
    if not found:
        raise DidResolutionError(
            f"the DID document of {did} has no Ed25519 assertion method "
            "(Multikey, Ed25519VerificationKey2020, JsonWebKey or JsonWebKey2020)"
        )
    return found


def _list(did: str, document: dict[str, Any], name: str) -> list[Any]:
    value = document.get(name, [])
    if not isinstance(value, list):
        raise DidResolutionError(f"the DID document of {did} has a {name} that is not a list")
    return value


def _absolute(did: str, reference: object) -> str:
    """A method id as an absolute DID URL; ``#key-1`` is resolved against the DID."""
    if not isinstance(reference, str) or not reference:
        raise DidResolutionError(f"the DID document of {did} has a verification method without an id")
    absolute = did + reference if reference.startswith("#") else reference
    _base, hash_sign, fragment = absolute.partition("#")
    if not absolute.startswith("did:") or not hash_sign or not fragment:
        raise DidResolutionError(
            f"the DID document of {did} has a method id {_shown(reference)} that is not a DID URL"
        )
    return absolute


def _key_of(did: str, method_id: str, method: dict[str, Any]) -> VerifyingKey | None:
    """The Ed25519 key of one assertion method; None for key types this registry does not use."""
    if not method_id.startswith(did + "#"):
        raise DidResolutionError(
            f"verification method {method_id} in the DID document of {did} belongs to another DID"
        )
    controller = method.get("controller")
    if controller != did:
        named = "no controller" if controller is None else f"controller {_shown(controller)}"
        raise DidResolutionError(f"verification method {method_id} has {named}, not {did}")
    kind = method.get("type")
    try:
        if kind in _MULTIKEY_TYPES:
            return _multikey(method_id, method, kind == "Multikey")
        if kind in _JWK_TYPES:
            return _jwk(method_id, method)
    except keys.InvalidKey as exc:
        raise DidResolutionError(f"verification method {method_id} has an invalid key: {exc}") from None
    return None


def _multikey(method_id: str, method: dict[str, Any], other_types_allowed: bool) -> VerifyingKey | None:
    value = method.get("publicKeyMultibase")
    if not isinstance(value, str):
        raise DidResolutionError(f"verification method {method_id} has no publicKeyMultibase")
    if other_types_allowed and value.startswith("z") and len(value) <= 100:
        if keys.b58decode(value[1:])[:2] != b"\xed\x01":
            return None  # a Multikey of another type (P-256, X25519, ...)
    elif other_types_allowed and value.startswith("z"):
        return None  # far too long for Ed25519: some other key type
    return VerifyingKey.from_multibase(value)


def _jwk(method_id: str, method: dict[str, Any]) -> VerifyingKey | None:
    jwk = method.get("publicKeyJwk")
    if not isinstance(jwk, dict):
        raise DidResolutionError(f"verification method {method_id} has no publicKeyJwk object")
    if "d" in jwk:
        raise DidResolutionError(f"verification method {method_id} publishes a private key (JWK member 'd')")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    x = jwk.get("x")
    if not isinstance(x, str) or not _B64URL.fullmatch(x):
        raise DidResolutionError(
            f"verification method {method_id} has a JWK 'x' that is not 32 bytes of base64url"
        )
    try:
        raw = base64.urlsafe_b64decode(x + "=")
    except binascii.Error:
        raise DidResolutionError(
            f"verification method {method_id} has a JWK 'x' that is not base64url"
        ) from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != x:
        raise DidResolutionError(f"verification method {method_id} has a JWK 'x' not in canonical base64url")
    return VerifyingKey.from_bytes(raw)


# ------------------------------------------------------------------ resolution


@dataclass(frozen=True)
class ResolvedDid:
    """A did:web as resolved at one moment: where from, the exact bytes, and its assertion keys."""

    did: str
    url: str
    raw: bytes
    sha256: str
    keys: Mapping[str, VerifyingKey] = field(hash=False)
    resolved_at: datetime

    def key_for(self, verification_method: str) -> VerifyingKey:
        """The key of an assertion method of this DID, or `DidResolutionError`."""
        method_id = (
            self.did + verification_method if verification_method.startswith("#") else verification_method
        )
        key = self.keys.get(method_id)
        if key is None:
            raise DidResolutionError(
                f"verification method {_shown(verification_method)} is not an assertion method of {self.did}"
            )
        return key


class DidWebResolver:
    """Resolves did:web through an `HttpsFetcher`, keeping answers for `ttl` seconds.

    The cache holds at most `max_entries` DIDs (the oldest resolution is dropped first); failures are
    not cached, so a fixed document counts as soon as it is published.
    """

    def __init__(
        self,
        fetcher: HttpsFetcher,
        *,
        ttl: float = 300.0,
        clock: Callable[[], datetime] = utcnow,
        max_entries: int = 1024,
        max_bytes: int = MAX_DOCUMENT_BYTES,
    ) -> None:
        self.fetcher = fetcher
        self.ttl = timedelta(seconds=ttl)
        self.clock = clock
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._cache: OrderedDict[str, ResolvedDid] = OrderedDict()

    async def resolve(self, did: str, *, fresh: bool = False) -> ResolvedDid:
        """The DID's document and keys, from the cache unless expired or `fresh` is asked for."""
        url = did_web_url(did)
        cached = self._cache.get(did)
        if cached is not None and not fresh and self.clock() < cached.resolved_at + self.ttl:
            return cached
        try:
            fetched = await self.fetcher.get(url, accept=ACCEPT, max_bytes=self.max_bytes)
        except FetchRefused as exc:
            raise DidResolutionError(str(exc)) from None
        found = parse_did_document(did, fetched.body)
        resolved = ResolvedDid(
            did=did,
            url=url,
            raw=fetched.body,
            sha256=hashlib.sha256(fetched.body).hexdigest(),
            keys=MappingProxyType(found),
            resolved_at=self.clock(),
        )
        self._cache.pop(did, None)
        self._cache[did] = resolved
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return resolved

    def forget(self, did: str) -> None:
        """Drop a cached resolution (after a key rotation is announced, for instance)."""
        self._cache.pop(did, None)
