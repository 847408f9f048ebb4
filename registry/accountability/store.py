"""The registry's side of operator accountability: intake of disclosures, manifests, authority
designations, information requests and answers, and the records served from the log.

Every accepted document is appended to the transparency log like any other (`registry.ledger`);
the records are computed from the log alone (`registry.accountability.record` over a `Replay`
kept caught up with the shared log, as `registry.store.ClaimStore` keeps its index), so what is
served is what anyone replaying the tiles computes. The filing rules checked here are the ones the
replay applies again; what depends on the log (is the author a registered operator, a designated
authority, the operator a request was sent to) is checked on a replay caught up to the log; what
can be taken away (a designation, a domain verification) is looked for again inside the append's
transaction, among the entries logged since, so a designation revoked meanwhile is not missed.

Refusals (problem+json): `not-an-operator` 403 (a disclosure by a DID that never registered),
`not-an-authority` 403 (a request by a DID the administrator has not designated, or whose domain
verification lapsed), `wrong-party` 403 (an answer by anyone but the operator addressed),
`invalid-manifest` 422 and `snapshot-not-in-log` 422 (`registry.accountability.manifests`), and the
intake refusals every document meets (wrong signer, proof, clock window, nonce). Nothing changes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import keys
from registry.accountability.documents import (
    AuthorityDesignation,
    Disclosure,
    InformationAnswer,
    InformationRequest,
    ManifestRecord,
    validate_accountability_document,
)
from registry.accountability.manifests import check_in_log, record_fields, verify_manifest
from registry.accountability.models import ManifestRow
from registry.accountability.record import Sort, disclosure_entry, operator_record, ranking, request_entry
from registry.accountability.replay import Replay
from registry.documents import SignedDocument, format_timestamp, unsigned_document
from registry.errors import InvalidDocumentError, NotFound, RegistryError
from registry.intake import Accepted, ClockWindow, parse_json
from registry.ledger import Ledger, is_document_id
from registry.log import TransparencyLog
from registry.models import LogEntry
from registry.notices.deadlines import DeadlineConfig
from registry.notices.lifecycle import WrongParty

T = TypeVar("T", bound=SignedDocument)
REPLAY_CHUNK = 2_000


class NotAnOperator(RegistryError):
    status, slug, title = 403, "not-an-operator", "Only a registered operator may do this"


class NotAnAuthority(RegistryError):
    status, slug, title = 403, "not-an-authority", "Only a designated authority may do this"


class NotDesignable(RegistryError):
    status, slug, title = 409, "not-designable", "This DID cannot be designated as an authority"


class Meanwhile(RegistryError):
    status, slug, title = 409, "changed-meanwhile", "What this depends on changed meanwhile; try again"


class _Recorded(RegistryError):
    status, slug, title = 409, "already-recorded", "This manifest was recorded before"


def _utcnow() -> datetime:
    return datetime.now(UTC)


_WATCHED = ("AuthorityDesignation", "DomainVerificationLapse")


async def _named_since(start: int, end: int, did: str) -> bool:
    """Whether an entry in [start, end) (re)designates `did` or lapses its domain verification, which
    can take an authority's right away (read in the caller's transaction; the registry-signed records
    appended just before a did:web author's document are neither)."""
    rows = await LogEntry.filter(index__gte=start, index__lt=end, kind__in=_WATCHED).values_list(
        "entry", flat=True
    )
    return any(json.loads(bytes(entry)).get("subject") == did for entry in rows)


