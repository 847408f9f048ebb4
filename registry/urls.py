"""URL identifiers: Safe Browsing v4 canonicalisation and host-suffix/path-prefix expressions.

A `url` identifier is matched exactly as Google Safe Browsing v4 "URLs and Hashing" matches URLs
(developers.google.com/safe-browsing/v4/urls-hashing): the URL is canonicalised, a claim is stored
under its *expression* (canonical host + path + query, without scheme or port), and a queried URL
produces up to 30 *lookup expressions* (5 host suffixes x 6 path prefixes). A claim matches a query
when the claim's expression is one of the query's lookup expressions. The client and the server both
import this module (stdlib only), so they cannot disagree about what a URL's key is.

>>> c = canonicalize("https://WWW.Example.com:443/gallery/2024/a.png#x")
>>> str(c), c.expression
('https://www.example.com/gallery/2024/a.png', 'www.example.com/gallery/2024/a.png')
>>> "example.com/gallery/" in lookup_expressions(c)
True
>>> claim_expression("https://example.com/gallery/")
'example.com/gallery/'

Inputs are text; they are encoded as UTF-8, and a URL that arrived as bytes which are not UTF-8 can
be passed decoded with ``errors="surrogateescape"`` so that its original bytes are canonicalised.
"""

from __future__ import annotations

import encodings.idna
import functools
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "MAX_URL_LENGTH",
    "CanonicalURL",
    "InvalidURL",
    "canonicalize",
    "claim_expression",
    "host_suffixes",
    "lookup_expressions",
    "lookup_hosts",
    "lookup_paths",
    "path_prefixes",
    "plain_parts",
    "url_report",
]

MAX_URL_LENGTH: Final = 8192
"""Longest input accepted, in characters; longer input is refused rather than truncated."""

_DEFAULT_PORTS: Final[dict[str, int]] = {"http": 80, "https": 443}
_HOST_SUFFIX_COMPONENTS: Final = 5  # suffixes start from the last five host components
_PATH_PREFIXES: Final = 4  # "/", "/a/", "/a/b/", "/a/b/c/"

_HEX_DIGITS: Final = frozenset(b"0123456789abcdefABCDEF")
# The spec's escape set: every byte <= 0x20 or >= 0x7f, "#" and "%", with upper-case hex.
_ESCAPE_TABLE: Final = tuple(
    f"%{b:02X}" if b <= 0x20 or b >= 0x7F or b in b"#%" else chr(b) for b in range(256)
)
_NEEDS_ESCAPE: Final = re.compile(rb"[\x00-\x20\x7f-\xff#%]")
# A URL that is canonical but for the case of its scheme and host, a port and a fragment: no escapes,
# whitespace or userinfo, a host of letter/digit/hyphen labels whose last one starts with a letter
# (so no IPv4 address in any form), a path without empty, "." or ".." segments, and a query of
# characters the escape set leaves alone. Every step but lower-casing and dropping the port and
# fragment leaves such a URL unchanged, so `canonicalize` skips them: it is on the path of every URL
# a crawler or a dataset filter checks.
_ALREADY_CANONICAL: Final = re.compile(
    r"(?P<scheme>[Hh][Tt][Tt][Pp][Ss]?)://(?P<host>(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*)"
    r"(?::(?P<port>[0-9]{1,4}))?(?P<path>(?:/[A-Za-z0-9._~!$&'()*+,;=:@-]*)*)"
    r"(?:\?(?P<query>[A-Za-z0-9._~!$&'()*+,;=:@/?-]*))?(?:#.*)?",
    re.ASCII,
)
_EMPTY_OR_DOT_SEGMENT: Final = re.compile(r"//|/\.\.?(?:/|$)")
_SCHEME: Final = re.compile(rb"([A-Za-z][A-Za-z0-9+.\-]*):")
_PORT_AFTER_COLON: Final = re.compile(rb"[0-9]+(?:[/?]|\Z)")
_DIGITS: Final = re.compile(rb"[0-9]*")
_IDNA_DOTS: Final = re.compile("[.\u3002\uff0e\uff61]")
_IDNA_LABEL: Final = re.compile(rb"[a-z0-9_\-]+")
_DOT_RUNS: Final = re.compile(rb"\.{2,}")
_SLASH_RUNS: Final = re.compile(rb"/{2,}")
_NUMERIC_LABEL: Final = re.compile(rb"[0-9]+|0[xX][0-9A-Fa-f]*")
_IPV4_PART: Final = {
    16: re.compile(rb"[0-9A-Fa-f]*"),
    8: re.compile(rb"[0-7]+"),
    10: re.compile(rb"[0-9]+"),
}
_DOTTED_QUAD: Final = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
)


