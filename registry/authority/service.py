"""The registry's authority service: file authority documents, verify domains, re-check them, and
describe what the log says about a DID.

Everything it knows is replayed from the log into the claim store's index (`ClaimIndex.authority`),
so an answer's authority is the one at the tree size the answer names. What the registry checked
itself (a domain, a did:web document) it signs and appends to the log, with what it fetched.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

import keys
from registry.authority.documents import (
    FILED_TYPES,
    DomainVerification,
    DomainVerificationLapse,
    Method,
    model_of,
    validate_authority_document,
)
from registry.authority.state import AuthorityState
from registry.documents import Did, SignedDocument, format_timestamp, unsigned_document
from registry.errors import (
    AuthorityConflict,
    InvalidDocumentError,
    KeyRetired,
    NotFound,
    RegistryError,
    VerificationFailed,
)
from registry.intake import Accepted, ClockWindow, ResolvedAuthor, parse_json
from registry.ledger import Companion, Ledger
from registry.store import ClaimStore
from registry.suffixes import registrable_domain

METHODS: tuple[Method, ...] = ("did-web", "well-known", "dns-txt")
_DID: TypeAdapter[str] = TypeAdapter(Did)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class AuthorityService:
    """Authority documents and domain verifications over one claim store's log and index."""

    def __init__(
        self,
        claims: ClaimStore,
        ledger: Ledger,
        signer: keys.SigningKey,
        *,
        clock: Callable[[], datetime],
        window: ClockWindow,
        checker: Any | None = None,
    ) -> None:
        self.claims = claims
        self.ledger = ledger
        self.signer = signer
        self.clock = clock
        self.window = window
        #: A `registry.authority.evidence.DomainChecker`; None refuses domain verification.
        self.checker = checker

    @property
    def state(self) -> AuthorityState:
        return self.claims.index.authority

    # ------------------------------------------------------------------ hooks for every ledger

    async def gate(self, batch: Sequence[Accepted[Any]]) -> list[RegistryError | None]:
        """A retired key signs nothing more (except a veto of its own recovery); one replay for all."""
        async with self.claims.replayed():
            return [self._retired(accepted) for accepted in batch]

    def _retired(self, accepted: Accepted[Any]) -> KeyRetired | None:
        if accepted.model.type == "RecoveryVeto" or not self.state.retired(accepted.author):
            return None
        successor = self.state.controller(accepted.author)
        return KeyRetired(
            f"{accepted.author} was replaced by {successor}: sign with the successor's key",
            [(f"/{accepted.model.AUTHOR_FIELD}", "replaced key")],
        )

    async def companions(self, accepted: Accepted[Any], now: datetime) -> Sequence[Companion]:
        """Before a did:web author's document: the DID document it was verified against, when the log
        does not hold that version yet, and for a DID on a whole host a did-web domain verification."""
        resolved = accepted.resolved
        if resolved is None:
            return ()
        async with self.claims.replayed():
            logged = self.state.did_documents.get(resolved.did)
            verified = any(
                v.doc.subject == resolved.did and v.doc.method == "did-web"
                for v in self.state.verifications.values()
            )
        out: list[Companion] = []
        if logged is None or logged.sha256 != resolved.sha256:
            out.append(self._signed(_did_document_record(self.signer.did, resolved), now))
        host = _did_web_whole_host(resolved.did)
        if host is not None and not verified:
            fields = self._verification_fields(
                resolved.did, host, "did-web", resolved.url, resolved.sha256, now
            )
            out.append(self._signed(fields, now))
        return out

    def _signed(self, fields: dict[str, Any], now: datetime) -> Companion:
        document = keys.sign_document(unsigned_document(fields, created=now), self.signer, created=now)
        return (str(fields["type"]), keys.document_id(document), keys.canonicalize(document))

    # ------------------------------------------------------------------ filing

    async def file(self, raw: bytes) -> dict[str, Any]:
        """Accept a signed attestation, mandate, revocation, rotation or recovery step."""
        obj = parse_json(raw)
        model = model_of(obj)
        kind = obj.get("type") if isinstance(obj, dict) else None
        if model is None or kind not in FILED_TYPES:
            raise InvalidDocumentError(
                f"unknown authority document type {kind!r}: one of {', '.join(sorted(FILED_TYPES))}",
                [("/type", "unknown document type")],
            )
        now = self.clock()
        accepted = await self.ledger.admit(
            raw, model, now=now, window=self.window, validate=validate_authority_document
        )
        async with self.claims.replayed():
            why = self.state.refusal(accepted.model, accepted.id)
        if why is not None:
            raise AuthorityConflict(why)
        async with self.ledger.record(accepted, str(kind), now) as appended:
            pass
        receipt = self.ledger.receipt(appended)
        return {"id": accepted.id, "type": kind, "received_at": format_timestamp(now), "log": receipt}

    # ------------------------------------------------------------------ domains

    async def verify_domain(self, body: object) -> dict[str, Any]:
        """Check that `did` controls `host` by `method`; on success append a registry-signed record."""
        did, host, method = _verification_request(body)
        if self.checker is None:
            raise VerificationFailed("this registry does not verify domains")
        try:
            evidence = await self.checker.check(did, host, method)
        except ValueError as exc:
            raise VerificationFailed(f"{method} check of {host} for {did} failed: {exc}") from None
        now = self.clock()
        fields = self._verification_fields(did, host, method, evidence.url, evidence.sha256, now)
        accepted = self._registry_accepted(DomainVerification, fields, now)
        async with self.ledger.record(accepted, "DomainVerification", now) as appended:
            pass
        return {
            "id": accepted.id,
            "verification": accepted.document,
            "log": self.ledger.receipt(appended),
        }

    def _verification_fields(
        self, did: str, host: str, method: str, url: str, sha256: str, now: datetime
    ) -> dict[str, Any]:
        domain = registrable_domain(host)
        return {
            "type": "DomainVerification",
            "registry": self.signer.did,
            "subject": did,
            "host": host,
            "scope": "domain" if domain == host else "host",
            "method": method,
            "url": url,
            "sha256": sha256,
            "checked_at": format_timestamp(now),
        }

    def _registry_accepted(
        self, model: type[SignedDocument], fields: dict[str, Any], now: datetime
    ) -> Accepted[Any]:
        document = keys.sign_document(unsigned_document(fields, created=now), self.signer, created=now)
        return Accepted(
            model=model.model_validate(document),
            document=document,
            canonical=keys.canonicalize(document),
            id=keys.document_id(document),
            author=self.signer.did,
        )

    async def recheck(self) -> list[dict[str, Any]]:
        """Re-check every verification in force; a failed one lapses (a registry-signed log entry)."""
        if self.checker is None:
            return []
        async with self.claims.replayed():
            current = sorted(self.state.verifications.values(), key=lambda v: v.log_index)
        lapses = []
        for verification in current:
            doc = verification.doc
            try:
                await self.checker.check(doc.subject, doc.host, doc.method)
                continue
            except ValueError as exc:
                reason = f"{doc.method} re-check failed: {exc}"
            now = self.clock()
            fields = {
                "type": "DomainVerificationLapse",
                "registry": self.signer.did,
                "verification": verification.id,
                "subject": doc.subject,
                "host": doc.host,
                "reason": reason[:4000],
                "checked_at": format_timestamp(now),
            }
            accepted = self._registry_accepted(DomainVerificationLapse, fields, now)
            async with self.ledger.record(accepted, "DomainVerificationLapse", now) as appended:
                pass
            lapses.append({"id": accepted.id, "verification": verification.id, "log_index": appended.index})
        return lapses

    # ------------------------------------------------------------------ reading

    async def describe(self, did: str) -> dict[str, Any]:
        """What the log says about `did`: who acts for it, its verifications, attestations, mandates."""
        async with self.claims.replayed() as tree_size:
            state = self.state
            verifications, attestations, mandates = state.about(did)
            known = (
                verifications
                or attestations
                or mandates
                or did in state.history
                or did in state.successors
                or did in state.recovery_keys
                or did in state.did_documents
                or did in state.successors.values()
            )
            if not known:
                raise NotFound(f"the log says nothing about the authority of {did}")
            return {
                "did": did,
                "tree_size": tree_size,
                "acting": state.controller(did),
                "retired": state.retired(did),
                "domain_verified": state.domain_verified(did),
                "verified_hosts": state.verified_hosts(did),
                "verifications": [
                    {"id": v.id, "log_index": v.log_index, **_public(v.doc)} for v in verifications
                ],
                "attestations": [
                    {
                        "id": a.id,
                        "log_index": a.log_index,
                        "counts": state.domain_verified(a.doc.issuer),
                        **_public(a.doc),
                    }
                    for a in attestations
                ],
                "mandates": [{"id": m.id, "log_index": m.log_index, **_public(m.doc)} for m in mandates],
                "ended": state.history.get(did, []),
                "recovery": _recovery(state, did),
            }


