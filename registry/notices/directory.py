"""The operator directory (`GET /v1/operators`): who receives notices, found by name or domain.

A notifier must name an operator by its DID; the directory is how it finds that DID. An entry holds
what the operator published and the log says of it: its name, DID, authority and domain (the same
`operator_profile` every notice listing shows), when it registered, and whether it has a webhook —
a boolean only. The webhook URL, the registration's `contact` and its `contact_person` are left out:
the contact person's details are personal data (`registry.privacy.personal`), and a contact address
or webhook may name a person or an internal host, while a notifier needs neither to file.

Pages are ordered by DID, and the cursor is the last DID of a page (opaque, base64url), so paging
stays correct while operators register, rename or get verified between requests. Every page is
computed from all registrations (a name is disputed relative to all of them); operators number in
the thousands, not the millions.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import quote, urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from registry.accountability.answers import OperatorAccountabilityRecord
from registry.authority.levels import host_covered
from registry.documents import Did, format_timestamp
from registry.errors import InvalidParameter, NotFound
from registry.notices.documents import operator_name_key
from registry.notices.models import OperatorRecord
from registry.operators import operator_profiles
from registry.suffixes import is_ip_host, is_public_suffix
from registry.urls import InvalidURL, canonicalize

if TYPE_CHECKING:
    from registry.notices.store import NoticeStore


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OperatorLinks(_Answer):
    self: str
    notices: str
    stats: str
    record: str


class RegistrationRef(_Answer):
    id: str
    log_index: int


class OperatorEntry(_Answer):
    """One operator as the directory shows it (the shape of `_entry`, for the OpenAPI document)."""

    did: str
    name: str
    authority: Literal["domain-verified", "self-asserted"]
    domain: str
    verified_hosts: list[str]
    name_disputed: bool
    name_held_by: str | None
    webhook: bool
    registered_at: str
    registration: RegistrationRef
    links: OperatorLinks


class OperatorRecordAnswer(OperatorEntry):
    """`GET /v1/operators/{did}`: the entry, at the log size its authority was read at, and its public
    record computed from the log (`registry.accountability.record`)."""

    tree_size: int
    record: OperatorAccountabilityRecord | None = None


class OperatorPage(_Answer):
    """`GET /v1/operators`: a page of entries, by DID; `cursor` (the next page's) and `next` (its
    path, filters kept) are null on the last page, as in `GET /v1/claims`."""

    tree_size: int
    operators: list[OperatorEntry]
    cursor: str | None
    next: str | None


DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 200
_DID: Final[TypeAdapter[str]] = TypeAdapter(Did)


@dataclass(frozen=True)
class DirectoryQuery:
    """One page request: optional name and domain filters, the cursor, the page size."""

    name: str | None = None
    domain: str | None = None
    after: str | None = None
    limit: int = DEFAULT_LIMIT


def parse_query(params: Mapping[str, str]) -> DirectoryQuery:
    """The query string of `GET /v1/operators`, checked; `InvalidParameter` (400) names the field."""
    unknown = sorted(set(params) - {"name", "domain", "cursor", "limit"})
    if unknown:
        raise InvalidParameter(
            f"unknown parameter {unknown[0]!r} (name, domain, cursor, limit)", [(f"/{unknown[0]}", "unknown")]
        )
    name = params.get("name")
    if name is not None and not operator_name_key(name):
        raise InvalidParameter("name is empty", [("/name", "empty")])
    domain = params.get("domain")
    limit = _limit(params.get("limit"))
    cursor = params.get("cursor")
    return DirectoryQuery(
        name=name,
        domain=query_host(domain) if domain is not None else None,
        after=decode_cursor(cursor) if cursor is not None else None,
        limit=limit,
    )


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise InvalidParameter(
            f"limit must be a whole number from 1 to {MAX_LIMIT}", [("/limit", "out of range")]
        )
    return int(text)


def query_host(text: str) -> str:
    """A domain to look for, as `registry.urls` canonicalises hosts (a pasted URL gives its host);
    operators verified for it or for hosts below it match."""
    candidate = text.strip()
    if "://" in candidate:
        candidate = urlsplit(candidate).hostname or ""
    if not candidate or any(char in candidate for char in "/?#@ "):
        raise InvalidParameter(f"domain {text!r} is not a domain name", [("/domain", "not a domain name")])
    try:
        host = canonicalize(f"https://{candidate}/").host
    except InvalidURL as exc:
        raise InvalidParameter(
            f"domain {text!r} is not a domain name: {exc}", [("/domain", str(exc))]
        ) from None
    if is_ip_host(host) or is_public_suffix(host):
        # "com" or "co.jp" would list every operator below it: a search names a domain someone holds
        raise InvalidParameter(
            f"domain {text!r} is a public suffix or an address, not a registrable domain "
            "such as acme.example",
            [("/domain", "not a registrable domain")],
        )
    return host


def check_did(did: str, pointer: str = "/did") -> None:
    """`InvalidParameter` (400) unless `did` is a did:key or did:web the registry accepts."""
    try:
        _DID.validate_python(did)
    except ValidationError as exc:
        reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise InvalidParameter(f"{did!r} is not a DID: {reason}", [(pointer, reason)]) from None


def encode_cursor(did: str) -> str:
    return base64.urlsafe_b64encode(did.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The DID a cursor stands for, or `InvalidParameter` for anything this module did not write."""
    try:
        did = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
        _DID.validate_python(did)
    except (binascii.Error, ValueError, ValidationError):
        raise InvalidParameter(
            "cursor is not one this registry handed out", [("/cursor", "not a cursor")]
        ) from None
    return did