class InvalidURL(ValueError):
    """A URL that cannot name a `url` subject; the message is a one-line reason."""


@dataclass(frozen=True)
class CanonicalURL:
    """A URL in Safe Browsing canonical form; build it with `canonicalize`.

    The port is kept for display but, like the spec's canonical string, takes no part in equality
    or matching: ``http://h:1234/`` and ``http://h/`` are the same canonical URL.
    """

    scheme: str
    host: str
    port: int | None = field(compare=False)
    path: str
    query: str | None

    def __str__(self) -> str:
        """The spec's canonical URL string (no port, no userinfo, no fragment)."""
        return f"{self.scheme}://{self.expression}"

    @property
    def expression(self) -> str:
        """The full lookup expression: host, path and query, scheme and port removed."""
        query = "" if self.query is None else f"?{self.query}"
        return f"{self.host}{self.path}{query}"


@functools.lru_cache(maxsize=1 << 16)  # a check parses each URL twice: validating it, then matching
def canonicalize(url: str) -> CanonicalURL:
    """Canonicalise an http(s) URL as Safe Browsing v4 does; raise `InvalidURL` if it cannot be.

    Steps, in the spec's order: trim surrounding whitespace; remove tab, CR and LF; drop the
    fragment; percent-unescape until no escape is left; then split scheme, host and path. The host
    loses userinfo, port and leading/trailing dots, consecutive dots are collapsed, IPv4 addresses
    in any legal form (decimal, octal, hex, fewer than four parts) become dotted quads, bracketed
    IPv6 addresses are compressed, international names become Punycode (IDNA 2003), and the rest is
    lower-cased. The path resolves ``/./`` and ``/../`` and collapses runs of slashes; the query is
    kept as it is (``?`` with an empty query is kept too). Finally every byte <= 0x20 or >= 0x7f,
    ``#`` and ``%`` is percent-escaped. Input without a scheme is taken as http.

    >>> str(canonicalize("http://host/%25%32%35"))
    'http://host/%25'
    >>> str(canonicalize("http://3279880203/blah"))
    'http://195.127.0.11/blah'
    """
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL longer than {MAX_URL_LENGTH} characters")
    fast = _shortcut(url)
    if fast is not None:
        scheme = fast["scheme"].lower()
        port = _parse_port(fast["port"].encode("ascii"), scheme) if fast["port"] else None
        return CanonicalURL(scheme, fast["host"].lower(), port, fast["path"] or "/", fast["query"])
    return _canonicalize_slowly(url)


def _shortcut(url: str) -> re.Match[str] | None:
    """The parts of a URL that is canonical but for case, port and fragment (`_ALREADY_CANONICAL`)."""
    fast = _ALREADY_CANONICAL.fullmatch(url)
    return None if fast is None or _EMPTY_OR_DOT_SEGMENT.search(fast["path"]) else fast


@functools.lru_cache(maxsize=1 << 14)  # a batch check takes each URL twice: validating, then matching
def plain_parts(url: str) -> tuple[str, str, str | None] | None:
    """(host, path, query) of `canonicalize(url)` for a URL its shortcut takes, else None.

    Such a URL is valid and filable (its host is letters, digits and hyphens, not an IP address:
    `host_suffixes` are its lookup hosts), and this costs one regular expression and no
    `CanonicalURL`: what a batch check needs to settle an item whose hosts hold no claim.

    >>> plain_parts("https://WWW.Example.com:8443/a/b.png#top")
    ('www.example.com', '/a/b.png', None)
    """
    fast = _shortcut(url) if len(url) <= MAX_URL_LENGTH else None
    if fast is None:
        return None
    host, path, query = fast.group("host", "path", "query")
    return host.lower(), path or "/", query


