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
* **Targets checked**: only `https`, and every address the host resolves to must be public: not
  private, loopback, link-local, shared (CGNAT), multicast, reserved or unspecified (IPv4-mapped
  IPv6 included), unless the registry is configured to allow them (tests, private deployments),
  which also permits plain `http`. The check runs at registration and again before each attempt.
  Known limit: httpx resolves the name again when it connects, so a DNS answer that changes in
  between (rebinding) is not caught.

>>> params = '("@method" "@path");created=1;keyid="k"'
>>> signature_base([("@method", "POST"), ("@path", "/")], params).decode().splitlines()[-1]
'"@signature-params": ("@method" "@path");created=1;keyid="k"'
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import ipaddress
import logging
import re
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

import keys
from registry.addresses import refusal
from registry.notices.lifecycle import IllegalTransition
from registry.notices.models import NoticeRecord, OperatorRecord, WebhookAttempt

log = logging.getLogger("kotowari.webhooks")

LABEL = "kotowari"
COVERED = ("@method", "@target-uri", "content-type", "content-digest")
USER_AGENT = "kotowari-registry-webhook/0.1"

Resolver = Callable[[str, int], Awaitable[list[str]]]


class SignatureError(ValueError):
    """A request whose RFC 9421 signature or RFC 9530 digest does not hold."""


# ------------------------------------------------------------------ RFC 9530 / RFC 9421


