"""Registry-signed domain verifications and lapses appended straight to the log, for tests that need a
domain-verified DID without HTTPS servers (the checks themselves: tests/registry/authority/)."""

from __future__ import annotations

from typing import Any

from registry.authority.documents import DomainVerification, DomainVerificationLapse
from registry.documents import format_timestamp


async def verify_domain(state: Any, did: str, host: str, method: str = "well-known") -> str:
    """Log a registry-signed verification that `did` controls `host`, as `verify_domain` would after a
    passed check; returns its id."""
    authority = state.authority
    now = authority.clock()
    url = f"https://{host}/.well-known/kotowari-did"
    fields = authority._verification_fields(did, host, method, url, "0" * 64, now)
    accepted = authority._registry_accepted(DomainVerification, fields, now)
    async with authority.ledger.record(accepted, "DomainVerification", now):
        pass
    return str(accepted.id)


async def lapse(state: Any, verification: str, did: str, host: str) -> None:
    """Log that the verification `verification` lapsed, as a failed re-check would."""
    authority = state.authority
    now = authority.clock()
    fields = {
        "type": "DomainVerificationLapse",
        "registry": authority.signer.did,
        "verification": verification,
        "subject": did,
        "host": host,
        "reason": "well-known re-check failed: 404",
        "checked_at": format_timestamp(now),
    }
    accepted = authority._registry_accepted(DomainVerificationLapse, fields, now)
    async with authority.ledger.record(accepted, "DomainVerificationLapse", now):
        pass
