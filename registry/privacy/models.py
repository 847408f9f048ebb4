"""Tables of personal data (Tortoise ORM): sealed personal parts and the record of who read them.

Neither table is part of the transparency log: the log holds each part's commitment (inside the
signed public document) and each erasure record; these rows hold what must stay erasable.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class PersonalPart(Model):
    """The personal part of one logged document, sealed under the data key (`sealed` is NULL once
    erased; the row stays, so the erasure can be shown)."""

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    document_id = fields.CharField(max_length=64, primary_key=True)
    document_type = fields.CharField(max_length=40)
    notice_id = fields.CharField(max_length=64, null=True, db_index=True)
    author = fields.CharField(max_length=128, db_index=True)
    commitment = fields.CharField(max_length=64)
    sealed = fields.BinaryField(null=True)
    received_at = fields.DatetimeField()
    erased_at = fields.DatetimeField(null=True)
    erasure_id = fields.CharField(max_length=64, null=True)
    erasure_ground = fields.CharField(max_length=20, null=True)

    class Meta:
        table = "personal_parts"


class PersonalRead(Model):
    """One authenticated read of a notice's personal data: who, in what role, when.

    `nonce` is the request signature's nonce: unique, so a captured request cannot be replayed.
    """

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    id = fields.BigIntField(primary_key=True)
    notice_id = fields.CharField(max_length=64, db_index=True)
    reader = fields.CharField(max_length=128)
    role = fields.CharField(max_length=20)
    read_at = fields.DatetimeField()
    nonce = fields.CharField(max_length=128, unique=True)

    class Meta:
        table = "personal_reads"
