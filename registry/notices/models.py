"""Tables of the takedown side (Tortoise ORM): operators, notices, their events, webhook attempts,
notifier notifications, disputes. Every signed document here is also a leaf of the transparency log
(`log_index`), so statistics computed from these rows are computed from logged documents; webhook
attempts and notifier deliveries are the registry's own operational record and are not logged.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class OperatorRecord(Model):
    """The latest registration of an operator DID (earlier ones stay in the log)."""

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    did = fields.CharField(max_length=128, primary_key=True)
    name = fields.CharField(max_length=500)
    contact = fields.CharField(max_length=500)
    webhook = fields.CharField(max_length=2048, null=True)
    registration_id = fields.CharField(max_length=64, unique=True)
    document = fields.TextField()
    received_at = fields.DatetimeField()
    log_index = fields.BigIntField(unique=True)

    class Meta:
        table = "notice_operators"


class NoticeRecord(Model):
    """An accepted notice, its current state and the moments the statistics need."""

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    id = fields.CharField(max_length=64, primary_key=True)
    notifier = fields.CharField(max_length=128, db_index=True)
    operator = fields.CharField(max_length=128, db_index=True)
    regimes = fields.CharField(max_length=100)
    state = fields.CharField(max_length=20)
    version = fields.IntField(default=0)
    document = fields.TextField()
    received_at = fields.DatetimeField()
    log_index = fields.BigIntField(unique=True)
    delivered_at = fields.DatetimeField(null=True)
    acknowledged_at = fields.DatetimeField(null=True)
    actioned_at = fields.DatetimeField(null=True)
    decided_at = fields.DatetimeField(null=True)
    counter_noticed_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    last_reminded_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notices"


class NoticeEventRecord(Model):
    """One signed step of a notice (`NoticeResponse`), by the operator, the notifier or the registry.

    (notice_id, sequence) is unique: two concurrent steps on one notice cannot both commit.
    """

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    id = fields.CharField(max_length=64, primary_key=True)
    notice_id = fields.CharField(max_length=64, db_index=True)
    sequence = fields.IntField()
    action = fields.CharField(max_length=20)
    party = fields.CharField(max_length=10)
    by = fields.CharField(max_length=128)
    from_state = fields.CharField(max_length=20)
    to_state = fields.CharField(max_length=20)
    document = fields.TextField()
    received_at = fields.DatetimeField()
    log_index = fields.BigIntField(unique=True)

    class Meta:
        table = "notice_events"
        unique_together = (("notice_id", "sequence"),)


class WebhookAttempt(Model):
    """One try at POSTing a notice event to an operator's webhook, whatever came of it."""

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    id = fields.BigIntField(primary_key=True)
    notice_id = fields.CharField(max_length=64, db_index=True)
    operator = fields.CharField(max_length=128, db_index=True)
    purpose = fields.CharField(max_length=20)
    url = fields.CharField(max_length=2048)
    attempt = fields.IntField()
    started_at = fields.DatetimeField()
    status_code = fields.IntField(null=True)
    outcome = fields.CharField(max_length=20)
    error = fields.CharField(max_length=500, null=True)

    class Meta:
        table = "notice_webhook_attempts"


class NotifierDelivery(Model):
    """One try at telling a notifier that its notice changed state (`registry.notices.notify`).

    Holds no personal data: neither the webhook URL nor the e-mail address, nor any error text a
    receiver or mail server sent back (it may echo them) — only the channel, the outcome and the
    HTTP status or SMTP reply code."""

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    id = fields.BigIntField(primary_key=True)
    notice_id = fields.CharField(max_length=64, db_index=True)
    event_id = fields.CharField(max_length=64, db_index=True)
    state = fields.CharField(max_length=20)
    channel = fields.CharField(max_length=10)
    attempt = fields.IntField()
    started_at = fields.DatetimeField()
    code = fields.IntField(null=True)
    outcome = fields.CharField(max_length=20)

    class Meta:
        table = "notice_notifier_deliveries"


class DisputeRecord(Model):
    """A claimant's signed dispute of another claimant's claim on the same subject."""

    _no_comments = True  # no `#:` field comments: spares Tortoise a parse of this file per start

    id = fields.CharField(max_length=64, primary_key=True)
    claimant = fields.CharField(max_length=128)
    claim_id = fields.CharField(max_length=64, db_index=True)
    disputed_id = fields.CharField(max_length=64, db_index=True)
    document = fields.TextField()
    received_at = fields.DatetimeField()
    log_index = fields.BigIntField(unique=True)

    class Meta:
        table = "claim_disputes"
        unique_together = (("claim_id", "disputed_id"),)
