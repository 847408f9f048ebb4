"""The guarded transports: refusals before and after the fetch, audit log, crawl delay, concurrency."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from typing import Any

import httpx
import pytest

from crawler_client.errors import AddressRefused, FetchRefused, KotowariError, UseReserved
from crawler_client.fetcher import AsyncGuardedTransport, GuardedTransport
from crawler_client.policy import Policy, SiteCache, SiteFile
from tests.local_servers import counting_server
from tests.registry.authority import conftest as https_fixtures
from tests.registry.authority.conftest import HttpsServer
from tests.registry.authority.conftest import Route as HttpsRoute

from .conftest import Route, Site

# The test CA and HTTPS server of the authority tests (a certificate for alice.example, not for
# 127.0.0.1), as fixtures of this module too.
ca = https_fixtures.ca
_https_server = https_fixtures._https_server
https_server = https_fixtures.https_server

UA = "ExampleBot/1.0"


def client(policy: Policy, purpose: str = "train-ai", **kwargs: Any) -> httpx.Client:
    transport = GuardedTransport(policy, purpose=purpose, user_agent=UA, **kwargs)
    return httpx.Client(transport=transport, follow_redirects=True, timeout=5)


def test_refusals_are_kotowari_errors() -> None:
    assert issubclass(UseReserved, FetchRefused)
    assert issubclass(AddressRefused, FetchRefused)
    assert issubclass(FetchRefused, KotowariError)


def test_allowed_fetch_returns_content_and_sends_the_declared_user_agent(site: Site, policy: Policy) -> None:
    site.route("/a", "hello", headers={"Content-Type": "text/plain"})
    with client(policy) as http:
        response = http.get(site.url("/a"))
    assert response.text == "hello"
    assert (site.url("/a").removeprefix(site.base), UA) in site.hits


def test_reserved_url_is_never_fetched(site: Site, policy: Policy) -> None:
    site.route("/robots.txt", "User-agent: *\nContent-Usage: /art/ train-ai=n\n")
    site.route("/art/x.png", "secret")
    with client(policy) as http, pytest.raises(UseReserved) as refused:
        http.get(site.url("/art/x.png"))
    assert "/art/x.png" not in site.paths()
    assert refused.value.decision.stage == "pre-fetch"
    assert "Content-Usage" in str(refused.value)


def test_post_fetch_refusal_withholds_the_content(site: Site, policy: Policy) -> None:
    site.route("/a", "body", headers=[("X-Robots-Tag", "noai")])
    with client(policy) as http, pytest.raises(UseReserved) as refused:
        http.get(site.url("/a"))
    assert refused.value.decision.stage == "post-fetch"
    with client(policy, purpose="search") as http:
        assert http.get(site.url("/a")).text == "body"


def test_every_redirect_hop_is_judged(site: Site, policy: Policy) -> None:
    site.route("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    site.route("/open", status=302, headers={"Location": "/private/x"})
    with client(policy, purpose="search") as http, pytest.raises(UseReserved):
        http.get(site.url("/open"))
    assert "/private/x" not in site.paths()


def test_gzip_content_is_inspected_decoded_and_handed_over_intact(site: Site, policy: Policy) -> None:
    import gzip

    html = b'<html><head><meta name="robots" content="noai"></head></html>'
    site.route("/z", gzip.compress(html), headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
    with client(policy) as http, pytest.raises(UseReserved):
        http.get(site.url("/z"))
    with client(policy, purpose="search") as http:
        assert http.get(site.url("/z")).content == html


def test_private_addresses_raise_address_refused(site: Site) -> None:
    site.route("/a", "x")
    with Policy() as public_only, client(public_only) as http, pytest.raises(AddressRefused):
        http.get(site.url("/a"))
    assert site.paths() == []


def test_audit_log_has_one_json_line_per_decision(site: Site, policy: Policy, tmp_path: Any) -> None:
    site.route("/a", "x")
    site.route("/b", "x", headers={"tdm-reservation": "1"})
    log = tmp_path / "audit.jsonl"
    with client(policy, audit=log) as http:
        http.get(site.url("/a"))
        with pytest.raises(UseReserved):
            http.get(site.url("/b"))
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["event"], r["allowed"]) for r in lines] == [
        ("pre-fetch", True),
        ("post-fetch", True),
        ("pre-fetch", True),
        ("post-fetch", False),
    ]
    assert {s["source"] for s in lines[-1]["signals"]} >= {"robots.txt", "TDMRep", "X-Robots-Tag"}
    stream = io.StringIO()
    with client(policy, audit=stream) as http:
        http.get(site.url("/a"))
    assert len(stream.getvalue().splitlines()) == 2


def test_crawl_delay_spaces_requests_to_one_host(site: Site, policy: Policy) -> None:
    site.route("/robots.txt", "User-agent: examplebot\nCrawl-delay: 5\n")
    site.route("/a", "x")
    clock = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    with client(policy, monotonic=lambda: clock[0], sleep=sleep) as http:
        for _ in range(3):
            http.get(site.url("/a"))
    assert waits == [5.0, 5.0]


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ("Request-rate: 1/8s\n", 8.0),  # one request per 8 s
        ("Request-rate: 3/6s\nCrawl-delay: 1\n", 2.0),  # the rate asks for more than the delay
        ("Crawl-delay: 4\nRequest-rate: 2/2s\n", 4.0),  # the delay asks for more than the rate
    ],
)
def test_request_rate_spaces_requests_as_well(
    site: Site, policy: Policy, records: str, expected: float
) -> None:
    site.route("/robots.txt", "User-agent: examplebot\n" + records)
    site.route("/a", "x")
    clock = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    with client(policy, monotonic=lambda: clock[0], sleep=sleep) as http:
        for _ in range(3):
            http.get(site.url("/a"))
    assert waits == [expected, expected]


def test_per_host_concurrency_limit(site: Site, policy: Policy) -> None:
    active = [0]
    peak = [0]
    lock = threading.Lock()

    def slow(path: str) -> Route:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.15)
        with lock:
            active[0] -= 1
        return Route(200, b"x")

    site.routes["/slow"] = slow
    policy.evaluate(site.url("/slow"), "search", UA)  # warm the site-file cache
    with client(policy, purpose="search", max_per_host=2) as http:
        threads = [threading.Thread(target=http.get, args=(site.url("/slow"),)) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert peak[0] == 2


def test_async_transport_enforces_the_same_policy(site: Site, policy: Policy) -> None:
    site.route("/robots.txt", "User-agent: *\nDisallow: /no\n")
    site.route("/yes", "fine")
    site.route("/meta", '<meta name="examplebot" content="noai">', headers={"Content-Type": "text/html"})
    records: list[dict[str, Any]] = []

    async def run() -> list[str]:
        transport = AsyncGuardedTransport(policy, purpose="train-ai", user_agent=UA, audit=records.append)
        outcomes = []
        async with httpx.AsyncClient(transport=transport, timeout=5) as http:
            outcomes.append((await http.get(site.url("/yes"))).text)
            for path in ("/no", "/meta"):
                try:
                    await http.get(site.url(path))
                except UseReserved as exc:
                    outcomes.append(exc.decision.stage)
        return outcomes

    assert asyncio.run(run()) == ["fine", "pre-fetch", "post-fetch"]
    assert "/no" not in site.paths()
    assert len(records) == 5


def test_policy_aevaluate(site: Site) -> None:
    site.route("/robots.txt", "User-agent: *\nContent-Signal: ai-train=no\n")

    async def run() -> bool:
        quick = Policy(allow_private=True, timeout=2)
        try:
            return (await quick.aevaluate(site.url("/x"), "train-ai", UA)).allowed
        finally:
            await quick.aclose()

    assert asyncio.run(run()) is False


def test_bad_configuration_is_refused(policy: Policy) -> None:
    with pytest.raises(ValueError):
        GuardedTransport(policy, purpose="train-ai", user_agent="/1.0")
    with pytest.raises(ValueError):
        GuardedTransport(policy, purpose="steal", user_agent=UA)
    with pytest.raises(ValueError):
        GuardedTransport(policy, purpose="search", user_agent=UA, max_per_host=0)


def test_compressed_bodies_are_inspected_only_up_to_a_bound(
    site: Site, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    from crawler_client import fetcher

    monkeypatch.setattr(fetcher, "INSPECT_BYTES", 4096)
    head = b'<html><head><meta name="robots" content="noai"></head><body>'
    bomb = gzip.compress(head + b" " * 20_000_000)  # 20 MB of spaces, about 20 KB compressed
    site.route("/bomb", bomb, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
    with client(policy) as http, pytest.raises(UseReserved):
        http.get(site.url("/bomb"))
    with client(policy, purpose="search") as http:
        assert len(http.get(site.url("/bomb")).content) == len(head) + 20_000_000


# ------------------------------------------------------------------ the address guard, end to end


def test_an_address_refusal_explains_itself_like_every_refusal(site: Site) -> None:
    records: list[dict[str, Any]] = []
    with (
        Policy() as public_only,
        client(public_only, audit=records.append) as http,
        pytest.raises(AddressRefused) as refused,
    ):
        http.get(site.url("/a"))
    assert refused.value.decision is not None and not refused.value.decision.allowed
    assert refused.value.explain() == refused.value.decision.explain()
    assert refused.value.explain().startswith(
        f"disallowed: {site.url('/a')} for train-ai: address: 127.0.0.1 is"
    )
    assert [record["event"] for record in records] == ["refused"]
    assert FetchRefused("no decision here").explain() == "no decision here"


class Flipping:
    """A resolver stub answering a public address `public_answers` times, then 127.0.0.1."""

    def __init__(self, public_answers: int) -> None:
        self.public_answers = public_answers
        self.calls = 0

    def __call__(self, host: str) -> list[str]:
        self.calls += 1
        return ["93.184.216.34"] if self.calls <= self.public_answers else ["127.0.0.1"]


def _cached_site_files(origin: str) -> SiteCache:
    """Site files already known (none exists), so that no site-file request is needed: the only
    connection a fetch makes is the content request's."""
    cache = SiteCache()
    for path in ("/robots.txt", "/.well-known/tdmrep.json", "/ai.txt"):
        cache.put(SiteFile(origin + path, 404, expires_at=float("inf")))
    return cache