def content_digest(body: bytes) -> str:
    """RFC 9530 `Content-Digest` field value with `sha-256`."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def signature_base(covered: Sequence[tuple[str, str]], params: str) -> bytes:
    """RFC 9421 section 2.5: one `"name": value` line per covered component, then the parameters."""
    lines = [f'"{name}": {value}' for name, value in covered]
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode("utf-8")


def serialize_params(components: Sequence[str], **params: str | int) -> str:
    """The inner list with its parameters, in the order given (`created=…;keyid="…"`)."""
    inner = "(" + " ".join(f'"{name}"' for name in components) + ")"
    for name, value in params.items():
        inner += f";{name}={value}" if isinstance(value, int) else f';{name}="{value}"'
    return inner


def component_values(
    method: str, url: str, headers: Mapping[str, str], components: Sequence[str]
) -> list[tuple[str, str]]:
    """The values of the derived components and header fields a signature covers."""
    split = urlsplit(url)
    lowered = {name.lower(): value for name, value in headers.items()}
    default_port = {"http": 80, "https": 443}.get(split.scheme)
    host = (split.hostname or "").lower()
    authority = host if split.port in (None, default_port) else f"{host}:{split.port}"
    derived = {
        "@method": method.upper(),
        "@target-uri": url,
        "@authority": authority,
        "@scheme": split.scheme,
        "@path": split.path or "/",
        "@query": "?" + split.query,
    }
    values = []
    for name in components:
        if name.startswith("@"):
            if name not in derived:
                raise SignatureError(f"unsupported derived component {name}")
            values.append((name, derived[name]))
        elif name in lowered:
            values.append((name, lowered[name].strip()))
        else:
            raise SignatureError(f"the signature covers {name}, which the message lacks")
    return values


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    key: keys.SigningKey,
    *,
    created: int,
    keyid: str,
    components: Sequence[str] = COVERED,
    label: str = LABEL,
    expires: int | None = None,
    nonce: str | None = None,
    alg: str | None = "ed25519",
    tag: str | None = None,
) -> dict[str, str]:
    """`Signature-Input` and `Signature` headers for the request (RFC 9421 section 3.1)."""
    params: dict[str, str | int] = {"created": created}
    if expires is not None:
        params["expires"] = expires
    params["keyid"] = keyid
    if alg is not None:
        params["alg"] = alg
    if nonce is not None:
        params["nonce"] = nonce
    if tag is not None:
        params["tag"] = tag
    serialized = serialize_params(components, **params)
    base = signature_base(component_values(method, url, headers, components), serialized)
    signature = base64.b64encode(key.sign(base)).decode("ascii")
    return {"Signature-Input": f"{label}={serialized}", "Signature": f"{label}=:{signature}:"}


_MEMBER = re.compile(r"^\s*([a-z*][a-z0-9_\-.*]*)=(\(([^)]*)\)(.*))\s*$")
_PARAM = re.compile(r';([a-z*][a-z0-9_\-.*]*)=("(?:[^"\\]|\\.)*"|-?\d+)')


@dataclass(frozen=True)
class VerifiedSignature:
    label: str
    components: tuple[str, ...]
    params: dict[str, str | int]


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    key: keys.VerifyingKey,
    *,
    now: datetime | None = None,
    max_age: int = 300,
    required: Sequence[str] = COVERED,
) -> VerifiedSignature:
    """Check a signed request as an operator's receiver should: the signature (one member, ours),
    that it covers `required`, its freshness, and that `Content-Digest` matches the body."""
    lowered = {name.lower(): value for name, value in headers.items()}
    member = _MEMBER.match(lowered.get("signature-input", ""))
    if member is None:
        raise SignatureError("no usable Signature-Input")
    label, serialized, inner, rest = member.groups()
    components = tuple(token.strip('"') for token in inner.split())
    params: dict[str, str | int] = {
        name: (value[1:-1] if value.startswith('"') else int(value)) for name, value in _PARAM.findall(rest)
    }
    missing = [name for name in required if name not in components]
    if missing:
        raise SignatureError(f"the signature does not cover {', '.join(missing)}")
    found = re.search(rf"(?:^|,)\s*{re.escape(label)}=:([A-Za-z0-9+/=]+):", lowered.get("signature", ""))
    if found is None:
        raise SignatureError(f"no Signature member {label}")
    base = signature_base(component_values(method, url, headers, components), serialized)
    try:
        key.verify(base64.b64decode(found.group(1)), base)
    except keys.KeysError as exc:
        raise SignatureError(f"the signature does not verify: {exc}") from None
    if now is not None:
        created = params.get("created")
        if not isinstance(created, int) or abs(now.timestamp() - created) > max_age:
            raise SignatureError("the signature is not fresh")
        expires = params.get("expires")
        if isinstance(expires, int) and now.timestamp() > expires:
            raise SignatureError("the signature has expired")
    if "content-digest" in components and lowered.get("content-digest") != content_digest(body):
        raise SignatureError("Content-Digest does not match the body")
    return VerifiedSignature(label, components, params)


# ------------------------------------------------------------------ target checks


def forbidden_address(text: str) -> bool:
    """Private, loopback, link-local, shared, multicast, reserved or unspecified (IPv4-mapped too)."""
    return refusal(text) is not None


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


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
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = await resolve(host, port)
        except OSError as exc:
            raise ValueError(f"cannot resolve {host}: {exc}") from None
    if not addresses:
        raise ValueError(f"{host} resolves to no address")
    if not allow_private:
        for address in addresses:
            if forbidden_address(address):
                raise ValueError(f"{host} resolves to {address}, a private, loopback or link-local address")
    return addresses


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


class WebhookDeliverer:
    """Schedules deliveries as background tasks (`schedule` is the store's `on_event` hook)."""

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
        self.sleep = sleep
        self._tasks: set[asyncio.Task[None]] = set()
        store.on_event = self.schedule

    def schedule(self, notice_id: str, purpose: str) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(notice_id, purpose))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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

    async def drain(self) -> None:
        """Wait for every delivery in flight (tests; graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

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
        body = keys.canonicalize(payload)
        headers = {"Content-Type": "application/json", "Content-Digest": content_digest(body)}
        created = int(self.store.clock().timestamp())
        target = sent_url(url)  # sign the @target-uri exactly as it goes on the wire
        headers |= sign_request(
            "POST",
            target,
            headers,
            self.store.signer,
            created=created,
            expires=created + 300,
            keyid=keys.verification_method_for(self.store.signer.did),
            nonce=secrets.token_urlsafe(12),
            tag="kotowari-notice",
        )
        headers["User-Agent"] = USER_AGENT
        try:
            async with httpx.AsyncClient(
                timeout=self.policy.timeout, follow_redirects=False, transport=self.transport
            ) as client:
                response = await client.post(target, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            return "timeout", None, f"no answer within {self.policy.timeout}s ({type(exc).__name__})"
        except httpx.HTTPError as exc:
            return "error", None, f"{type(exc).__name__}: {exc}"
        if response.is_success:
            return "delivered", response.status_code, None
        if response.is_redirect:
            location = response.headers.get("location", "")
            return "redirect", response.status_code, f"redirects are not followed (to {location})"[:500]
        return "failed", response.status_code, response.text[:200] or None
