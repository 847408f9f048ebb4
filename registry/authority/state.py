"""Authority as a function of the log: verifications, attestations, mandates and key successions.

`AuthorityState.apply` replays authority documents in log order; `authority_of` gives a claim's
`ClaimAuthority` at the state reached. The rules that decide whether a rotation or recovery step is
allowed (`refusal`) are the same at intake (where they give 409) and at replay (where an entry that
breaks them changes nothing), so a replayed log cannot say more than the registry accepted.

>>> state = AuthorityState()
>>> state.controller("did:key:z6MkExample")
'did:key:z6MkExample'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from registry.authority.documents import (
    Attestation,
    AttestationRevocation,
    DidDocumentRecord,
    DomainVerification,
    DomainVerificationLapse,
    KeyRotation,
    Mandate,
    MandateRevocation,
    RecoveryCompletion,
    RecoveryKeys,
    RecoveryRequest,
    RecoveryVeto,
)
from registry.authority.levels import AGENT_ASSERTED, SELF_ASSERTED, ClaimAuthority, Grant, cover_key
from registry.documents import Claim, SignedDocument, parse_timestamp
from registry.names import fold
from registry.schemes import EmbeddingId, NameId, exact_keys
from registry.vocabulary import PARENT


def identifier_keys(identifier: Any) -> list[str]:
    """The keys by which a mandate's scope or an attestation names an identifier."""
    if isinstance(identifier, NameId):
        return [f"name:{fold(identifier.value)}"]
    keys = exact_keys(identifier, query=False)
    if keys:
        return keys
    if isinstance(identifier, EmbeddingId):
        digest = hashlib.sha256(json.dumps(identifier.vector).encode()).hexdigest()
        return [f"embedding:{identifier.space}:{digest}"]
    return [f"{identifier.scheme}:{identifier.value}"]


@dataclass(frozen=True)
class ClaimFacts:
    """What authority depends on in a claim (kept per claim instead of the whole document)."""

    id: str
    claimant: str
    principal: str | None
    mandate: str | None
    kind: str
    uses: frozenset[str]
    keys: tuple[str, ...]
    agent: bool = False

    @classmethod
    def of(cls, claim_id: str, claim: Claim) -> ClaimFacts:
        behalf = claim.on_behalf_of
        return cls(
            id=claim_id,
            claimant=claim.claimant,
            principal=behalf.did if behalf else None,
            mandate=behalf.mandate if behalf else None,
            kind=claim.subject.kind,
            uses=frozenset(claim.uses),
            keys=tuple(key for i in claim.subject.identifiers for key in identifier_keys(i)),
            agent=behalf is not None,
        )

    @property
    def parties(self) -> set[str]:
        return {self.claimant} | ({self.principal} if self.principal else set())


@dataclass(frozen=True)
class _Logged:
    id: str
    log_index: int
    created: str


@dataclass(frozen=True)
class _Verification(_Logged):
    doc: DomainVerification


@dataclass(frozen=True)
class _Attestation(_Logged):
    doc: Attestation
    covers: tuple[str, ...] | None


@dataclass(frozen=True)
class _Mandate(_Logged):
    doc: Mandate
    scope_keys: tuple[str, ...] | None


@dataclass(frozen=True)
class _Request(_Logged):
    doc: RecoveryRequest
    waiting: timedelta


