"""Webhook target checks and retry policy (the RFC 9421 primitives: tests/keys/test_http_signatures.py)."""

from __future__ import annotations

import pytest

from registry.notices.webhooks import (
    RetryPolicy,
    check_target,
    forbidden_address,
)


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
