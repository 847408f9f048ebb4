"""Personal data on the takedown side: parts beside notices, responses and registrations; who may
read them; erasure and retention.

* **Intake** (`admit`): the body is the signed document, or the document with its personal part
  beside it (`registry.privacy.store.unwrap`). A personal field inside the signed document itself is
  refused (it would be logged for ever); a part must be the one the document commits to, hold only
  the type's personal fields and fit the size limit. The document with its part put back (`merged`)
  is what the regime rules are checked against.
* **Who may read** a notice's personal data (the notice's part and those of its responses): its
  notifier, and the operator it is addressed to once that operator has registered — each by a
  request signed with its key, or with the key that replaced it. Every read is recorded and shown to
  the notifier, with the record of its state-change notifications (`registry.notices.notify`). An
  operator reads its own registrations' parts.
* **Erasure**: the author of a part erases it by a signed `PersonalDataErasure` (ground `request`);
  the registry signs one on a legal order (`kotowari admin erase`) or when a notice has been closed
  for longer than the retention period.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import ValidationError

from registry.documents import SignedDocument, error_message, error_pointer, format_timestamp
from registry.errors import InvalidDocumentError, NotFound, RegistryError
from registry.intake import Accepted
from registry.notices.documents import validate_notice_document
from registry.notices.models import NoticeRecord, OperatorRecord
from registry.notices.notify import deliveries
from registry.privacy.access import Requester
from registry.privacy.documents import PersonalDataErasure
from registry.privacy.models import PersonalPart
from registry.privacy.personal import PersonalPartError, inline_pointers, merge, parse_part, verify_part
from registry.privacy.store import InvalidPersonalPart, PersonalStore, refused_part, unwrap

if TYPE_CHECKING:
    from registry.notices.store import NoticeStore

T = TypeVar("T", bound=SignedDocument)


class NotEntitled(RegistryError):
    status, slug, title = 403, "not-entitled", "This key may not see or erase this personal data"


@dataclass(frozen=True)
class Admitted(Generic[T]):
    """A document that passed intake, its personal part (None if it has none), and the document
    with that part put back, for the rules that need the whole (a regime's required elements)."""

    accepted: Accepted[T]
    part: dict[str, Any] | None
    merged: T

    @property
    def commitment(self) -> str | None:
        personal = getattr(self.accepted.model, "personal", None)
        return None if personal is None else str(personal.commitment)


class NoticePrivacy:
    """The notice store's personal data: intake, entitlement, reads, erasure and retention."""

    def __init__(self, store: NoticeStore, personal: PersonalStore, *, retention: timedelta | None) -> None:
        self.store = store
        self.personal = personal
        self.retention = retention

    # ------------------------------------------------------------------ intake

    async def admit(self, raw: bytes, model: type[T], now: datetime) -> Admitted[T]:
        """Every intake rule for `model`, and for the personal part beside it."""
        document, part = unwrap(raw)
        accepted = await self.store.ledger.admit(
            document, model, now=now, window=self.store.window, validate=validate_notice_document
        )
        kind = model.__name__
        inline = inline_pointers(kind, accepted.document)
        if inline:
            raise InvalidDocumentError(
                f"{len(inline)} personal field(s) inside the signed {kind}: personal data travels beside "
                "the document in its personal part, never in the public log",
                [(pointer, "personal: move it to the personal part") for pointer in inline],
            )
        personal = getattr(accepted.model, "personal", None)
        if part is None:
            if personal is not None:
                raise InvalidPersonalPart(
                    f"the {kind} commits to a personal part that was not sent beside it",
                    [("/personal", "missing")],
                )
            return Admitted(accepted, None, accepted.model)
        if personal is None:
            raise InvalidPersonalPart(
                f"a personal part was sent, but the {kind} commits to none",
                [("/document/personal/commitment", "missing")],
            )
        try:
            _, data = parse_part(kind, part)
            assert isinstance(part, dict)  # parse_part refuses anything else
            verify_part(personal.commitment, part)
        except PersonalPartError as exc:
            raise refused_part(exc) from None
        try:
            merged = model.model_validate(merge(accepted.document, data))
        except ValidationError as exc:
            errors = [
                ("/personal/data" + error_pointer(error), error_message(error))
                for error in exc.errors(include_url=False)
            ]
            raise InvalidPersonalPart(f"the personal part does not fit a {kind}", errors) from None
        return Admitted(accepted, part, merged)

    async def keep(self, admitted: Admitted[Any], notice_id: str | None, now: datetime) -> None:
        """Seal the part of an admitted document (inside the transaction that logs it)."""
        if admitted.part is not None and admitted.commitment is not None:
            kind = type(admitted.accepted.model).__name__
            await self.personal.keep(
                admitted.accepted, kind, notice_id, admitted.commitment, admitted.part, now
            )

    # ------------------------------------------------------------------ reading

    async def status(self, notice_id: str) -> list[dict[str, Any]]:
        """The public account of a notice's personal parts: commitments and erasures, no data."""
        return [self.personal.status(row) for row in await self.personal.rows(notice_id)]

    async def _role(self, record: NoticeRecord, did: str) -> str:
        controller: Callable[[str], str] = self.store.controller
        if did in (record.notifier, controller(record.notifier)):
            return "notifier"
        if did in (record.operator, controller(record.operator)):
            if await OperatorRecord.get_or_none(did=record.operator) is None:
                raise NotEntitled(
                    "the operator has not registered: its personal-data access starts once it registers "
                    "with its key (kotowari notice register)"
                )
            return "operator"
        raise NotEntitled("only the notice's notifier and the operator it is addressed to may see this")

    async def read(self, notice_id: str, requester: Requester) -> dict[str, Any]:
        """The notice's personal parts for its notifier or operator; the read is recorded."""
        record = await self.store.notice_record(notice_id)
        role = await self._role(record, requester.did)
        now = self.store.clock()
        rows = await self.personal.rows(record.id)
        parts = [self.personal.opened(row) for row in rows]
        await self.personal.record_read(record.id, requester, role, now)
        answer: dict[str, Any] = {
            "notice": record.id,
            "reader": requester.did,
            "role": role,
            "read_at": format_timestamp(now),
            "parts": parts,
        }
        if role == "notifier":
            answer["reads"] = await self.personal.reads(record.id)
            answer["notifications"] = await deliveries(record.id)
        return answer

    async def operator_parts(self, did: str, requester: Requester) -> dict[str, Any]:
        """An operator's own registrations' personal parts, for the operator itself."""
        if requester.did not in (did, self.store.controller(did)):
            raise NotEntitled("only the operator itself may see its registrations' personal data")
        registrations = await PersonalPart.filter(document_type="OperatorRegistration", author=did).order_by(
            "received_at"
        )
        return {"operator": did, "parts": [self.personal.opened(row) for row in registrations]}

    # ------------------------------------------------------------------ erasure

    async def erase(self, raw: bytes, *, notice_id: str | None = None) -> dict[str, Any]:
        """A part's author erases it by a signed `PersonalDataErasure` (ground `request`)."""
        now = self.store.clock()
        accepted = await self.store.ledger.admit(
            raw, PersonalDataErasure, now=now, window=self.store.window, validate=validate_notice_document
        )
        erasure = accepted.model
        if erasure.notice != notice_id:
            raise InvalidDocumentError(
                "the erasure names another notice than the one in the request path", [("/notice", "mismatch")]
            )
        if erasure.ground != "request":
            raise NotEntitled(
                f"only the registry records an erasure on the ground {erasure.ground!r}"
                " (an administrator runs kotowari admin erase)",
                [("/ground", "registry only")],
            )
        rows = await self._rows(erasure.notice, erasure.documents)
        for row in rows:
            if accepted.author not in (row.author, self.store.controller(row.author)):
                raise NotEntitled(
                    f"the personal part of {row.document_id} is erased by its author or an administrator",
                    [("/documents", row.document_id)],
                )
        return await self.personal.erase(accepted, rows, now)

    async def erase_by_registry(
        self,
        ground: str,
        *,
        notice_id: str | None = None,
        documents: Sequence[str] = (),
        reference: str | None = None,
    ) -> dict[str, Any]:
        """The registry erases (a legal order; the end of retention): every held part of the notice,
        or the `documents` named."""
        if notice_id is not None and not documents:
            documents = [
                row.document_id for row in await self.personal.rows(notice_id) if row.sealed is not None
            ]
            if not documents:
                raise NotFound(f"notice {notice_id} holds no personal data that is not erased")
        rows = await self._rows(notice_id, documents)
        now = self.store.clock()
        accepted = self.personal.registry_erasure(
            notice_id, [row.document_id for row in rows], ground, reference, now
        )
        return await self.personal.erase(accepted, rows, now)

    async def _rows(self, notice_id: str | None, documents: Sequence[str]) -> list[PersonalPart]:
        if notice_id is not None:
            await self.store.notice_record(notice_id)
        rows = {row.document_id: row for row in await PersonalPart.filter(document_id__in=list(documents))}
        found = []
        for document in documents:
            row = rows.get(document)
            if row is None or row.notice_id != notice_id:
                where = f"notice {notice_id}" if notice_id else "any registration"
                raise NotFound(f"{document} has no personal part in {where}", [("/documents", document)])
            found.append(row)
        return found

    async def erase_expired(self) -> list[str]:
        """Erase every part of notices closed longer ago than the retention period; their ids."""
        if self.retention is None:
            return []
        cutoff = self.store.clock() - self.retention
        closed = await NoticeRecord.filter(closed_at__lte=cutoff).values_list("id", flat=True)
        held = await PersonalPart.filter(
            notice_id__in=[str(i) for i in closed], sealed__not_isnull=True
        ).values_list("notice_id", flat=True)
        erased = []
        for notice_id in sorted({str(i) for i in held}):
            try:
                await self.erase_by_registry("retention", notice_id=notice_id)
            except RegistryError:
                continue  # erased meanwhile
            erased.append(notice_id)
        return erased
