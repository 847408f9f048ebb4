"""The log replayed into the facts an operator's public record is made of.

Pure: `Replay.apply` takes log entries in order — exactly the bytes `/log/tile/entries/…` serves —
and nothing else, so anyone holding the log computes the same facts the registry serves
(`registry.accountability.record` turns them into records, a ranking and exports). Entries are
expected to have passed `registry.entry_check` (signatures); the filing rules the registry applied
at intake are applied again here, and an entry that breaks one changes nothing (it is listed in
`refused`), so a replayed log cannot say more than the registry accepted.

Time is *log time*: the latest `created` signed in any entry at or before this one. Each document's
`created` is its author's word, bounded by the registry's clock window at intake; taking the
running maximum means a document backdated within that window is never earlier than what the log
already holds, so an operator cannot answer "in time" by signing an old timestamp.

>>> replay = Replay("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
>>> replay.position, replay.root(0) == merkle.EMPTY_ROOT
(0, True)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from keys import merkle
from registry.accountability.documents import (
    AuthorityDesignation,
    Disclosure,
    InformationAnswer,
    InformationRequest,
    ManifestRecord,
)
from registry.authority.documents import AUTHORITY_DOCUMENT_TYPES
from registry.authority.state import AuthorityState, identifier_keys, parse_model
from registry.documents import parse_timestamp
from registry.errors import RegistryError
from registry.notices.documents import Notice, NoticeResponse, OperatorRegistration
from registry.notices.lifecycle import STEPS, Party, transition

__all__ = ["AnswerFact", "DisclosureFact", "NoticeFact", "Replay", "RequestFact", "Step"]


@dataclass
class Registration:
    """An operator's latest registration, and when it first registered."""

    did: str
    name: str
    id: str
    index: int
    at: datetime
    first_index: int
    first_at: datetime


@dataclass(frozen=True)
class Step:
    """One logged lifecycle step of a notice (or an answer to a request)."""

    id: str
    index: int
    at: datetime
    action: str
    by: str
    statement: str | None = None
    actions_taken: tuple[str, ...] = ()


@dataclass
class NoticeFact:
    """A notice, and what its logged steps say happened to it."""

    id: str
    index: int
    at: datetime
    notifier: str
    operator: str
    regimes: tuple[str, ...]
    keys: frozenset[str]
    models: tuple[str, ...]
    state: str = "filed"
    steps: list[Step] = field(default_factory=list)
    acknowledged_at: datetime | None = None
    decided_at: datetime | None = None
    actioned: Step | None = None
    counter_noticed_at: datetime | None = None
    restored_at: datetime | None = None
    upheld_at: datetime | None = None

    @property
    def upheld(self) -> bool:
        """Acted upon and not restored after a counter-notice, or upheld: the notifier was found right."""
        return (self.actioned is not None and self.restored_at is None) or self.upheld_at is not None


@dataclass
class DisclosureFact:
    id: str
    index: int
    at: datetime
    operator: str
    subject: tuple[str, str]
    document: dict[str, Any]
    supersedes: str | None = None
    superseded_by: str | None = None


@dataclass
class RequestFact:
    id: str
    index: int
    at: datetime
    authority: str
    operator: str
    deadline: datetime
    document: dict[str, Any]
    answers: list[AnswerFact] = field(default_factory=list)


@dataclass(frozen=True)
class AnswerFact:
    id: str
    index: int
    at: datetime
    document: dict[str, Any]


@dataclass
class Designation:
    id: str
    index: int
    at: datetime
    subject: str
    name: str
    host: str
    status: str


