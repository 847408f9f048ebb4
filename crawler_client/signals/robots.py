"""robots.txt as RFC 9309 defines it, plus the records that live beside its rules.

Why a parser of our own: the common Python parsers differ from RFC 9309 in ways that matter for
opt-outs (`urllib.robotparser` takes the first matching rule instead of the longest, and neither
it nor most others know the aipref `Content-Usage` or Cloudflare `Content-Signal` rules that sit
in the same groups). `bench/robots.py` lists where they disagree and compares speed.

What this module does, following the RFC section by section:

- 2.2.1 groups: one or more `user-agent` lines start a group; a crawler's product token is matched
  case-insensitively; every group naming it is merged; only if none names it do the `*` groups
  apply (merged too). Rules before the first `user-agent` line belong to no group. Only rules
  (`allow`, `disallow`, and aipref's `content-usage` / `content-signal`) end a run of agent lines:
  other records (`sitemap`, `crawl-delay`, unknown keys) must not (2.2.4).
- Product tokens keep digits, `.` and non-ASCII letters (`AI2Bot-Dolma`, `360Spider`, `MJ12bot`):
  cutting them at the first digit, as RFC-strict parsers do, merges or drops real crawlers' groups.
  A full User-Agent header names its crawler after `compatible;` (`Mozilla/5.0 (compatible;
  GPTBot/1.1; …)` → `GPTBot`). `valid_product_token` is the RFC's stricter grammar.
- 2.2.2 rules: the longest pattern (in octets, normalised) wins; `allow` wins a tie. Percent-encoding
  is brought to one form in rule and URL alike (`robots_match.normalise_path`). `/robots.txt` is
  always allowed. 2.2.3: `*` matches any run, a final `$` anchors the end, a `$` elsewhere is literal.
- 2.3.1 access results are made by `RobotsTxt.from_fetch`: 2xx parsed; 4xx "unavailable", no
  restrictions; 5xx, 429 or no answer "unreachable", everything disallowed.
- 2.5 limits: only the first 500 KiB are parsed (`parse(limit=…)` to read more), and a line the cut
  splits is dropped whole (`Allow: /public/` cut to `Allow: /p` would allow more than it says).
- Leniency as in Google's parser: a (partial) UTF-8 byte order mark is skipped; frequent typos
  (`dissallow`, `disalow`, `useragent`, `user agent`, …) and a missing colon (`Disallow /x`) are read.
- Beside the rules: `sitemaps`, RSL 1.0 `licenses` (global, absolute URLs), per-agent
  `crawl_delay` and `request_rate` (`Request-rate: 1/10s`, as protego reads it).

Deviations from the published suites (tests/crawler_client/policy/data/: google/robotstxt ID_* 101 of
104 cases pass, GoogleOnly_* 70 of 74, protego 338 of 344), each one RFC 9309 decides:

- google/robotstxt `ID_Encoding` 3, 5, 6 (2.2.2): the URL is normalised like the rule, so
  `/foo/bar/ツ` matches `Allow: /foo/bar/ツ` and `/foo/bar/baz` matches `Allow: /foo/bar/%62%61%7A`
  (the RFC's own example); Google leaves the URL as the caller passed it.
- protego `test_grouping_unknown_keys` (2.2.4): an unknown record does not end a group, so `*` and
  `ia_archiver` share `Disallow: /` (google/robotstxt `ID_LineSyntax_Groups_OtherRules` agrees).
- protego `test_special_symbols_dual_behaviour` (2.2.3): a final `$` anchors; it does not also match
  a literal `$` (that takes `%24`).
- protego `test_index_html_is_directory`, google/robotstxt `GoogleOnly_IndexHTMLisDirectory` (2.2.2):
  `Allow: /dir/index.html` does not allow `/dir/`.
- google/robotstxt `GoogleOnly_LineTooLong` (2.2.2, 2.5): lines are not cut at 16 KiB; a cut rule
  would be a different rule. `GoogleOnly_AcceptUserAgentUpToFirstSpace` (2.2.1): the crawler `Foo Bar`
  is matched by its product token `Foo`.

Malformed lines (no key, unknown keys, binary garbage) are skipped and counted, never raised.

>>> robots = RobotsTxt.parse(b"User-agent: *\\nDisallow: /private\\nAllow: /private/open")
>>> robots.is_allowed("/private/open/a.html", "ExampleBot"), robots.is_allowed("/private/x", "ExampleBot")
(True, False)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

from crawler_client.signals.robots_match import (
    PathRule,
    RuleIndex,
    normalise_path,
    normalise_pattern,
    path_of,
)
from crawler_client.signals.robots_syntax import (
    MAX_BYTES,
    NAMES,
    RULES,
    UNKNOWN,
    agent_of,
    is_absolute_url,
    product_token,
    record,
    request_rate_of,
    split_lines,
    text_of,
    valid_product_token,
)

__all__ = [
    "MAX_BYTES",
    "Group",
    "Match",
    "PathRule",
    "RobotsTxt",
    "normalise_path",
    "path_of",
    "product_token",
    "valid_product_token",
]


@dataclass
class Group:
    """A group of records: the agents it names and the rules inside it.

    `rules` hold `allow`/`disallow`; `content_usage` the aipref `Content-Usage` rules (value: the
    preference expression); `content_signal` Cloudflare `Content-Signal` lines (value: the signal
    list). `crawl_delay` and `request_rate` are the strictest of the group; `delays` and `rates`
    hold them per agent, as each applies to the agent lines just above it (protego reads them so).
    """

    agents: list[str] = field(default_factory=list)
    rules: list[PathRule] = field(default_factory=list)
    content_usage: list[PathRule] = field(default_factory=list)
    content_signal: list[PathRule] = field(default_factory=list)
    crawl_delay: float | None = None
    lines: list[int] = field(default_factory=list)
    request_rate: tuple[int, float] | None = None
    delays: dict[str, float] = field(default_factory=dict)
    rates: dict[str, tuple[int, float]] = field(default_factory=dict)
    _index: RuleIndex | None = field(default=None, repr=False, compare=False)

    def winner(self, path: str) -> PathRule | None:
        """The allow/disallow rule RFC 9309 2.2.2 picks for `path` (normalised), or None.

        The rules are compiled into a `RuleIndex` on first use, so a decision does not try every rule.
        """
        if self._index is None:
            self._index = RuleIndex(self.rules)
        return self._index.winner(path)


def _slower(delay: float | None, other: float | None) -> float | None:
    return other if delay is None else delay if other is None else max(delay, other)


def _stricter(rate: tuple[int, float] | None, other: tuple[int, float] | None) -> tuple[int, float] | None:
    if rate is None or other is None:
        return other if rate is None else rate
    return other if other[0] * rate[1] < rate[0] * other[1] else rate


@dataclass(frozen=True)
class Match:
    """Why a path is allowed or not: the winning rule (None: no rule matched) and the group."""

    allowed: bool
    rule: PathRule | None
    agents: tuple[str, ...]

    def explain(self) -> str:
        group = ", ".join(self.agents) if self.agents else "no group"
        if self.rule is None:
            return f"no rule matches (group: {group})"
        verb = "allow" if self.rule.value == "allow" else "disallow"
        return f"{verb}: {self.rule.pattern} at line {self.rule.line} (group: {group})"


Status = Literal["parsed", "unavailable", "unreachable"]
_ALLOW_ALL: Final = Match(True, None, ())
_UNSELECTED: Final = Group()


class RobotsTxt:
    """A parsed robots.txt, or the RFC's verdict on a file that could not be had.

    Build with `parse` (file contents), `from_fetch` (status code and body) or the two
    constructors `unavailable` (no restrictions) and `unreachable` (full disallow). Besides the
    groups: `sitemaps` and `licenses` (RSL 1.0 `License:` URLs) as written, wherever they stand;
    `lines` read, `directives` recognised, `unknown_records` (lines with an unknown key).
    """

    def __init__(
        self,
        groups: list[Group],
        *,
        status: Status = "parsed",
        reason: str = "",
        ignored_lines: int = 0,
        truncated: bool = False,
        sitemaps: tuple[str, ...] = (),
        licenses: tuple[str, ...] = (),
        lines: int = 0,
        directives: int = 0,
        unknown_records: int = 0,
    ) -> None:
        self.groups = groups
        self.status: Status = status
        self.reason = reason
        self.ignored_lines = ignored_lines
        self.truncated = truncated
        self.sitemaps = sitemaps
        self.licenses = licenses
        self.lines = lines
        self.directives = directives
        self.unknown_records = unknown_records
        self._keys: dict[str, str] = {}
        self._selected: dict[str, Group | None] = {}

    # ------------------------------------------------------------------ construction

    @classmethod
    def unavailable(cls, reason: str) -> RobotsTxt:
        """RFC 9309 2.3.1.3: a 4xx answer means the crawler may access any resource."""
        return cls([], status="unavailable", reason=reason)

    @classmethod
    def unreachable(cls, reason: str) -> RobotsTxt:
        """RFC 9309 2.3.1.4: 5xx or no answer means the crawler must assume complete disallow."""
        return cls([], status="unreachable", reason=reason)

    @classmethod
    def from_fetch(cls, status: int | None, body: bytes, *, error: str | None = None) -> RobotsTxt:
        """The RFC's verdict for one fetch outcome (after redirects were followed).

        429 (Too Many Requests) is treated as unreachable, not as an ordinary 4xx: the server is
        telling us to back off, not that it has no file, so assuming "no restrictions" would
        fail open.
        """
        if status is None:
            return cls.unreachable(f"robots.txt unreachable: {error or 'no answer'}")
        if 200 <= status < 300:
            return cls.parse(body)
        if status == 429:
            return cls.unreachable("robots.txt answered 429 Too Many Requests: treated as unreachable")
        if 400 <= status < 500:
            return cls.unavailable(f"robots.txt answered {status}: no restrictions (RFC 9309 2.3.1.3)")
        if 300 <= status < 400:
            return cls.unavailable(f"robots.txt redirect not followed to a file ({status}): no restrictions")
        return cls.unreachable(f"robots.txt answered {status}: complete disallow (RFC 9309 2.3.1.4)")

    @classmethod
    def parse(cls, data: bytes | str, *, limit: int | None = MAX_BYTES) -> RobotsTxt:
        """Parse robots.txt contents; never raises. Only the first `limit` bytes are read: RFC 9309
        2.5 asks for at least 500 KiB (`MAX_BYTES`, the default); None reads everything."""
        return _Parser(*text_of(data, limit)).result()

    # ------------------------------------------------------------------ queries

    def _select(self, user_agent: str) -> tuple[str, Group | None]:
        """(the agent the group was chosen for: a token or `*`, the merged group) for a crawler.

        Cached twice: per user-agent string (for the token) and per chosen agent, so every crawler that
        falls back to `*` shares one merged group, and its rules are compiled once.
        """
        key = self._keys.get(user_agent)
        if key is None:
            token = product_token(user_agent).lower()
            key = token if token and any(token in g.agents for g in self.groups) else "*"
            if len(self._keys) > 4096:
                self._keys.clear()
            self._keys[user_agent] = key
        merged = self._selected.get(key, _UNSELECTED)
        if merged is _UNSELECTED:
            merged = self._selected[key] = self._merge(key)
        return key, merged

    def _merge(self, key: str) -> Group | None:
        chosen = [g for g in self.groups if key in g.agents]
        if not chosen:
            return None
        named = key != "*"
        merged = Group(agents=sorted({a for g in chosen for a in g.agents if a == key or not named}))
        for group in chosen:
            merged.rules += group.rules
            merged.content_usage += group.content_usage
            merged.content_signal += group.content_signal
            merged.crawl_delay = _slower(merged.crawl_delay, group.delays.get(key))
            merged.request_rate = _stricter(merged.request_rate, group.rates.get(key))
        return merged

    def group_for(self, user_agent: str) -> Group | None:
        """The merged group that applies to a crawler (None: no group, so no rules)."""
        return self._select(user_agent)[1]

    def names(self, user_agent: str) -> bool:
        """Does a group name this crawler's product token explicitly (not through `*`)?"""
        token = product_token(user_agent).lower()
        return bool(token) and any(token in g.agents for g in self.groups)

    def match(self, url: str, user_agent: str) -> Match:
        """The RFC 9309 decision for `url` (a full URL or a path) and its reason."""
        if self.status == "unavailable":
            return _ALLOW_ALL
        if self.status == "unreachable":
            return Match(False, PathRule("/", "disallow", 0), ())
        group = self._select(user_agent)[1]
        if group is None:
            return _ALLOW_ALL
        path = path_of(url)
        if path == "/robots.txt":
            return _ALLOW_ALL
        best = group.winner(path)
        return Match(best is None or best.value == "allow", best, tuple(group.agents))

    def is_allowed(self, url: str, user_agent: str) -> bool:
        return self.match(url, user_agent).allowed

    def crawl_delay(self, user_agent: str) -> float | None:
        """Seconds between requests the file asks of this crawler (`Crawl-delay`), or None."""
        group = self.group_for(user_agent)
        return group.crawl_delay if group else None

    def request_rate(self, user_agent: str) -> tuple[int, float] | None:
        """(requests, seconds) the file allows this crawler (`Request-rate: 1/10s`), or None."""
        group = self.group_for(user_agent)
        return group.request_rate if group else None

    def usage_rules(
        self, url: str, user_agent: str, kind: Literal["content_usage", "content_signal"]
    ) -> list[PathRule]:
        """The usage rules with the longest path matching `url` (several when tied).

        aipref-attach: Content-Usage rules use the same longest-prefix matching as Allow and
        Disallow, and tied rules all apply (their preferences are then combined, `n` winning).
        """
        group = self.group_for(user_agent)
        if group is None:
            return []
        path = path_of(url)
        matching = [rule for rule in getattr(group, kind) if rule.matches(path)]
        if not matching:
            return []
        longest = max(rule.length for rule in matching)
        return [rule for rule in matching if rule.length == longest]


