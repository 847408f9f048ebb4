"""The one table of the accountability side: the compliance manifests the registry verified, kept
beside the log. The log holds the registry-signed `ManifestRecord` (the manifest's SHA-256 and what
it says); a manifest itself can exceed a log entry, so it is served from here
(`GET /v1/manifests/{sha256}`), and anyone can check it hashes to the record's `manifest`.
Disclosures and information requests need no table: their record is computed from the log."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ManifestRow(Model):
    """A verified manifest (its canonical bytes) and the log entry of its record. The primary key
    refuses a second record of one manifest, even from two workers at once."""

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    sha256 = fields.CharField(max_length=64, primary_key=True)
    record_id = fields.CharField(max_length=64, unique=True)
    document = fields.TextField()
    received_at = fields.DatetimeField()
    log_index = fields.BigIntField(unique=True)

    class Meta:
        table = "manifests"
