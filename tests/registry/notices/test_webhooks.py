"""Webhook target checks and retry policy (the RFC 9421 primitives: tests/keys/test_http_signatures.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import keys
from registry.notices.webhooks import (
    RetryPolicy,
    WebhookDeliverer,
    check_target,
    forbidden_address,
)
from tests.local_servers import counting_server


@pytest.mark.parametrize(
    "address",
    ["10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
     "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "224.0.0.1"],
)  # fmt: skip
def test_private_loopback_and_link_local_addresses_are_forbidden(address: str) -> None:
    assert forbidden_address(address)


def test_public_addresses_are_allowed() -> None:
    assert not forbidden_address("93.184.216.34")
    assert not forbidden_address("2606:2800:220:1:248:1893:25c8:1946")


async def test_every_resolved_address_is_checked() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.1.2.3"]

    with pytest.raises(ValueError, match="not globally routable") as refused:
        await check_target("https://hooks.example/", resolve=resolver)
    assert "10.1.2.3" not in str(refused.value)  # what a name resolves to is never echoed


async def test_targets_must_be_https_without_credentials_unless_private_is_allowed() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    with pytest.raises(ValueError, match="https"):
        await check_target("http://hooks.example/", resolve=resolver)
    with pytest.raises(ValueError, match="credentials"):
        await check_target("https://user:pw@hooks.example/", resolve=resolver)
    with pytest.raises(ValueError, match=r"127\.0\.0\.1 is a loopback address"):
        await check_target("https://127.0.0.1:8443/")
    assert await check_target("https://hooks.example/", resolve=resolver) == ["93.184.216.34"]
    assert await check_target("http://127.0.0.1:9/", allow_private=True) == ["127.0.0.1"]


async def test_unresolvable_targets_are_refused() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(ValueError, match="cannot resolve"):
        await check_target("https://nowhere.invalid/", resolve=resolver)


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=10, backoff=30, max_backoff=100)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


# ------------------------------------------------------------------ delivery connects to the checked address


class _Store:
    """What one delivery attempt reads from the notice store."""

    on_event: Any = None

    def __init__(self) -> None:
        self.signer = keys.SigningKey.generate()

    def clock(self) -> datetime:
        return datetime.now(UTC)

    async def get_notice(self, notice_id: str) -> dict[str, Any]:
        return {"id": notice_id}


class _Answers:
    """A resolver stub: a public address for the first `public` calls, then 127.0.0.1."""

    def __init__(self, public: int) -> None:
        self.public = public
        self.calls = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return ["93.184.216.34"] if self.calls <= self.public else ["127.0.0.1"]


async def test_a_webhook_name_that_rebinds_after_the_check_is_refused_and_never_connected_to() -> None:
    with counting_server() as server:
        answers = _Answers(public=1)  # the check sees a public address, the connection 127.0.0.1
        deliverer = WebhookDeliverer(_Store(), resolve=answers)
        url = f"https://hooks.example:{server.port}/hook"
        outcome, status, error = await deliverer._attempt(url, "n-1", "notice")
        assert (outcome, status) == ("refused", None)
        assert error == "hooks.example resolves to an address that is not globally routable"
        assert answers.calls == 2 and server.connections == 0


async def test_a_webhook_is_delivered_to_the_address_its_name_resolved_to() -> None:
    with counting_server() as server:
        server.route("/hook", b"ok")
        answers = _Answers(public=0)
        deliverer = WebhookDeliverer(_Store(), allow_private=True, resolve=answers)
        outcome, status, _error = await deliverer._attempt(
            f"http://hooks.example:{server.port}/hook", "n-1", "notice"
        )
        assert (outcome, status) == ("delivered", 200)
        assert server.requests == [(f"hooks.example:{server.port}", "/hook")]
