"""The guarded HTTPS fetch against a real TLS server on 127.0.0.1 with a test CA."""

from __future__ import annotations

import hashlib
import ssl
import time

import pytest
import trustme

from registry.authority.fetch import FetchRefused, HttpsFetcher
from tests.registry.authority.conftest import HttpsServer, Resolutions, Route, TickingClock


async def test_a_document_is_fetched_from_the_checked_address_with_the_name_in_tls_and_host(
    https_server: HttpsServer, fetcher: HttpsFetcher, resolver: Resolutions
) -> None:
    body = b'{"hello": "world"}'
    https_server.route(
        "publisher.example", "/doc.json?x=1", Route(body, headers={"Content-Type": "application/json"})
    )
    fetched = await fetcher.get("https://publisher.example/doc.json?x=1", accept="application/json")
    assert fetched.status == 200
    assert fetched.body == body
    assert fetched.sha256 == hashlib.sha256(body).hexdigest()
    assert fetched.content_type == "application/json"
    assert fetched.address == "127.0.0.1"
    assert fetched.url == "https://publisher.example/doc.json?x=1"
    # The certificate names publisher.example and not 127.0.0.1: success means the name was checked.
    assert https_server.server_names == ["publisher.example"]
    assert https_server.requests == [("publisher.example", "/doc.json?x=1")]
    assert resolver.calls == [("publisher.example", https_server.port)]


async def test_the_host_is_resolved_once_per_fetch(
    https_server: HttpsServer, fetcher: HttpsFetcher, resolver: Resolutions
) -> None:
    https_server.route("*", "/a", Route(b"a"))
    await fetcher.get("https://alice.example/a")
    await fetcher.get("https://alice.example/a")
    assert resolver.calls == [("alice.example", https_server.port)] * 2
    assert https_server.server_names == ["alice.example"] * 2  # a fresh connection each time


async def test_fetched_at_comes_from_the_clock(https_server: HttpsServer, resolver: Resolutions) -> None:
    clock = TickingClock()
    https_server.route("*", "/a", Route(b"a"))
    context, port = https_server.client_context(), https_server.port
    fetcher = HttpsFetcher(allow_private=True, verify=context, resolve=resolver, https_port=port, clock=clock)
    assert (await fetcher.get("https://alice.example/a")).fetched_at == clock.now


async def test_an_explicit_port_is_used_and_sent_in_host(
    https_server: HttpsServer, resolver: Resolutions
) -> None:
    https_server.route("*", "/p", Route(b"p"))
    fetcher = HttpsFetcher(allow_private=True, verify=https_server.client_context(), resolve=resolver)
    await fetcher.get(f"https://alice.example:{https_server.port}/p")
    assert resolver.calls == [("alice.example", https_server.port)]
    assert https_server.requests == [(f"alice.example:{https_server.port}", "/p")]


async def test_a_body_larger_than_the_limit_is_refused(
    https_server: HttpsServer, fetcher: HttpsFetcher
) -> None:
    https_server.route("*", "/big", Route(b"x" * (64 * 1024 + 1)))
    https_server.route("*", "/streamed", Route(b"x" * (64 * 1024 + 1), length=False))
    https_server.route("*", "/exact", Route(b"x" * (64 * 1024)))
    with pytest.raises(FetchRefused, match=r"^https://alice\.example/big is larger than 65536 bytes$"):
        await fetcher.get("https://alice.example/big")
    with pytest.raises(FetchRefused, match="larger than 65536 bytes"):
        await fetcher.get("https://alice.example/streamed")
    assert len((await fetcher.get("https://alice.example/exact")).body) == 64 * 1024


async def test_a_caller_may_lower_the_limit_but_not_raise_it(
    https_server: HttpsServer, fetcher: HttpsFetcher
) -> None:
    https_server.route("*", "/k", Route(b"x" * 2048, length=False))
    with pytest.raises(FetchRefused, match="larger than 1024 bytes"):
        await fetcher.get("https://alice.example/k", max_bytes=1024)
    assert len((await fetcher.get("https://alice.example/k", max_bytes=10**9)).body) == 2048


async def test_a_slow_server_is_cut_off_at_the_time_limit(
    https_server: HttpsServer, fetcher: HttpsFetcher
) -> None:
    https_server.route("*", "/slow", Route(b"late", delay=1.5))
    started = time.monotonic()
    with pytest.raises(FetchRefused, match=r"^https://alice\.example/slow gave no answer within 0\.5 s$"):
        await fetcher.get("https://alice.example/slow")
    assert time.monotonic() - started < 1.2


async def test_the_time_limit_covers_the_whole_body(https_server: HttpsServer, fetcher: HttpsFetcher) -> None:
    # Each chunk arrives well within the limit; the whole body does not.
    https_server.route("*", "/trickle", Route(b"x" * 160, trickle=0.1, length=False))
    with pytest.raises(FetchRefused, match=r"no answer within 0\.5 s"):
        await fetcher.get("https://alice.example/trickle")


