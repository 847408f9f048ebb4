"""Policy.evaluate against a site served on 127.0.0.1: every signal, precedence and bad input."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import pytest

from crawler_client.errors import AddressRefused, RegistryUnavailable
from crawler_client.policy import AI_CRAWLERS, AddressGuard, Policy, SiteCache

from . import media
from .conftest import Route, Site

UA = "ExampleBot/1.0"


def sources(decision: Any) -> dict[str, str]:
    return {signal["source"]: signal["verdict"] for signal in decision.to_json()["signals"]}


def fetched(site: Site, path: str, **kwargs: Any) -> httpx.Response:
    response = httpx.get(site.url(path), **kwargs)
    response.read()
    return response


class FakeRegistry:
    """A registry source answering the check shape; `fail` raises like an unreachable registry."""

    def __init__(self, decision: str = "unknown", *, fail: bool = False, answer: Any = None) -> None:
        self.decision = decision
        self.fail = fail
        self.answer = answer
        self.asked: list[tuple[list[Mapping[str, Any]], str]] = []

    def check(self, items: Sequence[Mapping[str, Any]], *, purpose: str) -> Any:
        self.asked.append((list(items), purpose))
        if self.fail:
            raise RegistryUnavailable("connection refused")
        if self.answer is not None:
            return self.answer
        matches = [{"claim": "abc", "match": "url", "key": "example.com/"}] if self.decision == "n" else []
        return {"items": [{"decision": self.decision, "matches": matches}]}


# ------------------------------------------------------------------ pre-fetch


def test_nothing_published_means_unknown_and_allowed(site: Site, policy: Policy) -> None:
    decision = policy.evaluate(site.url("/page"), "train-ai", UA)
    assert decision.allowed
    assert decision.value == "unknown"
    assert decision.stage == "pre-fetch"
    assert "/page" not in site.paths()  # the content itself is not fetched by a pre-fetch decision
    json.dumps(decision.to_json())


def test_unknown_can_be_denied(site: Site) -> None:
    with Policy(allow_private=True, unknown="deny") as strict:
        decision = strict.evaluate(site.url("/page"), "train-ai", UA)
    assert not decision.allowed
    assert "unknown is denied" in decision.explain()


def test_robots_disallow_forbids_every_use(site: Site, policy: Policy) -> None:
    site.route("/robots.txt", "User-agent: examplebot\nDisallow: /private/\n")
    decision = policy.evaluate(site.url("/private/a"), "search", UA)
    assert not decision.allowed and not decision.fetch_allowed
    assert sources(decision)["robots.txt"] == "n"
    assert "disallow: /private/" in decision.explain()


def test_robots_5xx_disallows_everything_and_4xx_allows(site: Site, policy: Policy) -> None:
    site.route("/robots.txt", "oops", status=503)
    assert not policy.evaluate(site.url("/a"), "search", UA).allowed
    policy.cache.clear()
    site.route("/robots.txt", "User-agent: *\nDisallow: /", status=404)
    assert policy.evaluate(site.url("/a"), "search", UA).allowed


def test_robots_redirects_followed_up_to_five_hops(site: Site, policy: Policy) -> None:
    for hop in range(5):
        site.route(f"/r{hop}", status=301, headers={"Location": f"/r{hop + 1}"})
    site.route("/robots.txt", status=302, headers={"Location": "/r0"})
    site.route("/r5", "User-agent: *\nDisallow: /x\n")
    # robots.txt → r0 → … → r5 is six redirects: one too many, so unreachable (complete disallow)
    decision = policy.evaluate(site.url("/y"), "search", UA)
    assert not decision.allowed
    assert "more than 5 redirects" in decision.explain()
    policy.cache.clear()
    site.route("/robots.txt", status=302, headers={"Location": "/r1"})
    assert not policy.evaluate(site.url("/x"), "search", UA).allowed
    assert policy.evaluate(site.url("/y"), "search", UA).allowed


def test_redirect_loop_and_timeout_are_reasons_not_exceptions(site: Site) -> None:
    site.route("/robots.txt", status=302, headers={"Location": "/robots.txt"})
    with Policy(allow_private=True, timeout=0.3) as quick:
        assert "redirects" in quick.evaluate(site.url("/a"), "search", UA).explain()
        quick.cache.clear()
        site.route("/robots.txt", "User-agent: *\nAllow: /\n", delay=1.0)
        decision = quick.evaluate(site.url("/a"), "search", UA)
    assert not decision.allowed
    assert "timed out" in decision.explain()


def test_huge_robots_file_is_read_up_to_the_limit(site: Site, policy: Policy) -> None:
    site.route(
        "/robots.txt", b"User-agent: *\nDisallow: /early\n" + b"#" * 2_000_000 + b"\nDisallow: /late\n"
    )
    assert not policy.evaluate(site.url("/early"), "search", UA).allowed
    decision = policy.evaluate(site.url("/late"), "search", UA)
    assert decision.allowed
    assert "500 KiB" in decision.to_json()["signals"][0]["reason"]


def test_content_usage_and_content_signal_in_robots(site: Site, policy: Policy) -> None:
    site.route(
        "/robots.txt",
        "User-Agent: *\nAllow: /\nContent-Usage: / train-ai=n\nContent-Usage: /ok/ train-ai=y\n"
        "Content-Signal: search=yes, ai-input=no\n",
    )
    assert not policy.evaluate(site.url("/a"), "train-genai", UA).allowed
    assert policy.evaluate(site.url("/ok/a"), "train-ai", UA).allowed
    assert not policy.evaluate(site.url("/ok/a"), "ai-input", UA).allowed
    decision = policy.evaluate(site.url("/a"), "search", UA)
    assert decision.allowed and decision.value == "y"


def test_known_ai_crawler_groups_reserve_their_uses(site: Site, policy: Policy) -> None:
    site.route(
        "/robots.txt", "User-agent: GPTBot\nDisallow: /\n\nUser-agent: Google-Extended\nDisallow: /art/\n"
    )
    decision = policy.evaluate(site.url("/art/x"), "train-genai", UA)
    assert not decision.allowed
    assert "GPTBot" in decision.explain() and "Google-Extended" in decision.explain()
    assert policy.evaluate(site.url("/art/x"), "search", UA).allowed
    with Policy(allow_private=True, ai_crawler_groups=False) as literal:
        assert literal.evaluate(site.url("/art/x"), "train-ai", UA).allowed
    assert any(c.token == "CCBot" for c in AI_CRAWLERS)


def test_tdmrep_file_reservation_is_decided_before_fetching(site: Site, policy: Policy) -> None:
    site.route(
        "/.well-known/tdmrep.json",
        json.dumps(
            [
                {"location": "/img/*", "tdm-reservation": 1, "tdm-policy": "https://e.example/p"},
                {"location": "/", "tdm-reservation": 0},
            ]
        ),
        headers={"Content-Type": "application/json"},
    )
    decision = policy.evaluate(site.url("/img/a.png"), "train-ai", UA)
    assert not decision.allowed
    assert "licence policy https://e.example/p" in decision.explain()
    assert policy.evaluate(site.url("/img/a.png"), "search", UA).allowed
    assert policy.evaluate(site.url("/text"), "train-ai", UA).value == "y"


def test_invalid_tdmrep_json_is_unset_with_a_reason(site: Site, policy: Policy) -> None:
    site.route("/.well-known/tdmrep.json", "[{not json")
    decision = policy.evaluate(site.url("/a"), "train-ai", UA)
    assert decision.allowed
    tdm = next(s for s in decision.to_json()["signals"] if s["source"] == "TDMRep")
    assert tdm["verdict"] == "unknown" and "not valid JSON" in tdm["reason"]


def test_ai_txt(site: Site, policy: Policy) -> None:
    site.route("/ai.txt", "User-Agent: *\nDisallow: *.png\n")
    assert not policy.evaluate(site.url("/a.png"), "train-ai", UA).allowed
    assert policy.evaluate(site.url("/a.png"), "search", UA).allowed


@pytest.mark.parametrize(("answer", "allowed"), [("n", False), ("y", True), ("unknown", True)])
def test_registry_decision(site: Site, answer: str, allowed: bool) -> None:
    registry = FakeRegistry(answer)
    with Policy(registry, allow_private=True) as withregistry:
        decision = withregistry.evaluate(site.url("/work.png"), "train-ai", UA)
    assert decision.allowed is allowed
    assert registry.asked == [([{"scheme": "url", "value": site.url("/work.png")}], "train-ai")]
    if answer == "n":
        assert "abc (url example.com/)" in decision.explain()


@pytest.mark.parametrize(
    "registry",
    [
        FakeRegistry(fail=True),
        FakeRegistry(answer={"items": []}),
        FakeRegistry(answer={"items": [{"decision": "maybe"}]}),
    ],
)
def test_registry_failure_fails_closed(site: Site, registry: FakeRegistry) -> None:
    with Policy(registry, allow_private=True) as withregistry:
        decision = withregistry.evaluate(site.url("/a"), "train-ai", UA)
    assert not decision.allowed
    assert "registry check failed" in decision.explain()


def test_site_files_are_cached_by_their_headers(site: Site) -> None:
    now = [1_000_000.0]
    with Policy(allow_private=True, clock=lambda: now[0], cache=SiteCache()) as cached:
        site.route("/robots.txt", "User-agent: *\nDisallow: /x\n", headers={"Cache-Control": "max-age=60"})
        site.route("/ai.txt", "", headers={"Cache-Control": "no-store"})
        cached.evaluate(site.url("/a"), "search", UA)
        cached.evaluate(site.url("/b"), "search", UA)
        assert site.paths().count("/robots.txt") == 1
        now[0] += 61
        cached.evaluate(site.url("/a"), "search", UA)
        assert site.paths().count("/robots.txt") == 2
        assert site.paths().count("/ai.txt") == 3  # no-store: asked every time
        now[0] += 23 * 3600  # no caching headers: 24 hours
        cached.evaluate(site.url("/a"), "search", UA)
        assert site.paths().count("/.well-known/tdmrep.json") == 1
        now[0] += 3600
        cached.evaluate(site.url("/a"), "search", UA)
        assert site.paths().count("/.well-known/tdmrep.json") == 2


def test_private_addresses_are_refused_unless_allowed(site: Site) -> None:
    with Policy() as public_only:
        decision = public_only.evaluate(site.url("/a"), "search", UA)
    assert not decision.allowed
    assert "loopback" in decision.explain()
    assert site.paths() == []
    guard = AddressGuard(resolver=lambda host: ["93.184.216.34", "10.0.0.7"])
    with pytest.raises(AddressRefused):
        guard.check("https://mixed.example/")
    for url in [
        "http://169.254.169.254/latest",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
        "http://100.64.0.1/",  # shared (CGNAT)
        "http://192.0.0.8/",  # IETF protocol assignments
        "http://[2002:c0a8:0101::1]/",  # 6to4 of 192.168.1.1
        "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    ]:
        with pytest.raises(AddressRefused):
            AddressGuard().check(url)
    AddressGuard(resolver=lambda host: ["93.184.216.34"]).check("https://public.example/")


def test_non_http_urls_are_bad_input(policy: Policy) -> None:
    with pytest.raises(ValueError):
        policy.evaluate("ftp://example.com/a", "train-ai", UA)
    with pytest.raises(ValueError):
        policy.evaluate("https://example.com/a", "sell", UA)


# ------------------------------------------------------------------ post-fetch


def test_post_fetch_headers_meta_and_precedence(site: Site, policy: Policy) -> None:
    site.route(
        "/page",
        '<html><head><meta name="tdm-reservation" content="1">'
        '<meta name="robots" content="noai"></head></html>',
        headers=[("Content-Type", "text/html"), ("tdm-reservation", "0"), ("Content-Usage", "search=y")],
    )
    pre = policy.evaluate(site.url("/page"), "train-ai", UA)
    assert pre.allowed
    post = policy.post_fetch(pre, fetched(site, "/page"))
    assert post.stage == "post-fetch"
    assert not post.allowed
    verdicts = sources(post)
    assert verdicts["TDMRep"] == "n"  # HTML meta over header
    assert verdicts["robots meta tag"] == "n"
    assert (
        policy.post_fetch(policy.evaluate(site.url("/page"), "search", UA), fetched(site, "/page")).value
        == "y"
    )


def test_header_lifts_a_file_reservation_only_with_a_valid_value(site: Site, policy: Policy) -> None:
    site.route("/.well-known/tdmrep.json", '[{"location": "/", "tdm-reservation": 1}]')
    site.route("/a", "x", headers={"tdm-reservation": "0"})
    site.route("/b", "x", headers={"tdm-reservation": "nope"})
    decision = policy.evaluate(site.url("/a"), "train-ai", UA, fetched(site, "/a"))
    assert decision.allowed  # TDMRep: the header overrides the file
    assert not policy.evaluate(site.url("/b"), "train-ai", UA, fetched(site, "/b")).allowed


def test_x_robots_tag_on_any_line_and_content_usage_garbage(site: Site, policy: Policy) -> None:
    site.route(
        "/a", "x", headers=[("X-Robots-Tag", "otherbot: noindex"), ("x-robots-tag", "examplebot: noai")]
    )
    site.route("/b", "x", headers=[("Content-Usage", "train-ai=n, ((garbage")])
    assert not policy.evaluate(site.url("/a"), "train-ai", UA, fetched(site, "/a")).allowed
    decision = policy.evaluate(site.url("/b"), "train-ai", UA, fetched(site, "/b"))
    assert decision.allowed  # unparsable: every preference unknown
    header = next(s for s in decision.to_json()["signals"] if s["source"] == "aipref Content-Usage header")
    assert "every preference unknown" in header["reason"]


def test_embedded_c2pa_in_a_fetched_image(site: Site, policy: Policy) -> None:
    content = {"entries": {"cawg.ai_training": {"use": "notAllowed"}}}
    image = media.jpeg_with(media.manifest_store(media.assertion("cawg.training-mining", content)))
    site.route("/photo.jpg", image, headers={"Content-Type": "image/jpeg"})
    decision = policy.evaluate(site.url("/photo.jpg"), "train-ai", UA, fetched(site, "/photo.jpg"))
    assert not decision.allowed
    assert sources(decision)["C2PA/CAWG training-mining"] == "n"


def test_route_objects_are_plain(site: Site) -> None:
    site.routes["/dyn"] = lambda path: Route(200, path.encode())
    assert httpx.get(site.url("/dyn?q=1")).text == "/dyn?q=1"


def test_a_disallowed_url_asks_nothing_more(site: Site) -> None:
    registry = FakeRegistry("y")
    site.route("/robots.txt", "User-agent: *\nDisallow: /private/\nDisallow: /.well-known/\n")
    with Policy(registry, allow_private=True) as withregistry:
        decision = withregistry.evaluate(site.url("/private/a"), "search", UA)
        assert not decision.allowed
        assert site.paths() == ["/robots.txt"]
        assert registry.asked == []
        decision = withregistry.evaluate(site.url("/open"), "search", UA)
    assert decision.allowed
    assert "/.well-known/tdmrep.json" not in site.paths()  # robots.txt disallows it too
    assert "not fetched: robots.txt disallows it" in json.dumps(decision.to_json())
