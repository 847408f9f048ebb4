"""Errors the client raises.

KotowariError                 base; `str(e)` is one line a person can act on
├── RegistryUnavailable       no answer: connection refused, timeout, not HTTP (after every retry)
│   └── RegistryBusy          still 429/502/503/504 after every retry: `status`, `retry_after`
├── RegistryProblem           the registry refused: carries the RFC 9457 problem details
│   └── AlreadyFiled          409: this very signed document is already in the registry (`document_id`)
├── UnexpectedAnswer          an answer that is not what the protocol promises
├── UntrustedAnswer           a signed answer the client will not rely on
│   ├── InvalidSignedAnswer   tampered, malformed or not signed by the registry it names; a bad
│   │                         cosignature; a log the witnessed one does not extend (a split view)
│   ├── RegistryKeyMismatch   the registry's key is not the one pinned or given (`expected`, `found`)
│   └── NotWitnessed          fewer than the required witnesses cosigned a checkpoint covering it
├── GuardInputError           an input the generation guard cannot check (`crawler_client.guard`)
├── InvalidGuardRecord        a guard record that does not verify (`crawler_client.guard_record`)
└── FetchRefused              the guarded fetcher would not fetch or hand over a URL (`decision`)
    ├── UseReserved           a signal reserves the declared use, or robots.txt forbids the fetch
    └── AddressRefused        the host resolves to an address that is not globally routable

The client retries what is safe to repeat (see `crawler_client.core.RetryPolicy`), so
`RegistryUnavailable` means the registry stayed unreachable for the whole retry budget.
`UntrustedAnswer` is never retried: a registry that signs with another key, or an answer that
does not verify, is a fact to report, not a fault to wait out.
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


class RegistryBusy(RegistryUnavailable):
    """Still overloaded or failing (429, 502, 503, 504) after every retry the policy allows.

    `retry_after` is the registry's last `Retry-After` in seconds, when it sent one: a caller with
    more patience than the policy can wait that long and try again.
    """

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class AlreadyFiled(RegistryProblem):
    """The registry already holds this very signed document (same id), filed by an earlier call.

    Raised when the caller files the same document twice; a retry *inside* one call, after a lost
    answer, recovers the receipt instead (see `crawler_client.core`).
    """

    def __init__(self, status: int, body: dict[str, Any], document_id: str) -> None:
        super().__init__(status, body)
        self.document_id = document_id


class UntrustedAnswer(KotowariError):
    """A signed answer or receipt the client refuses to rely on."""


class InvalidSignedAnswer(UntrustedAnswer):
    """The signature, checkpoint or proof does not verify, or the answer is malformed."""


class RegistryKeyMismatch(UntrustedAnswer):
    """The registry identifies (or signs) with a key other than the pinned or given one."""

    def __init__(self, message: str, *, expected: str, found: str) -> None:
        super().__init__(message)
        self.expected = expected
        self.found = found


class NotWitnessed(UntrustedAnswer):
    """No checkpoint cosigned by enough of the trusted witnesses covers the checkpoint an answer,
    receipt or snapshot names, even after waiting the client's `witness_wait` for them to catch up.

    `tree_size` is the size named; `required` the cosignatures needed; `cosigned_size` the size of
    the newest checkpoint the registry served and `cosigned_by` the trusted witnesses whose
    cosignatures it carries (those that count for `tree_size`: none when it is smaller).
    """

    def __init__(
        self,
        message: str,
        *,
        tree_size: int,
        required: int,
        cosigned_size: int | None,
        cosigned_by: list[str],
    ) -> None:
        super().__init__(message)
        self.tree_size = tree_size
        self.required = required
        self.cosigned_size = cosigned_size
        self.cosigned_by = cosigned_by


class FetchRefused(KotowariError):
    """The guarded fetcher refused a URL. `decision` (a `crawler_client.policy.Decision`) names every
    signal consulted and its verdict, for the crawl log; the guarded transports always set it (for an
    address refusal its one signal is the address guard's). Raised elsewhere it may be None, so
    `explain()` is the one line to print either way."""

    def __init__(self, message: str, decision: Any = None) -> None:
        super().__init__(message)
        self.decision = decision

    def explain(self) -> str:
        """The decision's explanation, or the message when there is no decision."""
        explain = getattr(self.decision, "explain", None)
        return str(explain()) if callable(explain) else str(self)


class UseReserved(FetchRefused):
    """A signal reserves the declared use for this URL, or robots.txt forbids fetching it."""


class AddressRefused(FetchRefused):
    """The host resolves to an address that is not globally routable (an SSRF guard,
    `registry.addresses`): a crawler following public links must not reach into the network it runs
    in. Raised before the request, or when connecting if the name has since resolved elsewhere."""