@dataclass
class AuthorityState:
    """Every authority fact in force at the log position reached by `apply`."""

    verifications: dict[str, _Verification] = field(default_factory=dict)
    attestations: dict[str, _Attestation] = field(default_factory=dict)
    mandates: dict[str, _Mandate] = field(default_factory=dict)
    #: Ended facts, for the notes an answer gives about what does not count (id -> why).
    ended: dict[str, str] = field(default_factory=dict)
    successors: dict[str, str] = field(default_factory=dict)
    recovery_keys: dict[str, RecoveryKeys] = field(default_factory=dict)
    requests: dict[str, _Request] = field(default_factory=dict)
    vetoed: set[str] = field(default_factory=set)
    completed: set[str] = field(default_factory=set)
    did_documents: dict[str, DidDocumentRecord] = field(default_factory=dict)
    #: DID -> ids of the verifications, attestations and mandates in force that name it.
    _involving: dict[str, set[str]] = field(default_factory=dict)
    #: DID -> the verifications, attestations and mandates naming it that no longer count, and why.
    history: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def _link(self, doc_id: str, *dids: str) -> None:
        for did in dids:
            self._involving.setdefault(did, set()).add(doc_id)

    def _end(self, doc_id: str, kind: str, reason: str, *dids: str) -> None:
        """A fact stops counting: it leaves the index of facts in force and joins each DID's history."""
        self.ended[doc_id] = reason
        for did in dids:
            self._involving.get(did, set()).discard(doc_id)
            self.history.setdefault(did, []).append({"id": doc_id, "type": kind, "ended": reason})

    def about(self, did: str) -> tuple[list[_Verification], list[_Attestation], list[_Mandate]]:
        """The verifications, attestations and mandates in force that name `did`, in log order."""
        ids = self._involving.get(did, set())
        verifications = [self.verifications[i] for i in ids if i in self.verifications]
        attestations = [self.attestations[i] for i in ids if i in self.attestations]
        mandates = [self.mandates[i] for i in ids if i in self.mandates]
        return (
            sorted(verifications, key=lambda v: v.log_index),
            sorted(attestations, key=lambda a: a.log_index),
            sorted(mandates, key=lambda m: m.log_index),
        )

    # ------------------------------------------------------------------ keys

    def controller(self, did: str) -> str:
        """The DID that now acts for `did`: itself, or the end of its chain of successors."""
        seen = {did}
        while did in self.successors:
            did = self.successors[did]
            if did in seen:  # refused at intake; a forged log must not loop us
                break
            seen.add(did)
        return did

    def retired(self, did: str) -> bool:
        """Whether `did` was rotated away or recovered from, and so may sign nothing more."""
        return did in self.successors

    def refusal(self, doc: SignedDocument, doc_id: str) -> str | None:
        """Why a key-lifecycle or revocation document breaks the rules here (None if it may apply)."""
        author = doc.author
        if self.retired(author) and not isinstance(doc, RecoveryVeto):
            return f"{author} was replaced by {self.controller(author)} and may sign nothing more"
        if isinstance(doc, KeyRotation):
            return self._successor_refusal(doc.successor)
        if isinstance(doc, RecoveryRequest):
            designated = self.recovery_keys.get(doc.did)
            if designated is None or doc.by not in designated.recovery_keys:
                return f"{doc.by} is not a recovery key of {doc.did}"
            if self.retired(doc.did):
                return f"{doc.did} was already replaced"
            if self.open_request(doc.did) is not None:
                return f"a recovery of {doc.did} is already waiting"
            return self._successor_refusal(doc.successor)
        if isinstance(doc, RecoveryVeto | RecoveryCompletion):
            request = self.requests.get(doc.request)
            if request is None:
                return f"no recovery request {doc.request}"
            if doc.request in self.vetoed or doc.request in self.completed:
                return "this recovery was already vetoed or completed"
            if isinstance(doc, RecoveryVeto):
                return None if doc.did == request.doc.did else f"only {request.doc.did} can veto"
            if doc.by not in (request.doc.by, request.doc.successor):
                return "only the requesting recovery key or the successor completes a recovery"
            ready = parse_timestamp(request.created) + request.waiting
            if parse_timestamp(doc.created) < ready:
                return f"the waiting period runs until {ready.isoformat()}; the old key can still veto"
            return self._successor_refusal(request.doc.successor)
        if isinstance(doc, MandateRevocation):
            mandate = self.mandates.get(doc.mandate)
            if mandate is None:
                return self.ended.get(doc.mandate, f"no mandate {doc.mandate} in force")
            return None if mandate.doc.principal == doc.principal else "only the principal revokes a mandate"
        if isinstance(doc, AttestationRevocation):
            attestation = self.attestations.get(doc.attestation)
            if attestation is None:
                return self.ended.get(doc.attestation, f"no attestation {doc.attestation} in force")
            return None if attestation.doc.issuer == doc.issuer else "only the issuer revokes an attestation"
        return None

    def _successor_refusal(self, successor: str) -> str | None:
        if self.retired(successor):
            return f"the successor {successor} was itself replaced"
        return None

    def open_request(self, did: str) -> _Request | None:
        for request in self.requests.values():
            if request.doc.did == did and request.id not in self.vetoed | self.completed:
                return request
        return None

    # ------------------------------------------------------------------ replay

    def apply(self, doc: SignedDocument, doc_id: str, log_index: int) -> set[str]:
        """Apply one logged document; returns the DIDs whose claims' authority may have changed."""
        if self.refusal(doc, doc_id) is not None:
            return set()
        logged: dict[str, Any] = {"id": doc_id, "log_index": log_index, "created": doc.created}
        if isinstance(doc, DidDocumentRecord):
            self.did_documents[doc.did] = doc
        elif isinstance(doc, DomainVerification):
            self.verifications[doc_id] = _Verification(**logged, doc=doc)
            self._link(doc_id, doc.subject)
            return self._touched_by_verification(doc.subject)
        elif isinstance(doc, DomainVerificationLapse):
            if self.verifications.pop(doc.verification, None) is not None:
                reason = f"lapsed at log index {log_index}: {doc.reason}"
                self._end(doc.verification, "DomainVerification", reason, doc.subject)
                return self._touched_by_verification(doc.subject)
        elif isinstance(doc, Attestation):
            covers = None
            if doc.identifiers:
                covers = tuple(key for i in doc.identifiers for key in identifier_keys(i))
            self.attestations[doc_id] = _Attestation(**logged, doc=doc, covers=covers)
            self._link(doc_id, doc.subject, doc.issuer)
            return {doc.subject}
        elif isinstance(doc, AttestationRevocation):
            attestation = self.attestations.pop(doc.attestation)
            reason = f"revoked by its issuer at log index {log_index}"
            self._end(doc.attestation, "Attestation", reason, attestation.doc.subject, attestation.doc.issuer)
            return {attestation.doc.subject}
        elif isinstance(doc, Mandate):
            scope = doc.scope.identifiers
            keys = tuple(key for i in scope for key in identifier_keys(i)) if scope else None
            self.mandates[doc_id] = _Mandate(**logged, doc=doc, scope_keys=keys)
            self._link(doc_id, doc.principal, doc.agent)
            return {doc.principal}
        elif isinstance(doc, MandateRevocation):
            mandate = self.mandates.pop(doc.mandate)
            reason = f"revoked by the principal at log index {log_index}"
            self._end(doc.mandate, "Mandate", reason, mandate.doc.principal, mandate.doc.agent)
            return {mandate.doc.principal}
        elif isinstance(doc, KeyRotation):
            self.successors[doc.did] = doc.successor
        elif isinstance(doc, RecoveryKeys):
            self.recovery_keys[doc.did] = doc
        elif isinstance(doc, RecoveryRequest):
            waiting = timedelta(days=self.recovery_keys[doc.did].waiting_period_days)
            self.requests[doc_id] = _Request(**logged, doc=doc, waiting=waiting)
        elif isinstance(doc, RecoveryVeto):
            self.vetoed.add(doc.request)
        elif isinstance(doc, RecoveryCompletion):
            self.completed.add(doc.request)
            request = self.requests[doc.request].doc
            self.successors[request.did] = request.successor
        return set()

    def _touched_by_verification(self, did: str) -> set[str]:
        """The DID itself, and everyone it attested (an attestation counts while its issuer is verified)."""
        return {did} | {a.doc.subject for a in self.about(did)[1] if a.doc.issuer == did}

    # ------------------------------------------------------------------ answers

    def domain_verified(self, did: str) -> bool:
        return bool(self.about(did)[0])

    def verified_hosts(self, did: str) -> list[str]:
        """The hosts `did` holds verifications for (`.domain` when they cover the registrable domain)."""
        return sorted({_cover(v.doc) for v in self.about(did)[0]})

    def authority_of(self, claim: ClaimFacts) -> ClaimAuthority:
        """The claim's authority at this state: base, grants in force and notes on what does not count."""
        grants: list[Grant] = []
        notes: list[str] = []
        person = claim.claimant
        if claim.agent:
            mandate, why = self._mandate_for(claim)
            if mandate is None:
                notes.append(why)
            else:
                person = mandate.doc.principal
                grants.append(
                    Grant(
                        "mandated",
                        mandate.doc.principal,
                        "mandate",
                        mandate.id,
                        mandate.log_index,
                        mandate.created,
                        valid_from=mandate.doc.valid_from,
                        valid_until=mandate.doc.valid_until,
                    )
                )
        verifications, attestations, _ = self.about(person)
        for verification in verifications:
            grants.append(
                Grant(
                    "domain-verified",
                    verification.doc.registry,
                    verification.doc.method,
                    verification.id,
                    verification.log_index,
                    verification.doc.checked_at,
                    covers=(_cover(verification.doc),),
                )
            )
        for attestation in attestations:
            if attestation.doc.subject != person:
                continue
            if not self.domain_verified(attestation.doc.issuer):
                notes.append(
                    f"attestation {attestation.id[:16]}… by {attestation.doc.issuer} does not count: "
                    "its issuer holds no domain verification"
                )
                continue
            grants.append(
                Grant(
                    "attested",
                    attestation.doc.issuer,
                    f"attestation:{attestation.doc.statement}",
                    attestation.id,
                    attestation.log_index,
                    attestation.created,
                    covers=attestation.covers,
                    valid_from=attestation.doc.valid_from,
                    valid_until=attestation.doc.valid_until,
                )
            )
        if not grants and not notes:
            return AGENT_ASSERTED if claim.agent else SELF_ASSERTED
        return ClaimAuthority(
            "agent-asserted" if claim.agent else "self-asserted", tuple(grants), tuple(notes)
        )

    def _mandate_for(self, claim: ClaimFacts) -> tuple[_Mandate | None, str]:
        """The mandate that covers an agent's claim, or None and why none does."""
        if claim.principal is None:
            return None, "the claim names no principal DID, so no mandate can cover it"
        if claim.mandate is not None:
            mandate = self.mandates.get(claim.mandate)
            if mandate is None:
                ended = self.ended.get(claim.mandate)
                return None, f"mandate {claim.mandate[:16]}… " + (ended or "is not in the log")
            candidates = [mandate]
        else:
            candidates = [m for m in self.about(claim.principal)[2] if m.doc.principal == claim.principal]
            if not candidates:
                return None, f"{claim.principal} has given {claim.claimant} no mandate"
        why = ""
        for mandate in sorted(candidates, key=lambda m: m.log_index):
            why = _outside(mandate, claim)
            if not why:
                return mandate, ""
        return None, f"mandate {candidates[-1].id[:16]}… does not count: {why}"