def _public(doc: SignedDocument) -> dict[str, Any]:
    return {k: v for k, v in doc.model_dump(exclude_none=True).items() if k not in ("proof", "nonce")}


def _recovery(state: AuthorityState, did: str) -> dict[str, Any] | None:
    designated = state.recovery_keys.get(did)
    if designated is None:
        return None
    out: dict[str, Any] = {
        "recovery_keys": list(designated.recovery_keys),
        "waiting_period_days": designated.waiting_period_days,
    }
    request = state.open_request(did)
    if request is not None:
        out["open_request"] = {
            "id": request.id,
            "by": request.doc.by,
            "successor": request.doc.successor,
            "created": request.created,
            "completes_after": format_timestamp(datetime.fromisoformat(request.created) + request.waiting),
        }
    return out


def _did_document_record(registry: str, resolved: ResolvedAuthor) -> dict[str, Any]:
    return {
        "type": "DidDocumentRecord",
        "registry": registry,
        "did": resolved.did,
        "url": resolved.url,
        "sha256": resolved.sha256,
        "document": resolved.raw.decode("utf-8"),
        "resolved_at": format_timestamp(resolved.resolved_at),
    }


def _did_web_whole_host(did: str) -> str | None:
    """The host a did:web names when it names a whole host (no path, no port), else None."""
    rest = did.removeprefix("did:web:")
    if ":" in rest or "%3A" in rest.upper():
        return None
    return rest


def _verification_request(body: object) -> tuple[str, str, Method]:
    """`{"did": …, "host": …, "method": …}`, validated, or 422 naming the field."""
    if not isinstance(body, dict):
        raise InvalidDocumentError("the body must be a JSON object", [("", "not an object")])
    extra = sorted(set(body) - {"did", "host", "method"})
    if extra:
        raise InvalidDocumentError(f"unknown field {extra[0]!r}", [(f"/{extra[0]}", "unknown field")])
    try:
        did = _DID.validate_python(body.get("did"))
    except ValidationError as exc:
        reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise InvalidDocumentError(reason, [("/did", reason)]) from None
    host = body.get("host")
    if not isinstance(host, str) or not host:
        raise InvalidDocumentError("host is required", [("/host", "required")])
    host = host.strip().lower().rstrip(".")
    if _is_ip(host) or registrable_domain(host) is None:
        detail = f"{host} has no registrable domain (a public suffix, an IP address or not a host name)"
        raise InvalidDocumentError(detail, [("/host", detail)])
    method = body.get("method", "well-known")
    if method not in METHODS:
        raise InvalidDocumentError(f"method must be one of {', '.join(METHODS)}", [("/method", "unknown")])
    return did, host, method