class Replay:
    """Every fact of the records at the log position reached (`position`), for registry `registry`."""

    def __init__(self, registry: str) -> None:
        self.registry = registry
        self.position = 0
        self.clock: datetime | None = None
        self.authority = AuthorityState()
        self.registrations: dict[str, Registration] = {}
        self.notices: dict[str, NoticeFact] = {}
        self.notices_to: dict[str, list[str]] = {}
        self.disclosures: dict[str, DisclosureFact] = {}
        self.disclosures_by: dict[str, list[str]] = {}
        self.current: dict[tuple[str, str, str], str] = {}
        self.manifests: dict[str, tuple[str, int, datetime, dict[str, Any]]] = {}
        self.designations: dict[str, Designation] = {}
        self.designation_log: list[Designation] = []
        self.requests: dict[str, RequestFact] = {}
        self.requests_to: dict[str, list[str]] = {}
        #: (log index, why) of entries that broke a filing rule and so changed nothing here.
        self.refused: list[tuple[int, str]] = []
        self._leaves: list[bytes] = []
        self._roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}

    # ------------------------------------------------------------------ the log

    def root(self, size: int) -> bytes | None:
        """The RFC 9162 root of the first `size` entries (None beyond the log)."""
        if size < 0 or size > len(self._leaves):
            return None
        if size not in self._roots:
            self._roots[size] = merkle.root_from_leaf_hashes(self._leaves[:size])
        return self._roots[size]

    def is_authority(self, did: str) -> bool:
        """Designated by the registry's administrator and domain-verified, at this position."""
        designation = self.designations.get(did)
        return (
            designation is not None
            and designation.status == "designated"
            and self.authority.domain_verified(did)
        )

    def operators(self) -> set[str]:
        """Every DID the record speaks of as an operator: registered, sent notices or requests."""
        return (
            set(self.registrations) | set(self.notices_to) | set(self.requests_to) | set(self.disclosures_by)
        )

    # ------------------------------------------------------------------ replay

    def apply(self, index: int, entry: bytes) -> None:
        """Replay log entry `index` (which must be the next one)."""
        if index != self.position:
            raise ValueError(f"log entry {index} applied at position {self.position}")
        self._leaves.append(merkle.leaf_hash(entry))
        self.position += 1
        try:
            document = json.loads(entry)
        except ValueError:
            self.refused.append((index, "not JSON"))
            return
        if not isinstance(document, dict):
            self.refused.append((index, "not a document"))
            return
        try:
            created = parse_timestamp(str(document.get("created")))
        except ValueError:
            self.refused.append((index, "no created time"))
            return
        self.clock = created if self.clock is None else max(self.clock, created)
        identifier = hashlib.sha256(entry).hexdigest()
        try:
            why = self._apply(str(document.get("type")), document, identifier, index, self.clock)
        except (ValidationError, RegistryError, KeyError, ValueError) as exc:
            why = f"does not replay: {exc}"
        if why:
            self.refused.append((index, why))

    def _apply(
        self, kind: str, document: dict[str, Any], doc_id: str, index: int, at: datetime
    ) -> str | None:
        if kind in AUTHORITY_DOCUMENT_TYPES:
            model = parse_model(document, AUTHORITY_DOCUMENT_TYPES)
            if model is not None:
                self.authority.apply(model, doc_id, index)
            return None
        handler = _HANDLERS.get(kind)
        return handler(self, document, doc_id, index, at) if handler is not None else None

    def _registration(self, document: dict[str, Any], doc_id: str, index: int, at: datetime) -> str | None:
        registration = OperatorRegistration.model_validate(document)
        did = registration.operator
        earlier = self.registrations.get(did)
        first = (earlier.first_index, earlier.first_at) if earlier else (index, at)
        self.registrations[did] = Registration(did, registration.name, doc_id, index, at, *first)
        return None

    def _notice(self, document: dict[str, Any], doc_id: str, index: int, at: datetime) -> str | None:
        notice = Notice.model_validate(document)
        keys = {key for identifier in notice.subject.identifiers for key in identifier_keys(identifier)}
        keys |= {f"claim:{claim}" for claim in notice.subject.claims}
        models = tuple(dict.fromkeys(loc.value for loc in notice.material.locations if loc.kind == "model"))
        fact = NoticeFact(
            doc_id,
            index,
            at,
            notice.notifier,
            notice.operator,
            tuple(notice.regimes),
            frozenset(keys),
            models,
        )
        self.notices[doc_id] = fact
        self.notices_to.setdefault(notice.operator, []).append(doc_id)
        return None

    def _response(self, document: dict[str, Any], doc_id: str, index: int, at: datetime) -> str | None:
        response = NoticeResponse.model_validate(document)
        notice = self.notices.get(response.notice)
        if notice is None:
            return f"a step on notice {response.notice}, which is not in the log before it"
        party = self._party(notice, response.by, response.action)
        notice.state = transition(notice.state, response.action, party)
        step = Step(
            doc_id,
            index,
            at,
            response.action,
            response.by,
            response.statement,
            tuple(response.actions_taken or ()),
        )
        notice.steps.append(step)
        action = response.action
        if action == "acknowledge":
            notice.acknowledged_at = at
        elif action in ("action", "reject"):
            notice.decided_at = at
            notice.actioned = step if action == "action" else None
        elif action == "counter-notice":
            notice.counter_noticed_at = at
        elif action == "restore":
            notice.restored_at = at
        elif action == "uphold":
            notice.upheld_at = at
        return None

    def _party(self, notice: NoticeFact, author: str, action: str) -> Party | None:
        """As the registry decided it: the registry, the operator (or its key's successor), the notifier."""
        parties: list[Party] = []
        if author == self.registry:
            parties.append("registry")
        if author in (notice.operator, self.authority.controller(notice.operator)):
            parties.append("operator")
        if author in (notice.notifier, self.authority.controller(notice.notifier)):
            parties.append("notifier")
        step = STEPS.get(action)
        for party in parties:
            if step is not None and party in step.parties:
                return party
        return parties[0] if parties else None

    def _disclosure(self, document: dict[str, Any], doc_id: str, index: int, at: datetime) -> str | None:
        disclosure = Disclosure.model_validate(document)
        operator = disclosure.operator
        if operator not in self.registrations:
            return f"a disclosure by {operator}, which has not registered as an operator"
        key = (operator, disclosure.subject.kind, disclosure.subject.id)
        earlier = self.current.get(key)
        fact = DisclosureFact(doc_id, index, at, operator, key[1:], document, supersedes=earlier)
        if earlier is not None:
            self.disclosures[earlier].superseded_by = doc_id
        self.current[key] = doc_id
        self.disclosures[doc_id] = fact
        self.disclosures_by.setdefault(operator, []).append(doc_id)
        return None

    def _manifest(self, document: dict[str, Any], doc_id: str, index: int, at: datetime) -> str | None:
        record = ManifestRecord.model_validate(document)
        if record.registry != self.registry:
            return "a manifest record not signed by this registry"
        if record.manifest in self.manifests:
            return f"manifest {record.manifest} was recorded before"
        self.manifests[record.manifest] = (doc_id, index, at, document)
        return None

    def _designation(self, document: dict[str, Any], doc_id: str, index: int, at: datetime) -> str | None:
        designation = AuthorityDesignation.model_validate(document)
        if designation.registry != self.registry:
            return "an authority designation not signed by this registry"
        subject = designation.subject
        if designation.status == "designated" and not self.authority.domain_verified(subject):
            return f"{subject} is not domain-verified, so it cannot be designated"
        fact = Designation(doc_id, index, at, subject, designation.name, designation.host, designation.status)
        self.designations[subject] = fact
        self.designation_log.append(fact)
        return None

    def _request(self, document: dict[str, Any], doc_id: str, index: int, at: datetime) -> str | None:
        request = InformationRequest.model_validate(document)
        if not self.is_authority(request.authority):
            return f"{request.authority} is not a designated, domain-verified authority"
        deadline = parse_timestamp(request.deadline)
        fact = RequestFact(doc_id, index, at, request.authority, request.operator, deadline, document)
        self.requests[doc_id] = fact
        self.requests_to.setdefault(request.operator, []).append(doc_id)
        return None

    def _answer(self, document: dict[str, Any], doc_id: str, index: int, at: datetime) -> str | None:
        answer = InformationAnswer.model_validate(document)
        request = self.requests.get(answer.request)
        if request is None:
            return f"an answer to request {answer.request}, which is not in the log before it"
        if answer.operator not in (request.operator, self.authority.controller(request.operator)):
            return f"{answer.operator} is not the operator the request was sent to"
        request.answers.append(AnswerFact(doc_id, index, at, document))
        return None


_HANDLERS = {
    "OperatorRegistration": Replay._registration,
    "Notice": Replay._notice,
    "NoticeResponse": Replay._response,
    "Disclosure": Replay._disclosure,
    "ManifestRecord": Replay._manifest,
    "AuthorityDesignation": Replay._designation,
    "InformationRequest": Replay._request,
    "InformationAnswer": Replay._answer,
}
