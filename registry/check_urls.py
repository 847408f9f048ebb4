"""Check bodies of plain URL items read by regular expressions, not by a JSON parser.

A crawler's check is a body like `{"purpose":"train-ai","items":[{"scheme":"url","value":"https://
www.example.com/a/b.png"}, ...]}` with 10,000 items. Parsing it strictly (a Python hook per object),
validating each item, canonicalising each URL and writing each echo costs more per item than
deciding it. When the body is ASCII without a backslash (so no string holds an escape, and every
`"` delimits a string), its `items` array is read in C by one `_ITEM.split`: every item
`{"scheme":"url","value":"..."}` (members in that order, JSON whitespace anywhere) gives its value
and, for a URL that is canonical but for case, port and fragment (`STRICT_URL`), its host, path,
first directories and query; the items are contiguous when every gap between them is the same
separator. A strict URL is valid and filable, and its lookup expressions are `urls.host_suffixes`
x `path_candidates`, so it needs no `CanonicalURL`; any other value takes the reference's steps
(`valid_url`, `ClaimIndex.url_hits_many`). The rest of the body (all but the array) is parsed
strictly and validated by `CheckRequest` itself. On any doubt `plan_plain_body` says None and the
caller parses and validates the whole body the reference way, so every refusal is the reference's.

`tests/registry/test_check_urls.py` holds the properties: `strict_parts` agrees with
`urls.canonicalize` and `urls.lookup_expressions` on every URL it accepts; a body it takes is one
the reference takes, with the same items; and answers built from a plain body are byte for byte
the reference path's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from pydantic import ValidationError

from keys import InvalidJSON, parse_strict_json
from registry import urls
from registry.checking import CheckRequest

_WS: Final = r"[ \t\n\r]*"
_SEGMENT: Final = r"[A-Za-z0-9._~!$&'()*+,;=:@-]"
#: A path segment after a "/": not empty when a "/" follows, not "." or "..".
_AFTER_SLASH: Final = rf"(?!/|\.\.?(?!{_SEGMENT})){_SEGMENT}*+"
#: A URL `urls.canonicalize` changes only in case (of scheme and host), port and fragment: an
#: http(s) scheme, a host name of letters, digits and hyphens whose last label starts with a letter
#: (so no IP address), at most 4 port digits, a path of unreserved characters with no empty, "."
#: or ".." segment, a query of the same and "/" "?", and a fragment of anything JSON writes plainly.
#: Groups: host, path, the path up to its 3rd, 2nd and 1st "/" after the first (each the one
#: before when there is none; none at all without a 2nd "/"), and the query with its "?".
STRICT_URL: Final = (
    r"[Hh][Tt][Tt][Pp][Ss]?://"
    r"(?P<host>(?:[A-Za-z0-9-]++\.)*+[A-Za-z][A-Za-z0-9-]*+)"
    r"(?::[0-9]{1,4}+)?"
    rf"(?P<path>(?:(?P<d3>(?P<d2>(?P<d1>/{_AFTER_SLASH}/)(?:{_AFTER_SLASH}/)?+)(?:{_AFTER_SLASH}/)?+)"
    rf"(?:{_AFTER_SLASH}/)*+{_AFTER_SLASH}|/{_AFTER_SLASH})?+)"
    r"(?P<query>\?[A-Za-z0-9._~!$&'()*+,;=:@/?-]*+)?"
    r'(?:#[^"\x00-\x1f]*+)?'
)
_STRICT: Final = re.compile(STRICT_URL.encode("ascii"))
_ITEM_TEXT: Final = (
    rf'\{{{_WS}"scheme"{_WS}:{_WS}"url"{_WS},{_WS}"value"{_WS}:{_WS}"'
    rf'(?:(?P<url>(?>{STRICT_URL}))(?=")|(?P<other>[^"\x00-\x1f]*+))"{_WS}\}}'
)
#: One item, its groups a `Found`.
_ITEM: Final = re.compile(_ITEM_TEXT.encode("ascii"))
_GROUPS: Final = 9  # in `_ITEM.split`: a gap, then the item's 8 groups
_BLANK: Final = re.compile(_WS.encode("ascii"))
_SEPARATOR: Final = re.compile(f"{_WS},{_WS}".encode("ascii"))
_CLOSING: Final = re.compile(rf"{_WS}\]".encode("ascii"))
_ITEMS_KEY: Final = re.compile(rf'"items"{_WS}:{_WS}\['.encode("ascii"))

#: An item's (url, host, path, d3, d2, d1, query, other) as `_ITEM.split` gives them: url and its
#: parts for a strict value (None for the groups that took nothing), else only other.
Found = tuple[bytes | None, ...]


def strict_parts(url: str) -> tuple[str, str, str | None] | None:
    """(host, path, query) of `urls.canonicalize(url)` for a URL `STRICT_URL` takes, else None.

    >>> strict_parts("HTTPS://WWW.Example.com:8443/a/b.png?x=1#top")
    ('www.example.com', '/a/b.png', 'x=1')
    """
    found = strict_groups(url)
    if found is None:
        return None
    host, path, _, _, _, query = found
    return host.lower(), path or "/", query[1:] if query else None


def strict_groups(url: str) -> tuple[str, str, str, str, str, str] | None:
    """`STRICT_URL`'s groups (host, path, d3, d2, d1, query; "" for none) when it takes `url`."""
    if len(url) > urls.MAX_URL_LENGTH or not url.isascii():
        return None
    found = _STRICT.fullmatch(url.encode("ascii"))
    if found is None:
        return None
    host, path, d3, d2, d1, query = (part or b"" for part in found.groups())
    return host.decode(), path.decode(), d3.decode(), d2.decode(), d1.decode(), query.decode()


