"""Who is asking for personal data: a request signed with the requester's key (RFC 9421).

The requester signs `@method`, `@authority`, `@path` and `@query` with the `kotowari-access` tag,
`created`, `expires` (at most five minutes later) and a fresh `nonce`; `keyid` is its verification
method: a `did:key` (resolved offline) or a `did:web` method (resolved like a document's author).
A key that was rotated away or recovered from is refused, as it is for documents.

No signature at all is 401 `authentication-required` with an RFC 9421 `Accept-Signature` field
saying what to sign; a signature that is malformed, stale, reused or does not verify is 401
`signature-refused`; a valid signature by someone not entitled is 403 (`registry.privacy.store`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import keys
from keys.http_signatures import (
    ACCESS_COMPONENTS,
    ACCESS_MAX_AGE,
    ACCESS_TAG,
    SignatureError,
    parse_signature,
    serialize_params,
    verify_request,
)
from registry.errors import RegistryError
from registry.intake import AuthorResolver

ACCEPT_SIGNATURE: Final = "kotowari=" + serialize_params(ACCESS_COMPONENTS, tag=ACCESS_TAG, alg="ed25519")


class AuthenticationRequired(RegistryError):
    status, slug, title = 401, "authentication-required", "Sign the request with your key"
    response_headers: Final = {"Accept-Signature": ACCEPT_SIGNATURE}


class SignatureRefused(RegistryError):
    status, slug, title = 401, "signature-refused", "The request signature is not accepted"
    response_headers: Final = {"Accept-Signature": ACCEPT_SIGNATURE}


@dataclass(frozen=True)
class Requester:
    """An authenticated requester: its DID, and the nonce its signature used (for replay refusal)."""

    did: str
    nonce: str


async def authenticate(
    method: str,
    url: str,
    headers: Mapping[str, str],
    *,
    now: datetime,
    resolver: AuthorResolver | None,
    retired: Callable[[str], bool] = lambda did: False,
) -> Requester:
    """The requester whose key signed this request, or `AuthenticationRequired`/`SignatureRefused`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if "signature-input" not in lowered and "signature" not in lowered:
        raise AuthenticationRequired(
            "personal data is shown only to those entitled: sign the request with your key (RFC 9421)"
        )
    try:
        parsed = parse_signature(lowered)
    except SignatureError as exc:
        raise SignatureRefused(str(exc)) from None
    params = parsed.params
    if params.get("tag") != ACCESS_TAG:
        raise SignatureRefused(f'the signature must carry tag="{ACCESS_TAG}"')
    created, expires, nonce = params.get("created"), params.get("expires"), params.get("nonce")
    if (
        not isinstance(created, int)
        or not isinstance(expires, int)
        or not 0 < expires - created <= ACCESS_MAX_AGE
    ):
        raise SignatureRefused(f"the signature needs created and expires at most {ACCESS_MAX_AGE} s apart")
    if not isinstance(nonce, str) or not 16 <= len(nonce) <= 128:
        raise SignatureRefused("the signature needs a fresh nonce of 16 to 128 characters")
    method_id = parsed.keyid
    if method_id is None or "#" not in method_id:
        raise SignatureRefused("keyid must be a verification method of your DID (did:…#…)")
    did = method_id.split("#", 1)[0]
    try:
        if did.startswith("did:key:"):
            key = keys.key_for_verification_method(method_id)
            if key.did != did:
                raise SignatureRefused("keyid names a key that is not the DID's own")
        elif did.startswith("did:web:") and resolver is not None:
            key = (await resolver.resolve(did)).key_for(method_id)
        else:
            raise SignatureRefused("keyid must name a did:key or did:web verification method")
    except (keys.KeysError, ValueError) as exc:
        raise SignatureRefused(f"cannot use keyid: {exc}") from None
    try:
        verify_request(
            method,
            url,
            lowered,
            b"",
            key,
            now=now,
            max_age=ACCESS_MAX_AGE,
            required=ACCESS_COMPONENTS,
            parsed=parsed,
        )
    except SignatureError as exc:
        raise SignatureRefused(str(exc)) from None
    if retired(did):
        raise SignatureRefused(f"{did} was replaced by a newer key and may sign nothing more")
    return Requester(did, nonce)