def _canonicalize_slowly(url: str) -> CanonicalURL:
    """`canonicalize`, every step taken."""
    try:
        raw = url.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise InvalidURL("URL is not valid Unicode (lone surrogate)") from None
    raw = raw.strip(bytes(range(0x21)))
    raw = raw.replace(b"\t", b"").replace(b"\r", b"").replace(b"\n", b"")
    raw = raw.partition(b"#")[0]
    if not raw:
        raise InvalidURL("empty URL")
    # The spec unescapes the whole URL before taking it apart, so an escaped "/", "?", "@" or ":"
    # acts as a delimiter; the final escape set never re-escapes them, which keeps this idempotent.
    text = _unescape_fully(raw)

    scheme = "http"
    rest = text
    match = _SCHEME.match(text)
    if match and not _PORT_AFTER_COLON.match(text, match.end()):
        scheme = match.group(1).decode("ascii").lower()
        if scheme not in _DEFAULT_PORTS:
            raise InvalidURL("not an http(s) URL")
        rest = text[match.end() :]
        if not rest.startswith(b"//"):
            raise InvalidURL(f"no host: expected '//' after '{scheme}:'")
        rest = rest[2:]
    elif rest.startswith(b"//"):
        rest = rest[2:]

    authority_end = len(rest)
    for delimiter in b"/?":
        found = rest.find(delimiter)
        if found != -1:
            authority_end = min(authority_end, found)
    authority, tail = rest[:authority_end], rest[authority_end:]
    raw_path, question, raw_query = tail.partition(b"?")

    host_and_port = authority.rpartition(b"@")[2]  # userinfo never takes part in matching
    raw_host, raw_port = _split_port(host_and_port)
    port = _parse_port(raw_port, scheme)
    host = _canonical_host(raw_host)
    path = _escape(_canonical_path(raw_path))
    query = _escape(raw_query) if question else None
    canonical = CanonicalURL(scheme=scheme, host=host, port=port, path=path, query=query)
    if len(str(canonical)) > MAX_URL_LENGTH:
        # Escaping can triple a URL's length; refusing here keeps every canonical URL re-parsable.
        raise InvalidURL(f"URL longer than {MAX_URL_LENGTH} characters once canonicalised")
    return canonical


def lookup_expressions(url: str | CanonicalURL) -> list[str]:
    """Every expression a claim may be stored under and still match this URL, in the spec's order.

    Hosts: the exact host, then up to four suffixes formed from the last five components by
    removing the leading one, never the top-level component alone; IP hosts only as they are.
    Paths: the exact path with the query, the exact path without it, then up to four prefixes from
    ``/`` adding one component at a time (with a trailing ``/``). Host-major, duplicates dropped.

    >>> lookup_expressions("http://a.b.c/1/2.html?param=1")  # doctest: +NORMALIZE_WHITESPACE
    ['a.b.c/1/2.html?param=1', 'a.b.c/1/2.html', 'a.b.c/', 'a.b.c/1/',
     'b.c/1/2.html?param=1', 'b.c/1/2.html', 'b.c/', 'b.c/1/']
    """
    canonical = url if isinstance(url, CanonicalURL) else canonicalize(url)
    paths = lookup_paths(canonical)
    return list(dict.fromkeys(host + prefix for host in lookup_hosts(canonical) for prefix in paths))


def lookup_hosts(canonical: CanonicalURL) -> list[str]:
    """The host parts of `lookup_expressions`, in order: the host, then its suffixes."""
    return [canonical.host] if _is_ip_host(canonical.host) else list(host_suffixes(canonical.host))


@functools.lru_cache(maxsize=1 << 14)  # a crawl holds many URLs per host
def host_suffixes(host: str) -> tuple[str, ...]:
    """`lookup_hosts` of a canonical host that is a name, not an IP address: the host, then the
    suffixes of its last 5, 4, 3 and 2 labels (the host itself again when it has 2 to 5)."""
    suffixes = []
    dot = host.rfind(".")
    for _ in range(_HOST_SUFFIX_COMPONENTS - 1):
        if dot == -1:
            break
        dot = host.rfind(".", 0, dot)
        suffixes.append(host[dot + 1 :])
    return (host, *reversed(suffixes))


def lookup_paths(canonical: CanonicalURL) -> list[str]:
    """The path parts of `lookup_expressions`, in order: with the query, without, then prefixes."""
    return path_prefixes(canonical.path, canonical.query)


def path_prefixes(path: str, query: str | None) -> list[str]:
    """`lookup_paths` of a canonical path and query."""
    paths = [] if query is None else [f"{path}?{query}"]
    paths.append(path)
    prefix = "/"
    paths.append(prefix)
    for component in path.split("/")[1:-1][: _PATH_PREFIXES - 1]:  # components followed by a "/"
        prefix = f"{prefix}{component}/"
        paths.append(prefix)
    return paths