class _Parser:
    """One pass over the lines, building groups (RFC 9309 2.1, 2.2) and the records beside them."""

    def __init__(self, text: str, truncated: bool) -> None:
        self.groups: list[Group] = []
        self.sitemaps: list[str] = []
        self.licenses: list[str] = []
        self.truncated = truncated
        self.ignored = self.directives = self.unknown = 0
        lines = split_lines(text)
        self.lines = len(lines)
        current: Group | None = None
        in_agents = False  # no rule since the group's first user-agent line
        block: list[str] = []  # agents of the latest run of user-agent lines, for crawl-delay & co.
        previous = ""
        for number, line in enumerate(lines, 1):
            if "#" in line:
                line = line.split("#", 1)[0]
            line = line.strip()
            if not line:
                continue
            name, value = record(line)
            if name in NAMES:
                self.directives += 1
            else:
                self.ignored += 1
                self.unknown += name == UNKNOWN
            if name == "user-agent":
                if current is None or not in_agents:
                    current = Group()
                    self.groups.append(current)
                    block = []
                elif previous != "user-agent":
                    block = []
                in_agents = True
                agent = agent_of(value)
                if agent:
                    current.agents.append(agent)
                    block.append(agent)
                else:
                    self.ignored += 1
                current.lines.append(number)
            elif name in RULES:
                if current is None:
                    self.ignored += 1  # a rule outside any group applies to no one
                else:
                    in_agents = False
                    if not _add_rule(current, name, value, number):
                        self.ignored += 1
            elif name in {"crawl-delay", "request-rate"}:
                if current is None or not self._add_limit(current, block, name, value):
                    self.ignored += 1
            elif name == "sitemap":
                if value:
                    self.sitemaps.append(value)
            elif name == "license":
                if is_absolute_url(value):
                    self.licenses.append(value)
                else:
                    self.ignored += 1
            previous = name

    def _add_limit(self, group: Group, block: list[str], name: str, value: str) -> bool:
        if name == "crawl-delay":
            try:
                delay = float(value)
            except ValueError:
                return False
            if not 0 <= delay < float("inf"):
                return False
            for agent in block:
                group.delays[agent] = max(group.delays.get(agent, 0.0), delay)
            group.crawl_delay = _slower(group.crawl_delay, delay)
            return True
        rate = request_rate_of(value)
        if rate is None:
            return False
        for agent in block:
            group.rates[agent] = _stricter(group.rates.get(agent), rate) or rate
        group.request_rate = _stricter(group.request_rate, rate)
        return True

    def result(self) -> RobotsTxt:
        return RobotsTxt(
            [group for group in self.groups if group.agents],
            ignored_lines=self.ignored,
            truncated=self.truncated,
            sitemaps=tuple(self.sitemaps),
            licenses=tuple(self.licenses),
            lines=self.lines,
            directives=self.directives,
            unknown_records=self.unknown,
        )


def _add_rule(group: Group, key: str, value: str, number: int) -> bool:
    if key in {"allow", "disallow"}:
        if value:  # an empty rule matches nothing (RFC 9309 2.2.2)
            group.rules.append(PathRule(normalise_pattern(value), key, number))
        return True
    # Content-Usage / Content-Signal: "[path] value"; a missing path means the whole site.
    path, expression = "/", value
    if value.startswith("/") or value.startswith("*"):
        parts = value.split(None, 1)
        path, expression = parts[0], parts[1] if len(parts) > 1 else ""
    if not expression:
        return False
    target = group.content_usage if key == "content-usage" else group.content_signal
    target.append(PathRule(normalise_pattern(path), expression, number))
    return True


def agents_in(robots: RobotsTxt) -> Iterable[str]:
    """Every product token some group names (lower case), for reports."""
    return sorted({agent for group in robots.groups for agent in group.agents})
