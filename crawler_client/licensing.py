"""RSL licences and robots.txt's other records in the policy: what a site asks beyond allow/disallow.

Two things the `Policy` needs that are not a verdict of robots.txt itself:

- `SiteRules`: the `Sitemap`, `Crawl-delay` and `Request-rate` records (and RSL `License:` URLs)
  for one crawler, from the same cached robots.txt the decision used. `Policy.site_rules(url, ua)`
  returns them; every `Decision` carries them as `decision.site`.
- The RSL licence flows: `pre_fetch_verdicts` for the `License:` URLs of robots.txt,
  `post_fetch_verdicts` for `Link: <…>; rel="license"; type="application/rsl+xml"` headers, HTML
  `<link rel="license" type="application/rsl+xml">` and inline `<script type="application/rsl+xml">`.
  They are generators in the policy's style: they yield `(url, byte limit)` for each licence
  document and receive the fetched file (through the policy's guarded, size-limited, cached site
  fetcher), so blocking and async drivers share them. Licence documents are fetched whatever
  robots.txt says of their paths: RSL asks crawlers to read the licence before using content.

What a licence file's answer means (`file_verdict`): 2xx is parsed (`signals.rsl`); no answer, a
5xx, 401, 403 or 429, a body over 1 MiB or a document that does not parse fail closed (every use
"reserved unless licensed", the reason says why); 404 and other 4xx mean there is no licence there,
so it says nothing (unknown).
"""

from __future__ import annotations

import re
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from crawler_client.signals import Stage, Verdict, rsl, unknown
from crawler_client.signals.html import head, is_html
from crawler_client.signals.robots import RobotsTxt

__all__ = [
    "MAX_LICENCES",
    "FetchedFile",
    "LicenceFlow",
    "SiteRules",
    "file_verdict",
    "links_from_header",
    "post_fetch_verdicts",
    "pre_fetch_verdicts",
    "site_rules",
]

MAX_LICENCES: Final = 8
"""Licence documents read per discovery place; more are not fetched and count as unreadable."""


class FetchedFile(Protocol):
    """What the policy's site fetcher hands back (`crawler_client.policy.SiteFile`)."""

    url: str
    status: int | None
    body: bytes
    error: str
    truncated: bool
    parsed: dict[str, Any]


Wanted = tuple[str, int]
"""A licence document the flow needs: its URL and how many bytes may be read."""
LicenceFlow = Generator[Wanted, FetchedFile, list[Verdict]]


# ------------------------------------------------------------------ discovery: Link headers


_PARAM = re.compile(r';\s*([^;=\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;]*))?')


def _members(value: str) -> list[str]:
    """A field value split at the commas that separate members (not those in `<…>` or quotes)."""
    members: list[str] = []
    current: list[str] = []
    closer = ""
    escaped = False
    for char in value:
        if closer == '"' and escaped:
            escaped = False
        elif closer == '"' and char == "\\":
            escaped = True
        elif closer and char == closer:
            closer = ""
        elif not closer and char in '<"':
            closer = ">" if char == "<" else '"'
        elif not closer and char == ",":
            members.append("".join(current))
            current = []
            continue
        current.append(char)
    members.append("".join(current))
    return members


def is_rsl_type(value: str) -> bool:
    return value.split(";", 1)[0].strip().lower() == rsl.MEDIA_TYPE


def links_from_header(values: Sequence[str], base: str) -> list[str]:
    """RFC 8288 `Link` field values: the targets with `rel="license"` and the RSL media type,
    resolved against `base` (the response's URL). Malformed members are skipped."""
    found: list[str] = []
    for value in values:
        for member in _members(value):
            member = member.strip()
            if not member.startswith("<") or ">" not in member:
                continue
            reference, _, rest = member[1:].partition(">")
            params = {k.lower(): v.strip().strip('"') for k, v in _PARAM.findall(rest)}
            if "license" in params.get("rel", "").lower().split() and is_rsl_type(params.get("type", "")):
                target = resolved(reference, base)
                if target and target not in found:
                    found.append(target)
    return found


def resolved(reference: str, base: str) -> str | None:
    """`reference` as an absolute http(s) URL (relative to `base`), or None."""
    try:
        target = urljoin(base, reference.strip())
    except ValueError:
        return None
    parts = urlsplit(target)
    return target.split("#", 1)[0] if parts.scheme in ("http", "https") and parts.hostname else None


# ------------------------------------------------------------------ site rules


