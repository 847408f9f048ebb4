"""Typed identifiers and the lookup keys both sides derive from them.

A claim's identifier is stored under one or more *claim keys*; a queried item produces *query
keys*; they match when the sets intersect. Client and server call the same functions, so they
cannot disagree about what a URL's key is.

>>> claim_keys("url", "https://example.com/gallery/")
['url:example.com/gallery/']
>>> "url:example.com/gallery/" in query_keys("url", "https://WWW.Example.com:443/gallery/2024/a.png#x")
True
"""

from __future__ import annotations

import re
from typing import Final, Literal

from registry import urls

Scheme = Literal["url", "sha256"]
SCHEMES: Final[tuple[Scheme, ...]] = ("url", "sha256")

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


class InvalidIdentifier(ValueError):
    """An identifier whose value is not valid for its scheme; the message says why."""


def as_scheme(name: str) -> Scheme:
    """Return `name` as a known scheme, or raise `InvalidIdentifier`."""
    for scheme in SCHEMES:
        if scheme == name:
            return scheme
    raise InvalidIdentifier(f"unknown identifier scheme {name!r}: expected one of {', '.join(SCHEMES)}")


def normalize_sha256(value: str) -> str:
    """Lower-case hex of a SHA-256 digest; refuses anything but 64 hex digits."""
    if not _SHA256.fullmatch(value):
        raise InvalidIdentifier("sha256 must be 64 hexadecimal digits")
    return value.lower()


def claim_keys(scheme: str, value: str) -> list[str]:
    """The keys a claim over this identifier is stored under."""
    kind = as_scheme(scheme)
    if kind == "url":
        try:
            return [f"url:{urls.claim_expression(value)}"]
        except urls.InvalidURL as exc:
            raise InvalidIdentifier(f"invalid URL: {exc}") from exc
    return [f"sha256:{normalize_sha256(value)}"]


def query_keys(scheme: str, value: str) -> list[str]:
    """The keys to look up for a queried item: for a URL, every Safe Browsing lookup expression."""
    kind = as_scheme(scheme)
    if kind == "url":
        try:
            return [f"url:{expression}" for expression in urls.lookup_expressions(value)]
        except urls.InvalidURL as exc:
            raise InvalidIdentifier(f"invalid URL: {exc}") from exc
    return [f"sha256:{normalize_sha256(value)}"]
