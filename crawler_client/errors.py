"""Errors the client raises.

KotowariError                 base; `str(e)` is one line a person can act on
├── RegistryUnavailable       no answer: connection refused, timeout, not HTTP
├── RegistryProblem           the registry refused: carries the RFC 9457 problem details
├── UnexpectedAnswer          an answer that is not what the protocol promises
└── FetchRefused              the guarded fetcher would not fetch or hand over a URL (`decision`)
    ├── UseReserved           a signal reserves the declared use, or robots.txt forbids the fetch
    └── AddressRefused        the host resolves to a private, loopback or link-local address
"""

from __future__ import annotations

from typing import Any


class KotowariError(Exception):
    """Base of every client error."""


class RegistryUnavailable(KotowariError):
    """The registry could not be reached or did not answer in time."""


class UnexpectedAnswer(KotowariError):
    """The registry answered something the protocol does not allow."""


class RegistryProblem(KotowariError):
    """A problem+json answer: `status`, `type`, `title`, `detail` and field `errors`."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.type = str(body.get("type", "about:blank"))
        self.title = str(body.get("title", ""))
        self.detail = str(body.get("detail", ""))
        self.errors: list[dict[str, str]] = list(body.get("errors") or [])
        where = ""
        if self.errors and self.errors[0].get("pointer"):
            where = f" (at {self.errors[0]['pointer']})"
        super().__init__(f"registry refused ({status} {self.title}): {self.detail}{where}")


class FetchRefused(KotowariError):
    """The guarded fetcher refused a URL. `decision` (a `crawler_client.policy.Decision`, or None)
    names every signal consulted and its verdict, for the crawl log."""

    def __init__(self, message: str, decision: Any = None) -> None:
        super().__init__(message)
        self.decision = decision


class UseReserved(FetchRefused):
    """A signal reserves the declared use for this URL, or robots.txt forbids fetching it."""


class AddressRefused(FetchRefused):
    """The host resolves to a private, loopback or link-local address (an SSRF guard): a crawler
    following public links must not reach into the network it runs in."""
