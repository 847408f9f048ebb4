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
from crawler_client.policy import Policy

from .conftest import Route, Site

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