@pytest.mark.parametrize("public_answers", [0, 1, 2])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_host_that_rebinds_to_loopback_is_never_connected_to(mode: str, public_answers: int) -> None:
    """Whichever lookup first answers 127.0.0.1 (the transport's check, the policy's, or the
    connection's own), the fetch is refused and the local server never accepts a connection."""
    with counting_server() as server:
        server.route("/secret", b"internal")
        url = server.url("rebind.example", "/secret")
        origin = url.removesuffix("/secret")
        resolver = Flipping(public_answers)
        policy = Policy(resolver=resolver, cache=_cached_site_files(origin))
        if mode == "sync":
            with client(policy) as http, pytest.raises(FetchRefused) as refused:
                http.get(url)
        else:

            async def run() -> None:
                transport = AsyncGuardedTransport(policy, purpose="train-ai", user_agent=UA)
                async with httpx.AsyncClient(transport=transport, timeout=5) as http:
                    await http.get(url)

            with pytest.raises(FetchRefused) as refused:
                asyncio.run(run())
        assert server.connections == 0
        assert resolver.calls == public_answers + 1
        assert (
            "rebind.example resolves to an address that is not globally routable" in refused.value.explain()
        )
        if public_answers == 2:  # refused when connecting, not by a check
            assert isinstance(refused.value, AddressRefused)


def test_an_https_site_is_reached_by_name_at_the_vetted_address_with_its_certificate_checked(
    https_server: HttpsServer,
) -> None:
    https_server.route(
        "alice.example", "/art/a.txt", HttpsRoute(b"hello", headers={"Content-Type": "text/plain"})
    )
    with Policy(allow_private=True, resolver=lambda host: ["127.0.0.1"]) as policy:
        inner = policy.guard.transport(verify=https_server.client_context())
        transport = GuardedTransport(policy, purpose="search", user_agent=UA, transport=inner)
        with httpx.Client(transport=transport, timeout=5) as http:
            response = http.get(f"https://alice.example:{https_server.port}/art/a.txt")
    assert response.text == "hello"
    assert {path for _host, path in https_server.requests} >= {"/robots.txt", "/art/a.txt"}
    assert set(https_server.server_names) == {"alice.example"}