@dataclass(frozen=True)
class SiteRules:
    """robots.txt's records for one crawler beyond access: sitemaps, pacing and licences.

    `request_rate` is (requests, seconds), e.g. (1, 10.0) for `Request-rate: 1/10s`; `interval`
    is the spacing that honours both it and `crawl_delay`. `status` is robots.txt's access result
    (`parsed`, `unavailable`, `unreachable`); sitemaps and licences are listed as written.
    """

    robots_url: str
    user_agent: str
    status: str
    sitemaps: tuple[str, ...] = ()
    licences: tuple[str, ...] = ()
    crawl_delay: float | None = None
    request_rate: tuple[int, float] | None = None

    @property
    def interval(self) -> float | None:
        """Seconds to leave between requests to the host, or None when the file asks nothing."""
        rate = self.request_rate[1] / self.request_rate[0] if self.request_rate else None
        known = [value for value in (self.crawl_delay, rate) if value is not None]
        return max(known) if known else None

    def to_json(self) -> dict[str, Any]:
        return {
            "robots_url": self.robots_url,
            "status": self.status,
            "sitemaps": list(self.sitemaps),
            "licences": list(self.licences),
            "crawl_delay": self.crawl_delay,
            "request_rate": (
                {"requests": self.request_rate[0], "seconds": self.request_rate[1]}
                if self.request_rate
                else None
            ),
            "interval": self.interval,
        }


def site_rules(robots: RobotsTxt, robots_url: str, user_agent: str) -> SiteRules:
    """The `SiteRules` of a parsed (or unavailable/unreachable) robots.txt for `user_agent`."""
    return SiteRules(
        robots_url,
        user_agent,
        robots.status,
        tuple(robots.sitemaps),
        tuple(licence_urls(robots, robots_url)),
        robots.crawl_delay(user_agent),
        robots.request_rate(user_agent),
    )


def licence_urls(robots: RobotsTxt, robots_url: str) -> list[str]:
    """robots.txt's `License:` URLs, absolute (a relative one is read against robots.txt's URL)."""
    found: list[str] = []
    for written in robots.licenses:
        url = resolved(written, robots_url)
        if url and url not in found:
            found.append(url)
    return found


# ------------------------------------------------------------------ licence flows


def file_verdict(file: FetchedFile, url: str, page_url: str, *, stage: Stage, found_in: str) -> Verdict:
    """The verdict of the licence document fetched from `url` for the page `page_url`."""
    if file.status is None:
        return rsl.unreadable(url, f"unreachable ({file.error})", stage=stage, found_in=found_in)
    if file.status >= 500 or file.status in (401, 403, 429):
        return rsl.unreadable(url, f"HTTP {file.status}", stage=stage, found_in=found_in)
    if not 200 <= file.status < 300:
        reason = f"no RSL licence at {url} (HTTP {file.status}) ({found_in}): not read"
        terms = {"licence": url, "found_in": found_in, "status": "absent", "error": f"HTTP {file.status}"}
        return Verdict("RSL", url, stage, unknown(), reason, terms=terms)
    if file.truncated:
        why = f"larger than {rsl.MAX_BYTES} bytes"
        return rsl.unreadable(url, why, stage=stage, found_in=found_in, status="invalid")
    document = file.parsed.get("rsl")
    if document is None:
        document = file.parsed["rsl"] = rsl.parse(file.body)
    return rsl.verdict(document, page_url, location=url, stage=stage, found_in=found_in)


def _fetched(urls: Sequence[str], page_url: str, *, stage: Stage, found_in: str) -> LicenceFlow:
    verdicts: list[Verdict] = []
    for url in urls[:MAX_LICENCES]:
        file = yield (url, rsl.MAX_BYTES)
        verdicts.append(file_verdict(file, url, page_url, stage=stage, found_in=found_in))
    if len(urls) > MAX_LICENCES:
        rest = ", ".join(urls[MAX_LICENCES:])
        why = f"more than {MAX_LICENCES} licences are declared; these were not read"
        verdicts.append(rsl.unreadable(rest, why, stage=stage, found_in=found_in, status="not read"))
    return verdicts


def pre_fetch_verdicts(robots: RobotsTxt, robots_url: str, page_url: str) -> LicenceFlow:
    """One verdict per robots.txt `License:` document, for `page_url`."""
    return _fetched(licence_urls(robots, robots_url), page_url, stage="pre-fetch", found_in="robots.txt")


def post_fetch_verdicts(
    headers: httpx.Headers, body: bytes, content_type: str, page_url: str, known: Sequence[str]
) -> LicenceFlow:
    """Verdicts of the licences a fetched response names (Link header, HTML head), skipping the
    URLs in `known` (already read before the fetch); inline RSL documents are read in place."""
    named = links_from_header(headers.get_list("link"), page_url)
    header_links = [url for url in named if url not in known]
    verdicts = yield from _fetched(header_links, page_url, stage="post-fetch", found_in="Link header")
    if is_html(content_type):
        found = head(body, content_type)
        seen = [*known, *header_links]
        links: list[str] = []
        for written in found.licences:
            url = resolved(written, page_url)
            if url and url not in seen and url not in links:
                links.append(url)
        verdicts += yield from _fetched(links, page_url, stage="post-fetch", found_in="HTML link")
        for index, text in enumerate(found.inline_rsl[:MAX_LICENCES], 1):
            where = f"{page_url}#inline-rsl-{index}"
            read = rsl.parse(text)
            stage: Stage = "post-fetch"
            verdicts.append(rsl.verdict(read, page_url, location=where, stage=stage, found_in="HTML script"))
    return verdicts
