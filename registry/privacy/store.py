"""Personal parts in the database: sealed on intake, opened for those entitled, erased for good.

Who is entitled is the business of the store that owns the documents (`registry.notices.privacy`
for notices); this module keeps the parts, records each read and carries out erasures. An erasure
is a logged `PersonalDataErasure` (by the author, or signed by the registry on a legal order or at
the end of retention) appended in the same transaction that wipes the sealed bytes, so the log
never says "erased" of data that is still there, nor is data wiped without the log saying so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

import keys
from registry.documents import format_timestamp
from registry.errors import InvalidDocumentError, RegistryError
from registry.intake import Accepted, parse_json
from registry.ledger import Ledger
from registry.privacy.access import Requester, SignatureRefused
from registry.privacy.documents import PersonalDataErasure, new_erasure
from registry.privacy.models import PersonalPart, PersonalRead
from registry.privacy.personal import PersonalPartError, verify_part
from registry.privacy.vault import DataKey, SealedDataUnreadable


class AlreadyErased(RegistryError):
    status, slug, title = 409, "already-erased", "This personal data was erased before"


class InvalidPersonalPart(RegistryError):
    status, slug, title = 422, "invalid-personal-part", "The personal part is not acceptable"


class PersonalPartTooLarge(RegistryError):
    status, slug, title = 413, "personal-part-too-large", "The personal part is too large"


def refused_part(exc: PersonalPartError) -> RegistryError:
    """The API error for a refused part (413 for size, else 422); never repeats a value."""
    if any(reason == "too large" for _, reason in exc.errors):
        return PersonalPartTooLarge(str(exc), exc.errors)
    return InvalidPersonalPart(str(exc), exc.errors)


def unwrap(raw: bytes) -> tuple[bytes, object | None]:
    """(the signed document's bytes, the personal part or None) from a request body.

    A body is either the signed document itself or ``{"document": …, "personal": {"salt", "data"}}``.
    """
    parsed = parse_json(raw)
    if isinstance(parsed, dict) and "type" not in parsed and "document" in parsed:
        extra = sorted(set(parsed) - {"document", "personal"})
        if extra:
            raise InvalidDocumentError(
                "a body with a personal part holds only document and personal",
                [(f"/{name}", "unexpected") for name in extra],
            )
        return keys.canonicalize(parsed["document"]), parsed.get("personal")
    return raw, None


class PersonalStore:
    """Sealed personal parts and their reads. The clock is a parameter."""

    def __init__(self, ledger: Ledger, data_key: DataKey, *, clock: Callable[[], datetime]) -> None:
        self.ledger = ledger
        self.data_key = data_key
        self.clock = clock

    async def keep(
        self,
        accepted: Accepted[Any],
        document_type: str,
        notice_id: str | None,
        commitment: str,
        part: dict[str, Any],
        now: datetime,
    ) -> None:
        """Seal and store `part` for the logged document `accepted` (inside its transaction)."""
        await PersonalPart.create(
            document_id=accepted.id,
            document_type=document_type,
            notice_id=notice_id,
            author=accepted.author,
            commitment=commitment,
            sealed=self.data_key.seal(keys.canonicalize(part), accepted.id),
            received_at=now,
        )

    async def rows(self, notice_id: str) -> list[PersonalPart]:
        return list(await PersonalPart.filter(notice_id=notice_id).order_by("received_at", "document_id"))

    @staticmethod
    def status(row: PersonalPart) -> dict[str, Any]:
        """What anyone may know of a part: that it exists, its commitment, whether it was erased."""
        return {
            "document": row.document_id,
            "type": row.document_type,
            "author": row.author,
            "commitment": row.commitment,
            "state": "erased" if row.sealed is None else "held",
            "erased_at": format_timestamp(row.erased_at) if row.erased_at else None,
            "erasure": row.erasure_id,
            "ground": row.erasure_ground,
        }

    def opened(self, row: PersonalPart) -> dict[str, Any]:
        """The part's status and, while held, its salt and data (checked against the commitment)."""
        shown = self.status(row)
        if row.sealed is not None:
            part = json.loads(self.data_key.open(bytes(row.sealed), row.document_id))
            try:
                verify_part(row.commitment, part)
            except PersonalPartError:
                raise SealedDataUnreadable("a stored personal part does not match its commitment") from None
            shown |= {"salt": part["salt"], "data": part["data"]}
        return shown

    async def record_read(self, notice_id: str, requester: Requester, role: str, now: datetime) -> None:
        """Note who read what when; a request signature used before is refused (replay)."""
        try:
            await PersonalRead.create(
                notice_id=notice_id, reader=requester.did, role=role, read_at=now, nonce=requester.nonce
            )
        except IntegrityError:
            raise SignatureRefused("this signed request was used before: sign a new one") from None

    async def reads(self, notice_id: str) -> list[dict[str, Any]]:
        return [
            {"reader": read.reader, "role": read.role, "read_at": format_timestamp(read.read_at)}
            for read in await PersonalRead.filter(notice_id=notice_id).order_by("id")
        ]

    # ------------------------------------------------------------------ erasure

    async def erase(
        self, accepted: Accepted[PersonalDataErasure], rows: Sequence[PersonalPart], now: datetime
    ) -> dict[str, Any]:
        """Log the erasure record and wipe the parts of `rows` in one transaction."""
        erasure = accepted.model
        for row in rows:
            if row.sealed is None:
                raise AlreadyErased(
                    f"the personal part of {row.document_id} was erased before",
                    [("/documents", row.document_id)],
                )
        otherwise = AlreadyErased("the personal data was erased concurrently")
        async with self.ledger.record(accepted, "PersonalDataErasure", now, otherwise=otherwise) as appended:
            for row in rows:
                wiped = await PersonalPart.filter(
                    document_id=row.document_id, sealed__not_isnull=True
                ).update(sealed=None, erased_at=now, erasure_id=accepted.id, erasure_ground=erasure.ground)
                if wiped != 1:
                    raise otherwise
        return {
            "id": accepted.id,
            "notice": erasure.notice,
            "documents": list(erasure.documents),
            "ground": erasure.ground,
            "erased_at": format_timestamp(now),
            "log": self.ledger.receipt(appended),
        }

    def registry_erasure(
        self,
        notice_id: str | None,
        documents: Sequence[str],
        ground: str,
        reference: str | None,
        now: datetime,
    ) -> Accepted[PersonalDataErasure]:
        """An erasure record signed by the registry itself (a legal order, the end of retention)."""
        signer = self.ledger.signer
        document = keys.sign_document(
            new_erasure(signer.did, notice_id, documents, ground, created=now, reference=reference),
            signer,
            created=now,
        )
        return Accepted(
            model=PersonalDataErasure.model_validate(document),
            document=document,
            canonical=keys.canonicalize(document),
            id=keys.document_id(document),
            author=signer.did,
        )
