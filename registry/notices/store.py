"""Takedown notices in the database: register operators, file notices, take lifecycle steps, read
inboxes, compute per-operator statistics, open disputes between claimants.

Like `registry.store.ClaimStore`, every accepted document (registration, notice, response, dispute,
and the registry's own signed `deliver`/`remind` events) is appended to the transparency log in the
same transaction as the state change it causes, so a step and its log entry commit or vanish
together. A notice's `version` column is bumped by every step and a step only commits against the
version it read, so two concurrent steps on one notice cannot both win (the loser gets a 409).

A notice for an operator that has not registered is accepted and held undelivered; it is delivered
as soon as the operator registers with a webhook (or pulls its inbox and acknowledges).

Operators and their names. An operator (a `did:key` or a `did:web`) is *domain-verified* while the
log holds a registry-signed domain verification for its DID (a `did:web` on a whole host gets one
with its first accepted document, the registration included). A domain-verified operator's name is
its own: a registration, new or updated, by any other DID whose name folds to the same key
(`registry.notices.operator_name_key`) is refused with 409 `operator-name-taken` and changes
nothing. A domain-verified operator may take a name an unverified operator already uses: the older
registration stays, and every listing marks it `name_disputed`, naming the verified holder in
`name_held_by`; it must pick another name to register again. Should two verified operators come to
share a name (one's verification lapsed while the other took it, then it was verified again), both
are marked `name_disputed` and neither holds it. Every listing (notice envelopes, inboxes,
statistics, the portal) gives each operator's `operator_profile`: `authority` (`domain-verified` or
`self-asserted`), `domain` (the verified domain, or `"unverified"`), `verified_hosts`, and the
dispute marks; lists put verified operators first. Authority is read from the claim store's replayed
log (`NoticeStore.claims`, set by the application); without it every operator is self-asserted.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from pydantic import TypeAdapter, ValidationError
from tortoise.expressions import Q

import keys
from registry.documents import Did, format_timestamp
from registry.errors import InvalidDocumentError, InvalidParameter, NameTaken, NotClaimant, NotFound
from registry.intake import Accepted, ClockWindow
from registry.ledger import Ledger, is_document_id
from registry.log import TransparencyLog
from registry.models import ClaimRecord, LogEntry
from registry.notices import exports as notice_exports
from registry.notices.deadlines import DeadlineConfig, Schedule, refuse_early_restore, schedule
from registry.notices.documents import (
    Dispute,
    Notice,
    NoticeResponse,
    OperatorRegistration,
    missing_elements,
    new_response,
    operator_name_key,
    validate_notice_document,
)
from registry.notices.lifecycle import OPEN_STATES, IllegalTransition, Party, transition
from registry.notices.mail import Change
from registry.notices.models import (
    DisputeRecord,
    NoticeEventRecord,
    NoticeRecord,
    OperatorRecord,
    WebhookAttempt,
)
from registry.notices.privacy import Admitted, NoticePrivacy
from registry.notices.webhooks import sent_url
from registry.operators import (
    Verified,
    export_name,
    listing_order,
    operator_profiles,
)
from registry.privacy.personal import PERSONAL_FIELDS
from registry.privacy.store import PersonalStore
from registry.privacy.vault import DataKey
from registry.schemes import exact_keys

if TYPE_CHECKING:
    from registry.store import ClaimStore

EventHook = Callable[[str, str], None]
"""Called after a commit with (notice id, purpose: "notice" or "reminder") to schedule delivery."""

StepHook = Callable[[Change], None]
"""Called after a step committed, to tell the notifier (`registry.notices.notify`)."""

TargetCheck = Callable[[str], Any]
"""An awaitable check of a webhook URL that raises `ValueError` when the target is refused."""


_DID: Final[TypeAdapter[str]] = TypeAdapter(Did)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(moment: datetime | None) -> str | None:
    return format_timestamp(moment) if moment is not None else None


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least `fraction` of values at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 100) * len(ordered) // 100))
    return ordered[rank - 1]


def _stats_row() -> dict[str, Any]:
    """One operator's counters before its first notice (`_ack`/`_act`: seconds, for percentiles)."""
    return {
        "received": 0,
        "delivered": 0,
        "held_undelivered": 0,
        "acknowledged": 0,
        "actioned": 0,
        "rejected": 0,
        "counter_noticed": 0,
        "overdue": 0,
        "_ack": [],
        "_act": [],
    }