def path_candidates(path: str, query: str) -> list[str]:
    """`dict.fromkeys(urls.path_prefixes(path, query or None))` of a canonical path, as a list:
    the path with `query` (which is "" for none, else starts with "?"), the path, "/", and the
    prefixes ending at the first three "/" after the first, each once and in that order."""
    candidates = [path + query, path] if query else [path]
    if path != "/":
        candidates.append("/")
        slash = path.find("/", 1)
        for _ in range(3):
            if slash == -1:
                break
            if slash + 1 == len(path):
                break  # the prefix is the path itself, listed already (and the last "/")
            candidates.append(path[: slash + 1])
            slash = path.find("/", slash + 1)
    return candidates


@dataclass(frozen=True)
class PlainBody:
    """A check body of plain URL items: its validated members (items aside), and `_ITEM.split` of
    the text from its items array on, which holds each item's `Found` between separators."""

    request: CheckRequest
    parts: list[bytes]

    def __len__(self) -> int:
        return len(self.parts) // _GROUPS

    def rows(self) -> Iterator[Found]:
        """Each item's `Found`, in order."""
        parts = self.parts
        return zip(*(parts[group::_GROUPS] for group in range(1, _GROUPS)), strict=True)

    def echoes(self) -> list[bytes]:
        """Each item's value as written, which is its JSON (it holds nothing JSON escapes)."""
        parts = self.parts
        return [url or other or b"" for url, other in zip(parts[1::_GROUPS], parts[8::_GROUPS], strict=True)]

    def values(self) -> list[str]:
        """Each item's value."""
        return [echo.decode("ascii") for echo in self.echoes()]

    def others(self) -> list[str]:
        """The values of the items that are not strict URLs, in order."""
        parts = self.parts
        return [other.decode("ascii") for other in parts[8::_GROUPS] if other is not None]


_PROBE: Final = {"scheme": "url", "value": "http://a/"}
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def valid_url(value: str) -> bool:
    """`UrlId`'s rules: a string pydantic can read (no lone surrogate), of 1 to MAX_URL_LENGTH
    characters, naming a URL a claim could be filed over."""
    if not 0 < len(value) <= urls.MAX_URL_LENGTH:
        return False
    if urls.plain_parts(value) is not None:  # ASCII
        return True
    if _SURROGATE.search(value):
        return False
    try:
        urls.claim_expression(value)
    except urls.InvalidURL:
        return False
    return True


def plan_plain_body(raw: bytes, max_items: int) -> PlainBody | None:
    """The plan of a body of at most `max_items` plain URL items read as the module docstring says,
    or None: the body is then to be parsed and validated the reference way (which may refuse it)."""
    if not raw.isascii() or b"\\" in raw or raw.count(b'"scheme"') > max_items:  # each item has one
        return None
    if len(_ITEMS_KEY.findall(raw)) != 1:
        return None
    opening = _ITEMS_KEY.search(raw)
    assert opening is not None
    start = opening.end()
    # The items are contiguous when every gap between them is one and the same separator.
    parts = _ITEM.split(raw[start:])
    count = len(parts) // _GROUPS
    if not 0 < count <= max_items or _BLANK.fullmatch(parts[0]) is None:
        return None
    gaps = set(parts[_GROUPS:-1:_GROUPS])
    if gaps and (len(gaps) > 1 or _SEPARATOR.fullmatch(gaps.pop()) is None):
        return None
    closing = _CLOSING.match(parts[-1])
    if closing is None:
        return None
    end = len(raw) - len(parts[-1]) + closing.end()
    try:
        rest = parse_strict_json(raw[: start - 1] + b"[]" + raw[end:])
    except InvalidJSON:
        return None
    if type(rest) is not dict or rest.get("items") != []:
        return None
    try:
        request = CheckRequest.model_validate({**rest, "items": [_PROBE]})
    except ValidationError:
        return None
    long = end - start > urls.MAX_URL_LENGTH
    for url, other in zip(parts[1::_GROUPS], parts[8::_GROUPS], strict=True):
        if url:
            if long and len(url) > urls.MAX_URL_LENGTH:
                return None
        elif not valid_url(other.decode("ascii")):
            return None
    return PlainBody(request, parts)
