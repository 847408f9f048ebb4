"""robots.txt as RFC 9309 defines it, plus the usage rules that live inside its groups.

Why a parser of our own: the common Python parsers differ from RFC 9309 in ways that matter for
opt-outs (`urllib.robotparser` takes the first matching rule instead of the longest, and neither
it nor most others know the aipref `Content-Usage` or Cloudflare `Content-Signal` rules that sit
in the same groups). `bench/robots.py` lists where they disagree.

What this module does, following the RFC section by section:

- 2.2.1 groups: one or more `user-agent` lines start a group; the crawler's product token is
  matched case-insensitively; every group naming it is merged; only if none names it do the `*`
  groups apply (merged too). Rules before the first `user-agent` line belong to no group.
- 2.2.2 rules: the longest matching path wins, measured in octets of the (normalised) pattern;
  an `allow` wins a tie; `*` matches any sequence and a trailing `$` anchors the end; percent
  escapes of unreserved characters are decoded and everything else outside ASCII is encoded,
  in the rule and in the URL alike, before comparison. `/robots.txt` itself is always allowed.
- 2.3.1 access results are made by `RobotsTxt.from_fetch`: 2xx parsed; 4xx "unavailable", no
  restrictions; 5xx or no answer "unreachable", everything disallowed. (Redirects are followed
  by the fetcher, up to five hops.)
- 2.5 limits: only the first 500 KiB are parsed; the rest is ignored and reported.

Malformed lines (no colon, unknown keys, binary garbage) are skipped and counted, never raised.

>>> robots = RobotsTxt.parse(b"User-agent: *\\nDisallow: /private\\nAllow: /private/open")
>>> robots.is_allowed("/private/open/a.html", "ExampleBot"), robots.is_allowed("/private/x", "ExampleBot")
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import urlsplit

__all__ = [
    "MAX_BYTES",
    "Group",
    "Match",
    "PathRule",
    "RobotsTxt",
    "normalise_path",
    "path_of",
    "product_token",
]

#: RFC 9309 2.5: parse at least 500 kibibytes; we parse exactly that much.
MAX_BYTES: Final = 500 * 1024

_TOKEN = re.compile(r"[A-Za-z_-]+")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_HEX = frozenset(b"0123456789abcdefABCDEF")
# Bytes left as they are: unreserved, reserved (gen-delims and sub-delims), and the pattern
# characters `*` and `$` (both sub-delims). Everything else is percent-encoded.
_KEEP = _UNRESERVED | frozenset(b":/?#[]@!$&'()*+,;=")


def product_token(user_agent: str) -> str:
    """The product token of a crawler's user agent: `GPTBot/1.1 (+https://…)` → `GPTBot`.

    RFC 9309 2.2.1 matches groups by product token alone, never by the full header value.
    """
    match = _TOKEN.match(user_agent.strip())
    return match.group(0) if match else ""


def normalise_path(path: str) -> str:
    """Bring a path (or a rule's pattern) to the form RFC 9309 2.2.2 compares.

    Escapes of unreserved characters are decoded (`%7E` → `~`), other escapes keep their octet
    but get upper-case hex, and octets outside the kept set (non-ASCII, space, controls) are
    percent-encoded as UTF-8. A `%` not followed by two hex digits is encoded as `%25`.
    """
    if path.isascii() and "%" not in path and " " not in path and path.isprintable():
        return path
    data = path.encode("utf-8", "surrogatepass")
    out = bytearray()
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == 0x25:  # %
            if i + 2 < len(data) and data[i + 1] in _HEX and data[i + 2] in _HEX:
                value = int(data[i + 1 : i + 3], 16)
                if value in _UNRESERVED:
                    out.append(value)
                else:
                    out += b"%" + data[i + 1 : i + 3].upper()
                i += 3
                continue
            out += b"%25"
        elif byte in _KEEP:
            out.append(byte)
        else:
            out += b"%%%02X" % byte
        i += 1
    return out.decode("ascii")


def path_of(url: str) -> str:
    """The part of a URL that robots.txt rules match: path (at least `/`) plus `?query`.

    A literal `*` or `$` in the URL is encoded (`%2A`, `%24`): in a rule those characters are
    special, and RFC 9309 2.2.3 has rules match them literally only when written percent-encoded.
    """
    if url.startswith("/"):
        path = url
    else:
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
    path = normalise_path(path)
    if "*" in path or "$" in path:
        path = path.replace("*", "%2A").replace("$", "%24")
    return path


@dataclass(frozen=True)
class PathRule:
    """One path pattern (normalised) and what it carries: allow/disallow, or a usage value."""

    pattern: str
    value: str
    line: int

    @property
    def length(self) -> int:
        """RFC 9309 2.2.2: specificity is the number of octets in the pattern."""
        return len(self.pattern)

    def matches(self, path: str) -> bool:
        return _matcher(self.pattern)(path)


_MATCHERS: dict[str, _Matcher] = {}


class _Matcher:
    __slots__ = ("literal", "regex")

    def __init__(self, pattern: str) -> None:
        self.literal: str | None = None
        self.regex: re.Pattern[str] | None = None
        anchored = pattern.endswith("$")
        body = pattern[:-1] if anchored else pattern
        if "*" not in body and not anchored:
            self.literal = body
            return
        self.regex = re.compile(_regex_source(pattern), re.DOTALL)

    def __call__(self, path: str) -> bool:
        if self.literal is not None:
            return path.startswith(self.literal)
        assert self.regex is not None
        return self.regex.match(path) is not None


def _regex_source(pattern: str) -> str:
    """A rule pattern as a regular expression that runs in linear time.

    With `*` as the only wildcard, taking the leftmost occurrence of each literal piece is always
    right, so every piece but an anchored last one sits in an atomic group: the engine never
    reconsiders it, and a hostile pattern like `/*a*a*a*a*a*b` cannot make matching exponential.
    """
    anchored = pattern.endswith("$")
    pieces = (pattern[:-1] if anchored else pattern).split("*")
    source = re.escape(pieces[0])
    if len(pieces) > 1:
        source += "".join(f"(?>.*?{re.escape(piece)})" for piece in pieces[1:-1])
        last = re.escape(pieces[-1])
        source += f".*?{last}" if anchored else f"(?>.*?{last})"
    return source + (r"\Z" if anchored else "")


def _matcher(pattern: str) -> _Matcher:
    matcher = _MATCHERS.get(pattern)
    if matcher is None:
        if len(_MATCHERS) > 100_000:
            _MATCHERS.clear()
        matcher = _MATCHERS[pattern] = _Matcher(pattern)
    return matcher


@dataclass
class Group:
    """A group of records: the agents it names and the rules inside it.

    `rules` hold `allow`/`disallow`; `content_usage` the aipref `Content-Usage` rules (value: the
    preference expression); `content_signal` Cloudflare `Content-Signal` lines (value: the signal
    list); `crawl_delay` the non-standard `Crawl-delay` in seconds.
    """

    agents: list[str] = field(default_factory=list)
    rules: list[PathRule] = field(default_factory=list)
    content_usage: list[PathRule] = field(default_factory=list)
    content_signal: list[PathRule] = field(default_factory=list)
    crawl_delay: float | None = None
    lines: list[int] = field(default_factory=list)
    _ordered: list[tuple[str, _Matcher, PathRule]] | None = field(default=None, repr=False, compare=False)
    _candidates: dict[str, list[tuple[str, _Matcher, PathRule]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def winner(self, path: str) -> PathRule | None:
        """The allow/disallow rule RFC 9309 2.2.2 picks for `path`, or None when none matches.

        Rules are kept ordered by length (longest first) and, at equal length, allow before
        disallow, so the first rule that matches is the winner. A rule can only match paths that
        start with its literal prefix (the part before any `*`), so the rules worth trying are
        computed once per distinct path beginning (`_KEY` characters) and cached.
        """
        if self._ordered is None:
            ordered = sorted(self.rules, key=lambda rule: (-rule.length, rule.value != "allow"))
            self._ordered = [
                (_literal_prefix(rule.pattern)[:_KEY], _matcher(rule.pattern), rule) for rule in ordered
            ]
        key = path[:_KEY]
        candidates = self._candidates.get(key)
        if candidates is None:
            if len(self._candidates) > 4096:
                self._candidates.clear()
            candidates = self._candidates[key] = [
                entry for entry in self._ordered if key.startswith(entry[0])
            ]
        for _prefix, matcher, rule in candidates:
            if matcher(path):
                return rule
        return None


_KEY = 12


def _literal_prefix(pattern: str) -> str:
    body = pattern[:-1] if pattern.endswith("$") else pattern
    return body.split("*", 1)[0]


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


class RobotsTxt:
    """A parsed robots.txt, or the RFC's verdict on a file that could not be had.

    Build with `parse` (file contents), `from_fetch` (status code and body) or the two
    constructors `unavailable` (no restrictions) and `unreachable` (full disallow).
    """

    def __init__(
        self,
        groups: list[Group],
        *,
        status: Status = "parsed",
        reason: str = "",
        ignored_lines: int = 0,
        truncated: bool = False,
    ) -> None:
        self.groups = groups
        self.status: Status = status
        self.reason = reason
        self.ignored_lines = ignored_lines
        self.truncated = truncated
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
    def parse(cls, data: bytes | str) -> RobotsTxt:
        """Parse robots.txt contents; never raises. Only the first `MAX_BYTES` are read."""
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        truncated = len(raw) > MAX_BYTES
        if truncated:
            raw = raw[:MAX_BYTES]
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        text = raw.decode("utf-8", "replace")
        groups: list[Group] = []
        current: Group | None = None
        in_agents = False  # the previous record line was user-agent: keep adding agents
        ignored = 0
        for number, line in _lines(text):
            key, value = line
            if key == "user-agent":
                if not in_agents or current is None:
                    current = Group()
                    groups.append(current)
                in_agents = True
                agent = "*" if value.startswith("*") else product_token(value)
                if agent:
                    current.agents.append(agent.lower())
                else:
                    ignored += 1
                current.lines.append(number)
                continue
            if key in {"allow", "disallow", "content-usage", "content-signal", "crawl-delay"}:
                if current is None:
                    ignored += 1  # a rule outside any group applies to no one
                    continue
                in_agents = False
                if not _add_rule(current, key, value, number):
                    ignored += 1
                continue
            if key == "sitemap":
                continue  # not part of any group, does not end one
            ignored += 1
        groups = [group for group in groups if group.agents]
        return cls(groups, ignored_lines=ignored, truncated=truncated)

    # ------------------------------------------------------------------ queries

    def group_for(self, user_agent: str) -> Group | None:
        """The merged group that applies to a crawler (None: no group, so no rules)."""
        token = product_token(user_agent).lower()
        if token in self._selected:
            return self._selected[token]
        named = [g for g in self.groups if token and token in g.agents]
        chosen = named or [g for g in self.groups if "*" in g.agents]
        merged: Group | None = None
        if chosen:
            merged = Group(agents=sorted({a for g in chosen for a in g.agents if a == token or not named}))
            for group in chosen:
                merged.rules += group.rules
                merged.content_usage += group.content_usage
                merged.content_signal += group.content_signal
                if group.crawl_delay is not None:
                    merged.crawl_delay = max(merged.crawl_delay or 0.0, group.crawl_delay)
        self._selected[token] = merged
        return merged

    def names(self, user_agent: str) -> bool:
        """Does a group name this crawler's product token explicitly (not through `*`)?"""
        token = product_token(user_agent).lower()
        return bool(token) and any(token in g.agents for g in self.groups)

    def match(self, url: str, user_agent: str) -> Match:
        """The RFC 9309 decision for `url` (a full URL or a path) and its reason."""
        if self.status == "unavailable":
            return Match(True, None, ())
        if self.status == "unreachable":
            return Match(False, PathRule("/", "disallow", 0), ())
        path = path_of(url)
        if path == "/robots.txt":
            return Match(True, None, ())
        group = self.group_for(user_agent)
        if group is None:
            return Match(True, None, ())
        best = group.winner(path)
        return Match(best is None or best.value == "allow", best, tuple(group.agents))

    def is_allowed(self, url: str, user_agent: str) -> bool:
        return self.match(url, user_agent).allowed

    def crawl_delay(self, user_agent: str) -> float | None:
        group = self.group_for(user_agent)
        return group.crawl_delay if group else None

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


def _lines(text: str) -> Iterator[tuple[int, tuple[str, str]]]:
    """(line number, (lower-cased key, value without comment)) for every line with a colon."""
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), 1):
        line = line.split("#", 1)[0]
        key, colon, value = line.partition(":")
        if not colon:
            if line.strip():
                yield number, ("", line)
            continue
        yield number, (key.strip().lower(), value.strip())


def _add_rule(group: Group, key: str, value: str, number: int) -> bool:
    if key in {"allow", "disallow"}:
        if not value:
            return True  # an empty rule matches nothing (RFC 9309 2.2.2)
        group.rules.append(PathRule(normalise_path(value), key, number))
        return True
    if key == "crawl-delay":
        try:
            delay = float(value)
        except ValueError:
            return False
        if not 0 <= delay < float("inf"):
            return False
        group.crawl_delay = max(group.crawl_delay or 0.0, delay)
        return True
    # Content-Usage / Content-Signal: "[path] value"; a missing path means the whole site.
    path, expression = "/", value
    if value.startswith("/") or value.startswith("*"):
        parts = value.split(None, 1)
        path, expression = parts[0], parts[1] if len(parts) > 1 else ""
    if not expression:
        return False
    target = group.content_usage if key == "content-usage" else group.content_signal
    target.append(PathRule(normalise_path(path), expression, number))
    return True


def agents_in(robots: RobotsTxt) -> Iterable[str]:
    """Every product token some group names (lower case), for reports."""
    return sorted({agent for group in robots.groups for agent in group.agents})
