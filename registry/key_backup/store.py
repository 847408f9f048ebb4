"""Keeping passkey-wrapped key backups: put, get and delete, each signed by the key's own DID.

Rules: the first upload for a credential id binds it to the DID that signed it, and only that DID may
replace or delete it afterwards; a replacement must be newer (`created`) than what is kept, so an old
signed upload cannot be replayed over a newer one; `created` must lie in the registry's clock window.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from registry.documents import validate_document
from registry.errors import AuthorityConflict, InvalidDocumentError, NotFound, WrongSigner
from registry.intake import ClockWindow, accept
from registry.key_backup.documents import KEY_BACKUP_TYPES, KeyBackup, KeyBackupDeletion
from registry.key_backup.models import KeyBackupRecord

_validate = partial(validate_document, types=KEY_BACKUP_TYPES)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class KeyBackupStore:
    def __init__(self, *, clock: Callable[[], datetime], window: ClockWindow) -> None:
        self.clock = clock
        self.window = window

    async def put(self, credential_id: str, raw: bytes) -> dict[str, Any]:
        now = self.clock()
        accepted = accept(raw, KeyBackup, now=now, window=self.window, validate=_validate)
        backup = accepted.model
        if backup.credential_id != credential_id:
            raise InvalidDocumentError(
                "the backup names another credential id than its URL",
                [("/credential_id", "differs from the URL")],
            )
        existing = await KeyBackupRecord.get_or_none(credential_id=credential_id)
        if existing is not None:
            if existing.did != backup.did:
                raise WrongSigner(
                    "this credential id's backup belongs to another DID", [("/did", "not the owner")]
                )
            if _moment(backup.created) <= _moment(existing.created):
                raise AuthorityConflict(
                    "a backup must be newer than the one kept: sign it again",
                    [("/created", "not newer than the kept backup")],
                )
            existing.wrapped = json.dumps(backup.wrapped.model_dump(), sort_keys=True)
            existing.created = backup.created
            existing.updated_at = now
            await existing.save()
            return self._public(existing)
        record = await KeyBackupRecord.create(
            credential_id=credential_id,
            did=backup.did,
            wrapped=json.dumps(backup.wrapped.model_dump(), sort_keys=True),
            created=backup.created,
            updated_at=now,
        )
        return self._public(record)

    async def get(self, credential_id: str) -> dict[str, Any]:
        record = await KeyBackupRecord.get_or_none(credential_id=credential_id)
        if record is None:
            raise NotFound("no key backup is kept for this credential id")
        return self._public(record)

    async def delete(self, credential_id: str, raw: bytes) -> None:
        accepted = accept(raw, KeyBackupDeletion, now=self.clock(), window=self.window, validate=_validate)
        deletion = accepted.model
        record = await KeyBackupRecord.get_or_none(credential_id=credential_id)
        if record is None or deletion.credential_id != credential_id:
            raise NotFound("no key backup is kept for this credential id")
        if record.did != deletion.did:
            raise WrongSigner(
                "this credential id's backup belongs to another DID", [("/did", "not the owner")]
            )
        await record.delete()

    @staticmethod
    def _public(record: KeyBackupRecord) -> dict[str, Any]:
        return {
            "credential_id": record.credential_id,
            "did": record.did,
            "wrapped": json.loads(record.wrapped),
            "created": record.created,
        }
