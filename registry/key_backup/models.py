"""The key backup table: one row per WebAuthn credential id (not part of the transparency log)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class KeyBackupRecord(Model):
    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    credential_id = fields.CharField(max_length=512, primary_key=True)
    did = fields.CharField(max_length=200, db_index=True)
    wrapped = fields.TextField()
    created = fields.CharField(max_length=40)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "key_backups"