class AccountabilityStore:
    """Intake and records; the clock is a parameter (tests never sleep)."""

    def __init__(
        self,
        log: TransparencyLog,
        signer: keys.SigningKey,
        *,
        clock: Callable[[], datetime] = _utcnow,
        window: ClockWindow | None = None,
        deadlines: DeadlineConfig | None = None,
    ) -> None:
        self.log = log
        self.signer = signer
        self.ledger = Ledger(log, signer)
        self.clock = clock
        self.window = window or ClockWindow()
        self.deadlines = deadlines or DeadlineConfig()
        self.replay = Replay(signer.did)
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ the replay

    async def catch_up(self, upto: int | None = None) -> int:
        """Replay the log entries not seen yet (up to index `upto`, exclusive); the position reached."""
        while upto is None or self.replay.position < upto:
            query = LogEntry.filter(index__gte=self.replay.position)
            if upto is not None:
                query = query.filter(index__lt=upto)
            rows = await query.order_by("index").limit(REPLAY_CHUNK).values_list("index", "entry")
            for index, entry in rows:
                self.replay.apply(int(str(index)), bytes(entry))
            if len(rows) < REPLAY_CHUNK:
                break
        return self.replay.position

    @asynccontextmanager
    async def replayed(self, upto: int | None = None) -> AsyncIterator[Replay]:
        """The replay, held caught up with the log (to `upto`) while the body reads it."""
        async with self._lock:
            await self.catch_up(upto)
            yield self.replay

    def _now(self, at: datetime | None = None) -> datetime:
        """Deadlines are judged in whole seconds, the precision `computed_at` is written in, so that
        anyone recomputing at `computed_at` judges them at the same moment."""
        return (at or self.clock()).astimezone(UTC).replace(microsecond=0)

    async def _admit(self, raw: bytes, model: type[T], now: datetime) -> Accepted[T]:
        return await self.ledger.admit(
            raw, model, now=now, window=self.window, validate=validate_accountability_document
        )

    def _registry_accepted(self, model: type[T], fields: dict[str, Any], now: datetime) -> Accepted[T]:
        document = keys.sign_document(unsigned_document(fields, created=now), self.signer, created=now)
        return Accepted(
            model=model.model_validate(document),
            document=document,
            canonical=keys.canonicalize(document),
            id=keys.document_id(document),
            author=self.signer.did,
        )

    async def _append(
        self,
        accepted: Accepted[Any],
        kind: str,
        now: datetime,
        rule: Callable[[Replay], None],
        watch: str | None = None,
    ) -> dict[str, Any]:
        """`rule` (raising the refusal) on the caught-up replay, then the append; the receipt.

        With `watch` (a DID whose designation or domain verification the rule relies on), the
        entries logged between the check and the append are read inside the append's transaction,
        and a designation or lapse naming `watch` refuses it (409 `changed-meanwhile`, try again):
        the rule is never applied to a state that changed meanwhile. (The shared replay is not
        caught up inside the transaction: on SQLite a reader waiting for the connection would hold
        its lock, and the two would wait for each other.)"""
        async with self.replayed() as replay:
            rule(replay)
            checked = replay.position
        async with self.ledger.record(accepted, kind, now) as appended:
            if watch is not None and await _named_since(checked, appended.index, watch):
                raise Meanwhile(
                    f"the designation or domain verification of {watch} changed meanwhile: try again"
                )
        return self.ledger.receipt(appended)

    # ------------------------------------------------------------------ disclosures

    async def file_disclosure(self, raw: bytes) -> dict[str, Any]:
        """Accept an operator's signed disclosure (403 `not-an-operator` unless it registered)."""
        now = self.clock()
        accepted = await self._admit(raw, Disclosure, now)
        disclosure = accepted.model

        def registered(replay: Replay) -> None:
            if disclosure.operator not in replay.registrations:
                raise NotAnOperator(
                    f"{disclosure.operator} has not registered as an operator: register first "
                    "(POST /v1/operators, kotowari notice register), then disclose",
                    [("/operator", "not a registered operator")],
                )

        async with self.replayed() as replay:
            subject = (disclosure.operator, disclosure.subject.kind, disclosure.subject.id)
            supersedes = replay.current.get(subject)
        receipt = await self._append(accepted, "Disclosure", now, registered)
        return {
            "id": accepted.id,
            "operator": disclosure.operator,
            "subject": accepted.document["subject"],
            "supersedes": supersedes,
            "received_at": format_timestamp(now),
            "log": receipt,
        }

    async def get_disclosure(self, disclosure_id: str) -> dict[str, Any]:
        async with self.replayed() as replay:
            if disclosure_id not in replay.disclosures:
                raise NotFound(f"no disclosure with id {disclosure_id}")
            return {
                "operator": replay.disclosures[disclosure_id].operator,
                **disclosure_entry(replay, disclosure_id),
            }

    # ------------------------------------------------------------------ manifests

    async def submit_manifest(self, raw: bytes) -> tuple[dict[str, Any], bool]:
        """Verify a compliance manifest and record it (the answer, and whether it is new)."""
        document = parse_json(raw)
        manifest = verify_manifest(document)
        sha256 = manifest.sha256
        if await ManifestRow.get_or_none(sha256=sha256) is None:
            size = await self.log.size()
            tree_size = manifest.state.tree_size
            root = await self.log.root(tree_size) if tree_size <= size else None
            check_in_log(
                manifest.state, registry=self.signer.did, origin=self.log.origin, size=size, root=root
            )
            now = self.clock()
            accepted = self._registry_accepted(ManifestRecord, record_fields(manifest, self.signer.did), now)
            try:
                async with self.ledger.record(
                    accepted, "ManifestRecord", now, otherwise=_Recorded("")
                ) as appended:
                    await ManifestRow.create(
                        sha256=sha256,
                        record_id=accepted.id,
                        document=keys.canonicalize(document).decode("utf-8"),
                        received_at=now,
                        log_index=appended.index,
                    )
                return {**await self.get_manifest(sha256), "log": self.ledger.receipt(appended)}, True
            except _Recorded:
                pass  # recorded meanwhile by another request
        return {**await self.get_manifest(sha256), "already_recorded": True}, False

    async def get_manifest(self, sha256: str) -> dict[str, Any]:
        """A recorded manifest, its record, and the disclosures that rely on it."""
        row = await ManifestRow.get_or_none(sha256=sha256) if is_document_id(sha256) else None
        if row is None:
            raise NotFound(f"no manifest with SHA-256 {sha256} was submitted")
        record = await LogEntry.get(index=row.log_index)
        async with self.replayed() as replay:
            linked = [
                {
                    "id": fact.id,
                    "operator": fact.operator,
                    "subject": fact.document["subject"],
                    "current": fact.superseded_by is None,
                }
                for fact in replay.disclosures.values()
                if any(ref["id"] == sha256 for ref in fact.document["training_data"].get("manifests", []))
            ]
        return {
            "sha256": sha256,
            "record": {
                "id": row.record_id,
                "log_index": row.log_index,
                "document": json.loads(bytes(record.entry)),
            },
            "manifest": json.loads(row.document),
            "disclosures": linked,
        }

    # ------------------------------------------------------------------ authorities

    async def designate(
        self,
        did: str,
        name: str | None,
        *,
        host: str | None = None,
        revoke: bool = False,
        reference: str | None = None,
    ) -> dict[str, Any]:
        """The administrator's designation of a domain-verified organisation (or its revocation)."""
        now = self.clock()
        async with self.replayed() as replay:
            hosts = [h.lstrip(".") for h in replay.authority.verified_hosts(did)]
            current = replay.designations.get(did)
        if revoke:
            if current is None or current.status != "designated":
                raise NotDesignable(f"{did} is not a designated authority")
            host, name = current.host, name or current.name
        elif not hosts:
            raise NotDesignable(
                f"{did} holds no domain verification: verify its domain first (kotowari domain verify)"
            )
        elif host is None:
            host = hosts[0]
        elif host.lower().lstrip(".") not in hosts:
            raise NotDesignable(f"{did} is verified for {', '.join(hosts)}, not for {host}")
        if not name:
            raise NotDesignable("an authority is designated under its name")
        fields = {
            "type": "AuthorityDesignation",
            "registry": self.signer.did,
            "subject": did,
            "name": name,
            "host": host.lower().lstrip("."),
            "status": "revoked" if revoke else "designated",
        }
        if reference:
            fields["reference"] = reference
        accepted = self._registry_accepted(AuthorityDesignation, fields, now)

        def allowed(replay: Replay) -> None:
            if not revoke and not replay.authority.domain_verified(did):
                raise NotDesignable(f"{did}'s domain verification lapsed meanwhile")

        receipt = await self._append(accepted, "AuthorityDesignation", now, allowed, watch=did)
        return {"id": accepted.id, "designation": accepted.document, "log": receipt}

    async def authorities(self) -> dict[str, Any]:
        """Every designation in force, with whether the authority is still domain-verified."""
        async with self.replayed() as replay:
            return {
                "tree_size": replay.position,
                "authorities": [
                    {
                        "did": d.subject,
                        "name": d.name,
                        "host": d.host,
                        "designation": {"id": d.id, "log_index": d.index},
                        "domain_verified": replay.authority.domain_verified(d.subject),
                        "may_request": replay.is_authority(d.subject),
                    }
                    for d in sorted(replay.designations.values(), key=lambda d: d.index)
                    if d.status == "designated"
                ],
            }

    # ------------------------------------------------------------------ information requests

    async def file_request(self, raw: bytes) -> dict[str, Any]:
        """Accept an authority's signed information request (403 `not-an-authority` otherwise)."""
        now = self.clock()
        accepted = await self._admit(raw, InformationRequest, now)
        request = accepted.model

        def authority(replay: Replay) -> None:
            if not replay.is_authority(request.authority):
                raise NotAnAuthority(
                    f"{request.authority} is not an authority this registry's administrator designated "
                    "(or its domain verification lapsed): only a designated authority may send requests",
                    [("/authority", "not a designated authority")],
                )

        receipt = await self._append(accepted, "InformationRequest", now, authority, watch=request.authority)
        return {
            "id": accepted.id,
            "operator": request.operator,
            "deadline": request.deadline,
            "received_at": format_timestamp(now),
            "log": receipt,
        }

    async def get_request(self, request_id: str) -> dict[str, Any]:
        async with self.replayed() as replay:
            request = replay.requests.get(request_id)
            if request is None:
                raise NotFound(f"no information request with id {request_id}")
            return {"operator": request.operator, **request_entry(replay, request, self._now())}

    async def answer_request(self, request_id: str, raw: bytes) -> dict[str, Any]:
        """Accept the addressed operator's signed answer (403 `wrong-party` for anyone else)."""
        now = self.clock()
        accepted = await self._admit(raw, InformationAnswer, now)
        answer = accepted.model
        if answer.request != request_id:
            raise InvalidDocumentError(
                f"the answer names request {answer.request}, but was sent for {request_id}",
                [("/request", "does not match the request in the path")],
            )

        def addressed(replay: Replay) -> None:
            request = replay.requests.get(request_id)
            if request is None:
                raise NotFound(f"no information request with id {request_id}")
            if answer.operator not in (request.operator, replay.authority.controller(request.operator)):
                raise WrongParty(
                    f"request {request_id} was sent to {request.operator}; only it answers",
                    [("/operator", "not the operator addressed")],
                )

        receipt = await self._append(accepted, "InformationAnswer", now, addressed)
        async with self.replayed() as replay:
            deadline = replay.requests[request_id].deadline
        return {
            "id": accepted.id,
            "request": request_id,
            "received_at": format_timestamp(now),
            "deadline": format_timestamp(deadline),
            "log": receipt,
        }

    # ------------------------------------------------------------------ records

    async def record(self, did: str, at: datetime | None = None, *, known: bool = False) -> dict[str, Any]:
        """The public record of `did` (`known`: 404 unless the log speaks of it as an operator)."""
        now = self._now(at)
        async with self.replayed() as replay:
            if known and did not in replay.operators():
                raise NotFound(f"the log holds nothing about {did} as an operator")
            return operator_record(replay, did, now=now, deadlines=self.deadlines)

    async def ranking(self, sort: Sort = "overdue", at: datetime | None = None) -> dict[str, Any]:
        now = self._now(at)
        async with self.replayed() as replay:
            return ranking(replay, now=now, sort=sort, deadlines=self.deadlines)