def claim_expression(url: str) -> str:
    """The key a claim over `url` is stored under: its canonical expression.

    A claim matches every queried URL whose `lookup_expressions` contain this key, which gives the
    spec's reach and its limits:

    - a claim over a site, ``https://example.com/``, covers every page of that host and of all its
      subdomains, over both http and https and any port, because every query also looks up the
      suffixes made of its last five, four, three and two host components;
    - so a claimed host of more than five components (``a.b.c.d.example.com``), or an IP address,
      covers that host only, and a top-level domain alone (``https://com/``) covers nothing else;
    - a claim over a directory, ``https://example.com/gallery/``, covers everything below it, but only
      up to three path components deep (``/a/b/c/``): a claim over a deeper directory only matches
      URLs whose path is exactly that directory;
    - a claim over a file or a path without a trailing ``/`` matches that path with any query; a
      claim that includes a query matches only that exact path and query.

    Filing is stricter than looking up: a host that still holds escaped bytes (spaces, control
    characters, ``#``, ``%`` or bytes that are not UTF-8, all of which the spec keeps) is refused.

    >>> claim_expression("https://Example.com:8443/gallery/#top")
    'example.com/gallery/'
    """
    return filable(url).expression


def filable(url: str) -> CanonicalURL:
    """The canonical URL, refusing hosts that still hold escaped bytes (see `claim_expression`).

    Items checked are held to the same rule as claims filed, so a URL that could never be claimed
    is reported as invalid rather than silently unknown.
    """
    canonical = canonicalize(url)
    if "%" in canonical.host:
        raise InvalidURL("host contains characters that cannot appear in a host name")
    return canonical


def url_report(url: str) -> dict[str, object]:
    """What ``kotowari url --json`` prints for one URL; raises `InvalidURL`."""
    canonical = canonicalize(url)
    return {
        "input": url,
        "canonical": str(canonical),
        "expression": canonical.expression,
        "lookups": lookup_expressions(canonical),
    }


# ---------------------------------------------------------------- internals


def _unescape_fully(data: bytes) -> bytes:
    """Percent-unescape until no ``%XX`` is left, in one linear pass.

    Two ``%XX`` occurrences can never overlap ("%" is not a hex digit), so repeated unescaping has a
    single result whatever the order; decoding whenever the output ends in ``%XX`` reaches it without
    the quadratic cost of rescanning for inputs such as ``%25252525...``.
    """
    if b"%" not in data:
        return data
    out = bytearray()
    for byte in data:
        out.append(byte)
        while len(out) >= 3 and out[-3] == 0x25 and out[-2] in _HEX_DIGITS and out[-1] in _HEX_DIGITS:
            value = int(out[-2:].decode("ascii"), 16)
            del out[-3:]
            out.append(value)
    return bytes(out)


def _escape(data: bytes) -> str:
    """Apply the spec's escape set; everything else stays literal."""
    if not _NEEDS_ESCAPE.search(data):  # the common case, without a Python step per byte
        return data.decode("ascii")
    return "".join(_ESCAPE_TABLE[byte] for byte in data)


def _split_port(host_and_port: bytes) -> tuple[bytes, bytes | None]:
    """Split ``host[:port]``, where a bracketed IPv6 host may itself contain colons."""
    if host_and_port.startswith(b"["):
        close = host_and_port.find(b"]")
        if close == -1:
            raise InvalidURL("invalid IPv6 address: missing ']'")
        after = host_and_port[close + 1 :]
        if after and not after.startswith(b":"):
            raise InvalidURL("invalid IPv6 address: unexpected characters after ']'")
        return host_and_port[: close + 1], (after[1:] if after else None)
    host, colon, port = host_and_port.partition(b":")
    return host, (port if colon else None)


def _parse_port(raw_port: bytes | None, scheme: str) -> int | None:
    """An explicit, non-default port, or None; an empty port (``host:/``) counts as absent."""
    if not raw_port:
        return None
    if not _DIGITS.fullmatch(raw_port):
        raise InvalidURL("invalid port")
    significant = raw_port.lstrip(b"0") or b"0"
    # Bounding the digits first keeps int() clear of Python's limit on very long numbers.
    port = int(significant) if len(significant) <= 5 else 0x10000
    if port > 0xFFFF:
        raise InvalidURL("port out of range")
    return None if port == _DEFAULT_PORTS[scheme] else port


