"""Server configuration: defaults that just work, overridable by environment and CLI flags.

| setting | environment | default |
|---|---|---|
| data_dir | KOTOWARI_DATA_DIR | ./kotowari-data |
| db_url | KOTOWARI_DB | sqlite://<data_dir>/kotowari.sqlite3 |
| host | KOTOWARI_HOST | 127.0.0.1 |
| port | KOTOWARI_PORT | 8000 |
| max_body_bytes | KOTOWARI_MAX_BODY_BYTES | 4194304 (4 MiB) |
| max_check_items | KOTOWARI_MAX_CHECK_ITEMS | 10000 |
| max_bulk_documents | KOTOWARI_MAX_BULK_DOCUMENTS | 1000 signed claims in one `POST /v1/claims` array |
| max_age_seconds | KOTOWARI_MAX_AGE_SECONDS | 86400: how old a document's `created` may be |
| max_skew_seconds | KOTOWARI_MAX_SKEW_SECONDS | 300: how far ahead of the registry clock |
| log_origin | KOTOWARI_LOG_ORIGIN | kotowari.local/<key fingerprint>: the checkpoint origin line |
| embedding_spaces | KOTOWARI_EMBEDDING_SPACES | the defaults in registry.index, as `name:dimensions,…` |
| webhook_allow_private | KOTOWARI_WEBHOOK_ALLOW_PRIVATE | false; true allows private and http targets |
| webhook_timeout | KOTOWARI_WEBHOOK_TIMEOUT | 10 seconds per delivery attempt |
| webhook_attempts | KOTOWARI_WEBHOOK_ATTEMPTS | 6 attempts, backoff doubling from webhook_backoff |
| webhook_backoff | KOTOWARI_WEBHOOK_BACKOFF | 30 seconds before the second attempt |
| reminder_interval | KOTOWARI_REMINDER_INTERVAL | 3600 seconds between overdue-notice sweeps (0: off) |
| fetch_allow_private | KOTOWARI_FETCH_ALLOW_PRIVATE | false; true: outbound checks may reach private IPs |
| fetch_ca_file | KOTOWARI_FETCH_CA_FILE | the system's CAs; or a PEM bundle to trust instead |
| fetch_https_port | KOTOWARI_FETCH_HTTPS_PORT | 443: the port did:web and domain checks connect to (tests) |
| fetch_resolve | KOTOWARI_FETCH_RESOLVE | none; `host=IP,…` skips DNS for those names (like curl --resolve) |
| fetch_timeout | KOTOWARI_FETCH_TIMEOUT | 5 seconds for one did:web or verification-file fetch |
| dns_nameserver | KOTOWARI_DNS_NAMESERVER | the system's; `IP[:PORT]` of the resolver for dns-txt checks |
| witnesses | KOTOWARI_WITNESSES | none; `URL=VERIFIER_KEY,…` C2SP witnesses each new checkpoint goes to |
| witness_quorum | KOTOWARI_WITNESS_QUORUM | 1 cosignature makes a checkpoint the one /log/checkpoint serves |
| verification_interval | KOTOWARI_VERIFICATION_INTERVAL | 86400 seconds between domain re-checks (0: off) |
| personal_retention_days | KOTOWARI_PERSONAL_RETENTION_DAYS | 1095 days from close to erasure (0: never) |
| public_url | KOTOWARI_PUBLIC_URL | http://<host>:<port>: the registry's address in notifier notifications |
| smtp_host | KOTOWARI_SMTP_HOST | none: no e-mail to notifiers (a notice asking for it is refused) |
| smtp_port | KOTOWARI_SMTP_PORT | 25 |
| smtp_from | KOTOWARI_SMTP_FROM | kotowari@<smtp_host>: the sender of notifier e-mail |
| smtp_starttls | KOTOWARI_SMTP_STARTTLS | false; true: STARTTLS (system CAs) before anything else |
| smtp_user | KOTOWARI_SMTP_USER | none; with smtp_password: SMTP AUTH |
| smtp_password | KOTOWARI_SMTP_PASSWORD | none |
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from registry.index import DEFAULT_EMBEDDING_SPACES
from registry.intake import ClockWindow
from registry.notices.mail import SmtpConfig


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("kotowari-data")
    db_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 4 * 1024 * 1024
    max_check_items: int = 10_000
    max_bulk_documents: int = 1_000
    max_age_seconds: int = 86_400
    max_skew_seconds: int = 300
    log_origin: str | None = None
    embedding_spaces: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_EMBEDDING_SPACES))
    webhook_allow_private: bool = False
    webhook_timeout: float = 10.0
    webhook_attempts: int = 6
    webhook_backoff: float = 30.0
    reminder_interval: float = 3600.0
    fetch_allow_private: bool = False
    fetch_ca_file: str | None = None
    fetch_https_port: int = 443
    fetch_timeout: float = 5.0
    fetch_resolve: Mapping[str, str] = field(default_factory=dict)
    dns_nameserver: str | None = None
    verification_interval: float = 86_400.0
    #: Days after a notice closes until its personal parts are erased (0: kept until erased on request).
    personal_retention_days: float = 1095.0
    witnesses: Mapping[str, str] = field(default_factory=dict)
    witness_quorum: int = 1
    #: Verify every entry's signature at start, not only those after the last verified mark.
    verify_full: bool = False
    #: The registry's public address, for the links in notifier notifications.
    public_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None

    @property
    def database_url(self) -> str:
        """The Tortoise URL: the configured one, or SQLite inside the data directory."""
        if self.db_url:
            return normalize_db_url(self.db_url)
        return f"sqlite://{self.data_dir.resolve() / 'kotowari.sqlite3'}"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def smtp(self) -> SmtpConfig | None:
        """The relay for notifier e-mail, or None when no SMTP host is configured."""
        if not self.smtp_host:
            return None
        return SmtpConfig(
            host=self.smtp_host,
            sender=self.smtp_from or f"kotowari@{self.smtp_host}",
            port=self.smtp_port,
            starttls=self.smtp_starttls,
            username=self.smtp_user,
            password=self.smtp_password,
            timeout=self.webhook_timeout,
        )

    @property
    def personal_retention(self) -> timedelta | None:
        return timedelta(days=self.personal_retention_days) if self.personal_retention_days > 0 else None

    @property
    def clock_window(self) -> ClockWindow:
        return ClockWindow(
            max_age=timedelta(seconds=self.max_age_seconds), max_skew=timedelta(seconds=self.max_skew_seconds)
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `KOTOWARI_*` variables, then explicit overrides (CLI flags) that are not None."""
        env = os.environ if environ is None else environ
        settings = cls()
        names: dict[str, tuple[str, Callable[[str], Any]]] = {
            "data_dir": ("KOTOWARI_DATA_DIR", Path),
            "db_url": ("KOTOWARI_DB", str),
            "host": ("KOTOWARI_HOST", str),
            "port": ("KOTOWARI_PORT", int),
            "max_body_bytes": ("KOTOWARI_MAX_BODY_BYTES", int),
            "max_check_items": ("KOTOWARI_MAX_CHECK_ITEMS", int),
            "max_bulk_documents": ("KOTOWARI_MAX_BULK_DOCUMENTS", int),
            "max_age_seconds": ("KOTOWARI_MAX_AGE_SECONDS", int),
            "max_skew_seconds": ("KOTOWARI_MAX_SKEW_SECONDS", int),
            "log_origin": ("KOTOWARI_LOG_ORIGIN", str),
            "embedding_spaces": ("KOTOWARI_EMBEDDING_SPACES", parse_spaces),
            "webhook_allow_private": ("KOTOWARI_WEBHOOK_ALLOW_PRIVATE", parse_flag),
            "webhook_timeout": ("KOTOWARI_WEBHOOK_TIMEOUT", float),
            "webhook_attempts": ("KOTOWARI_WEBHOOK_ATTEMPTS", int),
            "webhook_backoff": ("KOTOWARI_WEBHOOK_BACKOFF", float),
            "reminder_interval": ("KOTOWARI_REMINDER_INTERVAL", float),
            "fetch_allow_private": ("KOTOWARI_FETCH_ALLOW_PRIVATE", parse_flag),
            "fetch_ca_file": ("KOTOWARI_FETCH_CA_FILE", str),
            "fetch_https_port": ("KOTOWARI_FETCH_HTTPS_PORT", int),
            "fetch_timeout": ("KOTOWARI_FETCH_TIMEOUT", float),
            "fetch_resolve": ("KOTOWARI_FETCH_RESOLVE", parse_resolve),
            "dns_nameserver": ("KOTOWARI_DNS_NAMESERVER", str),
            "verification_interval": ("KOTOWARI_VERIFICATION_INTERVAL", float),
            "witnesses": ("KOTOWARI_WITNESSES", parse_witnesses),
            "witness_quorum": ("KOTOWARI_WITNESS_QUORUM", int),
            "personal_retention_days": ("KOTOWARI_PERSONAL_RETENTION_DAYS", float),
            "public_url": ("KOTOWARI_PUBLIC_URL", str),
            "smtp_host": ("KOTOWARI_SMTP_HOST", str),
            "smtp_port": ("KOTOWARI_SMTP_PORT", int),
            "smtp_from": ("KOTOWARI_SMTP_FROM", str),
            "smtp_starttls": ("KOTOWARI_SMTP_STARTTLS", parse_flag),
            "smtp_user": ("KOTOWARI_SMTP_USER", str),
            "smtp_password": ("KOTOWARI_SMTP_PASSWORD", str),
        }
        values: dict[str, Any] = {}
        for name, (variable, convert) in names.items():
            if variable in env and env[variable] != "":
                try:
                    values[name] = convert(env[variable])
                except ValueError as exc:
                    raise ValueError(f"{variable}={env[variable]!r}: {exc}") from None
        values.update({name: value for name, value in overrides.items() if value is not None})
        if "data_dir" in values:
            values["data_dir"] = Path(values["data_dir"])
        return replace(settings, **values)


