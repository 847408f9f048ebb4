"""Database tables (Tortoise ORM). One database URL serves SQLite and PostgreSQL alike.

Signed documents are stored as their RFC 8785 canonical bytes and never rewritten; the columns
beside them (received time, withdrawal, lookup keys) are what the registry adds.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ClaimRecord(Model):
    """An accepted claim: its canonical document and what the registry knows about it."""

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    id = fields.CharField(max_length=64, primary_key=True)
    claimant = fields.CharField(max_length=128, db_index=True)
    kind = fields.CharField(max_length=16)
    document = fields.TextField()
    received_at = fields.DatetimeField()
    log_index = fields.BigIntField(unique=True)
    withdrawn_at = fields.DatetimeField(null=True)
    withdrawal_id = fields.CharField(max_length=64, null=True)
    withdrawal_log_index = fields.BigIntField(null=True)

    class Meta:
        table = "claims"


class WithdrawalRecord(Model):
    """An accepted withdrawal document."""

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    id = fields.CharField(max_length=64, primary_key=True)
    claim_id = fields.CharField(max_length=64, unique=True)
    document = fields.TextField()
    received_at = fields.DatetimeField()
    log_index = fields.BigIntField(unique=True)

    class Meta:
        table = "withdrawals"


class UsedNonce(Model):
    """Every (author, nonce) pair ever accepted: the unique constraint refuses replays atomically."""

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    id = fields.BigIntField(primary_key=True)
    author = fields.CharField(max_length=128)
    nonce = fields.CharField(max_length=128)
    document_id = fields.CharField(max_length=64)

    class Meta:
        table = "used_nonces"
        unique_together = (("author", "nonce"),)


class LogEntry(Model):
    """One leaf of the transparency log: an accepted document's canonical bytes."""

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    index = fields.BigIntField(primary_key=True)
    document_id = fields.CharField(max_length=64, unique=True)
    kind = fields.CharField(max_length=32)
    entry = fields.BinaryField()
    leaf_hash = fields.BinaryField()
    leaf_hash_hex = fields.CharField(max_length=64, db_index=True)
    appended_at = fields.DatetimeField()

    class Meta:
        table = "log_entries"


class TreeNode(Model):
    """The hash of a complete, aligned subtree: leaves [index·2^level, (index+1)·2^level).

    Stored as the tree grows, in the same transaction as the leaf that completes it, so any proof
    or tile is a handful of lookups. `id` packs (level, index) as `level << 56 | index`.
    """

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    id = fields.BigIntField(primary_key=True)
    hash = fields.BinaryField()

    class Meta:
        table = "tree_nodes"