def _cover(doc: DomainVerification) -> str:
    return f".{doc.host}" if doc.scope == "domain" else doc.host


def _outside(mandate: _Mandate, claim: ClaimFacts) -> str:
    """Why the claim lies outside the mandate ('' when it lies within)."""
    doc = mandate.doc
    if doc.principal != claim.principal:
        return f"it was given by {doc.principal}, not by the claim's principal {claim.principal}"
    if doc.agent != claim.claimant:
        return f"it names the agent {doc.agent}, not {claim.claimant}"
    scope = doc.scope
    if scope.kinds is not None and claim.kind not in scope.kinds:
        return f"it covers {', '.join(scope.kinds)}, not {claim.kind}"
    if scope.uses is not None:
        allowed = set(scope.uses)
        parents = {str(child): str(parent) for child, parent in PARENT.items()}
        beyond = sorted(use for use in claim.uses if use not in allowed and parents.get(use) not in allowed)
        if beyond:
            return f"it does not cover the uses {', '.join(beyond)}"
    if mandate.scope_keys is not None:
        beyond = [key for key in claim.keys if not _within(key, mandate.scope_keys)]
        if beyond:
            return f"it does not cover {beyond[0]}"
    return ""


def _within(key: str, scope: Iterable[str]) -> bool:
    """A claim key inside a scope: equal, or for URLs, on the same host or below and under its path."""
    if key in scope:
        return True
    if not key.startswith("url:"):
        return False
    host, _, path = key[4:].partition("/")
    for allowed in scope:
        if not allowed.startswith("url:"):
            continue
        scope_host, _, scope_path = allowed[4:].partition("/")
        if (host == scope_host or host.endswith("." + scope_host)) and path.startswith(scope_path):
            return True
    return False


def parse_model(obj: Mapping[str, Any], models: Mapping[str, type[SignedDocument]]) -> SignedDocument | None:
    """A logged document as its model, or None when it is not one of `models`."""
    model = models.get(str(obj.get("type")))
    return model.model_validate(obj) if model is not None else None


__all__ = ["AuthorityState", "ClaimFacts", "cover_key", "identifier_keys", "parse_model"]
