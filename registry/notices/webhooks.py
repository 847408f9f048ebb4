"""Delivering notices to operators' webhooks: signed, retried, recorded, never in the filer's way.

* **Signed** with HTTP Message Signatures (RFC 9421), algorithm `ed25519`, by the registry key,
  covering `@method`, `@target-uri`, `content-type` and `content-digest`; the body is bound by an
  RFC 9530 `Content-Digest` (`sha-256`). `verify_request` is what a receiving operator runs.
* **Retried** with exponential backoff (`backoff · 2^(n-1)`, capped) on a timeout, a connection
  error, a non-2xx answer or a redirect (redirects are never followed: a webhook that moved must be
  registered again, or a registry could be steered to an internal address).
* **Recorded**: every attempt is a `WebhookAttempt` row; a 2xx becomes the registry-signed
  `deliver` step in the transparency log.
* **Never blocking**: delivery runs as a background task after the filing transaction committed.
* **Targets checked**: only `https`, and every address the host resolves to must be globally
  routable (`registry.addresses`, the same guard the crawler uses: private, loopback, link-local,
  shared, reserved and special-purpose ranges, and IPv6 forms carrying such an IPv4 address, are
  refused), unless the registry is configured to allow them (tests, private deployments), which also
  permits plain `http`. The check runs at registration and again before each attempt, and the
  delivery connects through the guard's pinned transport: the name is resolved once per connection
  and the socket opened to the vetted address, so a DNS answer that changes after the check
  (rebinding) is refused, not connected to.

The RFC 9421 and RFC 9530 primitives live in `keys.http_signatures` (re-exported here).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

import keys
from keys.http_signatures import (  # noqa: F401 - re-exported for receivers
    COVERED,
    LABEL,
    SignatureError,
    VerifiedSignature,
    content_digest,
    sign_request,
    signature_base,
    verify_request,
)
from registry.address_guard import AddressGuard, Refused, Unresolved
from registry.address_guard import system_resolver as system_resolver  # re-exported (api.app uses it)
from registry.addresses import Resolver, refusal
from registry.notices.lifecycle import IllegalTransition
from registry.notices.models import NoticeRecord, OperatorRecord, WebhookAttempt

log = logging.getLogger("kotowari.webhooks")

USER_AGENT = "kotowari-registry-webhook/0.1"

# ------------------------------------------------------------------ target checks


def forbidden_address(text: str) -> bool:
    """Whether the address guard refuses `text` (`registry.addresses.refusal`)."""
    return refusal(text) is not None


def sent_url(url: str) -> str:
    """`url` as the HTTP client sends it: lowercase host, no default port, no dot segments (RFC 3986
    6.2.2), which is the `@target-uri` a receiver reconstructs and verifies (RFC 9421 2.2.2)."""
    return str(httpx.URL(url))


async def check_target(
    url: str, *, allow_private: bool = False, resolve: Resolver = system_resolver
) -> list[str]:
    """The addresses `url` may be delivered to, or `ValueError` saying why it may not."""
    split = urlsplit(url)
    if split.scheme != "https" and not (allow_private and split.scheme == "http"):
        raise ValueError("webhooks must be https URLs")
    if split.username or split.password:
        raise ValueError("webhook URLs must not carry credentials")
    host = split.hostname
    if not host:
        raise ValueError("the webhook URL has no host")
    try:
        port = split.port or (443 if split.scheme == "https" else 80)
    except ValueError:
        raise ValueError("the webhook URL has an invalid port") from None
    guard = AddressGuard(allow_private=allow_private, resolve=resolve)
    try:
        return await guard.aaddresses(host, port)
    except Unresolved as exc:
        raise ValueError(str(exc)) from None


# ------------------------------------------------------------------ delivery


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts, per-attempt timeout and backoff (seconds): `backoff · 2^(n-1)`, at most `max_backoff`."""

    max_attempts: int = 6
    timeout: float = 10.0
    backoff: float = 30.0
    max_backoff: float = 3600.0

    def delay(self, attempt: int) -> float:
        return float(min(self.backoff * 2 ** (attempt - 1), self.max_backoff))


