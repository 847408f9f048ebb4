"""The parts of the signed documents that need no pydantic: field rules, times, builders.

`registry.documents` builds its models from these and re-exports them; they live here so that
the command line can build a claim (and check the common ones, `crawler_client.claim_build`)
without importing pydantic or building a model, which costs more than the rest of `claim new`.

>>> format_timestamp(parse_timestamp("2026-11-22T04:38:47Z"))
'2026-11-22T04:38:47Z'
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_DID_KEY = re.compile(r"did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}")
#: W3C did:web: a lowercase domain name (a port as %3A), then optional path segments.
_DID_WEB = re.compile(
    r"did:web:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}(?:%3A[0-9]{1,5})?(?::[A-Za-z0-9._~-]+)*"
)
_TERRITORY = re.compile(r"[A-Z]{2}")

NONCE_PATTERN: Final = r"^[A-Za-z0-9_-]+$"
NONCE_LENGTHS: Final = (16, 128)
TITLE_LENGTHS: Final = (1, 500)
IDENTIFIERS_PER_SUBJECT: Final = (1, 1000)
TERRITORIES_PER_CLAIM: Final = (1, 300)


def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 UTC timestamp as the documents write it (`2026-11-22T04:38:47Z`)."""
    if not _TIMESTAMP.fullmatch(value):
        raise ValueError("timestamp must be RFC 3339 in UTC, like 2026-11-22T04:38:47Z")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"invalid timestamp: {exc}") from exc


def check_window(valid_from: str | None, valid_until: str | None) -> None:
    """A validity window, when both ends are given, must end after it starts."""
    if valid_from and valid_until and parse_timestamp(valid_until) <= parse_timestamp(valid_from):
        raise ValueError("valid_until must be later than valid_from")


def format_timestamp(moment: datetime) -> str:
    """Write `moment` the way documents carry times: UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(value: str) -> str:
    parse_timestamp(value)
    return value


def _did(value: str) -> str:
    if value.startswith("did:web:"):
        if not _DID_WEB.fullmatch(value) or len(value) > 128:
            raise ValueError("must be a did:web DID naming a domain (did:web:example.com[:path…])")
        return value
    if not _DID_KEY.fullmatch(value):
        raise ValueError("must be a did:key (did:key:z6Mk…) or did:web (did:web:example.com) DID")
    return value


def _territory(value: str) -> str:
    if not _TERRITORY.fullmatch(value):
        raise ValueError("territory must be an ISO 3166-1 alpha-2 code in capitals, like JP")
    return value


def new_nonce() -> str:
    """A fresh 128-bit nonce, base64url."""
    return secrets.token_urlsafe(16)


def unsigned_document(
    fields: Mapping[str, Any],
    *,
    created: datetime,
    nonce: str | None = None,
    optional: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An unsigned document (sign it with `keys.sign_document`): `fields`, its `created` time and
    `nonce` (a fresh one unless given), then those `optional` fields that are not None."""
    doc = {**fields, "created": format_timestamp(created), "nonce": nonce or new_nonce()}
    doc.update({key: value for key, value in (optional or {}).items() if value is not None})
    return doc


def new_claim(
    claimant: str,
    kind: str,
    identifiers: Iterable[tuple[str, str] | Mapping[str, Any]],
    uses: Mapping[str, str],
    *,
    created: datetime,
    nonce: str | None = None,
    title: str | None = None,
    on_behalf_of: Mapping[str, str] | None = None,
    licence: Mapping[str, str] | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    territories: Sequence[str] | None = None,
) -> dict[str, Any]:
    """An unsigned claim document; sign it with `keys.sign_document`.

    `identifiers` are wire-format objects (`{"scheme": "pdq", "value": …, "quality": …}`), or
    `(scheme, value)` pairs for the schemes that need nothing else.
    """
    subject: dict[str, Any] = {
        "kind": kind,
        "identifiers": [
            dict(item) if isinstance(item, Mapping) else {"scheme": item[0], "value": item[1]}
            for item in identifiers
        ],
    }
    if title is not None:
        subject["title"] = title
    return unsigned_document(
        {"type": "Claim", "claimant": claimant, "subject": subject, "uses": dict(uses)},
        created=created,
        nonce=nonce,
        optional={
            "on_behalf_of": dict(on_behalf_of) if on_behalf_of else None,
            "licence": dict(licence) if licence else None,
            "valid_from": format_timestamp(valid_from) if valid_from else None,
            "valid_until": format_timestamp(valid_until) if valid_until else None,
            "territories": list(territories) if territories else None,
        },
    )


def new_withdrawal(
    claimant: str, claim_id: str, *, created: datetime, nonce: str | None = None, reason: str | None = None
) -> dict[str, Any]:
    """An unsigned withdrawal of `claim_id`; sign it with `keys.sign_document`."""
    return unsigned_document(
        {"type": "ClaimWithdrawal", "claimant": claimant, "claim": claim_id},
        created=created,
        nonce=nonce,
        optional={"reason": reason},
    )