def _canonical_host(raw_host: bytes) -> str:
    """The spec's host steps: dots, IP forms, case; plus Punycode and IPv6 compression."""
    if raw_host.startswith(b"["):
        return _canonical_ipv6(raw_host[1:-1])
    host = _DOT_RUNS.sub(b".", _to_ascii(raw_host)).strip(b".")
    if not host:
        raise InvalidURL("no host")
    if b"[" in host or b"]" in host:
        # Outside an IPv6 literal a bracket would make the canonical URL parse differently.
        raise InvalidURL("invalid host: '[' or ']' outside an IPv6 address")
    ipv4 = _parse_ipv4(host)
    if ipv4 is not None:
        return ipv4
    return _escape(host.lower())


def _canonical_ipv6(inner: bytes) -> str:
    """Compress a bracketed IPv6 address (RFC 5952 form); zone identifiers are refused."""
    try:
        address = ipaddress.IPv6Address(inner.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidURL("invalid IPv6 address") from None
    if address.scope_id is not None:
        raise InvalidURL("invalid IPv6 address: zone identifiers are not allowed")
    return f"[{address.compressed}]"


def _to_ascii(raw_host: bytes) -> bytes:
    """Punycode for international names, label by label (IDNA 2003, the stdlib's codec).

    A label that is not UTF-8 stays as it is, to be percent-escaped as the spec's ``\\x80``
    example shows; working per label keeps every host suffix canonical on its own.
    """
    if raw_host.isascii():
        return raw_host
    labels: list[bytes] = []
    for raw_label in raw_host.split(b"."):
        try:
            label = raw_label.decode("utf-8")
        except UnicodeDecodeError:
            labels.append(raw_label)
            continue
        for part in _IDNA_DOTS.split(label):
            labels.append(part.encode("ascii") if part.isascii() else _idna_label(part))
    return b".".join(labels)


def _idna_label(label: str) -> bytes:
    """ToASCII of one non-ASCII label; nameprep can map a character onto a delimiter ("／" to "/")."""
    try:
        encoded = encodings.idna.ToASCII(label)
    except UnicodeError:
        raise InvalidURL("invalid internationalised host name") from None
    if not _IDNA_LABEL.fullmatch(encoded):
        raise InvalidURL("invalid internationalised host name")
    return encoded


def _parse_ipv4(host: bytes) -> str | None:
    """A dotted quad if `host` is an IPv4 address in any legal form, None if it is a name.

    As browsers do, a host whose last label is a number must be a valid address: ``1.2.3.256``
    and ``1.2.3.4.5`` are refused rather than looked up as names that cannot exist.
    """
    parts = host.split(b".")
    if not _NUMERIC_LABEL.fullmatch(parts[-1]):
        return None
    if len(parts) > 4:
        raise InvalidURL("invalid IPv4 address")
    numbers = [_ipv4_number(part) for part in parts]
    if any(number > 0xFF for number in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise InvalidURL("invalid IPv4 address")
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - index))
    return str(ipaddress.IPv4Address(value))


def _ipv4_number(part: bytes) -> int:
    """One part of an IPv4 address: ``0x`` hex, leading-zero octal, or decimal (as inet_aton)."""
    if part[:2] in (b"0x", b"0X"):
        base, digits = 16, part[2:]
    elif len(part) > 1 and part.startswith(b"0"):
        base, digits = 8, part[1:]
    else:
        base, digits = 10, part
    significant = digits.lstrip(b"0")
    # No part of a valid address needs more than 12 digits in any base; longer is refused before
    # int() meets Python's limit on very long numbers.
    if not _IPV4_PART[base].fullmatch(digits) or len(significant) > 12:
        raise InvalidURL("invalid IPv4 address")
    return int(significant, base) if significant else 0


def _canonical_path(raw_path: bytes) -> bytes:
    """Resolve ``.`` and ``..`` segments, then collapse runs of slashes, as the spec orders them."""
    segments = (raw_path or b"/").split(b"/")[1:]
    out: list[bytes] = []
    for index, segment in enumerate(segments):
        if segment in (b".", b".."):
            if segment == b".." and out:
                out.pop()
            if index == len(segments) - 1:
                out.append(b"")  # "/a/.." and "/a/." end in a directory
        else:
            out.append(segment)
    return _SLASH_RUNS.sub(b"/", b"/" + b"/".join(out))


def _is_ip_host(host: str) -> bool:
    """Whether a canonical host is an IP address, which gets no suffix expressions."""
    return host.startswith("[") or _DOTTED_QUAD.fullmatch(host) is not None