class BackgroundSender:
    """What operator webhooks and notifier notifications share: the retry policy, the address guard
    every POST goes through, and the background tasks they run in (`drain`, `close`)."""

    def __init__(
        self,
        store: Any,
        *,
        allow_private: bool = False,
        policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        resolve: Resolver = system_resolver,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.allow_private = allow_private
        self.policy = policy or RetryPolicy()
        self.transport = transport
        self.resolve = resolve
        self.guard = AddressGuard(allow_private=allow_private, resolve=resolve)
        self.sleep = sleep
        self._tasks: set[asyncio.Task[None]] = set()

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(
        self, url: str, payload: dict[str, Any], tag: str = "kotowari-notice"
    ) -> tuple[str, int | None, str | None]:
        """`post_signed` by the registry's key, now, through the address guard (or `transport`)."""
        return await post_signed(
            url,
            payload,
            self.store.signer,
            created=int(self.store.clock().timestamp()),
            timeout=self.policy.timeout,
            transport=self.transport or self.guard.async_transport(),
            tag=tag,
        )

    async def drain(self) -> None:
        """Wait for every delivery in flight (tests; graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)


class WebhookDeliverer(BackgroundSender):
    """Schedules deliveries as background tasks (`schedule` is the store's `on_event` hook)."""

    def __init__(self, store: Any, **options: Any) -> None:
        super().__init__(store, **options)
        store.on_event = self.schedule

    def schedule(self, notice_id: str, purpose: str) -> None:
        self._start(self._deliver(notice_id, purpose))

    async def resume(self) -> int:
        """Schedule delivery of every notice still `filed` for an operator with a webhook (after a
        restart cut deliveries short). With several workers each resumes: a receiver may see a
        notice twice, and the second `deliver` step is refused as an illegal transition."""
        hooked = await OperatorRecord.filter(webhook__isnull=False).values_list("did", flat=True)
        pending = await NoticeRecord.filter(state="filed", operator__in=list(hooked)).values_list(
            "id", flat=True
        )
        for notice_id in pending:
            self.schedule(str(notice_id), "notice")
        return len(pending)

    async def _deliver(self, notice_id: str, purpose: str) -> None:
        try:
            for attempt in range(1, self.policy.max_attempts + 1):
                record = await NoticeRecord.get_or_none(id=notice_id)
                operator = await OperatorRecord.get_or_none(did=record.operator) if record else None
                if record is None or operator is None or not operator.webhook:
                    return
                if purpose == "notice" and record.state != "filed":
                    return  # the operator has it already (it acknowledged from its inbox)
                outcome, status, error = await self._attempt(operator.webhook, notice_id, purpose)
                await WebhookAttempt.create(
                    notice_id=notice_id,
                    operator=operator.did,
                    purpose=purpose,
                    url=operator.webhook,
                    attempt=attempt,
                    started_at=self.store.clock(),
                    status_code=status,
                    outcome=outcome,
                    error=error[:500] if error else None,
                )
                if outcome == "delivered":
                    if purpose == "notice":
                        with contextlib.suppress(IllegalTransition):  # acknowledged meanwhile
                            await self.store.registry_step(notice_id, "deliver")
                    return
                if attempt < self.policy.max_attempts:
                    await self.sleep(self.policy.delay(attempt))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhook delivery of %s failed unexpectedly", notice_id)

    async def _attempt(self, url: str, notice_id: str, purpose: str) -> tuple[str, int | None, str | None]:
        try:
            await check_target(url, allow_private=self.allow_private, resolve=self.resolve)
        except ValueError as exc:
            return "refused", None, str(exc)
        envelope = await self.store.get_notice(notice_id)
        envelope.pop("webhook_attempts", None)
        payload = {
            "type": "NoticeDelivery" if purpose == "notice" else "NoticeReminder",
            "registry": self.store.signer.did,
            "notice": envelope,
        }
        return await self._post(url, payload)


async def post_signed(
    url: str,
    payload: dict[str, Any],
    signer: keys.SigningKey,
    *,
    created: int,
    timeout: float,
    transport: httpx.AsyncBaseTransport,
    tag: str = "kotowari-notice",
) -> tuple[str, int | None, str | None]:
    """POST `payload` (RFC 8785 JSON) to `url`, signed by `signer` (RFC 9421 + RFC 9530), through
    `transport` (the address guard's pinned one); (outcome, HTTP status, error) of this one attempt.
    Outcomes: delivered, refused, timeout, error, redirect, failed. The caller checked the target."""
    body = keys.canonicalize(payload)
    headers = {"Content-Type": "application/json", "Content-Digest": content_digest(body)}
    target = sent_url(url)  # sign the @target-uri exactly as it goes on the wire
    headers |= sign_request(
        "POST",
        target,
        headers,
        signer,
        created=created,
        expires=created + 300,
        keyid=keys.verification_method_for(signer.did),
        nonce=secrets.token_urlsafe(12),
        tag=tag,
    )
    headers["User-Agent"] = USER_AGENT
    # Straight through the transport, not an httpx.Client: the client logs every request's URL (a
    # notifier's webhook is personal data), and redirects are never followed anyway.
    request = httpx.Request(
        "POST",
        target,
        content=body,
        headers=headers,
        extensions={"timeout": httpx.Timeout(timeout).as_dict()},
    )
    try:
        async with transport:
            response = await transport.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
    except Refused as exc:  # when connecting: the name no longer resolves to what was checked
        return "refused", None, str(exc)
    except httpx.TimeoutException as exc:
        return "timeout", None, f"no answer within {timeout}s ({type(exc).__name__})"
    except httpx.HTTPError as exc:
        return "error", None, f"{type(exc).__name__}: {exc}"
    if response.is_success:
        return "delivered", response.status_code, None
    if response.is_redirect:
        location = response.headers.get("location", "")
        return "redirect", response.status_code, f"redirects are not followed (to {location})"[:500]
    return "failed", response.status_code, response.text[:200] or None
