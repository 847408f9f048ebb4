"""RSL licences and robots.txt's site rules through `Policy`, against a site served on 127.0.0.1:
discovery in robots.txt, `Link` headers and HTML, the guarded fetch of the licence document, every
way a licence fails to be read (each failing closed), and `Sitemap` / `Crawl-delay` / `Request-rate`."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import httpx
import pytest

from crawler_client.cli import main
from crawler_client.errors import UseReserved
from crawler_client.fetcher import AsyncGuardedTransport, GuardedTransport
from crawler_client.licensing import MAX_LICENCES, SiteRules
from crawler_client.policy import Policy

from .conftest import Site

UA = "ExampleBot/1.0"
NS = 'xmlns="https://rslstandard.org/rsl"'
PROHIBIT_TRAINING = (
    f'<rsl {NS}><content url="/"><license><prohibits type="usage">ai-train</prohibits></license>'
    "</content></rsl>"
)
PAID = (
    f'<rsl {NS}><content url="/"><license><permits type="usage">ai-all</permits>'
    '<payment type="use"><amount currency="USD">0.015</amount><standard>https://lic.example/terms</standard>'
    "</payment></license></content></rsl>"
)
XML = {"Content-Type": "application/rsl+xml"}


def licensed(site: Site, document: str | bytes, *, path: str = "/license.xml", status: int = 200) -> str:
    """Serve `document` at `path` and name it in robots.txt; returns the licence URL."""
    url = site.url(path)
    site.route("/robots.txt", f"License: {url}\nUser-agent: *\nAllow: /\n")
    site.route(path, document, status=status, headers=XML)
    return url


def rsl_signals(decision: Any) -> list[dict[str, Any]]:
    return [s for s in decision.to_json()["signals"] if s["source"] == "RSL"]


def fetched(site: Site, path: str) -> httpx.Response:
    response = httpx.get(site.url(path))
    response.read()
    return response


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------ robots.txt License:


def test_a_robots_licence_is_fetched_and_the_decision_cites_it(site: Site, policy: Policy) -> None:
    url = licensed(site, PROHIBIT_TRAINING)
    refused = policy.evaluate(site.url("/post"), "train-ai", UA)
    assert not refused.allowed and refused.fetch_allowed
    assert (
        f"RSL: RSL licence {url} (robots.txt, content '/'): prohibited: train-ai, train-genai"
        in refused.explain()
    )
    assert refused.licences[0]["licence"] == url and refused.licences[0]["uses"]["train-ai"] == "prohibited"
    assert policy.evaluate(site.url("/post"), "search", UA).allowed
    assert site.paths().count("/license.xml") == 1  # cached like the other site files
    assert "/post" not in site.paths()


def test_a_paid_licence_is_reserved_unless_licensed_and_names_its_terms(site: Site, policy: Policy) -> None:
    licensed(site, PAID)
    decision = policy.evaluate(site.url("/a"), "ai-input", UA)
    assert not decision.allowed
    [signal] = rsl_signals(decision)
    assert signal["verdict"] == "n" and signal["terms"]["uses"]["ai-input"] == "licensable"
    assert "reserved unless licensed: train-ai, train-genai, ai-input, generate" in signal["reason"]
    assert "payment use 0.015 USD, standard terms https://lic.example/terms" in signal["reason"]
    assert decision.to_json()["licences"][0]["content"]["licences"][0]["payments"][0]["type"] == "use"


def test_a_licence_server_makes_even_a_free_licence_reserved_unless_licensed(
    site: Site, policy: Policy
) -> None:
    licensed(
        site,
        f'<rsl {NS}><content url="/" server="https://licensing.example/"><license>'
        '<permits type="usage">all</permits><payment type="free"/></license></content></rsl>',
    )
    decision = policy.evaluate(site.url("/a"), "search", UA)
    assert not decision.allowed
    assert "licence server https://licensing.example/" in decision.explain()


def test_a_free_licence_allows_even_when_unknown_is_denied(site: Site) -> None:
    licensed(
        site,
        f'<rsl {NS}><content url="/"><license><permits type="usage">ai-input</permits></license>'
        "</content></rsl>",
    )
    with Policy(allow_private=True, unknown="deny", timeout=2.0) as strict:
        assert strict.evaluate(site.url("/a"), "ai-input", UA).value == "y"
        assert not strict.evaluate(site.url("/a"), "search", UA).allowed  # not in the permits list


def test_a_license_line_must_be_an_absolute_url(site: Site, policy: Policy) -> None:
    # RSL: "[absoluteURL] ... must be a fully qualified URL"; robots.txt keeps only those
    site.route("/robots.txt", "License: /rsl/terms.xml\nUser-agent: *\nAllow: /\n")
    site.route("/rsl/terms.xml", PROHIBIT_TRAINING, headers=XML)
    assert policy.evaluate(site.url("/a"), "train-ai", UA).allowed
    assert "/rsl/terms.xml" not in site.paths()


def test_a_page_robots_txt_disallows_reads_no_licence(site: Site, policy: Policy) -> None:
    site.route("/robots.txt", f"License: {site.url('/license.xml')}\nUser-agent: *\nDisallow: /private/\n")
    assert not policy.evaluate(site.url("/private/a"), "search", UA).fetch_allowed
    assert "/license.xml" not in site.paths()


def test_every_license_line_binds_and_too_many_fail_closed(site: Site, policy: Policy) -> None:
    lines = "".join(f"License: {site.url(f'/l{i}.xml')}\n" for i in range(MAX_LICENCES + 1))
    site.route("/robots.txt", lines + "User-agent: *\nAllow: /\n")
    for i in range(MAX_LICENCES + 1):
        site.route(f"/l{i}.xml", f'<rsl {NS}><content url="/"><license/></content></rsl>', headers=XML)
    decision = policy.evaluate(site.url("/a"), "search", UA)
    assert len(rsl_signals(decision)) == MAX_LICENCES + 1
    assert f"/l{MAX_LICENCES}.xml" not in site.paths()
    assert not decision.allowed and "more than 8 licences" in decision.explain()


# ------------------------------------------------------------------ every way a licence fails (closed)


@pytest.mark.parametrize(
    ("document", "said"),
    [
        (f"<rsl {NS}><content url='/'><license>", "not well-formed XML"),
        (b'<!DOCTYPE rsl [<!ENTITY a "b">]>' + PROHIBIT_TRAINING.encode(), "DOCTYPE"),
        (PROHIBIT_TRAINING.replace("ai-train", "ai-train, ai-anything"), "'ai-anything'"),
        ("<html><body>Our licence</body></html>", "no RSL <content>"),
    ],
    ids=["malformed XML", "DOCTYPE", "unknown usage token", "not an RSL document"],
)
def test_a_licence_that_cannot_be_read_reserves_every_use(
    site: Site, policy: Policy, document: str | bytes, said: str
) -> None:
    url = licensed(site, document)
    decision = policy.evaluate(site.url("/a"), "search", UA)
    assert not decision.allowed and decision.fetch_allowed
    assert f"RSL licence {url} (robots.txt) could not be read" in decision.explain()
    assert said in decision.explain() and "counted as reserved unless licensed" in decision.explain()
    assert decision.licences[0]["status"] == "invalid"


def test_a_licence_over_one_mebibyte_is_cut_off_and_refused(site: Site, policy: Policy) -> None:
    licensed(site, PROHIBIT_TRAINING + "<!--" + "x" * (1024 * 1024) + "-->")
    decision = policy.evaluate(site.url("/a"), "search", UA)
    assert not decision.allowed and "larger than 1048576 bytes" in decision.explain()


def test_an_unreachable_licence_server_fails_closed(site: Site, policy: Policy) -> None:
    gone = f"http://127.0.0.1:{closed_port()}/royalty.xml"
    site.route("/robots.txt", f"License: {gone}\nUser-agent: *\nAllow: /\n")
    decision = policy.evaluate(site.url("/a"), "search", UA)
    assert not decision.allowed
    assert f"RSL licence {gone} (robots.txt) could not be read: unreachable (" in decision.explain()
    assert decision.licences[0]["status"] == "unreachable"


@pytest.mark.parametrize("status", [500, 503, 403, 429])
def test_a_licence_answering_an_error_fails_closed(site: Site, policy: Policy, status: int) -> None:
    licensed(site, "oops", status=status)
    decision = policy.evaluate(site.url("/a"), "search", UA)
    assert not decision.allowed and f"HTTP {status}" in decision.explain()


def test_a_missing_licence_says_nothing(site: Site, policy: Policy) -> None:
    licensed(site, "not found", status=404)
    decision = policy.evaluate(site.url("/a"), "train-ai", UA)
    assert decision.allowed and decision.value == "unknown"
    assert (
        rsl_signals(decision)[0]["verdict"] == "unknown" and "HTTP 404" in rsl_signals(decision)[0]["reason"]
    )


# ------------------------------------------------------------------ after the fetch: Link, HTML


def test_a_link_header_licence_is_read_after_the_fetch(site: Site, policy: Policy) -> None:
    site.route("/l.xml", PROHIBIT_TRAINING, headers=XML)
    link = f'</l.xml>; rel="license"; type="application/rsl+xml", <{site.url("/cc")}>; rel="license"'
    site.route("/page", "text", headers={"Link": link})
    pre = policy.evaluate(site.url("/page"), "train-ai", UA)
    assert pre.allowed and "/l.xml" not in site.paths()
    post = policy.post_fetch(pre, fetched(site, "/page"))
    assert not post.allowed and post.stage == "post-fetch"
    [signal] = rsl_signals(post)
    assert signal["stage"] == "post-fetch" and signal["terms"]["found_in"] == "Link header"
    assert "/cc" not in site.paths()  # a licence link without the RSL type is not an RSL document


def test_an_html_licence_link_and_an_inline_licence_are_read(site: Site, policy: Policy) -> None:
    site.route("/l.xml", PAID, headers=XML)
    page = (
        '<html><head><link rel="license" type="application/rsl+xml" href="/l.xml">'
        f'<script type="application/rsl+xml"><rsl {NS}><content url="/"><license>'
        '<prohibits type="usage">search</prohibits></license></content></rsl></script></head>'
        "<body>x</body></html>"
    )
    site.route("/page.html", page, headers={"Content-Type": "text/html; charset=utf-8"})
    post = policy.post_fetch(
        policy.evaluate(site.url("/page.html"), "search", UA), fetched(site, "/page.html")
    )
    found = {signal["terms"]["found_in"]: signal for signal in rsl_signals(post)}
    assert found["HTML link"]["terms"]["uses"]["ai-input"] == "licensable"
    assert (
        found["HTML script"]["verdict"] == "n"
        and found["HTML script"]["terms"]["uses"]["search"] == "prohibited"
    )
    assert not post.allowed


def test_a_licence_named_in_robots_and_a_header_is_read_once(site: Site, policy: Policy) -> None:
    url = licensed(site, PROHIBIT_TRAINING)
    site.route("/page", "x", headers={"Link": f'<{url}>; rel="license"; type="application/rsl+xml"'})
    post = policy.post_fetch(policy.evaluate(site.url("/page"), "search", UA), fetched(site, "/page"))
    assert len(rsl_signals(post)) == 1 and site.paths().count("/license.xml") == 1


def test_the_guarded_transport_withholds_content_a_linked_licence_reserves(
    site: Site, policy: Policy
) -> None:
    site.route("/l.xml", PROHIBIT_TRAINING, headers=XML)
    site.route("/page", "secret", headers={"Link": '</l.xml>; rel="license"; type="application/rsl+xml"'})
    transport = GuardedTransport(policy, purpose="train-ai", user_agent=UA)
    with httpx.Client(transport=transport) as http, pytest.raises(UseReserved) as refused:
        http.get(site.url("/page"))
    assert refused.value.decision.stage == "post-fetch" and "RSL licence" in str(refused.value)
    with httpx.Client(transport=GuardedTransport(policy, purpose="search", user_agent=UA)) as http:
        assert http.get(site.url("/page")).text == "secret"


def test_async_evaluation_reads_licences_before_and_after_the_fetch(site: Site) -> None:
    licensed(site, PAID)
    site.route("/l2.xml", PROHIBIT_TRAINING, headers=XML)
    site.route("/page", "x", headers={"Link": '</l2.xml>; rel="license"; type="application/rsl+xml"'})

    async def run() -> tuple[Any, Any, SiteRules]:
        policy = Policy(allow_private=True, timeout=2.0)
        try:
            pre = await policy.aevaluate(site.url("/page"), "search", UA)
            async with httpx.AsyncClient() as http:
                response = await http.get(site.url("/page"))
            post = await policy.apost_fetch(pre, response)
            return pre, post, await policy.asite_rules(site.url("/"), UA)
        finally:
            await policy.aclose()

    pre, post, rules = asyncio.run(run())
    assert not pre.allowed and "reserved unless licensed" in pre.explain()
    assert [s["terms"]["found_in"] for s in rsl_signals(post)] == ["robots.txt", "Link header"]
    assert rules.licences == (site.url("/license.xml"),)


def test_the_async_guarded_transport_reads_robots_licences(site: Site) -> None:
    licensed(site, PROHIBIT_TRAINING)
    site.route("/a", "secret")

    async def run() -> None:
        policy = Policy(allow_private=True, timeout=2.0)
        transport = AsyncGuardedTransport(policy, purpose="train-ai", user_agent=UA)
        async with httpx.AsyncClient(transport=transport) as http:
            with pytest.raises(UseReserved):
                await http.get(site.url("/a"))

    asyncio.run(run())
    assert "/a" not in site.paths()


# ------------------------------------------------------------------ Sitemap, Crawl-delay, Request-rate


def test_site_rules_expose_sitemaps_crawl_delay_request_rate_and_licences(site: Site, policy: Policy) -> None:
    site.route(
        "/robots.txt",
        f"Sitemap: https://example.com/sitemap.xml\nLicense: {site.url('/l.xml')}\n"
        "User-agent: examplebot\nCrawl-delay: 2\nRequest-rate: 1/10s\nDisallow: /x/\n"
        "User-agent: *\nCrawl-delay: 30\n"
        "Sitemap: https://example.com/news.xml\n",
    )
    rules = policy.site_rules(site.url("/anything"), UA)
    assert rules.sitemaps == ("https://example.com/sitemap.xml", "https://example.com/news.xml")
    assert rules.crawl_delay == 2.0 and rules.request_rate == (1, 10.0) and rules.interval == 10.0
    assert rules.licences == (site.url("/l.xml"),) and rules.status == "parsed"
    other = policy.site_rules(site.url("/"), "OtherBot/2")
    assert other.crawl_delay == 30.0 and other.request_rate is None and other.interval == 30.0
    assert site.paths().count("/robots.txt") == 1  # from the policy's cache
    decision = policy.evaluate(site.url("/x/a"), "search", UA)
    assert not decision.allowed and decision.site == rules  # given even when the fetch is refused
    shown = decision.to_json()["site"]
    assert shown["request_rate"] == {"requests": 1, "seconds": 10.0} and shown["crawl_delay"] == 2.0
    assert shown["sitemaps"][0] == "https://example.com/sitemap.xml"


def test_site_rules_without_robots_txt_and_for_bad_urls(site: Site, policy: Policy) -> None:
    rules = policy.site_rules(site.url("/"), UA)
    assert rules.status == "unavailable" and rules.sitemaps == () and rules.interval is None
    site.route("/robots.txt", "down", status=503)
    policy.cache.clear()
    assert policy.site_rules(site.url("/"), UA).status == "unreachable"
    with pytest.raises(ValueError):
        policy.site_rules("ftp://example.com/", UA)


# ------------------------------------------------------------------ claims pointing to a licence


class LicensingRegistry:
    def check(self, items: Any, *, purpose: str) -> Any:
        match = {
            "claim": "c" * 64,
            "match": "url",
            "key": "example.com/",
            "authority": ["self-asserted"],
            "licence": {"rsl": "https://rights.example/license.xml"},
        }
        return {"items": [{"decision": "n", "matches": [match]}]}


def test_a_registry_claim_naming_an_rsl_licence_is_cited(site: Site) -> None:
    with Policy(LicensingRegistry(), allow_private=True, timeout=2.0) as policy:
        decision = policy.evaluate(site.url("/a"), "train-ai", UA)
    assert not decision.allowed
    assert "(licensable: RSL licence https://rights.example/license.xml)" in decision.explain()


def test_kotowari_policy_prints_the_licence_verdict_and_the_site_rules(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    url = site.url("/license.xml")
    site.route(
        "/robots.txt",
        f"License: {url}\nSitemap: https://example.com/s.xml\n"
        "User-agent: *\nCrawl-delay: 3\nRequest-rate: 2/10s\n",
    )
    site.route("/license.xml", PAID, headers=XML)
    argv = ["policy", site.url("/a"), "--purpose", "train-ai", "--user-agent", UA, "--allow-private"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert f"  n        RSL (pre-fetch): RSL licence {url} (robots.txt, content '/'): reserved unless" in out
    assert "  pacing   crawl-delay 3s\n  pacing   request-rate 2/10s\n" in out
    assert "  sitemap  https://example.com/s.xml\n" in out and f"  licence  {url}\n" in out
    assert main([*argv, "--json"]) == 1
    shown = json.loads(capsys.readouterr().out)
    assert shown["site"]["interval"] == 5.0 and shown["licences"][0]["uses"]["train-ai"] == "licensable"


def test_a_licence_document_is_fetched_through_the_address_guard() -> None:
    # The site is public (its name resolves to a public address); its licence points at loopback.
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.path == "/robots.txt":
            return httpx.Response(
                200, text="License: http://127.0.0.1:9/license.xml\nUser-agent: *\nAllow: /\n"
            )
        return httpx.Response(404)

    with Policy(transport=httpx.MockTransport(answer), resolver=lambda host: ["93.184.216.34"]) as guarded:
        decision = guarded.evaluate("https://site.example/a", "search", UA)
    assert not decision.allowed and "127.0.0.1" not in "".join(asked)
    assert (
        "could not be read: unreachable (" in decision.explain()
        and "pass allow_private" in decision.explain()
    )
