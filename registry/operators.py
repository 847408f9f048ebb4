"""Operators as listings show them: authority, domain, and whether a domain-verified operator holds
their name (see `registry.notices.store` for the naming rule). Pure: the store passes the records
and which DIDs hold domain verifications at a log position."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from registry.notices.documents import operator_name_key
from registry.notices.models import OperatorRecord

DOMAIN_VERIFIED: Final = "domain-verified"
SELF_ASSERTED: Final = "self-asserted"
UNVERIFIED: Final = "unverified"


@dataclass(frozen=True)
class Verified:
    """Which DIDs hold a domain verification at log position `tree_size`, and for which hosts."""

    tree_size: int = 0
    hosts: Mapping[str, list[str]] = field(default_factory=dict)

    def __contains__(self, did: object) -> bool:
        return did in self.hosts


def primary_domain(did: str, hosts: list[str]) -> str:
    """The domain to show for an operator: its did:web host when verified, else its first verified
    host (a registrable domain `.example.com` shown as `example.com`), else "unverified"."""
    if not hosts:
        return UNVERIFIED
    plain = [host.removeprefix(".") for host in hosts]
    if did.startswith("did:web:"):
        own = did.removeprefix("did:web:").split(":", 1)[0]
        if own in plain:
            return own
    return sorted(plain, key=lambda host: (host.count("."), host))[0]


def operator_profiles(
    records: Iterable[OperatorRecord], verified: Verified, dids: Iterable[str] = ()
) -> dict[str, dict[str, Any]]:
    """Every registered operator's profile (and, for `dids` not registered, a bare one): name,
    authority, domain, and whether its name is disputed by a domain-verified operator."""
    rows = list(records)
    holders: dict[str, list[str]] = {}
    for record in rows:
        if record.did in verified:
            holders.setdefault(operator_name_key(record.name), []).append(record.did)
    profiles: dict[str, dict[str, Any]] = {}
    for record in rows:
        owners = holders.get(operator_name_key(record.name), [])
        disputed = bool(owners) and owners != [record.did]
        profiles[record.did] = _profile(
            record.did,
            verified,
            name=record.name,
            registered=True,
            disputed=disputed,
            held_by=owners[0] if disputed and len(owners) == 1 else None,
            log_index=record.log_index,
        )
    for did in dids:
        if did not in profiles:
            profiles[did] = _profile(did, verified)
    return profiles


def _profile(
    did: str,
    verified: Verified,
    *,
    name: str | None = None,
    registered: bool = False,
    disputed: bool = False,
    held_by: str | None = None,
    log_index: int | None = None,
) -> dict[str, Any]:
    hosts = list(verified.hosts.get(did, []))
    return {
        "did": did,
        "registered": registered,
        "name": name,
        "authority": DOMAIN_VERIFIED if did in verified else SELF_ASSERTED,
        "domain": primary_domain(did, hosts),
        "verified_hosts": hosts,
        "name_disputed": disputed,
        "name_held_by": held_by,
        "registration_log_index": log_index,
    }


def listing_order(profile: Mapping[str, Any]) -> tuple[Any, ...]:
    """Verified operators first, then registered ones, by folded name, the earlier registration first."""
    index = profile.get("registration_log_index")
    return (
        profile["authority"] != DOMAIN_VERIFIED,
        not profile["registered"],
        operator_name_key(profile["name"]) if profile["name"] else "",
        index if index is not None else -1,
        profile["did"],
    )


def export_name(profile: Mapping[str, Any]) -> str:
    """How an export (Lumen) names the operator: its registered name, except where that name is
    disputed by a domain-verified operator, where it is the DID (an export never repeats a verified
    operator's name for someone else)."""
    if profile["name"] is None or profile["name_disputed"]:
        return str(profile["did"])
    return str(profile["name"])