def _did_web_host(did: str) -> str | None:
    if not did.startswith("did:web:"):
        return None
    return did.removeprefix("did:web:").split(":", 1)[0].split("%3A", 1)[0].lower()


def _matches(query: DirectoryQuery, profile: Mapping[str, Any]) -> bool:
    name = profile["name"] or ""
    if query.name is not None and operator_name_key(query.name) not in operator_name_key(name):
        return False
    if query.domain is not None:
        hosts: list[str] = list(profile["verified_hosts"])
        own = _did_web_host(str(profile["did"]))
        if own:
            hosts.append(own)
        below = any(host.lstrip(".").endswith("." + query.domain) for host in hosts)
        if not (host_covered(query.domain, hosts) or below):
            return False
    return True


def links(did: str) -> dict[str, str]:
    """Where the rest of an operator's record is: this entry, its notices, its statistics."""
    quoted = quote(did, safe=":")
    return {
        "self": f"/v1/operators/{quoted}",
        "notices": f"/v1/operators/{quoted}/notices",
        "stats": f"/v1/stats/operators?operator={quote(did, safe='')}",
        "record": f"/v1/accountability/operators/{quoted}",
    }


def _entry(record: OperatorRecord, profile: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "did": record.did,
        "name": record.name,
        "authority": profile["authority"],
        "domain": profile["domain"],
        "verified_hosts": profile["verified_hosts"],
        "name_disputed": profile["name_disputed"],
        "name_held_by": profile["name_held_by"],
        "webhook": record.webhook is not None,
        "registered_at": format_timestamp(record.received_at),
        "registration": {"id": record.registration_id, "log_index": record.log_index},
        "links": links(record.did),
    }


async def _entries(store: NoticeStore) -> tuple[int, list[dict[str, Any]]]:
    records = await OperatorRecord.all().order_by("did")
    verified = await store.verified(record.did for record in records)
    profiles = operator_profiles(records, verified)
    return verified.tree_size, [_entry(record, profiles[record.did]) for record in records]


async def directory(store: NoticeStore, query: DirectoryQuery) -> dict[str, Any]:
    """One page of registered operators matching `query`, by DID, and the cursor of the next page."""
    tree_size, entries = await _entries(store)
    found = [
        entry
        for entry in entries
        if (query.after is None or entry["did"] > query.after) and _matches(query, entry)
    ]
    page = found[: query.limit]
    cursor = encode_cursor(page[-1]["did"]) if len(found) > query.limit else None
    kept = {"name": query.name, "domain": query.domain}
    if query.limit != DEFAULT_LIMIT:
        kept["limit"] = str(query.limit)
    params = {key: value for key, value in kept.items() if value is not None}
    return {
        "tree_size": tree_size,
        "operators": page,
        "cursor": cursor,
        "next": f"/v1/operators?{urlencode({**params, 'cursor': cursor})}" if cursor else None,
    }


async def operator_entry(store: NoticeStore, did: str) -> dict[str, Any]:
    """The directory entry of one registered operator (400 for a non-DID, 404 if not registered)."""
    check_did(did)
    tree_size, entries = await _entries(store)
    for entry in entries:
        if entry["did"] == did:
            return {"tree_size": tree_size, **entry}
    raise NotFound(
        f"{did} has not registered as an operator (notices to it are held: {links(did)['notices']}; "
        f"its record: {links(did)['record']})"
    )