class NoticeStore:
    """The registry's takedown service. Clock and webhook-target check are parameters."""

    def __init__(
        self,
        log: TransparencyLog,
        signer: keys.SigningKey,
        *,
        clock: Callable[[], datetime] = _utcnow,
        window: ClockWindow | None = None,
        deadlines: DeadlineConfig | None = None,
        check_target: TargetCheck | None = None,
        data_key: DataKey,
        retention: timedelta | None = None,
    ) -> None:
        self.log = log
        self.ledger = Ledger(log, signer)
        self.signer = signer
        self.clock = clock
        self.window = window or ClockWindow()
        self.deadlines = deadlines or DeadlineConfig()
        self.check_target = check_target
        self.on_event: EventHook | None = None
        #: Notifier notifications: told of every committed step; checks a notice's `notify` at filing.
        self.on_step: StepHook | None = None
        self.check_notify: Callable[[Any], Awaitable[None]] | None = None
        #: Who acts for a DID now (its successor after a key rotation or recovery); set by the app.
        self.controller: Callable[[str], str] = lambda did: did
        #: The claim store whose replayed log says which operators are domain-verified; set by the
        #: app. None: no operator is verified and no name is protected.
        self.claims: ClaimStore | None = None
        #: Personal parts beside notices, responses and registrations (`registry.notices.privacy`).
        self.privacy = NoticePrivacy(
            self, PersonalStore(self.ledger, data_key, clock=clock), retention=retention
        )

    # ------------------------------------------------------------------ operators

    async def register_operator(self, raw: bytes) -> dict[str, Any]:
        """Accept an operator's signed registration (new, or replacing its previous one).

        Refused with 409 `operator-name-taken` when another DID that is domain-verified is
        registered under the same name (compared by `operator_name_key`).
        """
        now = self.clock()
        admitted = await self.privacy.admit(raw, OperatorRegistration, now)
        accepted = admitted.accepted
        registration = accepted.model
        if registration.webhook is not None and self.check_target is not None:
            try:
                await self.check_target(registration.webhook)
            except ValueError as exc:
                raise InvalidDocumentError(f"webhook refused: {exc}", [("/webhook", str(exc))]) from None
        fields: dict[str, Any] = {
            "name": registration.name,
            "contact": registration.contact,
            # normalised as it will be sent, so the signed @target-uri is what the receiver sees
            "webhook": sent_url(registration.webhook) if registration.webhook else None,
            "registration_id": accepted.id,
            "document": accepted.canonical.decode("utf-8"),
            "received_at": now,
        }
        key = operator_name_key(registration.name)
        # Fail fast on a name held already; the check that counts runs again under the log's lock.
        before = await self.verified(await self._operator_dids())
        await self._refuse_taken_name(accepted.author, registration.name, key, before, before.tree_size)
        otherwise = IllegalTransition("the operator registered concurrently; try again")
        async with self.ledger.record(accepted, "OperatorRegistration", now, otherwise=otherwise) as appended:
            await self._refuse_taken_name(accepted.author, registration.name, key, before, appended.index)
            fields["log_index"] = appended.index
            updated = await OperatorRecord.filter(did=accepted.author).update(**fields)
            if updated == 0:
                await OperatorRecord.create(did=accepted.author, **fields)
            await self.privacy.keep(admitted, None, now)
        held = await NoticeRecord.filter(operator=accepted.author, state="filed").values_list("id", flat=True)
        if registration.webhook is not None and self.on_event is not None:
            for notice_id in held:
                self.on_event(str(notice_id), "notice")
        profile = (await self.profiles([accepted.author]))[accepted.author]
        return {
            "id": accepted.id,
            "operator": accepted.author,
            "received_at": format_timestamp(now),
            "replaced": updated > 0,
            # what happens to the held notices: webhook deliveries queued, or waiting in the inbox
            "delivery": "webhook" if registration.webhook is not None else "inbox",
            "held_notices": len(held),
            "operator_profile": profile,
            "log": self.ledger.receipt(appended),
        }

    async def _refuse_taken_name(self, did: str, name: str, key: str, before: Verified, upto: int) -> None:
        """Raise `NameTaken` when another operator registered under `key` is domain-verified.

        `before` says who was verified at its tree size; inside the registration's transaction (the
        log's lock held) the verifications appended since, up to `upto`, are read from the log itself,
        so an operator verified meanwhile (a did:web's first registration) is not missed.
        """
        others = [
            record
            for record in await OperatorRecord.exclude(did=did)
            if operator_name_key(record.name) == key
        ]
        if not others:
            return
        since: set[str] = set()
        if self.claims is not None and upto > before.tree_size:
            since = await self._verified_since(before.tree_size, upto)
        for record in others:
            if record.did in before or record.did in since:
                raise NameTaken(
                    f"the name {name!r} is held by the domain-verified operator {record.did} "
                    f"(registered as {record.name!r}); choose another name",
                    [("/name", f"held by the domain-verified operator {record.did}")],
                )

    async def _verified_since(self, start: int, end: int) -> set[str]:
        """Subjects of registry-signed domain verifications at log indexes [start, end)."""
        entries = await LogEntry.filter(
            index__gte=start, index__lt=end, kind="DomainVerification"
        ).values_list("entry", flat=True)
        subjects: set[str] = set()
        for entry in entries:
            document = json.loads(bytes(entry))
            if isinstance(document, dict) and document.get("registry") == self.signer.did:
                subjects.add(str(document.get("subject")))
        return subjects

    async def _operator_dids(self) -> list[str]:
        return [str(did) for did in await OperatorRecord.all().values_list("did", flat=True)]

    async def verified(self, dids: Iterable[str]) -> Verified:
        """Which of `dids` are domain-verified now, and for which hosts (the log replayed)."""
        if self.claims is None:
            return Verified()
        claims = self.claims
        async with claims.replayed() as tree_size:
            state = claims.index.authority
            hosts = {did: state.verified_hosts(did) for did in set(dids) if state.domain_verified(did)}
        return Verified(tree_size, hosts)

    async def profiles(self, dids: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
        """`operator_profiles` of every registered operator and of `dids`, at the log's current size."""
        wanted = list(dids)
        records = await OperatorRecord.all()
        verified = await self.verified([record.did for record in records] + wanted)
        return operator_profiles(records, verified, wanted)

    async def operators(self) -> list[dict[str, Any]]:
        """Every registered operator's profile, verified first (the portal's operator picker)."""
        return sorted((await self.profiles()).values(), key=listing_order)

    # ------------------------------------------------------------------ notices

    async def file_notice(self, raw: bytes) -> dict[str, Any]:
        """Accept a signed notice; every regime's missing elements are named in one 422."""
        now = self.clock()
        admitted = await self.privacy.admit(raw, Notice, now)
        accepted, notice = admitted.accepted, admitted.merged
        missing = [(pointer, _where(pointer, reason)) for pointer, reason in missing_elements(notice)]
        if missing:
            regimes = ", ".join(notice.regimes)
            raise InvalidDocumentError(
                f"the notice lacks {len(missing)} element(s) its regimes ({regimes}) require", missing
            )
        if notice.notify is not None and self.check_notify is not None:
            await self.check_notify(notice.notify)
        if notice.operator == notice.notifier:
            raise InvalidDocumentError(
                "a notice cannot be sent to its own notifier", [("/operator", "is the notifier")]
            )
        otherwise = IllegalTransition("notice filed concurrently")
        async with self.ledger.record(accepted, "Notice", now, otherwise=otherwise) as appended:
            await NoticeRecord.create(
                id=accepted.id,
                notifier=notice.notifier,
                operator=notice.operator,
                regimes=",".join(notice.regimes),
                state="filed",
                document=accepted.canonical.decode("utf-8"),
                received_at=now,
                log_index=appended.index,
            )
            await self.privacy.keep(admitted, accepted.id, now)
        operator = await OperatorRecord.get_or_none(did=notice.operator)
        if operator is not None and operator.webhook and self.on_event is not None:
            self.on_event(accepted.id, "notice")
        plan = self._schedule(notice.regimes, "filed", now, None, now)
        return {
            "id": accepted.id,
            "state": "filed",
            "received_at": format_timestamp(now),
            "operator_registered": operator is not None,
            "delivery": "held" if operator is None else "webhook" if operator.webhook else "inbox",
            "deadlines": self._deadlines(plan),
            "personal": await self.privacy.status(accepted.id),
            "log": self.ledger.receipt(appended),
        }

    async def respond(self, notice_id: str, raw: bytes) -> dict[str, Any]:
        """Accept a party's signed step on `notice_id` (403 wrong party, 409 illegal transition)."""
        now = self.clock()
        admitted = await self.privacy.admit(raw, NoticeResponse, now)
        accepted = admitted.accepted
        if accepted.model.notice != notice_id:
            raise InvalidDocumentError(
                f"the response names notice {accepted.model.notice}, but was sent for {notice_id}",
                [("/notice", "does not match the notice in the request path")],
            )
        if accepted.model.action in ("deliver", "remind"):
            raise IllegalTransition(
                f"{accepted.model.action} is recorded by the registry itself", [("/action", "registry only")]
            )
        record = await self.notice_record(notice_id)
        return await self._step(record, admitted, now)

    async def registry_step(
        self, notice_id: str, action: str, statement: str | None = None
    ) -> dict[str, Any]:
        """Record a step the registry takes itself (`deliver`, `remind`), signed by the registry key."""
        now = self.clock()
        document = keys.sign_document(
            new_response(self.signer.did, notice_id, action, created=now, statement=statement),
            self.signer,
            created=now,
        )
        canonical = keys.canonicalize(document)
        accepted = Accepted(
            model=NoticeResponse.model_validate(document),
            document=document,
            canonical=canonical,
            id=keys.document_id(document),
            author=self.signer.did,
        )
        admitted = Admitted(accepted, None, accepted.model)
        return await self._step(await self.notice_record(notice_id), admitted, now)

    async def _step(
        self, record: NoticeRecord, admitted: Admitted[NoticeResponse], now: datetime
    ) -> dict[str, Any]:
        accepted = admitted.accepted
        response = accepted.model
        party = self._party(record, accepted.author, response.action)
        target = transition(record.state, response.action, party)
        if response.action == "restore":
            refuse_early_restore(self.deadlines, record.regimes.split(","), record.counter_noticed_at, now)
        changes: dict[str, Any] = {"state": target, "version": record.version + 1}
        stamp = {
            "deliver": "delivered_at",
            "acknowledge": "acknowledged_at",
            "counter-notice": "counter_noticed_at",
            "close": "closed_at",
            "remind": "last_reminded_at",
        }.get(response.action)
        if stamp:
            changes[stamp] = now
        if response.action in ("action", "reject"):
            changes["decided_at"] = now
        if response.action == "action":
            changes["actioned_at"] = now
        meanwhile = IllegalTransition(f"notice {record.id} changed meanwhile: fetch it and try again")
        async with self.ledger.record(accepted, "NoticeResponse", now, otherwise=meanwhile) as appended:
            changed = await NoticeRecord.filter(id=record.id, version=record.version).update(**changes)
            if changed != 1:
                raise meanwhile
            await NoticeEventRecord.create(
                id=accepted.id,
                notice_id=record.id,
                sequence=record.version + 1,
                action=response.action,
                party=party or "",
                by=accepted.author,
                from_state=record.state,
                to_state=target,
                document=accepted.canonical.decode("utf-8"),
                received_at=now,
                log_index=appended.index,
            )
            await self.privacy.keep(admitted, record.id, now)
        if self.on_step is not None:
            self.on_step(
                Change(record.id, accepted.id, response.action, record.state, target, appended.index, now)
            )
        return {
            "id": accepted.id,
            "notice": record.id,
            "action": response.action,
            "state": target,
            "received_at": format_timestamp(now),
            "log": self.ledger.receipt(appended),
        }

    def _party(self, record: NoticeRecord, author: str, action: str) -> Party | None:
        """Which party `author` is on this notice (an author who is several picks one the step allows)."""
        from registry.notices.lifecycle import STEPS

        parties: list[Party] = []
        if author == self.signer.did:
            parties.append("registry")
        if author in (record.operator, self.controller(record.operator)):
            parties.append("operator")
        if author in (record.notifier, self.controller(record.notifier)):
            parties.append("notifier")
        step = STEPS.get(action)
        for party in parties:
            if step is not None and party in step.parties:
                return party
        return parties[0] if parties else None

    # ------------------------------------------------------------------ reading

    async def get_notice(self, notice_id: str) -> dict[str, Any]:
        """The notice as filed, its steps, deadlines, overdue flags and webhook attempts."""
        record = await self.notice_record(notice_id)
        events = await NoticeEventRecord.filter(notice_id=record.id).order_by("sequence")
        attempts = await WebhookAttempt.filter(notice_id=record.id).order_by("id")
        profiles = await self.profiles([record.operator])
        envelope = self._envelope(record, self.clock(), profiles[record.operator])
        envelope["events"] = [
            {
                "id": event.id,
                "action": event.action,
                "party": event.party,
                "by": event.by,
                "from": event.from_state,
                "to": event.to_state,
                "received_at": format_timestamp(event.received_at),
                "log_index": event.log_index,
                "document": json.loads(event.document),
            }
            for event in events
        ]
        envelope["personal"] = await self.privacy.status(record.id)
        envelope["webhook_attempts"] = [
            {
                "purpose": attempt.purpose,
                "attempt": attempt.attempt,
                "started_at": format_timestamp(attempt.started_at),
                "status_code": attempt.status_code,
                "outcome": attempt.outcome,
                "error": attempt.error,
            }
            for attempt in attempts
        ]
        return envelope

    def _envelope(self, record: NoticeRecord, now: datetime, operator: dict[str, Any]) -> dict[str, Any]:
        plan = self._plan(record, now)
        return {
            "id": record.id,
            "state": record.state,
            "operator": record.operator,
            "operator_profile": operator,
            "notifier": record.notifier,
            "operator_registered": operator["registered"],
            "received_at": format_timestamp(record.received_at),
            "log_index": record.log_index,
            "deadlines": self._deadlines(plan),
            "overdue": list(plan.overdue),
            "document": json.loads(record.document),
        }

    async def inbox(self, operator: str, state: str | None = None) -> dict[str, Any]:
        """Every notice addressed to `operator`, oldest first (optionally only those in `state`)."""
        try:
            _DID.validate_python(operator)
        except ValidationError as exc:
            reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
            raise InvalidParameter(f"{operator!r} is not a DID: {reason}", [("/did", reason)]) from None
        query = NoticeRecord.filter(operator=operator)
        if state is not None:
            query = query.filter(state=state)
        now = self.clock()
        records = await query.order_by("received_at", "id")
        profile = (await self.profiles([operator]))[operator]
        return {
            "operator": operator,
            "registered": profile["registered"],
            "operator_profile": profile,
            "notices": [self._envelope(record, now, profile) for record in records],
        }

    async def notice_and_events(self, notice_id: str) -> tuple[Notice, NoticeRecord, list[NoticeResponse]]:
        record = await self.notice_record(notice_id)
        events = await NoticeEventRecord.filter(notice_id=record.id).order_by("sequence")
        responses = [NoticeResponse.model_validate(json.loads(event.document)) for event in events]
        return Notice.model_validate(json.loads(record.document)), record, responses

    async def export(self, notice_id: str, form: str) -> dict[str, Any]:
        """The notice as Lumen JSON (`lumen`) or its decision as a DSA statement of reasons (`dsa-sor`)."""
        notice, record, responses = await self.notice_and_events(notice_id)
        profile = (await self.profiles([record.operator]))[record.operator]
        operator_name = export_name(profile)
        if form == "lumen":
            return notice_exports.lumen_notice(
                notice, record.id, record.received_at, responses, operator_name
            )
        if form == "dsa-sor":
            try:
                return notice_exports.dsa_statement_of_reasons(
                    notice, record.id, record.received_at, responses
                )
            except notice_exports.NoRestriction as exc:
                raise IllegalTransition(str(exc)) from None
        raise NotFound(f"no export format {form!r} (lumen, dsa-sor)")

    # ------------------------------------------------------------------ deadlines

    def _plan(self, record: NoticeRecord, now: datetime) -> Schedule:
        return self._schedule(
            record.regimes.split(","), record.state, record.received_at, record.counter_noticed_at, now
        )

    def _schedule(
        self, regimes: Iterable[str], state: str, filed: datetime, countered: datetime | None, now: datetime
    ) -> Schedule:
        return schedule(self.deadlines, regimes, state, filed_at=filed, counter_noticed_at=countered, now=now)

    @staticmethod
    def _deadlines(plan: Schedule) -> dict[str, str | None]:
        return {
            "acknowledge_by": _ts(plan.acknowledge_by),
            "decide_by": _ts(plan.decide_by),
            "restore_not_before": _ts(plan.restore_not_before),
            "restore_by": _ts(plan.restore_by),
        }

    async def remind_overdue(self) -> list[str]:
        """Flag every overdue open notice with a registry-signed `remind` step (at most one per day
        per notice) and schedule a webhook reminder; returns the ids reminded."""
        now = self.clock()
        reminded: list[str] = []
        for record in await NoticeRecord.filter(state__in=sorted(OPEN_STATES)):
            plan = self._plan(record, now)
            if not plan.overdue:
                continue
            if (
                record.last_reminded_at is not None
                and (now - record.last_reminded_at).total_seconds() < 86_400
            ):
                continue
            try:
                await self.registry_step(record.id, "remind", "overdue: " + ", ".join(plan.overdue))
            except IllegalTransition:
                continue  # it moved on meanwhile
            reminded.append(record.id)
            operator = await OperatorRecord.get_or_none(did=record.operator)
            if operator is not None and operator.webhook and self.on_event is not None:
                self.on_event(record.id, "reminder")
        return reminded

    # ------------------------------------------------------------------ statistics

    async def stats(self) -> dict[str, Any]:
        """Per operator: notices received, delivered, held, acknowledged, actioned, rejected,
        counter-noticed; median and 90th-percentile (nearest rank) seconds to acknowledge and to act;
        how many are overdue now. Every input row is a logged document's record."""
        now = self.clock()
        records = await OperatorRecord.all()
        operators = {op.did: op for op in records}
        per: dict[str, dict[str, Any]] = {}
        for record in await NoticeRecord.all().order_by("received_at"):
            row = per.setdefault(record.operator, _stats_row())
            row["received"] += 1
            row["delivered"] += record.delivered_at is not None
            row["held_undelivered"] += record.operator not in operators and record.state == "filed"
            if record.acknowledged_at is not None:
                row["acknowledged"] += 1
                row["_ack"].append((record.acknowledged_at - record.received_at).total_seconds())
            if record.actioned_at is not None:
                row["actioned"] += 1
                row["_act"].append((record.actioned_at - record.received_at).total_seconds())
            row["rejected"] += record.decided_at is not None and record.actioned_at is None
            row["counter_noticed"] += record.counter_noticed_at is not None
            row["overdue"] += bool(self._plan(record, now).overdue)
        for did in operators:
            per.setdefault(did, _stats_row())
        verified = await self.verified(per)
        profiles = operator_profiles(records, verified, per)
        answer = []
        for did, row in sorted(per.items(), key=lambda item: listing_order(profiles[item[0]])):
            ack, act = row.pop("_ack"), row.pop("_act")
            profile = profiles[did]
            answer.append(
                {
                    "operator": did,
                    "name": profile["name"],
                    "registered": profile["registered"],
                    "authority": profile["authority"],
                    "domain": profile["domain"],
                    "verified_hosts": profile["verified_hosts"],
                    "name_disputed": profile["name_disputed"],
                    "name_held_by": profile["name_held_by"],
                    **{key: int(value) for key, value in row.items()},
                    "seconds_to_acknowledge": {
                        "median": statistics.median(ack) if ack else None,
                        "p90": percentile(ack, 0.9),
                    },
                    "seconds_to_act": {
                        "median": statistics.median(act) if act else None,
                        "p90": percentile(act, 0.9),
                    },
                }
            )
        return {"computed_at": format_timestamp(now), "tree_size": verified.tree_size, "operators": answer}

    # ------------------------------------------------------------------ disputes

    async def open_dispute(self, raw: bytes) -> dict[str, Any]:
        """A claimant disputes another claimant's claim; the two must be linked (share a lookup key)."""
        now = self.clock()
        accepted = await self.ledger.admit(
            raw, Dispute, now=now, window=self.window, validate=validate_notice_document
        )
        dispute = accepted.model
        own = await self._claim(dispute.claim, "/claim")
        other = await self._claim(dispute.disputed, "/disputed")
        if own.claimant != accepted.author:
            raise NotClaimant(
                f"claim {own.id} belongs to {own.claimant}; only its claimant may dispute with it"
            )
        if other.claimant == own.claimant:
            raise InvalidDocumentError(
                "both claims are yours: withdraw one instead", [("/disputed", "same claimant")]
            )
        shared = set(claim_lookup_keys(own.document)) & set(claim_lookup_keys(other.document))
        if not shared:
            raise InvalidDocumentError(
                "the two claims do not assert the same subject (no shared identifier)",
                [("/disputed", "not linked")],
            )
        otherwise = IllegalTransition(f"claim {own.id} already disputes {other.id}")
        async with self.ledger.record(accepted, "Dispute", now, otherwise=otherwise) as appended:
            await DisputeRecord.create(
                id=accepted.id,
                claimant=accepted.author,
                claim_id=own.id,
                disputed_id=other.id,
                document=accepted.canonical.decode("utf-8"),
                received_at=now,
                log_index=appended.index,
            )
        return {
            "id": accepted.id,
            "claims": [own.id, other.id],
            "shared_keys": sorted(shared),
            "received_at": format_timestamp(now),
            "log": self.ledger.receipt(appended),
        }

    async def claim_links(self, claim_id: str) -> dict[str, Any]:
        """Claims by other claimants that share a lookup key with `claim_id`, and open disputes."""
        own = await self._claim(claim_id, "")
        mine = set(claim_lookup_keys(own.document))
        linked = []
        for other in await ClaimRecord.filter(withdrawn_at__isnull=True).exclude(claimant=own.claimant):
            shared = mine & set(claim_lookup_keys(other.document))
            if shared:
                linked.append({"claim": other.id, "claimant": other.claimant, "shared_keys": sorted(shared)})
        disputes = await DisputeRecord.filter(Q(claim_id=claim_id) | Q(disputed_id=claim_id)).order_by(
            "log_index"
        )
        return {
            "claim": claim_id,
            "linked": linked,
            "disputes": [
                {"id": d.id, "claimant": d.claimant, "claim": d.claim_id, "disputed": d.disputed_id}
                for d in disputes
            ],
        }

    async def disputed_among(self, claim_ids: set[str]) -> set[str]:
        """Which of `claim_ids` are a side of an open dispute (for check answers)."""
        if not claim_ids:
            return set()
        ids = sorted(claim_ids)
        found: set[str] = set()
        for column in ("claim_id", "disputed_id"):
            rows = await DisputeRecord.filter(**{f"{column}__in": ids}).values_list(column, flat=True)
            found.update(str(row) for row in rows)
        return found

    async def _claim(self, claim_id: str, pointer: str) -> ClaimRecord:
        record = await ClaimRecord.get_or_none(id=claim_id) if is_document_id(claim_id) else None
        if record is None:
            raise NotFound(f"no claim with id {claim_id}", [(pointer, "no such claim")] if pointer else [])
        return record

    # ------------------------------------------------------------------ helpers

    async def notice_record(self, notice_id: str) -> NoticeRecord:
        record = await NoticeRecord.get_or_none(id=notice_id) if is_document_id(notice_id) else None
        if record is None:
            raise NotFound(f"no notice with id {notice_id}")
        return record


_PERSONAL_POINTERS: Final = frozenset(field.pointer for field in PERSONAL_FIELDS["Notice"])


def _where(pointer: str, reason: str) -> str:
    """A missing element's reason, saying where a personal one goes (the personal part)."""
    if pointer in _PERSONAL_POINTERS:
        return f"{reason}; it is personal data: send it in the personal part, beside the notice"
    return reason


def claim_lookup_keys(document: str) -> list[str]:
    """The exact lookup keys of a stored claim document (what "the same subject" means for links)."""
    from registry.documents import Claim

    claim = Claim.model_validate(json.loads(document))
    return sorted(
        {key for identifier in claim.subject.identifiers for key in exact_keys(identifier, query=False)}
    )
