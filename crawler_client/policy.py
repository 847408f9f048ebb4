"""One decision per URL and use, from every opt-out signal, with the reason for each.

`Policy.evaluate(url, purpose, user_agent, response=None)` answers "may this crawler use this URL
for this purpose?" and returns a `Decision` naming every signal it consulted, its source and its
verdict — JSON-serialisable, so a crawl log can show why.

Two stages, so a reserved URL is never fetched for a reserved use:

- **pre-fetch** (no `response`): robots.txt (RFC 9309 access, plus the aipref `Content-Usage`
  and Cloudflare `Content-Signal` rules in the crawler's group, plus groups naming known AI
  crawlers for the use — see `AI_CRAWLERS`), `/.well-known/tdmrep.json`, `/ai.txt`, and the
  Kotowari registry when one is given, and the RSL 1.0 licences robots.txt names (`License:`,
  see `crawler_client.licensing`). These files are fetched (per origin, cached) and decided
  before the content request is sent.
- **post-fetch** (`response` given, its body read): the `Content-Usage`, `tdm-reservation` and
  `X-Robots-Tag` headers, robots / tdm `<meta>` tags in HTML, C2PA / CAWG / IPTC PLUS
  metadata embedded in images, and RSL licences named by a `Link` header or an HTML `<link>` /
  `<script type="application/rsl+xml">` — applied before the content reaches the caller.

A licence that asks for payment or a licence server makes the uses it covers "reserved unless
licensed" (`n`), and the RSL verdict cites the licence URL and its terms (`Decision.licences`).
`Policy.site_rules(url, ua)` and `Decision.site` give robots.txt's `Sitemap`, `Crawl-delay` and
`Request-rate` for the crawler (`licensing.SiteRules`).

Combining (DESIGN.md, after the aipref vocabulary): any `n` gives `n`; otherwise any `y` gives
`y`; otherwise unknown. Within TDMRep its own precedence applies first (file < header < HTML).

What *unknown* means: allowed, by default. No source reserved the use, and both the aipref
vocabulary ("takes no position") and the opt-out regimes this serves (EU DSM Art. 4(3), Japan
Art. 30-4) make a reservation something the rightsholder expresses. A crawler that wants consent
instead passes `unknown="deny"`.

Failing closed: robots.txt that cannot be fetched (5xx, timeout, too many redirects, a private
address) forbids the fetch (RFC 9309 2.3.1.4), and a registry that cannot be asked, or answers
something malformed, counts as `n` — a missing answer is not a permission. Nothing in remote data
raises: every problem becomes a reason in the decision.

>>> policy = Policy(registry=None)  # doctest: +SKIP
>>> decision = policy.evaluate("https://example.com/a.png", "train-ai", "ExampleBot")  # doctest: +SKIP
>>> decision.allowed, [s["reason"] for s in decision.to_json()["signals"]]  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Final, Literal, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx

from crawler_client import licensing
from crawler_client.core import minimum_authority
from crawler_client.errors import AddressRefused
from crawler_client.licensing import SiteRules
from crawler_client.signals import Decision as Value
from crawler_client.signals import (
    Stage,
    Use,
    Verdict,
    aipref,
    aitxt,
    content_signal,
    embedded,
    robots_tags,
    tdmrep,
    unknown,
)
from crawler_client.signals.html import is_html
from crawler_client.signals.robots import MAX_BYTES as ROBOTS_MAX
from crawler_client.signals.robots import RobotsTxt, product_token
from crawler_client.site_files import (
    AddressGuard,
    Ask,
    AsyncSiteFetcher,
    Need,
    Resolver,
    SiteCache,
    SiteFetcher,
    SiteFile,
    describe_error,
    licence_needs,
    robots_of,
)
from registry.vocabulary import PARENT, as_use, combine

__all__ = [
    "AI_CRAWLERS",
    "AddressGuard",
    "Decision",
    "Policy",
    "RegistrySource",
    "SiteCache",
    "SiteFile",
    "SiteRules",
]


class RegistrySource(Protocol):
    """Anything that answers a registry check: the online `Client` or an offline `Snapshot`.

    The answer has the registry's check shape: `answer["items"][i]["decision"]` in
    `{"n", "y", "unknown"}` and `answer["items"][i]["matches"]`, a list of `{claim, match, key,
    authority}`. An object with an `items` attribute of that shape (the client's `CheckResult`)
    is read too. A `Policy` with `min_authority` passes it as `check(..., min_authority=…)`.
    """

    def check(self, items: Sequence[Mapping[str, Any]], *, purpose: Use) -> Any: ...


class MinimumAuthoritySource(Protocol):
    """A `RegistrySource` that also counts only claims of a minimum authority (`Client`, `Snapshot`)."""

    def check(
        self, items: Sequence[Mapping[str, Any]], *, purpose: Use, min_authority: str | None = None
    ) -> Any: ...


def _answer_items(answer: Any) -> Any:
    if isinstance(answer, Mapping):
        return answer["items"]
    return answer.items


@dataclass(frozen=True)
class Crawler:
    token: str
    operator: str
    kind: str
    uses: tuple[Use, ...]


@cache
def _ai_crawlers() -> tuple[Crawler, ...]:
    text = resources.files("crawler_client").joinpath("data/ai_crawlers.json").read_text("utf-8")
    return tuple(
        Crawler(c["token"], c["operator"], c["kind"], tuple(as_use(u) for u in c["uses"]))
        for c in json.loads(text)["crawlers"]
    )


class _Crawlers:
    """Known AI crawler product tokens (`crawler_client/data/ai_crawlers.json`), loaded on first use."""

    def __iter__(self) -> Any:
        return iter(_ai_crawlers())

    def __len__(self) -> int:
        return len(_ai_crawlers())

    def for_use(self, use: Use) -> list[Crawler]:
        wanted = {use, PARENT.get(use, use)}
        return [c for c in _ai_crawlers() if wanted & set(c.uses)]


AI_CRAWLERS: Final = _Crawlers()


def _described(match: Mapping[str, Any]) -> str:
    """One matching claim in a registry verdict's reason: id, how it matched, its authority."""
    levels = match.get("authority")
    authority = ", ".join(str(level) for level in levels) if isinstance(levels, list) else "authority unknown"
    text = f"{match.get('claim')} ({match.get('match')} {match.get('key')}) [{authority}]"
    if match.get("counted") is False:
        text += " not counted"
    notes = match.get("authority_notes")
    if isinstance(notes, list) and notes:
        text += " (" + "; ".join(str(note) for note in notes) + ")"
    licence = match.get("licence")
    if isinstance(licence, Mapping) and licence.get("rsl"):
        text += f" (licensable: RSL licence {licence['rsl']})"
    return text


# ------------------------------------------------------------------ the decision


@dataclass
class Decision:
    """The answer for one URL, use and crawler, with every signal consulted.

    `allowed` is what a crawler acts on. `value` is the combined verdict for the use (`y`, `n` or
    `unknown`); `fetch_allowed` is False when a signal forbids fetching at all (robots.txt, the
    address guard). `stage` says whether content-level signals were included. `site` holds
    robots.txt's sitemaps, crawl delay and request rate for the crawler; `licences` the RSL
    licences read, each with its URL and terms.
    """

    url: str
    purpose: Use
    user_agent: str
    stage: Stage
    signals: list[Verdict]
    unknown_allows: bool = True
    crawl_delay: float | None = None
    _tdm_file: tdmrep.Declaration | None = field(default=None, repr=False)
    site: SiteRules | None = None

    @property
    def licences(self) -> list[dict[str, Any]]:
        """The RSL licences consulted: URL, where found, status, per-use status and terms."""
        return [dict(s.terms) for s in self.signals if s.source == "RSL" and s.terms is not None]

    @property
    def fetch_allowed(self) -> bool:
        return all(signal.fetch for signal in self.signals)

    @property
    def value(self) -> Value:
        return combine(signal.for_use(self.purpose) for signal in self.signals)

    @property
    def allowed(self) -> bool:
        value = self.value
        return self.fetch_allowed and (value == "y" or (value == "unknown" and self.unknown_allows))

    @property
    def deciding(self) -> list[Verdict]:
        """The signals that made the decision negative (empty when allowed)."""
        if self.allowed:
            return []
        refusing = [s for s in self.signals if s.for_use(self.purpose) == "n"]
        return refusing or list(self.signals)

    def explain(self) -> str:
        """One line: the verdict and, when refused, which sources refused and why."""
        if self.allowed:
            consulted = len(self.signals)
            return f"allowed: {self.url} for {self.purpose} ({self.value}, {consulted} signals consulted)"
        if self.value == "unknown" and self.fetch_allowed:
            return f"disallowed: {self.url} for {self.purpose}: no signal allows it and unknown is denied"
        reasons = "; ".join(f"{s.source}: {s.reason}" for s in self.deciding)
        return f"disallowed: {self.url} for {self.purpose}: {reasons}"

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "purpose": self.purpose,
            "user_agent": self.user_agent,
            "stage": self.stage,
            "allowed": self.allowed,
            "decision": self.value,
            "fetch_allowed": self.fetch_allowed,
            "unknown_is": "allowed" if self.unknown_allows else "denied",
            "crawl_delay": self.crawl_delay,
            "site": self.site.to_json() if self.site else None,
            "licences": self.licences,
            "signals": [signal.to_json(self.purpose) for signal in self.signals],
        }