async def test_a_slow_resolver_counts_against_the_time_limit(https_server: HttpsServer) -> None:
    import asyncio

    async def slow(host: str, port: int) -> list[str]:
        await asyncio.sleep(2)
        return ["127.0.0.1"]

    fetcher = HttpsFetcher(
        allow_private=True, verify=https_server.client_context(), timeout=0.3, resolve=slow
    )
    with pytest.raises(FetchRefused, match=r"no answer within 0\.3 s"):
        await fetcher.get("https://alice.example/")


@pytest.mark.parametrize("status", [404, 500, 204])
async def test_statuses_other_than_2xx_are_refused(
    https_server: HttpsServer, fetcher: HttpsFetcher, status: int
) -> None:
    https_server.route("*", "/s", Route(b"", status=status))
    if status == 204:
        assert (await fetcher.get("https://alice.example/s")).status == 204
        return
    with pytest.raises(
        FetchRefused, match=rf"^https://alice\.example/s answered HTTP {status}, not a 2xx success$"
    ):
        await fetcher.get("https://alice.example/s")


async def test_a_missing_document_is_a_404(https_server: HttpsServer, fetcher: HttpsFetcher) -> None:
    with pytest.raises(FetchRefused, match="HTTP 404"):
        await fetcher.get("https://alice.example/nothing-here")


async def test_redirects_are_refused_by_default(https_server: HttpsServer, fetcher: HttpsFetcher) -> None:
    https_server.route(
        "*", "/moved", Route(status=302, headers={"Location": "https://publisher.example/there"})
    )
    with pytest.raises(
        FetchRefused, match=r"HTTP 302, a redirect to https://publisher\.example/there, which is not"
    ):
        await fetcher.get("https://alice.example/moved")
    assert https_server.count("/there") == 0


async def test_permitted_redirects_are_guarded_hop_by_hop(
    https_server: HttpsServer, resolver: Resolutions
) -> None:
    https_server.route("*", "/one", Route(status=301, headers={"Location": "/two"}))
    https_server.route(
        "*", "/two", Route(status=307, headers={"Location": "https://publisher.example/three"})
    )
    https_server.route("*", "/three", Route(b"done"))
    https_server.route(
        "*", "/plain", Route(status=302, headers={"Location": "http://publisher.example/three"})
    )
    https_server.route("*", "/away", Route(status=302, headers={"Location": "https://gone.invalid/x"}))
    context, port = https_server.client_context(), https_server.port
    fetcher = HttpsFetcher(
        allow_private=True, max_redirects=2, verify=context, resolve=resolver, https_port=port
    )
    fetched = await fetcher.get("https://alice.example/one")
    assert (fetched.url, fetched.body) == ("https://publisher.example/three", b"done")
    with pytest.raises(FetchRefused, match="not an https URL"):
        await fetcher.get("https://alice.example/plain")
    with pytest.raises(FetchRefused, match="redirects more than 1 times"):
        once = HttpsFetcher(
            allow_private=True, max_redirects=1, verify=context, resolve=resolver, https_port=port
        )
        await once.get("https://alice.example/one")
    # Every hop is resolved (and so checked) on its own.
    resolver.calls.clear()
    with pytest.raises(FetchRefused, match=r"cannot resolve the host of https://gone\.invalid/x"):
        await fetcher.get("https://alice.example/away")
    assert [host for host, _port in resolver.calls] == ["alice.example", "gone.invalid"]


async def test_a_certificate_for_another_name_is_refused(
    https_server: HttpsServer, fetcher: HttpsFetcher
) -> None:
    https_server.route("*", "/a", Route(b"a"))
    with pytest.raises(
        FetchRefused, match=r"^TLS with https://other\.example/a failed: .*(Hostname mismatch|match)"
    ):
        await fetcher.get("https://other.example/a")
    assert https_server.requests == []


async def test_a_certificate_from_an_untrusted_ca_is_refused(
    https_server: HttpsServer, resolver: Resolutions
) -> None:
    https_server.route("*", "/a", Route(b"a"))
    other = ssl.create_default_context()
    trustme.CA().configure_trust(other)
    fetcher = HttpsFetcher(allow_private=True, verify=other, resolve=resolver, https_port=https_server.port)
    with pytest.raises(FetchRefused, match=r"^TLS with https://alice\.example/a failed: .*certificate"):
        await fetcher.get("https://alice.example/a")
    assert https_server.requests == []


async def test_the_default_trust_store_does_not_know_the_test_ca(
    https_server: HttpsServer, resolver: Resolutions
) -> None:
    fetcher = HttpsFetcher(allow_private=True, resolve=resolver, https_port=https_server.port)
    with pytest.raises(FetchRefused, match="TLS with"):
        await fetcher.get("https://alice.example/a")


