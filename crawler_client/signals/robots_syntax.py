"""The lines of a robots.txt: what part of a file is read, how a line splits into a record, which
names (and frequent typos) mean which record, and the values that need reading (product tokens,
request rates). `crawler_client.signals.robots` builds groups from these records.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "MAX_BYTES",
    "NAMES",
    "RULES",
    "UNKNOWN",
    "agent_of",
    "is_absolute_url",
    "product_token",
    "record",
    "request_rate_of",
    "split_lines",
    "text_of",
    "valid_product_token",
]

#: RFC 9309 2.5: parse at least 500 kibibytes; we parse exactly that much.
MAX_BYTES: Final = 500 * 1024

_BOM: Final = b"\xef\xbb\xbf"
_RFC_TOKEN = re.compile(r"[A-Za-z_-]+")
_COMPATIBLE = re.compile(r"compatible;\s*", re.IGNORECASE)
_RATE = re.compile(r"(\d+)/(\d+(?:\.\d+)?)([smhd]?)(?:\s+\d{4}-\d{4})?", re.IGNORECASE)
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/?#\s]+\S*")
_UNITS: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

# Record names, with the frequent typos Google's parser and protego accept, to one spelling.
_KEYS: Final = {
    **dict.fromkeys(("user-agent", "useragent", "user agent"), "user-agent"),
    "allow": "allow",
    **dict.fromkeys(("disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw"), "disallow"),
    **dict.fromkeys(("sitemap", "site-map", "sitemaps"), "sitemap"),
    **dict.fromkeys(("crawl-delay", "crawl delay"), "crawl-delay"),
    **dict.fromkeys(("request-rate", "request rate"), "request-rate"),
    "content-usage": "content-usage",
    "content-signal": "content-signal",
    "license": "license",
}
NAMES: Final = frozenset(_KEYS.values())
RULES: Final = frozenset({"allow", "disallow", "content-usage", "content-signal"})


def product_token(user_agent: str) -> str:
    """The product token a crawler goes by: `GPTBot/1.1 (+https://…)` → `GPTBot`.

    RFC 9309 2.2.1 matches groups by product token alone, never by the full header value. The token
    runs to the first character that is not a letter, digit, `-`, `_` or `.` (so `MJ12bot` and
    `AI2Bot-Dolma` stay whole); `*` is dropped (`foo*bot` → `foobot`, as protego does); a
    browser-style header names the crawler after `compatible;`.
    """
    text = user_agent.replace("*", "").strip() if "*" in user_agent else user_agent.strip()
    compatible = _COMPATIBLE.search(text)
    if compatible:
        token = _leading_token(text[compatible.end() :])
        if token:
            return token
    return _leading_token(text)


def _leading_token(text: str) -> str:
    end = 0
    for char in text:
        if not (char.isalnum() or char in "-_."):
            break
        end += 1
    return text[:end].rstrip(".")


def valid_product_token(token: str) -> bool:
    """RFC 9309 2.2.1's grammar for the token a crawler chooses: letters, `_` and `-` only."""
    return _RFC_TOKEN.fullmatch(token) is not None


def text_of(data: bytes | str, limit: int | None = MAX_BYTES) -> tuple[str, bool]:
    """The part of a file RFC 9309 2.5 has us parse, as text (`limit` bytes, ending at a line break),
    and whether anything was cut."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    truncated = limit is not None and len(raw) > limit
    if limit is not None and truncated:
        whole = raw[limit] in b"\r\n"  # the cut falls exactly at the end of a line
        raw = raw[:limit]
        if not whole:
            raw = raw[: max(raw.rfind(b"\n"), raw.rfind(b"\r")) + 1]
    for size in (3, 2, 1):  # a byte order mark, or the start of one (as Google's parser skips)
        if raw[:size] == _BOM[:size]:
            raw = raw[size:]
            break
    return raw.decode("utf-8", "replace"), truncated


def split_lines(text: str) -> list[str]:
    """Lines ended by CR, LF or CRLF (RFC 9309 2.2); a final line break does not start another."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


UNKNOWN: Final = "?"  # a line with a key that names no record we know


def record(line: str) -> tuple[str, str]:
    """(record name, value) of one line; name `UNKNOWN` for an unknown key, "" when there is none."""
    key, colon, value = line.partition(":")
    if colon:
        key = key.strip().lower()
        name = _KEYS.get(" ".join(key.split()) if " " in key or "\t" in key else key)
        if name is not None:
            return name, value.strip()
    name, value = _without_colon(line)
    if name:
        return name, value
    if colon:
        return (UNKNOWN if key.strip() else ""), value.strip()
    return (UNKNOWN if len(line.split()) == 2 else ""), line


def _without_colon(line: str) -> tuple[str, str]:
    """Google's leniency for `Disallow /x` (and protego's for `user agent harry potter`): the first
    word or two name a record and the rest is its value. ("", line) when they name none."""
    words = line.split()
    for size in (1, 2):
        if len(words) > size:
            name = _KEYS.get(" ".join(words[:size]).lower())
            if name is not None:
                return name, " ".join(words[size:])
    return "", line


def agent_of(value: str) -> str:
    """The lower-cased agent a user-agent line names: `*` (also `* ...`, as Google reads it), or a token."""
    if value == "*" or (value.startswith("*") and value[1:2].isspace()):
        return "*"
    return product_token(value).lower()


def request_rate_of(value: str) -> tuple[int, float] | None:
    """`1/10s`, `100/15m`, `1/60`, optionally followed by a time window (`1/10s 1820-1940`)."""
    match = _RATE.fullmatch(value.strip())
    if match is None:
        return None
    requests, seconds = int(match.group(1)), float(match.group(2)) * _UNITS[match.group(3).lower()]
    if requests < 1 or seconds <= 0:
        return None
    return requests, seconds


def is_absolute_url(value: str) -> bool:
    """RSL 1.0's `License:` takes a fully qualified URL (scheme and host), kept as written."""
    return _ABSOLUTE.fullmatch(value) is not None