# ------------------------------------------------------------------ the policy


PreFlow = Generator[Need | Ask, Any, Decision]
PostFlow = Generator[Need, SiteFile, Decision]
T = TypeVar("T")


class Policy:
    """Evaluates every opt-out signal for a URL, a use and a crawler.

    Arguments (all keyword, except the registry):

    - `registry`: a `RegistrySource` (`crawler_client.Client` online, or a snapshot offline); None
      to skip the registry.
    - `transport` / `async_transport`: how site files are fetched when `evaluate` / `aevaluate` run
      on their own (defaults: the address guard's pinned transports, see `AddressGuard`; one you
      pass is used as given, so pinning is then yours); the guarded fetcher passes its own.
    - `allow_private`: fetch from private/loopback addresses (tests, intranets). It belongs here,
      on the policy, whose `guard` every fetch of it and of its guarded transports goes through.
    - `unknown`: `"allow"` (default) or `"deny"` — what a use no source speaks about becomes.
    - `honour_noindex`: let `noindex`/`none` reserve `search`.
    - `ai_crawler_groups`: read robots.txt groups naming known AI crawlers as statements about
      the uses those crawlers stand for (default True).
    - `clock`: seconds since the epoch, for cache lifetimes; `timeout`: per site-file request.
    - `min_authority`: count only registry claims of at least this authority (one of
      `registry.authority.levels.LEVELS`; `ValueError` otherwise). The registry verdict's reason
      names every matching claim with its authority, and says which ones did not count.

    `site_rules(url, user_agent)` (`asite_rules`) returns robots.txt's `Sitemap`, `Crawl-delay` and
    `Request-rate` records for the crawler, from the same cache as the decisions.
    """

    def __init__(
        self,
        registry: RegistrySource | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        allow_private: bool = False,
        resolver: Resolver | None = None,
        unknown: Literal["allow", "deny"] = "allow",
        honour_noindex: bool = False,
        ai_crawler_groups: bool = True,
        cache: SiteCache | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        min_authority: str | None = None,
    ) -> None:
        if unknown not in ("allow", "deny"):
            raise ValueError("unknown must be 'allow' or 'deny'")
        self.min_authority = minimum_authority(min_authority)
        self.registry = registry
        self.guard = AddressGuard(allow_private=allow_private, resolver=resolver)
        self.unknown_allows = unknown == "allow"
        self.honour_noindex = honour_noindex
        self.ai_crawler_groups = ai_crawler_groups
        self.cache = cache or SiteCache()
        self.timeout = timeout
        self.clock = clock
        self._owns_transport = transport is None
        self._owns_async_transport = async_transport is None
        self._sync = SiteFetcher(transport, self.guard, timeout)
        self._async = AsyncSiteFetcher(async_transport, self.guard, timeout)

    def close(self) -> None:
        if self._owns_transport and self._sync.transport is not None:
            self._sync.transport.close()

    async def aclose(self) -> None:
        if self._owns_async_transport and self._async.transport is not None:
            await self._async.transport.aclose()

    def __enter__(self) -> Policy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- public entry points

    def evaluate(
        self, url: str, purpose: str, user_agent: str, response: httpx.Response | None = None
    ) -> Decision:
        """Pre-fetch signals (fetching site files as needed), then, given a `response` whose body
        has been read, the post-fetch ones too.

        Raises `ValueError` for a URL that is not http(s) or a purpose outside the vocabulary
        (the caller's mistakes); problems with remote data never raise, they become reasons.
        """
        if self._sync.transport is None:
            self._sync.transport = self.guard.transport()
        decision = self.run(self.pre_fetch_flow(url, purpose, user_agent), self._sync, user_agent)
        return self.post_fetch(decision, response) if response is not None else decision

    def site_rules(self, url: str, user_agent: str) -> SiteRules:
        """robots.txt's sitemaps, crawl delay, request rate and licences for `user_agent` at the
        origin of `url` (fetched through the guard and cached like every site file)."""
        if self._sync.transport is None:
            self._sync.transport = self.guard.transport()
        return self.run(self.site_flow(url, user_agent), self._sync, user_agent)

    async def asite_rules(self, url: str, user_agent: str) -> SiteRules:
        """`site_rules` over async I/O."""
        if self._async.transport is None:
            self._async.transport = self.guard.async_transport()
        return await self.arun(self.site_flow(url, user_agent), self._async, user_agent)

    async def aevaluate(
        self, url: str, purpose: str, user_agent: str, response: httpx.Response | None = None
    ) -> Decision:
        """`evaluate` over async I/O (the registry source, being synchronous, runs in a thread)."""
        if self._async.transport is None:
            self._async.transport = self.guard.async_transport()
        decision = await self.arun(self.pre_fetch_flow(url, purpose, user_agent), self._async, user_agent)
        return await self.apost_fetch(decision, response) if response is not None else decision

    # -------------------------------------------------------------- drivers

    def run(self, flow: Generator[Any, Any, T], fetcher: SiteFetcher, user_agent: str) -> T:
        """Drive a flow (pre-fetch, post-fetch, site rules) with blocking I/O."""
        try:
            step = next(flow)
            while True:
                if isinstance(step, Need):
                    now = self.clock()
                    entry = self.cache.get(step.url, now)
                    if entry is None:
                        entry = fetcher.fetch(step.url, step.limit, user_agent, now)
                        self.cache.put(entry)
                    step = flow.send(entry)
                else:
                    step = flow.send(self._ask(step))
        except StopIteration as done:
            result: T = done.value
            return result

    async def arun(self, flow: Generator[Any, Any, T], fetcher: AsyncSiteFetcher, user_agent: str) -> T:
        """Drive a flow (pre-fetch, post-fetch, site rules) with async I/O."""
        try:
            step = next(flow)
            while True:
                if isinstance(step, Need):
                    now = self.clock()
                    entry = self.cache.get(step.url, now)
                    if entry is None:
                        entry = await fetcher.fetch(step.url, step.limit, user_agent, now)
                        self.cache.put(entry)
                    step = flow.send(entry)
                else:
                    step = flow.send(await asyncio.to_thread(self._ask, step))
        except StopIteration as done:
            result: T = done.value
            return result

    def _ask(self, step: Ask) -> Verdict:
        """The registry's verdict; any failure or malformed answer counts as `n` (fail closed)."""
        assert self.registry is not None
        location = type(self.registry).__name__
        try:
            items = [{"scheme": "url", "value": step.url}]
            if self.min_authority is None:
                answer = self.registry.check(items, purpose=step.purpose)
            else:
                source: MinimumAuthoritySource = self.registry  # type: ignore[assignment]
                answer = source.check(items, purpose=step.purpose, min_authority=self.min_authority)
                if isinstance(answer, Mapping) and answer.get("min_authority") != self.min_authority:
                    raise ValueError(f"the answer does not count from {self.min_authority}")
            item = _answer_items(answer)[0]
            value = item["decision"]
            matches = item.get("matches") or []
            if value not in ("y", "n", "unknown") or not isinstance(matches, list):
                raise ValueError(f"decision {value!r}")
        except Exception as exc:
            uses = unknown()
            uses[step.purpose] = "n"
            if step.purpose == "train-ai":
                uses["train-genai"] = "n"
            return Verdict(
                "registry",
                location,
                "pre-fetch",
                uses,
                f"registry check failed, counted as n: {describe_error(exc)}",
            )
        uses = unknown()
        uses[step.purpose] = value
        claims = "; ".join(_described(m) for m in matches if isinstance(m, Mapping))
        counting = f" counting claims of at least {self.min_authority}" if self.min_authority else ""
        reason = f"registry decision {value}{counting}" + (f": {claims}" if claims else ": no claim matches")
        return Verdict("registry", location, "pre-fetch", uses, reason)

    # -------------------------------------------------------------- the flows

    def pre_fetch_flow(self, url: str, purpose: str, user_agent: str) -> PreFlow:
        """The pre-fetch decision as a generator: it yields what it needs (`Need` a site file,
        `Ask` the registry) and receives it, so blocking and async drivers share one logic."""
        use = as_use(purpose)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        origin = f"{parts.scheme}://{parts.netloc}"
        signals: list[Verdict] = []
        decision = Decision(url, use, user_agent, "pre-fetch", signals, self.unknown_allows)
        try:
            self.guard.check(url)
        except AddressRefused as exc:
            signals.append(Verdict("address", parts.hostname, "pre-fetch", unknown(), str(exc), fetch=False))
            return decision

        robots_file: SiteFile = yield Need(origin + "/robots.txt", ROBOTS_MAX)
        robots = robots_of(robots_file)
        decision.site = licensing.site_rules(robots, robots_file.url, user_agent)
        signals.append(self._robots_verdict(robots, url, user_agent, robots_file.url))
        decision.crawl_delay = robots.crawl_delay(user_agent)
        if self.ai_crawler_groups:
            signals.append(self._ai_groups_verdict(robots, url, use, user_agent, robots_file.url))
        if not signals[0].fetch:
            # The URL may not be fetched at all: nothing else can change that, so no other site
            # file is requested and the registry is not asked.
            return decision
        if robots.status == "parsed":
            # aipref-attach: usage rules apply only to paths the crawler may fetch.
            signals.append(aipref.from_robots(robots, url, user_agent, location=robots_file.url))
            signals.append(content_signal.from_robots(robots, url, user_agent, location=robots_file.url))

        tdm_url = origin + "/.well-known/tdmrep.json"
        if robots.is_allowed(tdm_url, user_agent):
            tdm_file: SiteFile = yield Need(tdm_url, tdmrep.MAX_BYTES)
            declaration = self._tdm_declaration(tdm_file, url)
        else:
            declaration = tdmrep.Declaration(None, None, "tdmrep.json not fetched: robots.txt disallows it")
        decision._tdm_file = declaration
        signals.append(tdmrep.resolve([("tdmrep.json", declaration)], location=tdm_url, stage="pre-fetch"))

        ai_url = origin + "/ai.txt"
        if robots.is_allowed(ai_url, user_agent):
            ai_file: SiteFile = yield Need(ai_url, ROBOTS_MAX)
            ai_robots = ai_file.parsed.get("aitxt")
            if ai_robots is None and ai_file.status is not None and 200 <= ai_file.status < 300:
                ai_robots = ai_file.parsed["aitxt"] = RobotsTxt.parse(ai_file.body)
            if ai_robots is not None:
                signals.append(aitxt.from_robots(ai_robots, url, user_agent, location=ai_url))
            else:
                signals.append(
                    aitxt.from_fetch(
                        ai_file.status, b"", url, user_agent, location=ai_url, error=ai_file.error
                    )
                )
        else:
            reason = "ai.txt not fetched: robots.txt disallows it"
            signals.append(Verdict("ai.txt", ai_url, "pre-fetch", unknown(), reason))

        signals.extend((yield from licence_needs(licensing.pre_fetch_verdicts(robots, robots_file.url, url))))

        if self.registry is not None:
            verdict: Verdict = yield Ask(url, use)
            signals.append(verdict)
        return decision

    def _robots_verdict(self, robots: RobotsTxt, url: str, user_agent: str, location: str) -> Verdict:
        match = robots.match(url, user_agent)
        notes = []
        if robots.status != "parsed":
            notes.append(robots.reason)
        else:
            notes.append(match.explain())
            if robots.ignored_lines:
                notes.append(f"{robots.ignored_lines} malformed or unknown lines ignored")
            if robots.truncated:
                notes.append("only the first 500 KiB were parsed (RFC 9309 2.5)")
        verb = "may fetch" if match.allowed else "must not fetch"
        return Verdict(
            "robots.txt",
            location,
            "pre-fetch",
            unknown(),
            f"{verb}: " + "; ".join(notes),
            fetch=match.allowed,
        )

    def _ai_groups_verdict(
        self, robots: RobotsTxt, url: str, use: Use, user_agent: str, location: str
    ) -> Verdict:
        source = "robots.txt AI crawler groups"
        if robots.status != "parsed":
            return Verdict(source, location, "pre-fetch", unknown(), "no robots.txt groups to read")
        own = product_token(user_agent).lower()
        refused: list[Crawler] = []
        for crawler in AI_CRAWLERS.for_use(use):
            if crawler.token.lower() == own or not robots.names(crawler.token):
                continue
            if not robots.match(url, crawler.token).allowed:
                refused.append(crawler)
        if not refused:
            return Verdict(
                source,
                location,
                "pre-fetch",
                unknown(),
                f"no group for an AI crawler standing for {use} disallows this path",
            )
        uses = unknown()
        for crawler in refused:
            for reserved in crawler.uses:
                uses[reserved] = "n"
        for child, parent in PARENT.items():
            if uses[parent] == "n":
                uses[child] = "n"
        names = ", ".join(f"{c.token} ({'/'.join(c.uses)})" for c in refused)
        return Verdict(
            source,
            location,
            "pre-fetch",
            uses,
            f"disallowed for {names}: read as a reservation of those uses",
        )

    def _tdm_declaration(self, tdm_file: SiteFile, url: str) -> tdmrep.Declaration:
        if tdm_file.status is None:
            return tdmrep.Declaration(None, None, f"tdmrep.json unreachable ({tdm_file.error}): unset")
        if not 200 <= tdm_file.status < 300:
            return tdmrep.Declaration(None, None, f"no tdmrep.json (HTTP {tdm_file.status})")
        if tdm_file.truncated:
            return tdmrep.Declaration(None, None, f"tdmrep.json larger than {tdmrep.MAX_BYTES} bytes: unset")
        parsed = tdm_file.parsed.get("tdmrep")
        if parsed is None:
            parsed = tdm_file.parsed["tdmrep"] = tdmrep.parse_file(tdm_file.body)
        return tdmrep.for_url(parsed, url)

    def site_flow(self, url: str, user_agent: str) -> Generator[Need, SiteFile, SiteRules]:
        """The site rules as a flow: it needs robots.txt only."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        robots_file: SiteFile = yield Need(f"{parts.scheme}://{parts.netloc}/robots.txt", ROBOTS_MAX)
        return licensing.site_rules(robots_of(robots_file), robots_file.url, user_agent)

    def post_fetch(self, decision: Decision, response: httpx.Response) -> Decision:
        """Add the content-level signals of a fetched response (its body must have been read).

        RSL licences the response names are fetched here (blocking, through the guard); from async
        code use `apost_fetch`.
        """
        if self._sync.transport is None:
            self._sync.transport = self.guard.transport()
        return self.run(self.post_fetch_flow(decision, response), self._sync, decision.user_agent)

    async def apost_fetch(self, decision: Decision, response: httpx.Response) -> Decision:
        """`post_fetch` over async I/O."""
        if self._async.transport is None:
            self._async.transport = self.guard.async_transport()
        return await self.arun(self.post_fetch_flow(decision, response), self._async, decision.user_agent)

    def post_fetch_flow(self, decision: Decision, response: httpx.Response) -> PostFlow:
        """The post-fetch decision as a flow: it needs the licence documents the response names."""
        headers = response.headers
        content_type = headers.get("content-type", "")
        body = response.content
        signals = [s for s in decision.signals if s.source != "TDMRep"]
        signals.append(aipref.from_header(headers.get_list("content-usage")))
        levels = [("tdmrep.json", decision._tdm_file or tdmrep.Declaration(None, None, "not read"))]
        levels.append(
            (
                "header",
                tdmrep.from_headers(headers.get_list("tdm-reservation"), headers.get_list("tdm-policy")),
            )
        )
        html = is_html(content_type)
        if html:
            levels.append(("HTML meta", tdmrep.from_html(body, content_type)))
        signals.append(tdmrep.resolve(levels, location=str(decision.url), stage="post-fetch"))
        signals.append(
            robots_tags.from_header(
                headers.get_list("x-robots-tag"),
                decision.user_agent,
                content_type=content_type,
                honour_noindex=self.honour_noindex,
            )
        )
        if html:
            signals.append(
                robots_tags.from_html(
                    body, content_type, decision.user_agent, honour_noindex=self.honour_noindex
                )
            )
        else:
            signals.extend(embedded.verdict(body))
        known = [s.location for s in decision.signals if s.source == "RSL"]
        licences = licensing.post_fetch_verdicts(headers, body, content_type, str(decision.url), known)
        signals.extend((yield from licence_needs(licences)))
        return Decision(
            decision.url,
            decision.purpose,
            decision.user_agent,
            "post-fetch",
            signals,
            decision.unknown_allows,
            decision.crawl_delay,
            decision._tdm_file,
            decision.site,
        )
