"""Telling notifiers when their notice changes state: a signed webhook POST and/or an e-mail.

**How a notifier asks.** Beside the notice it files, in the notice's personal part
(`registry.privacy.personal`, fields `/notify/webhook` and `/notify/email`):
``{"document": <signed notice>, "personal": {"salt": …, "data": {"notify": {"webhook": URL,
"email": ADDRESS}, …}}}``. The signed notice commits to the part (`personal.commitment`), so the
request is authenticated by the notifier's own signature, exactly as its contact details are; no
other request can add or change the addresses (there is deliberately no separate endpoint a stolen
notice id could use). Intake refuses (422 problem+json, pointer `/personal/data/notify/…`) a
webhook that is not http(s) or that the address guard refuses (`registry.address_guard`: https
only and globally routable addresses, unless `KOTOWARI_WEBHOOK_ALLOW_PRIVATE`), an e-mail address
that is not one, and any e-mail when the registry has no SMTP relay configured.

**Personal data.** The addresses are personal data: they are never in the logged notice (intake
refuses them there), never in exports, statistics or server logs; they are kept sealed with the
other personal fields (`registry.privacy.vault`), shown only to those entitled to the notice's
personal data (its notifier, and its registered operator), and erased by the existing erasure path
(`POST /v1/notices/{id}/erasure`, `kotowari notice erase`, retention, `kotowari admin erase`).
Every attempt re-reads the sealed part, so an erasure stops notifications at once, pending retries
included. The record of attempts (`NotifierDelivery`) holds the channel, outcome and status code
only; the notifier sees it in its personal-data read.

**When.** After every logged step that changes the notice's state — `deliver` (a registry event),
`acknowledge`, `action`, `reject`, `counter-notice`, `restore`, `uphold`, `close` — once per
channel. A registry `remind` changes no state and is not sent.

**What.** The webhook body is RFC 8785 JSON, signed like operator deliveries (RFC 9421 `ed25519`
by the registry key with RFC 9530 `Content-Digest`, tag `kotowari-notifier`; receivers run
`registry.notices.webhooks.verify_request`)::

    {"type": "NoticeStateChange", "registry": DID, "notice": ID, "event": STEP_ID, "action": STEP,
     "previous": STATE, "state": STATE, "log_index": N, "changed_at": TIME, "link": URL}

The e-mail is plain text (`registry.notices.mail`). Neither carries anyone's personal data.

**Delivery.** Background tasks after the step committed, never in the request's way; retried with
the operator webhooks' policy (`KOTOWARI_WEBHOOK_ATTEMPTS`, `…_BACKOFF`, `…_TIMEOUT`); a webhook
through the address guard's pinned transport, redirects never followed; an SMTP 5xx is final.
Failures are recorded and logged by notice id and outcome only; nothing here can crash the server.
After a restart, `resume` takes up every channel of every state change that has no final outcome
and attempts left (`api.app` calls it at start).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from registry.documents import format_timestamp
from registry.notices import mail
from registry.notices.documents import Notify
from registry.notices.mail import Change, SmtpConfig
from registry.notices.models import NoticeEventRecord, NoticeRecord, NotifierDelivery
from registry.notices.webhooks import BackgroundSender, check_target
from registry.privacy.models import PersonalPart
from registry.privacy.store import InvalidPersonalPart

__all__ = ["Change", "NotifierNotifications", "SmtpConfig"]

log = logging.getLogger("kotowari.notifications")

TAG = "kotowari-notifier"
FINAL = frozenset({"delivered", "rejected", "unavailable"})
"""Outcomes after which a channel is not tried again."""


class NotifierNotifications(BackgroundSender):
    """Schedules notifier notifications (`schedule` is the store's `on_step` hook) and checks the
    preference at filing (`check` is its `check_notify` hook)."""

    def __init__(
        self, store: Any, *, public_url: str, smtp: SmtpConfig | None = None, **options: Any
    ) -> None:
        super().__init__(store, **options)
        self.public_url = public_url.rstrip("/")
        self.smtp = smtp
        #: Per notice, set once the first attempts at telling its latest change are over: the next
        #: change waits for it, so a notifier is told a notice's changes in the order they happened
        #: (retries after a failed attempt do not hold later changes back).
        self._told: dict[str, asyncio.Event] = {}
        store.on_step = self.schedule
        store.check_notify = self.check

    # ------------------------------------------------------------------ at filing

    async def check(self, notify: Notify) -> None:
        """Refuse a preference this registry cannot honour (422, pointing into the personal part)."""
        if notify.webhook is not None:
            try:
                await check_target(notify.webhook, allow_private=self.allow_private, resolve=self.resolve)
            except ValueError as exc:
                raise InvalidPersonalPart(
                    f"notify webhook refused: {exc}", [("/personal/data/notify/webhook", str(exc))]
                ) from None
        if notify.email is not None and self.smtp is None:
            raise InvalidPersonalPart(
                "this registry sends no e-mail (no SMTP relay is configured): give a webhook instead",
                [("/personal/data/notify/email", "e-mail notifications are not available here")],
            )

    # ------------------------------------------------------------------ scheduling

    def schedule(self, change: Change) -> None:
        if change.state == change.previous:
            return  # a reminder: no change of state to tell
        self._start(self._deliver(change))

    async def resume(self) -> int:
        """Schedule what a restart cut short: for every state change of a notice whose preference is
        still held, each asked-for channel with no final outcome and attempts left, from the next
        attempt on; how many were scheduled. With several workers each resumes, so a notifier may be
        told twice (as operators may be, `WebhookDeliverer.resume`)."""
        held = await PersonalPart.filter(document_type="Notice", sealed__not_isnull=True).values_list(
            "document_id", flat=True
        )
        scheduled = 0
        for notice_id in (str(held_id) for held_id in held):
            wanted = await self.preference(notice_id)
            if not wanted:
                continue
            tried: dict[tuple[str, str], tuple[int, str]] = {}
            for row in await NotifierDelivery.filter(notice_id=notice_id).order_by("id"):
                tried[(row.event_id, row.channel)] = (row.attempt, row.outcome)
            events = await NoticeEventRecord.filter(notice_id=notice_id).order_by("sequence")
            for event in events:
                if event.to_state == event.from_state:
                    continue
                change = Change(
                    notice_id,
                    event.id,
                    event.action,
                    event.from_state,
                    event.to_state,
                    event.log_index,
                    event.received_at,
                )
                for channel in sorted(wanted):
                    attempt, outcome = tried.get((event.id, channel), (0, ""))
                    if outcome in FINAL or attempt >= self.policy.max_attempts:
                        continue
                    self._spawn(self._channel(change, channel, first=attempt + 1))
                    scheduled += 1
        return scheduled

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self._start(self._guarded(work))

    async def _guarded(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never the server's problem; never the addresses in the log
            log.warning("notifying a notifier failed: %s", type(exc).__name__)

    async def preference(self, notice_id: str) -> dict[str, str] | None:
        """The notifier's `notify` preference from the notice's sealed personal part (None once erased)."""
        row = await PersonalPart.get_or_none(document_id=notice_id, document_type="Notice")
        if row is None or row.sealed is None:
            return None
        part = self.store.privacy.personal.opened(row)
        notify = part.get("data", {}).get("notify")
        return {str(k): str(v) for k, v in notify.items()} if isinstance(notify, dict) else None

    async def _deliver(self, change: Change) -> None:
        before = self._told.get(change.notice_id)  # tasks start in the order changes were scheduled
        told = self._told[change.notice_id] = asyncio.Event()
        try:
            if before is not None:
                await before.wait()
            wanted = await self.preference(change.notice_id)
            if not wanted:
                return
            firsts = [len(wanted)]

            def first_over() -> None:
                firsts[0] -= 1
                if firsts[0] == 0:
                    told.set()

            # Each channel to its end, even when the other fails: `drain` waits for this task alone.
            outcomes = await asyncio.gather(
                *(self._channel(change, channel, first_over=first_over) for channel in sorted(wanted)),
                return_exceptions=True,
            )
            for outcome in outcomes:
                if isinstance(outcome, asyncio.CancelledError):
                    raise outcome
                if isinstance(outcome, BaseException):
                    failure = type(outcome).__name__
                    log.warning("notifying the notifier of %s failed: %s", change.notice_id, failure)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never the server's problem; never the addresses in the log
            log.warning("notifying the notifier of %s failed: %s", change.notice_id, type(exc).__name__)
        finally:
            told.set()  # whatever happened, the next change is not held back
            if self._told.get(change.notice_id) is told:
                del self._told[change.notice_id]

    async def _channel(
        self, change: Change, channel: str, first: int = 1, first_over: Callable[[], None] | None = None
    ) -> None:
        over = [first_over is None]

        def once() -> None:
            if not over[0] and first_over is not None:
                over[0] = True
                first_over()

        try:
            await self._attempts(change, channel, first, once)
        finally:
            once()  # if not already: an error, or an erasure before the first attempt

    async def _attempts(
        self, change: Change, channel: str, first: int, first_over: Callable[[], None]
    ) -> None:
        for attempt in range(first, self.policy.max_attempts + 1):
            wanted = await self.preference(change.notice_id)  # erased meanwhile: stop
            address = wanted.get(channel) if wanted else None
            if address is None:
                return
            started = self.store.clock()
            if channel == "webhook":
                outcome, code = await self._webhook(address, change)
            else:
                outcome, code = await self._email(address, change)
            await NotifierDelivery.create(
                notice_id=change.notice_id,
                event_id=change.event_id,
                state=change.state,
                channel=channel,
                attempt=attempt,
                started_at=started,
                code=code,
                outcome=outcome,
            )
            first_over()  # the next change of the notice may be told now
            if outcome in FINAL:
                return
            log.info("notifier %s for %s: attempt %d %s", channel, change.notice_id, attempt, outcome)
            if attempt < self.policy.max_attempts:
                await self.sleep(self.policy.delay(attempt))

    def link(self, notice_id: str) -> str:
        return f"{self.public_url}/notices/{notice_id}"

    async def _webhook(self, url: str, change: Change) -> tuple[str, int | None]:
        try:
            await check_target(url, allow_private=self.allow_private, resolve=self.resolve)
        except ValueError:
            return "refused", None
        payload = {
            "type": "NoticeStateChange",
            "registry": self.store.signer.did,
            "notice": change.notice_id,
            "event": change.event_id,
            "action": change.action,
            "previous": change.previous,
            "state": change.state,
            "log_index": change.log_index,
            "changed_at": format_timestamp(change.at),
            "link": self.link(change.notice_id),
        }
        outcome, status, _error = await self._post(url, payload, TAG)  # the error may name the address
        return outcome, status

    async def _email(self, address: str, change: Change) -> tuple[str, int | None]:
        if self.smtp is None:
            return "unavailable", None
        record = await NoticeRecord.get_or_none(id=change.notice_id)
        tag = json.loads(record.document).get("language") if record is not None else None
        message = mail.compose(
            change,
            to=address,
            sender=self.smtp.sender,
            link=self.link(change.notice_id),
            language=mail.language_of(tag if isinstance(tag, str) else None),
        )
        return await mail.send(self.smtp, message)


async def deliveries(notice_id: str) -> list[dict[str, Any]]:
    """The record of a notice's notifier notifications, for its notifier (no addresses in it)."""
    rows = await NotifierDelivery.filter(notice_id=notice_id).order_by("id")
    return [
        {
            "event": row.event_id,
            "state": row.state,
            "channel": row.channel,
            "attempt": row.attempt,
            "started_at": format_timestamp(row.started_at),
            "code": row.code,
            "outcome": row.outcome,
        }
        for row in rows
    ]