def parse_flag(text: str) -> bool:
    """`1/true/yes/on` or `0/false/no/off`, any case."""
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def parse_witnesses(text: str) -> dict[str, str]:
    """`https://w1.example/=name+hash+key,…` → {witness URL: cosignature verifier key}."""
    witnesses: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        url, _, key = part.partition("=")
        if not url.startswith(("http://", "https://")) or "+" not in key:
            raise ValueError(f"{part!r} is not URL=VERIFIER_KEY")
        witnesses[url] = key
    return witnesses


def parse_resolve(text: str) -> dict[str, str]:
    """`publisher.example=127.0.0.1,alice.example=::1` → {host: address}."""
    table: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        host, _, address = part.partition("=")
        try:
            ipaddress.ip_address(address.strip())
        except ValueError:
            raise ValueError(f"{part!r} is not host=IP") from None
        table[host.strip().lower()] = address.strip()
    return table


def parse_spaces(text: str) -> dict[str, int]:
    """`speaker/ecapa-tdnn-voxceleb:192,face/arcface-r100:512` → {name: dimensions}."""
    spaces: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, dimensions = part.rpartition(":")
        if not name or not dimensions.isdigit() or not 0 < int(dimensions) <= 4096:
            raise ValueError(f"embedding space {part!r} is not name:dimensions")
        spaces[name] = int(dimensions)
    return spaces


def normalize_db_url(url: str) -> str:
    """Accept the spellings people use (`postgresql://`, `sqlite:///abs`) for Tortoise's two engines."""
    for prefix in ("postgresql://", "postgresql+asyncpg://", "postgres+asyncpg://"):
        if url.startswith(prefix):
            return "postgres://" + url[len(prefix) :]
    if url.startswith(("postgres://", "sqlite://")):
        return url
    raise ValueError(f"unsupported database URL {url!r}: use sqlite://PATH or postgres://USER@HOST/DB")
