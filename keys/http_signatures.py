"""HTTP Message Signatures (RFC 9421) with Ed25519, and RFC 9530 `Content-Digest`.

Both sides use these: the registry signs webhook deliveries and verifies requests for personal
data; operators verify deliveries and notifiers sign their reads. Only what those uses need is
implemented: one signature member, derived components `@method`, `@target-uri`, `@authority`,
`@scheme`, `@path` and `@query`, and header fields by name. `verify_request` raises
`SignatureError` and returns nothing to forget to check; `parse_signature` first reads the
parameters so a verifier can pick the key named by `keyid`.

>>> params = '("@method" "@path");created=1;keyid="k"'
>>> signature_base([("@method", "POST"), ("@path", "/")], params).decode().splitlines()[-1]
'"@signature-params": ("@method" "@path");created=1;keyid="k"'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from keys.ed25519 import SigningKey, VerifyingKey
from keys.errors import KeysError

LABEL = "kotowari"
COVERED = ("@method", "@target-uri", "content-type", "content-digest")
"""What a webhook delivery's signature covers."""


class SignatureError(ValueError):
    """A request whose RFC 9421 signature or RFC 9530 digest does not hold."""


def content_digest(body: bytes) -> str:
    """RFC 9530 `Content-Digest` field value with `sha-256`."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def signature_base(covered: Sequence[tuple[str, str]], params: str) -> bytes:
    """RFC 9421 section 2.5: one `"name": value` line per covered component, then the parameters."""
    lines = [f'"{name}": {value}' for name, value in covered]
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode("utf-8")


def serialize_params(components: Sequence[str], **params: str | int) -> str:
    """The inner list with its parameters, in the order given (`created=…;keyid="…"`)."""
    inner = "(" + " ".join(f'"{name}"' for name in components) + ")"
    for name, value in params.items():
        inner += f";{name}={value}" if isinstance(value, int) else f';{name}="{value}"'
    return inner


def component_values(
    method: str, url: str, headers: Mapping[str, str], components: Sequence[str]
) -> list[tuple[str, str]]:
    """The values of the derived components and header fields a signature covers."""
    split = urlsplit(url)
    lowered = {name.lower(): value for name, value in headers.items()}
    default_port = {"http": 80, "https": 443}.get(split.scheme)
    host = (split.hostname or "").lower()
    try:
        port = split.port
    except ValueError:
        raise SignatureError("the request URL has an invalid port") from None
    authority = host if port in (None, default_port) else f"{host}:{port}"
    if ":" in host and authority == host:
        authority = f"[{host}]"
    elif ":" in host:
        authority = f"[{host}]:{port}"
    derived = {
        "@method": method.upper(),
        "@target-uri": url,
        "@authority": authority,
        "@scheme": split.scheme,
        "@path": split.path or "/",
        "@query": "?" + split.query,
    }
    values = []
    for name in components:
        if name.startswith("@"):
            if name not in derived:
                raise SignatureError(f"unsupported derived component {name}")
            values.append((name, derived[name]))
        elif name in lowered:
            values.append((name, lowered[name].strip()))
        else:
            raise SignatureError(f"the signature covers {name}, which the message lacks")
    return values


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    key: SigningKey,
    *,
    created: int,
    keyid: str,
    components: Sequence[str] = COVERED,
    label: str = LABEL,
    expires: int | None = None,
    nonce: str | None = None,
    alg: str | None = "ed25519",
    tag: str | None = None,
) -> dict[str, str]:
    """`Signature-Input` and `Signature` headers for the request (RFC 9421 section 3.1)."""
    params: dict[str, str | int] = {"created": created}
    if expires is not None:
        params["expires"] = expires
    params["keyid"] = keyid
    if alg is not None:
        params["alg"] = alg
    if nonce is not None:
        params["nonce"] = nonce
    if tag is not None:
        params["tag"] = tag
    serialized = serialize_params(components, **params)
    base = signature_base(component_values(method, url, headers, components), serialized)
    signature = base64.b64encode(key.sign(base)).decode("ascii")
    return {"Signature-Input": f"{label}={serialized}", "Signature": f"{label}=:{signature}:"}


_MEMBER = re.compile(r"^\s*([a-z*][a-z0-9_\-.*]*)=(\(([^)]*)\)(.*))\s*$")
_PARAM = re.compile(r';([a-z*][a-z0-9_\-.*]*)=("(?:[^"\\]|\\.)*"|-?\d+)')
_COMPONENT = re.compile(r'"([a-z0-9@][a-z0-9_\-.]*)"')


@dataclass(frozen=True)
class ParsedSignature:
    """One signature member as sent: its label, covered components, parameters and bytes."""

    label: str
    components: tuple[str, ...]
    params: dict[str, str | int]
    serialized: str
    signature: bytes

    @property
    def keyid(self) -> str | None:
        value = self.params.get("keyid")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class VerifiedSignature:
    label: str
    components: tuple[str, ...]
    params: dict[str, str | int]


def parse_signature(headers: Mapping[str, str]) -> ParsedSignature:
    """The single member of `Signature-Input` and its `Signature`, or `SignatureError`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    member = _MEMBER.match(lowered.get("signature-input", ""))
    if member is None:
        raise SignatureError("no usable Signature-Input")
    label, serialized, inner, rest = member.groups()
    tokens = inner.split()
    matched = [_COMPONENT.fullmatch(token) for token in tokens]
    components = tuple(match.group(1) for match in matched if match is not None)
    if len(components) != len(tokens) or len(set(components)) != len(components):
        raise SignatureError("Signature-Input lists its components wrongly")
    params: dict[str, str | int] = {}
    for name, value in _PARAM.findall(rest):
        if name in params:
            raise SignatureError(f"Signature-Input repeats the parameter {name}")
        params[name] = value[1:-1] if value.startswith('"') else int(value)
    found = re.search(rf"(?:^|,)\s*{re.escape(label)}=:([A-Za-z0-9+/=]+):", lowered.get("signature", ""))
    if found is None:
        raise SignatureError(f"no Signature member {label}")
    try:
        signature = base64.b64decode(found.group(1), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("the Signature is not base64") from None
    return ParsedSignature(label, components, params, serialized, signature)


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    key: VerifyingKey,
    *,
    now: datetime | None = None,
    max_age: int = 300,
    required: Sequence[str] = COVERED,
    parsed: ParsedSignature | None = None,
) -> VerifiedSignature:
    """Check a signed request: the signature (one member), that it covers `required`, its
    freshness when `now` is given (`created` within `max_age`, `expires` not passed), and that
    `Content-Digest` matches the body when covered."""
    signed = parsed if parsed is not None else parse_signature(headers)
    missing = [name for name in required if name not in signed.components]
    if missing:
        raise SignatureError(f"the signature does not cover {', '.join(missing)}")
    base = signature_base(component_values(method, url, headers, signed.components), signed.serialized)
    try:
        key.verify(signed.signature, base)
    except KeysError as exc:
        raise SignatureError(f"the signature does not verify: {exc}") from None
    if now is not None:
        created = signed.params.get("created")
        if not isinstance(created, int) or abs(now.timestamp() - created) > max_age:
            raise SignatureError("the signature is not fresh")
        expires = signed.params.get("expires")
        if isinstance(expires, int) and now.timestamp() > expires:
            raise SignatureError("the signature has expired")
    lowered = {name.lower(): value for name, value in headers.items()}
    if "content-digest" in signed.components and lowered.get("content-digest") != content_digest(body):
        raise SignatureError("Content-Digest does not match the body")
    return VerifiedSignature(signed.label, signed.components, signed.params)


# ------------------------------------------------------------------ the registry's access profile

ACCESS_COMPONENTS = ("@method", "@authority", "@path", "@query")
"""What a request for personal data signs: not the scheme, so a TLS-terminating proxy in front of
the registry does not break it; the authority, so a request cannot be replayed at another host."""
ACCESS_TAG = "kotowari-access"
ACCESS_MAX_AGE = 300
"""Seconds a signed access request is good for (`expires` - `created` at most this)."""


def access_headers(
    method: str, url: str, key: SigningKey, keyid: str, *, created: int, nonce: str
) -> dict[str, str]:
    """RFC 9421 headers that authenticate a request to the registry by the requester's key.

    `keyid` is the verification method (for a did:key, ``did:key:z…#z…``). Valid for
    `ACCESS_MAX_AGE` seconds from `created`; `nonce` must be fresh (the registry refuses a repeat).
    """
    return sign_request(
        method,
        url,
        {},
        key,
        created=created,
        expires=created + ACCESS_MAX_AGE,
        keyid=keyid,
        components=ACCESS_COMPONENTS,
        nonce=nonce,
        tag=ACCESS_TAG,
    )