async def test_a_ca_bundle_file_may_be_given_by_path(
    https_server: HttpsServer, resolver: Resolutions, ca: trustme.CA
) -> None:
    https_server.route("*", "/a", Route(b"a"))
    with ca.cert_pem.tempfile() as bundle:
        fetcher = HttpsFetcher(
            allow_private=True, verify=bundle, resolve=resolver, https_port=https_server.port
        )
        assert (await fetcher.get("https://alice.example/a")).body == b"a"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://alice.example/a", "not an https URL"),
        ("ftp://alice.example/a", "not an https URL"),
        ("alice.example/a", "not an https URL"),
        ("https://user:pw@alice.example/a", "carries credentials"),
        ("https://user@alice.example/a", "carries credentials"),
        ("https:///a", "does not name a valid host"),
        ("https://al ice.example/a", "does not name a valid host"),
        ("https://ålice.example/a", "does not name a valid host"),
        ("https://alice.example:99999/a", "not a valid URL"),
        ("https://[::1/a", "not a valid URL"),
    ],
)
async def test_urls_that_are_not_plain_https_are_refused_before_any_lookup(
    https_server: HttpsServer, fetcher: HttpsFetcher, resolver: Resolutions, url: str, reason: str
) -> None:
    with pytest.raises(FetchRefused, match=reason):
        await fetcher.get(url)
    assert resolver.calls == []
    assert https_server.requests == []


@pytest.mark.parametrize(
    "addresses",
    [["10.0.0.1"], ["127.0.0.1"], ["100.64.1.1"], ["::ffff:10.0.0.1"], ["2002:0a00:0001::1"],
     ["169.254.169.254"], ["::1"], ["fe80::1%eth0"], ["93.184.216.34", "192.168.0.1"]],
)  # fmt: skip
async def test_private_addresses_are_refused_without_a_connection(
    https_server: HttpsServer, resolver: Resolutions, addresses: list[str]
) -> None:
    https_server.route("*", "/a", Route(b"a"))
    resolver.table["alice.example"] = addresses
    fetcher = HttpsFetcher(
        verify=https_server.client_context(), resolve=resolver, https_port=https_server.port
    )
    with pytest.raises(
        FetchRefused,
        match=r"^https://alice\.example/a is not fetched: alice\.example resolves to an address that"
        r" is not globally routable$",
    ) as refused:
        await fetcher.get("https://alice.example/a")
    assert not any(address.split("%")[0] in str(refused.value) for address in addresses)
    assert resolver.calls == [("alice.example", https_server.port)]
    assert https_server.requests == [] and https_server.server_names == []


async def test_ip_literal_urls_are_checked_without_a_lookup(
    https_server: HttpsServer, resolver: Resolutions
) -> None:
    fetcher = HttpsFetcher(
        verify=https_server.client_context(), resolve=resolver, https_port=https_server.port
    )
    with pytest.raises(FetchRefused, match=r"127\.0\.0\.1 is a loopback address"):
        await fetcher.get("https://127.0.0.1/a")
    with pytest.raises(FetchRefused, match="is the loopback address"):
        await fetcher.get("https://[::1]/a")
    assert resolver.calls == [] and https_server.requests == []


async def test_unresolvable_hosts_are_refused(fetcher: HttpsFetcher, resolver: Resolutions) -> None:
    with pytest.raises(FetchRefused, match=r"^cannot resolve the host of https://nowhere\.invalid/: Name or"):
        await fetcher.get("https://nowhere.invalid/")
    resolver.table["empty.example"] = []
    with pytest.raises(FetchRefused, match="resolves to no address"):
        await fetcher.get("https://empty.example/")


async def test_a_refused_connection_is_reported(https_server: HttpsServer, resolver: Resolutions) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]  # bound, never listening: connections are refused
        fetcher = HttpsFetcher(allow_private=True, resolve=resolver, https_port=closed_port, timeout=0.5)
        with pytest.raises(
            FetchRefused, match=r"^cannot connect to https://alice\.example/ at 127\.0\.0\.1: "
        ):
            await fetcher.get("https://alice.example/")


async def test_the_next_address_is_tried_when_one_refuses_connections(
    https_server: HttpsServer, resolver: Resolutions
) -> None:
    https_server.route("*", "/a", Route(b"a"))
    resolver.table["alice.example"] = ["127.0.0.2", "127.0.0.1"]  # 127.0.0.2 has no listener on the port
    fetcher = HttpsFetcher(
        allow_private=True,
        verify=https_server.client_context(),
        resolve=resolver,
        https_port=https_server.port,
    )
    assert (await fetcher.get("https://alice.example/a")).address == "127.0.0.1"


async def test_compressed_answers_are_refused(https_server: HttpsServer, fetcher: HttpsFetcher) -> None:
    https_server.route("*", "/gz", Route(b"\x1f\x8b", headers={"Content-Encoding": "gzip"}))
    with pytest.raises(FetchRefused, match="Content-Encoding gzip, not identity"):
        await fetcher.get("https://alice.example/gz")
    assert https_server.requests


async def test_a_closed_fetcher_refuses(fetcher: HttpsFetcher) -> None:
    async with fetcher as open_fetcher:
        assert open_fetcher is fetcher
    with pytest.raises(FetchRefused, match="closed"):
        await fetcher.get("https://alice.example/")


def test_nonsense_settings_are_refused() -> None:
    for settings in ({"timeout": 0}, {"max_bytes": 0}, {"https_port": 0}, {"max_redirects": -1}):
        with pytest.raises(ValueError):
            HttpsFetcher(**settings)  # type: ignore[arg-type]
